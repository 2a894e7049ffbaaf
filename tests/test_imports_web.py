"""Import pages: upload per kind and role, the list in scope, the detail page with its files (error
report, original upload), 404 outside scope, 413 for an oversized upload, self-refresh while running."""

import io
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, IsolatedClient
from tests import test_imports as base
from tests.test_imports import result_row, results_csv

# Fixtures shared with the import tests.
uploads, run_file, import_results = base.uploads, base.run_file, base.import_results

DATA = Path(__file__).parent / "data"


@pytest.fixture
def client_for(app, db_session):
    def make(user):
        client = IsolatedClient(app, app.response_class, use_cookies=True)
        response = client.post("/login", data={"login": user.login, "password": PASSWORD})
        assert response.status_code == 302
        return client
    return make


def status_of(client, path: str) -> int:
    """GET and close: downloads are streamed from open files, which the response must release."""
    response = client.get(path)
    response.close()
    return response.status_code


def runs_count(db_session) -> int:
    from app.imports.models import ImportRun

    return db_session.scalar(select(func.count()).select_from(ImportRun))


def upload(client, kind, content: bytes, filename: str, organisation_id: int, **extra):
    return client.post(f"/imports/{kind}/new", data={"organisation_id": str(organisation_id),
                                                     "file": (io.BytesIO(content), filename), **extra},
                       content_type="multipart/form-data")


def test_official_uploads_results_and_follows_them_to_the_detail_page(world, client_for, uploads, db_session):
    from app.imports.models import AssessmentResult, ImportRun

    client = client_for(world["official"])
    page = client.get("/imports/results/new")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Импорт: результаты оценочных процедур" in text and "код участника" in text
    response = upload(client, "results", (DATA / "results_utf8.csv").read_bytes(), "результаты.csv", world["mun"].id)
    assert response.status_code == 302
    run = db_session.scalars(select(ImportRun)).one()
    assert response.headers["Location"].endswith(f"/imports/{run.id}")
    detail = client.get(f"/imports/{run.id}")
    body = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "Refresh" not in detail.headers
    assert "Загружено строк: 20 — добавлено 20, обновлено 0, без изменений 0." in body
    assert "кодировка UTF-8, разделитель «,»" in body and "результаты.csv" in body
    listing = client.get("/imports/").get_data(as_text=True)
    assert "результаты.csv" in listing and "загружен" in listing
    assert db_session.scalar(select(func.count()).select_from(AssessmentResult)) == 20


def test_a_rejected_upload_offers_its_error_report_and_original(world, client_for, uploads, db_session):
    from app.imports.models import ImportRun

    client = client_for(world["official"])
    content = results_csv([result_row(1), result_row(2, mark="7")])
    assert upload(client, "results", content, "плохой.csv", world["mun"].id).status_code == 302
    run = db_session.scalars(select(ImportRun)).one()
    body = client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert "Файл отклонён: ошибок — 1 в 1 строке; ничего не сохранено." in body
    assert f"/imports/{run.id}/report" in body

    report = client.get(f"/imports/{run.id}/report")
    assert report.status_code == 200
    assert report.mimetype == "text/csv"
    assert f"filename*=UTF-8''{quote(f'Ошибки загрузки № {run.id}.csv')}" in report.headers["Content-Disposition"]
    raw = report.get_data()
    report.close()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "Строка;Столбец;Значение;Ошибка"
    assert lines[1] == "3;mark;7;отметка должна быть целым числом от 2 до 5"

    original = client.get(f"/imports/{run.id}/original")
    assert original.status_code == 200 and original.get_data() == content
    original.close()
    assert "filename*=UTF-8''%D0%BF%D0%BB%D0%BE%D1%85%D0%BE%D0%B9.csv" in original.headers["Content-Disposition"]


def test_a_done_import_has_no_error_report(world, client_for, import_results):
    run = import_results(results_csv([result_row(1)]))
    assert client_for(world["official"]).get(f"/imports/{run.id}/report").status_code == 404


def test_other_users_get_404_on_an_import_outside_their_subtree(world, client_for, import_results, run_file):
    municipal = import_results(results_csv([result_row(1, mark="0")]))  # rejected: has a report too
    school_b = run_file("results", results_csv([result_row(1, school_code="SCH-B", mark="0")]),
                        actor=world["admin"], organisation=world["school_b"])
    director_a, director_b = client_for(world["director_a"]), client_for(world["director_b"])
    official = client_for(world["official"])
    for suffix in ("", "/report", "/original"):
        assert status_of(director_a, f"/imports/{municipal.id}{suffix}") == 404, suffix
        assert status_of(director_b, f"/imports/{municipal.id}{suffix}") == 404, suffix
        assert status_of(director_a, f"/imports/{school_b.id}{suffix}") == 404, suffix
        assert status_of(director_b, f"/imports/{school_b.id}{suffix}") == 200, suffix
        assert status_of(official, f"/imports/{school_b.id}{suffix}") == 200, suffix
    assert status_of(director_b, "/imports/999999") == 404
    listing = director_a.get("/imports/").get_data(as_text=True)
    assert f"/imports/{municipal.id}\"" not in listing and f"/imports/{school_b.id}\"" not in listing
    assert f"/imports/{school_b.id}\"" in director_b.get("/imports/").get_data(as_text=True)


def test_upload_pages_are_for_importing_roles_only(world, client_for):
    director, official, admin = (client_for(world[k]) for k in ("director_a", "official", "admin"))
    assert director.get("/imports/results/new").status_code == 403
    assert director.get("/imports/organisations/new").status_code == 403
    assert official.get("/imports/organisations/new").status_code == 403
    assert admin.get("/imports/organisations/new").status_code == 200
    listing = director.get("/imports/")
    assert listing.status_code == 200 and "Загрузить результаты" not in listing.get_data(as_text=True)
    assert "Загрузить результаты" in official.get("/imports/").get_data(as_text=True)


def test_admin_imports_organisations_through_the_page(world, client_for, uploads, db_session):
    from app.orgs.models import Organisation

    client = client_for(world["admin"])
    response = upload(client, "organisations", (DATA / "organisations_cp1251.csv").read_bytes(), "orgs.csv",
                      world["region"].id)
    assert response.status_code == 302
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "добавлено 4, обновлено 1" in body and "Windows-1251, разделитель «;»" in body
    assert db_session.scalar(select(Organisation.id).where(Organisation.code == "SCH-N3")) is not None


def test_the_organisation_must_be_one_of_the_users_own(world, client_for, uploads, db_session):
    client = client_for(world["official"])
    response = upload(client, "results", results_csv([result_row(1)]), "r.csv", world["region"].id)
    assert response.status_code == 422
    assert runs_count(db_session) == 0


def test_an_upload_without_a_file_is_refused(world, client_for, uploads, db_session):
    client = client_for(world["official"])
    response = client.post("/imports/results/new", data={"organisation_id": str(world["mun"].id)},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Выберите файл." in response.get_data(as_text=True)
    response = upload(client, "results", b"x", "picture.png", world["mun"].id)
    assert response.status_code == 422 and "Нужен файл CSV или XLSX." in response.get_data(as_text=True)
    assert runs_count(db_session) == 0


def test_a_file_over_the_size_limit_is_refused_with_413(app, world, client_for, uploads, db_session, monkeypatch):
    client = client_for(world["official"])
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    content = results_csv([result_row(n) for n in range(1, 200)])
    assert len(content) > 2000
    response = upload(client, "results", content, "big.csv", world["mun"].id)
    assert response.status_code == 413
    assert "Файл слишком большой." in response.get_data(as_text=True)
    assert runs_count(db_session) == 0
    assert not uploads.exists() or not any(uploads.iterdir())


def test_a_running_import_shows_its_progress_and_refreshes_itself(world, client_for, uploads, db_session):
    from app.imports.services import start_import

    run = start_import("results", filename="r.csv", stream=io.BytesIO(b"procedure\n"), actor=world["official"],
                       organisation=world["mun"], enqueue=False)
    run.status, run.progress = "running", 45
    db_session.commit()
    client = client_for(world["official"])
    for path in (f"/imports/{run.id}", "/imports/"):
        response = client.get(path)
        body = response.get_data(as_text=True)
        assert response.headers.get("Refresh") == "2", path
        assert 'style="width: 45%"' in body and "45 %" in body and 'http-equiv="refresh"' in body
    run.status, run.progress, run.message = "done", 100, "Загружено."
    db_session.commit()
    assert "Refresh" not in client.get(f"/imports/{run.id}").headers


def test_taking_a_results_file_is_logged(world, client_for, uploads, db_session):
    # domain.md §10 (152-ФЗ): pupils' results are personal data of minors; who took the rows as uploaded, or the
    # refused rows' values, is in the audit log — and a refused download (outside the subtree) logs nothing.
    from app.audit.models import AuditEvent
    from app.imports.models import ImportRun

    def downloads():
        db_session.expire_all()
        return db_session.execute(select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.object_id)
                                  .where(AuditEvent.action.like("download_%")).order_by(AuditEvent.id)).all()

    client = client_for(world["official"])
    assert upload(client, "results", results_csv([result_row(1), result_row(2, mark="7")]), "плохой.csv",
                  world["mun"].id).status_code == 302
    run = db_session.scalars(select(ImportRun)).one()
    assert status_of(client, f"/imports/{run.id}/original") == 200
    assert status_of(client, f"/imports/{run.id}/report") == 200
    official = world["official"].id
    assert downloads() == [("download_original", official, run.id), ("download_report", official, run.id)]
    assert status_of(client_for(world["director_b"]), f"/imports/{run.id}/original") == 404
    assert len(downloads()) == 2
    history = client_for(world["admin"]).get("/audit/").get_data(as_text=True)
    assert "выгрузка исходного файла результатов" in history


def test_only_those_who_load_results_take_the_files_back(world, client_for, uploads, db_session, make_user,
                                                        make_org):
    # The rows as uploaded carry the participants' codes and marks: a regional auditor reads the import's outcome
    # but does not take the file (it downloaded every municipality's results files before).
    from app.audit.models import AuditEvent
    from app.imports.models import ImportRun

    official = client_for(world["official"])
    assert upload(official, "results", results_csv([result_row(1), result_row(2, mark="7")]), "плохой.csv",
                  world["mun"].id).status_code == 302
    run = db_session.scalars(select(ImportRun)).one()
    auditor = client_for(make_user("auditor", world["region"]))
    page = auditor.get(f"/imports/{run.id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert f"/imports/{run.id}/original" not in body and f"/imports/{run.id}/report" not in body
    for suffix in ("/original", "/report"):
        assert status_of(auditor, f"/imports/{run.id}{suffix}") == 403
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action.like("download_%"))) == 0
    assert status_of(official, f"/imports/{run.id}/original") == 200
    # a methodologist of another municipality holds an importing role, but not over this import's organisation
    elsewhere = make_org("municipality", code="MUN-X", name="Другой район", parent=world["region"])
    other = client_for(make_user("methodologist", elsewhere))
    assert status_of(other, f"/imports/{run.id}/original") == 404


def test_results_written_without_an_import_are_told_not_hidden_behind_no_imports(world, seeded_results, client,
                                                                               login, db_session):
    # The demo writes its results straight to the table: the list said «Импортов пока не было» to a region
    # official whose region is full of results.
    from app.core.russian import plural
    from app.imports.models import AssessmentResult

    def loaded(user):
        login(user)
        body = client.get("/imports/").get_data(as_text=True)
        client.post("/logout")
        assert "Импортов пока не было" not in body
        return " ".join(body[body.index('id="imports-loaded"'):].split("</p>")[0].split())

    years = sorted(db_session.scalars(select(AssessmentResult.year).distinct()), reverse=True)
    shown = loaded(world["official"])
    assert f"загружены: {plural(seeded_results, ('строка', 'строки', 'строк'))} (ВПР — " in shown, shown
    assert f"ВПР — {', '.join(map(str, years))} г." in shown, shown
    assert shown.endswith("файлы, загруженные здесь, появятся на этой странице с отчётами о загрузке.")
    # a school's director: the school's own rows, not the municipality's
    school = db_session.scalar(select(func.count()).select_from(AssessmentResult)
                               .where(AssessmentResult.school_id == world["school_b"].id))
    assert 0 < school < seeded_results
    shown = loaded(world["director_b"])
    assert f"загружены: {plural(school, ('строка', 'строки', 'строк'))} (" in shown
    # who may not import is not promised a list of «импорты, загруженные здесь» on a page with no upload button
    assert "загруженные здесь" not in shown and "Вашей роли загрузка файлов недоступна" in shown


def test_a_deputy_loads_results_where_the_absent_official_could(world, client_for, uploads, db_session, make_user):
    """The page a deputy is shown is the one she can use: she loads for the absent official, and the log says «за»."""
    from datetime import date, timedelta

    from app.audit.models import AuditEvent
    from app.deadlines.standins import create_stand_in
    from app.imports.models import ImportRun

    deputy = make_user("auditor", world["mun"], login="deputy_imports", full_name="Заместова Ирина Петровна")
    today = date.today()
    create_stand_in(absent=world["official"], deputy=deputy, start=today - timedelta(days=1),
                    end=today + timedelta(days=7), reason="ежегодный отпуск", actor=world["official"], today=today)
    db_session.commit()
    client = client_for(deputy)
    assert "Загрузить результаты" in client.get("/imports/").get_data(as_text=True)
    page = client.get("/imports/results/new").get_data(as_text=True)
    assert f'<option selected value="{world["mun"].id}"' in page or f'value="{world["mun"].id}"' in page
    response = upload(client, "results", (DATA / "results_utf8.csv").read_bytes(), "результаты.csv", world["mun"].id)
    assert response.status_code == 302
    run = db_session.scalars(select(ImportRun)).one()
    assert run.created_by_id == deputy.id and run.status == "done"
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).one()
    assert (event.actor_id, event.on_behalf_of_id, event.actor_role) == (deputy.id, world["official"].id, "official")

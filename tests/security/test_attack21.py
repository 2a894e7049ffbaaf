# ruff: noqa: F811  (the imported fixtures are named as test parameters)
"""Attack 21: a running instance (gunicorn, an RQ worker) attacked anonymously and as every demo role.

- A password change ended every session but not the personal iCalendar link: whoever had read the feed's URL (from a
  leaked mailbox, a shared phone) kept reading the owner's deadlines after the owner changed the leaked password.
- A participant code typed once as «d-2» and once as «D-2» became two pupils of one work and school.
- A logical XLSX cell (TRUE) in a task-score column was loaded as the score 1.
- A published document was served with Werkzeug's ASCII file name, a space for every Cyrillic letter
  («       No 1-  07.12.2026.docx»), where every other download names itself through the application's header.
- A public page asked with «If-None-Match: *» answered 304 «not modified» for a cycle or organisation that does not
  exist.
"""

from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.test_documents_registered import register, signed_regulation
from tests.test_imports import report_rows, result_row, results_csv, xlsx_bytes
from tests.test_imports import import_results, run_file, uploads  # noqa: F401

NEW_PASSWORD = "Ясень-пробег-42-Ключ"


# --- the calendar link ends with the password ------------------------------------------------------

def test_a_password_change_revokes_the_calendar_link_and_says_so(world, app, client, login, db_session):
    from app.deadlines import ical

    user = world["director_a"]
    _feed, secret = ical.issue_feed(user, actor=user)
    db_session.commit()
    assert client.get(f"/deadlines/ical/{secret}.ics").status_code == 200
    login(user)
    response = client.post("/password", data={"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Ссылка подписки iCalendar отозвана" in page
    assert app.test_client().get(f"/deadlines/ical/{secret}.ics").status_code == 404
    assert ical.active_feed(user) is None


def test_the_password_page_says_beforehand_what_the_change_ends(world, client, login):
    login(world["director_a"])
    page = client.get("/password").get_data(as_text=True)
    assert "ссылка подписки\niCalendar — отозвана" in page and "API-токены продолжают действовать" in page


def test_a_password_change_without_a_calendar_link_says_nothing_of_it(world, client, login):
    # Guard (passes on the old code too): the added sentence appears only when a link was revoked.
    login(world["director_a"])
    response = client.post("/password", data={"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Пароль изменён" in page and "Ссылка подписки iCalendar отозвана" not in page


def test_a_refused_password_change_keeps_the_calendar_link(world, client, login, db_session):
    # Guard (passes on the old code too): a wrong current password revokes nothing.
    from app.deadlines import ical

    user = world["director_a"]
    _feed, secret = ical.issue_feed(user, actor=user)
    db_session.commit()
    login(user)
    response = client.post("/password", data={"current": "wrong-one", "new": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert response.status_code == 422
    assert client.get(f"/deadlines/ical/{secret}.ics").status_code == 200


# --- participant codes regardless of case ---------------------------------------------------------

def test_student_codes_differing_only_in_case_are_one_participant(import_results, uploads, db_session):
    from app.imports.models import AssessmentResult

    run = import_results(results_csv([result_row(1, student_code="d-2"), result_row(2, student_code="D-2")]))
    assert run.status == "rejected", run.message
    (row,) = report_rows(run, uploads)
    assert row[:3] == ["3", "student_code", "(скрыто)"] and "повторяет строку 2" in row[3]
    assert db_session.scalar(select(func.count()).select_from(AssessmentResult)) == 0


def test_a_later_file_with_the_code_in_other_case_updates_the_same_pupil(import_results, db_session):
    from app.imports.models import AssessmentResult

    first = import_results(results_csv([result_row(1, student_code="ab-7")]))
    second = import_results(results_csv([result_row(1, student_code="AB-7", class_label="5Б")]))
    assert (first.status, second.status) == ("done", "done"), (first.message, second.message)
    assert (second.rows_inserted, second.rows_updated) == (0, 1)
    assert db_session.scalar(select(func.count()).select_from(AssessmentResult)) == 1


# --- a logical XLSX cell is not a number ----------------------------------------------------------

def test_an_xlsx_true_cell_as_a_task_score_is_refused_by_row_and_column(import_results, uploads, db_session):
    from app.imports.models import AssessmentResult

    rows = [{**result_row(1), "task_1": True, "task_2": 4, "primary_score": 5}]
    run = import_results(xlsx_bytes(rows), filename="r.xlsx")
    assert run.status == "rejected", run.message
    (row,) = report_rows(run, uploads)
    assert row == ["2", "task_1", "ИСТИНА", "балл за задание должен быть целым неотрицательным числом"]
    assert db_session.scalar(select(func.count()).select_from(AssessmentResult)) == 0


def test_an_xlsx_false_cell_as_a_mark_is_refused(import_results, uploads):
    run = import_results(xlsx_bytes([{**result_row(1), "term_mark": False}]), filename="r.xlsx")
    assert run.status == "rejected", run.message
    (row,) = report_rows(run, uploads)
    assert row[:3] == ["2", "term_mark", "ЛОЖЬ"]


def test_the_organisation_import_still_reads_logical_cells_as_yes_and_no():
    # Guard (passes on the old code too): the organisation import's yes/no columns keep reading TRUE and FALSE.
    from app.imports.formats import BOOLEANS
    from app.imports.readers import _cell_text

    assert (BOOLEANS[_cell_text(True).lower()], BOOLEANS[_cell_text(False).lower()]) == (True, False)



# --- the public document's file name --------------------------------------------------------------

def test_a_public_document_names_itself_in_russian_with_a_readable_fallback(world, goal_stage, db_session, client):
    from urllib.parse import unquote

    from app.documents import services

    doc = signed_regulation(world, goal_stage, db_session)
    version = register(doc, world, db_session)
    services.transition(doc, "publish", actor=world["official"])
    db_session.commit()
    served = client.get(f"/public/documents/{version.id}")
    served.close()
    assert served.status_code == 200
    header = served.headers["Content-Disposition"]
    assert header.startswith("inline; ")
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback == fallback.strip() and "  " not in fallback, header
    assert f"№ {version.registration_number}" in unquote(header.split("filename*=UTF-8''", 1)[1])


def test_if_none_match_star_does_not_hide_a_missing_public_page(world, client):
    assert client.get("/public/cycles/999999", headers={"If-None-Match": "*"}).status_code == 404
    assert client.get("/public/orgs/NO-SUCH-CODE", headers={"If-None-Match": "*"}).status_code == 404
    existing = client.get(f"/public/orgs/{world['mun'].code}", headers={"If-None-Match": "*"})
    assert existing.status_code == 304 and existing.headers["ETag"]
    fresh = client.get(f"/public/orgs/{world['mun'].code}")
    assert fresh.status_code == 200
    assert client.get(f"/public/orgs/{world['mun'].code}",
                      headers={"If-None-Match": fresh.headers["ETag"]}).status_code == 304

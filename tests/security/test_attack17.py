"""Attack 17 on a running instance (gunicorn, the seeded demo).

The API's import queue had no cap per user: a token's owner could POST /api/v1/imports/results in a loop and queue
any number of imports. Results imports run one at a time, so hers kept everyone else's waiting, and each stored its
original in UPLOAD_DIR. Now a user with five imports queued or running is refused the next one
(429 in the API, 422 on the page) in Russian, and nothing is stored.
"""

import pytest
from sqlalchemy import func, select

from tests.test_access import changed_tables, db_state
from tests.test_api import RESULTS_CSV, api, upload, uploads  # noqa: F401  (fixtures)
from tests.test_api_tokens import token_for  # noqa: F401  (fixture)
from tests.test_imports_web import client_for  # noqa: F401  (fixture)
from tests.test_imports_web import upload as web_upload

QUEUE_FULL = "импортов в очереди или в работе"
LIMIT = 5  # README «API for data exchange»: five unfinished imports per user


def unfinished_runs(user, organisation, count):
    """`count` imports of `user`, queued or running (not added to a session)."""
    from app.imports.models import ImportRun

    return [
        ImportRun(
            kind="results",
            status="queued" if n % 2 else "running",
            original_filename="a.csv",
            stored_path="",
            file_sha256="0" * 64,
            file_size=1,
            organisation=organisation,
            created_by=user,
            options={},
            progress=0,
        )
        for n in range(count)
    ]


def _unfinished(db_session, user, organisation, count):
    db_session.add_all(unfinished_runs(user, organisation, count))
    db_session.commit()


def _stored(directory):
    return [p for p in directory.iterdir() if not p.name.startswith(".")] if directory.exists() else []


def test_api_refuses_an_import_past_the_users_unfinished_ones(world, api, uploads, db_session):  # noqa: F811
    from app.imports.models import ImportRun

    official = world["official"]
    _unfinished(db_session, official, world["mun"], LIMIT)
    api(official, "/api/v1/organisations")  # the token is issued before the state is taken
    before = db_state(db_session)
    response = upload(api, official, RESULTS_CSV.encode())
    assert response.status_code == 429, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert QUEUE_FULL in error and f"не более {LIMIT}" in error
    assert changed_tables(before, db_state(db_session)) == []
    assert _stored(uploads) == []
    # Another user is not held back by hers, and a finished import no longer counts.
    assert upload(api, world["admin"], RESULTS_CSV.encode()).status_code == 202
    oldest = db_session.scalar(select(ImportRun).where(ImportRun.created_by_id == official.id).order_by(ImportRun.id))
    oldest.status = "failed"
    db_session.commit()
    assert upload(api, official, RESULTS_CSV.encode()).status_code == 202


def test_the_refusal_agrees_its_count_past_the_cap(world, api, uploads, db_session):  # noqa: F811
    """Runs queued before the cap, or by the command line (which it does not hold), can make more than five."""
    official = world["official"]
    _unfinished(db_session, official, world["mun"], 21)
    response = upload(api, official, RESULTS_CSV.encode())
    assert response.status_code == 429
    assert "У вас уже 21 импорт в очереди или в работе" in response.get_json()["error"]


def test_the_upload_page_refuses_it_in_russian(world, client_for, uploads, db_session):  # noqa: F811
    from app.imports.models import ImportRun

    official = world["official"]
    _unfinished(db_session, official, world["mun"], LIMIT)
    client = client_for(official)
    response = web_upload(client, "results", RESULTS_CSV.encode(), "r.csv", world["mun"].id)
    assert response.status_code == 422
    assert QUEUE_FULL in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(ImportRun)) == LIMIT
    assert _stored(uploads) == []


def test_the_openapi_document_names_the_429(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert "429" in document["paths"]["/imports/results"]["post"]["responses"]


# --- one-line fields of hand-written forms ------------------------------------------------------------------------
# The assessment pages' forms are written by hand, not WTForms, so app.core.forms.Form never cleaned them: a campaign
# created with the title «Кампания \u202eанибмо\u202c» and a line break (POST /assessment/campaigns as
# region_official) was stored as typed, and went into its tasks, its order and the audit log reversed and broken.


def _region_manager(world):
    """A region official who manages assessment campaigns, with the criteria loaded."""
    from app.assessment.criteria import load_criteria
    from app.auth.services import create_user
    from tests.conftest import PASSWORD

    load_criteria()
    return create_user(
        login="reg_off17",
        full_name="Семнадцатова Анна Павловна",
        password=PASSWORD,
        position="к",
        roles=[("official", world["region"])],
    )


HOSTILE = "Кампания \u202eанибмо\u202c\r\nSubject: x\u200b"


def test_a_campaigns_title_and_period_keep_one_line_and_no_invisible_characters(world, db_session):
    from datetime import date, timedelta

    from app.assessment import services
    from app.assessment.criteria import published_sets

    manager = _region_manager(world)
    campaign = services.create_campaign(
        world["region"],
        actor=manager,
        title=HOSTILE,
        period="2025/26",
        window_start=date.today(),
        window_end=date.today() + timedelta(days=5),
        criteria_set_id=published_sets()[0].id,
        mechanisms=["M1.1"],
        municipality_ids=[world["mun"].id],
    )
    assert campaign.title == "Кампания анибмо Subject: x"


def test_an_experts_position_and_basis_keep_one_line(world, db_session, make_user):
    from datetime import date

    from app.assessment import services
    from app.assessment.criteria import published_sets

    manager = _region_manager(world)
    user = make_user("expert", world["region"], login="exp17", full_name="Экспертова Ольга Ивановна")
    codes = published_sets()[0].mechanism_codes()
    expert = services.add_expert(
        world["region"],
        actor=manager,
        user_id=str(user.id),
        organisation_id=str(world["region"].id),
        position="методист\u202e\nлавный",
        competences=codes[:1],
        included_on=date.today(),
        basis="приказ\u00ad № 1",
        mechanism_codes=codes,
    )
    assert (expert.position, expert.basis) == ("методист лавный", "приказ № 1")


def test_a_values_comment_from_the_api_or_the_form_keeps_no_invisible_characters(world, sent, db_session):
    from app.monitoring.models import IndicatorValue
    from app.monitoring.values import save_values
    from tests.test_monitoring import submission_of, value_rows

    sub = submission_of(sent, world["school_a"])
    rows = value_rows(sub, {"I-01\u200b": "10"}, comment="проверено \u202eьнелпыв\u202c")
    report = save_values(rows, actor=world["director_a"], source="api", submission=sub)
    assert report.ok, report.lines()
    (stored,) = db_session.scalars(select(IndicatorValue).where(IndicatorValue.submission_id == sub.id)).all()
    assert stored.comment == "проверено ьнелпыв"


# --- the router's redirects -----------------------------------------------------------------------------------------
# A path without its trailing slash (/public, /orgs) or with a doubled one is redirected by the router, which built an
# absolute Location from the request's Host: «Host: evil.example» got «Location: http://evil.example/public/».


@pytest.mark.parametrize(
    "path, target",
    [
        ("/public", "/public/"),
        ("/orgs", "/orgs/"),
        ("/static//css/app.css", "/static/css/app.css"),
        ("/orgs?x=1", "/orgs/?x=1"),
    ],
)
@pytest.mark.parametrize("headers", [{"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example"}, {}])
def test_the_routers_redirects_name_no_host(client, path, target, headers):
    response = client.get(path, headers=headers)
    assert 300 <= response.status_code < 400
    assert response.headers["Location"] == target
    assert "evil.example" not in response.get_data(as_text=True)


def test_a_redirect_to_another_site_is_left_as_it_is(app):
    with app.test_request_context("/x", headers={"Host": "uko.example"}):
        from flask import redirect

        response = app.process_response(redirect("https://other.example/a"))
        assert response.headers["Location"] == "https://other.example/a"
        # a path a browser reads as another host is not made relative
        for unsafe in ("http://uko.example//evil.example/p", "http://uko.example/\\evil.example/p"):
            assert app.process_response(redirect(unsafe)).headers["Location"] == unsafe


# --- a whole number too long to read -------------------------------------------------------------------------------
# Python reads no whole number past 4300 digits; the ValueError read as «not JSON», so {"cycle_id": 999…9} was told
# «Тело запроса должно быть JSON-объектом» — about a body that is one.


@pytest.mark.parametrize("number", ["9" * 5000, "-" + "9" * 200], ids=["5000 digits", "-200 digits"])
def test_a_json_number_too_long_is_named(world, api, number):  # noqa: F811
    body = '{"cycle_id": ' + number + ', "rows": []}'
    response = api(world["director_a"], "/api/v1/indicator-values", "POST", data=body, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["error"] == "Тело запроса отклонено: число длиннее 100 цифр. Ничего не изменено."


def test_ordinary_numbers_still_read(world, api):  # noqa: F811
    response = api(
        world["director_a"],
        "/api/v1/indicator-values",
        "POST",
        data='{"cycle_id": 12345678901234567890, "rows": []}',
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "cycle_id" in " ".join(response.get_json()["problems"])


# --- a HEAD is not a download -----------------------------------------------------------------------------------------
# The download of an import's original (pupils' results) is logged as «download_original» by its own commit on GET;
# a HEAD runs the same view, sends no file, and was logged as a download all the same (HEAD /imports/1/original as
# official on the demo: one more «выгрузка исходного файла результатов» event).


def test_a_head_request_logs_no_download(world, client_for, uploads, db_session):  # noqa: F811
    from app.audit.models import AuditEvent
    from app.imports.models import ImportRun

    def downloads():
        db_session.expire_all()
        return db_session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("download_%"))
        )

    client = client_for(world["official"])
    assert web_upload(client, "results", RESULTS_CSV.encode(), "r.csv", world["mun"].id).status_code == 302
    run = db_session.scalars(select(ImportRun)).one()
    head = client.head(f"/imports/{run.id}/original")
    head.close()
    assert head.status_code == 200 and "attachment" in head.headers["Content-Disposition"]
    assert downloads() == 0
    got = client.get(f"/imports/{run.id}/original")
    got.close()
    assert got.status_code == 200 and downloads() == 1

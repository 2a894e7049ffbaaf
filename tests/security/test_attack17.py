"""Attack 17 on a running instance (gunicorn, the seeded demo).

The API's import queue had no cap per user: a token's owner could POST /api/v1/imports/results in a loop and queue
any number of imports. Results imports run one at a time, so hers kept everyone else's waiting, and each stored its
original in UPLOAD_DIR. Now a user with five imports queued or running is refused the next one
(429 in the API, 422 on the page) in Russian, and nothing is stored.
"""

from sqlalchemy import func, select

from tests.test_access import changed_tables, db_state
from tests.test_api import RESULTS_CSV, api, upload, uploads  # noqa: F401  (fixtures)
from tests.test_api_tokens import token_for  # noqa: F401  (fixture)
from tests.test_imports_web import client_for  # noqa: F401  (fixture)
from tests.test_imports_web import upload as web_upload

QUEUE_FULL = "импортов в очереди или в работе"
LIMIT = 5  # README «API for data exchange»: five unfinished imports per user


def _unfinished(db_session, user, organisation, count):
    from app.imports.models import ImportRun

    for n in range(count):
        db_session.add(
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
        )
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

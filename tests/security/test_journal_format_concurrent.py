"""Two registration journals of one organisation saved at the same moment with one number format (PostgreSQL, real
commits). The format is refused when another journal has it — two journals with «01-05/N» number two documents of a
year «01-05/1» — but each request read the other's journal as absent and both were kept (attack 8). The
organisation's row is locked before the check, so the second waits and is refused."""

import threading

import pytest
from sqlalchemy import func, select

from tests import services

pytestmark = pytest.mark.postgresql_only
DB_NAME = "uko_test_journal_race"
PASSWORD = "tram-lilac-9031"
THREADS = 2


live_app = services.live_postgres_app(DB_NAME)


def test_two_journals_with_one_format_at_once_keep_one(live_app, monkeypatch):
    from app.audit import chain
    from app.auth.models import User
    from app.documents import journals
    from app.documents.models import DocumentJournal
    from app.extensions import db
    from app.orgs.models import Organisation

    org_id, admin_id = services.region_with_user(live_app, code="RJRN", login="journals", role="admin",
                                                 password=PASSWORD,
                                                 then=lambda region, _admin: journals.ensure_journals(region))

    # Without the lock both journals pass the check before either is written.
    monkeypatch.setattr(chain, "record", services.after_the_others(
        threading.Barrier(THREADS), chain.record, when=lambda *a, **kw: kw.get("object_type") == "document_journal"))
    outcomes = []

    def create(n):
        services.as_one_request(live_app, outcomes, "created", lambda: journals.create_journal(
            db.session.get(Organisation, org_id), code=f"same_{n}", actor=db.session.get(User, admin_id),
            data={"title": f"Журнал {n}", "prefix": "", "file_index": "01-77", "suffix": ""}))

    services.at_once(create, [(n,) for n in range(THREADS)])
    assert outcomes.count("created") == 1, outcomes
    assert any("Такой же формат номера" in o for o in outcomes if o != "created")
    with live_app.app_context():
        kept = db.session.scalar(select(func.count()).select_from(DocumentJournal).where(
            DocumentJournal.organisation_id == org_id, DocumentJournal.file_index == "01-77"))
        db.session.remove()
    assert kept == 1

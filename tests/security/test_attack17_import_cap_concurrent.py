"""Attack 17: the cap of 5 unfinished imports per user holds for uploads sent at the same moment (a script's
parallel requests): the count and the new row are two steps, so each request would count the others' absence.
start_import locks the user's row first (PostgreSQL, real commits), so the others wait and count it."""

import io
import threading

import pytest
from sqlalchemy import func, select

from tests import services
from tests.security.test_attack17 import unfinished_runs
from tests.test_api import RESULTS_CSV

pytestmark = pytest.mark.postgresql_only
DB_NAME = "test_attack17_import_cap"
PASSWORD = "tram-lilac-9031"
THREADS = 4
LIMIT = 5


live_app = services.live_postgres_app(DB_NAME)


def test_imports_sent_at_once_stop_at_the_cap(live_app, monkeypatch, tmp_path):
    from app.auth.models import User
    from app.extensions import db
    from app.imports import services as imports
    from app.imports.models import ImportRun

    monkeypatch.setitem(live_app.config, "UPLOAD_DIR", str(tmp_path))

    def all_but_one(region, user):
        db.session.add_all(unfinished_runs(user, region, LIMIT - 1))

    _region_id, user_id = services.region_with_user(
        live_app, code="RIMP", login="importer", role="official", password=PASSWORD, then=all_but_one
    )
    # Every request that passed the count waits here for the others (or 2 s, when the others wait for its lock):
    # without the lock all of them pass the count before any adds its row.
    monkeypatch.setattr(
        imports.uploads,
        "check_stream",
        services.after_the_others(threading.Barrier(THREADS), imports.uploads.check_stream),
    )
    outcomes = []

    def upload(n):
        with live_app.app_context():
            try:
                user = db.session.get(User, user_id)
                imports.start_import(
                    "results",
                    filename=f"r{n}.csv",
                    stream=io.BytesIO(RESULTS_CSV.encode()),
                    actor=user,
                    organisation=user.home_organisation,
                    enqueue=True,
                )
                db.session.commit()
                outcomes.append("queued")
            except imports.ImportQueueFull as exc:
                db.session.rollback()
                outcomes.append(exc.message)
            finally:
                db.session.remove()

    monkeypatch.setattr(imports, "enqueue_tracked", lambda *a, **kw: None)  # the rows stay queued
    services.at_once(upload, [(n,) for n in range(THREADS)])
    assert outcomes.count("queued") == 1, outcomes
    assert all("импортов в очереди или в работе" in o for o in outcomes if o != "queued")
    with live_app.app_context():
        unfinished = db.session.scalar(
            select(func.count())
            .select_from(ImportRun)
            .where(ImportRun.created_by_id == user_id, ImportRun.status.notin_(imports.FINISHED))
        )
        db.session.remove()
    assert unfinished == LIMIT

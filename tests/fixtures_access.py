"""The access walk's school B (tests/test_access.py, build_school_b): two cycles driven through their first stages,
an import, a token and every feature's objects — seconds of building that dozens of tests start from — built once
per session (tests/snapshots.py) and copied into each test's transaction, with the world it was built in."""

import tempfile
from pathlib import Path

import pytest

from tests.snapshots import prepare, restore


@pytest.fixture(scope="session")
def _school_b_snapshot(app):
    # Session scope: built before any test's transaction is open (SQLite allows one writer).
    from tests.conftest import build_world, cycle_factory, org_factory, user_factory
    from tests.test_access import build_school_b

    uploads = Path(tempfile.mkdtemp(prefix="uko-school-b-uploads-"))

    def build():
        from app.extensions import db

        world = build_world(org_factory, user_factory)
        return {"world": world, "objects": build_school_b(world, cycle_factory, db.session)}

    # The import's files go to an UPLOAD_DIR of the build's; each test gets a copy of it (school_b).
    saved = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(uploads)
    try:
        return prepare(app, "school_b", build), uploads
    finally:
        app.config["UPLOAD_DIR"] = saved


@pytest.fixture
def _school_b_state(db_session, _school_b_snapshot):
    snap, uploads = _school_b_snapshot
    return {**restore(db_session, snap), "uploads": uploads}

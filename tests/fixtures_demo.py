"""The demo (app.demo.seed_demo: every feature's objects, documents with their files, an analysis run) for tests
that read it: seeded once per session (tests/snapshots.py) and copied into each test's transaction — seconds of
seeding per test otherwise. Tests of the seeding itself (tests/test_demo.py) still call seed_demo()."""

import pytest

from tests.snapshots import prepare, restore


@pytest.fixture(scope="session")
def _demo_snapshot(app):
    # Session scope: seeded before any test's transaction is open (SQLite allows one writer).
    from app.demo import seed_demo

    def build():
        assert seed_demo() is True

    return prepare(app, "demo", build)


@pytest.fixture
def demo(db_session, _demo_snapshot):
    """The demo's rows in this test's transaction; the test's session."""
    restore(db_session, _demo_snapshot)
    return db_session

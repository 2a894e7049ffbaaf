"""The schema comes only from migrations: `flask db upgrade` on an empty database, then `flask db check`
finds no difference between the models and the migrated schema; downgrade to base works too."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests import services
from tests.conftest import TEST_DB, reset_postgres_schema

ROOT = Path(__file__).resolve().parent.parent


def flask(args, database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "wsgi.py", "JOBS_MODE": "inline"}
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180)


@pytest.fixture
def empty_database(tmp_path):
    if TEST_DB != "postgresql":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    services.require_postgres()
    base = services.POSTGRES_URL.rsplit("/", 1)[0]
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = 'uko_test_migrations'")).scalar():
            conn.execute(text("CREATE DATABASE uko_test_migrations"))
    admin.dispose()
    url = base + "/uko_test_migrations"
    reset_postgres_schema(url)
    return url


def test_upgrade_from_empty_then_check_finds_no_drift(empty_database):
    upgraded = flask(["db", "upgrade"], empty_database)
    assert upgraded.returncode == 0, upgraded.stderr
    checked = flask(["db", "check"], empty_database)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr
    engine = create_engine(empty_database)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"organisations", "users", "role_assignments", "cycles", "stages", "goals", "indicators",
            "collection_methods", "tasks", "audit_events", "audit_chain_head", "mechanisms", "tracks"} <= tables


def test_downgrade_to_base_removes_the_schema(empty_database):
    assert flask(["db", "upgrade"], empty_database).returncode == 0
    downgraded = flask(["db", "downgrade", "base"], empty_database)
    assert downgraded.returncode == 0, downgraded.stderr
    engine = create_engine(empty_database)
    remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert remaining == set()


def test_revision_files_are_date_prefixed():
    names = [p.name for p in (ROOT / "migrations" / "versions").glob("*.py")]
    assert names and all(n[:8].isdigit() and n[8] == "_" for n in names)

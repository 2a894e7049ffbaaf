"""The schema comes only from migrations: `flask db upgrade` on an empty database, then `flask db check`
finds no difference between the models and the migrated schema; downgrade to base works too."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from tests import services

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def empty_database(tmp_path):
    return services.scratch_database("uko_test_migrations", tmp_path)


def test_upgrade_from_empty_then_check_finds_no_drift(empty_database):
    upgraded = services.run_flask(["db", "upgrade"], empty_database)
    assert upgraded.returncode == 0, upgraded.stderr
    checked = services.run_flask(["db", "check"], empty_database)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr
    engine = create_engine(empty_database)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"organisations", "users", "role_assignments", "cycles", "stages", "goals", "indicators",
            "collection_methods", "tasks", "audit_events", "audit_chain_head", "mechanisms", "tracks"} <= tables


def test_downgrade_to_base_removes_the_schema(empty_database):
    assert services.run_flask(["db", "upgrade"], empty_database).returncode == 0
    downgraded = services.run_flask(["db", "downgrade", "base"], empty_database)
    assert downgraded.returncode == 0, downgraded.stderr
    engine = create_engine(empty_database)
    remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert remaining == set()


def test_revision_files_are_date_prefixed():
    names = [p.name for p in (ROOT / "migrations" / "versions").glob("*.py")]
    assert names and all(n[:8].isdigit() and n[8] == "_" for n in names)

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


def test_numbers_given_before_journals_go_into_a_general_journal(empty_database):
    """russian0002: the counters and registered versions of the single sequence per organisation are attached to a
    «general» journal of that organisation, so their uniqueness still holds; new journals start their own."""
    if not empty_database.startswith("sqlite"):
        pytest.skip("rows are written without their parents (SQLite does not enforce foreign keys here)")
    import sqlite3

    assert services.run_flask(["db", "upgrade", "d0c5tpl00007"], empty_database).returncode == 0
    path = empty_database.split("///", 1)[1]
    with sqlite3.connect(path) as con:
        con.execute("INSERT INTO organisations (id, code, name, kind, path) VALUES (7, 'M', 'М', 'municipality', "
                    "'/7/')")
        con.execute("INSERT INTO registration_journals (organisation_id, year, last_number) VALUES (7, 2026, 2)")
        con.execute("INSERT INTO document_versions (document_id, number, status, progress, signed, "
                    "registration_org_id, registration_year, registration_seq, registration_number, created_at) "
                    "VALUES (1, 1, 'queued', 0, 0, 7, 2026, 2, '0002/2026', '2026-01-01')")
    upgraded = services.run_flask(["db", "upgrade"], empty_database)
    assert upgraded.returncode == 0, upgraded.stderr
    with sqlite3.connect(path) as con:
        journal_id, code = con.execute("SELECT id, code FROM document_journals WHERE organisation_id = 7").fetchone()
        assert code == "general"
        assert con.execute("SELECT journal_id, last_number FROM registration_journals").fetchall() == [(journal_id, 2)]
        assert con.execute("SELECT registration_journal_id FROM document_versions").fetchall() == [(journal_id,)]
    assert services.run_flask(["db", "downgrade", "d0c5tpl00007"], empty_database).returncode == 0


def test_one_regulation_per_cycle_refuses_a_database_with_two_and_changes_nothing(empty_database):
    """docrules0001: where two stages already made a положение of one cycle at the same moment, the unique index
    cannot be built; the upgrade stops with both documents named, deletes nothing, and stays at docs0001."""
    if not empty_database.startswith("sqlite"):
        pytest.skip("rows are written without their parents (SQLite does not enforce foreign keys here)")
    import sqlite3

    assert services.run_flask(["db", "upgrade", "docs0001"], empty_database).returncode == 0
    path = empty_database.split("///", 1)[1]
    with sqlite3.connect(path) as con:
        for doc_id, stage_id in ((11, 1), (12, 2)):
            con.execute("INSERT INTO documents (id, cycle_id, stage_id, type_key, title, state, created_at, version) "
                        "VALUES (?, 5, ?, 'regulation', 'Положение', 'draft', '2026-01-01', 1)", (doc_id, stage_id))
    refused = services.run_flask(["db", "upgrade"], empty_database)
    assert refused.returncode != 0
    assert "цикл 5: 2 документа (id 11 … 12)" in refused.stderr
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [("docs0001",)]
        assert con.execute("SELECT id FROM documents ORDER BY id").fetchall() == [(11,), (12,)]
    with sqlite3.connect(path) as con:
        con.execute("DELETE FROM documents WHERE id = 12")
    assert services.run_flask(["db", "upgrade"], empty_database).returncode == 0

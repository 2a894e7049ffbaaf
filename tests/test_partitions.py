# ruff: noqa: F811
"""Assessment results partitioned by year on PostgreSQL (issue 15 §4): the migration makes the table partitioned,
an import of a new year creates its partition in the import's transaction, rows that reached the DEFAULT
partition move into their year's partition when it is made, and the data reads the same."""

import pytest
from sqlalchemy import func, select, text

from tests.test_imports import import_results, result_row, results_csv, run_file, uploads  # noqa: F401

pytestmark = pytest.mark.postgresql_only


def _partitions(session) -> dict[str, int]:
    rows = session.execute(text(
        "SELECT c.relname, (SELECT count(*) FROM assessment_results r WHERE r.tableoid = c.oid) "
        "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
        "WHERE p.relname = 'assessment_results' AND pg_table_is_visible(p.oid)")).all()
    return dict(rows)


def test_an_import_of_a_new_year_creates_its_partition(world, import_results, db_session):  # noqa: F811
    from app.imports import partitions
    from app.imports.models import AssessmentResult

    assert partitions.is_partitioned(db_session.connection())
    run = import_results(results_csv([result_row(1, year="2024"), result_row(2, year="2025"),
                                      result_row(3, year="2025")]))
    assert run.status == "done", run.message
    found = _partitions(db_session)
    assert found["assessment_results_y2024"] == 1 and found["assessment_results_y2025"] == 2
    assert found["assessment_results_default"] == 0
    assert db_session.scalar(select(func.count()).select_from(AssessmentResult)
                             .where(AssessmentResult.year == 2025)) == 2


def test_rows_written_around_the_partitions_move_into_their_year_when_it_is_made(world, db_session):
    from app.imports import partitions

    db_session.execute(text(
        "INSERT INTO assessment_results (procedure, year, subject, grade, school_id, student_hash, primary_score, "
        "max_score, mark) VALUES ('ВПР', 2045, 'Математика', 5, :school, 'h1', 3, 10, 3)"),
        {"school": world["school_a"].id})
    assert _partitions(db_session)["assessment_results_default"] == 1
    assert partitions.ensure_years([2045]) == [2045]
    found = _partitions(db_session)
    assert found["assessment_results_y2045"] == 1 and found["assessment_results_default"] == 0
    assert partitions.ensure_years([2045]) == []  # already there

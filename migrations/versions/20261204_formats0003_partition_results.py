"""Imports: assessment_results partitioned by year on PostgreSQL (LIST, one partition per year present and a
DEFAULT partition); the primary key becomes (id, year) as partitioning requires. SQLite: nothing changes.

Revision ID: formats0003
Revises: formats0002
Create Date: 2026-12-04 06:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'formats0003'
down_revision = 'formats0002'
branch_labels = None
depends_on = None

COLUMNS = ("id, procedure, year, subject, grade, school_id, class_label, student_hash, task_scores, primary_score, "
           "max_score, mark, term_mark, import_id")
FIRST_YEAR, LAST_YEAR = 2000, 2040  # the results import accepts 2000 … next year
OLD_NAMES = ("pk_assessment_results", "ix_assessment_results_school_year", "uq_assessment_results_natural")


def _constraints(table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ADD CONSTRAINT ck_assessment_results_mark CHECK (mark IS NULL OR mark BETWEEN 2 AND 5)",
        f"ALTER TABLE {table} ADD CONSTRAINT ck_assessment_results_score "
        "CHECK (primary_score >= 0 AND primary_score <= max_score)",
        f"ALTER TABLE {table} ADD CONSTRAINT ck_assessment_results_term_mark "
        "CHECK (term_mark IS NULL OR term_mark BETWEEN 2 AND 5)",
        f"ALTER TABLE {table} ADD CONSTRAINT fk_assessment_results_import_id_import_runs FOREIGN KEY (import_id) "
        "REFERENCES import_runs (id) ON DELETE SET NULL",
        f"ALTER TABLE {table} ADD CONSTRAINT fk_assessment_results_school_id_organisations FOREIGN KEY (school_id) "
        "REFERENCES organisations (id)",
        f"CREATE INDEX ix_assessment_results_school_year ON {table} (school_id, year)",
        f"CREATE UNIQUE INDEX uq_assessment_results_natural ON {table} "
        "(procedure, year, subject, grade, school_id, student_hash)",
    ]


def _swap(partitioned: bool) -> None:
    """Rename the table aside, create the new one (partitioned or not) with the same sequence, copy, drop."""
    op.execute("ALTER SEQUENCE assessment_results_id_seq OWNED BY NONE")
    op.execute("ALTER TABLE assessment_results RENAME TO assessment_results_old")
    for name in ("ck_assessment_results_mark", "ck_assessment_results_score", "ck_assessment_results_term_mark",
                 "fk_assessment_results_import_id_import_runs", "fk_assessment_results_school_id_organisations",
                 "pk_assessment_results"):
        op.execute(f"ALTER TABLE assessment_results_old RENAME CONSTRAINT {name} TO {name}_old")
    for name in OLD_NAMES[1:]:
        op.execute(f"ALTER INDEX {name} RENAME TO {name}_old")
    op.execute(
        "CREATE TABLE assessment_results (id BIGINT NOT NULL DEFAULT nextval('assessment_results_id_seq'), "
        "procedure VARCHAR(10) NOT NULL, year SMALLINT NOT NULL, subject VARCHAR(100) NOT NULL, "
        "grade SMALLINT NOT NULL, school_id INTEGER NOT NULL, class_label VARCHAR(20), "
        "student_hash VARCHAR(64) NOT NULL, task_scores JSON, primary_score SMALLINT NOT NULL, "
        "max_score SMALLINT NOT NULL, mark SMALLINT, term_mark SMALLINT, import_id INTEGER"
        + (", CONSTRAINT pk_assessment_results PRIMARY KEY (id, year)) PARTITION BY LIST (year)" if partitioned
           else ", CONSTRAINT pk_assessment_results PRIMARY KEY (id))"))
    for statement in _constraints("assessment_results"):
        op.execute(statement)
    if partitioned:
        op.execute("CREATE TABLE assessment_results_default PARTITION OF assessment_results DEFAULT")
        years = {row[0] for row in op.get_bind().execute(sa.text(
            "SELECT DISTINCT year FROM assessment_results_old ORDER BY year"))}
        # The years imports will bring are made now: a partition made later, inside an import's transaction,
        # locks the tables its foreign keys name for the rest of that transaction.
        years |= set(range(FIRST_YEAR, LAST_YEAR + 1))
        for year in sorted(years):
            op.execute(f"CREATE TABLE assessment_results_y{int(year)} PARTITION OF assessment_results "
                       f"FOR VALUES IN ({int(year)})")
    op.execute(f"INSERT INTO assessment_results ({COLUMNS}) SELECT {COLUMNS} FROM assessment_results_old")
    op.execute("DROP TABLE assessment_results_old")
    op.execute("ALTER SEQUENCE assessment_results_id_seq OWNED BY assessment_results.id")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _swap(partitioned=True)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _swap(partitioned=False)  # the partitions go with the partitioned table when it is dropped

"""Assessment results partitioned by year on PostgreSQL (declarative LIST partitioning, one partition a year and a
DEFAULT one): the analysis reads a few years of a country's millions of rows, and a year's partition is what
it scans; an old year can be detached and archived whole.

The migration (formats0003) turns the table into a partitioned one; every writer of results calls
`ensure_years` before inserting a year the table has no partition for. Rows that reached the DEFAULT partition
(written by a path that did not) are moved into their year's new partition. SQLite has no partitions: no-op."""

from sqlalchemy import text

from app.extensions import db

PARENT = "assessment_results"
DEFAULT = "assessment_results_default"


def partition_name(year: int) -> str:
    return f"assessment_results_y{int(year)}"


def is_partitioned(connection) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    return connection.execute(text(
        "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.relname = :name AND pg_table_is_visible(c.oid)"), {"name": PARENT}).first() is not None


def existing_years(connection) -> set[int]:
    rows = connection.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :name AND pg_table_is_visible(p.oid)"),
        {"name": PARENT}).scalars().all()
    prefix = "assessment_results_y"
    return {int(name[len(prefix):]) for name in rows if name.startswith(prefix) and name[len(prefix):].isdigit()}


def ensure_years(years, connection=None) -> list[int]:
    """Create the partitions of `years` that do not exist yet (in the caller's transaction); returns them."""
    connection = connection or db.session.connection()
    if not is_partitioned(connection):
        return []
    missing = sorted({int(y) for y in years} - existing_years(connection))
    for year in missing:
        name = partition_name(year)
        # table names are constants and int years, never input: S608 does not apply
        stray = connection.execute(text(f"SELECT 1 FROM {DEFAULT} WHERE year = :year LIMIT 1"),  # noqa: S608
                                   {"year": year}).first()
        if stray is None:
            connection.execute(text(f"CREATE TABLE {name} PARTITION OF {PARENT} FOR VALUES IN ({year})"))
            continue
        # A new partition may not overlap rows held by DEFAULT: take DEFAULT out, add the year, move its rows.
        connection.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {DEFAULT}"))
        connection.execute(text(f"CREATE TABLE {name} PARTITION OF {PARENT} FOR VALUES IN ({year})"))
        connection.execute(text(f"INSERT INTO {PARENT} SELECT * FROM {DEFAULT} WHERE year = :year"),  # noqa: S608
                           {"year": year})
        connection.execute(text(f"DELETE FROM {DEFAULT} WHERE year = :year"), {"year": year})  # noqa: S608
        connection.execute(text(f"ALTER TABLE {PARENT} ATTACH PARTITION {DEFAULT} DEFAULT"))
    return missing

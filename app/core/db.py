"""Declarative base with a naming convention, so constraint names are stable across databases."""

from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData, String, TypeDecorator, bindparam, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy.types import UserDefinedType
from sqlalchemy.orm import DeclarativeBase, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on every backend.

    SQLite has no time zone support and hands back naive values; we store UTC and re-attach it on
    the way out, so comparisons between loaded and fresh values never mix naive and aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def plain_value(value):
    """A JSON-friendly form of a column value for audit snapshots."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    # JSON columns stay lists and mappings (never their Python repr), so the history can name their items.
    if isinstance(value, (list, tuple)):
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    return str(value)


class Audited:
    """Mixin for rows whose changes are written to the audit log with before/after snapshots."""

    audit_type: str = ""
    audit_fields: tuple[str, ...] = ()

    def audit_snapshot(self) -> dict:
        return {name: plain_value(getattr(self, name)) for name in self.audit_fields}

    @property
    def audit_cycle_id(self) -> int | None:
        return getattr(self, "cycle_id", None)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """On the embedded SQLite default, readers must not wait for a writer (a long import, a job in the
    worker beside the web server): write-ahead logging lets them read the last committed state, and a busy
    timeout makes a second writer wait instead of failing at once."""
    # Local: the database in use decides which dialect module is needed.
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout = 15000")
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if mode not in ("memory", "wal"):
            cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


class _IntegerArrayText(UserDefinedType):
    """PostgreSQL's INTEGER[] bound from its text form as it is (no element-wise processing)."""

    cache_ok = True
    render_bind_cast = True

    def get_col_spec(self, **kw):
        return "INTEGER[]"


class _IdList(TypeDecorator):
    """A list of integer ids bound as ONE text parameter: a PostgreSQL array literal `{1,2,3}` (the driver's array
    adapter converts element by element in Python, the join is one C call), elsewhere a JSON array for json_each
    (see in_ids)."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect):
        # Typed as an integer array on PostgreSQL: the statement says `:ids::INTEGER[]`, the server parses the text
        # once (a text parameter cast in SQL would be cast again for every row).
        return dialect.type_descriptor(_IntegerArrayText() if dialect.name == "postgresql" else String())

    def process_bind_param(self, value, dialect):
        text = ",".join(map(str, map(int, value)))
        return f"{{{text}}}" if dialect.name == "postgresql" else f"[{text}]"


class in_ids(FunctionElement):
    """`column IN ids` with the ids as one bound parameter (`= ANY(:ids::INTEGER[])` on PostgreSQL,
    `IN (SELECT value FROM json_each(:ids))` on SQLite). An expanding IN of a region's hundreds of cycle ids is
    rendered parameter by parameter at every execution and makes a statement too long for the driver's parse cache;
    this one stays a short statement that SQLAlchemy and psycopg cache once."""

    # Not Boolean: a Boolean function in WHERE would be compared with 1 on SQLite, hiding the index.
    type = NullType()
    inherit_cache = True
    name = "in_ids"

    def __init__(self, column, ids=(), *, key: str | None = None):
        # `key`: a named parameter given at execution (a statement built once and run with other ids each time).
        param = bindparam(key, type_=_IdList()) if key else bindparam(None, list(ids), type_=_IdList())
        super().__init__(column, param)


@compiles(in_ids)
def _in_ids_json(element, compiler, **kw):
    # Compiled SQL of a column and a bound parameter: no value is ever part of the text.
    column, ids = element.clauses.clauses
    return f"{compiler.process(column, **kw)} IN (SELECT value FROM json_each({compiler.process(ids, **kw)}))"  # noqa: S608


@compiles(in_ids, "postgresql")
def _in_ids_array(element, compiler, **kw):
    column, ids = element.clauses.clauses
    return f"{compiler.process(column, **kw)} = ANY({compiler.process(ids, **kw)})"

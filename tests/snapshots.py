"""States built once per test session and copied into each test that asks for them.

Walking a cycle to a stage through the workflow (content, documents with their charts, approvals, audit
events, tasks) takes a second or more; dozens of tests start from the same state. `prepare(app, name, build)` runs
`build()` once, in a transaction of its own on the session's database, records every row it added, changed or
removed (table by table, by primary key), and rolls that transaction back. Each test that asks for the state
gets those rows written again inside its own transaction — plain INSERTs in foreign-key order, a few
milliseconds — which the test's rollback removes like any other write. So every test still starts from the
same rows a fresh build would give it, sees nothing of other tests, and reads and changes them through the
application as before; only the building is shared.

`build()` returns ORM objects (alone or in dicts, lists, tuples); the test gets the same rows loaded in its own
session. Files a build wrote (generated documents) stay in the session's storage directory, where the copied
rows point. Sequences keep the values the build took (PostgreSQL) and SQLite numbers new rows after the
highest id, so rows a test adds never take a copied row's id.
"""

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import inspect, select, tuple_
from sqlalchemy.orm import InstanceState, scoped_session, sessionmaker

from app.core.timeutil import academic_year_of, period_bounds

_STATES: dict[str, "Snapshot"] = {}


@dataclass
class Snapshot:
    inserts: list = field(default_factory=list)  # (table, [row dicts]) in foreign-key order
    updates: list = field(default_factory=list)  # (table, row dict)
    deletes: list = field(default_factory=list)  # (table, [primary key tuples]) in reverse foreign-key order
    result: object = None  # what build() returned, with ORM objects replaced by (class, primary key)
    built_on: date | None = None  # the region's today when it was built: its dates are relative to that day
    rebuild: Callable[[], "Snapshot"] | None = None


def _rows(connection, metadata) -> dict:
    out = {}
    for table in metadata.sorted_tables:
        pk = [c.name for c in table.primary_key.columns]
        out[table.name] = {tuple(row[name] for name in pk): dict(row)
                           for row in connection.execute(select(table)).mappings()}
    return out


def _parents_first(table, rows: list[dict]) -> list[dict]:
    """`rows` of a table that references itself (an organisation's parent) with each row after the added row it
    references: the rows are read in the order the database keeps them, and PostgreSQL moves a row it updated to the
    end — a municipality changed after its schools were added came after them, and their INSERT failed on the
    foreign key (seen when two files' demo states were restored in one session)."""
    links = [(fk.parent.name, fk.column.name) for fk in table.foreign_keys if fk.column.table is table]
    if not links:
        return rows
    added = {(target, row[target]) for _source, target in links for row in rows}
    placed, ordered, pending = set(), [], list(rows)
    while pending:
        ready = [row for row in pending
                 if all(row[source] is None or (target, row[source]) not in added
                        or (target, row[source]) in placed for source, target in links)]
        if not ready:  # a cycle among the added rows: their order cannot help, keep it
            ready = pending
        for row in ready:
            placed.update((target, row[target]) for _source, target in links)
        ordered += ready
        ready_ids = {id(row) for row in ready}
        pending = [row for row in pending if id(row) not in ready_ids]
    return ordered


def _forward_references(table, order: dict[str, int]) -> list[str]:
    """The columns of `table` referring to a table inserted after it: a cycle between two tables (a data request
    passed down names the submission it answers, whose request is another data request). PostgreSQL refused the
    demo's restore on that foreign key; SQLite does not check it."""
    return [fk.parent.name for fk in table.foreign_keys
            if fk.column.table is not table and order.get(fk.column.table.name, -1) >= order[table.name]]


def _diff(before: dict, after: dict, metadata) -> Snapshot:
    snap = Snapshot()
    order = {table.name: n for n, table in enumerate(metadata.sorted_tables)}
    for table in metadata.sorted_tables:
        old, new = before[table.name], after[table.name]
        added = [row for key, row in new.items() if key not in old]
        if added:
            forward = _forward_references(table, order)
            late = [row for row in added if any(row[name] is not None for name in forward)]
            held = {id(row) for row in late}
            # inserted without the forward references, which are set once every table's rows are in (updates)
            snap.inserts.append((table, [{**row, **dict.fromkeys(forward)} if id(row) in held else row
                                         for row in _parents_first(table, added)]))
            snap.updates.extend((table, row) for row in late)
        snap.updates.extend((table, row) for key, row in new.items() if key in old and old[key] != row)
    for table in reversed(metadata.sorted_tables):
        gone = [key for key in before[table.name] if key not in after[table.name]]
        if gone:
            snap.deletes.append((table, gone))
    return snap


def _freeze(value):
    state = inspect(value, raiseerr=False)
    if isinstance(state, InstanceState):
        return ("__row__", type(value), state.identity)
    if isinstance(value, dict):
        return {k: _freeze(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_freeze(v) for v in value)
    return value


def _thaw(value, session):
    if isinstance(value, tuple) and len(value) == 3 and value[0] == "__row__":
        return session.get(value[1], value[2])
    if isinstance(value, dict):
        return {k: _thaw(v, session) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_thaw(v, session) for v in value)
    return value


def _apply(snap: Snapshot, connection) -> None:
    for table, keys in snap.deletes:
        pk = list(table.primary_key.columns)
        connection.execute(table.delete().where(tuple_(*pk).in_(keys)))
    for table, rows in snap.inserts:
        connection.execute(table.insert(), rows)
    for table, row in snap.updates:
        pk = list(table.primary_key.columns)
        connection.execute(table.update().where(*(c == row[c.name] for c in pk)).values(row))


@contextmanager
def rolled_back_session(app):
    """An app context whose `db.session` works inside one outer transaction on one connection, in savepoint
    mode (so code under test may commit), rolled back at the end: each test's, and each build's, transaction."""
    from app.extensions import db

    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        original = db.session
        db.session = session
        try:
            yield session
        finally:
            session.remove()
            db.session = original
            outer.rollback()
            connection.close()


def _build(app, build: Callable[[], object]) -> Snapshot:
    from app.extensions import db

    with rolled_back_session(app) as session:
        connection = session.connection()
        before = _rows(connection, db.metadata)
        result = build()
        session.commit()
        snap = _diff(before, _rows(session.connection(), db.metadata), db.metadata)
        snap.result = _freeze(result)
        return snap


def prepare(app, name: str, build: Callable[[], object]) -> Snapshot:
    """Build the state `name` once per session (call it from a session-scoped fixture, so that no test's
    transaction is open on SQLite while it is built)."""
    if name not in _STATES:
        snap = _build(app, build)
        snap.built_on, snap.rebuild = date.today(), lambda: _build(app, build)
        _STATES[name] = snap
    return _STATES[name]


def refresh_after_midnight(today: date | None = None) -> list[str]:
    """Build again, in place, every state built on a day before `today` (the region's today); the names rebuilt.

    A state's rows carry dates relative to the day it was built (a deadline in ten days, a request due today). A
    session that crosses the region's midnight (21:00 UTC in Moscow) would otherwise hand a test written for
    «today» the rows of yesterday: a monitoring request due «today» is then due yesterday and the rules refuse
    the order (seen on 6 December 2026, six failures). Called between tests, when no test's transaction is open;
    the Snapshot objects are the ones session fixtures hold, so they are refreshed where they are."""
    today = today or date.today()
    rebuilt = []
    for name, snap in _STATES.items():
        if snap.built_on is not None and snap.built_on < today and snap.rebuild is not None:
            fresh = snap.rebuild()
            snap.inserts, snap.updates, snap.deletes, snap.result = (
                fresh.inserts, fresh.updates, fresh.deletes, fresh.result)
            snap.built_on = today
            rebuilt.append(name)
    return rebuilt


def restore(db_session, snap: Snapshot):
    """Write the state's rows into this test's transaction; what its build returned, loaded in the test's session."""
    _apply(snap, db_session.connection())
    db_session.commit()  # as a fixture that builds it would: a rollback inside the test keeps the state
    return _thaw(snap.result, db_session)


# The school year of today: a fixture cycle's measures are planned around today and lie within its period.
CURRENT_PERIOD = academic_year_of(date.today())
PERIOD_LAST_DAY = period_bounds(CURRENT_PERIOD)[1]


def measure_dates(start_days: int, end_days: int) -> dict[str, date]:
    """A measure's `start_date` and `end_date`, `start_days` and `end_days` from today, inside CURRENT_PERIOD.

    A measure lies within its cycle's school year (followup.services). Late in August, today + a few weeks is past
    the year's 31 August, so the whole window moves earlier by the overshoot: it keeps its length and still ends
    on or after today (a test's "not yet due" stays so)."""
    today = date.today()
    start, end = today + timedelta(days=start_days), today + timedelta(days=end_days)
    overshoot = (end - PERIOD_LAST_DAY).days
    if overshoot > 0:
        start, end = start - timedelta(days=overshoot), end - timedelta(days=overshoot)
    return {"start_date": start, "end_date": end}


def cycle_state_fixtures(key: str, drive: Callable[[object, dict], object]):
    """The session fixture `_<key>_snapshot` (a municipal M1.1 cycle of the world's municipality, its official
    responsible, the first deadline in ten days, then `drive(cycle, world)`, built once) and the test fixture
    `_<key>_state` ({"world", "cycle"} copied into the test's transaction). A module assigns both to module
    names so pytest finds them; the `world` fixture hands out the copied world (conftest.WORLD_SNAPSHOTS)."""

    def build():
        from app.cycles.services import create_cycle
        from tests.conftest import build_world, org_factory, track_of, user_factory

        world = build_world(org_factory, user_factory)
        cycle = create_cycle(track=track_of("M1.1"), owner=world["mun"], period=CURRENT_PERIOD,
                             actor=world["official"], responsible=world["official"],
                             deadlines={"GOAL": date.today() + timedelta(days=10)})
        drive(cycle, world)
        return {"world": world, "cycle": cycle}

    @pytest.fixture(scope="session", name=f"_{key}_snapshot")
    def snapshot(app):
        # Session scope: pytest sets it up before the test's own transaction is open (SQLite allows one writer).
        return prepare(app, key, build)

    @pytest.fixture(name=f"_{key}_state")
    def copied(request, db_session):
        return restore(db_session, request.getfixturevalue(f"_{key}_snapshot"))

    return snapshot, copied

"""The audit log is hash-chained: any changed or deleted row is found by `flask audit verify`."""

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.audit.chain import GENESIS_HASH, event_hash, record, record_many, verify
from app.audit.models import AuditChainHead, AuditEvent
from tests import services
from tests.conftest import fill_goal
from workflows import engine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def chain_with_events(world, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    engine.fire(cycle.stage("GOAL"), "submit", actor=world["official"])
    engine.fire(cycle.stage("GOAL"), "approve", actor=world["head"])
    db_session.commit()
    return cycle


def test_every_state_change_is_one_linked_event(chain_with_events, db_session):
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.cycle_id == chain_with_events.id)
                                .order_by(AuditEvent.id)).all()
    actions = [(e.action, e.object_type, e.from_state, e.to_state) for e in events]
    assert actions == [
        ("create", "cycle", None, "open"),
        ("open", "stage", "waiting", "draft"),
        ("create", "goal", None, None),
        ("submit", "stage", "draft", "on_review"),
        ("approve", "stage", "on_review", "approved"),
        ("open", "stage", "waiting", "draft"),   # IND
        ("open", "stage", "waiting", "draft"),   # METH, parallel
    ]
    approve = events[4]
    assert approve.actor_name == "Тестов" + approve.actor_name.split("Тестов")[1] and approve.actor_role == "head"
    assert approve.occurred_at.tzinfo is not None


def test_chain_links_each_row_to_the_previous_one(chain_with_events, db_session):
    events = db_session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert events[0].prev_hash == GENESIS_HASH
    for prev, cur in zip(events, events[1:]):
        assert cur.prev_hash == prev.hash
        assert cur.hash == event_hash(cur)
    head = db_session.get(AuditChainHead, 1)
    assert head.last_hash == events[-1].hash and head.count == len(events)
    assert verify().ok


def test_a_bulk_append_keeps_the_chain_in_id_order(chain_with_events, world, db_session):
    """record_many (one click, many documents) moves the head once; the events get ids in the order given, each
    linked to the one before, and a single append after them continues the same chain."""
    before = db_session.get(AuditChainHead, 1).count
    events = record_many([dict(action="create", object_type="document", object_id=k, actor=world["official"],
                               actor_role="official", after={"k": k}) for k in range(60)])
    last = record(action="generate", object_type="document", object_id=60, actor=world["official"])
    db_session.commit()
    assert [e.object_id for e in events] == list(range(60))
    assert [e.id for e in events] == sorted(e.id for e in events) and last.id > events[-1].id
    stored = db_session.scalars(select(AuditEvent).where(AuditEvent.id >= events[0].id)
                                .order_by(AuditEvent.id)).all()
    assert [e.object_id for e in stored] == list(range(61))
    assert all(cur.prev_hash == prev.hash for prev, cur in zip(stored, stored[1:]))
    head = db_session.get(AuditChainHead, 1)
    db_session.refresh(head)
    assert head.count == before + 61 and head.last_hash == last.hash and head.last_event_id == last.id
    assert record_many([]) == [] and verify().ok


def _allow_tampering(conn) -> None:
    """On PostgreSQL the table refuses UPDATE and DELETE (migration audit0001): switch the trigger off as an
    intruder with the owner's rights would (inside the test's transaction, so it is rolled back)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))


def _middle_event(db_session):
    ids = db_session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
    return ids[len(ids) // 2], ids


def test_a_row_altered_with_raw_sql_is_detected(chain_with_events, db_session):
    target, _ids = _middle_event(db_session)
    _allow_tampering(db_session.connection())
    db_session.execute(text("UPDATE audit_events SET reason = 'подделка' WHERE id = :id"), {"id": target})
    db_session.expire_all()
    result = verify()
    assert not result.ok and result.broken_id == target and "изменено" in result.reason


def test_a_row_deleted_with_raw_sql_is_detected(chain_with_events, db_session):
    target, ids = _middle_event(db_session)
    _allow_tampering(db_session.connection())
    db_session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": target})
    db_session.expire_all()
    result = verify()
    following = ids[ids.index(target) + 1]
    assert not result.ok and result.broken_id == following and "удалена" in result.reason


def test_deleting_the_newest_rows_is_detected_through_the_chain_head(chain_with_events, db_session):
    last = db_session.scalar(select(func.max(AuditEvent.id)))
    _allow_tampering(db_session.connection())
    db_session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": last})
    db_session.expire_all()
    result = verify()
    assert not result.ok and "последние записи" in result.reason


def test_no_code_path_updates_or_deletes_audit_rows():
    """Only INSERTs: grep the application for writes to audit_events other than the append."""
    offenders = []
    for path in list((ROOT / "app").rglob("*.py")) + list((ROOT / "workflows").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for needle in ("update(AuditEvent", "delete(AuditEvent", "UPDATE audit_events", "DELETE FROM audit_events"):
            if needle in source:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


def test_flask_audit_verify_exit_codes(tmp_path):
    cli_database = services.seeded_demo_database("uko_test_cli", tmp_path)  # `flask db upgrade`, `flask seed demo`
    ok = services.run_flask(["audit", "verify"], cli_database)
    assert ok.returncode == 0 and "цел" in ok.stdout

    from sqlalchemy import create_engine

    engine_ = create_engine(cli_database)
    with engine_.begin() as conn:
        victim = conn.execute(text("SELECT id FROM audit_events ORDER BY id LIMIT 1 OFFSET 10")).scalar()
        _allow_tampering(conn)
        conn.execute(text("UPDATE audit_events SET actor_name = 'Злоумышленник' WHERE id = :id"), {"id": victim})
    engine_.dispose()
    broken = services.run_flask(["audit", "verify"], cli_database)
    assert broken.returncode == 1
    assert f"id={victim}" in broken.stderr

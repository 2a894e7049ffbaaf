"""Append and verify the hash chain of audit events.

Each event stores the SHA-256 of its canonical content (which includes the previous event's hash),
so changing or deleting any row breaks the chain from that row on. The head row is updated first in
every append: that takes a row lock (PostgreSQL) or the database write lock (SQLite) and makes
concurrent appends line up instead of forking the chain.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context, request
from sqlalchemy import select, update

from app.audit.models import AuditChainHead, AuditEvent
from app.core.checks import acting_for
from app.core.timeutil import utcnow
from app.extensions import db

GENESIS_HASH = "0" * 64
HEAD_ID = 1
_HASHED_FIELDS = (
    "occurred_at", "actor_id", "actor_name", "actor_role", "action", "object_type", "object_id",
    "cycle_id", "organisation_id", "from_state", "to_state", "before", "after", "reason",
    "client_address", "prev_hash",
)
# Added later: hashed only when set, so the hashes of events written before the field existed still hold.
_OPTIONAL_HASHED_FIELDS = ("on_behalf_of_id",)


def to_json(data) -> str | None:
    """Canonical JSON used for before/after snapshots: sorted keys, no whitespace variance."""
    if data is None:
        return None
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def event_hash(event: AuditEvent) -> str:
    content = {}
    for name in _HASHED_FIELDS:
        value = getattr(event, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        content[name] = value
    for name in _OPTIONAL_HASHED_FIELDS:
        if getattr(event, name) is not None:
            content[name] = getattr(event, name)
    return hashlib.sha256(to_json(content).encode("utf-8")).hexdigest()


def _client_address() -> str | None:
    return request.remote_addr if has_request_context() else None


def _actor_name(actor, on_behalf_of) -> str | None:
    name = getattr(actor, "full_name", None)
    if name and on_behalf_of is not None:
        name = f"{name} (за {on_behalf_of.short_name})"[:200]
    return name


def record(*, action: str, object_type: str, object_id: int | None, actor=None, actor_role: str | None = None,
           cycle_id: int | None = None, organisation_id: int | None = None, from_state: str | None = None,
           to_state: str | None = None, before=None, after=None, reason: str | None = None,
           on_behalf_of=None) -> AuditEvent:
    """Append one event to the chain in the caller's transaction (flushes, never commits).

    `on_behalf_of`: the absent person a deputy (заместитель) acted for; the actor stays the deputy, and the
    shown name says for whom («Петров П.П. (за И.И. Иванов)»)."""
    return record_many([dict(action=action, object_type=object_type, object_id=object_id, actor=actor,
                             actor_role=actor_role, cycle_id=cycle_id, organisation_id=organisation_id,
                             from_state=from_state, to_state=to_state, before=before, after=after, reason=reason,
                             on_behalf_of=on_behalf_of)])[0]


def record_many(entries: list[dict]) -> list[AuditEvent]:
    """Append events in the given order (each a dict of `record`'s arguments) in the caller's transaction:
    the head is locked and moved once for all of them and the events are inserted together, so a bulk action
    (1,500 letters at one click) writes three statements per batch instead of three per event. Flushes, never
    commits."""
    if not entries:
        return []
    session = db.session
    prev_hash = session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(count=AuditChainHead.count + len(entries))
        .returning(AuditChainHead.last_hash)
        # The head is read through RETURNING, never as a loaded object: skip matching the UPDATE against every
        # object in the session, which made a bulk action (1,500 documents at one click) quadratic.
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if prev_hash is None:
        raise RuntimeError("audit_chain_head row is missing: run `flask db upgrade`")
    client_address = _client_address()
    events = []
    for entry in entries:
        event = _event(prev_hash=prev_hash, client_address=client_address, **entry)
        prev_hash = event.hash
        events.append(event)
    # The unit of work inserts them in this order and, asked for their ids, gets them in this order too
    # (SQLAlchemy's ordered RETURNING): verification walks the chain by id.
    session.add_all(events)
    session.flush()
    session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(last_hash=events[-1].hash, last_event_id=events[-1].id)
        .execution_options(synchronize_session=False)
    )
    return events


def _event(*, prev_hash: str, client_address: str | None, action: str, object_type: str, object_id: int | None,
           actor=None, actor_role: str | None = None, cycle_id: int | None = None,
           organisation_id: int | None = None, from_state: str | None = None, to_state: str | None = None,
           before=None, after=None, reason: str | None = None, on_behalf_of=None) -> AuditEvent:
    if on_behalf_of is None:
        on_behalf_of = acting_for(actor)  # a deputy admitted by a service's role check acts «за» the absent
    event = AuditEvent(
        # Microseconds survive both backends, so the hashed ISO form round-trips exactly.
        occurred_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_name=_actor_name(actor, on_behalf_of),
        actor_role=actor_role,
        action=action,
        object_type=object_type,
        object_id=object_id,
        cycle_id=cycle_id,
        organisation_id=organisation_id,
        from_state=from_state,
        to_state=to_state,
        before=to_json(before),
        after=to_json(after),
        reason=reason,
        client_address=client_address,
        on_behalf_of_id=getattr(on_behalf_of, "id", None),
        prev_hash=prev_hash,
    )
    event.hash = event_hash(event)
    return event


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str | None = None


def verify() -> VerifyResult:
    """Walk the whole chain in id order; report the first row whose hash or link does not hold."""
    prev_hash = GENESIS_HASH
    checked = 0
    last_id = None
    # Streamed in batches (server-side cursor on PostgreSQL): a region's log does not fit in memory.
    result = db.session.execute(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=2000))
    try:
        for event in result.scalars():
            if event.prev_hash != prev_hash:
                return VerifyResult(False, checked, event.id, "ссылка на предыдущую запись не совпадает: "
                                                              "предыдущая запись удалена или изменена")
            if event_hash(event) != event.hash:
                return VerifyResult(False, checked, event.id, "содержимое записи изменено")
            prev_hash = event.hash
            last_id = event.id
            checked += 1
    finally:
        result.close()
    head = db.session.scalars(
        select(AuditChainHead).where(AuditChainHead.id == HEAD_ID).execution_options(populate_existing=True)
    ).one_or_none()
    if head is None or head.last_hash != prev_hash or head.count != checked:
        return VerifyResult(False, checked, last_id,
                            "последние записи журнала удалены (вершина цепочки не совпадает)")
    return VerifyResult(True, checked)

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
from sqlalchemy import false, func, select, update

from app.audit.models import AuditChainHead, AuditEvent
from app.core.checks import acting_for
from app.core.russian import deputy_for
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
    return hashlib.sha256(hashed_content(event).encode("utf-8")).hexdigest()


def hashed_content(event: AuditEvent) -> str:
    """The exact text an event's hash is the SHA-256 of (UTF-8), so an extract of the log can be checked."""
    content = {}
    for name in _HASHED_FIELDS:
        value = getattr(event, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        content[name] = value
    for name in _OPTIONAL_HASHED_FIELDS:
        if getattr(event, name) is not None:
            content[name] = getattr(event, name)
    return to_json(content)


def _client_address() -> str | None:
    return request.remote_addr if has_request_context() else None


def _actor_name(actor, on_behalf_of) -> str | None:
    name = getattr(actor, "full_name", None)
    if name and on_behalf_of is not None:
        # «за» takes the accusative: «(за Н.И. Ковалёву)», «(за С.П. Иванова)».
        name = f"{name} ({deputy_for(on_behalf_of)})"[:200]
    return name


def record(*, action: str, object_type: str, object_id: int | None, actor=None, actor_role: str | None = None,
           cycle_id: int | None = None, organisation_id: int | None = None, from_state: str | None = None,
           to_state: str | None = None, before=None, after=None, reason: str | None = None,
           on_behalf_of=None) -> AuditEvent:
    """Append one event to the chain in the caller's transaction (flushes, never commits).

    `on_behalf_of`: the absent person a deputy (заместитель) acted for; the actor stays the deputy, and the
    shown name says for whom («Петров П.П. (за И.И. Иванова)»)."""
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
    # The chain's tip as verified (what a new checkpoint signs).
    head_hash: str = GENESIS_HASH
    last_event_id: int | None = None
    anchors_checked: int = 0


@dataclass(frozen=True)
class Anchor:
    """A signed checkpoint's claim (app/audit/checkpoints.py): the chain's `count`-th event is `last_event_id`
    and its hash is `head_hash`. A rewrite anywhere before it changes that hash, however consistently the
    following hashes were recomputed."""

    count: int
    last_event_id: int | None
    head_hash: str
    created_at: str
    label: str  # the checkpoint's file name, for messages


def verify(anchors=(), since: Anchor | None = None) -> VerifyResult:
    """Walk the chain in id order; report the first row whose hash or link does not hold, or the first signed
    anchor the chain no longer matches (a consistent rewrite before it).

    The head is read first and only rows up to it are walked, so events appended meanwhile (a live system) do
    not count as a broken tail. `since`: an anchor already trusted (the latest checkpoint) — check that its row
    still carries its hash and walk only the rows after it (the periodic checkpoint's cheap path)."""
    head = db.session.scalars(
        select(AuditChainHead).where(AuditChainHead.id == HEAD_ID).execution_options(populate_existing=True)
    ).one_or_none()
    if head is None:
        return VerifyResult(False, 0, None, "вершина цепочки отсутствует")
    head_count, head_hash, head_last_id = head.count, head.last_hash, head.last_event_id
    prev_hash = GENESIS_HASH
    checked = 0
    last_id = None
    query = select(AuditEvent).order_by(AuditEvent.id)
    if since is not None and since.count > 0:
        problem = _anchor_row_problem(since)
        if problem:
            return VerifyResult(False, 0, since.last_event_id, problem)
        prev_hash, checked, last_id = since.head_hash, since.count, since.last_event_id
        query = query.where(AuditEvent.id > since.last_event_id)
    if head_last_id is not None:
        query = query.where(AuditEvent.id <= head_last_id)
    else:
        query = query.where(false())
    pending = sorted((a for a in anchors if a.count > checked), key=lambda a: a.count)
    matched = 0
    trusted_id = last_id  # the last row an anchor vouches for (None: the start of the log)
    # Streamed in batches (server-side cursor on PostgreSQL): a region's log does not fit in memory.
    result = db.session.execute(query.execution_options(yield_per=2000))
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
            while pending and pending[0].count == checked:
                anchor = pending.pop(0)
                if anchor.head_hash != event.hash or anchor.last_event_id != event.id:
                    return VerifyResult(False, checked, event.id, _rewritten(anchor, trusted_id, event.id))
                matched += 1
                trusted_id = event.id
    finally:
        result.close()
    if pending:
        anchor = pending[0]
        return VerifyResult(False, checked, last_id,
                            f"в журнале {checked} записей, а контрольная точка «{anchor.label}» от "
                            f"{anchor.created_at} подписала {anchor.count}: записи удалены после записи "
                            f"id={trusted_id if trusted_id is not None else '—'}")
    if head_hash != prev_hash or head_count != checked:
        return VerifyResult(False, checked, last_id,
                            "последние записи журнала удалены (вершина цепочки не совпадает)")
    return VerifyResult(True, checked, head_hash=prev_hash, last_event_id=last_id, anchors_checked=matched)


def _anchor_row_problem(anchor: Anchor) -> str | None:
    event = db.session.get(AuditEvent, anchor.last_event_id, populate_existing=True)
    if event is None or event.hash != anchor.head_hash:
        return (f"запись id={anchor.last_event_id} не совпадает с контрольной точкой «{anchor.label}» от "
                f"{anchor.created_at}: журнал до неё переписан или удалён")
    count = db.session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.id <= anchor.last_event_id))
    if count != anchor.count:
        return (f"до записи id={anchor.last_event_id} в журнале {count} записей, а контрольная точка "
                f"«{anchor.label}» от {anchor.created_at} подписала {anchor.count}: журнал до неё переписан")
    return None


def _rewritten(anchor: Anchor, trusted_id: int | None, event_id: int) -> str:
    start = f"после записи id={trusted_id}" if trusted_id is not None else "с начала журнала"
    return (f"журнал переписан: запись id={event_id} не совпадает с контрольной точкой «{anchor.label}» от "
            f"{anchor.created_at}; изменены записи {start} по id={event_id} включительно "
            f"(хеши пересчитаны, поэтому без контрольных точек цепочка сходится)")

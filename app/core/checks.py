"""Checks every service makes before it changes anything: the actor's role, the version the user saw."""

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core import hooks
from app.core.errors import PermissionDenied, StaleObject, ValidationFailed
from app.extensions import db

# actor id → the absent person a deputy was admitted for by `require_role` in this unit of work: the audit event
# the service then writes says «за …» (app/audit/chain.py asks `acting_for`). Forgotten at commit or rollback.
_ACTING_FOR = "uko_acting_for"


def require_role(actor, org, roles, message: str) -> str:
    """The role under which `actor` may act on `org` (recorded in the audit log), or PermissionDenied. A deputy
    (заместитель) acts with the roles of the person they stand in for today, as on every role-gated page."""
    held = actor.roles_over(org) & set(roles)
    if not held:
        for absent in hooks.covered_people(actor):
            held = absent.roles_over(org) & set(roles)
            if held:
                db.session.info.setdefault(_ACTING_FOR, {})[actor.id] = absent
                break
    if not held:
        raise PermissionDenied(message)
    return sorted(held)[0]


def acting_for(actor):
    """The absent person `actor` was admitted for as a deputy in this unit of work, or None."""
    if actor is None or getattr(actor, "id", None) is None:
        return None
    return db.session.info.get(_ACTING_FOR, {}).get(actor.id)


def _forget(session, *args) -> None:
    session.info.pop(_ACTING_FOR, None)


event.listen(Session, "after_commit", _forget)
event.listen(Session, "after_soft_rollback", _forget)


# What a form sent without its version field stands for: no object has it (versions start at 1), nor does a form
# send it (a «0» it sends is a version, refused as stale like any other wrong one). Left as None (no
# check, for callers without a form) it let a form that dropped the field overwrite whatever had changed since the
# page was loaded; it is refused as an incomplete form (422), not as a stale one: nobody changed the object, and
# «изменён другим пользователем» sent the user looking for a change that never happened.
MISSING_VERSION = -1
FORM_INCOMPLETE = ("Форма отправлена не полностью: в ней нет версии объекта, с которой открывалась страница. "
                   "Ничего не изменено — обновите страницу и отправьте форму снова.")


def check_seen(current: int, expected: int | None, stale: str | None = None) -> None:
    """Optimistic locking: `expected` is the version the form was rendered with (None: the caller has no form).
    None of it sent → ValidationFailed (the form is incomplete); another version → StaleObject, saying `stale` where
    the caller has its own words for what changed (else StaleObject's «обновите страницу»)."""
    if expected is None:
        return
    if expected == MISSING_VERSION:
        raise ValidationFailed(FORM_INCOMPLETE)
    if current != expected:
        raise StaleObject() if stale is None else StaleObject(stale)


def check_version(obj, expected_version: int | None) -> None:
    """Optimistic locking for forms: the object changed since the user loaded it → StaleObject."""
    check_seen(obj.version, expected_version)


def form_int(raw) -> int | None:
    """A form's id, version or count: ASCII digits only, at most 9 of them (an id of the database), else None.
    `str.isdigit` alone lets «²» and «①» through, on which `int` raises, and a long number overflows the id column."""
    text = str(raw if raw is not None else "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None

"""Who may fire a transition: small predicates declared with each transition in the workflow data.

A permission is called as `permission(obj, person)` and answers the role under which `person` may act
(what the audit event records), or None. The engine calls it for the actor and, when that fails, for
each person the actor stands in for today (заместитель): deputy resolution lives in the engine only,
so a predicate never thinks about deputies.

    has_role(EDITORS)                                  any holder of the roles over the object's organisation
    has_role(APPROVERS, nearest=True)                  only the holders at the nearest level that has any
    has_role(MANAGERS, over=lambda item: item.owner)   judged over another organisation than the object's
    supports({"methodologist"})                        held at a centre (ИМЦ, РЦОКО) supporting the organisation
    is_person("responsible_id")                        the one person named on the row
    any_of(p, q), all_of(p, q)                         combinations
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.services import users_with_role_at
from app.extensions import db

Roles = Iterable[str] | Callable[[Any], Iterable[str]]


class Permission:
    """A named predicate: `describe` is a short Russian phrase for pages and refusals («руководитель …»)."""

    def __init__(self, check: Callable[[Any, Any], str | None], describe: str, roles: frozenset[str] = frozenset()):
        self._check = check
        self.describe = describe
        # Roles the predicate can ever admit (for reports and the authority test's role walk); may be empty.
        self.roles = roles

    def __call__(self, obj, person) -> str | None:
        if person is None or getattr(person, "id", None) is None or not getattr(person, "active", True):
            return None
        return self._check(obj, person)

    def __repr__(self) -> str:
        return f"<Permission {self.describe}>"


def _organisation(obj):
    return obj.organisation


def has_role(roles: Roles, *, over: Callable[[Any], Any] | None = None, nearest: bool = False,
             describe: str | None = None) -> Permission:
    """Holders of one of `roles` over `over(obj)` (default: the object's organisation). `nearest`: only the
    holders at the nearest level of that organisation's ancestry that has any — the people the engine
    assigns the task to, not every holder further up the tree. `roles` may be a function of the object
    (e.g. a document type's signer roles)."""
    where = over or _organisation

    def check(obj, person):
        wanted = set(roles(obj) if callable(roles) else roles)
        org = where(obj)
        if org is None or not wanted:
            return None
        held = person.roles_over(org) & wanted
        if not held:
            return None
        if nearest and person.id not in {u.id for u in users_with_role_at(org, wanted)}:
            return None
        return sorted(held)[0]  # deterministic for the audit record when several roles qualify

    static = frozenset() if callable(roles) else frozenset(roles)
    return Permission(check, describe or ("роль: " + ", ".join(sorted(static)) if static else "роль по данным"),
                      static)


def supports(roles: Iterable[str], *, over: Callable[[Any], Any] | None = None,
             describe: str | None = None) -> Permission:
    """Holders of one of `roles` at a centre (ИМЦ, РЦОКО) that supports `over(obj)` itself (default: the object's
    organisation) by the relation an administrator configures (orgs.OrganisationSupport) — e.g. the methodologist
    of the methodical centre serving a municipality, for that municipality's own cycles, not its schools'."""
    where = over or _organisation
    wanted = frozenset(roles)

    def check(obj, person):
        org = where(obj)
        if org is None:
            return None
        held = {role for role, _path, org_id in person.support_grants() if org_id == org.id} & wanted
        return sorted(held)[0] if held else None

    return Permission(check, describe or "роль в центре, сопровождающем организацию: " + ", ".join(sorted(wanted)),
                      wanted)


def is_person(attribute: str, *, describe: str | None = None) -> Permission:
    """The person whose id the row holds in `attribute` (e.g. the responsible for a measure). The audit role is
    the person's own role over the object's organisation (a responsible is always one of its people)."""

    def check(obj, person):
        if getattr(obj, attribute, None) != person.id:
            return None
        held = person.roles_over(obj.organisation)
        return sorted(held)[0] if held else None

    return Permission(check, describe or attribute)


def any_of(*permissions: Permission, describe: str | None = None) -> Permission:
    def check(obj, person):
        for permission in permissions:
            role = permission(obj, person)
            if role is not None:
                return role
        return None

    return Permission(check, describe or " или ".join(p.describe for p in permissions),
                      frozenset().union(*(p.roles for p in permissions)))


def all_of(*permissions: Permission, describe: str | None = None) -> Permission:
    def check(obj, person):
        role = None
        for permission in permissions:
            answer = permission(obj, person)
            if answer is None:
                return None
            role = role or answer
        return role

    return Permission(check, describe or " и ".join(p.describe for p in permissions),
                      frozenset.intersection(*(p.roles for p in permissions)) if permissions else frozenset())


def acted_by(obj, actions: Iterable[str]) -> set[int]:
    """Who did the latest of `actions` on `obj` — the actor and, when they stood in for someone, the absent person
    too — from the audit log: the people a separation-of-duties rule excludes from the next step. A deputy who
    prepared the work as themselves, or the absent person in whose name it was prepared, decides on it neither
    themselves nor for each other (the engine excludes the actor and the person acted for)."""
    row = db.session.execute(
        select(AuditEvent.actor_id, AuditEvent.on_behalf_of_id)
        .where(AuditEvent.object_type == obj.audit_type, AuditEvent.object_id == obj.id,
               AuditEvent.action.in_(tuple(actions)))
        .order_by(AuditEvent.id.desc()).limit(1)).first()
    return {i for i in row if i is not None} if row is not None else set()


def acted_for(obj, actions: Iterable[str]) -> int | None:
    """The absent person the latest of `actions` on `obj` was done for (a deputy's step, «за Н.И. Ковалёву»), from
    the audit log; None when it was done in one's own name."""
    return db.session.scalar(
        select(AuditEvent.on_behalf_of_id)
        .where(AuditEvent.object_type == obj.audit_type, AuditEvent.object_id == obj.id,
               AuditEvent.action.in_(tuple(actions)))
        .order_by(AuditEvent.id.desc()).limit(1))


SYSTEM = None  # a transition without a permission is fired only by the engine's cascades (fire_system)

"""Checks every service makes before it changes anything: the actor's role, the version the user saw."""

from app.core import hooks
from app.core.errors import PermissionDenied, StaleObject


def require_role(actor, org, roles, message: str) -> str:
    """The role under which `actor` may act on `org` (recorded in the audit log), or PermissionDenied. A deputy
    (заместитель) acts with the roles of the person they stand in for today, as on every role-gated page."""
    held = actor.roles_over(org) & set(roles)
    if not held:
        for absent in hooks.covered_people(actor):
            held = absent.roles_over(org) & set(roles)
            if held:
                break
    if not held:
        raise PermissionDenied(message)
    return sorted(held)[0]


def check_version(obj, expected_version: int | None) -> None:
    """Optimistic locking for forms: the object changed since the user loaded it → StaleObject."""
    if expected_version is not None and obj.version != expected_version:
        raise StaleObject()

"""Organisation hierarchy operations."""

import hashlib
import re
from datetime import date

from flask import current_app
from sqlalchemy import select

from app.audit import chain
from app.core.errors import ValidationFailed
from app.core.timeutil import today_in
from app.extensions import db
from app.orgs.models import ORG_KINDS, Organisation
from app.orgs.requisites import REQUISITE_FIELDS, check_emblem, check_requisites

CODE_RE = re.compile(r"^[A-Za-z0-9А-Яа-яЁё._-]{1,40}$")
CONTEXT_FIELDS = ("settlement", "remote", "students", "profile", "low_income_share", "non_native_share",
                  "ovz_share", "unqualified_teachers_share", "teacher_vacancies", "timezone")
# Which kinds may sit under which parent kind.
ALLOWED_PARENTS = {
    "region": {None},
    "municipality": {"region"},
    "assessment_centre": {"region"},
    "methodical_centre": {"region", "municipality"},
    "school": {"municipality", "region"},
    "preschool": {"municipality", "region"},
    "additional": {"municipality", "region"},
}


def create_organisation(*, code: str, name: str, kind: str, parent: Organisation | None = None,
                        short_name: str | None = None, actor=None, **context) -> Organisation:
    """Add an organisation under `parent`; its code is unique and never changes afterwards."""
    code = code.strip()
    if not CODE_RE.match(code):
        raise ValidationFailed(f"Недопустимый код организации «{code}»: только буквы, цифры, «.», «_», «-».")
    if kind not in ORG_KINDS:
        raise ValidationFailed(f"Неизвестный тип организации «{kind}».")
    if (parent.kind if parent else None) not in ALLOWED_PARENTS[kind]:
        raise ValidationFailed(f"Организация типа «{ORG_KINDS[kind]}» не может входить в "
                               f"«{parent.kind_label if parent else 'верхний уровень'}».")
    if db.session.scalar(select(Organisation.id).where(Organisation.code == code)) is not None:
        raise ValidationFailed(f"Организация с кодом «{code}» уже существует.")
    unknown = set(context) - set(CONTEXT_FIELDS) - set(REQUISITE_FIELDS) - {"emblem"}
    if unknown:
        raise TypeError(f"unknown organisation fields: {sorted(unknown)}")
    context.update(check_requisites({k: v for k, v in context.items() if k in REQUISITE_FIELDS}))
    if "emblem" in context:
        context["emblem"] = check_emblem(context["emblem"])
        context["emblem_sha256"] = _digest(context["emblem"])
    org = Organisation(code=code, name=name.strip(), short_name=short_name, kind=kind, parent=parent, **context)
    db.session.add(org)
    db.session.flush()
    # The path needs the row's own id, so it is set once the insert has assigned one.
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    chain.record(action="create", object_type="organisation", object_id=org.id, actor=actor,
                 actor_role="admin" if actor else "system", organisation_id=org.id,
                 after={**org.audit_snapshot(), "parent": parent.code if parent else None})
    return org


def _digest(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data else None


EDITABLE_FIELDS = ("name", "short_name") + CONTEXT_FIELDS + REQUISITE_FIELDS + ("emblem",)


def update_organisation(org: Organisation, *, data: dict, actor) -> None:
    """Change an organisation's names, context attributes and requisites (`emblem`: new picture bytes, or None to
    remove it; absent — unchanged). Code, kind and place in the tree stay: the code is the stable key other
    systems and imports refer to. Invalid requisites are refused in Russian, nothing changed."""
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    if "name" in data and not (data.get("name") or "").strip():
        raise ValidationFailed("Укажите полное наименование организации.")
    data = {**data, **check_requisites({k: v for k, v in data.items() if k in REQUISITE_FIELDS})}
    if "emblem" in data:
        data["emblem"] = check_emblem(data["emblem"])
        data["emblem_sha256"] = _digest(data["emblem"])
    before = org.audit_snapshot()
    for key, value in data.items():
        setattr(org, key, value.strip() if isinstance(value, str) else value)
    db.session.flush()
    after = org.audit_snapshot()
    chain.record(action="update", object_type="organisation", object_id=org.id, actor=actor, actor_role="admin",
                 organisation_id=org.id, before=before, after=after)


# --- time ---

def org_time_zone(org: Organisation | None) -> str:
    """The organisation's time zone, or its nearest ancestor's, or the application default (APP_TIMEZONE)."""
    while org is not None:
        if org.timezone:
            return org.timezone
        org = org.parent
    return current_app.config["APP_TIMEZONE"]


def org_today(org: Organisation | None) -> date:
    """Today where the organisation works: its due dates are counted in its time zone."""
    return today_in(org_time_zone(org))

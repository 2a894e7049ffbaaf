"""Organisation hierarchy operations."""

import hashlib
import re
from datetime import date

from flask import current_app
from sqlalchemy import select

from app.audit import chain
from app.core.access import acting_roles_over
from app.core.errors import PermissionDenied, ValidationFailed
from app.core.timeutil import today_in
from app.extensions import db
from app.orgs.models import (CENTRE_KINDS, ORG_KINDS, SUPPORTED_KINDS, Organisation, OrganisationSupport,
                             bump_support_generation)
from app.orgs.requisites import REQUISITE_FIELDS, check_emblem, check_requisites

CODE_RE = re.compile(r"^[A-Za-z0-9А-Яа-яЁё._-]{1,40}$")
CONTEXT_FIELDS = ("settlement", "remote", "preschool_groups", "students", "profile", "low_income_share",
                  "non_native_share", "ovz_share", "unqualified_teachers_share", "teacher_vacancies", "timezone")
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
    _check_preschool_groups(kind, context)
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


def _check_preschool_groups(kind: str, data: dict) -> None:
    # A kindergarten runs preschool programmes by definition, an authority or a centre none: only a school has groups.
    if data.get("preschool_groups") and kind != "school":
        raise ValidationFailed("Дошкольные группы отмечаются только у школы (детский сад и так реализует программы "
                               "дошкольного образования).")
    if "preschool_groups" in data:
        data["preschool_groups"] = bool(data["preschool_groups"])


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
    _check_preschool_groups(org.kind, data)
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

def visible_ancestors(org: Organisation, user) -> list[Organisation]:
    """The organisations above `org`, top first, that the user may open: the links of a way back (a school's
    director is not shown the municipality, whose page answers 404 to her)."""
    trail, parent = [], org.parent
    while parent is not None:
        if acting_roles_over(user, parent):
            trail.insert(0, parent)
        parent = parent.parent
    return trail


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


# --- the support relation of the centres (ИМЦ, РЦОКО) ---

def supports_of(centre: Organisation) -> list[OrganisationSupport]:
    """The organisations a centre supports, by name."""
    return list(db.session.scalars(
        select(OrganisationSupport).join(Organisation, Organisation.id == OrganisationSupport.supported_id)
        .where(OrganisationSupport.centre_id == centre.id).order_by(Organisation.name)))


def supporting_centres(org: Organisation) -> list[OrganisationSupport]:
    """The centres that support `org` itself."""
    return list(db.session.scalars(
        select(OrganisationSupport).join(Organisation, Organisation.id == OrganisationSupport.centre_id)
        .where(OrganisationSupport.supported_id == org.id).order_by(Organisation.name)))


def support_choices(centre: Organisation) -> list[Organisation]:
    """What a centre may support: the region it belongs to and that region's municipalities, not yet supported."""
    if centre.kind not in CENTRE_KINDS:
        return []
    region_path = f"/{centre.ancestor_ids()[0]}/"
    taken = {s.supported_id for s in supports_of(centre)}
    return [o for o in db.session.scalars(
        select(Organisation).where(Organisation.path.like(region_path + "%"), Organisation.kind.in_(SUPPORTED_KINDS))
        .order_by(Organisation.kind != "region", Organisation.name))
        if o.id not in taken]


def add_support(centre: Organisation, supported: Organisation | None, *, actor) -> OrganisationSupport:
    """The centre (ИМЦ, РЦОКО) serves `supported` (a municipality or the region): its methodologists and analysts
    act in the supported organisation's subtree with the roles they hold at the centre."""
    if centre.kind not in CENTRE_KINDS:
        raise ValidationFailed("Сопровождать другие организации может только методический центр (ИМЦ) или "
                               "региональный центр оценки качества образования (РЦОКО).")
    if supported is None or supported.kind not in SUPPORTED_KINDS:
        raise ValidationFailed("Выберите муниципалитет или регион, который сопровождает центр.")
    if supported.ancestor_ids()[0] != centre.ancestor_ids()[0]:
        raise ValidationFailed("Центр может сопровождать только организации своего региона.")
    if any(s.supported_id == supported.id for s in supports_of(centre)):
        raise ValidationFailed(f"«{centre.display_name}» уже сопровождает «{supported.display_name}».")
    support = OrganisationSupport(centre=centre, supported=supported)
    db.session.add(support)
    db.session.flush()
    bump_support_generation()
    chain.record(action="add_support", object_type="organisation", object_id=centre.id, actor=actor,
                 actor_role="admin" if actor else "system", organisation_id=centre.id,
                 after={"supported_id": supported.id})
    return support


def administers(actor, org: Organisation) -> bool:
    """The actor is an administrator over `org` (a role held there or above): whose support relations they change."""
    return actor is not None and "admin" in actor.roles_over(org)


def remove_support(centre: Organisation, supported_id: int, *, actor) -> None:
    """The centre stops serving `supported_id`. Both ends are the administrator's: a municipality's administrator
    whose subtree holds the centre does not take away its support of another municipality or of the region (set by
    the region's administrator), as they could not have added it."""
    support = next((s for s in supports_of(centre) if s.supported_id == supported_id), None)
    if support is None:
        raise ValidationFailed("Центр не сопровождает эту организацию.")
    if not administers(actor, support.supported):
        raise PermissionDenied(f"Снять сопровождение «{support.supported.display_name}» может администратор, в ведении "
                               "которого эта организация.")
    chain.record(action="remove_support", object_type="organisation", object_id=centre.id, actor=actor,
                 actor_role="admin", organisation_id=centre.id,
                 before={"supported_id": support.supported_id})
    db.session.delete(support)
    db.session.flush()
    bump_support_generation()

"""Audit trail page (журнал аудита): the evidence trail across the user's whole scope.

The per-cycle history lives at /cycles/<id>/history; this page lists every event of the user's
organisation subtree with filters, newest first, in keyset pages (a region's log is far too long for
OFFSET). Everything a row shows beyond the event itself (organisation, stage titles, cycle labels,
people named in changes) is loaded once per page, so the page costs a fixed number of statements.
"""

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import flash, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import lazyload

from app.audit import bp, labels
from app.audit.models import AuditEvent
from app.auth.models import User
from app.core.access import roles_required, scope_condition
from app.core.web import user_time_zone
from app.extensions import db
from app.orgs.models import Organisation

AUDIT_ROLES = ("admin", "auditor", "expert", "head")
PAGE_SIZE = 50
ORG_CHOICES_LIMIT = 2000
MAX_ID = 2**31 - 1  # organisations.id and users.id are 32-bit: a larger number cannot name one
MAX_EVENT_ID = 2**63 - 1
# Dates outside this range are typos, and their day boundaries could overflow datetime arithmetic.
MIN_YEAR, MAX_YEAR = 1900, 2999


@dataclass
class Filters:
    """The validated filters of one request; invalid ones never get here (they are flashed and dropped)."""

    organisation: Organisation | None = None
    action: str | None = None
    object: str | None = None
    actor: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    conditions: list = field(default_factory=list)

    def args(self) -> dict:
        """Query arguments that reproduce these filters in a link (the cursor is added by the caller)."""
        values = {"organisation": self.organisation.id if self.organisation else None, "action": self.action,
                  "object": self.object, "actor": self.actor,
                  "date_from": self.date_from.isoformat() if self.date_from else None,
                  "date_to": self.date_to.isoformat() if self.date_to else None}
        return {k: v for k, v in values.items() if v is not None}


def _raw(name: str) -> str:
    return (request.args.get(name) or "").strip()


def _shown(raw: str) -> str:
    return raw if len(raw) <= 40 else raw[:40] + "…"


def _positive_int(raw: str, limit: int = MAX_ID, lowest: int = 1) -> int | None:
    # Length first: int() of a few thousand digits raises instead of answering.
    if len(raw) > 19 or not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw) if lowest <= int(raw) <= limit else None


def _parse_date(raw: str) -> date | None:
    """ДД.ММ.ГГГГ as people type it, or ISO (ГГГГ-ММ-ДД) as a date picker sends it."""
    for parse in (lambda s: datetime.strptime(s, "%d.%m.%Y").date(), date.fromisoformat):
        try:
            day = parse(raw)
        except ValueError:
            continue
        return day if MIN_YEAR <= day.year <= MAX_YEAR else None
    return None


def _day_start_utc(day: date) -> datetime:
    tz = ZoneInfo(user_time_zone())
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(timezone.utc)


def _in_scope(org: Organisation, scope_paths: list[str]) -> bool:
    return any(org.path.startswith(p) for p in scope_paths)


def _parse_filters(scope_paths: list[str]) -> Filters:
    """Read the GET filters; a bad value is ignored with a Russian warning rather than failing the page."""
    f = Filters()

    raw = _raw("organisation")
    if raw:
        org_id = _positive_int(raw)
        org = db.session.get(Organisation, org_id) if org_id else None
        # The same words for «no such organisation» and «not yours», so ids outside the scope do not leak.
        if org is None or not _in_scope(org, scope_paths):
            flash(f"Организация «{_shown(raw)}» не найдена среди доступных вам: фильтр по организации не применён.",
                  "warning")
        else:
            f.organisation = org
            f.conditions.append(Organisation.in_subtree_of(org))

    raw = _raw("action")
    if raw:
        if raw in labels.ACTIONS:
            f.action = raw
            f.conditions.append(AuditEvent.action == raw)
        else:
            flash(f"Неизвестное действие «{_shown(raw)}»: фильтр по действию не применён.", "warning")

    raw = _raw("object")
    if raw:
        if raw in labels.OBJECTS:
            f.object = raw
            f.conditions.append(AuditEvent.object_type == raw)
        else:
            flash(f"Неизвестный тип объекта «{_shown(raw)}»: фильтр по объекту не применён.", "warning")

    raw = _raw("actor")
    if raw:
        actor_id = _positive_int(raw)
        if actor_id:
            f.actor = actor_id
            f.conditions.append(AuditEvent.actor_id == actor_id)
        else:
            flash(f"Некорректный номер пользователя «{_shown(raw)}»: фильтр по пользователю не применён.", "warning")

    dates = {}
    for name, label in (("date_from", "Дата «с»"), ("date_to", "Дата «по»")):
        raw = _raw(name)
        if raw:
            dates[name] = _parse_date(raw)
            if dates[name] is None:
                flash(f"{label}: «{_shown(raw)}» не является датой (ожидается ДД.ММ.ГГГГ): фильтр не применён.",
                      "warning")
    date_from, date_to = dates.get("date_from"), dates.get("date_to")
    if date_from and date_to and date_from > date_to:
        flash("Дата «с» позже даты «по»: фильтр по датам не применён.", "warning")
        date_from = date_to = None
    # Days are those of the application's time zone; the log stores UTC.
    if date_from:
        f.date_from = date_from
        f.conditions.append(AuditEvent.occurred_at >= _day_start_utc(date_from))
    if date_to:
        f.date_to = date_to
        f.conditions.append(AuditEvent.occurred_at < _day_start_utc(date_to + timedelta(days=1)))
    return f


def _cursor(name: str) -> int | None:
    raw = _raw(name)
    if not raw:
        return None
    value = _positive_int(raw, MAX_EVENT_ID, lowest=0)
    if value is None:
        flash(f"Некорректная ссылка на страницу журнала «{_shown(raw)}»: показано начало журнала.", "warning")
    return value


def _regional_admin(user) -> bool:
    """Events outside every organisation (log-ins, catalogue loads) belong to the region's administrators."""
    return any(r.role == "admin" and r.organisation.parent_id is None for r in user.roles)


def _visible(user):
    condition = scope_condition(Organisation.path, user, roles=AUDIT_ROLES)
    if _regional_admin(user):
        condition = or_(condition, AuditEvent.organisation_id.is_(None))
    return condition


def _query(columns, conditions):
    # Outer join: events without an organisation have no path, and only _visible decides whether they show.
    return (select(*columns).select_from(AuditEvent)
            .outerjoin(Organisation, Organisation.id == AuditEvent.organisation_id).where(*conditions))


def _exists(conditions) -> bool:
    return db.session.scalar(_query([AuditEvent.id], conditions).limit(1)) is not None


def _page(conditions, before: int | None, after: int | None):
    """One page of (event, organisation) rows, newest first, and whether newer / older rows exist."""
    columns = [AuditEvent, Organisation]
    if after is not None:
        rows = db.session.execute(_query(columns, [*conditions, AuditEvent.id > after])
                                  .order_by(AuditEvent.id.asc()).limit(PAGE_SIZE + 1)).all()
        has_newer = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE][::-1]
        has_older = _exists([*conditions, AuditEvent.id <= after])
        return rows, has_newer, has_older
    if before is not None:
        conditions_page = [*conditions, AuditEvent.id < before]
        has_newer = _exists([*conditions, AuditEvent.id >= before])
    else:
        conditions_page = conditions
        has_newer = False
    rows = db.session.execute(_query(columns, conditions_page)
                              .order_by(AuditEvent.id.desc()).limit(PAGE_SIZE + 1)).all()
    return rows[:PAGE_SIZE], has_newer, len(rows) > PAGE_SIZE


def _json(text: str | None) -> dict:
    return json.loads(text) if text else {}


def _people(events) -> dict[int, str]:
    """Short names of the people the page's changes mention (stage responsibles)."""
    ids = set()
    for e in events:
        for data in (_json(e.before), _json(e.after)):
            value = data.get("responsible_id")
            if isinstance(value, int):
                ids.add(value)
    if not ids:
        return {}
    # Names only: the roles User would otherwise select-load are not needed here.
    users = db.session.scalars(select(User).where(User.id.in_(ids)).options(lazyload(User.roles)))
    return {u.id: u.short_name for u in users}


def _org_choices(scope_paths: list[str]) -> list[tuple[Organisation, int]]:
    """Organisations of the scope for the filter, with their depth below the scope's top for indenting."""
    orgs = db.session.scalars(
        select(Organisation).where(scope_condition(Organisation.path, current_user, roles=AUDIT_ROLES))
        .order_by(Organisation.path).limit(ORG_CHOICES_LIMIT)).all()
    top = min((p.count("/") for p in scope_paths), default=0)
    return [(o, o.path.count("/") - top) for o in orgs]


@bp.route("/")
@roles_required(*AUDIT_ROLES)
def events():
    scope_paths = current_user.scope_paths(AUDIT_ROLES)
    # Loaded before the filters are read, so checking the organisation filter usually hits the identity map.
    org_choices = _org_choices(scope_paths)
    filters = _parse_filters(scope_paths)
    before, after = _cursor("before"), _cursor("after")
    if before is not None:
        after = None
    conditions = [_visible(current_user), *filters.conditions]
    rows, has_newer, has_older = _page(conditions, before, after)

    page_events = [e for e, _org in rows]
    stage_titles, cycles = labels.lookup("stage_titles", page_events), labels.lookup("cycle_labels", page_events)
    people = _people(page_events)
    table = [{"event": e, "organisation": org, "object": labels.describe_object(e, stage_titles),
              "cycle": cycles.get(e.cycle_id), "changes": labels.changes(e, people)} for e, org in rows]

    args = filters.args()
    newer_url = older_url = None
    if has_newer:
        newer_url = url_for("audit.events", **args, after=rows[0][0].id if rows else before - 1)
    if has_older:
        older_url = url_for("audit.events", **args, before=rows[-1][0].id if rows else min(after + 1, MAX_EVENT_ID))
    actor_name = None
    if filters.actor:
        actor_name = next((e.actor_name for e in page_events if e.actor_id == filters.actor and e.actor_name),
                          f"пользователь № {filters.actor}")
    return render_template(
        "audit/events.html", table=table, filters=filters, args=args, org_choices=org_choices,
        actions=labels.ACTIONS, objects=labels.OBJECTS, actor_name=actor_name, newer_url=newer_url,
        older_url=older_url, first_page=before is None and after is None,
        without_actor={k: v for k, v in args.items() if k != "actor"},
        timezone_name=user_time_zone())

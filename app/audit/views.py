"""Audit trail page (журнал аудита): the evidence trail across the user's whole scope.

The per-cycle history lives at /cycles/<id>/history; this page lists every event of the user's
organisation subtree with filters, newest first, in keyset pages (a region's log is far too long for
OFFSET). Everything a row shows beyond the event itself (organisation, stage titles, cycle labels,
people named in changes) is loaded once per page, so the page costs a fixed number of statements.
"""

import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import flash, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import lazyload

from app.audit import bp, exports, labels
from app.audit.models import AuditEvent
from app.audit.present import present
from app.auth.models import RoleAssignment, User
from app.core.access import roles_required, scope_condition
from app.core.forms import parse_day
from app.core.timeutil import format_datetime, utcnow, zone_label
from app.core.uploads import XLSX_MIME
from app.core.web import send_temporary_file, user_time_zone, user_today
from app.extensions import db
from app.orgs.models import Organisation

AUDIT_ROLES = ("admin", "auditor", "expert", "head")
PAGE_SIZE = 50
ORG_CHOICES_LIMIT = 2000
MAX_ID = 2**31 - 1  # organisations.id and users.id are 32-bit: a larger number cannot name one
MAX_EVENT_ID = 2**63 - 1
EXPORT_LIMIT = 100_000  # events in one extract; a longer period is exported in parts
# Dates outside this range are typos, and their day boundaries could overflow datetime arithmetic.
MIN_YEAR, MAX_YEAR = 1900, 2999


@dataclass
class Filters:
    """The validated filters of one request; invalid ones never get here (they are flashed and dropped)."""

    organisation: Organisation | None = None
    action: str | None = None
    object: str | None = None
    actor: int | None = None
    cycle: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    conditions: list = field(default_factory=list)

    def args(self) -> dict:
        """Query arguments that reproduce these filters in a link (the cursor is added by the caller)."""
        values = {"organisation": self.organisation.id if self.organisation else None, "action": self.action,
                  "object": self.object, "actor": self.actor, "cycle": self.cycle,
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
    day = parse_day(raw)
    return day if day is not None and MIN_YEAR <= day.year <= MAX_YEAR else None


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

    # People and cycles by number (the «Пользователь» list, a row's «только этот цикл» link).
    for name, column, problem in (("actor", AuditEvent.actor_id, "Некорректный номер пользователя"),
                                  ("cycle", AuditEvent.cycle_id, "Некорректная ссылка на цикл")):
        raw = _raw(name)
        if raw:
            number = _positive_int(raw)
            if number:
                setattr(f, name, number)
                f.conditions.append(column == number)
            else:
                what = "пользователю" if name == "actor" else "циклу"
                flash(f"{problem} «{_shown(raw)}»: фильтр по {what} не применён.", "warning")

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
    # What a feature's pages withhold from the user is withheld here too (attack 9: an expert read the coordinator's
    # draft self-assessment scores in the log of the municipality assigned to them).
    for object_type, withheld in labels.WITHHELD.items():
        ids = withheld(user)
        if ids:
            condition = and_(condition, or_(AuditEvent.object_type != object_type,
                                            AuditEvent.object_id.not_in(sorted(ids))))
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


def _org_choices(scope_paths: list[str]) -> list[tuple[Organisation, int]]:
    """Organisations of the scope for the filter, with their depth below the scope's top for indenting."""
    orgs = db.session.scalars(
        select(Organisation).where(scope_condition(Organisation.path, current_user, roles=AUDIT_ROLES))
        .order_by(Organisation.path).limit(ORG_CHOICES_LIMIT)).all()
    top = min((p.count("/") for p in scope_paths), default=0)
    return [(o, o.path.count("/") - top) for o in orgs]


def _people_choices() -> list[User]:
    """People holding a role in the scope, for the «Пользователь» filter."""
    return db.session.scalars(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .join(Organisation, Organisation.id == RoleAssignment.organisation_id)
        .where(scope_condition(Organisation.path, current_user, roles=AUDIT_ROLES))
        .options(lazyload(User.roles)).distinct().order_by(User.full_name).limit(ORG_CHOICES_LIMIT)).all()


def _batches(conditions):
    """The filtered events, oldest first, in batches of exports.BATCH (keyset, never OFFSET), up to EXPORT_LIMIT."""
    last, sent = 0, 0
    while sent < EXPORT_LIMIT:
        batch = db.session.execute(_query([AuditEvent, Organisation], [*conditions, AuditEvent.id > last])
                                   .order_by(AuditEvent.id.asc()).limit(min(exports.BATCH, EXPORT_LIMIT - sent))).all()
        if not batch:
            return
        yield batch
        last, sent = batch[-1][0].id, sent + len(batch)


@bp.route("/export.csv")
@roles_required(*AUDIT_ROLES)
def export_csv():
    return _export("csv")


@bp.route("/export.xlsx")
@roles_required(*AUDIT_ROLES)
def export():
    return _export("xlsx")


def _export(fmt: str):
    """The filtered log as a file (the page's filters), oldest first, with the chain hashes."""
    filters = _parse_filters(current_user.scope_paths(AUDIT_ROLES))
    conditions = [_visible(current_user), *filters.conditions]
    stamp = user_today().strftime("%Y-%m-%d")
    tz_name = user_time_zone()
    # Up to EXPORT_LIMIT events, about 1 KB each in the CSV (the hashed content): written to a temporary file batch
    # by batch rather than built in memory — 43 000 events took a web worker from 207 MB to 433 MB (attack 16).
    out = tempfile.TemporaryFile()  # noqa: SIM115 (closed by send_temporary_file once the body is sent)
    try:
        if fmt == "csv":
            exports.write_csv(_batches(conditions), tz_name, out)
            mimetype = "text/csv"
        else:
            note = (f"Выгрузка журнала аудита от {format_datetime(utcnow(), tz_name)} ({current_user.full_name}); "
                    f"не более {EXPORT_LIMIT} записей, сначала старые. Хеш записи = SHA-256 (UTF-8) текста "
                    "«содержание для проверки».")
            exports.write_xlsx(_batches(conditions), tz_name, note, out)
            mimetype = XLSX_MIME
    except BaseException:
        out.close()
        raise
    return send_temporary_file(out, f"Журнал аудита {stamp}.{fmt}", mimetype)


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
    table = [(row, org) for row, (_e, org) in zip(present(page_events), rows)]

    args = filters.args()
    newer_url = older_url = None
    if has_newer:
        newer_url = url_for("audit.events", **args, after=rows[0][0].id if rows else before - 1)
    if has_older:
        older_url = url_for("audit.events", **args, before=rows[-1][0].id if rows else min(after + 1, MAX_EVENT_ID))
    people = _people_choices()
    cycle_name = None
    if filters.cycle:
        cycle_name = labels.NAMERS["cycle"]({filters.cycle}).get(filters.cycle, ("цикл не найден",))[0]
    return render_template(
        "audit/events.html", table=table, filters=filters, args=args, org_choices=org_choices,
        actions=labels.ACTIONS, objects=labels.OBJECTS, people=people, cycle_name=cycle_name, newer_url=newer_url,
        older_url=older_url, first_page=before is None and after is None,
        without_actor={k: v for k, v in args.items() if k != "actor"},
        without_cycle={k: v for k, v in args.items() if k != "cycle"},
        timezone_name=zone_label(user_time_zone()))

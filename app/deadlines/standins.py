"""Stand-ins (заместители): a person names a deputy for a period of absence.

During the period (both dates included, counted in the deputy's time zone) the deputy sees the absent
person's tasks in «Мои задачи», receives copies of their notifications, and may fire any transition the
absent person could (checked in workflows/engine.py, through the stand-in hook app/workflow_hooks.py fills
with app/deadlines/cover.py), and reaches every page the absent person's roles open (app/core/access.py);
the audit event names the deputy as the actor and
the absent person in `on_behalf_of_id`. A password re-entered for a sign-off is the deputy's own.
"""

from datetime import date

from sqlalchemy import or_, select

from app.audit import chain
from app.auth.models import RoleAssignment, User
from app.core.errors import PermissionDenied, ValidationFailed
from app.core.russian import deputy_for, gender_of, initials_surname
from app.core.timeutil import format_date, utcnow
from app.deadlines.cover import forget_cover, absent_people_covered_by, deputies_of
from app.deadlines.models import StandIn
from app.deadlines.notify import notify
from app.extensions import db

__all__ = ["absent_people_covered_by", "create_stand_in", "deputies_of", "deputy_candidates", "own_stand_in",
           "revoke_stand_in", "stand_ins_involving"]

MAX_PERIOD_DAYS = 366


def stand_ins_involving(user) -> list[StandIn]:
    """Periods where the user is absent or deputy (or named them), newest first."""
    return list(db.session.scalars(
        select(StandIn).where(or_(StandIn.absent_id == user.id, StandIn.deputy_id == user.id,
                                  StandIn.created_by_id == user.id))
        .order_by(StandIn.start_date.desc(), StandIn.id.desc())))


def deputy_candidates(absent) -> list[User]:
    """People who may stand in: active users holding a role in one of the absent person's own organisations."""
    org_ids = {r.organisation_id for r in absent.roles}
    if not org_ids:
        return []
    return [u for u in db.session.scalars(
        select(User).join(RoleAssignment).where(RoleAssignment.organisation_id.in_(org_ids),
                                                User.active.is_(True), User.id != absent.id)
        .order_by(User.full_name).distinct())]


def _lock_people(*people: User) -> None:
    """Lock the rows of the absent person and the deputy (PostgreSQL; SQLite serialises writers) before the checks
    that read their stand-ins, so two stand-ins named at the same moment are checked one after the other. Without
    it, A naming B and B naming A at once each found the other present and both were created: the pair this module
    refuses outright (attack 8), and likewise two overlapping periods of one person sent from two tabs. In id order,
    so two requests locking the same pair never wait for each other crosswise; FOR NO KEY UPDATE, as
    app.api.services.issue_token explains."""
    db.session.execute(select(User.id).where(User.id.in_(sorted({p.id for p in people})))
                       .order_by(User.id).with_for_update(key_share=True))


class PeriodRefused(ValidationFailed):
    """The stand-in's period is refused (missing, reversed, over, too long, overlapping another)."""


def create_stand_in(*, absent: User, deputy: User | None, start: date | None, end: date | None,
                    reason: str = "", actor: User, today: date) -> StandIn:
    """Name `deputy` for `absent` from `start` to `end`; flushes and audits, never commits.

    Refused, with a Russian message and nothing changed: no deputy or oneself, a period missing or ending
    before it starts or already over, a deputy outside the absent person's organisation, a deputy who is away
    themselves during the period (a chain or a pair naming each other), a period that overlaps another stand-in
    of the same person."""
    problems = []
    if deputy is None:
        problems.append("Укажите заместителя.")
    elif deputy.id == absent.id:
        problems.append("Нельзя назначить заместителем самого себя.")
    elif not {r.organisation_id for r in deputy.roles} & {r.organisation_id for r in absent.roles}:
        # Nameless: the form sends a user id, and naming whoever it was (or saying they are disabled) told anyone
        # the name and state of every account in the region, one id at a time (attack 19).
        problems.append("Заместитель не работает в вашей организации: заместителем может быть только сотрудник той "
                        "же организации — выберите его из списка.")
    elif not deputy.active:
        problems.append(f"Пользователь {deputy.short_name} отключён и не может быть заместителем.")
    about_deputy = len(problems)
    if start is None or end is None:
        problems.append("Укажите период: дату начала и дату окончания.")
    else:
        if end < start:
            problems.append("Дата окончания периода раньше даты начала.")
        elif end < today:
            problems.append("Период уже закончился: укажите даты текущего или будущего отсутствия.")
        elif (end - start).days >= MAX_PERIOD_DAYS:
            problems.append("Период заместительства — не более года.")
    reason = (reason or "").strip()
    if len(reason) > 300:
        problems.append("Основание — не более 300 символов.")
    if not problems:
        _lock_people(absent, deputy)
        # A deputy who is away themselves in the period covers nobody: naming them would leave the absent person's
        # work with someone who is not there (and two people naming each other, A for B and B for A, would each
        # hand their tasks to the other while both are away). Stand-ins do not chain, so this is refused outright.
        away = db.session.scalars(select(StandIn).where(
            StandIn.absent_id == deputy.id, StandIn.revoked_at.is_(None),
            StandIn.start_date <= end, StandIn.end_date >= start).order_by(StandIn.start_date)).first()
        if away is not None:
            herself = "сама" if gender_of(deputy.full_name) == "female" else "сам"
            problems.append(f"{deputy.short_name} {herself} отсутствует с {format_date(away.start_date)} по "
                            f"{format_date(away.end_date)} (заместитель {away.deputy.short_name}) и не может "
                            "замещать в этот период: выберите другого заместителя или другие даты.")
    if not problems:
        clash = db.session.scalars(select(StandIn).where(
            StandIn.absent_id == absent.id, StandIn.revoked_at.is_(None),
            StandIn.start_date <= end, StandIn.end_date >= start).order_by(StandIn.start_date)).first()
        if clash is not None:
            problems.append(f"Период пересекается с уже назначенным заместительством с {format_date(clash.start_date)}"
                            f" по {format_date(clash.end_date)} (заместитель {clash.deputy.short_name}).")
    if problems:
        # A refusal of the period alone is shown beside the dates, one about the deputy beside the deputy.
        raise (ValidationFailed if about_deputy else PeriodRefused)(problems[0], problems=problems[1:])
    org = absent.home_organisation
    stand_in = StandIn(absent=absent, deputy=deputy, start_date=start, end_date=end, reason=reason,
                       organisation_id=org.id, created_by=actor)
    db.session.add(stand_in)
    db.session.flush()
    forget_cover(db.session)
    chain.record(action="create_stand_in", object_type=StandIn.audit_type, object_id=stand_in.id, actor=actor,
                 organisation_id=org.id, after=stand_in.audit_snapshot())
    # «заместителем Н.И. Ковалёвой», «за Н.И. Ковалёву»: the cases the words govern, and no «его» for a woman
    whose = initials_surname(absent, "gent") or absent.short_name
    for_whom = deputy_for(absent)
    notify(deputy, kind="standin",
           title=f"Вы назначены заместителем {whose} с {format_date(start)} по {format_date(end)}",
           body=(f"На это время вы видите задачи {whose} в «Мои задачи» и можете выполнять действия {for_whom}; "
                 f"в журнале аудита они записываются как выполненные вами {for_whom}.")
           + (f"\nОснование: {reason}" if reason else ""),
           link="/tasks/", obj=stand_in, deputies=False)
    return stand_in


def own_stand_in(user, stand_in_id: int) -> StandIn | None:
    """A stand-in the user may see and revoke: their own absence, or one they named. Others: not found."""
    stand_in = db.session.get(StandIn, stand_in_id)
    if stand_in is None or user.id not in (stand_in.absent_id, stand_in.created_by_id):
        return None
    return stand_in


def revoke_stand_in(stand_in: StandIn, *, actor: User) -> bool:
    """End the stand-in now; False when it already was revoked. Flushes and audits, never commits."""
    if actor.id not in (stand_in.absent_id, stand_in.created_by_id):
        raise PermissionDenied("Отменить заместительство может только отсутствующий или тот, кто его назначил.")
    if stand_in.revoked_at is not None:
        return False
    before = stand_in.audit_snapshot()
    stand_in.revoked_at = utcnow()
    stand_in.revoked_by_id = actor.id
    db.session.flush()
    forget_cover(db.session)
    chain.record(action="revoke_stand_in", object_type=StandIn.audit_type, object_id=stand_in.id, actor=actor,
                 organisation_id=stand_in.organisation_id, before=before, after=stand_in.audit_snapshot())
    return True

"""A measure (мера, мероприятие) of a cycle's roadmap.

planned → in_progress (start) → done (complete: proof of execution attached, not before the start date) → verified
(verify, by the official or head); planned | in_progress → cancelled (cancel, with a mandatory reason).
planned | in_progress → the same state (reschedule): once the roadmap (the MEAS stage) is approved, its measures are
what the head approved, so the service refuses edits and only the stage's approver moves a measure's dates, with a
reason, recorded as a transition of its own.
A new measure opens the responsible person's task (engine.start); an edit is no transition: the service moves
that task to the new dates (app/tasks/services.py reschedule), so one edit writes one audit event.
"""

from app.auth.roles import CYCLE_MANAGERS
from app.core.timeutil import format_date, period_bounds, utcnow
from app.orgs.services import org_today
from workflows import hooks
from workflows.permissions import Permission, acted_by, all_of, any_of, has_role, is_person
from workflows.stage import APPROVE

NAME = "measure"
OBJECT_TYPE = "measure"
INITIAL = "planned"
STATE_LABELS = {
    "planned": "запланировано",
    "in_progress": "выполняется",
    "done": "выполнено",
    "verified": "исполнение подтверждено",
    "cancelled": "отменено",
}
STATES = STATE_LABELS  # the machine's states, in order (the name older code imports)
STATE_STYLES = {"planned": "info", "in_progress": "primary", "done": "success", "verified": "success",
                "cancelled": "secondary"}
VERIFIERS = CYCLE_MANAGERS  # the owner's official or head (the director, for a school's own cycle)
ACTIVE_STATES = ("planned", "in_progress")
PROOF_KINDS = ("programme", "protocol", "report", "evidence", "order")


def has_proof(measure) -> list[str]:
    if hooks.attachments_of(measure):
        return []
    return ["Прикрепите подтверждение проведения (программу, протокол, отчёт)."]


def not_before_start(measure, data) -> list[str]:
    """A measure is not done before the day it starts (its organisation's today): «выполнено» on a measure of next
    month passed for executed what had not happened."""
    today = data.get("today") or org_today(measure.organisation)
    if measure.start_date is None or today >= measure.start_date:
        return []
    return [f"Мероприятие начинается {format_date(measure.start_date)}: отметить его выполненным раньше даты "
            "начала нельзя. Если оно уже проведено, сначала измените его сроки."]


def date_problems(period: str, start_date, end_date) -> list[str]:
    """A measure's dates: both given, the end not before the start, both inside its cycle's period (a roadmap for
    2025/26 cannot schedule what happens before or after that school year)."""
    if start_date is None or end_date is None:
        return ["Укажите даты начала и окончания мероприятия."]
    if end_date < start_date:
        return ["Дата окончания мероприятия раньше даты начала."]
    bounds = period_bounds(period)
    if bounds and not (bounds[0] <= start_date and end_date <= bounds[1]):
        return [f"Сроки мероприятия ({format_date(start_date)} – {format_date(end_date)}) выходят за период "
                f"цикла {period} ({format_date(bounds[0])} – {format_date(bounds[1])}): укажите даты внутри периода."]
    return []


def new_dates(measure, data) -> list[str]:
    start_date, end_date = data.get("start_date"), data.get("end_date")
    if (start_date, end_date) == (measure.start_date, measure.end_date):
        return ["Новые сроки совпадают с прежними."]
    return date_problems(measure.cycle.period, start_date, end_date)


def roadmap_approved(measure) -> bool:
    return measure.stage.state == "approved"


# Who approved the roadmap (the stage's approvers: the owner's nearest head, or the methodologist of a supporting
# centre) moves the dates of its measures, and only once it is approved: before that the roadmap is edited freely.
RESCHEDULERS = all_of(APPROVE, Permission(lambda measure, _person: "approved" if roadmap_approved(measure) else None,
                                          "дорожная карта утверждена"))


def reschedule_denied(measure) -> str:
    if not roadmap_approved(measure):
        return ("Дорожная карта ещё не утверждена: сроки мероприятия меняются в его карточке («Изменить»).")
    return "Перенести сроки мероприятия утверждённой дорожной карты может руководитель, утвердивший её."


# The course of a measure is marked by its responsible person, or by the owner's official or head.
RUNNERS = any_of(is_person("responsible_id", describe="ответственный за мероприятие"), has_role(VERIFIERS),
                 describe="ответственный за мероприятие, специалист или руководитель")
RUNNERS_DENIED = "Отмечать ход мероприятия может ответственный за него, специалист или руководитель."


def completer(measure) -> set[int]:
    """Who marked the measure done (and whom they stood in for): the audit log's latest «complete» of it."""
    return acted_by(measure, ("complete",))


# A confirmation by the one who reported the execution would confirm nothing (as for recommendation reports).
SEPARATION_OF_DUTIES = [
    {"triggers": {"verify"}, "excluded": completer,
     "reason": "Подтвердить исполнение мероприятия не может тот, кто отметил его выполненным "
               "(разделение обязанностей)."},
]

TRANSITIONS = [
    {"trigger": "start", "source": "planned", "dest": "in_progress", "label": "Начать выполнение",
     "allowed": RUNNERS, "denied": RUNNERS_DENIED},
    {"trigger": "complete", "source": "in_progress", "dest": "done", "label": "Отметить выполненным",
     "allowed": RUNNERS, "denied": RUNNERS_DENIED, "guards": [not_before_start, has_proof],
     "style": "success"},
    {"trigger": "verify", "source": "done", "dest": "verified", "label": "Подтвердить исполнение",
     "allowed": has_role(VERIFIERS), "style": "success"},
    {"trigger": "cancel", "source": ["planned", "in_progress"], "dest": "cancelled", "label": "Отменить",
     "allowed": has_role(VERIFIERS), "requires_comment": True, "style": "danger"},
    *({"trigger": "reschedule", "source": state, "dest": state, "label": "Перенести сроки",
       "allowed": RESCHEDULERS, "denied": reschedule_denied, "guards": [new_dates], "requires_comment": True,
       "style": "warning"} for state in ACTIVE_STATES),
]


def _enter_done(ctx) -> None:
    ctx.obj.done_at = utcnow()
    if ctx.comment:
        ctx.obj.result_note = ctx.comment


def _enter_verified(ctx) -> None:
    ctx.obj.verified_at = utcnow()
    ctx.obj.verified_by_id = ctx.actor.id


def _enter_cancelled(ctx) -> None:
    ctx.obj.cancel_reason = ctx.comment


def _enter_active(ctx) -> None:
    if ctx.spec.trigger == "reschedule":
        ctx.obj.start_date, ctx.obj.end_date = ctx.data["start_date"], ctx.data["end_date"]


ON_ENTER = {"planned": _enter_active, "in_progress": _enter_active, "done": _enter_done,
            "verified": _enter_verified, "cancelled": _enter_cancelled}

TASK_KINDS = {"execute_measure": "Провести мероприятие", "verify_measure": "Подтвердить исполнение мероприятия"}
TASK_LINKS = {"measure": ("followup.measure_detail", "measure_id")}


def execute_title(measure) -> str:
    return (f"Провести мероприятие «{measure.title}» ({measure.start_date:%d.%m.%Y}–"
            f"{measure.end_date:%d.%m.%Y})")


def _after_active(ctx) -> None:
    measure = ctx.obj
    ctx.open_task(kind="execute_measure", assignee=measure.responsible, due_date=measure.end_date,
                  title=execute_title(measure))


def _after_done(ctx) -> None:
    measure = ctx.obj
    # Not whoever reported the execution (SEPARATION_OF_DUTIES); not the responsible person either, when
    # somebody else can confirm.
    excluded = ctx.excluded_from("verify")
    others = [u for u in ctx.users_with_role(measure.organisation, VERIFIERS) if u.id not in excluded]
    for person in [u for u in others if u.id != measure.responsible_id] or others:
        ctx.open_task(kind="verify_measure", assignee=person, due_date=measure.end_date,
                      title=f"Подтвердить исполнение мероприятия «{measure.title}»")


AFTER = {"planned": _after_active, "in_progress": _after_active, "done": _after_done}

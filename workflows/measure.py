"""A measure (мера, мероприятие) of a cycle's roadmap.

planned → in_progress (start) → done (complete: proof of execution attached) → verified (verify, by the official
or head); planned | in_progress → cancelled (cancel, with a mandatory reason).
Reflexive internal steps: plan (on creation) and update (an edit of a planned or running measure) re-open the
responsible person's task, due at the measure's end date, so reminders follow the current dates.
"""

from datetime import datetime, timezone

from app.auth.roles import CYCLE_MANAGERS, EDITORS

NAME = "measure"
OBJECT_TYPE = "measure"
INITIAL = "planned"
STATES = {
    "planned": "запланировано",
    "in_progress": "выполняется",
    "done": "выполнено",
    "verified": "исполнение подтверждено",
    "cancelled": "отменено",
}
VERIFIERS = CYCLE_MANAGERS  # the owner's official or head (the director, for a school's own cycle)
ACTIVE_STATES = ("planned", "in_progress")
PROOF_KINDS = ("programme", "protocol", "report", "evidence", "order")


def has_proof(measure) -> list[str]:
    from app.documents.attachments import attachments_of

    if attachments_of(measure):
        return []
    return ["Прикрепите подтверждение проведения (программу, протокол, отчёт)."]


TRANSITIONS = [
    {"trigger": "plan", "source": "planned", "dest": "planned", "label": "Запланировать"},
    {"trigger": "update", "source": "planned", "dest": "planned", "label": "Изменить"},
    {"trigger": "update", "source": "in_progress", "dest": "in_progress", "label": "Изменить"},
    {"trigger": "start", "source": "planned", "dest": "in_progress", "label": "Начать выполнение",
     "roles": EDITORS},
    {"trigger": "complete", "source": "in_progress", "dest": "done", "label": "Отметить выполненным",
     "roles": EDITORS, "guards": [has_proof], "style": "success"},
    {"trigger": "verify", "source": "done", "dest": "verified", "label": "Подтвердить исполнение",
     "roles": VERIFIERS, "style": "success"},
    {"trigger": "cancel", "source": ["planned", "in_progress"], "dest": "cancelled", "label": "Отменить",
     "roles": VERIFIERS, "requires_comment": True, "style": "danger"},
]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _apply_changes(ctx) -> None:
    # The service puts the edited fields on the object before firing `update`, so that the engine's audit
    # event holds the before/after of the edit itself.
    for name, value in (getattr(ctx.obj, "pending_changes", None) or {}).items():
        setattr(ctx.obj, name, value)
    ctx.obj.pending_changes = None


def _enter_done(ctx) -> None:
    ctx.obj.done_at = _now()
    if ctx.comment:
        ctx.obj.result_note = ctx.comment


def _enter_verified(ctx) -> None:
    ctx.obj.verified_at = _now()
    ctx.obj.verified_by_id = ctx.actor.id


def _enter_cancelled(ctx) -> None:
    ctx.obj.cancel_reason = ctx.comment


ON_ENTER = {"planned": _apply_changes, "in_progress": _apply_changes, "done": _enter_done,
            "verified": _enter_verified, "cancelled": _enter_cancelled}

TASK_KINDS = {"execute_measure": "Провести мероприятие", "verify_measure": "Подтвердить исполнение мероприятия"}
TASK_LINKS = {"measure": ("followup.measure_detail", "measure_id")}


def _after_active(ctx) -> None:
    measure = ctx.obj
    ctx.open_task(kind="execute_measure", assignee=measure.responsible, due_date=measure.end_date,
                  title=f"Провести мероприятие «{measure.title}» ({measure.start_date:%d.%m.%Y}–"
                        f"{measure.end_date:%d.%m.%Y})")


def _after_done(ctx) -> None:
    measure = ctx.obj
    people = [u for u in ctx.users_with_role(measure.organisation, VERIFIERS) if u.id != measure.responsible_id]
    for person in people or ctx.users_with_role(measure.organisation, VERIFIERS):
        ctx.open_task(kind="verify_measure", assignee=person, due_date=measure.end_date,
                      title=f"Подтвердить исполнение мероприятия «{measure.title}»")


AFTER = {"planned": _after_active, "in_progress": _after_active, "done": _after_done}

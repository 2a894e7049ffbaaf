"""A management decision (управленческое решение).

draft → adopted (adopt: the head of the authority; the responsible person gets the execution task)
adopted → executed (execute: the responsible person or the official reports execution)
executed → verified (verify, by the official or head)
A new draft asks the head to adopt it (engine.start); an edit of a draft is no transition: the service moves
the head's task to the new deadline (app/tasks/services.py reschedule), so one edit writes one audit event.
"""

from app.auth.roles import APPROVERS, CYCLE_MANAGERS
from app.core.timeutil import utcnow
from workflows.permissions import acted_by, any_of, has_role, is_person

NAME = "decision"
OBJECT_TYPE = "decision"
INITIAL = "draft"
STATE_LABELS = {
    "draft": "проект",
    "adopted": "принято",
    "executed": "исполнено",
    "verified": "исполнение подтверждено",
}
STATES = STATE_LABELS  # the machine's states, in order (the name older code imports)
STATE_STYLES = {"draft": "secondary", "adopted": "primary", "executed": "success", "verified": "success"}
ADOPTERS = APPROVERS  # nearest_only: the head of the owner (the director of a school owner)
VERIFIERS = CYCLE_MANAGERS  # the owner's official or head (the director, for a school's own cycle)


def has_basis(decision) -> list[str]:
    if decision.findings or (decision.basis or "").strip():
        return []
    return ["Укажите анализ, на котором основано решение (выводы анализа или текстом)."]


def executor(decision) -> set[int]:
    """Who reported the decision executed (and whom they stood in for): the audit log's latest «execute» of it."""
    return acted_by(decision, ("execute",))


# A confirmation by the one who reported the execution would confirm nothing (as for recommendation reports).
SEPARATION_OF_DUTIES = [
    {"triggers": {"verify"}, "excluded": executor,
     "reason": "Подтвердить исполнение решения не может тот, кто отметил его исполненным "
               "(разделение обязанностей)."},
]

TRANSITIONS = [
    {"trigger": "adopt", "source": "draft", "dest": "adopted", "label": "Принять решение",
     "allowed": has_role(ADOPTERS, nearest=True), "guards": [has_basis], "style": "success"},
    {"trigger": "execute", "source": "adopted", "dest": "executed", "label": "Отметить исполненным",
     "allowed": any_of(is_person("responsible_id", describe="ответственный за исполнение"), has_role(VERIFIERS)),
     "denied": "Отметить исполнение может ответственный за решение, специалист или руководитель.",
     "requires_comment": True},
    {"trigger": "verify", "source": "executed", "dest": "verified", "label": "Подтвердить исполнение",
     "allowed": has_role(VERIFIERS), "style": "success"},
]


def _enter_adopted(ctx) -> None:
    ctx.obj.adopted_at = utcnow()
    ctx.obj.adopted_by_id = ctx.actor.id


def _enter_executed(ctx) -> None:
    ctx.obj.executed_at = utcnow()
    ctx.obj.execution_note = ctx.comment


def _enter_verified(ctx) -> None:
    ctx.obj.verified_at = utcnow()


ON_ENTER = {"adopted": _enter_adopted, "executed": _enter_executed,
            "verified": _enter_verified}

TASK_KINDS = {"adopt_decision": "Принять управленческое решение", "execute_decision": "Исполнить решение",
              "verify_decision": "Подтвердить исполнение решения"}
TASK_LINKS = {"decision": ("followup.decision_detail", "decision_id")}


def adopt_title(decision) -> str:
    return f"Принять решение «{decision.title}»"


def _after_draft(ctx) -> None:
    decision = ctx.obj
    for person in ctx.users_with_role(decision.organisation, ADOPTERS):
        ctx.open_task(kind="adopt_decision", assignee=person, due_date=decision.deadline,
                      title=adopt_title(decision))


def _after_adopted(ctx) -> None:
    decision = ctx.obj
    # the deadline is the task's due date, shown beside its title (task_title of workflows/submission.py)
    ctx.open_task(kind="execute_decision", assignee=decision.responsible, due_date=decision.deadline,
                  title=f"Исполнить решение «{decision.title}»")


def _after_executed(ctx) -> None:
    decision = ctx.obj
    # Not whoever reported the execution (SEPARATION_OF_DUTIES); not the responsible person either, when
    # somebody else can confirm.
    excluded = ctx.excluded_from("verify")
    others = [u for u in ctx.users_with_role(decision.organisation, VERIFIERS) if u.id not in excluded]
    for person in [u for u in others if u.id != decision.responsible_id] or others:
        ctx.open_task(kind="verify_decision", assignee=person, due_date=decision.deadline,
                      title=f"Подтвердить исполнение решения «{decision.title}»")


AFTER = {"draft": _after_draft, "adopted": _after_adopted, "executed": _after_executed}

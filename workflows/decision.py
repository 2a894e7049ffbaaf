"""A management decision (управленческое решение).

draft → adopted (adopt: the head of the authority; the responsible person gets the execution task)
adopted → executed (execute: the responsible person or the official reports execution)
executed → verified (verify, by the official or head)
Reflexive internal steps: prepare (on creation: the head is asked to adopt) and update (an edit of a draft).
"""

from datetime import datetime, timezone

from app.auth.roles import APPROVERS, CYCLE_MANAGERS, EDITORS

NAME = "decision"
OBJECT_TYPE = "decision"
INITIAL = "draft"
STATES = {
    "draft": "проект",
    "adopted": "принято",
    "executed": "исполнено",
    "verified": "исполнение подтверждено",
}
ADOPTERS = APPROVERS  # nearest_only: the head of the owner (the director of a school owner)
VERIFIERS = CYCLE_MANAGERS  # the owner's official or head (the director, for a school's own cycle)


def has_basis(decision) -> list[str]:
    if decision.findings or (decision.basis or "").strip():
        return []
    return ["Укажите анализ, на котором основано решение (выводы анализа или текстом)."]


TRANSITIONS = [
    {"trigger": "prepare", "source": "draft", "dest": "draft", "label": "Подготовить проект"},
    {"trigger": "update", "source": "draft", "dest": "draft", "label": "Изменить проект"},
    {"trigger": "adopt", "source": "draft", "dest": "adopted", "label": "Принять решение", "roles": ADOPTERS,
     "nearest_only": True, "guards": [has_basis], "style": "success"},
    {"trigger": "execute", "source": "adopted", "dest": "executed", "label": "Отметить исполненным",
     "roles": EDITORS, "requires_comment": True},
    {"trigger": "verify", "source": "executed", "dest": "verified", "label": "Подтвердить исполнение",
     "roles": VERIFIERS, "style": "success"},
]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _enter_draft(ctx) -> None:
    for name, value in (getattr(ctx.obj, "pending_changes", None) or {}).items():
        setattr(ctx.obj, name, value)
    ctx.obj.pending_changes = None


def _enter_adopted(ctx) -> None:
    ctx.obj.adopted_at = _now()
    ctx.obj.adopted_by_id = ctx.actor.id


def _enter_executed(ctx) -> None:
    ctx.obj.executed_at = _now()
    ctx.obj.execution_note = ctx.comment


def _enter_verified(ctx) -> None:
    ctx.obj.verified_at = _now()


ON_ENTER = {"draft": _enter_draft, "adopted": _enter_adopted, "executed": _enter_executed,
            "verified": _enter_verified}

TASK_KINDS = {"adopt_decision": "Принять управленческое решение", "execute_decision": "Исполнить решение",
              "verify_decision": "Подтвердить исполнение решения"}
TASK_LINKS = {"decision": ("followup.decision_detail", "decision_id")}


def _after_draft(ctx) -> None:
    decision = ctx.obj
    for person in ctx.users_with_role(decision.organisation, ADOPTERS):
        ctx.open_task(kind="adopt_decision", assignee=person, due_date=decision.deadline,
                      title=f"Принять решение «{decision.title}»")


def _after_adopted(ctx) -> None:
    decision = ctx.obj
    ctx.open_task(kind="execute_decision", assignee=decision.responsible, due_date=decision.deadline,
                  title=f"Исполнить решение «{decision.title}» (срок {decision.deadline:%d.%m.%Y})")


def _after_executed(ctx) -> None:
    decision = ctx.obj
    people = [u for u in ctx.users_with_role(decision.organisation, VERIFIERS) if u.id != decision.responsible_id]
    for person in people or ctx.users_with_role(decision.organisation, VERIFIERS):
        ctx.open_task(kind="verify_decision", assignee=person, due_date=decision.deadline,
                      title=f"Подтвердить исполнение решения «{decision.title}»")


AFTER = {"draft": _after_draft, "adopted": _after_adopted, "executed": _after_executed}

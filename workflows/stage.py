"""Approval workflow of a cycle stage (блок цикла).

waiting → draft (opens when the previous stage is approved, or alongside it for a parallel stage)
draft → on_review (submit, guarded by the stage's required content)
on_review → approved | draft (return, with a mandatory comment)
"""

from datetime import datetime, timezone

from app.auth.roles import APPROVERS, EDITORS

NAME = "stage"
OBJECT_TYPE = "stage"
INITIAL = "waiting"
STATES = {
    "waiting": "ожидает предыдущего этапа",
    "draft": "черновик",
    "on_review": "на рассмотрении",
    "approved": "утверждён",
}


# --- guards: each returns the list of problems, in Russian; empty means the guard passes ---

def previous_stage_ready(stage) -> list[str]:
    """A stage opens after its predecessor is approved; a parallel stage once its predecessor is open."""
    prev = stage.previous_stage()
    if prev is None or prev.state == "approved":
        return []
    if stage.definition.parallel and prev.state != "waiting":
        return []
    return [f"Предыдущий этап «{prev.title}» ещё не утверждён."]


def _goals_content(stage) -> list[str]:
    goals = stage.cycle.goals
    if not goals:
        return ["Не сформулировано ни одной цели."]
    problems = []
    for n, goal in enumerate(goals, 1):
        for attr, label in (("statement", "формулировка цели"), ("justification", "обоснование"),
                            ("realism", "реалистичность")):
            if not (getattr(goal, attr) or "").strip():
                problems.append(f"Цель № {n}: не заполнено поле «{label}».")
    return problems


def _indicators_content(stage) -> list[str]:
    indicators = stage.cycle.indicators
    if not indicators:
        return ["Не задано ни одного показателя."]
    problems = []
    covered = {i.group_name for i in indicators}
    for group in stage.cycle.track.mechanism.indicator_groups:
        if group.required and group.name not in covered:
            problems.append(f"Нет ни одного показателя в обязательной группе «{group.name}».")
    for ind in indicators:
        if ind.baseline is None:
            problems.append(f"Показатель {ind.code}: не указано базовое значение.")
        if ind.target is None:
            problems.append(f"Показатель {ind.code}: не указано целевое значение.")
    return problems


def _methods_content(stage) -> list[str]:
    if not stage.cycle.collection_methods:
        return ["Не описано ни одного метода сбора и обработки информации."]
    return []


def _summary_content(stage) -> list[str]:
    if not (stage.summary or "").strip():
        return ["Не заполнено содержание этапа."]
    return []


def _monitoring_content(stage) -> list[str]:
    # Imported here: the data request workflow loads the monitoring models, which load the cycles.
    from workflows.data_request import monitoring_stage_problems

    return monitoring_stage_problems(stage)


def _analysis_content(stage) -> list[str]:
    from app.analysis.guards import analysis_content

    return analysis_content(stage)


def _follow_up_content(stage) -> list[str]:
    # REC, MEAS, DEC, EFF: the same integrity checks the cycle integrity panel lists.
    from app.effectiveness.guards import stage_content

    return stage_content(stage)


CONTENT_RULES = {"GOAL": _goals_content, "IND": _indicators_content, "METH": _methods_content,
                 "MON": _monitoring_content, "ANL": _analysis_content, "REC": _follow_up_content,
                 "MEAS": _follow_up_content, "DEC": _follow_up_content, "EFF": _follow_up_content}


def required_content(stage) -> list[str]:
    """The stage's required content is present (what exactly depends on the block)."""
    return CONTENT_RULES.get(stage.code, _summary_content)(stage)


def has_responsible(stage) -> list[str]:
    return [] if stage.responsible_id else ["Не назначен ответственный за этап."]


def mandatory_documents(stage) -> list[str]:
    """The stage's mandatory document types exist, at least as drafts (which ones is catalogue data)."""
    from app.documents.guards import mandatory_documents as documents_present

    return documents_present(stage)


TRANSITIONS = [
    {"trigger": "open", "source": "waiting", "dest": "draft", "label": "Открыть этап",
     "guards": [previous_stage_ready]},
    {"trigger": "submit", "source": "draft", "dest": "on_review", "label": "Отправить на утверждение",
     "roles": EDITORS, "guards": [previous_stage_ready, has_responsible, required_content, mandatory_documents]},
    # The head of the owning authority (or the school's director for its own cycle) decides, not a head
    # further up the tree: the same people who receive the review task.
    {"trigger": "approve", "source": "on_review", "dest": "approved", "label": "Утвердить",
     "roles": APPROVERS, "nearest_only": True, "style": "success"},
    {"trigger": "return", "source": "on_review", "dest": "draft", "label": "Вернуть на доработку",
     "roles": APPROVERS, "nearest_only": True, "requires_comment": True, "style": "warning"},
]


# --- effects ---

def _now() -> datetime:
    return datetime.now(timezone.utc)


def _enter_draft(ctx) -> None:
    if ctx.spec.trigger == "return":
        ctx.obj.return_comment = ctx.comment


def _enter_on_review(ctx) -> None:
    ctx.obj.submitted_at = _now()


def _enter_approved(ctx) -> None:
    ctx.obj.approved_at = _now()
    ctx.obj.approved_by_id = ctx.actor.id


ON_ENTER = {"draft": _enter_draft, "on_review": _enter_on_review, "approved": _enter_approved}


TASK_VERBS = {"fill_stage": "Заполнить", "rework_stage": "Доработать", "review_stage": "Рассмотреть"}
TASK_KINDS = {"fill_stage": "Заполнить этап", "rework_stage": "Доработать этап после возврата",
              "review_stage": "Рассмотреть этап"}
TASK_LINKS = {"stage": ("cycles.stage_detail", "stage_id")}


def task_title(stage, kind: str) -> str:
    return f"{TASK_VERBS[kind]} этап «{stage.title}» ({stage.cycle.short_title})"


def _after_draft(ctx) -> None:
    stage = ctx.obj
    if stage.responsible is not None:
        kind = "rework_stage" if ctx.spec.trigger == "return" else "fill_stage"
        ctx.open_task(kind=kind, title=task_title(stage, kind), assignee=stage.responsible,
                      due_date=stage.deadline)
    open_ready_stages(ctx)


def _after_on_review(ctx) -> None:
    stage = ctx.obj
    for approver in ctx.users_with_role(stage.organisation, APPROVERS):
        ctx.open_task(kind="review_stage", title=task_title(stage, "review_stage"), assignee=approver,
                      due_date=stage.deadline)


def open_ready_stages(ctx) -> None:
    """Open every waiting stage whose predecessor condition now holds (cascades through parallel ones)."""
    for stage in ctx.obj.cycle.stages:
        if stage.state == "waiting" and not previous_stage_ready(stage):
            ctx.fire_internal(stage, "open")
            return  # the opened stage's own AFTER continues the cascade


def _after_approved(ctx) -> None:
    cycle = ctx.obj.cycle
    if all(s.state == "approved" for s in cycle.stages):
        ctx.fire_internal(cycle, "close")
    else:
        open_ready_stages(ctx)


AFTER = {"draft": _after_draft, "on_review": _after_on_review, "approved": _after_approved}

"""Approval workflow of a cycle stage (блок цикла).

waiting → draft (opens when the previous stage is approved, or alongside it for a parallel stage)
draft → on_review (submit, guarded by the stage's required content)
on_review → approved | draft (return, with a mandatory comment)
"""


from app.auth.roles import APPROVERS, EDITORS
from app.auth.services import users_supporting
from app.core.timeutil import utcnow
from workflows import hooks
from workflows.permissions import acted_by, any_of, has_role, supports

NAME = "stage"
OBJECT_TYPE = "stage"
INITIAL = "waiting"
STATE_LABELS = {
    "waiting": "ожидает предыдущего этапа",
    "draft": "черновик",
    "on_review": "на рассмотрении",
    "approved": "утверждён",
}
STATES = STATE_LABELS  # the machine's states, in order (the name older code imports)
STATE_STYLES = {"waiting": "secondary", "draft": "primary", "on_review": "warning", "approved": "success"}


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
    problems.extend(hooks.invariant_problems(stage.cycle))
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


# The cycle's own blocks; the features add theirs (MON, ANL, REC, MEAS, DEC, EFF) to hooks.stage_content at
# start-up (app/workflow_hooks.py), so this workflow imports no feature.
CONTENT_RULES = {"GOAL": _goals_content, "IND": _indicators_content, "METH": _methods_content}


def required_content(stage) -> list[str]:
    """The stage's required content is present (what exactly depends on the block)."""
    rule = CONTENT_RULES.get(stage.code) or hooks.stage_content.get(stage.code) or _summary_content
    return rule(stage)


def documents_frozen(stage) -> list[str]:
    """A stage on review is judged as it was sent: its documents get no new document or edition until the approver
    approves it or returns it. A reviewer's «Сформировать» made a new draft edition of a document already signed
    and registered, under the head's eyes (walk 19). The documents' generation asks this rule."""
    if stage.state != "on_review":
        return []
    return [f"Этап «{stage.title}» на рассмотрении: его документы не формируются и не переиздаются, пока этап не "
            "утвердят или не вернут на доработку."]


def has_responsible(stage) -> list[str]:
    return [] if stage.responsible_id else ["Не назначен ответственный за этап."]


def mandatory_documents(stage) -> list[str]:
    """The stage's mandatory document types exist, at least as drafts (which ones is catalogue data)."""
    return hooks.mandatory_documents(stage)


def unsigned_documents(stage) -> list[str]:
    """The stage's mandatory documents not yet signed, for the approver to read beside «Утвердить». A note, not a
    guard: a document is signed on its own page by its own signer (and registered after), and the head accepts the
    block's content and signs its documents in either order (README, «Documents of a cycle»)."""
    return hooks.unsigned_documents(stage) if stage.state == "on_review" else []


# The methodologist of a methodical centre (ИМЦ) that supports the owning municipality approves its cycles too
# (the centre serves the municipality: orgs.OrganisationSupport); a РЦОКО analyst approves nothing.
CENTRE_APPROVERS = frozenset({"methodologist"})
APPROVE = any_of(has_role(APPROVERS, nearest=True),
                 supports(CENTRE_APPROVERS, over=lambda stage: stage.cycle.owner))


def submitter(stage) -> set[int]:
    """Who sent the stage for review (and whom they stood in for): the audit log's latest «submit» of it."""
    return acted_by(stage, ("submit",))


# Nobody approves their own submission (a school's staff submit, its director approves).
SEPARATION_OF_DUTIES = [
    {"triggers": {"approve"}, "excluded": submitter,
     "reason": "Утвердить этап не может тот, кто отправил его на утверждение (разделение обязанностей)."},
]

TRANSITIONS = [
    {"trigger": "open", "source": "waiting", "dest": "draft", "label": "Открыть этап",
     "guards": [previous_stage_ready]},
    {"trigger": "submit", "source": "draft", "dest": "on_review", "label": "Отправить на утверждение",
     "allowed": has_role(EDITORS), "guards": [previous_stage_ready, has_responsible, required_content,
                                              mandatory_documents]},
    # The head of the owning authority (or the school's director for its own cycle) decides, not a head
    # further up the tree: the same people who receive the review task.
    {"trigger": "approve", "source": "on_review", "dest": "approved", "label": "Утвердить",
     "allowed": APPROVE, "style": "success"},
    {"trigger": "return", "source": "on_review", "dest": "draft", "label": "Вернуть на доработку",
     "allowed": APPROVE, "requires_comment": True, "style": "warning"},
]


# --- effects ---

def _enter_draft(ctx) -> None:
    if ctx.spec.trigger == "return":
        ctx.obj.return_comment = ctx.comment


def _enter_on_review(ctx) -> None:
    ctx.obj.submitted_at = utcnow()


def _enter_approved(ctx) -> None:
    ctx.obj.approved_at = utcnow()
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
    approvers = ctx.users_with_role(stage.organisation, APPROVERS)
    approvers += [u for u in users_supporting(stage.cycle.owner, CENTRE_APPROVERS) if u not in approvers]
    for approver in approvers:
        ctx.open_task(kind="review_stage", title=task_title(stage, "review_stage"), assignee=approver,
                      due_date=stage.deadline)


def open_ready_stages(ctx) -> None:
    """Open every waiting stage whose predecessor condition now holds (cascades through parallel ones)."""
    for stage in ctx.obj.cycle.stages:
        if stage.state == "waiting" and not previous_stage_ready(stage):
            ctx.fire_system(stage, "open")
            return  # the opened stage's own AFTER continues the cascade


def _after_approved(ctx) -> None:
    cycle = ctx.obj.cycle
    if all(s.state == "approved" for s in cycle.stages):
        ctx.fire_system(cycle, "close")
    else:
        open_ready_stages(ctx)


AFTER = {"draft": _after_draft, "on_review": _after_on_review, "approved": _after_approved}

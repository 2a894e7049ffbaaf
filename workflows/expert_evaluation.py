"""Expert evaluation of one municipality's mechanism (экспертная оценка), by the expert assigned to it.

draft → submitted (submit: the assigned expert; every criterion scored, a comment wherever the score differs from
the self-assessment; within the window) → approved (approve: the regional head) or → returned (return: the regional
head, with a mandatory comment) → submitted (resubmit: the expert). The expert never approves their own evaluation.
"""

from app.core.timeutil import utcnow
from workflows.permissions import acted_by, has_role, is_person
from workflows.self_assessment import all_scored, task_title, within_window

NAME = "expert_evaluation"
OBJECT_TYPE = "expert_evaluation"
INITIAL = "draft"
STATE_LABELS = {"draft": "оценивается", "submitted": "на утверждении", "returned": "возвращена эксперту",
                "approved": "утверждена"}
STATES = STATE_LABELS
STATE_STYLES = {"draft": "secondary", "submitted": "primary", "returned": "warning", "approved": "success"}
EXPERT = is_person("expert_user_id", describe="назначенный эксперт")
HEAD = has_role({"head"}, over=lambda a: a.campaign.organisation, nearest=True,
                describe="руководитель регионального органа")
TASK_KINDS = {"evaluate_mechanism": "Провести экспертную оценку механизма",
              "approve_evaluation": "Утвердить экспертную оценку",
              "revise_evaluation": "Доработать экспертную оценку"}
TASK_LINKS = {"expert_evaluation": ("assessment.evaluation", "assignment_id")}


def comments_where_different(obj, data) -> list[str]:
    # One message naming every criterion, as all_scored does.
    codes = data.get("uncommented") or []
    if len(codes) == 1:
        return [f"Критерий {codes[0]}: балл эксперта отличается от самооценки — нужен комментарий."]
    return [f"Критерии {', '.join(codes)}: балл эксперта отличается от самооценки — нужен комментарий к каждому."
            ] if codes else []


def no_conflict_of_interest(obj, data) -> list[str]:
    """Checked again when the evaluation moves, not only at assignment: an expert who has since taken a post in
    the municipality (services.conflict_of_interest, passed in as `conflicts`) neither submits nor has it approved."""
    return list(data.get("conflicts") or [])


def campaign_not_closed(obj, data) -> list[str]:
    """The head approves or returns while the campaign runs, past the experts' window too, but not once it is
    closed: its analytical report is registered on the evaluations as they stood (walk 18)."""
    if obj.campaign.state == "closed":
        return ["Кампания завершена: экспертные оценки больше не утверждаются и не возвращаются."]
    return []


TRANSITIONS = [
    {"trigger": "submit", "source": "draft", "dest": "submitted", "label": "Направить на утверждение",
     "allowed": EXPERT, "guards": [within_window, all_scored, comments_where_different, no_conflict_of_interest],
     "style": "success", "denied": "Направить оценку может только назначенный эксперт."},
    {"trigger": "resubmit", "source": "returned", "dest": "submitted", "label": "Направить повторно",
     "allowed": EXPERT, "guards": [within_window, all_scored, comments_where_different, no_conflict_of_interest],
     "style": "success", "denied": "Направить оценку может только назначенный эксперт."},
    {"trigger": "approve", "source": "submitted", "dest": "approved", "label": "Утвердить оценку",
     "allowed": HEAD, "guards": [campaign_not_closed, no_conflict_of_interest], "style": "success",
     "denied": "Утвердить экспертную оценку может руководитель регионального органа."},
    {"trigger": "return", "source": "submitted", "dest": "returned", "label": "Вернуть эксперту",
     "allowed": HEAD, "requires_comment": True, "guards": [campaign_not_closed], "style": "warning",
     "denied": "Вернуть экспертную оценку может руководитель регионального органа."},
]

def evaluators(assignment) -> set[int]:
    """The assigned expert, and whoever sent the evaluation in (a deputy standing in for the expert) with whom they
    stood in for: none of them approves or returns it."""
    return {assignment.expert_user_id} | acted_by(assignment, ("submit", "resubmit"))


SEPARATION_OF_DUTIES = [
    {"triggers": {"approve", "return"}, "excluded": evaluators,
     "reason": "Эксперт не утверждает собственную оценку, и тот, кто направил её за эксперта, — тоже (разделение "
               "обязанностей)."},
]


def _enter_submitted(ctx) -> None:
    ctx.obj.submitted_at = utcnow()
    ctx.obj.return_comment = None


def _enter_returned(ctx) -> None:
    ctx.obj.return_comment = ctx.comment


def _enter_approved(ctx) -> None:
    ctx.obj.approved_at = utcnow()
    ctx.obj.approved_by_id = ctx.actor.id if ctx.actor is not None else None


ON_ENTER = {"submitted": _enter_submitted, "returned": _enter_returned, "approved": _enter_approved}


def expert_task(obj) -> tuple[str, str]:
    """(kind, title) of what the assigned expert owes on a draft or returned evaluation."""
    if obj.state == "returned":
        return "revise_evaluation", task_title(obj, "Доработать экспертную оценку")
    return "evaluate_mechanism", task_title(obj, "Экспертная оценка")


def _open_expert_task(ctx) -> None:
    obj = ctx.obj
    # An expert excluded from the register can no longer open the evaluation: nothing is owed by her; the region
    # assigns another expert, who gets the task (app.assessment.services.assign_expert).
    if obj.expert is not None and obj.expert.status != "active":
        return
    kind, title = expert_task(obj)
    ctx.open_task(kind=kind, assignee=obj.expert_user, due_date=obj.campaign.window_closes, title=title)


def _after_draft(ctx) -> None:
    _open_expert_task(ctx)


def _after_submitted(ctx) -> None:
    obj = ctx.obj
    for person in ctx.users_with_role(obj.campaign.organisation, {"head"}):
        if person.id != obj.expert_user_id:
            ctx.open_task(kind="approve_evaluation", assignee=person, due_date=obj.campaign.window_closes,
                          title=task_title(obj, "Утвердить экспертную оценку"))


def _after_returned(ctx) -> None:
    _open_expert_task(ctx)


AFTER = {"draft": _after_draft, "submitted": _after_submitted, "returned": _after_returned}

"""One addressee's answer to a data request (ответ организации на запрос сведений).

pending → submitted (submit, by the addressee's director or the staff member they delegated to)
submitted → accepted (accept) | returned (return, with a mandatory comment)
returned → submitted (resubmit)
pending | returned → not_provided (mark_not_provided, with a mandatory reason)
Reflexive steps that only move the task: issue (internal, when the request is sent), delegate, remind.

Fillers are judged over the addressee (its director, or the staff member delegated the answer); reviewers
over the request's owner. Separation of duties: whoever submitted an answer does not accept or return it.
"""

from app.auth.roles import CYCLE_MANAGERS
from app.core.timeutil import utcnow
from app.tasks import services as tasks
from workflows.permissions import Permission, acted_by, all_of, any_of, has_role, is_person

NAME = "submission"
OBJECT_TYPE = "submission"
INITIAL = "pending"
STATE_LABELS = {
    "pending": "ожидает ответа",
    "submitted": "на проверке",
    "accepted": "принято",
    "returned": "возвращено на доработку",
    "not_provided": "не представлено",
}
STATES = STATE_LABELS  # the machine's states, in order (the name older code imports)
STATE_STYLES = {"pending": "secondary", "submitted": "warning", "accepted": "success", "returned": "danger",
                "not_provided": "dark"}
FILLERS = frozenset({"director", "staff"})
REVIEWERS = CYCLE_MANAGERS  # the request owner's official or head (workflows/data_request.py REQUESTERS)
OPEN_STATES = ("pending", "returned")
DONE_STATES = ("accepted", "not_provided")

DIRECTOR = has_role({"director"}, describe="руководитель организации-адресата")
# A municipality addressed by a regional request (two-step request) answers through its own official or head:
# roles held at the municipality itself, never the region's people above it (they review the answer).
AUTHORITY_FILLERS = frozenset({"official", "head"})


def _authority_answers(submission, person):
    org = submission.organisation
    if org.kind != "municipality":
        return None
    held = {r.role for r in person.roles if r.organisation_id == org.id} & AUTHORITY_FILLERS
    return sorted(held)[0] if held else None


AUTHORITY = Permission(_authority_answers, "специалист или руководитель муниципалитета-адресата", AUTHORITY_FILLERS)
# The addressee's director, or the staff member the director delegated the answer to; a municipality's own people.
FILL = any_of(DIRECTOR, all_of(has_role({"staff"}), is_person("delegate_id")), AUTHORITY,
              describe="руководитель организации-адресата или сотрудник, которому он это поручил")
FILL_DENIED = ("Отправить сведения может руководитель организации-адресата или сотрудник, которому он это "
               "поручил.")
REVIEW = has_role(REVIEWERS, over=lambda submission: submission.request.organisation,
                  describe="специалист или руководитель органа, направившего запрос")
REVIEW_DENIED = "Принимать и возвращать сведения может специалист или руководитель органа, направившего запрос."


# --- guards ---

def request_is_sent(submission) -> list[str]:
    if submission.request.state != "sent":
        return ["Запрос сведений не направлен или уже закрыт."]
    return []


def values_complete(submission) -> list[str]:
    """Every requested indicator has a value for the addressee and the request's period."""
    from sqlalchemy import select

    from app.extensions import db
    from app.monitoring.models import IndicatorValue

    request = submission.request
    ids = [item.indicator_id for item in request.items]
    have = set(db.session.scalars(select(IndicatorValue.indicator_id).where(
        IndicatorValue.indicator_id.in_(ids), IndicatorValue.organisation_id == submission.organisation_id,
        IndicatorValue.period == request.period))) if ids else set()
    return [f"Не указано значение показателя {item.indicator.code} «{item.indicator.name}»."
            for item in request.items if item.indicator_id not in have]


def submitter(submission) -> set[int]:
    """Who sent the answer, and whom they stood in for when they did."""
    return ({submission.submitted_by_id} - {None}) | acted_by(submission, ("submit", "resubmit"))


SEPARATION_OF_DUTIES = [
    {"triggers": {"accept", "return"}, "excluded": submitter,
     "reason": "Принять или вернуть сведения не может тот, кто их отправил (разделение обязанностей)."},
]

DELEGATE_DENIED = "Поручить подготовку сведений может только руководитель организации-адресата."

TRANSITIONS = [
    {"trigger": "issue", "source": "pending", "dest": "pending", "label": "Направить запрос"},
    {"trigger": "submit", "source": "pending", "dest": "submitted", "label": "Отправить сведения",
     "allowed": FILL, "denied": FILL_DENIED, "guards": [request_is_sent, values_complete]},
    {"trigger": "resubmit", "source": "returned", "dest": "submitted", "label": "Отправить повторно",
     "allowed": FILL, "denied": FILL_DENIED, "guards": [request_is_sent, values_complete]},
    {"trigger": "accept", "source": "submitted", "dest": "accepted", "label": "Принять", "allowed": REVIEW,
     "denied": REVIEW_DENIED, "style": "success"},
    {"trigger": "return", "source": "submitted", "dest": "returned", "label": "Вернуть на доработку",
     "allowed": REVIEW, "denied": REVIEW_DENIED, "requires_comment": True, "style": "warning"},
    {"trigger": "mark_not_provided", "source": ["pending", "returned"], "dest": "not_provided",
     "label": "Отметить «не представлено»", "allowed": REVIEW, "denied": REVIEW_DENIED, "requires_comment": True,
     "guards": [request_is_sent], "style": "danger"},
    # The same trigger from each open state: the answer keeps its state, only the task moves or renews.
    {"trigger": "delegate", "source": "pending", "dest": "pending", "label": "Поручить сотруднику",
     "allowed": DIRECTOR, "denied": DELEGATE_DENIED, "guards": [request_is_sent]},
    {"trigger": "delegate", "source": "returned", "dest": "returned", "label": "Поручить сотруднику",
     "allowed": DIRECTOR, "denied": DELEGATE_DENIED, "guards": [request_is_sent]},
    {"trigger": "remind", "source": "pending", "dest": "pending", "label": "Напомнить", "allowed": REVIEW,
     "denied": "Напоминать адресатам может специалист или руководитель.", "guards": [request_is_sent]},
    {"trigger": "remind", "source": "returned", "dest": "returned", "label": "Напомнить", "allowed": REVIEW,
     "denied": "Напоминать адресатам может специалист или руководитель.", "guards": [request_is_sent]},
]


# --- effects ---

def _open_state_changes(ctx) -> None:
    obj, trigger = ctx.obj, ctx.spec.trigger
    if trigger == "delegate":
        # The chosen staff member comes as the transition's data (None: the director again).
        obj.delegate = ctx.data.get("delegate")
    elif trigger == "remind":
        obj.last_reminded_at = utcnow()
    elif trigger == "return":
        obj.return_comment = ctx.comment


def _enter_submitted(ctx) -> None:
    ctx.obj.submitted_at = utcnow()
    ctx.obj.submitted_by_id = ctx.actor.id


def _enter_accepted(ctx) -> None:
    ctx.obj.accepted_at = utcnow()


def _enter_not_provided(ctx) -> None:
    ctx.obj.not_provided_reason = ctx.comment


ON_ENTER = {"pending": _open_state_changes, "returned": _open_state_changes, "submitted": _enter_submitted,
            "accepted": _enter_accepted, "not_provided": _enter_not_provided}


TASK_KINDS = {
    "fill_submission": "Представить сведения",
    "rework_submission": "Доработать сведения",
    "review_submission": "Проверить сведения",
    "close_request": "Закрыть запрос сведений",
}
TASK_LINKS = {"submission": ("monitoring.submission_detail", "submission_id"),
              "data_request": ("monitoring.request_detail", "request_id")}


def task_title(submission, kind: str) -> str:
    request = submission.request
    if kind == "review_submission":
        return f"Проверить сведения: {submission.organisation.display_name} — «{request.title}»"
    # No «(срок …)»: the deadline is the task's due date, which task lists show beside the title and which follows
    # the deadline when it moves (the title repeated it, and kept the old date).
    return f"{TASK_KINDS[kind]} по запросу «{request.title}»"


def fillers_of(submission, users_with_role) -> list:
    """Who owes the answer: the delegate if one is set and still active, otherwise the director(s)."""
    delegate = submission.delegate
    if delegate is not None and delegate.active:
        return [delegate]
    if submission.organisation.kind == "municipality":
        return [u for u in users_with_role(submission.organisation, AUTHORITY_FILLERS)
                if any(r.organisation_id == submission.organisation_id for r in u.roles)]
    return users_with_role(submission.organisation, {"director"})


def _after_open(ctx) -> None:
    submission = ctx.obj
    kind = "rework_submission" if submission.state == "returned" else "fill_submission"
    for person in fillers_of(submission, ctx.users_with_role):
        ctx.open_task(kind=kind, title=task_title(submission, kind), assignee=person,
                      due_date=submission.request.deadline)


def reviewers_of(request, users_with_role) -> list:
    """The official who created the request, while they may still act for its owner; else the owner's reviewers."""
    author = request.created_by
    if author is not None and author.active and author.roles_over(request.organisation) & REVIEWERS:
        return [author]
    return users_with_role(request.organisation, REVIEWERS)


def _after_submitted(ctx) -> None:
    submission = ctx.obj
    for person in reviewers_of(submission.request, ctx.users_with_role):
        ctx.open_task(kind="review_submission", title=task_title(submission, "review_submission"),
                      assignee=person, due_date=submission.request.deadline)


def _after_done(ctx) -> None:
    """When the last addressee is settled, the request's author is asked to close the request."""
    request = ctx.obj.request
    if request.state == "sent" and all(s.state in DONE_STATES for s in request.submissions):
        for person in reviewers_of(request, ctx.users_with_role):
            tasks.open_task(request, kind="close_request", assignee=person, due_date=request.deadline,
                            title=f"Закрыть запрос сведений «{request.title}»: все адресаты ответили")


AFTER = {"pending": _after_open, "returned": _after_open, "submitted": _after_submitted,
         "accepted": _after_done, "not_provided": _after_done}

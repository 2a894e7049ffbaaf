"""One addressee's copy of an addressed recommendation (адресная рекомендация).

draft → issued (dispatch: the head of the authority issues every item of a recommendation at once, each with its
addressee's registered letter carrying it — the letter's outgoing number and date are the proof of sending)
issued → acknowledged (acknowledge: the addressee's director signs off «ознакомлен» with the password re-entered)
acknowledged → in_progress (start: the school states its actions and dates)
in_progress | returned → reported (report: the school describes the execution and attaches evidence)
reported → accepted (accept, by the official) | returned (return, with a mandatory comment)

The issuer is the nearest head (director) of the recommendation's owner and reviewers act for the owner;
the addressee's people act over the addressee. The service re-checks the director's password. Separation of
duties: whoever reported the execution does not accept or return the report.
The action plan (start) and the report text (report) come as the transition's data.
"""

from app.auth.roles import APPROVERS, CYCLE_MANAGERS
from app.core.timeutil import utcnow
from workflows import hooks
from workflows.permissions import acted_by, has_role

NAME = "recommendation_item"
OBJECT_TYPE = "recommendation_item"
INITIAL = "draft"
STATE_LABELS = {
    "draft": "черновик",
    "issued": "направлена, ожидает ознакомления",
    "acknowledged": "ознакомлен",
    "in_progress": "исполняется",
    "reported": "отчёт на проверке",
    "accepted": "исполнение принято",
    "returned": "отчёт возвращён на доработку",
}
STATES = STATE_LABELS  # the machine's states, in order (the name older code imports)
STATE_STYLES = {"draft": "secondary", "issued": "info", "acknowledged": "primary", "in_progress": "primary",
                "reported": "warning", "accepted": "success", "returned": "danger"}
ISSUERS = APPROVERS
SIGNERS = frozenset({"director"})
EXECUTORS = frozenset({"director", "staff"})
REVIEWERS = CYCLE_MANAGERS


def _owner(item):
    return item.recommendation.organisation


ISSUE = has_role(ISSUERS, over=_owner, nearest=True, describe="руководитель органа, составившего рекомендацию")
REVIEW = has_role(REVIEWERS, over=_owner, describe="специалист или руководитель органа, направившего рекомендацию")
REVIEW_DENIED = ("Принимать и возвращать отчёты может специалист или руководитель органа, направившего "
                 "рекомендацию.")
# The school still owes something: counted as overdue once the due date has passed.
OWED_STATES = ("issued", "acknowledged", "in_progress", "returned")
EVIDENCE_KIND = "evidence"


# --- guards ---

def has_report(item, data) -> list[str]:
    text = data.get("report") or item.report
    return [] if (text or "").strip() else ["Опишите, что сделано во исполнение рекомендации."]


def has_evidence(item) -> list[str]:
    if hooks.attachments_of(item, kind=EVIDENCE_KIND):
        return []
    return ["Прикрепите подтверждение исполнения (приказ, протокол, план, отчёт)."]


def letter_registered(item, _data) -> list[str]:
    return hooks.addressee_letter(item)


def has_action_plan(item, data) -> list[str]:
    text = data.get("action_plan")
    return [] if (text or "").strip() else ["Укажите планируемые действия и сроки их выполнения."]


def reporter(item) -> set[int]:
    """Who reported on the execution, and whom they stood in for when they did."""
    return ({item.reported_by_id} - {None}) | acted_by(item, ("report",))


SEPARATION_OF_DUTIES = [
    {"triggers": {"accept", "return"}, "excluded": reporter,
     "reason": "Принять или вернуть отчёт не может тот, кто его представил (разделение обязанностей)."},
]

TRANSITIONS = [
    {"trigger": "dispatch", "source": "draft", "dest": "issued", "label": "Направить адресату", "allowed": ISSUE,
     "denied": "Направить рекомендацию адресатам может руководитель органа управления, составившего её.",
     "guards": [letter_registered]},
    {"trigger": "acknowledge", "source": "issued", "dest": "acknowledged", "label": "Ознакомлен",
     "allowed": has_role(SIGNERS, nearest=True), "style": "success",
     "denied": "Подтвердить ознакомление может только руководитель организации-адресата (или его заместитель на "
               "время отсутствия)."},
    {"trigger": "start", "source": "acknowledged", "dest": "in_progress", "label": "Приступить к исполнению",
     "allowed": has_role(EXECUTORS), "guards": [has_action_plan]},
    {"trigger": "report", "source": ["in_progress", "returned"], "dest": "reported",
     "label": "Отчитаться об исполнении", "allowed": has_role(EXECUTORS), "guards": [has_report, has_evidence],
     "denied": "Отчитаться может руководитель или сотрудник организации-адресата."},
    {"trigger": "accept", "source": "reported", "dest": "accepted", "label": "Принять исполнение",
     "allowed": REVIEW, "denied": REVIEW_DENIED, "style": "success"},
    {"trigger": "return", "source": "reported", "dest": "returned", "label": "Вернуть на доработку",
     "allowed": REVIEW, "denied": REVIEW_DENIED, "requires_comment": True, "style": "warning"},
]


# --- effects ---


def _enter_issued(ctx) -> None:
    ctx.obj.issued_at = utcnow()


def _enter_acknowledged(ctx) -> None:
    ctx.obj.acknowledged_at = utcnow()
    ctx.obj.acknowledged_by_id = ctx.actor.id


def _enter_in_progress(ctx) -> None:
    ctx.obj.action_plan = ctx.data["action_plan"].strip()
    ctx.obj.planned_completion = ctx.data.get("planned_completion")


def _enter_reported(ctx) -> None:
    item = ctx.obj
    text = ctx.data.get("report")
    if text:
        item.report = text.strip()
    item.reported_at = utcnow()
    item.reported_by_id = ctx.actor.id


def _enter_accepted(ctx) -> None:
    ctx.obj.accepted_at = utcnow()
    ctx.obj.accepted_by_id = ctx.actor.id


def _enter_returned(ctx) -> None:
    ctx.obj.return_comment = ctx.comment


ON_ENTER = {"issued": _enter_issued, "acknowledged": _enter_acknowledged, "in_progress": _enter_in_progress,
            "reported": _enter_reported, "accepted": _enter_accepted, "returned": _enter_returned}


TASK_KINDS = {
    "acknowledge_recommendation": "Ознакомиться с рекомендацией",
    "execute_recommendation": "Исполнить рекомендацию и отчитаться",
    "rework_recommendation": "Доработать отчёт по рекомендации",
    "review_recommendation": "Проверить отчёт по рекомендации",
}
TASK_LINKS = {"recommendation_item": ("followup.item_detail", "rec_item_id")}


def task_title(item, kind: str) -> str:
    rec = item.recommendation
    if kind == "review_recommendation":
        return f"Проверить отчёт: {item.organisation.display_name} — «{rec.title}»"
    # No «(срок …)»: the deadline is the task's due date, which task lists show beside the title and which follows
    # the deadline when it moves (the title repeated it, and kept the old date).
    return f"{TASK_KINDS[kind]}: «{rec.title}»"


def reviewers_of(rec, users_with_role) -> list:
    """The official who wrote the recommendation while they may still act for its owner, else the owner's officials."""
    author = rec.created_by
    if author is not None and author.active and author.roles_over(rec.organisation) & REVIEWERS:
        return [author]
    return users_with_role(rec.organisation, {"official"}) or users_with_role(rec.organisation, REVIEWERS)


def _open_for_directors(ctx, kind: str) -> None:
    item = ctx.obj
    for person in ctx.users_with_role(item.organisation, SIGNERS):
        ctx.open_task(kind=kind, title=task_title(item, kind), assignee=person, due_date=item.due_date)


def _after_issued(ctx) -> None:
    _open_for_directors(ctx, "acknowledge_recommendation")


def _after_executing(ctx) -> None:
    _open_for_directors(ctx, "execute_recommendation")


def _after_returned(ctx) -> None:
    _open_for_directors(ctx, "rework_recommendation")


def _after_reported(ctx) -> None:
    item = ctx.obj
    for person in reviewers_of(item.recommendation, ctx.users_with_role):
        ctx.open_task(kind="review_recommendation", title=task_title(item, "review_recommendation"),
                      assignee=person, due_date=item.due_date)


AFTER = {"issued": _after_issued, "acknowledged": _after_executing, "in_progress": _after_executing,
         "returned": _after_returned, "reported": _after_reported}

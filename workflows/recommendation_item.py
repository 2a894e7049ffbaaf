"""One addressee's copy of an addressed recommendation (адресная рекомендация).

draft → issued (dispatch: the head of the authority issues every item of a recommendation at once)
issued → acknowledged (acknowledge: the addressee's director signs off «ознакомлен» with the password re-entered)
acknowledged → in_progress (start: the school states its actions and dates)
in_progress | returned → reported (report: the school describes the execution and attaches evidence)
reported → accepted (accept, by the official) | returned (return, with a mandatory comment)

The engine checks roles over the addressee organisation; app/followup/services.py also checks that the
reviewer acts for the recommendation's owner and re-checks the director's password.
"""

from datetime import datetime, timezone

NAME = "recommendation_item"
OBJECT_TYPE = "recommendation_item"
INITIAL = "draft"
STATES = {
    "draft": "черновик",
    "issued": "направлена, ожидает ознакомления",
    "acknowledged": "ознакомлен",
    "in_progress": "исполняется",
    "reported": "отчёт на проверке",
    "accepted": "исполнение принято",
    "returned": "отчёт возвращён на доработку",
}
# The service checks that the issuer is the nearest head (director) of the recommendation's owner and that a
# reviewer acts for the owner; the roles here are checked over the addressee.
ISSUERS = frozenset({"head", "director"})
SIGNERS = frozenset({"director"})
EXECUTORS = frozenset({"director", "staff"})
REVIEWERS = frozenset({"official", "head", "director"})
# The school still owes something: counted as overdue once the due date has passed.
OWED_STATES = ("issued", "acknowledged", "in_progress", "returned")
EVIDENCE_KIND = "evidence"


# --- guards ---

def has_report(item) -> list[str]:
    text = getattr(item, "pending_report", None) or item.report
    return [] if (text or "").strip() else ["Опишите, что сделано во исполнение рекомендации."]


def has_evidence(item) -> list[str]:
    from app.documents.attachments import attachments_of

    if attachments_of(item, kind=EVIDENCE_KIND):
        return []
    return ["Прикрепите подтверждение исполнения (приказ, протокол, план, отчёт)."]


def has_action_plan(item) -> list[str]:
    text = getattr(item, "pending_plan", None)
    return [] if (text or "").strip() else ["Укажите планируемые действия и сроки их выполнения."]


TRANSITIONS = [
    {"trigger": "dispatch", "source": "draft", "dest": "issued", "label": "Направить адресату", "roles": ISSUERS},
    {"trigger": "acknowledge", "source": "issued", "dest": "acknowledged", "label": "Ознакомлен",
     "roles": SIGNERS, "nearest_only": True, "style": "success"},
    {"trigger": "start", "source": "acknowledged", "dest": "in_progress", "label": "Приступить к исполнению",
     "roles": EXECUTORS, "guards": [has_action_plan]},
    {"trigger": "report", "source": ["in_progress", "returned"], "dest": "reported",
     "label": "Отчитаться об исполнении", "roles": EXECUTORS, "guards": [has_report, has_evidence]},
    {"trigger": "accept", "source": "reported", "dest": "accepted", "label": "Принять исполнение",
     "roles": REVIEWERS, "style": "success"},
    {"trigger": "return", "source": "reported", "dest": "returned", "label": "Вернуть на доработку",
     "roles": REVIEWERS, "requires_comment": True, "style": "warning"},
]


# --- effects ---

def _now() -> datetime:
    return datetime.now(timezone.utc)


def _enter_issued(ctx) -> None:
    ctx.obj.issued_at = _now()


def _enter_acknowledged(ctx) -> None:
    ctx.obj.acknowledged_at = _now()
    ctx.obj.acknowledged_by_id = ctx.actor.id


def _enter_in_progress(ctx) -> None:
    ctx.obj.action_plan = ctx.obj.pending_plan.strip()
    ctx.obj.planned_completion = getattr(ctx.obj, "pending_completion", None)


def _enter_reported(ctx) -> None:
    item = ctx.obj
    text = getattr(item, "pending_report", None)
    if text:
        item.report = text.strip()
    item.reported_at = _now()
    item.reported_by_id = ctx.actor.id


def _enter_accepted(ctx) -> None:
    ctx.obj.accepted_at = _now()
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
    return f"{TASK_KINDS[kind]}: «{rec.title}» (срок {item.due_date:%d.%m.%Y})"


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

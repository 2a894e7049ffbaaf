"""Self-assessment of one municipality for one mechanism (самооценка), by the campaign's municipal coordinator.

draft → submitted (submit: the coordinator; every criterion scored; within the window)
submitted → returned (return: the assigned expert, with a mandatory comment) → submitted (resubmit: the coordinator)
"""

from app.core.timeutil import utcnow
from app.orgs.services import org_today
from workflows.permissions import is_person

NAME = "self_assessment"
OBJECT_TYPE = "self_assessment"
INITIAL = "draft"
STATE_LABELS = {"draft": "заполняется", "submitted": "представлена", "returned": "возвращена на доработку"}
STATES = STATE_LABELS
STATE_STYLES = {"draft": "secondary", "submitted": "primary", "returned": "warning"}
COORDINATOR = is_person("coordinator_id", describe="муниципальный координатор")
EXPERT = is_person("expert_user_id", describe="назначенный эксперт")
TASK_KINDS = {"self_assess": "Провести самооценку механизма", "revise_self_assessment": "Доработать самооценку"}
TASK_LINKS = {"self_assessment": ("assessment.self_assessment", "self_assessment_id")}


def within_window(obj, data) -> list[str]:
    """Scores are sent only while the campaign's window is open (or extended)."""
    campaign = obj.campaign
    today = data.get("today") or org_today(campaign.organisation)
    if campaign.state != "published":
        return ["Кампания не идёт: оценка не принимается."]
    if today > campaign.window_closes:
        return [f"Срок оценки истёк {campaign.window_closes:%d.%m.%Y}; продлить его может региональный специалист."]
    if today < campaign.window_start:
        return [f"Оценка начинается {campaign.window_start:%d.%m.%Y}."]
    return []


def all_scored(obj, data) -> list[str]:
    # `unscored`: the criteria's numbers («1.2»), as the sheet shows them (app.assessment.services). One message
    # naming them all: a message per criterion put twenty-odd red boxes over an empty sheet, the sheet off the screen.
    missing = data.get("unscored") or []
    if len(missing) == 1:
        return [f"Не выставлен балл по критерию {missing[0]}."]
    return [f"Не выставлены баллы по критериям: {', '.join(missing)}."] if missing else []


TRANSITIONS = [
    {"trigger": "submit", "source": "draft", "dest": "submitted", "label": "Представить самооценку",
     "allowed": COORDINATOR, "guards": [within_window, all_scored], "style": "success",
     "denied": "Представить самооценку может только муниципальный координатор кампании."},
    {"trigger": "return", "source": "submitted", "dest": "returned", "label": "Вернуть на доработку",
     "allowed": EXPERT, "requires_comment": True, "guards": [within_window], "style": "warning",
     "denied": "Вернуть самооценку может только эксперт, назначенный на этот механизм."},
    {"trigger": "resubmit", "source": "returned", "dest": "submitted", "label": "Представить повторно",
     "allowed": COORDINATOR, "guards": [within_window, all_scored], "style": "success",
     "denied": "Представить самооценку может только муниципальный координатор кампании."},
]


def _enter_submitted(ctx) -> None:
    ctx.obj.submitted_at = utcnow()
    ctx.obj.return_comment = None


def _enter_returned(ctx) -> None:
    ctx.obj.return_comment = ctx.comment


ON_ENTER = {"submitted": _enter_submitted, "returned": _enter_returned}


def task_title(obj, verb: str) -> str:
    """A task about a self-assessment or an expert evaluation: what to do, in which campaign. Not the mechanism nor
    the municipality: the task lists show them in their own columns (and reminders beside the title), and the
    title said each of them a second time on every row."""
    return f"{verb}: «{obj.campaign.title}»"


def _after_draft(ctx) -> None:
    obj = ctx.obj
    if obj.coordinator is not None:
        ctx.open_task(kind="self_assess", assignee=obj.coordinator, due_date=obj.campaign.window_closes,
                      title=task_title(obj, "Самооценка механизма"))


def _after_returned(ctx) -> None:
    obj = ctx.obj
    if obj.coordinator is not None:
        ctx.open_task(kind="revise_self_assessment", assignee=obj.coordinator, due_date=obj.campaign.window_closes,
                      title=task_title(obj, "Доработать самооценку"))


AFTER = {"draft": _after_draft, "returned": _after_returned}

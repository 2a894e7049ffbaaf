"""A criteria set version of the assessment of municipal mechanisms: edited as a draft, then published by the
region's administrator. A published version is frozen (campaigns keep the version they were created with)."""

from app.core.timeutil import utcnow
from workflows.permissions import has_role

NAME = "criteria_set"
OBJECT_TYPE = "criteria_set"
INITIAL = "draft"
STATE_LABELS = {"draft": "проект", "published": "опубликован"}
STATES = STATE_LABELS
STATE_STYLES = {"draft": "secondary", "published": "success"}


def has_criteria(criteria_set) -> list[str]:
    return [] if criteria_set.criteria else ["В наборе нет ни одного критерия."]


TRANSITIONS = [
    {"trigger": "publish", "source": "draft", "dest": "published", "label": "Опубликовать версию",
     "allowed": has_role({"admin"}, describe="администратор региона"), "guards": [has_criteria], "style": "success",
     "denied": "Опубликовать версию критериев может администратор региона."},
]


def _enter_published(ctx) -> None:
    ctx.obj.published_at = utcnow()


ON_ENTER = {"published": _enter_published}

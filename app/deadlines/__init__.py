"""Deadlines (сроки): notifications, reminders and escalation, stand-ins (заместители), calendar and iCal feed."""

from flask import Blueprint

bp = Blueprint("deadlines", __name__, template_folder="templates")

# Below the blueprint: the modules that register routes on it, and what the descriptor names.
from flask_login import current_user  # noqa: E402

from app.core.features import AuditVocabulary, Feature, Mount, NavEntry  # noqa: E402
from app.deadlines import demo, labels, models, views  # noqa: E402, F401
from app.deadlines.cli import reminders_cli  # noqa: E402
from app.deadlines.services import unread_count  # noqa: E402


@bp.app_template_global()
def unread_notifications() -> int:
    """The signed-in user's unread notifications, for the bell in the navigation bar."""
    return unread_count(current_user) if current_user.is_authenticated else 0


FEATURE = Feature(
    name="deadlines", order=40, blueprints=(Mount(bp, "/deadlines"),), cli=(reminders_cli,),
    audit=AuditVocabulary.of(labels), demo=demo.STAGE_FILLERS, access_cases="tests.access_cases.deadlines",
    navigation=(NavEntry(20, "Уведомления", "deadlines.notifications", partial="deadlines/_nav_bell.html"),
                NavEntry(20, "Календарь", "deadlines.calendar_page", group="Работа"),
                NavEntry(40, "Заместители", "deadlines.standin_list", group="Работа")),
)

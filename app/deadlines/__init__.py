"""Deadlines (сроки): notifications, reminders and escalation, stand-ins (заместители), calendar and iCal feed."""

from flask import Blueprint

bp = Blueprint("deadlines", __name__, template_folder="templates")


@bp.app_template_global()
def unread_notifications() -> int:
    """The signed-in user's unread notifications, for the bell in the navigation bar."""
    from flask_login import current_user

    from app.deadlines.services import unread_count

    return unread_count(current_user) if current_user.is_authenticated else 0


from app.deadlines import models, views  # noqa: E402,F401

"""Shared helpers of the deadlines feature: users' time zones and days, and the notification inbox."""

from datetime import date, datetime

from sqlalchemy import func, select, update

from app.core.timeutil import utcnow
from app.deadlines.models import Notification
from app.extensions import db
from app.orgs.services import org_time_zone
from zoneinfo import ZoneInfo


def user_time_zone_of(user) -> str:
    return org_time_zone(user.home_organisation)


def local_date(moment: datetime, tz_name: str) -> date:
    """The calendar day `moment` (aware, any zone) falls on in `tz_name`."""
    return moment.astimezone(ZoneInfo(tz_name)).date()


def user_today_of(user, now: datetime | None = None) -> date:
    return local_date(now or utcnow(), user_time_zone_of(user))


# --- notifications inbox ---------------------------------------------------------------------

def unread_count(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def notifications_of(user, *, limit: int = 200) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.read_at.is_not(None), Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)))


def own_notification(user, notification_id: int) -> Notification | None:
    """The user's own notification; anyone else's is not found, whatever roles the user holds."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        return None
    return notification


def mark_read(notification: Notification) -> bool:
    """Mark as read; False when it already was. Notifications are the reader's own: not audited."""
    if notification.read_at is not None:
        return False
    notification.read_at = utcnow()
    db.session.flush()
    return True


def mark_all_read(user) -> int:
    result = db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(read_at=utcnow()))
    return result.rowcount or 0

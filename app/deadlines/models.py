"""Deadlines: notifications, the record of reminders sent, stand-ins (заместители) and calendar feed secrets."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.db import Audited
from app.core.timeutil import utcnow
from app.extensions import db

NOTIFICATION_KINDS = {
    "reminder": "Напоминание о сроке",
    "overdue": "Срок истёк",
    "escalation": "Эскалация просрочки",
    "standin": "Заместительство",
}
REMINDER_KINDS = ("before", "overdue", "escalation")


class Notification(db.Model):
    """Уведомление: shown in the app, and e-mailed once after the transaction that created it commits."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "read_at"),
        CheckConstraint("kind IN ('reminder','overdue','escalation','standin')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    # A path inside the application ("/tasks/17"); e-mails prefix it with APP_BASE_URL.
    link: Mapped[str | None] = mapped_column(String(500))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None]
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"), index=True)
    # Set on the deputy's copy of a notification addressed to the person they stand in for.
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    on_behalf_of: Mapped[User | None] = relationship(foreign_keys=[on_behalf_of_id])

    @property
    def kind_label(self) -> str:
        return NOTIFICATION_KINDS.get(self.kind, self.kind)


class ReminderSent(db.Model):
    """One row per reminder ever sent. The unique key makes a reminder impossible to send twice: two
    concurrent runs (double scheduling, a restart mid-run) both try to insert it, and only one succeeds;
    the notifications are written in the same transaction as this row."""

    __tablename__ = "reminders_sent"
    __table_args__ = (
        UniqueConstraint("task_id", "kind", "due_date"),
        CheckConstraint("kind IN ('before','overdue','escalation')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    # The due date the reminder was about: a deadline moved later earns fresh reminders.
    due_date: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    recipients: Mapped[int] = mapped_column(default=0)


class StandIn(Audited, db.Model):
    """Заместитель: during [start_date, end_date] the deputy sees the absent person's tasks and may act for them."""

    __tablename__ = "stand_ins"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="period"),
        CheckConstraint("absent_id <> deputy_id", name="not_self"),
        CheckConstraint("(revoked_at IS NULL) = (revoked_by_id IS NULL)", name="revoked_by_iff_revoked"),
        Index("ix_stand_ins_absent_period", "absent_id", "start_date", "end_date"),
        Index("ix_stand_ins_deputy_period", "deputy_id", "start_date", "end_date"),
    )
    audit_type = "stand_in"
    audit_fields = ("absent_id", "deputy_id", "start_date", "end_date", "reason", "revoked_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    absent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    deputy_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(300), default="")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    absent: Mapped[User] = relationship(foreign_keys=[absent_id])
    deputy: Mapped[User] = relationship(foreign_keys=[deputy_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    organisation = relationship("Organisation")

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def covers(self, day: date) -> bool:
        return self.revoked_at is None and self.start_date <= day <= self.end_date


class CalendarFeed(db.Model):
    """A personal iCalendar link. Only the SHA-256 of its secret is kept; regenerating revokes the old one."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.timeutil import utcnow
from app.extensions import db
from app.orgs.models import Organisation


class Task(db.Model):
    """Задача: an action someone owes, opened and closed by the workflow engine, never by hand."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_assignee_state_due", "assignee_id", "state", "due_date"),
        Index("ix_tasks_object", "object_type", "object_id", "state"),
        CheckConstraint("state IN ('open','closed')", name="state"),
        CheckConstraint("(state = 'closed') = (closed_at IS NOT NULL)", name="closed_at_iff_closed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(500))
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    mechanism_code: Mapped[str | None] = mapped_column(String(20), index=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    due_date: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    assignee: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()

    @property
    def kind_label(self) -> str:
        return TASK_KINDS.get(self.kind, self.kind)


# Task kind → Russian label, and object type → (endpoint, URL argument) of the page a task opens: declared by
# the workflows (TASK_KINDS, TASK_LINKS) and filled in at start-up (app/workflow_hooks.py), so this lower
# layer never imports the engine.
TASK_KINDS: dict[str, str] = {}
TASK_LINKS: dict[str, tuple[str, str]] = {}

"""Reminders and escalation for every open task with a due date.

Every dated item in the system (stage deadlines, data requests, answers, recommendations, measures,
decisions …) opens a Task for its responsible person through its workflow, so this one mechanism covers
them all. For each open task, counted in its organisation's time zone:

- «before»: once, when today is within REMINDER_DAYS_BEFORE days of the due date (the due day included);
- «overdue»: once, on the first run after the due date has passed;
- «escalation»: once, to the holders of 'head'/'director' at the nearest level above the assignee, when the
  task has been overdue for more than ESCALATION_GRACE_DAYS days.

Never twice: each reminder first claims its (task, kind, due date) row in `reminders_sent` with
INSERT … ON CONFLICT DO NOTHING, in the same transaction as its notifications. A second run, a restart, or a
concurrent run (which waits on the first one's uncommitted row, then finds it taken) sends nothing again.
A deadline moved later is a new due date and earns fresh reminders.
"""

import logging
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select, update
from sqlalchemy.orm import selectinload

from app.auth.models import RoleAssignment, User
from app.core.timeutil import format_date, utcnow
from app.deadlines.models import ReminderSent
from app.deadlines.notify import notify
from app.deadlines.services import local_date
from app.orgs.services import org_time_zone
from app.extensions import db
from app.tasks.models import Task
from app.jobs.queue import dispatch_ready

log = logging.getLogger(__name__)
HEAD_ROLES = ("head", "director")
JOB_TIMEOUT = 600


def app_path(endpoint: str, **values) -> str:
    """A path inside the application, built without a request (jobs, the command line)."""
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    return adapter.build(endpoint, values)


def heads_of(task: Task) -> list[User]:
    """Who an overdue task escalates to: active holders of 'head' or 'director' at the nearest level of the
    task's organisation and its ancestors that has any besides the assignee (a school's director for its
    staff, the municipality's head for the director, the official or the head's own superior)."""
    for org_id in reversed(task.organisation.ancestor_ids()):
        users = db.session.scalars(
            select(User).join(RoleAssignment)
            .where(RoleAssignment.organisation_id == org_id, RoleAssignment.role.in_(HEAD_ROLES),
                   User.active.is_(True), User.id != task.assignee_id)
            .order_by(User.id).distinct()).all()
        if users:
            return list(users)
    return []


def _claim(task: Task, kind: str, now: datetime) -> int | None:
    """Insert the (task, kind, due date) row unless it exists; its id when this run is the one to send."""
    if db.session.get_bind().dialect.name == "postgresql":
        # Local: the database in use decides which dialect module is needed.
        from sqlalchemy.dialects.postgresql import insert
    else:
        # Local: the database in use decides which dialect module is needed.
        from sqlalchemy.dialects.sqlite import insert
    statement = (insert(ReminderSent)
                 .values(task_id=task.id, kind=kind, due_date=task.due_date, sent_at=now, recipients=0)
                 .on_conflict_do_nothing(index_elements=["task_id", "kind", "due_date"])
                 .returning(ReminderSent.id))
    return db.session.execute(statement).scalar_one_or_none()


def _days(n: int) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return f"{n} день"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return f"{n} дня"
    return f"{n} дней"


def _send(task: Task, kind: str, today: date) -> int:
    """Write the notifications of one reminder; the number written (deputies' copies included)."""
    due = task.due_date
    link = app_path("tasks.open_task", task_id=task.id)
    where = f"{task.organisation.display_name}" + (f", {task.mechanism_code}" if task.mechanism_code else "")
    if kind == "before":
        left = (due - today).days
        when = "сегодня" if left == 0 else f"через {_days(left)}, {format_date(due)}"
        title = f"Срок задачи «{task.title}» — {when}"
        body = f"{task.kind_label} ({where}). Срок: {format_date(due)}."
        recipients, notice = [task.assignee], "reminder"
    elif kind == "overdue":
        title = f"Просрочена задача «{task.title}» (срок {format_date(due)})"
        body = f"{task.kind_label} ({where}). Срок истёк {format_date(due)}: выполните задачу как можно скорее."
        recipients, notice = [task.assignee], "overdue"
    else:
        late = (today - due).days
        title = f"Просрочка у {task.assignee.short_name}: «{task.title}» (срок {format_date(due)})"
        body = (f"{task.kind_label} ({where}). Ответственный: {task.assignee.full_name}. "
                f"Просрочено на {_days(late)}.")
        recipients, notice = heads_of(task), "escalation"
    made = 0
    for user in recipients:
        if user.active:
            made += len(notify(user, kind=notice, title=title, body=body, link=link, task=task, day=today))
    return made


def due_reminders(task: Task, today: date, *, days_before: int, grace: int) -> list[str]:
    """Which reminders the task is owed on `today` (before any check of what was already sent)."""
    due = task.due_date
    if today > due:
        return ["overdue", "escalation"] if (today - due).days > grace else ["overdue"]
    if (due - today).days <= days_before:
        return ["before"]
    return []


def run_reminders(now: datetime) -> int:
    """Send every reminder owed at `now` that was not sent before; the number of notifications written.
    Runs in the caller's transaction (flushes, never commits): commit to make the claims and notifications
    stick together."""
    cfg = current_app.config
    days_before, grace = cfg["REMINDER_DAYS_BEFORE"], cfg["ESCALATION_GRACE_DAYS"]
    # A day of slack on either side of UTC covers every time zone; the exact day is per organisation.
    horizon = now.date() + timedelta(days=days_before + 1)
    escalated = exists().where(ReminderSent.task_id == Task.id, ReminderSent.kind == "escalation",
                               ReminderSent.due_date == Task.due_date)
    tasks = db.session.scalars(
        select(Task).where(Task.state == "open", Task.due_date.is_not(None), Task.due_date <= horizon, ~escalated)
        # One order for every run, so concurrent runs wait on each other's claims instead of deadlocking.
        .order_by(Task.id)
        .options(selectinload(Task.organisation), selectinload(Task.assignee))).all()
    zones: dict[int, str] = {}
    sent = 0
    for task in tasks:
        if task.organisation_id not in zones:
            zones[task.organisation_id] = org_time_zone(task.organisation)
        today = local_date(now, zones[task.organisation_id])
        for kind in due_reminders(task, today, days_before=days_before, grace=grace):
            claim = _claim(task, kind, now)
            if claim is None:
                continue  # sent before (or by a concurrent run)
            made = _send(task, kind, today)
            db.session.execute(update(ReminderSent).where(ReminderSent.id == claim).values(recipients=made))
            sent += made
    return sent


def reminders_job() -> int:
    """Periodic job (queue `periodic`, see app/jobs/queue.py PERIODIC_JOBS): run the reminders and commit;
    e-mails go out after the commit. Safe to run any number of times."""
    sent = run_reminders(utcnow())
    db.session.commit()
    dispatch_ready()
    log.info("reminders: %d notifications sent", sent)
    return sent

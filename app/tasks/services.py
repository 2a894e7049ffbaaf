"""Tasks are opened and closed by the workflow engine's effects; an edit of an object moves its open tasks
(`reschedule`). Nothing else writes them."""

from datetime import date, timedelta

from sqlalchemy import func, or_, select

from app.core import hooks
from app.core.timeutil import utcnow
from app.extensions import db
from app.tasks.models import Task

DUE_SOON_DAYS = 3


def open_task(obj, *, kind: str, title: str, assignee, due_date: date | None = None) -> Task:
    cycle_id = obj.audit_cycle_id
    cycle = getattr(obj, "cycle", None)
    if cycle is not None:
        mechanism_code = cycle.track.mechanism.code
    else:
        # An object outside any cycle may still be about one mechanism (an assessment's self-assessment or expert
        # evaluation, letter 08-70): without this its task showed an empty «Механизм» cell and escaped the filter.
        mechanism_code = getattr(obj, "mechanism_code", None)
    task = Task(kind=kind, title=title[:500], assignee_id=assignee.id, organisation_id=obj.organisation.id,
                mechanism_code=mechanism_code, cycle_id=cycle_id, object_type=obj.audit_type,
                object_id=obj.id, due_date=due_date)
    db.session.add(task)
    return task


def close_tasks_for(obj) -> int:
    """Close every open task about `obj`: the action it asked for has been done (or is moot)."""
    # Few tasks per object; going through the ORM keeps already-loaded Task rows consistent.
    tasks = db.session.scalars(select(Task).where(
        Task.object_type == obj.audit_type, Task.object_id == obj.id, Task.state == "open")).all()
    now = utcnow()
    for task in tasks:
        task.state = "closed"
        task.closed_at = now
    return len(tasks)


def close_tasks_for_all(objects) -> int:
    """close_tasks_for over many objects in one statement per kind of object (a region's campaign closes hundreds
    of sheets at once)."""
    ids: dict[str, list[int]] = {}
    for obj in objects:
        ids.setdefault(obj.audit_type, []).append(obj.id)
    if not ids:
        return 0
    tasks = db.session.scalars(select(Task).where(Task.state == "open", or_(
        *[(Task.object_type == kind) & Task.object_id.in_(values) for kind, values in ids.items()]))).all()
    now = utcnow()
    for task in tasks:
        task.state = "closed"
        task.closed_at = now
    return len(tasks)


def reschedule(obj, *, due_date: date | None, title: str | None = None, assignee=None,
               kind: str | None = None) -> int:
    """Move the open tasks about `obj` (of `kind`, when given) to a new due date, and title or assignee: what an
    edit of the object changes about what is owed. No audit event of its own — the edit's event is the record
    (one user action, one event). Returns how many tasks moved."""
    query = select(Task).where(Task.object_type == obj.audit_type, Task.object_id == obj.id, Task.state == "open")
    if kind is not None:
        query = query.where(Task.kind == kind)
    moved = db.session.scalars(query).all()
    for task in moved:
        task.due_date = due_date
        if title is not None:
            task.title = title[:500]
        if assignee is not None:
            task.assignee_id = assignee.id
    return len(moved)


def inbox_query(user, *, today: date, mechanism_code: str | None = None, organisation_id: int | None = None,
                include_closed: bool = False):
    """«Мои задачи»: the user's tasks, earliest due first, tasks without a deadline last.

    A deputy (заместитель) also gets the tasks of the people they stand in for on `today`; such a task's
    assignee is not the user, which is how the inbox marks it «за …»."""
    assignees = [user.id, *(p.id for p in hooks.covered_people(user, today))]
    query = select(Task).where(Task.assignee_id.in_(assignees))
    if not include_closed:
        query = query.where(Task.state == "open")
    if mechanism_code:
        query = query.where(Task.mechanism_code == mechanism_code)
    if organisation_id:
        query = query.where(Task.organisation_id == organisation_id)
    return query.order_by(Task.due_date.is_(None), Task.due_date, Task.id)


def inbox_counts(user, *, today: date) -> tuple[int, int]:
    """(open tasks, of them overdue) in the user's inbox: the home page shows only the first few."""
    inbox = inbox_query(user, today=today).order_by(None).subquery()
    total, overdue = db.session.execute(
        select(func.count(), func.count().filter(inbox.c.due_date < today)).select_from(inbox)).one()
    return total, overdue


def urgency(task: Task, today: date) -> str | None:
    """'overdue', 'soon' (due within three days) or None, for marking rows in the inbox."""
    if task.state != "open" or task.due_date is None:
        return None
    if task.due_date < today:
        return "overdue"
    if task.due_date <= today + timedelta(days=DUE_SOON_DAYS):
        return "soon"
    return None

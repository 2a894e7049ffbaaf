"""Calendar of deadlines in a user's scope: their own tasks (and those of people they stand in for), and
the dated items of the organisations in their subtree — stage deadlines, data request deadlines and the due
dates of open tasks (which every dated item of the other features opens for its responsible person)."""

import calendar as pycalendar
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.core.access import scope_condition
from app.cycles.models import Cycle, Stage
from app.deadlines.reminders import app_path
from app.deadlines.cover import absent_people_covered_by
from app.extensions import db
from app.monitoring.models import DataRequest
from app.orgs.models import Organisation
from app.tasks.models import Task

MAX_ITEMS = 2000
WEEKDAYS = ["Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"]
MONTHS = ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
          "ноябрь", "декабрь"]


@dataclass(frozen=True)
class CalendarItem:
    uid: str  # stable per item: the iCalendar UID
    day: date
    kind: str  # 'task' | 'stage' | 'data_request'
    kind_label: str
    title: str
    organisation: str
    link: str  # a path inside the application
    done: bool
    overdue: bool
    mine: bool  # the user's own task (or that of someone they stand in for)
    on_behalf_of: str | None = None

    @property
    def css(self) -> str:
        return "overdue" if self.overdue else ("done" if self.done else ("mine" if self.mine else "other"))


def _mechanism_beside(task: Task) -> str:
    """«, M1.1» after a task's organisation where its title does not name the mechanism (an assessment's tasks leave
    it to the lists' own column): a municipality's eight evaluations were eight alike entries of a day."""
    code = task.mechanism_code
    return f", {code}" if code and code not in task.title else ""


def calendar_items(user, start: date, end: date, *, today: date, own_only: bool = False) -> list[CalendarItem]:
    """Everything dated from `start` to `end` (inclusive) that `user` may see, ordered by day; with `own_only`,
    only the user's own items (`CalendarItem.mine`), chosen by the queries themselves so that the subtree's many
    items never crowd them out of MAX_ITEMS."""
    items: list[CalendarItem] = []
    covered = {p.id: p for p in absent_people_covered_by(user, today)}
    assignees = [user.id, *covered]

    tasks = db.session.scalars(
        select(Task).join(Organisation, Organisation.id == Task.organisation_id)
        .where(Task.state == "open", Task.due_date.between(start, end),
               Task.assignee_id.in_(assignees) if own_only
               else or_(Task.assignee_id.in_(assignees), scope_condition(Organisation.path, user)))
        .options(selectinload(Task.organisation), selectinload(Task.assignee))
        .order_by(Task.due_date, Task.id).limit(MAX_ITEMS)).all()
    for t in tasks:
        mine = t.assignee_id in assignees
        who = "" if t.assignee_id == user.id else f" — {t.assignee.short_name}"
        items.append(CalendarItem(
            uid=f"task-{t.id}", day=t.due_date, kind="task", kind_label=t.kind_label, title=t.title + who,
            organisation=t.organisation.display_name + _mechanism_beside(t),
            link=app_path("tasks.open_task", task_id=t.id), done=False,
            overdue=t.due_date < today, mine=mine,
            on_behalf_of=covered[t.assignee_id].short_name if t.assignee_id in covered else None))

    stages = db.session.scalars(
        select(Stage).join(Cycle, Cycle.id == Stage.cycle_id).join(Organisation, Organisation.id == Cycle.owner_id)
        .where(Stage.deadline.between(start, end), scope_condition(Organisation.path, user),
               *([Stage.responsible_id.in_(assignees)] if own_only else []))
        .options(selectinload(Stage.cycle).selectinload(Cycle.owner))
        .order_by(Stage.deadline, Stage.id).limit(MAX_ITEMS)).all()
    for s in stages:
        done = s.state == "approved"
        items.append(CalendarItem(
            uid=f"stage-{s.id}", day=s.deadline, kind="stage", kind_label="Срок этапа цикла",
            title=f"{s.title} — {s.cycle.short_title}", organisation=s.cycle.owner.display_name,
            link=app_path("cycles.stage_detail", stage_id=s.id), done=done,
            overdue=not done and s.deadline < today, mine=s.responsible_id in assignees))

    requests = db.session.scalars(
        select(DataRequest).join(Cycle, Cycle.id == DataRequest.cycle_id)
        .join(Organisation, Organisation.id == Cycle.owner_id)
        .where(DataRequest.deadline.between(start, end), DataRequest.state != "draft",
               scope_condition(Organisation.path, user),
               *([DataRequest.created_by_id.in_(assignees)] if own_only else []))
        .options(selectinload(DataRequest.cycle).selectinload(Cycle.owner))
        .order_by(DataRequest.deadline, DataRequest.id).limit(MAX_ITEMS)).all()
    for r in requests:
        done = r.state == "closed"
        items.append(CalendarItem(
            uid=f"data_request-{r.id}", day=r.deadline, kind="data_request", kind_label="Срок запроса сведений",
            title=f"{r.title} — {r.cycle.short_title}", organisation=r.cycle.owner.display_name,
            link=app_path("monitoring.request_detail", request_id=r.id), done=done,
            overdue=not done and r.deadline < today, mine=r.created_by_id in assignees))
    items.sort(key=lambda i: (i.day, not i.overdue, i.kind, i.title))
    return items


# --- grids -------------------------------------------------------------------------------------

def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, pycalendar.monthrange(year, month)[1])


def month_grid(year: int, month: int) -> list[list[date]]:
    """Weeks (Monday first) covering the month, with the neighbouring months' days filling the edges."""
    return pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


# Items a day's cell of the month shows; the rest are behind a link to the day's week.
MONTH_CELL_LIMIT = 4


def month_cell(items: list[CalendarItem], limit: int = MONTH_CELL_LIMIT) -> tuple[list[CalendarItem], int]:
    """(the items a busy day's cell of the month shows, how many more its week has): what still needs doing first —
    overdue, then the user's own, then the others —, what is done last (a deadline met took one of the few places)."""
    ordered = sorted(items, key=lambda i: (i.done, not i.overdue, not i.mine))
    return ordered[:limit], max(0, len(ordered) - limit)


def by_day(items: list[CalendarItem]) -> dict[date, list[CalendarItem]]:
    grouped: dict[date, list[CalendarItem]] = {}
    for item in items:
        grouped.setdefault(item.day, []).append(item)
    return grouped


def month_title(year: int, month: int) -> str:
    return f"{MONTHS[month - 1].capitalize()} {year}"

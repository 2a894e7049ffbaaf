"""Shared pytest fixtures of the deadlines feature (loaded through pytest_plugins in conftest)."""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

DUE = date(2026, 12, 10)  # a fixed due date: reminders are computed against a fixed `now`


def at(day: date, hour: int = 9, minute: int = 0, tz: str = "Europe/Moscow") -> datetime:
    """An aware moment: `day` at hour:minute in time zone `tz`, as UTC (what the job gets as `now`)."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def open_task_of(obj, assignee):
    from app.extensions import db
    from app.tasks.models import Task

    return db.session.scalar(select(Task).where(Task.object_type == obj.audit_type, Task.object_id == obj.id,
                                                Task.assignee_id == assignee.id, Task.state == "open"))


def notifications_for(user, kind=None):
    from app.deadlines.models import Notification
    from app.extensions import db

    query = select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query.order_by(Notification.id)))


def count(model) -> int:
    from app.extensions import db

    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def dated_task_factory(world, make_cycle, db_session):
    """make(owner, responsible, due, mechanism) → the fill task the engine opened for the cycle's first stage."""
    from app.cycles.models import Cycle
    from app.tasks.models import Task

    def make(owner=None, responsible=None, due=DUE, mechanism="M1.1"):
        owner = owner or world["mun"]
        responsible = responsible or world["official"]
        cycle = make_cycle(owner, responsible, mechanism=mechanism, responsible=responsible,
                           deadlines={"GOAL": due})
        db_session.commit()
        assert isinstance(cycle, Cycle)
        task = open_task_of(cycle.stage("GOAL"), responsible)
        assert isinstance(task, Task) and task.due_date == due
        return task
    return make


@pytest.fixture
def official_task(dated_task_factory):
    """The municipal official's task «Заполнить этап …», due on DUE (municipality: Europe/Moscow by default)."""
    return dated_task_factory()


@pytest.fixture
def deputy_of_head(world, make_user, db_session):
    """A deputy head (заместитель начальника) of the municipality: holds the official role only."""
    return make_user("official", world["mun"], login="deputy_head", full_name="Заместова Анна Сергеевна")


@pytest.fixture
def head_on_leave(world, deputy_of_head, db_session):
    """The head is on leave from yesterday to a week ahead, with the deputy standing in."""
    from app.deadlines.standins import create_stand_in

    today = date.today()
    stand_in = create_stand_in(absent=world["head"], deputy=deputy_of_head, start=today - timedelta(days=1),
                               end=today + timedelta(days=7), reason="ежегодный отпуск", actor=world["head"],
                               today=today)
    db_session.commit()
    return stand_in

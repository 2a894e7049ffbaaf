"""«Мои задачи»: sorted by due date, overdue and due-soon marked, filters, tasks closing by themselves."""

from datetime import date, timedelta

from sqlalchemy import select

from app.cycles.services import update_stage_settings
from app.tasks.models import Task
from app.tasks.services import inbox_query, urgency
from tests.conftest import fill_goal
from workflows import engine


def test_inbox_sorts_by_due_date_and_marks_overdue_and_soon(world, make_cycle, db_session, client, login):
    today = date.today()
    official = world["official"]
    later = make_cycle(world["mun"], official, mechanism="M1.2", deadlines={"GOAL": today + timedelta(days=20)})
    soon = make_cycle(world["mun"], official, mechanism="M1.3", deadlines={"GOAL": today + timedelta(days=2)})
    overdue = make_cycle(world["mun"], official, mechanism="M1.4", deadlines={"GOAL": today + timedelta(days=1)})
    # Deadlines cannot be set in the past through the forms; a task becomes overdue as time passes.
    db_session.execute(Task.__table__.update().where(Task.cycle_id == overdue.id)
                       .values(due_date=today - timedelta(days=3)))
    db_session.commit()
    tasks = db_session.scalars(inbox_query(official, today=today)).all()
    assert [t.cycle_id for t in tasks] == [overdue.id, soon.id, later.id]
    assert [urgency(t, today) for t in tasks] == ["overdue", "soon", None]

    login(official)
    page = client.get("/tasks/").get_data(as_text=True)
    page = page[page.index("<tbody>"):]  # the table, not the filter's option list
    assert page.index("M1.4") < page.index("M1.3") < page.index("M1.2")
    assert "просрочено" in page and "скоро срок" in page
    filtered = client.get("/tasks/?mechanism=M1.3").get_data(as_text=True)
    filtered = filtered[filtered.index("<tbody>"):]
    assert "M1.3" in filtered and "M1.2" not in filtered and "M1.4" not in filtered


def test_inbox_filters_by_organisation_and_never_shows_other_peoples_tasks(world, make_cycle, db_session):
    make_cycle(world["mun"], world["official"])
    school_cycle = make_cycle(world["school_a"], world["director_a"], mechanism="I1.1",
                              responsible=world["staff_a"])
    today = date.today()
    assert db_session.scalars(inbox_query(world["staff_a"], today=today)).all()[0].cycle_id == school_cycle.id
    assert db_session.scalars(inbox_query(world["official"], today=today,
                                          organisation_id=world["school_a"].id)).all() == []
    assert db_session.scalars(inbox_query(world["director_b"], today=today)).all() == []


def test_tasks_close_by_themselves_when_the_action_is_done(world, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    stage = cycle.stage("GOAL")
    fill_goal(cycle, world["official"])
    engine.fire(stage, "submit", actor=world["official"])
    engine.fire(stage, "approve", actor=world["head"])
    goal_tasks = db_session.scalars(select(Task).where(Task.object_type == "stage", Task.object_id == stage.id)).all()
    assert sorted((t.kind, t.state) for t in goal_tasks) == [("fill_stage", "closed"), ("review_stage", "closed")]
    assert all(t.closed_at is not None for t in goal_tasks)


def test_reassigning_a_stage_moves_its_open_task(world, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    stage = cycle.stage("GOAL")
    new_deadline = date.today() + timedelta(days=30)
    update_stage_settings(stage, responsible=world["methodologist"], deadline=new_deadline, actor=world["official"])
    open_tasks = db_session.scalars(select(Task).where(Task.object_id == stage.id, Task.object_type == "stage",
                                                       Task.state == "open")).all()
    assert [(t.assignee_id, t.due_date) for t in open_tasks] == [(world["methodologist"].id, new_deadline)]


def test_reassigning_a_returned_stage_keeps_its_rework_task(world, make_cycle, db_session):
    """A stage sent back for rework owes «Доработать этап после возврата»; a new responsible person or deadline moves
    that task, it does not turn it into «Заполнить этап» as if the stage had never been reviewed."""
    cycle = make_cycle(world["mun"], world["official"])
    stage = cycle.stage("GOAL")
    fill_goal(cycle, world["official"])
    engine.fire(stage, "submit", actor=world["official"])
    engine.fire(stage, "return", actor=world["head"], comment="Уточните цели")
    new_deadline = date.today() + timedelta(days=30)
    update_stage_settings(stage, responsible=world["methodologist"], deadline=new_deadline, actor=world["official"])
    open_tasks = db_session.scalars(select(Task).where(Task.object_id == stage.id, Task.object_type == "stage",
                                                       Task.state == "open")).all()
    assert [(t.kind, t.assignee_id, t.due_date) for t in open_tasks] == \
        [("rework_stage", world["methodologist"].id, new_deadline)]
    assert open_tasks[0].title.startswith("Доработать этап")


def test_task_link_leads_to_the_stage_and_is_private(world, make_cycle, db_session, client, login):
    cycle = make_cycle(world["school_b"], world["director_b"], mechanism="I1.1")
    task = db_session.scalars(select(Task).where(Task.cycle_id == cycle.id)).one()
    login(world["director_b"])
    response = client.get(f"/tasks/{task.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/stages/{task.object_id}")
    client.post("/logout")
    login(world["director_a"])
    assert client.get(f"/tasks/{task.id}").status_code == 404


def test_a_deputy_sees_the_absent_persons_tasks_marked_for_whom(world, make_user, make_cycle, db_session, client,
                                                                login):
    from app.deadlines.standins import create_stand_in

    official = world["official"]
    deputy = make_user("official", world["mun"], login="official_deputy", full_name="Заместитель Пётр Ильич")
    make_cycle(world["mun"], official, mechanism="M1.2", deadlines={"GOAL": date.today() + timedelta(days=5)})
    create_stand_in(absent=official, deputy=deputy, start=date.today(), end=date.today() + timedelta(days=7),
                    reason="отпуск", actor=official, today=date.today())
    db_session.commit()

    login(deputy)
    page = client.get("/tasks/").get_data(as_text=True)
    page = page[page.index("<tbody>"):]
    assert "M1.2" in page and f"за {official.short_name}" in page

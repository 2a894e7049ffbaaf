"""Stand-ins (заместители): naming a deputy, what is refused, tasks routed to the deputy, transitions fired on
behalf of the absent person and recorded as such in the hash-chained audit log."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audit import chain
from app.audit.models import AuditEvent
from app.core.errors import PermissionDenied, ValidationFailed
from app.core.russian import deputy_for
from app.deadlines.models import StandIn
from app.deadlines.standins import absent_people_covered_by, create_stand_in, revoke_stand_in
from app.tasks.services import inbox_query
from app.demo import fill_stage
from tests.fixtures_deadlines import count, notifications_for
from workflows import engine

def today() -> date:
    """The users' today, asked when a test runs: a date taken when the module was collected was yesterday's for a
    test run after midnight in the region's zone (a suite started before 21:00 UTC; conftest sets the zone)."""
    return date.today()


def _audit_count(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(AuditEvent))


def test_naming_a_deputy_is_audited_and_notifies_the_deputy(world, deputy_of_head, db_session):
    world["head"].full_name = "Ковалёва Наталья Игоревна"  # the notice read «заместителем Н.И. Ковалёва», «его»
    before = _audit_count(db_session)
    stand_in = create_stand_in(absent=world["head"], deputy=deputy_of_head, start=today(),
                               end=today() + timedelta(days=14), reason="отпуск", actor=world["head"], today=today())
    db_session.commit()
    event = db_session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).where(
        AuditEvent.action == "create_stand_in"))
    assert event.object_id == stand_in.id and event.actor_id == world["head"].id
    assert _audit_count(db_session) == before + 1
    (note,) = notifications_for(deputy_of_head, "standin")
    assert note.title.startswith("Вы назначены заместителем Н.И. Ковалёвой с ")
    assert "видите задачи Н.И. Ковалёвой" in note.body and "выполнять действия за Н.И. Ковалёву" in note.body
    assert "его" not in note.body and "за него" not in note.body
    assert [p.id for p in absent_people_covered_by(deputy_of_head, today())] == [world["head"].id]
    assert absent_people_covered_by(deputy_of_head, today() + timedelta(days=15)) == []
    assert absent_people_covered_by(deputy_of_head, today() - timedelta(days=1)) == []

    assert revoke_stand_in(stand_in, actor=world["head"]) is True
    db_session.commit()
    assert absent_people_covered_by(deputy_of_head, today()) == []
    assert revoke_stand_in(stand_in, actor=world["head"]) is False
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "revoke_stand_in")) == 1


@pytest.mark.parametrize("case, message", [
    ("self", "самого себя"),
    ("end_before_start", "раньше даты начала"),
    ("no_dates", "Укажите период"),
    ("outsider", "не работает в вашей организации"),
    ("over", "уже закончился"),
    ("overlap", "Период пересекается с уже назначенным заместительством"),
])
def test_bad_stand_ins_are_refused_with_a_reason_and_nothing_changes(world, deputy_of_head, db_session, case,
                                                                     message):
    create_stand_in(absent=world["head"], deputy=deputy_of_head, start=today() + timedelta(days=10),
                    end=today() + timedelta(days=20), actor=world["head"], today=today())
    db_session.commit()
    kwargs = {"absent": world["head"], "deputy": deputy_of_head, "start": today(), "end": today() + timedelta(days=5),
              "actor": world["head"], "today": today()}
    if case == "self":
        kwargs["deputy"] = world["head"]
    elif case == "end_before_start":
        kwargs["end"] = today() - timedelta(days=1)
    elif case == "no_dates":
        kwargs["start"] = None
    elif case == "outsider":
        kwargs["deputy"] = world["director_b"]  # a school director is not the municipality's staff
    elif case == "over":
        kwargs["start"], kwargs["end"] = today() - timedelta(days=10), today() - timedelta(days=2)
    elif case == "overlap":
        kwargs["end"] = today() + timedelta(days=12)
    stand_ins, audited = count(StandIn), _audit_count(db_session)
    with pytest.raises(ValidationFailed) as refused:
        create_stand_in(**kwargs)
    db_session.rollback()
    assert message in " ".join([refused.value.message, *refused.value.problems])
    assert count(StandIn) == stand_ins and _audit_count(db_session) == audited


def test_only_the_absent_person_or_who_named_the_deputy_may_revoke(world, head_on_leave, deputy_of_head):
    with pytest.raises(PermissionDenied):
        revoke_stand_in(head_on_leave, actor=deputy_of_head)


def _stage_on_review(world, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"], deadlines={"GOAL": today() + timedelta(days=5)})
    stage = cycle.stage("GOAL")
    fill_stage(stage, official=world["official"], head=world["head"])
    engine.fire(stage, "submit", actor=world["official"])
    db_session.commit()
    return stage


def test_the_deputy_sees_the_absent_heads_review_task_only_during_the_leave(world, make_cycle, deputy_of_head,
                                                                            db_session):
    stage = _stage_on_review(world, make_cycle, db_session)
    inbox = lambda user, day: db_session.scalars(inbox_query(user, today=day)).all()  # noqa: E731
    assert inbox(deputy_of_head, today()) == []
    stand_in = create_stand_in(absent=world["head"], deputy=deputy_of_head, start=today(),
                               end=today() + timedelta(days=3), actor=world["head"], today=today())
    db_session.commit()
    (task,) = inbox(deputy_of_head, today())
    assert task.object_id == stage.id and task.assignee_id == world["head"].id and task.kind == "review_stage"
    assert inbox(deputy_of_head, today() + timedelta(days=4)) == []
    revoke_stand_in(stand_in, actor=world["head"])
    db_session.commit()
    assert inbox(deputy_of_head, today()) == []


def test_the_inbox_page_lists_the_absent_persons_task_for_the_deputy(world, make_cycle, head_on_leave,
                                                                     deputy_of_head, client, login, db_session):
    stage = _stage_on_review(world, make_cycle, db_session)
    world["head"].full_name = "Иванов Сергей Петрович"
    db_session.commit()
    login(deputy_of_head)
    page = client.get("/tasks/").get_data(as_text=True)
    assert stage.title in page and "Рассмотреть этап" in page
    # whose task it is, in the accusative «за» takes: the badge read «за С.П. Иванов»
    assert ">за С.П. Иванова</span>" in page and "за С.П. Иванов<" not in page


def test_a_deputy_approves_for_the_absent_head_and_the_audit_says_so(world, make_cycle, deputy_of_head, db_session):
    stage = _stage_on_review(world, make_cycle, db_session)
    with pytest.raises(PermissionDenied):
        engine.fire(stage, "approve", actor=deputy_of_head)  # no stand-in yet: the deputy's own roles do not allow it
    db_session.rollback()
    create_stand_in(absent=world["head"], deputy=deputy_of_head, start=today() - timedelta(days=1),
                    end=today() + timedelta(days=3), actor=world["head"], today=today())
    db_session.commit()
    assert "approve" in [t.trigger for t in engine.available_transitions(stage, deputy_of_head)]
    engine.fire(stage, "approve", actor=deputy_of_head)
    db_session.commit()
    assert stage.state == "approved"
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "approve",
                                                       AuditEvent.object_id == stage.id))
    assert event.actor_id == deputy_of_head.id and event.on_behalf_of_id == world["head"].id
    assert event.actor_role == "head"
    assert event.actor_name == f"{deputy_of_head.full_name} ({deputy_for(world['head'])})"
    assert chain.verify().ok
    # The on-behalf field is part of the hash: changing it breaks the chain (on PostgreSQL the table refuses the
    # change itself; an intruder with the owner's rights switches that off first, as tests/test_audit.py does).
    from tests.test_audit import _allow_tampering

    _allow_tampering(db_session.connection())
    event.on_behalf_of_id = None
    db_session.flush()
    result = chain.verify()
    assert not result.ok and result.broken_id == event.id
    db_session.rollback()


def test_nearest_only_is_judged_for_the_absent_person(world, make_cycle, make_user, db_session):
    """The regional head may not approve a municipal stage (not the nearest head), nor may their deputy."""
    stage = _stage_on_review(world, make_cycle, db_session)
    regional_head = make_user("head", world["region"], login="regional_head")
    regional_deputy = make_user("expert", world["region"], login="regional_deputy")
    create_stand_in(absent=regional_head, deputy=regional_deputy, start=today(), end=today() + timedelta(days=1),
                    actor=regional_head, today=today())
    db_session.commit()
    with pytest.raises(PermissionDenied):
        engine.fire(stage, "approve", actor=regional_deputy)
    db_session.rollback()
    assert stage.state == "on_review"


def test_the_audit_verify_command_accepts_events_with_on_behalf(world, make_cycle, head_on_leave, deputy_of_head,
                                                               app, db_session):
    stage = _stage_on_review(world, make_cycle, db_session)
    engine.fire(stage, "return", actor=deputy_of_head, comment="Уточнить формулировку")
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_the_history_page_names_the_deputy_and_the_absent_person(world, make_cycle, head_on_leave, deputy_of_head,
                                                                client, login, db_session):
    stage = _stage_on_review(world, make_cycle, db_session)
    engine.fire(stage, "approve", actor=deputy_of_head)
    db_session.commit()
    login(world["official"])
    page = client.get(f"/cycles/{stage.cycle_id}/history").get_data(as_text=True)
    assert f"({deputy_for(world['head'])})" in page
    client.post("/logout")
    login(world["head"])
    page = client.get("/audit/").get_data(as_text=True)
    assert f"{deputy_of_head.full_name} ({deputy_for(world['head'])})" in page
    # the stand-in itself is named the same way in the log: it read «… за С.П. Иванов»
    world["head"].full_name = "Иванов Сергей Петрович"
    db_session.commit()
    page = client.get("/audit/").get_data(as_text=True)
    assert f"{deputy_of_head.short_name} за С.П. Иванова" in page and "за С.П. Иванов<" not in page


# --- pages ------------------------------------------------------------------------------------

def test_the_stand_in_page_names_a_deputy_and_refuses_bad_input(world, deputy_of_head, client, login, db_session):
    login(world["head"])
    page = client.get("/deadlines/standins")
    assert page.status_code == 200 and deputy_of_head.full_name in page.get_data(as_text=True)
    stand_ins, audited = count(StandIn), _audit_count(db_session)
    bad = client.post("/deadlines/standins/new", data={
        "deputy_id": str(world["head"].id), "start": today().isoformat(), "end": today().isoformat(), "reason": ""})
    assert bad.status_code == 422 and "самого себя" in bad.get_data(as_text=True)
    bad = client.post("/deadlines/standins/new", data={
        "deputy_id": str(deputy_of_head.id), "start": today().isoformat(),
        "end": (today() - timedelta(days=3)).isoformat(), "reason": ""})
    assert bad.status_code == 422 and "раньше даты начала" in bad.get_data(as_text=True)
    assert count(StandIn) == stand_ins and _audit_count(db_session) == audited
    good = client.post("/deadlines/standins/new", data={
        "deputy_id": str(deputy_of_head.id), "start": today().isoformat(),
        "end": (today() + timedelta(days=3)).isoformat(), "reason": "командировка"})
    assert good.status_code == 302
    (stand_in,) = db_session.scalars(select(StandIn)).all()
    assert stand_in.deputy_id == deputy_of_head.id and stand_in.reason == "командировка"
    overlap = client.post("/deadlines/standins/new", data={
        "deputy_id": str(deputy_of_head.id), "start": (today() + timedelta(days=2)).isoformat(),
        "end": (today() + timedelta(days=9)).isoformat(), "reason": ""})
    assert overlap.status_code == 422 and "пересекается" in overlap.get_data(as_text=True)
    # Someone else cannot revoke it (404), the head can.
    client.post("/logout")
    login(deputy_of_head)
    assert client.post(f"/deadlines/standins/{stand_in.id}/revoke").status_code == 404
    client.post("/logout")
    login(world["head"])
    assert client.post(f"/deadlines/standins/{stand_in.id}/revoke").status_code == 302
    db_session.expire_all()
    assert db_session.get(StandIn, stand_in.id).revoked_at is not None


def test_acting_roles_include_the_absent_persons_during_the_period(world, head_on_leave, deputy_of_head):
    from app.core.access import acting_roles_over

    assert acting_roles_over(deputy_of_head, world["mun"]) == {"official", "head"}
    assert acting_roles_over(deputy_of_head, world["mun"], today() + timedelta(days=30)) == {"official"}
    assert acting_roles_over(world["official"], world["mun"]) == {"official"}


def test_who_a_deputy_covers_is_asked_once_per_transaction(world, make_cycle, deputy_of_head, db_session, app):
    from sqlalchemy import event

    from app.extensions import db

    stage = _stage_on_review(world, make_cycle, db_session)
    statements = []

    def count_stand_in_queries(conn, cursor, statement, *args):
        if "stand_ins" in statement:
            statements.append(statement)

    engine_ = db.engine
    event.listen(engine_, "before_cursor_execute", count_stand_in_queries)
    try:
        for _ in range(5):
            engine.available_transitions(stage, deputy_of_head)
    finally:
        event.remove(engine_, "before_cursor_execute", count_stand_in_queries)
    assert len(statements) == 1
    # A stand-in named in the same transaction is seen at once.
    create_stand_in(absent=world["head"], deputy=deputy_of_head, start=today(), end=today(), actor=world["head"],
                    today=today())
    assert "approve" in [t.trigger for t in engine.available_transitions(stage, deputy_of_head)]

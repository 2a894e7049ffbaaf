"""The stage workflow through the one engine: permissions, guards, cascades, tasks and audit."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.core.errors import GuardFailed, InvalidTransition, PermissionDenied, StaleObject, ValidationFailed
from app.cycles.services import save_summary, start_next_period
from app.demo import fill_stage
from app.monitoring.demo import complete_monitoring
from app.tasks.models import Task
from tests.conftest import fill_goal, fill_indicators, fill_method
from tests.fixtures_documents import stage_document_drafts
from workflows import engine


def states(cycle):
    return {s.code: s.state for s in cycle.stages}


def open_tasks(db_session, obj):
    return db_session.scalars(select(Task).where(Task.object_type == obj.audit_type, Task.object_id == obj.id,
                                                 Task.state == "open")).all()


def audit_count(db_session):
    return db_session.scalar(select(func.count()).select_from(AuditEvent))


def test_new_cycle_opens_first_stage_only_and_gives_its_responsible_a_task(world, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    assert states(cycle) == {"GOAL": "draft", **{c: "waiting" for c in
                                                 ("IND", "METH", "MON", "ANL", "REC", "MEAS", "DEC", "EFF")}}
    goal_stage = cycle.stage("GOAL")
    (task,) = open_tasks(db_session, goal_stage)
    assert task.assignee_id == world["official"].id and task.kind == "fill_stage"
    assert task.due_date == goal_stage.deadline and task.mechanism_code == "M1.1"


def test_partial_track_has_only_its_blocks(world, make_cycle):
    cycle = make_cycle(world["mun"], world["official"], mechanism="M2.4", track="management",
                       deadlines={"MEAS": date.today() + timedelta(days=3)})
    assert [s.code for s in cycle.stages] == ["MEAS", "DEC", "EFF"]
    assert states(cycle) == {"MEAS": "draft", "DEC": "waiting", "EFF": "waiting"}


@pytest.mark.parametrize("trigger,actor_key,expected", [
    ("submit", "official", "on_review"),
    ("submit", "methodologist", "on_review"),
    ("submit", "head", "on_review"),
    ("submit", "auditor", PermissionDenied),
    ("submit", "expert", PermissionDenied),
    ("submit", "director_a", PermissionDenied),   # the school's director has no role over the municipality
    ("approve", "official", InvalidTransition),  # stage is a draft: approve is not available at all
    ("open", "official", InvalidTransition),      # internal transition, and not from draft
])
def test_who_may_fire_what_on_a_draft_stage(world, make_cycle, db_session, trigger, actor_key, expected):
    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    stage = cycle.stage("GOAL")
    before = audit_count(db_session)
    if isinstance(expected, str):
        engine.fire(stage, trigger, actor=world[actor_key])
        assert stage.state == expected
        assert audit_count(db_session) == before + 1
    else:
        with pytest.raises(expected):
            engine.fire(stage, trigger, actor=world[actor_key])
        assert stage.state == "draft"
        assert audit_count(db_session) == before


@pytest.mark.parametrize("actor_key,expected", [("head", "approved"), ("official", PermissionDenied),
                                                ("methodologist", PermissionDenied), ("auditor", PermissionDenied)])
def test_only_approvers_approve(world, make_cycle, actor_key, expected):
    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    stage = cycle.stage("GOAL")
    engine.fire(stage, "submit", actor=world["official"])
    if isinstance(expected, str):
        engine.fire(stage, "approve", actor=world[actor_key])
        assert stage.state == expected and stage.approved_by_id == world[actor_key].id
    else:
        with pytest.raises(expected):
            engine.fire(stage, "approve", actor=world[actor_key])
        assert stage.state == "on_review"


def test_goal_stage_cannot_be_submitted_without_goals_and_says_so(world, make_cycle):
    cycle = make_cycle(world["mun"], world["official"])
    with pytest.raises(GuardFailed) as info:
        engine.fire(cycle.stage("GOAL"), "submit", actor=world["official"])
    assert info.value.problems == [
        "Не сформулировано ни одной цели.",
        "Нет документа «Положение о муниципальной системе оценки качества образования» (хотя бы проекта): "
        "сформируйте его в разделе «Документы этапа».",
    ]
    assert cycle.stage("GOAL").state == "draft"


def _approve(stage, world):
    engine.fire(stage, "submit", actor=world["official"])
    engine.fire(stage, "approve", actor=world["head"])


def test_indicators_guard_names_each_missing_required_group(world, make_cycle):
    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    _approve(cycle.stage("GOAL"), world)
    missing = ["функциональная грамотность", "обучающиеся с ОВЗ"]
    fill_indicators(cycle, world["official"], skip_groups=missing)
    with pytest.raises(GuardFailed) as info:
        engine.fire(cycle.stage("IND"), "submit", actor=world["official"])
    assert info.value.problems == [f"Нет ни одного показателя в обязательной группе «{g}»." for g in missing]


def test_indicator_without_baseline_or_target_blocks_submission(world, make_cycle):
    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    _approve(cycle.stage("GOAL"), world)
    fill_indicators(cycle, world["official"], baseline=None)
    with pytest.raises(GuardFailed) as info:
        engine.fire(cycle.stage("IND"), "submit", actor=world["official"])
    assert "Показатель I-01: не указано базовое значение." in info.value.problems


def test_approving_opens_next_stage_and_parallel_methods_stage(world, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    _approve(cycle.stage("GOAL"), world)
    assert states(cycle)["IND"] == "draft"
    assert states(cycle)["METH"] == "draft"  # parallel with IND by the stage definition
    assert states(cycle)["MON"] == "waiting"
    # Each newly opened stage tells its responsible person.
    assert [t.kind for t in open_tasks(db_session, cycle.stage("IND"))] == ["fill_stage"]
    assert [t.kind for t in open_tasks(db_session, cycle.stage("METH"))] == ["fill_stage"]
    assert open_tasks(db_session, cycle.stage("GOAL")) == []


def test_stage_cannot_be_submitted_before_previous_is_approved(world, make_cycle):
    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    _approve(cycle.stage("GOAL"), world)
    fill_method(cycle, world["official"])
    # METH is open in parallel but MON stays closed until METH is approved.
    _approve(cycle.stage("METH"), world)
    assert states(cycle)["MON"] == "draft"
    mon = cycle.stage("MON")
    save_summary(mon, text="Приказ о мониторинге", actor=world["official"])
    fill_indicators(cycle, world["official"])  # the data request asks for the (still draft) indicators
    complete_monitoring(mon, official=world["official"], today=date.today())
    stage_document_drafts(mon, world["official"])  # the monitoring order (documents guard)
    # IND is still a draft; MON's predecessor is METH (approved), so MON may proceed: the order is per definition.
    engine.fire(mon, "submit", actor=world["official"])
    assert mon.state == "on_review"


def test_return_requires_comment_and_reopens_the_draft_with_a_rework_task(world, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    stage = cycle.stage("GOAL")
    engine.fire(stage, "submit", actor=world["official"])
    (review,) = open_tasks(db_session, stage)
    assert review.kind == "review_stage" and review.assignee_id == world["head"].id
    with pytest.raises(ValidationFailed, match="обязателен комментарий"):
        engine.fire(stage, "return", actor=world["head"], comment="   ")
    assert stage.state == "on_review"
    engine.fire(stage, "return", actor=world["head"], comment="Уточните обоснование цели")
    assert stage.state == "draft" and stage.return_comment == "Уточните обоснование цели"
    (rework,) = open_tasks(db_session, stage)
    assert rework.kind == "rework_stage" and rework.assignee_id == world["official"].id
    assert db_session.get(Task, review.id).state == "closed"
    event = db_session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.from_state, event.to_state, event.reason, event.actor_role) == (
        "return", "on_review", "draft", "Уточните обоснование цели", "head")


def test_stale_version_is_refused(world, make_cycle):
    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    stage = cycle.stage("GOAL")
    seen = stage.version
    fill_goal(cycle, world["official"])  # someone else's edit bumps the stage version
    assert stage.version > seen
    with pytest.raises(StaleObject, match="обновите страницу"):
        engine.fire(stage, "submit", actor=world["official"], expected_version=seen)
    assert stage.state == "draft"


def _complete(cycle, world):
    fill_goal(cycle, world["official"])
    for stage in cycle.stages:
        if stage.code == "IND":
            fill_indicators(cycle, world["official"])
        elif stage.code == "METH":
            fill_method(cycle, world["official"])
        elif stage.code != "GOAL":
            fill_stage(stage, official=world["official"], head=world["head"])
        _approve(stage, world)


def test_last_approval_closes_the_cycle_and_next_period_carries_goals_and_indicators(world, make_cycle,
                                                                                     db_session):
    cycle = make_cycle(world["mun"], world["official"],
                       deadlines={"GOAL": date.today() + timedelta(days=5)})
    _complete(cycle, world)
    assert cycle.state == "closed" and cycle.closed_at is not None
    # No stage work is owed any more (execution of recommendations and measures outlives the approvals).
    assert db_session.scalar(select(func.count()).select_from(Task).where(
        Task.cycle_id == cycle.id, Task.object_type.in_(["stage", "cycle"]), Task.state == "open")) == 0
    nxt = start_next_period(cycle, actor=world["official"])
    assert nxt.period == "2026/27" and nxt.previous_id == cycle.id
    assert states(nxt)["GOAL"] == "draft"
    assert [g.carried_from_id for g in nxt.goals] == [g.id for g in cycle.goals]
    assert sorted(i.code for i in nxt.indicators) == sorted(i.code for i in cycle.indicators)
    assert all(i.carried_from_id for i in nxt.indicators)
    assert nxt.stage("GOAL").deadline == cycle.stage("GOAL").deadline + timedelta(days=365)


def test_next_period_only_after_the_cycle_is_closed(world, make_cycle):
    cycle = make_cycle(world["mun"], world["official"])
    with pytest.raises(ValidationFailed, match="только после завершения"):
        start_next_period(cycle, actor=world["official"])


def test_school_cycle_is_approved_by_its_director(world, make_cycle, db_session):
    cycle = make_cycle(world["school_a"], world["director_a"], mechanism="I1.1", responsible=world["staff_a"])
    fill_goal(cycle, world["staff_a"])
    stage = cycle.stage("GOAL")
    engine.fire(stage, "submit", actor=world["staff_a"])
    (review,) = open_tasks(db_session, stage)
    assert review.assignee_id == world["director_a"].id
    with pytest.raises(PermissionDenied):
        engine.fire(stage, "approve", actor=world["director_b"])
    # The municipal head sees the school's cycle but does not approve the school's own (ВСОКО) stages.
    with pytest.raises(PermissionDenied):
        engine.fire(stage, "approve", actor=world["head"])
    assert [t.trigger for t in engine.available_transitions(stage, world["head"])] == []
    engine.fire(stage, "approve", actor=world["director_a"])
    assert stage.state == "approved"


def test_a_regional_head_does_not_approve_a_municipal_stage(world, make_cycle, make_user, db_session):
    regional_head = make_user("head", world["region"], login="regional_head")
    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    stage = cycle.stage("GOAL")
    engine.fire(stage, "submit", actor=world["official"])
    with pytest.raises(PermissionDenied):
        engine.fire(stage, "approve", actor=regional_head)
    engine.fire(stage, "approve", actor=world["head"])


def test_transitions_are_declared_as_data_on_one_static_machine():
    wf = engine.registry()["stage"]
    assert wf.machine.models == []  # model=None: no row is ever bound to (and reset by) the machine
    assert {t.trigger for t in wf.transitions} == {"open", "submit", "approve", "return"}
    assert next(t for t in wf.transitions if t.trigger == "return").requires_comment

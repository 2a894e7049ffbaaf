"""An approved roadmap is what the head approved: its measures are not re-dated by an edit afterwards; the head
moves their dates through the engine («Перенести сроки», a reason required), recorded in the audit log."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.fixtures_followup import approve
from tests.snapshots import PERIOD_LAST_DAY


def _unchanged_fields(m) -> dict:
    return dict(title=m.title, kind=m.kind, responsible_id=m.responsible_id, participants=m.participants,
                expected_result=m.expected_result, recommendation_ids=[r.id for r in m.recommendations],
                finding_ids=[f.id for f in m.findings], indicator_ids=[i.id for i in m.indicators])


def _approved_measure(cycle, world, db_session):
    from app.followup import services

    from app.demo import fill_stage

    for code in ("REC", "MEAS"):  # the fixture's cycle waits at REC
        fill_stage(cycle.stage(code), official=world["official"], head=world["head"])
        approve(cycle.stage(code), world)
    db_session.commit()
    assert cycle.stage("MEAS").state == "approved"
    measure = next(m for m in services.measures_of_cycle(cycle) if m.state in ("planned", "in_progress"))
    new_end = measure.end_date + timedelta(days=5)
    if new_end > PERIOD_LAST_DAY:
        new_end = measure.end_date - timedelta(days=1)
    assert measure.start_date <= new_end != measure.end_date
    return measure, new_end


def test_an_approved_roadmaps_measure_is_rescheduled_only_by_the_head_with_a_reason(rec_cycle, world, db_session):
    from app.audit.models import AuditEvent
    from app.core.errors import GuardFailed, PermissionDenied, ValidationFailed
    from app.followup import services
    from app.tasks.models import Task

    m, new_end = _approved_measure(rec_cycle, world, db_session)
    start, end = m.start_date, m.end_date

    with pytest.raises(ValidationFailed, match="утверждён.*Перенести сроки"):
        services.update_measure(m, actor=world["official"], start_date=start, end_date=new_end, **_unchanged_fields(m))
    db_session.rollback()
    assert (m.start_date, m.end_date) == (start, end)

    with pytest.raises(PermissionDenied):
        services.reschedule_measure(m, actor=world["official"], start_date=start, end_date=new_end,
                                    comment="Карантин в школах")
    db_session.rollback()
    with pytest.raises(ValidationFailed, match="комментарий"):
        services.reschedule_measure(m, actor=world["head"], start_date=start, end_date=new_end, comment=" ")
    db_session.rollback()
    with pytest.raises(GuardFailed) as refused:
        services.reschedule_measure(m, actor=world["head"], start_date=start, end_date=start - timedelta(days=1),
                                    comment="Карантин в школах")
    assert refused.value.problems == ["Дата окончания мероприятия раньше даты начала."]
    db_session.rollback()
    assert m.end_date == end

    services.reschedule_measure(m, actor=world["head"], start_date=start, end_date=new_end,
                                comment="Карантин в школах")
    db_session.commit()
    assert (m.start_date, m.end_date) == (start, new_end)
    (task,) = db_session.scalars(select(Task).where(Task.object_type == "measure", Task.object_id == m.id,
                                                    Task.closed_at.is_(None)))
    assert (task.kind, task.due_date) == ("execute_measure", new_end)
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.object_type == "measure",
                                                        AuditEvent.object_id == m.id)
                               .order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.actor_id, event.reason) == ("reschedule", world["head"].id, "Карантин в школах")
    before, after = json.loads(event.before), json.loads(event.after)
    assert before["end_date"] == end.isoformat() and after["end_date"] == new_end.isoformat()


def test_the_measure_page_offers_rescheduling_to_the_head_only(rec_cycle, world, db_session, client_for):
    m, new_end = _approved_measure(rec_cycle, world, db_session)
    url = f"/followup/measures/{m.id}"

    official_page = client_for(world["official"]).get(url).get_data(as_text=True)
    assert 'id="reschedule-form"' not in official_page and f"/followup/measures/{m.id}/edit" not in official_page

    head = client_for(world["head"])
    page = head.get(url).get_data(as_text=True)
    assert 'id="reschedule-form"' in page
    response = head.post(f"{url}/reschedule", data={
        "start_date": m.start_date.isoformat(), "end_date": new_end.isoformat(), "comment": "Карантин в школах",
        "version": m.version}, follow_redirects=True)
    assert response.status_code == 200
    assert (f"Сроки мероприятия перенесены: {m.start_date:%d.%m.%Y} – {new_end:%d.%m.%Y}."
            in response.get_data(as_text=True))
    db_session.refresh(m)
    assert m.end_date == new_end


def test_an_adopted_decision_keeps_the_deadline_the_head_adopted(rec_cycle, world, db_session):
    from datetime import date

    from app.core.errors import InvalidTransition
    from app.followup import services

    finding = services.cycle_findings(rec_cycle)[0]
    deadline = date.today() + timedelta(days=30)
    d = services.create_decision(rec_cycle, actor=world["official"], today=date.today(), text="Поощрить педагогов",
                                 kind="incentive", deadline=deadline, responsible_id=world["official"].id,
                                 finding_ids=[finding.id])
    services.transition_decision(d, "adopt", actor=world["head"])
    db_session.commit()
    with pytest.raises(InvalidTransition, match="Принятое решение изменить нельзя"):
        services.update_decision(d, actor=world["official"], today=date.today(), text=d.text, kind=d.kind,
                                 deadline=deadline + timedelta(days=10), responsible_id=d.responsible_id,
                                 participants=None, basis=None, finding_ids=[finding.id], measure_ids=())
    db_session.rollback()
    assert d.deadline == deadline

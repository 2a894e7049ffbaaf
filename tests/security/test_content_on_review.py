"""Attack 10: the roadmap and the decisions changed under the head's eyes.

Once «Меры, мероприятия» (or «Управленческие решения») is sent for approval, a new measure or decision is refused
(«можно, пока он не отправлен на утверждение»), but an existing one could still be edited — its title, dates,
responsible person: the head approved a roadmap other than the one sent to them. An edit is refused like a new
one while the stage is on review, in Russian, and changes nothing; after a return to draft it is taken again."""

from datetime import date

import pytest

from app.core.errors import ValidationFailed
from tests.fixtures_followup import approve
from tests.test_access import client_for  # noqa: F401  (fixture)
from workflows import engine

REFUSED = "можно, пока он не отправлен на утверждение"


def _measure_form(measure) -> dict:
    return {"version": str(measure.version), "title": "Другое мероприятие", "kind": measure.kind,
            "responsible_id": str(measure.responsible_id), "start_date": measure.start_date.isoformat(),
            "end_date": measure.end_date.isoformat(), "participants": measure.participants or "",
            "expected_result": measure.expected_result or "",
            "recommendation_ids": [str(r.id) for r in measure.recommendations],
            "finding_ids": [str(f.id) for f in measure.findings],
            "indicator_ids": [str(i.id) for i in measure.indicators]}


def test_a_measure_is_not_edited_while_the_roadmap_is_on_review(rec_cycle, world, db_session,
                                                                client_for):  # noqa: F811
    from app.demo import fill_stage
    from app.followup import services

    fill_stage(rec_cycle.stage("REC"), official=world["official"], head=world["head"])
    approve(rec_cycle.stage("REC"), world)
    stage = rec_cycle.stage("MEAS")
    fill_stage(stage, official=world["official"], head=world["head"])
    engine.fire(stage, "submit", actor=world["official"])
    db_session.commit()
    measure = next(m for m in services.measures_of_cycle(rec_cycle) if m.state == "planned")
    title, version = measure.title, measure.version

    response = client_for(world["official"]).post(f"/followup/measures/{measure.id}/edit",
                                                  data=_measure_form(measure))
    assert response.status_code == 422 and REFUSED in response.get_data(as_text=True)
    db_session.expire_all()
    assert (measure.title, measure.version) == (title, version)

    engine.fire(stage, "return", actor=world["head"], comment="Уточните сроки")
    db_session.commit()
    response = client_for(world["official"]).post(f"/followup/measures/{measure.id}/edit",
                                                  data=_measure_form(measure))
    assert response.status_code == 302
    db_session.expire_all()
    assert measure.title == "Другое мероприятие"


def test_a_draft_decision_is_not_edited_while_the_decisions_are_on_review(rec_cycle, world, db_session):
    from app.demo import fill_stage
    from app.followup import services

    for code in ("REC", "MEAS"):
        fill_stage(rec_cycle.stage(code), official=world["official"], head=world["head"])
        approve(rec_cycle.stage(code), world)
    stage = rec_cycle.stage("DEC")
    fill_stage(stage, official=world["official"], head=world["head"])
    engine.fire(stage, "submit", actor=world["official"])
    db_session.commit()
    decision = next(d for d in services.decisions_of_cycle(rec_cycle) if d.state == "draft")
    text = decision.text
    with pytest.raises(ValidationFailed, match=REFUSED):
        services.update_decision(decision, actor=world["official"], today=date.today(), text="Другое решение",
                                 kind=decision.kind, deadline=decision.deadline,
                                 responsible_id=decision.responsible_id, participants=decision.participants,
                                 basis=decision.basis, finding_ids=[f.id for f in decision.findings],
                                 measure_ids=[m.id for m in decision.measures])
    db_session.rollback()
    assert db_session.get(type(decision), decision.id).text == text

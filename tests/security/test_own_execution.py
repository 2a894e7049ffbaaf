"""Attack 10: whoever marked a measure done or a decision executed does not confirm that execution themselves.

The official who reported «Проведено» (measure) or «Приказ № 12» (decision) could press «Подтвердить исполнение»
on her own report a moment later (the verify tasks already left her out, the engine did not): the confirmation was
worth nothing. The rule is the one of recommendation reports and data answers (SEPARATION_OF_DUTIES): refused in
Russian, nothing changed, not offered on the page; another manager of the owner confirms."""

from datetime import date, timedelta

from tests.fixtures_followup import evidence
from tests.snapshots import measure_dates
from tests.test_access import client_for  # noqa: F401  (fixture)
from workflows import engine

SEPARATION = "разделение обязанностей"


def _done_measure(rec_cycle, world, db_session):
    from app.followup import services

    official = world["official"]
    measure = services.create_measure(rec_cycle, actor=official, title="Семинар", kind="training",
                                      responsible_id=official.id, **measure_dates(0, 10))
    services.transition_measure(measure, "start", actor=official)
    services.attach_to(measure, stream=evidence()[0], filename="protokol.pdf", kind="protocol", actor=official)
    services.transition_measure(measure, "complete", actor=official, comment="Проведено")
    db_session.commit()
    return measure


def _executed_decision(rec_cycle, world, db_session):
    from app.followup import services

    official = world["official"]
    decision = services.create_decision(rec_cycle, actor=official, today=date.today(), text="Поощрить педагогов",
                                        kind="incentive", deadline=date.today() + timedelta(days=30),
                                        responsible_id=official.id, participants="Педагоги ОО",
                                        finding_ids=[services.cycle_findings(rec_cycle)[0].id])
    services.transition_decision(decision, "adopt", actor=world["head"])
    services.transition_decision(decision, "execute", actor=official, comment="Приказ № 12 от 01.12")
    db_session.commit()
    return decision


def _refused_then_confirmed_by_another(obj, path, world, db_session, client_for):  # noqa: F811
    official = client_for(world["official"])
    page = official.get(path).get_data(as_text=True)
    assert 'value="verify"' not in page  # not offered
    version = obj.version
    response = official.post(f"{path}/transition", data={"trigger": "verify", "version": str(version)},
                             follow_redirects=True)
    assert response.status_code < 500
    assert SEPARATION in response.get_data(as_text=True)
    db_session.expire_all()
    assert (obj.state, obj.version) == ("done" if obj.audit_type == "measure" else "executed", version)
    assert engine.can(obj, "verify", world["head"])
    response = client_for(world["head"]).post(f"{path}/transition",
                                              data={"trigger": "verify", "version": str(version)})
    assert response.status_code == 302
    db_session.expire_all()
    assert obj.state == "verified"


def test_who_marked_a_measure_done_does_not_confirm_it(rec_cycle, world, db_session, client_for):  # noqa: F811
    measure = _done_measure(rec_cycle, world, db_session)
    _refused_then_confirmed_by_another(measure, f"/followup/measures/{measure.id}", world, db_session, client_for)


def test_who_reported_a_decision_executed_does_not_confirm_it(rec_cycle, world, db_session,
                                                              client_for):  # noqa: F811
    decision = _executed_decision(rec_cycle, world, db_session)
    _refused_then_confirmed_by_another(decision, f"/followup/decisions/{decision.id}", world, db_session,
                                       client_for)

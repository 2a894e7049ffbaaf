"""Repeat measurement (повторное измерение) after the measures, on the effectiveness stage.

A measure that ended before the effectiveness stage needs its indicators measured again («Показатель … не измерялся
после окончания меры …» blocks the stage), and once the monitoring stage is approved no data request could be
created: every real cycle stuck for ever (walk of 7 December 2026). The request mechanism now serves the EFF stage
too: its requests are for a period after the measures, answered as usual, and their accepted values are the
«после мер» the evaluation and the integrity panel read."""

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.core.errors import ValidationFailed
from app.core.timeutil import utcnow
from app.effectiveness import services as effectiveness
from app.effectiveness.guards import stage_content
from app.effectiveness.integrity import check_cycle
from app.monitoring import services
from app.monitoring.models import IndicatorValue
from app.monitoring.values import save_values
from tests.fixtures_effectiveness import make_measure, today
from workflows.data_request import monitoring_stage_problems

LATER = ("MON", "ANL", "REC", "MEAS", "DEC")


def at_effectiveness(cycle):
    """The monitoring and the stages after it approved, the effectiveness stage a draft."""
    for code in LATER:
        cycle.stage(code).state, cycle.stage(code).approved_at = "approved", utcnow()
    cycle.stage("EFF").state = "draft"


def ended_measure(chain, world, db_session):
    """A measure on E-03 that ended 30 days ago, its indicator last measured 60 days ago (before it ended)."""
    worse = chain.indicators["worse"]
    measure = make_measure(chain.cycle, world["official"], "Курсы повышения квалификации", indicators=[worse],
                           start=today() - timedelta(days=90), end=today() - timedelta(days=30))
    for value in db_session.scalars(select(IndicatorValue).where(IndicatorValue.indicator_id == worse.id)):
        value.updated_at = datetime.combine(today() - timedelta(days=60), datetime.min.time(), tzinfo=timezone.utc)
    db_session.flush()
    return measure


def not_remeasured(cycle):
    return [d for d in check_cycle(cycle, today=today()) if d.code == "indicator_not_remeasured"]


def repeat_request(chain, world, **overrides):
    # the calendar year in which the cycle's school year ends: after the measures, not the monitoring's period
    data = dict(title="Повторное измерение", period=str(int(chain.cycle.period[:4]) + 1),
                deadline=today() + timedelta(days=10), indicator_ids=[chain.indicators["worse"].id],
                organisation_ids=[world["school_a"].id, world["school_b"].id], actor=world["official"],
                today=today())
    return services.create_request(chain.cycle, **{**data, **overrides})


def answer(submission, director, official, value):
    rows = [{"indicator_code": item.indicator.code, "organisation_code": submission.organisation.code,
             "period": submission.request.period, "value": value, "comment": None}
            for item in submission.request.items]
    report = save_values(rows, actor=director, source="form", submission=submission)
    assert report.ok, report.lines()
    services.transition_submission(submission, "submit", actor=director)
    services.transition_submission(submission, "accept", actor=official)


def test_a_repeat_measurement_closes_the_gap_and_the_measure_is_assessed_on_it(chain, world, db_session):
    cycle, official = chain.cycle, world["official"]
    at_effectiveness(cycle)
    measure = ended_measure(chain, world, db_session)
    (defect,) = not_remeasured(cycle)
    assert "E-03" in defect.message and defect.message in stage_content(cycle.stage("EFF"))

    request = repeat_request(chain, world)
    assert request.stage_code == "EFF" and request.period == services.repeat_period(cycle) != cycle.period
    services.transition_request(request, "send", actor=official, today=today())
    assert request.state == "sent"
    # an open repeat measurement holds the stage: approving it would leave the schools a task to answer
    assert any("Повторное измерение" in p for p in stage_content(cycle.stage("EFF")))
    # the monitoring's own rule reads its own requests only
    assert monitoring_stage_problems(cycle.stage("MON")) == []

    # E-03 is «чем меньше, тем лучше», baseline 10: the monitoring's 12 and 11 did not improve; the repeat 7 and 8 did
    before = effectiveness.indicator_rows(cycle)
    assert next(r for r in before if r.code == "E-03").after == 11.5
    a, b = (next(s for s in request.submissions if s.organisation_id == org.id)
            for org in (world["school_a"], world["school_b"]))
    answer(a, world["director_a"], official, "7")
    answer(b, world["director_b"], official, "8")
    services.transition_request(request, "close", actor=official, today=today())

    assert not_remeasured(cycle) == []
    assert stage_content(cycle.stage("EFF")) == [d.message for d in check_cycle(cycle) if d.stage == "EFF"]
    rows = effectiveness.indicator_rows(cycle)
    worse = next(r for r in rows if r.code == "E-03")
    assert worse.after == 7.5 and worse.improved and worse.repeat_periods == [request.period] and worse.repeated == 2
    # the monitoring's values stay: the analysis of the cycle's period still reads 12 and 11
    kept = db_session.scalars(select(IndicatorValue.value).where(
        IndicatorValue.indicator_id == chain.indicators["worse"].id, IndicatorValue.period == cycle.period)).all()
    assert sorted(kept) == [11, 12]
    results = {r.measure.id: r for r in effectiveness.assess_measures(cycle, rows, today=today())}
    assert results[measure.id].computed == "moved"
    assert results[measure.id].details == [("E-03", "10 → 7,5: улучшился")]
    # the form asks by default what the measures were expected to move
    assert services.repeat_indicator_ids(cycle) == [chain.indicators["up"].id, chain.indicators["worse"].id]


@pytest.mark.parametrize("shift", [0, -1, "year_before"])
def test_a_repeat_measurement_not_after_the_monitoring_period_is_refused(chain, world, db_session, shift):
    """The monitoring's own period would overwrite its values (the «до»); an earlier one — the previous school year,
    or the calendar year the monitoring's school year began in — was accepted and then read as an earlier period's
    values (the roll-up's «было»), though not after the measures (final review)."""
    from app.core.timeutil import next_period

    at_effectiveness(chain.cycle)
    start = int(chain.cycle.period[:4])
    period = {0: chain.cycle.period, -1: f"{start - 1}/{start % 100:02d}", "year_before": str(start)}[shift]
    assert next_period(period) != period
    with pytest.raises(ValidationFailed) as refused:
        repeat_request(chain, world, period=period)
    assert any("заканчивается позже периода мониторинга" in p for p in refused.value.problems), refused.value.problems
    assert repeat_request(chain, world, period=str(start + 1)).period == str(start + 1)


def test_a_partial_cycle_re_measures_its_full_cycles_indicators(world, make_user, db_session):
    """A partial cycle (measures, decisions, effectiveness) has no indicators of its own: its repeat measurement was
    offered and every request refused («Выберите хотя бы один показатель»), so its «не измерялся после окончания
    меры» could never be closed (final review). It asks its full cycle's indicators, which its measures name."""
    from app.cycles.services import create_cycle
    from tests.test_partial_cycles import PERIOD, partial_tracks, walk

    track = next(t for t in partial_tracks() if t.mechanism.level == "municipal" and not t.own_indicators
                 and "EFF" in t.blocks)
    editor, approver = world["official"], world["head"]
    full_track = next(t for t in track.mechanism.tracks if t.own_indicators and not t.blocks)
    full = create_cycle(track=full_track, owner=world["mun"], period=PERIOD, actor=editor, responsible=editor)
    walk(full, editor, approver, upto="ANL")
    partial = create_cycle(track=track, owner=world["mun"], period=PERIOD, actor=editor, responsible=editor)
    walk(partial, editor, approver, upto="EFF")
    db_session.commit()
    assert services.requesting_stage(partial) == "EFF" and not partial.indicators

    assert {i.id for i in services.request_indicators(partial, "EFF")} == {i.id for i in full.indicators}
    wanted = full.indicators[0]
    request = services.create_request(partial, title="Повторное измерение", period="2026",
                                      deadline=today() + timedelta(days=10), indicator_ids=[wanted.id],
                                      organisation_ids=[world["school_a"].id], actor=editor, today=today())
    assert request.stage_code == "EFF" and [i.indicator_id for i in request.items] == [wanted.id]


@pytest.mark.parametrize("eff_state", ["on_review", "waiting"])
def test_no_request_once_the_monitoring_is_approved_and_the_effectiveness_stage_is_not_a_draft(
        chain, world, db_session, eff_state):
    at_effectiveness(chain.cycle)
    chain.cycle.stage("EFF").state = eff_state
    assert services.requesting_stage(chain.cycle) is None
    with pytest.raises(ValidationFailed, match="Мониторинг показателей"):
        repeat_request(chain, world)


def test_while_the_monitoring_is_a_draft_a_request_is_an_ordinary_monitoring_request(chain, world, db_session):
    # the chain fixture opens every stage: the monitoring is a draft, so its requests come first
    assert services.requesting_stage(chain.cycle) == "MON"
    request = repeat_request(chain, world, period=chain.cycle.period)
    assert request.stage_code == "MON"


def test_a_draft_repeat_request_cannot_be_changed_once_the_stage_is_submitted(chain, world, db_session):
    at_effectiveness(chain.cycle)
    request = repeat_request(chain, world)
    chain.cycle.stage("EFF").state = "on_review"
    with pytest.raises(ValidationFailed, match="повторного измерения"):
        services.update_request(request, title="x", period=request.period, deadline=today() + timedelta(days=5),
                                indicator_ids=[chain.indicators["worse"].id],
                                organisation_ids=[world["school_a"].id], actor=world["official"], today=date.today())


def test_pages_offer_the_repeat_measurement_where_it_is_needed(client, login, chain, world, db_session):
    at_effectiveness(chain.cycle)
    ended_measure(chain, world, db_session)
    db_session.commit()
    login(world["official"])
    stage_page = client.get(f"/stages/{chain.cycle.stage('EFF').id}").get_data(as_text=True)
    assert "Создать запрос повторного измерения" in stage_page
    evaluation = client.get(f"/effectiveness/cycles/{chain.cycle.id}").get_data(as_text=True)
    assert "Создать запрос повторного измерения" in evaluation
    form = client.get(f"/monitoring/cycles/{chain.cycle.id}/requests/new")
    assert form.status_code == 200
    text = form.get_data(as_text=True)
    assert "Новый запрос повторного измерения" in text and f'value="{int(chain.cycle.period[:4]) + 1}"' in text
    request = repeat_request(chain, world)
    db_session.commit()
    detail = client.get(f"/monitoring/requests/{request.id}").get_data(as_text=True)
    assert 'id="repeat-badge"' in detail
    chain.cycle.stage("EFF").state = "on_review"
    db_session.commit()
    listing = client.get(f"/monitoring/cycles/{chain.cycle.id}/requests").get_data(as_text=True)
    assert "Создать запрос" not in listing and "повторного измерения, пока открыт" in listing



def test_a_partial_repeat_measurement_says_whose_values_are_the_monitorings(client, login, chain, world, db_session):
    at_effectiveness(chain.cycle)
    ended_measure(chain, world, db_session)
    request = repeat_request(chain, world, organisation_ids=[world["school_a"].id])
    services.transition_request(request, "send", actor=world["official"], today=today())
    answer(request.submissions[0], world["director_a"], world["official"], "7")
    db_session.commit()
    worse = next(r for r in effectiveness.indicator_rows(chain.cycle) if r.code == "E-03")
    # school A measured again (7), school B still its monitoring value (11)
    assert (worse.after, worse.repeated, len(worse.schools)) == (9, 1, 2)
    login(world["official"])
    page = client.get(f"/effectiveness/cycles/{chain.cycle.id}").get_data(as_text=True)
    assert "1 из 2 орг., у остальных — значение мониторинга" in page

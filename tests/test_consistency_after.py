"""The value «после мер» of the effectiveness evaluation: the repeat measurement (a data request of the effectiveness
stage) is the later value and wins over a monitoring value reported higher up — the owner's own (a municipal
cycle), or a municipality's that held its schools' (a regional cycle) — when the repeat asked the level below."""

from sqlalchemy import select

from app.effectiveness import services
from app.monitoring.models import DataRequest, Submission
from tests.fixtures_effectiveness import accepted_values, add_indicator, open_all_stages


def _repeat(cycle, actor, values, db_session):
    """Accepted answers to a repeat measurement: a request of the EFF stage for the next calendar year."""
    rows = accepted_values(cycle, actor, values, period=str(int(cycle.period[:4]) + 1))
    db_session.scalar(select(DataRequest).join(Submission, Submission.request_id == DataRequest.id)
                      .where(Submission.id == rows[0].submission_id)).stage_code = "EFF"
    db_session.flush()


def _after(cycle, code):
    row = next(r for r in services.indicator_rows(cycle) if r.code == code)
    return row.after, sorted((s.name, s.after) for s in row.schools)


def test_the_schools_repeat_values_win_over_the_municipalitys_own_monitoring_value(chain, world, db_session):
    cycle, official, worse = chain.cycle, world["official"], chain.indicators["worse"]
    accepted_values(cycle, official, {(worse, world["mun"]): 12})  # the department's own figure of the monitoring
    assert _after(cycle, "E-03")[0] == 12
    _repeat(cycle, official, {(worse, world["school_a"]): 7, (worse, world["school_b"]): 8}, db_session)
    after, schools = _after(cycle, "E-03")
    assert after == 7.5
    assert [name for name, _ in schools] == ["Школа А", "Школа Б"]


def test_a_regional_cycle_reads_the_schools_repeat_values_not_their_municipalitys_monitoring_answer(
        world, make_cycle, make_user, db_session):
    official = make_user("official", world["region"])
    cycle = make_cycle(world["region"], official, mechanism="R1.1")
    open_all_stages(cycle)
    ind = add_indicator(cycle, official, "R-01", baseline=10, target=8, direction="down")
    # the monitoring asked the municipality, which answered from its schools
    accepted_values(cycle, official, {(ind, world["mun"]): 12})
    assert _after(cycle, "R-01")[0] == 12
    # the repeat measurement asked the schools themselves
    _repeat(cycle, official, {(ind, world["school_a"]): 7, (ind, world["school_b"]): 8}, db_session)
    after, schools = _after(cycle, "R-01")
    assert after == 7.5
    assert [name for name, _ in schools] == ["Школа А", "Школа Б"]

"""«Measured after the measure» by the owner's local day (app/followup/models.py remeasured_from, local_day).

A measure's end date is a local date (Moscow for the test world), but the moments the rule compared with it — when a
value was entered, when the measure was marked done — were dated by their UTC day: a value entered at 01:30 in Moscow
on the day after the end date (22:30 UTC of the end date) counted as measured while the measure still ran, and the
panel, the assessment's counts and the evaluation all owed a new measurement of it."""

from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from app.effectiveness import services
from app.effectiveness.chain_counts import count_defects
from app.effectiveness.integrity import check_cycle, time_zones
from app.followup.models import local_day, remeasured, remeasured_from
from app.monitoring.models import IndicatorValue
from tests.fixtures_effectiveness import make_measure, today


def _utc(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.utc)


def _judged(cycle, measure, indicator):
    panel = any(d.code == "indicator_not_remeasured" and d.object_id == indicator.id
                for d in check_cycle(cycle, today=today()))
    counted = count_defects([cycle], today=today())[cycle.id]["indicator_not_remeasured"] > 0
    (result,) = [r for r in services.assess_measures(cycle, services.indicator_rows(cycle), today=today())
                 if r.measure.id == measure.id]
    return panel, counted, (indicator.code, "не измерялся после окончания меры") in result.details


def _entered_at(db_session, indicator, moment):
    for value in db_session.scalars(select(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id)):
        value.updated_at = moment
    db_session.flush()


def test_a_value_entered_after_midnight_in_moscow_the_day_after_the_end_date_is_after_the_measure(
        chain, world, db_session):
    down = chain.indicators["down"]
    end = today() - timedelta(days=10)
    measure = make_measure(chain.cycle, world["official"], "Курсы", indicators=[down],
                           recommendations=[chain.recommendation], start=end - timedelta(days=50), end=end,
                           done_at=_utc(today(), 9))
    # 22:30 UTC of the end date = 01:30 in Moscow of the next day
    _entered_at(db_session, down, _utc(end, 22, 30))
    assert _judged(chain.cycle, measure, down) == (False, False, False)
    # 20:30 UTC = 23:30 in Moscow of the end date itself: still while the measure ran
    _entered_at(db_session, down, _utc(end, 20, 30))
    assert _judged(chain.cycle, measure, down) == (True, True, True)


def test_a_measure_marked_done_after_midnight_in_moscow_ends_on_the_moscow_day(chain, world, db_session):
    """Marked done at 01:30 in Moscow (22:30 UTC of the day before): a value entered at noon of that UTC day was
    taken before the measure was done, and the panel's description dates the end by the Moscow day."""
    down = chain.indicators["down"]
    done_utc_day = today() - timedelta(days=30)
    measure = make_measure(chain.cycle, world["official"], "Курсы", indicators=[down],
                           recommendations=[chain.recommendation], start=today() - timedelta(days=60),
                           end=today() - timedelta(days=5), done_at=_utc(done_utc_day, 22, 30))
    _entered_at(db_session, down, _utc(done_utc_day, 9))  # 12:00 in Moscow, the day before it was done there
    assert _judged(chain.cycle, measure, down) == (True, True, True)
    (defect,) = [d for d in check_cycle(chain.cycle, today=today()) if d.code == "indicator_not_remeasured"]
    assert (done_utc_day + timedelta(days=1)).strftime("%d.%m.%Y") in defect.message


@pytest.mark.parametrize("zone, counts", [("Europe/Moscow", True), ("Europe/Kaliningrad", False)])
def test_the_rule_counts_days_in_the_given_zone(zone, counts):
    end = today() - timedelta(days=10)
    since = remeasured_from(end - timedelta(days=30), end, None, today(), zone)
    assert since == end + timedelta(days=1)
    moment = _utc(end, 21, 30)  # 00:30 in Moscow of the next day, 23:30 of the end date in Kaliningrad (UTC+2)
    assert remeasured(local_day(moment, zone), since) is counts
    assert local_day(moment.replace(tzinfo=None).isoformat(sep=" "), zone) == local_day(moment, zone)


def test_the_owners_zone_is_its_own_or_its_nearest_ancestors(chain, world, db_session):
    cycle = chain.cycle
    assert time_zones([cycle.id])[cycle.id] == "Europe/Moscow"  # none set: the application's
    world["region"].timezone = "Asia/Yekaterinburg"
    db_session.flush()
    assert time_zones([cycle.id])[cycle.id] == "Asia/Yekaterinburg"
    cycle.owner.timezone = "Europe/Samara"
    db_session.flush()
    assert time_zones([cycle.id])[cycle.id] == "Europe/Samara"

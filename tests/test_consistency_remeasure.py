"""One rule of «measured after the measure» for the effectiveness evaluation, the integrity panel and the
assessment's counts of its defects (app/followup/models.py remeasured_from / remeasured).

The panel took a value measured ON a measure's end date for one after the measure, and owed a new measurement of a
measure marked done early that the evaluation already rated on the values taken after it was done: the panel and
the evaluation said opposite things of the same measure."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.effectiveness import services
from app.effectiveness.chain_counts import count_defects
from app.effectiveness.integrity import check_cycle
from app.monitoring.models import IndicatorValue
from tests.fixtures_effectiveness import make_measure, today


def _measured_on(db_session, indicator, day):
    for value in db_session.scalars(select(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id)):
        value.updated_at = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=12)
    db_session.flush()


def _judged(cycle, measure):
    """(the panel owes a new measurement of the measure's indicator, the assessment counts it, the evaluation
    says the indicator was not measured after the measure)."""
    panel = any(d.code == "indicator_not_remeasured" and d.object_id == measure.indicators[0].id
                for d in check_cycle(cycle, today=today()))
    counted = count_defects([cycle], today=today())[cycle.id]["indicator_not_remeasured"] > 0
    (result,) = [r for r in services.assess_measures(cycle, services.indicator_rows(cycle), today=today())
                 if r.measure.id == measure.id]
    return panel, counted, ("E-02", "не измерялся после окончания меры") in result.details


@pytest.mark.parametrize("case, expected", [
    # ended ten days ago, measured on its end date: measured while the measure ran (the panel said «measured after»)
    ("on_end_date", True),
    # the day after its end date: after it
    ("day_after_end", False),
    # marked done 30 days ago, ending 5 days ago, measured 20 days ago: after it ended (the panel owed a measurement)
    ("after_done_before_end", False),
    # marked done 30 days ago, measured 35 days ago: before it ended
    ("before_done", True),
])
def test_the_panel_the_counts_and_the_evaluation_judge_a_measure_on_the_same_values(chain, world, db_session,
                                                                                    case, expected):
    down = chain.indicators["down"]
    start = today() - timedelta(days=60)
    if case in ("on_end_date", "day_after_end"):
        end = today() - timedelta(days=10)
        done_at = datetime.combine(today(), datetime.min.time(), tzinfo=timezone.utc)
        measured = end if case == "on_end_date" else end + timedelta(days=1)
    else:
        end = today() - timedelta(days=5)
        done_at = datetime.combine(today() - timedelta(days=30), datetime.min.time(), tzinfo=timezone.utc)
        measured = today() - timedelta(days=20 if case == "after_done_before_end" else 35)
    measure = make_measure(chain.cycle, world["official"], "Курсы", indicators=[down],
                           recommendations=[chain.recommendation], start=start, end=end, done_at=done_at)
    _measured_on(db_session, down, measured)
    assert _judged(chain.cycle, measure) == (expected, expected, expected)

"""«Показатель … не измерялся после окончания меры … (дата)»: the day the measure ended — marked done before its
planned end, the day it was marked done (app/followup/models.remeasured_from), not the planned end date."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.core.timeutil import format_date
from app.effectiveness.integrity import check_cycle
from app.monitoring.models import IndicatorValue
from tests.fixtures_effectiveness import make_measure, today
from tests.test_remeasure import at_effectiveness


def test_the_defect_dates_a_measure_marked_done_early_by_the_day_it_was_done(chain, world, db_session):
    at_effectiveness(chain.cycle)
    worse = chain.indicators["worse"]
    done_on = today() - timedelta(days=50)
    measure = make_measure(chain.cycle, world["official"], "Курсы повышения квалификации", indicators=[worse],
                           start=today() - timedelta(days=90), end=today() - timedelta(days=30),
                           done_at=datetime.combine(done_on, datetime.min.time().replace(hour=12), tzinfo=timezone.utc))
    for value in db_session.scalars(select(IndicatorValue).where(IndicatorValue.indicator_id == worse.id)):
        value.updated_at = datetime.combine(today() - timedelta(days=60), datetime.min.time(), tzinfo=timezone.utc)
    db_session.flush()

    (defect,) = [d for d in check_cycle(chain.cycle, today=today()) if d.code == "indicator_not_remeasured"]
    assert defect.message.endswith(f"«{measure.title}» ({format_date(done_on)}).")
    assert format_date(measure.end_date) not in defect.message

"""The indicator dashboard is precomputed, and kept current by jobs: accepting a school's answer rebuilds it."""

from sqlalchemy import select

from app.monitoring import services
from tests.test_monitoring import fill_all, submission_of


def test_accepting_an_answer_puts_its_values_on_the_dashboard(world, sent, db_session):
    from app.analysis.models import DashboardRow
    from app.jobs.queue import dispatch_ready

    sub = submission_of(sent, world["school_a"])
    fill_all(sub, world["director_a"], value="42")
    services.transition_submission(sub, "submit", actor=world["director_a"])
    db_session.commit()
    dispatch_ready()
    rows = select(DashboardRow.value).where(DashboardRow.cycle_id == sent.cycle_id,
                                            DashboardRow.organisation_id == world["school_a"].id)
    assert db_session.scalars(rows).all() == []  # submitted, not yet accepted: nothing to show

    services.transition_submission(sub, "accept", actor=world["official"])
    db_session.commit()
    dispatch_ready()  # inline mode: the refresh job runs right after the commit
    values = db_session.scalars(rows).all()
    assert values and all(v == 42 for v in values)

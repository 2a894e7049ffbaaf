"""More dates that make sense (issue 12, rule 6; app/core/dating.py): a protocol's decisions have deadlines after
its date, an effectiveness report is not dated before the measures it rates were finished. Each rule: its Russian
message, and the document refused when it is broken."""

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.core import russian as ru
from app.core.errors import ValidationFailed
from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)


@pytest.fixture
def followed(rec_cycle, world, db_session):
    """Recommendations, measures and decisions made (the demo's fillers)."""
    from tests.fixtures_followup import approve

    for code in ("REC", "MEAS", "DEC"):
        fill_stage(rec_cycle.stage(code), official=world["official"], head=world["head"])
        if code != "DEC":
            approve(rec_cycle.stage(code), world)
    db_session.commit()
    return rec_cycle


def _refusal(type_key, stage) -> str:
    from app.documents.contexts import build_context

    with pytest.raises(ValidationFailed) as refused:
        build_context(type_key, stage)
    return " ".join(refused.value.problems)


def test_a_protocol_with_a_decision_deadline_already_past_is_refused(followed, db_session):
    from app.documents.contexts import build_context
    from app.followup.services import decisions_of_cycle

    build_context("protocol", followed.stage("DEC"))
    decision = decisions_of_cycle(followed)[0]
    decision.deadline = date.today() - timedelta(days=1)
    db_session.flush()
    problems = _refusal("protocol", followed.stage("DEC"))
    assert "исполнение решения 1." in problems and "не позже даты документа" in problems
    db_session.rollback()


def test_an_effectiveness_report_is_not_dated_before_a_rated_measure_was_finished(followed, db_session):
    from app.core.dating import problems
    from app.documents.contexts import build_context
    from app.followup.services import measures_of_cycle

    done = [m for m in measures_of_cycle(followed) if m.state in ("done", "verified")]
    assert done
    ctx = build_context("effectiveness_report", followed.stage("EFF"))
    recorded = ctx["dating"]["not_before"]
    assert {what for _, what in recorded} >= {f"завершение мероприятия {ru.quote(m.title)}" for m in done}
    # Finished «tomorrow» (a wrong date entered): today's report would rate a measure not yet over.
    done[0].done_at = datetime.now(timezone.utc) + timedelta(days=2)
    db_session.flush()
    assert "завершение мероприятия" in _refusal("effectiveness_report", followed.stage("EFF"))
    assert problems({"not_before": [[(date.today() + timedelta(days=2)).isoformat(), "x"]]}, date.today())
    db_session.rollback()


def test_an_order_cannot_take_effect_with_an_item_already_due(followed, db_session):
    """An order takes effect when it is signed: the monitoring order (the one order that recorded no date) records
    each item's deadline, and one already reached on the order's date refuses it."""
    from app.documents.contexts import build_context

    stage = followed.stage("MON")
    stage.deadline = date.today() + timedelta(days=5)
    followed.stage("ANL").deadline = date.today() + timedelta(days=10)
    db_session.flush()
    ctx = build_context("monitoring_order", stage)
    assert [what for _, what in ctx["dating"]["deadlines"]] == [
        f"исполнение пункта {n} приказа" for n in range(1, len(ctx["items"]) + 1)]
    # the collection falls due on the day the order would be signed
    from app.monitoring.models import DataRequest

    stage.deadline = date.today()
    for request in db_session.scalars(select(DataRequest).where(DataRequest.cycle_id == followed.id)):
        request.deadline = date.today()
    db_session.flush()
    problems = _refusal("monitoring_order", stage)
    assert "Срок: исполнение пункта 1 приказа" in problems and "не позже даты документа" in problems
    db_session.rollback()

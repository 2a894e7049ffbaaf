"""A whole cycle driven through the demo fillers of every feature: the integrity panel of the closed cycle is
empty, its evaluation compares the indicators before and after, and the next period's cycle takes the
proposals; an incomplete cycle lists its gaps and cannot submit its stages."""

from decimal import Decimal

import pytest

from app.core.errors import GuardFailed
from app.effectiveness import services
from app.effectiveness.integrity import check_cycle
from tests.conftest import fill_goal, fill_indicators, fill_method
from workflows import engine


def _approve(stage, world):
    engine.fire(stage, "submit", actor=world["official"])
    engine.fire(stage, "approve", actor=world["head"])


def drive(cycle, world, upto=None):
    """Fill and approve every stage (through the demo's fill_stage) up to, not including, `upto`."""
    from app.demo import fill_stage

    official = world["official"]
    fill_goal(cycle, official)
    for stage in cycle.stages:
        if stage.code == upto:
            return stage
        if stage.code == "IND":
            fill_indicators(cycle, official)
        elif stage.code == "METH":
            fill_method(cycle, official)
        elif stage.code != "GOAL":
            fill_stage(stage, official=official, head=world["head"])
        _approve(stage, world)
    return None


def test_a_complete_cycle_has_an_empty_panel_and_seeds_the_next_one(world, make_cycle, db_session):
    from app.cycles.services import start_next_period

    cycle = make_cycle(world["mun"], world["official"])
    drive(cycle, world)
    db_session.commit()
    assert cycle.state == "closed"
    assert check_cycle(cycle) == []
    evaluation = services.evaluation_of(cycle)
    assert evaluation.conclusions and evaluation.assessments and evaluation.proposals
    rows = services.indicator_rows(cycle)
    assert all(r.after is not None for r in rows)  # every indicator was measured in the monitoring stage
    (proposal,) = evaluation.proposals
    assert proposal.kind == "indicator_correction"
    nxt = start_next_period(cycle, actor=world["official"])
    db_session.commit()
    corrected = next(i for i in nxt.indicators if i.carried_from_id == proposal.indicator_id)
    assert Decimal(corrected.target) == proposal.new_target
    assert proposal.applied_cycle_id == nxt.id
    assert check_cycle(cycle) == []


@pytest.mark.parametrize("code", ["REC", "MEAS", "DEC", "EFF"])
def test_an_empty_stage_cannot_be_submitted_and_the_panel_says_why(world, make_cycle, db_session, code):
    from tests.fixtures_documents import stage_document_drafts

    cycle = make_cycle(world["mun"], world["official"])
    stage = drive(cycle, world, upto=code)
    stage_document_drafts(stage, world["official"])
    expected = [d.message for d in check_cycle(cycle) if d.stage == code]
    assert expected
    with pytest.raises(GuardFailed) as refused:
        engine.fire(stage, "submit", actor=world["official"])
    assert refused.value.problems == expected
    assert stage.state == "draft"

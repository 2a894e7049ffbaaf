"""Cycle integrity panel: each broken link of the chain is found on a purpose-built cycle and disappears when
fixed; the REC/MEAS/DEC/EFF guards refuse submission with the same messages; the check costs a fixed number
of queries; the panel is scoped like the cycle."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from app.analysis.models import Finding
from app.core.errors import GuardFailed
from app.effectiveness.integrity import check_cycle
from tests.fixtures_effectiveness import (accepted_values, add_indicator, make_decision, make_finding, make_measure,
                                          make_recommendation, today)
from workflows import engine


def codes(cycle, **kw):
    return sorted((d.code, d.stage) for d in check_cycle(cycle, **kw))


def defects_of(cycle, code):
    return [d for d in check_cycle(cycle) if d.code == code]


def test_an_intact_chain_has_no_defects(chain):
    assert check_cycle(chain.cycle) == []


def test_stages_not_yet_reached_are_not_checked(world, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])  # only GOAL is open
    assert codes(cycle) == [("no_goals", "GOAL")]


def test_goals_without_indicators(world, make_cycle, db_session):
    from tests.conftest import fill_goal
    from tests.fixtures_effectiveness import open_all_stages

    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    cycle.stage("IND").state = "draft"
    assert codes(cycle) == [("goals_without_indicators", "IND")]
    add_indicator(cycle, world["official"], "X-01", baseline=1, target=2)
    assert codes(cycle) == []
    open_all_stages(cycle)
    assert ("no_collection_methods", "METH") in codes(cycle)


def test_indicator_without_method_and_without_data(chain, world, db_session):
    ind = add_indicator(chain.cycle, world["official"], "E-04", baseline=1, target=2)
    found = defects_of(chain.cycle, "indicator_without_data")
    assert [(d.object_type, d.object_id, d.stage) for d in found] == [("indicator", ind.id, "MON")]
    assert "E-04" in found[0].message and chain.cycle.period in found[0].message
    ind.collection_method = "  "
    assert [d.object_id for d in defects_of(chain.cycle, "indicator_without_method")] == [ind.id]
    ind.collection_method = "выгрузка"
    accepted_values(chain.cycle, world["official"], {(ind, world["school_a"]): 1})
    assert check_cycle(chain.cycle) == []


def test_values_of_an_answer_not_yet_accepted_are_not_data(chain, world, db_session):
    from app.monitoring.models import Submission

    ind = add_indicator(chain.cycle, world["official"], "E-04", baseline=1, target=2)
    (value,) = accepted_values(chain.cycle, world["official"], {(ind, world["school_a"]): 1})
    db_session.get(Submission, value.submission_id).state = "submitted"
    assert [d.object_id for d in defects_of(chain.cycle, "indicator_without_data")] == [ind.id]


def test_finding_without_recommendation(chain, world, db_session):
    finding = make_finding(chain.cycle, world["official"], "Низкая доля участников олимпиад")
    (defect,) = check_cycle(chain.cycle)
    assert (defect.code, defect.stage, defect.object_id) == ("finding_without_recommendation", "REC", finding.id)
    assert "Низкая доля участников олимпиад" in defect.message
    chain.recommendation.findings.append(finding)
    assert check_cycle(chain.cycle) == []


def test_recommendation_without_measure_not_issued_and_without_addressees(chain, world, db_session):
    rec = make_recommendation(chain.cycle, world["official"], [world["school_a"]], findings=[chain.finding],
                              issued=False)
    assert codes(chain.cycle) == [("recommendation_not_issued", "REC"), ("recommendation_without_measure", "MEAS")]
    chain.measures["moves"].recommendations.append(rec)
    rec.items.clear()
    assert codes(chain.cycle) == [("recommendation_without_addressees", "REC")]


def test_recommendation_never_acknowledged_past_due(chain, world, db_session):
    item = chain.items[0]
    item.due_date = today() - timedelta(days=1)
    (defect,) = check_cycle(chain.cycle)
    assert (defect.code, defect.object_type, defect.object_id) == (
        "recommendation_not_acknowledged", "recommendation_item", item.id)
    assert "Школа А" in defect.message and "не ознакомилась" in defect.message
    item.state, item.acknowledged_at, item.acknowledged_by_id = "acknowledged", item.issued_at, world["director_a"].id
    assert check_cycle(chain.cycle) == []


def test_no_recommendations_measures_decisions(world, make_cycle, db_session):
    from tests.fixtures_effectiveness import open_all_stages

    cycle = make_cycle(world["mun"], world["official"])
    open_all_stages(cycle)
    found = codes(cycle)
    for expected in [("no_recommendations", "REC"), ("no_measures", "MEAS"), ("no_decisions", "DEC"),
                     ("no_evaluation", "EFF")]:
        assert expected in found


def test_cancelled_measures_do_not_implement_recommendations(chain, db_session):
    from app.core.timeutil import utcnow

    measure = chain.measures["moves"]
    measure.state, measure.cancel_reason, measure.done_at = "cancelled", "нет финансирования", None
    assert ("recommendation_without_measure", "MEAS") in codes(chain.cycle)
    measure.state, measure.cancel_reason, measure.done_at = "done", None, utcnow()
    assert codes(chain.cycle) == []


@pytest.mark.parametrize("change, code", [
    ({"participants": "  "}, "decision_without_participants"),
    ({"participants": None}, "decision_without_participants"),
])
def test_decision_without_participants(chain, db_session, change, code):
    for key, value in change.items():
        setattr(chain.decision, key, value)
    assert codes(chain.cycle) == [(code, "DEC")]


def test_decision_without_basis(chain, world, db_session):
    decision = make_decision(chain.cycle, world["official"], basis=None)
    assert [d.object_id for d in defects_of(chain.cycle, "decision_without_basis")] == [decision.id]
    decision.findings.append(chain.finding)  # a linked finding is a basis too
    assert check_cycle(chain.cycle) == []
    decision.findings.clear()
    decision.basis = "Аналитическая справка от 20.12.2025"
    assert check_cycle(chain.cycle) == []


def test_indicator_never_remeasured_after_the_measure_ended(chain, world, db_session):
    from datetime import datetime, timezone

    from app.monitoring.models import IndicatorValue

    ended = make_measure(chain.cycle, world["official"], "Курсы", indicators=[chain.indicators["down"]],
                         recommendations=[chain.recommendation], start=today() - timedelta(days=60),
                         end=today() - timedelta(days=10))
    assert check_cycle(chain.cycle) == []  # the values were entered today, after the measure ended
    for value in db_session.query(IndicatorValue).filter_by(indicator_id=chain.indicators["down"].id):
        value.updated_at = datetime.combine(today() - timedelta(days=40), datetime.min.time(), tzinfo=timezone.utc)
    db_session.flush()
    (defect,) = check_cycle(chain.cycle)
    assert (defect.code, defect.stage, defect.object_id) == ("indicator_not_remeasured", "EFF",
                                                             chain.indicators["down"].id)
    assert "E-02" in defect.message and "Курсы" in defect.message
    ended.end_date = today() + timedelta(days=5)  # not over yet: nothing is owed
    ended.start_date = today() - timedelta(days=60)
    assert check_cycle(chain.cycle) == []


def test_effectiveness_without_conclusions_and_proposals(chain, db_session):
    chain.evaluation.conclusions = None
    assert codes(chain.cycle) == [("evaluation_without_conclusions", "EFF")]
    chain.evaluation.conclusions = "Выводы"
    chain.evaluation.proposals.clear()
    db_session.flush()
    assert codes(chain.cycle) == [("no_proposals", "EFF")]


def test_conclusions_not_fed_into_the_next_cycle(chain, world, db_session):
    from app.cycles.models import Cycle

    nxt = Cycle(track=chain.cycle.track, owner=chain.cycle.owner, period="2026/27", previous=chain.cycle)
    db_session.add(nxt)
    db_session.flush()
    (defect,) = check_cycle(chain.cycle)
    assert (defect.code, defect.object_id) == ("proposal_not_carried", chain.proposal.id)
    assert defect.args == {"cycle_id": nxt.id}


def test_counted_defects_are_exactly_the_described_ones(chain, world, make_cycle, db_session):
    """count_defects — what an assessment's proposal scores, without a message per defect — finds per cycle the
    very codes, as many times, that check_cycles describes: a chain broken in many ways at once, a cycle with every
    stage open and nothing in it, one with only GOAL open, and the next cycle of the chain."""
    from collections import Counter

    from app.cycles.models import Cycle
    from app.effectiveness.chain_counts import count_defects
    from app.effectiveness.integrity import check_cycles
    from tests.fixtures_effectiveness import open_all_stages

    official = world["official"]
    ind = add_indicator(chain.cycle, official, "E-04", baseline=1, target=2)
    ind.collection_method = "  "
    make_finding(chain.cycle, official, "Вывод без рекомендации")
    make_recommendation(chain.cycle, official, [world["school_a"]], findings=[chain.finding], issued=False)
    chain.items[0].due_date = today() - timedelta(days=1)
    make_decision(chain.cycle, official, basis=None, participants=None)
    make_measure(chain.cycle, official, "Курсы", indicators=[ind], start=today() - timedelta(days=60),
                 end=today() - timedelta(days=10))
    chain.evaluation.conclusions = None
    empty = make_cycle(world["mun"], official, mechanism="M1.2")
    open_all_stages(empty)
    fresh = make_cycle(world["mun"], official, mechanism="M1.3")
    nxt = Cycle(track=chain.cycle.track, owner=chain.cycle.owner, period="2026/27", previous=chain.cycle)
    db_session.add(nxt)
    db_session.flush()
    cycles = [chain.cycle, empty, fresh, nxt]

    described = {cycle_id: Counter(d.code for d in defects)
                 for cycle_id, defects in check_cycles(cycles, today=today()).items()}
    assert count_defects(cycles, today=today()) == described
    assert described[chain.cycle.id]["indicator_without_data"] == 1
    assert len(set().union(*described.values())) >= 16, described


def test_counted_defects_match_on_every_edge_of_every_check(chain, world, make_cycle, db_session):
    """count_defects takes its counts in SQL: the edges where SQL and the walk could part — text of Unicode spaces
    only (blank to str.strip(), not to SQL's trim), values of another period, a measure cancelled or not over yet,
    a recommendation implemented only by a cancelled measure, a draft decision, a decision whose basis is its
    findings, values older than a measure's end, a measure naming another cycle's indicator, a partial cycle
    without its full cycle — give the very counts check_cycles describes, code for code."""
    from collections import Counter
    from datetime import datetime, timezone

    from app.cycles.models import Cycle
    from app.effectiveness.chain_counts import count_defects
    from app.effectiveness.integrity import check_cycles
    from app.monitoring.models import IndicatorValue
    from tests.conftest import fill_goal
    from tests.fixtures_effectiveness import open_all_stages

    official, a, b = world["official"], world["school_a"], world["school_b"]
    cycle = chain.cycle
    spaces = add_indicator(cycle, official, "E-05", baseline=1, target=2)
    spaces.collection_method = "\u00a0\t\u3000"
    newline = add_indicator(cycle, official, "E-06", baseline=1, target=2)
    newline.collection_method = " \n "
    elsewhere = add_indicator(cycle, official, "E-07", baseline=1, target=2)
    accepted_values(cycle, official, {(elsewhere, a): 1}, period="2024/25")
    old = add_indicator(cycle, official, "E-08", baseline=1, target=2)
    for value in accepted_values(cycle, official, {(old, a): 1, (old, b): 2}):
        value.updated_at = datetime.combine(today() - timedelta(days=40), datetime.min.time(), tzinfo=timezone.utc)
    make_finding(cycle, official, "Вывод без рекомендации")
    make_recommendation(cycle, official, [], findings=[chain.finding])  # no addressees
    late = make_recommendation(cycle, official, [a, b], issued=False, due=today() - timedelta(days=2))
    make_recommendation(cycle, official, [a], due=today() - timedelta(days=1))  # issued, past due, unanswered
    make_recommendation(cycle, official, [b], due=today())  # due today: not late yet
    make_measure(cycle, official, "Отменённая", recommendations=[late], state="cancelled", cancel_reason="не нужна")
    make_measure(cycle, official, "Курсы", indicators=[old, elsewhere], start=today() - timedelta(days=60),
                 end=today() - timedelta(days=10))
    make_measure(cycle, official, "Идёт", indicators=[old], start=today() - timedelta(days=5), end=today())
    make_decision(cycle, official, participants="\u2003", basis="\u00a0", state="draft")
    make_decision(cycle, official, basis=" ", findings=[chain.finding])
    chain.evaluation.conclusions = "\u2003\n"
    db_session.add(Cycle(track=cycle.track, owner=cycle.owner, period="2026/27", previous=cycle))

    other = make_cycle(world["mun"], official, mechanism="M1.2")  # every stage open; a measure on E-01 of `cycle`
    fill_goal(other, official)
    open_all_stages(other)
    make_measure(other, official, "Чужой показатель", indicators=[chain.indicators["up"]],
                 start=today() - timedelta(days=30), end=today() - timedelta(days=3))
    lone = make_cycle(world["mun"], official, mechanism="M2.4", track="management")  # no full cycle of M2.4
    open_all_stages(lone)
    reached_rec = make_cycle(world["mun"], official, mechanism="M1.3")
    for stage in reached_rec.stages:
        stage.state = "waiting" if stage.code in ("MEAS", "DEC", "EFF") else "draft"
    db_session.flush()
    assert db_session.query(IndicatorValue).filter_by(indicator_id=elsewhere.id).count() == 1
    cycles = [cycle, other, lone, reached_rec]

    described = {cycle_id: Counter(d.code for d in defects)
                 for cycle_id, defects in check_cycles(cycles, today=today()).items()}
    assert count_defects(cycles, today=today()) == described
    mine = described[cycle.id]
    assert mine["indicator_without_method"] == 2 and mine["indicator_without_data"] == 3, mine
    assert mine["recommendation_not_acknowledged"] == 3 and mine["decision_without_participants"] == 1, mine
    assert mine["indicator_not_remeasured"] == 1 and mine["evaluation_without_conclusions"] == 1, mine
    assert described[lone.id]["no_basis_cycle"] == 2
    assert described[other.id]["indicator_not_remeasured"] == 1  # no indicators of its own: no values read
    # Every code but those the schema rules out (a measure's responsible and dates, a decision's responsible and
    # deadline are NOT NULL) and the two that need a chain intact up to them (tests above).
    assert len(set().union(*described.values())) >= 19, described


def test_counted_defects_follow_the_rows_as_they_are_now(chain, world, db_session):
    """Nothing is cached between counts: a row changed behind the application's back (a tampered decision, an
    indicator's method wiped by hand in the database) changes the next count."""
    from sqlalchemy import update

    from app.cycles.models import Indicator
    from app.effectiveness.chain_counts import count_defects
    from app.followup.models import Decision

    assert count_defects([chain.cycle], today=today()) == {chain.cycle.id: {}}
    db_session.execute(update(Decision).where(Decision.id == chain.decision.id).values(participants="\u00a0"))
    db_session.execute(update(Indicator).where(Indicator.cycle_id == chain.cycle.id).values(collection_method="\t"))
    assert count_defects([chain.cycle], today=today()) == {chain.cycle.id: {"decision_without_participants": 1,
                                                                          "indicator_without_method": 3}}


def test_every_defect_links_to_a_page_that_exists(chain, world, app, db_session):
    from app.cycles.models import Stage

    make_finding(chain.cycle, world["official"])
    chain.evaluation.conclusions = None
    for stage in chain.cycle.stages:
        stage.state = "draft"
    with app.test_request_context():
        defects = check_cycle(chain.cycle)
        assert defects
        for d in defects:
            assert d.url.startswith("/")
    assert all(isinstance(s, Stage) for s in chain.cycle.stages)


# --- guards ------------------------------------------------------------------------------------

def _approve_earlier(cycle, code):
    from app.core.timeutil import utcnow

    for stage in cycle.stages:
        if stage.position < cycle.stage(code).position:
            stage.state, stage.approved_at = "approved", utcnow()


GUARD_CASES = {
    "REC": lambda ch, w: make_finding(ch.cycle, w["official"], "Вывод без рекомендации"),
    "MEAS": lambda ch, w: make_recommendation(ch.cycle, w["official"], [w["school_a"]], findings=[ch.finding]),
    "DEC": lambda ch, w: make_decision(ch.cycle, w["official"], participants=None),
    "EFF": lambda ch, w: setattr(ch.evaluation, "conclusions", None),
}


@pytest.mark.parametrize("code", ["REC", "MEAS", "DEC", "EFF"])
def test_guards_refuse_submission_with_the_defects_of_their_stage(chain, world, db_session, code):
    GUARD_CASES[code](chain, world)
    _approve_earlier(chain.cycle, code)
    db_session.flush()
    stage = chain.cycle.stage(code)
    expected = [d.message for d in check_cycle(chain.cycle) if d.stage == code]
    assert expected
    with pytest.raises(GuardFailed) as refused:
        engine.fire(stage, "submit", actor=world["official"])
    for message in expected:
        assert message in refused.value.problems
    assert stage.state == "draft"


def test_guard_lets_a_complete_stage_through(chain, world, db_session):
    _approve_earlier(chain.cycle, "EFF")
    db_session.flush()
    from app.effectiveness.guards import stage_content

    assert stage_content(chain.cycle.stage("EFF")) == []


def test_guards_require_the_minimum_content(world, make_cycle, db_session):
    from app.effectiveness.guards import GUARDED_STAGES, stage_content
    from tests.fixtures_effectiveness import open_all_stages

    cycle = make_cycle(world["mun"], world["official"])
    open_all_stages(cycle)
    expected = {"REC": "Не сформулировано ни одной адресной рекомендации.",
                "MEAS": "Не запланировано ни одной меры (мероприятия).",
                "DEC": "Не принято ни одного управленческого решения.",
                "EFF": "Анализ эффективности принятых мер не проведён."}
    for code in GUARDED_STAGES:
        assert expected[code] in stage_content(cycle.stage(code))


# --- efficiency --------------------------------------------------------------------------------

def _count_queries(db_session, fn):
    from app.extensions import db

    seen = []
    engine_ = db_session.get_bind().engine if hasattr(db_session.get_bind(), "engine") else db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    event.listen(engine_, "before_cursor_execute", before)
    try:
        fn()
    finally:
        event.remove(engine_, "before_cursor_execute", before)
    return len(seen)


def test_the_check_costs_a_fixed_number_of_queries(chain, world, db_session):
    cycle_id = chain.cycle.id

    def run():
        from app.cycles.models import Cycle

        db_session.expire_all()
        check_cycle(db_session.get(Cycle, cycle_id))

    small = _count_queries(db_session, run)
    _grow(chain, world, db_session)
    big = _count_queries(db_session, run)
    assert big == small, (small, big)
    assert 10 <= small <= 25, small


def test_the_panel_page_costs_a_fixed_number_of_queries(client, login, chain, world, db_session):
    login(world["official"])
    url = f"/effectiveness/cycles/{chain.cycle.id}/integrity"

    def run():
        db_session.expire_all()
        assert client.get(url).status_code == 200

    # One of each link with its defect first: the panel reads the rows behind its «Исправить» links (one query per
    # kind of link present), so the page is compared with itself at one row of each kind and at seven.
    _grow(chain, world, db_session, numbers=range(1))
    small = _count_queries(db_session, run)
    _grow(chain, world, db_session, numbers=range(1, 7))
    assert _count_queries(db_session, run) == small


def _grow(chain, world, db_session, numbers=range(6)):
    """Six more of every link, each with a defect (a decision without participants)."""
    official = world["official"]
    for n in numbers:
        ind = add_indicator(chain.cycle, official, f"Q-{n:02d}", baseline=1, target=2)
        accepted_values(chain.cycle, official, {(ind, world["school_a"]): n})
        finding = make_finding(chain.cycle, official, f"Вывод {n}")
        rec = make_recommendation(chain.cycle, official, [world["school_a"], world["school_b"]], findings=[finding])
        measure = make_measure(chain.cycle, official, f"Мера {n}", indicators=[ind], recommendations=[rec])
        make_decision(chain.cycle, official, findings=[finding], measures=[measure], participants=None)
    db_session.commit()


# --- the pages ---------------------------------------------------------------------------------

def test_panel_lists_defects_grouped_by_stage_with_links(client, login, chain, world, db_session):
    make_finding(chain.cycle, world["official"], "Вывод без рекомендации")
    db_session.commit()
    login(world["official"])
    page = client.get(f"/effectiveness/cycles/{chain.cycle.id}/integrity")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-stage="REC"' in html and "Вывод без рекомендации" in html
    # «Исправить» opens the form that fixes the gap (a new recommendation with this finding chosen).
    finding = db_session.scalars(select(Finding).where(Finding.problem == "Вывод без рекомендации")).one()
    link = f'/followup/cycles/{chain.cycle.id}/recommendations/new?finding={finding.id}'
    assert f'href="{link}"' in html
    form = client.get(link).get_data(as_text=True)
    assert re.search(rf'value="{finding.id}" id="finding-{finding.id}"\s*checked>', form)
    detail = client.get(f"/cycles/{chain.cycle.id}").get_data(as_text=True)
    assert "разрывов: 1" in detail and f"/effectiveness/cycles/{chain.cycle.id}/integrity" in detail


def test_panel_of_an_intact_chain_says_so(client, login, chain, world):
    login(world["head"])
    html = client.get(f"/effectiveness/cycles/{chain.cycle.id}/integrity").get_data(as_text=True)
    assert 'id="integrity-ok"' in html


def test_school_a_cannot_see_school_b_panel(client, login, world, make_cycle, db_session):
    cycle = make_cycle(world["school_b"], world["director_b"], mechanism="I1.1")
    db_session.commit()
    login(world["director_a"])
    assert client.get(f"/effectiveness/cycles/{cycle.id}/integrity").status_code == 404
    assert client.get(f"/effectiveness/cycles/{cycle.id}").status_code == 404
    client.post("/logout")
    login(world["director_b"])
    assert client.get(f"/effectiveness/cycles/{cycle.id}/integrity").status_code == 200


def test_an_approved_stage_page_shows_gaps_that_appeared_later(client, login, chain, world, db_session):
    from app.core.timeutil import utcnow

    rec_stage = chain.cycle.stage("REC")
    rec_stage.state, rec_stage.approved_at = "approved", utcnow()
    chain.items[0].due_date = today() - timedelta(days=2)
    db_session.commit()
    login(world["official"])
    html = client.get(f"/stages/{rec_stage.id}").get_data(as_text=True)
    assert 'id="stage-integrity"' in html and "не ознакомилась" in html
    assert 'id="stage-integrity"' not in client.get(f"/stages/{chain.cycle.stage('MEAS').id}").get_data(as_text=True)


def test_fix_links_are_offered_only_to_who_may_change_the_cycle(client, login, chain, world, db_session):
    """An auditor (or an analyst, an expert) was offered «Исправить» beside each gap and got «Доступ запрещён»: the
    panel and the stage page list the gaps for them without the link."""
    from app.core.timeutil import utcnow

    make_finding(chain.cycle, world["official"], "Вывод без рекомендации")
    rec_stage = chain.cycle.stage("REC")
    rec_stage.state, rec_stage.approved_at = "approved", utcnow()
    db_session.commit()
    login(world["auditor"])
    html = client.get(f"/effectiveness/cycles/{chain.cycle.id}/integrity").get_data(as_text=True)
    assert "Вывод без рекомендации" in html and "Исправить" not in html
    stage = client.get(f"/stages/{rec_stage.id}").get_data(as_text=True)
    assert 'id="stage-integrity"' in stage and "Исправить" not in stage
    client.post("/logout")
    login(world["official"])
    rec_stage.state, rec_stage.approved_at = "draft", None  # a stage the official may still change
    db_session.commit()
    assert "Исправить" in client.get(f"/effectiveness/cycles/{chain.cycle.id}/integrity").get_data(as_text=True)


def _row_of(html: str, text: str) -> str:
    return next(row for row in html.split("<tr") if text in row)


def test_a_gap_of_an_approved_stage_says_why_it_cannot_be_fixed_there(client, login, chain, world, db_session):
    """«Исправить» beside a gap of an approved stage opened a form whose save was refused («можно, пока он не
    отправлен на утверждение»): the official typed a recommendation and lost it. The panel and the stage page now say
    why instead, and the form's address itself leads back to the stage with the reason."""
    from app.core.timeutil import utcnow

    finding = make_finding(chain.cycle, world["official"], "Вывод без рекомендации")
    rec_stage = chain.cycle.stage("REC")
    rec_stage.state, rec_stage.approved_at = "approved", utcnow()
    db_session.commit()
    login(world["official"])
    panel = client.get(f"/effectiveness/cycles/{chain.cycle.id}/integrity").get_data(as_text=True)
    row = _row_of(panel, "Вывод без рекомендации")
    assert "Исправить" not in row and "можно, пока он не отправлен на утверждение" in row
    stage = client.get(f"/stages/{rec_stage.id}").get_data(as_text=True)
    assert 'id="stage-integrity"' in stage and "Исправить" not in stage
    assert "можно, пока он не отправлен на утверждение" in stage
    form = client.get(f"/followup/cycles/{chain.cycle.id}/recommendations/new?finding={finding.id}")
    assert form.status_code == 302 and form.headers["Location"].endswith(f"/stages/{rec_stage.id}")
    page = client.get(form.headers["Location"]).get_data(as_text=True)
    assert "можно, пока он не отправлен на утверждение" in page


def test_content_forms_of_an_approved_stage_lead_to_the_stage_with_the_reason(client, login, chain, world,
                                                                            db_session):
    """An approved «Показатели» stage: its indicator's edit page showed the form, and the save was refused."""
    from app.core.timeutil import utcnow

    ind_stage = chain.cycle.stage("IND")
    ind_stage.state, ind_stage.approved_at = "approved", utcnow()
    db_session.commit()
    indicator = chain.cycle.indicators[0]
    login(world["official"])
    for url in (f"/indicators/{indicator.id}/edit", f"/cycles/{chain.cycle.id}/indicators/new"):
        answer = client.get(url)
        assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/stages/{ind_stage.id}"), url
        assert "сейчас не редактируется" in client.get(answer.headers["Location"]).get_data(as_text=True)
    ind_stage.state, ind_stage.approved_at = "draft", None
    db_session.commit()
    assert client.get(f"/indicators/{indicator.id}/edit").status_code == 200


def test_a_stage_page_says_how_many_gaps_it_does_not_list(client, login, chain, world, db_session):
    """«Разрывы цепочки на этом этапе (6):» listed five and said nothing of the sixth: the reader counted five and
    looked for the missing one. The count of those left to the panel is given under the list."""
    from app.core.timeutil import utcnow

    for n in range(6):
        make_finding(chain.cycle, world["official"], f"Вывод без рекомендации № {n + 1}")
    rec_stage = chain.cycle.stage("REC")
    rec_stage.state, rec_stage.approved_at = "approved", utcnow()
    db_session.commit()
    login(world["official"])
    html = client.get(f"/stages/{rec_stage.id}").get_data(as_text=True)
    assert "Разрывы цепочки на этом этапе (6):" in html
    assert html.count("Вывод без рекомендации № ") == 5
    assert "и ещё 1 разрыв — на панели целостности" in html

"""Effectiveness evaluation: values after the measures against baseline and target (hand-computed, 'down'
indicators too), measure assessments and their override, proposals carried into the next period's cycle,
refused input that changes nothing, and the page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.core.errors import PermissionDenied, StaleObject, ValidationFailed
from app.effectiveness import services
from app.effectiveness.integrity import check_cycle
from tests.fixtures_effectiveness import accepted_values, make_measure, today


def audit_count(session):
    return session.scalar(select(func.count()).select_from(AuditEvent))


def row(rows, code):
    return next(r for r in rows if r.code == code)


# --- numbers -----------------------------------------------------------------------------------

def test_values_after_the_measures_against_baseline_and_target(chain):
    rows = services.indicator_rows(chain.cycle)
    up, down, worse = row(rows, "E-01"), row(rows, "E-02"), row(rows, "E-03")
    # E-01 (up, 50 → 60): schools 56 and 64, mean 60 — improved by 10, target reached exactly.
    assert (up.after, up.change, up.improved, up.target_met, up.progress) == (
        Decimal("60.00"), Decimal("10.00"), True, True, Decimal("100.00"))
    # E-02 (down, 10 → 6): 9 and 8, mean 8.5 — lower is better, so improved; target 6 not reached; 1.5 of 4.
    assert (down.after, down.change, down.improved, down.target_met, down.progress) == (
        Decimal("8.50"), Decimal("-1.50"), True, False, Decimal("37.50"))
    # E-03 (down, 10 → 8): 12 and 11, mean 11.5 — went the wrong way.
    assert (worse.after, worse.improved, worse.target_met, worse.progress) == (
        Decimal("11.50"), False, False, Decimal("-75.00"))
    assert sorted((s.name, s.after) for s in up.schools) == [("Школа А", Decimal("56")), ("Школа Б", Decimal("64"))]


def test_school_values_of_an_earlier_period_are_shown_as_before(chain, world, db_session):
    accepted_values(chain.cycle, world["official"], {(chain.indicators["up"], world["school_a"]): 52},
                    period="2024/25")
    up = row(services.indicator_rows(chain.cycle), "E-01")
    by_name = {s.name: s for s in up.schools}
    assert by_name["Школа А"].before == Decimal("52") and by_name["Школа А"].change() == Decimal("4")
    assert by_name["Школа Б"].before is None
    assert up.after == Decimal("60.00")  # the earlier period does not enter the value after the measures


def test_previous_cycle_values_are_the_before_of_a_carried_indicator(chain, world, db_session):
    from app.cycles.models import Cycle, Indicator

    nxt = Cycle(track=chain.cycle.track, owner=chain.cycle.owner, period="2026/27", previous=chain.cycle)
    db_session.add(nxt)
    db_session.flush()
    carried = Indicator(cycle=nxt, code="E-01", name="Показатель", unit="%", definition="ф", group_name="г",
                        source="с", collection_method="м", periodicity="ежегодно", baseline=60, target=65,
                        direction="up", responsible="П", carried_from_id=chain.indicators["up"].id)
    db_session.add(carried)
    db_session.flush()
    accepted_values(nxt, world["official"], {(carried, world["school_a"]): 61})
    r = row(services.indicator_rows(nxt), "E-01")
    (school,) = r.schools
    assert (school.before, school.after, r.after, r.improved) == (Decimal("56"), Decimal("61"), Decimal("61.00"), True)


def test_measures_assessed_from_the_indicators_they_were_to_move(chain, world, db_session):
    official, ind = world["official"], chain.indicators
    both = make_measure(chain.cycle, official, "Обе", indicators=[ind["up"], ind["worse"]])
    none = make_measure(chain.cycle, official, "Без показателей")
    results = {r.measure.id: r for r in services.assess_measures(chain.cycle, services.indicator_rows(chain.cycle),
                                                                  today=today())}
    assert results[chain.measures["moves"].id].computed == "moved"
    assert results[chain.measures["stalls"].id].computed == "not_moved"
    assert results[both.id].computed == "not_moved"
    assert results[none.id].computed == "not_measurable"
    # the values as the page's table prints them: the baseline as entered, the mean after with a decimal
    assert results[chain.measures["moves"].id].details == [("E-01", "50 → 60,0: улучшился")]


def test_a_measure_whose_indicator_was_not_measured_after_it_ended_is_not_measurable(chain, world, db_session):
    from datetime import datetime, timezone

    from app.monitoring.models import IndicatorValue

    ended = make_measure(chain.cycle, world["official"], "Курсы", indicators=[chain.indicators["up"]],
                         start=today() - timedelta(days=90), end=today() - timedelta(days=30))
    for value in db_session.scalars(select(IndicatorValue).where(
            IndicatorValue.indicator_id == chain.indicators["up"].id)):
        value.updated_at = datetime.combine(today() - timedelta(days=60), datetime.min.time(), tzinfo=timezone.utc)
    db_session.flush()
    results = {r.measure.id: r for r in services.assess_measures(chain.cycle, services.indicator_rows(chain.cycle),
                                                                  today=today())}
    assert results[ended.id].computed == "not_measurable"
    assert results[ended.id].details == [("E-01", "не измерялся после окончания меры")]
    # done today, begun today: values from before it began cannot show its effect (walk 19)
    assert results[chain.measures["moves"].id].computed == "not_measurable"


def test_cancelled_measures_are_not_assessed(chain, db_session):
    measure = chain.measures["stalls"]
    measure.state, measure.cancel_reason, measure.done_at = "cancelled", "отменено", None
    evaluation = services.save_evaluation(chain.cycle, conclusions="Пересчёт", actor=chain.decision.responsible)
    assert {a.measure_id for a in evaluation.assessments} == {chain.measures["moves"].id}


def test_an_unfinished_measure_is_not_rated_and_its_rating_is_refused(chain, world, db_session):
    measure = chain.measures["moves"]
    measure.state, measure.done_at = "in_progress", None
    evaluation = services.save_evaluation(chain.cycle, conclusions="Пересчёт", actor=chain.decision.responsible)
    assessment = next(a for a in evaluation.assessments if a.measure_id == measure.id)
    assert assessment.computed == "not_measurable"
    with pytest.raises(ValidationFailed, match="не завершена — эффект не оценивается"):
        services.override_assessment(evaluation, measure_id=measure.id, result="moved", note="видно по ВПР",
                                     actor=world["official"])
    db_session.rollback()


# --- writes ------------------------------------------------------------------------------------

def test_saving_conclusions_stores_the_computed_assessments_and_is_audited(chain, world, db_session):
    evaluation = chain.evaluation
    assert {a.measure_id: a.computed for a in evaluation.assessments} == {
        chain.measures["moves"].id: "moved", chain.measures["stalls"].id: "not_moved"}
    before = audit_count(db_session)
    services.save_evaluation(chain.cycle, conclusions="Новые выводы", actor=world["official"],
                             expected_version=evaluation.version)
    db_session.commit()
    assert evaluation.conclusions == "Новые выводы"
    event = db_session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert audit_count(db_session) == before + 1
    assert (event.action, event.object_type, event.cycle_id) == ("update_content", "effectiveness_evaluation",
                                                                 chain.cycle.id)


def test_override_needs_a_reason_and_can_be_reset(chain, world, db_session):
    evaluation, measure = chain.evaluation, chain.measures["stalls"]
    before = audit_count(db_session)
    with pytest.raises(ValidationFailed, match="почему"):
        services.override_assessment(evaluation, measure_id=measure.id, result="moved", note=" ",
                                     actor=world["official"])
    db_session.rollback()
    assert audit_count(db_session) == before
    assessment = services.override_assessment(evaluation, measure_id=measure.id, result="moved",
                                              note="эффект виден по результатам ВПР", actor=world["official"])
    assert (assessment.computed, assessment.result) == ("not_moved", "moved")
    services.override_assessment(evaluation, measure_id=measure.id, result="", note="", actor=world["official"])
    assert assessment.result == "not_moved" and assessment.note is None


@pytest.mark.parametrize("kwargs, problem", [
    ({"kind": "idea", "text": "x"}, "Выберите вид предложения"),
    ({"kind": "goal", "text": "   "}, "Сформулируйте предложение."),
    ({"kind": "indicator_correction", "text": "x", "new_target": "5"}, "Выберите показатель"),
    ({"kind": "indicator_correction", "text": "x", "indicator": "up", "new_target": "пять"}, "должно быть числом"),
    ({"kind": "indicator_correction", "text": "x", "indicator": "up", "new_target": ""}, "Укажите новое целевое"),
    ({"kind": "indicator_correction", "text": "x", "indicator": "up", "new_target": "120"}, "от 0 до 100"),
])
def test_bad_proposals_are_refused_and_nothing_changes(chain, world, db_session, kwargs, problem):
    kwargs = dict(kwargs)
    if "indicator" in kwargs:
        kwargs["indicator_id"] = chain.indicators[kwargs.pop("indicator")].id
    before, proposals = audit_count(db_session), len(chain.evaluation.proposals)
    with pytest.raises(ValidationFailed) as refused:
        services.add_proposal(chain.cycle, actor=world["official"], **kwargs)
    db_session.rollback()
    assert any(problem in p for p in refused.value.problems), refused.value.problems
    db_session.expire_all()
    assert audit_count(db_session) == before and len(chain.evaluation.proposals) == proposals


def test_blank_conclusions_stale_forms_and_outsiders_are_refused(chain, world, db_session):
    before = audit_count(db_session)
    with pytest.raises(ValidationFailed, match="Сформулируйте выводы"):
        services.save_evaluation(chain.cycle, conclusions="  ", actor=world["official"])
    with pytest.raises(StaleObject):
        services.save_evaluation(chain.cycle, conclusions="x", actor=world["official"],
                                 expected_version=chain.evaluation.version - 1)
    with pytest.raises(PermissionDenied):
        services.save_evaluation(chain.cycle, conclusions="x", actor=world["director_a"])
    db_session.rollback()
    db_session.expire_all()
    assert chain.evaluation.conclusions == "Наставничество дало эффект."
    assert audit_count(db_session) == before


def test_nothing_is_editable_once_the_stage_is_submitted(chain, world, db_session):
    chain.cycle.stage("EFF").state = "on_review"
    with pytest.raises(ValidationFailed, match="открыт"):
        services.add_proposal(chain.cycle, kind="goal", text="Ещё цель", actor=world["official"])


# --- the next period ---------------------------------------------------------------------------

def test_proposals_become_draft_goals_and_corrected_targets_of_the_next_cycle(chain, world, db_session):
    from app.core.timeutil import utcnow
    from app.cycles.services import start_next_period

    correction = services.add_proposal(chain.cycle, kind="indicator_correction", text="Цель была завышена",
                                       indicator_id=chain.indicators["down"].id, new_target="7,5",
                                       actor=world["official"])
    chain.cycle.state, chain.cycle.closed_at = "closed", utcnow()
    db_session.commit()
    new = start_next_period(chain.cycle, actor=world["official"])
    db_session.commit()
    proposal_goal = next(g for g in new.goals if g.statement == "Снизить долю «2» по математике")
    assert proposal_goal.realism == "" and "Наставничество дало эффект." in proposal_goal.justification
    assert len(new.goals) == 3  # the two carried goals and the proposed one
    targets = {i.code: i.target for i in new.indicators}
    assert targets["E-02"] == Decimal("7.5") and targets["E-01"] == Decimal("60")
    assert chain.proposal.applied_cycle_id == new.id and correction.applied_cycle_id == new.id
    assert check_cycle(chain.cycle) == []
    carried = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "carry_over",
                                                          AuditEvent.object_type == "effectiveness_proposal")).all()
    assert len(carried) == 2 and all(e.cycle_id == new.id for e in carried)
    # The new GOAL stage cannot be submitted until the proposed goal is completed.
    from workflows.stage import required_content

    assert "Цель № 3: не заполнено поле «реалистичность»." in required_content(new.stage("GOAL"))


def test_evaluation_context_is_plain_data(chain):
    import json

    context = services.evaluation_context(chain.cycle)
    json.dumps(context, default=str)  # primitives (dates are the only non-JSON values)
    assert context["conclusions"] == "Наставничество дало эффект."
    assert [(m["title"], m["result"]) for m in context["measures"]] == [("Наставничество", "moved"),
                                                                       ("Семинар", "not_moved")]
    e02 = next(i for i in context["indicators"] if i["code"] == "E-02")
    assert (e02["baseline"], e02["after"], e02["target"], e02["improved"]) == ("10", "8,5", "6", True)
    assert context["proposals"] == [{"kind": "goal", "kind_label": "цель следующего цикла",
                                     "text": "Снизить долю «2» по математике", "indicator": "", "new_target": "—",
                                     "carried": False}]
    assert (context["moved"], context["not_moved"], context["not_measurable"]) == (1, 1, 0)


def test_before_after_chart_goes_through_the_chart_module(chain):
    svg = services.before_after_chart(services.indicator_rows(chain.cycle)).decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "после мер" in svg


# --- the page ----------------------------------------------------------------------------------

def test_page_shows_before_after_assessments_and_chart(client, login, chain, world):
    login(world["official"])
    html = client.get(f"/effectiveness/cycles/{chain.cycle.id}").get_data(as_text=True)
    assert 'data-code="E-02"' in html and "8,5" in html and "<svg" in html
    assert "есть эффект" in html and "нет эффекта" in html
    assert "Снизить долю «2» по математике" in html


def test_page_prints_each_column_of_numbers_with_one_number_of_decimals(client, login, chain, world, db_session):
    from lxml import html as lxml_html

    make_measure(chain.cycle, world["official"], "Без показателей")
    db_session.commit()
    login(world["official"])
    page = lxml_html.fromstring(client.get(f"/effectiveness/cycles/{chain.cycle.id}").get_data(as_text=True))
    rows = page.xpath("//table[@id='indicator-rows']/tbody/tr[@data-code]")
    cells = {r.get("data-code"): [" ".join(td.text_content().split()) for td in r.xpath("./td")] for r in rows}
    # the schools' values are whole, so the means after the measures and the changes get one decimal: the column
    # read «60» above «8,5» before
    assert [cells[c][4] for c in ("E-01", "E-02", "E-03")] == ["60,0", "8,5", "11,5"]
    assert [cells[c][5] for c in ("E-01", "E-02")] == ["+10,0", "−1,5"]
    assert all(td.get("class", "").split().count("text-end") for r in rows for td in r.xpath("./td")[3:7])
    # a note without an indicator is not led by a dash standing for its code («—: мера не завершена»)
    notes = [" ".join(d.text_content().split()) for d in page.xpath("//tr[@data-measure]/td[3]/div")]
    assert "не указаны показатели, на которые направлена мера" in notes, notes
    assert not [n for n in notes if n.startswith("—")], notes


def test_conclusions_form_saves_and_refuses_blank(client, login, chain, world, db_session):
    login(world["official"])
    url = f"/effectiveness/cycles/{chain.cycle.id}/conclusions"
    before = audit_count(db_session)
    refused = client.post(url, data={"conclusions": "   ", "version": chain.evaluation.version})
    assert refused.status_code == 422 and "Обязательное поле." in refused.get_data(as_text=True)
    assert audit_count(db_session) == before
    saved = client.post(url, data={"conclusions": "Меры результативны", "version": chain.evaluation.version})
    assert saved.status_code == 302
    db_session.expire_all()
    assert chain.evaluation.conclusions == "Меры результативны"


def test_proposal_and_override_forms(client, login, chain, world, db_session):
    login(world["official"])
    base = f"/effectiveness/cycles/{chain.cycle.id}"
    refused = client.post(f"{base}/proposals", data={"kind": "indicator_correction", "text": "Скорректировать",
                                                     "indicator_id": chain.indicators["up"].id, "new_target": "abc"})
    assert refused.status_code == 422 and "должно быть числом" in refused.get_data(as_text=True)
    assert client.post(f"{base}/proposals", data={"kind": "indicator_correction", "text": "Скорректировать",
                                                  "indicator_id": chain.indicators["up"].id,
                                                  "new_target": "62,5"}).status_code == 302
    db_session.expire_all()
    added = chain.evaluation.proposals[-1]
    assert (added.kind, added.new_target, added.indicator_id) == ("indicator_correction", Decimal("62.5"),
                                                                  chain.indicators["up"].id)
    assessment = next(a for a in chain.evaluation.assessments if a.measure_id == chain.measures["stalls"].id)
    no_note = client.post(f"{base}/assessments", data={"measure_id": assessment.measure_id, "result": "moved",
                                                       "note": "", "version": assessment.version})
    assert no_note.status_code == 422 and "почему" in no_note.get_data(as_text=True)
    assert client.post(f"{base}/assessments", data={"measure_id": assessment.measure_id, "result": "moved",
                                                    "note": "по данным ВПР", "version": assessment.version}
                       ).status_code == 302
    db_session.expire_all()
    assert assessment.result == "moved"
    assert client.post(f"/effectiveness/proposals/{added.id}/delete",
                       data={"version": added.version}).status_code == 302
    db_session.expire_all()
    assert added.id not in {p.id for p in chain.evaluation.proposals}


def test_eff_stage_page_shows_the_summary(client, login, chain, world):
    login(world["official"])
    html = client.get(f"/stages/{chain.cycle.stage('EFF').id}").get_data(as_text=True)
    assert 'id="effectiveness-summary"' in html and "Наставничество дало эффект." in html


def test_outsiders_get_404_on_every_effectiveness_route_and_nothing_changes(client, login, chain, world,
                                                                           db_session):
    login(world["director_a"])  # a school director: the municipal cycle is above their subtree
    base = f"/effectiveness/cycles/{chain.cycle.id}"
    before = audit_count(db_session)
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/integrity").status_code == 404
    assert client.post(f"{base}/conclusions", data={"conclusions": "Чужие", "version": 1}).status_code == 404
    assert client.post(f"{base}/proposals", data={"kind": "goal", "text": "Чужая"}).status_code == 404
    assert client.post(f"{base}/assessments", data={"measure_id": chain.measures["moves"].id, "result": "moved",
                                                    "note": "x", "version": 1}).status_code == 404
    assert client.post(f"/effectiveness/proposals/{chain.proposal.id}/delete",
                       data={"version": chain.proposal.version}).status_code == 404
    db_session.expire_all()
    assert audit_count(db_session) == before
    assert chain.evaluation.conclusions == "Наставничество дало эффект." and len(chain.evaluation.proposals) == 1


def test_a_head_count_adds_up_over_the_schools(chain, world, db_session):
    from tests.fixtures_effectiveness import add_indicator

    count = add_indicator(chain.cycle, world["official"], "E-05", baseline=30, target=25, direction="down",
                          unit="чел.")
    accepted_values(chain.cycle, world["official"], {(count, world["school_a"]): 12, (count, world["school_b"]): 9})
    r = row(services.indicator_rows(chain.cycle), "E-05")
    assert (r.after, r.change, r.improved, r.target_met) == (Decimal("21.00"), Decimal("-9.00"), True, True)

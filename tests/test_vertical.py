"""The vertical РУМ – МУМ – ВСОКО (README, «The vertical»): invariant indicators inherited down the levels and
guarded, their roll-up school → municipality → region (a share of organisations meeting the target counted over the
organisations, a change coloured by the indicator's direction), two-step data requests, the goals cascade, the regional
catalogue's indicator groups and library, and the demo's plausible library figures."""

import random
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import lxml.html
import pytest
import yaml
from sqlalchemy import func, select

from app import demo
from app.catalogue.services import DATA_DIR

from app.cycles.models import Goal, Indicator
from app.cycles.services import delete_content, inherit_invariants, save_content
from app.core.errors import PermissionDenied, ValidationFailed
from app.extensions import db
from app.monitoring import services as monitoring
from app.monitoring import values as monitoring_values
from app.monitoring.models import DataRequest, IndicatorValue
from app.vertical import services as vertical
from tests.conftest import counted_statements, fill_goal, fill_indicators, fill_method
from workflows import engine

FUTURE = date.today() + timedelta(days=30)


@pytest.fixture
def region_people(world, make_user, db_session):
    people = {"r_official": make_user("official", world["region"], login="r_official"),
              "r_head": make_user("head", world["region"], login="r_head")}
    db_session.commit()
    return people


def _approve(stage, editor, approver):
    engine.fire(stage, "submit", actor=editor)
    engine.fire(stage, "approve", actor=approver)


def _invariant(cycle, actor, code, *, target=80, aggregation="mean_weighted", unit="%", direction="up", group=None):
    return save_content(Indicator, cycle, actor=actor, data={
        "code": code, "name": f"Показатель {code}", "unit": unit, "definition": "число / всего × 100",
        "group_name": group or cycle.track.mechanism.indicator_groups[0].name, "source": "ФИС ОКО",
        "collection_method": "выгрузка", "periodicity": "ежегодно", "baseline": 70, "target": target,
        "direction": direction, "responsible": "Петрова М.И.", "invariant": True, "aggregation": aggregation})


def _regional_cycle(world, people, make_cycle):
    """A regional R1.1 cycle with its goal approved: the indicators stage is open."""
    official = people["r_official"]
    cycle = make_cycle(world["region"], official, mechanism="R1.1")
    fill_goal(cycle, official)
    _approve(cycle.stage("GOAL"), official, people["r_head"])
    return official, cycle


@pytest.fixture
def regional(world, region_people, make_cycle, db_session):
    """A regional R1.1 cycle whose indicators stage is open, with two invariant indicators."""
    official, cycle = _regional_cycle(world, region_people, make_cycle)
    inv = _invariant(cycle, official, "R-01", target=80)
    share = _invariant(cycle, official, "R-02", target=50, aggregation="share_meeting")
    db_session.commit()
    return {"cycle": cycle, "mean": inv, "share": share, **region_people}


# --- catalogue ---

def test_regional_mechanisms_and_mx1_have_groups_and_a_default_library(db_session):
    from app.catalogue.models import LibraryIndicator, Mechanism, MechanismSet

    mechs = {m.code: m for m in db_session.scalars(
        select(Mechanism).join(Mechanism.mechanism_set).where(MechanismSet.active.is_(True)))}
    for code in ("R2.1", "R2.2", "R2.3", "R2.4", "R2.5", "MX.1"):
        groups = {g.name for g in mechs[code].indicator_groups}
        assert len(groups) >= 3, code
        library = db_session.scalars(select(LibraryIndicator).where(LibraryIndicator.mechanism_code == code)).all()
        # The library covers every required group, so a cycle can fill its indicators stage from it alone.
        assert groups <= {li.group_name for li in library}, code
    assert (mechs["M1.1"].upper_code, mechs["I1.1"].upper_code, mechs["MX.1"].upper_code,
            mechs["M2.3"].upper_code) == ("R1.1", "M1.1", "R2.1", "R2.5")


def test_a_set_loaded_before_gets_the_missing_groups_and_counterparts_filled_in(db_session):
    from app.catalogue.models import IndicatorGroup, Mechanism, MechanismSet
    from app.catalogue.services import load_mechanism_catalogue

    r21 = db_session.scalar(select(Mechanism).join(Mechanism.mechanism_set)
                            .where(Mechanism.code == "R2.1", MechanismSet.active.is_(True)))
    m11 = db_session.scalar(select(Mechanism).join(Mechanism.mechanism_set)
                            .where(Mechanism.code == "M1.1", MechanismSet.active.is_(True)))
    for g in list(r21.indicator_groups):
        db_session.delete(g)
    m11.upper_code = None
    db_session.flush()
    db_session.expire_all()
    assert load_mechanism_catalogue() == []  # no new set: the loaded ones are filled in
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(IndicatorGroup)
                             .where(IndicatorGroup.mechanism_id == r21.id)) == 6
    assert db_session.get(Mechanism, m11.id).upper_code == "R1.1"


# --- invariant indicators ---

def test_a_municipal_cycle_inherits_the_regional_invariants_with_the_upper_target(world, regional, make_cycle):
    municipal = make_cycle(world["mun"], world["official"], mechanism="M1.1")
    inherited = {i.code: i for i in municipal.indicators}
    assert set(inherited) == {"R-01", "R-02"}
    assert inherited["R-01"].upper_indicator_id == regional["mean"].id
    assert inherited["R-01"].target == Decimal("80") and inherited["R-01"].baseline is None
    assert inherited["R-02"].aggregation == "share_meeting" and inherited["R-02"].invariant


def test_an_unrelated_mechanism_or_period_inherits_nothing(world, regional, make_cycle):
    assert make_cycle(world["mun"], world["official"], mechanism="M1.2").indicators == []
    assert make_cycle(world["mun"], world["official"], mechanism="M1.1", period="2026/27").indicators == []


def test_an_inherited_invariant_cannot_be_dropped_but_own_indicators_can_be_added(world, regional, make_cycle,
                                                                                   db_session):
    official, head = world["official"], world["head"]
    municipal = make_cycle(world["mun"], official, mechanism="M1.1")
    fill_goal(municipal, official)
    _approve(municipal.stage("GOAL"), official, head)
    db_session.commit()
    inherited = next(i for i in municipal.indicators if i.code == "R-01")
    with pytest.raises(ValidationFailed) as refused:
        delete_content(inherited, actor=official)
    assert "обязателен" in str(refused.value) and "Удалить его нельзя" in str(refused.value)
    db_session.rollback()
    assert db_session.get(Indicator, inherited.id) is not None
    own = fill_indicators(municipal, official)
    assert len(municipal.indicators) == 2 + len(own)
    delete_content(own[0], actor=official)  # an own indicator goes as before


def test_the_indicators_stage_refuses_a_cycle_without_a_later_invariant_until_it_is_added(
        world, regional, make_cycle, db_session):
    official, head = world["official"], world["head"]
    municipal = make_cycle(world["mun"], official, mechanism="M1.1")
    fill_goal(municipal, official)
    _approve(municipal.stage("GOAL"), official, head)
    fill_indicators(municipal, official)
    for ind in municipal.indicators:
        if ind.baseline is None:
            ind.baseline = 60
    late = _invariant(regional["cycle"], regional["r_official"], "R-03", target=90)
    db_session.commit()
    problems = engine.check_guards(municipal.stage("IND"), "submit")
    assert any("R-03" in p and "обязательного показателя" in p for p in problems), problems
    assert inherit_invariants(municipal, actor=official) == 1
    added = next(i for i in municipal.indicators if i.code == "R-03")
    assert added.upper_indicator_id == late.id and added.target == Decimal("90")
    added.baseline = 85
    assert not [p for p in engine.check_guards(municipal.stage("IND"), "submit") if "R-0" in p]
    with pytest.raises(ValidationFailed):
        inherit_invariants(municipal, actor=official)


def test_a_bad_aggregation_is_refused(world, regional):
    with pytest.raises(ValidationFailed, match="способ свода"):
        save_content(Indicator, regional["cycle"], actor=regional["r_official"], obj=regional["mean"],
                     data={"aggregation": "median"})


# --- roll-up ---

def _value(indicator, org, value, period="2025/26"):
    db.session.add(IndicatorValue(indicator_id=indicator.id, organisation_id=org.id, period=period,
                                  value=Decimal(str(value)), source="import"))


@pytest.fixture
def rolled(world, regional, make_org, make_user, make_cycle, db_session):
    """Two municipalities: MUN answers from its two schools (500 and 120 students), MUN2 answers for itself;
    a third, MUN3, has not answered."""
    mun2 = make_org("municipality", parent=world["region"], code="MUN2", name="Второй муниципалитет")
    make_org("school", parent=mun2, code="SCH-C", name="Школа В", students=380)
    mun3 = make_org("municipality", parent=world["region"], code="MUN3", name="Третий муниципалитет")
    make_org("school", parent=mun3, code="SCH-D", name="Школа Г", students=50)
    municipal = make_cycle(world["mun"], world["official"], mechanism="M1.1")
    lower = {i.code: i for i in municipal.indicators}
    # School values come in through the municipal cycle's indicator, MUN2's own answer through the regional one.
    _value(lower["R-01"], world["school_a"], 90)
    _value(lower["R-01"], world["school_b"], 40)
    _value(lower["R-02"], world["school_a"], 60)
    _value(lower["R-02"], world["school_b"], 30)
    _value(regional["mean"], mun2, 70)
    _value(regional["share"], mun2, 55)
    _value(regional["mean"], world["school_a"], 80, period="2024/25")
    db_session.commit()
    return {**regional, "municipal": municipal, "mun2": mun2, "mun3": mun3}


def test_the_rollup_aggregates_each_invariant_as_declared(world, rolled):
    from app.vertical.services import rollup

    data = rollup(rolled["cycle"])
    mean, share = data.indicators
    rows = {r.organisation.code: r for r in mean.rows}
    # MUN from its schools, weighted by students: (90·500 + 40·120) / 620.
    assert rows["MUN"].value == Decimal("80.3226") and rows["MUN"].source == "lower"
    assert (rows["MUN"].answered, rows["MUN"].expected) == (2, 2)
    assert rows["MUN"].inherits and not rows["MUN2"].inherits
    assert rows["MUN2"].value == Decimal("70") and rows["MUN2"].source == "own"
    assert rows["MUN3"].value is None and [r.organisation.code for r in mean.not_answered] == ["MUN3"]
    # The region pools: (90·500 + 40·120 + 70·380) / 1000.
    assert mean.value == Decimal("76.4000")
    # Dynamics: last year only school A answered (80).
    assert rows["MUN"].previous == Decimal("80") and mean.previous == Decimal("80.0000")
    assert rows["MUN"].delta == Decimal("0.3226")
    # Share of organisations meeting the target 50: school A (60) yes, school B (30) no, MUN2 (55) yes.
    share_rows = {r.organisation.code: r for r in share.rows}
    assert share_rows["MUN"].value == Decimal("50.0000")
    assert share.value == Decimal("66.6667")


def test_the_municipal_rollup_counts_a_schools_answer_to_the_regions_request(world, rolled, make_org, db_session):
    """A regional request passed down by the municipality stores the schools' answers against the regional
    indicator: the municipal cycle's roll-up showed those schools «не ответил»."""
    from app.vertical.services import rollup

    school = make_org("school", parent=world["mun"], code="SCH-E", name="Школа Д", students=100)
    _value(rolled["mean"], school, 50)
    db_session.commit()
    data = rollup(rolled["municipal"])
    mean = next(i for i in data.indicators if i.indicator.code == "R-01")
    rows = {r.organisation.code: r for r in mean.rows}
    assert set(rows) == {"SCH-A", "SCH-B", "SCH-E"}  # nothing of another municipality (MUN2's own answer)
    assert rows["SCH-E"].value == Decimal("50") and rows["SCH-E"].source == "own"
    assert rows["SCH-A"].previous == Decimal("80")  # last year's answer, given to the region
    # (90·500 + 40·120 + 50·100) / 720
    assert mean.value.quantize(Decimal("0.01")) == Decimal("76.11")


def test_a_share_of_organisations_meeting_the_target_is_not_judged_against_the_target(world, rolled, client,
                                                                                     login):
    """«Доля организаций, достигших целевого значения»: MUN's row from its schools and the region's total are shares
    of organisations meeting the target, not values of the indicator — «66,7» was judged against the target 50 as if
    it were one, and a lower-is-better indicator's «цель 5,0 … 66,7» read «не достигнута»."""
    import lxml.html

    from app.vertical.services import rollup

    share = rollup(rolled["cycle"]).indicators[1]
    rows = {r.organisation.code: r for r in share.rows}
    assert share.meets is None and rows["MUN"].meets is None  # shares, not judged
    assert rows["MUN2"].meets is True  # MUN2's own answer (55) is the indicator's value: judged
    login(rolled["r_official"])
    page = lxml.html.fromstring(client.get(f"/cycles/{rolled['cycle'].id}/rollup").get_data(as_text=True))
    (section,) = page.xpath("//section[@data-indicator='R-02']")
    summary = " ".join(section.xpath("./p")[0].text_content().split())
    assert "Итого: 66,7 % организаций, достигших цели" in summary and "цель не достигнута" not in summary
    assert "цель достигнута" not in summary
    mun = " ".join(section.xpath(".//tr[@data-organisation='MUN']")[0].text_content().split())
    assert "доля достигших цели, по данным 2 из 2 ОО" in mun and "достигнута" not in mun.replace("достигших", "")


def test_a_school_mechanisms_rollup_does_not_expect_the_kindergartens(world, rolled, make_org, db_session):
    from app.vertical.services import rollup

    make_org("preschool", parent=world["mun"], code="DOU-1", name="Детский сад № 1")
    db_session.commit()
    municipal = rollup(rolled["municipal"]).indicators[0]
    assert {r.organisation.code for r in municipal.rows} == {"SCH-A", "SCH-B"}
    regional = {r.organisation.code: r for r in rollup(rolled["cycle"]).indicators[0].rows}
    assert regional["MUN"].expected == 2


def test_the_rollup_sums_counts(world, regional, make_cycle, db_session):
    from app.vertical.services import rollup

    count = _invariant(regional["cycle"], regional["r_official"], "R-09", unit="чел.", aggregation="sum",
                       target=10)
    _value(count, world["school_a"], 7)
    _value(count, world["school_b"], 5)
    db_session.commit()
    item = next(i for i in rollup(regional["cycle"]).indicators if i.indicator.code == "R-09")
    assert item.value == Decimal("12.0000")


def test_drilling_down_shows_a_municipalitys_schools(world, rolled):
    from app.vertical.services import rollup

    data = rollup(rolled["cycle"], world["mun"])
    rows = {r.organisation.code: r.value for r in data.indicators[0].rows}
    assert rows == {"SCH-A": Decimal("90"), "SCH-B": Decimal("40")}
    assert data.indicators[0].value == Decimal("80.3226")


def test_the_rollup_runs_a_fixed_number_of_statements_whatever_the_region(world, rolled, make_org, db_session):
    from app.vertical.services import rollup

    cycle = rolled["cycle"]
    db_session.expire_all()
    with counted_statements() as few:
        rollup(cycle)
    for n in range(6):
        mun = make_org("municipality", parent=world["region"], code=f"MX{n}", name=f"Район {n}")
        for k in range(4):
            school = make_org("school", parent=mun, code=f"MX{n}-{k}", students=100 + k)
            _value(rolled["mean"], school, 50 + k)
    db_session.commit()
    db_session.expire_all()
    with counted_statements() as many:
        data = rollup(cycle)
    assert len(data.units) == 9
    assert len(many) == len(few), (len(few), len(many))


# --- the goals cascade ---

def test_the_cascade_links_region_municipality_and_school_goals_with_current_values(
        world, rolled, make_cycle, make_org, make_user, db_session):
    from app.vertical.services import cascade

    region_goal = rolled["cycle"].goals[0]
    municipal = rolled["municipal"]
    mun_goal = fill_goal(municipal, world["official"])
    save_content(Goal, municipal, actor=world["official"], obj=mun_goal, data={"parent_goal_id": region_goal.id})
    school_cycle = make_cycle(world["school_a"], world["director_a"], mechanism="I1.1")
    school_goal = fill_goal(school_cycle, world["director_a"])
    save_content(Goal, school_cycle, actor=world["director_a"], obj=school_goal, data={"parent_goal_id": mun_goal.id})
    db_session.commit()
    db_session.expire_all()
    with counted_statements() as statements:
        data = cascade(db_session.get(type(rolled["cycle"]), rolled["cycle"].id))
    [root] = data.roots
    assert root.goal.id == region_goal.id
    [child] = root.children
    assert child.goal.id == mun_goal.id and [g.goal.id for g in child.children] == [school_goal.id]
    mun_values = {n.indicator.code: n for n in data.indicators_of(municipal.id)}
    assert mun_values["R-01"].value == Decimal("80.3226") and mun_values["R-01"].source == "lower"
    # The region's current value pools as the roll-up does: MUN2's own answer in place of its school's.
    region_values = {n.indicator.code: n.value for n in data.indicators_of(rolled["cycle"].id)}
    assert region_values["R-01"] == Decimal("76.4000") and region_values["R-02"] == Decimal("66.6667")
    # The school's own value, given through the municipal cycle's indicator its own inherits («нет данных» before).
    school_values = {n.indicator.code: n for n in data.indicators_of(school_cycle.id)}
    assert school_values["R-01"].value == Decimal("90") and school_values["R-01"].source == "own"
    # A second municipality with its goal linked and two school goals under it: the same statements.
    official2 = make_user("official", rolled["mun2"], login="official_mun2")
    second = make_cycle(rolled["mun2"], official2, mechanism="M1.1")
    goal2 = fill_goal(second, official2)
    save_content(Goal, second, actor=official2, obj=goal2, data={"parent_goal_id": region_goal.id})
    for code in ("SCH-E", "SCH-F"):
        school = make_org("school", parent=rolled["mun2"], code=code, students=200)
        director = make_user("director", school)
        c = make_cycle(school, director, mechanism="I1.1")
        g = fill_goal(c, director)
        save_content(Goal, c, actor=director, obj=g, data={"parent_goal_id": goal2.id})
    db_session.commit()
    db_session.expire_all()
    with counted_statements() as more:
        data = cascade(db_session.get(type(rolled["cycle"]), rolled["cycle"].id))
    assert len(data.roots[0].children) == 2
    assert len(more) == len(statements), (len(statements), len(more))
    # MUN2 answered the region's request for itself: its own cycle's inherited indicator shows that answer.
    second_values = {n.indicator.code: n for n in data.indicators_of(second.id)}
    assert second_values["R-01"].value == Decimal("70") and second_values["R-01"].source == "own"


# --- two-step data requests ---

@pytest.fixture
def regional_mon(world, region_people, make_cycle, db_session):
    """A regional R1.1 cycle at its monitoring stage, with an invariant weighted indicator R-01."""
    official, cycle = _regional_cycle(world, region_people, make_cycle)
    head = region_people["r_head"]
    invariant = _invariant(cycle, official, "R-01", target=80)
    fill_indicators(cycle, official)
    fill_method(cycle, official)
    _approve(cycle.stage("IND"), official, head)
    _approve(cycle.stage("METH"), official, head)
    assert cycle.stage("MON").state == "draft"
    db_session.commit()
    return {"cycle": cycle, "invariant": invariant}


def test_a_regional_request_goes_to_a_municipality_which_passes_it_down_and_answers_from_its_schools(
        world, region_people, regional_mon, db_session):
    from app.monitoring import services
    from app.monitoring.values import save_values

    cycle, invariant = regional_mon["cycle"], regional_mon["invariant"]

    r_official = region_people["r_official"]
    assert world["mun"] in services.addressee_choices(cycle)
    request = services.create_request(
        cycle, title="Сведения для РСОКО", period=cycle.period, deadline=FUTURE,
        indicator_ids=[invariant.id], organisation_ids=[world["mun"].id],
        actor=r_official, today=date.today())
    services.transition_request(request, "send", actor=r_official, today=date.today())
    db_session.commit()
    answer = request.submissions[0]
    assert answer in services.my_submissions(world["official"])
    # The region's people review the municipality's answer; they do not fill it.
    with pytest.raises(PermissionDenied):
        services.pass_down(answer, actor=r_official, today=date.today())

    child = services.pass_down(answer, actor=world["official"], today=date.today())
    db_session.commit()
    assert child.state == "sent" and child.organisation.id == world["mun"].id
    assert {s.organisation.code for s in child.submissions} == {"SCH-A", "SCH-B"}
    assert child in services.requests_in_scope(world["official"])
    with pytest.raises(ValidationFailed, match="уже передан"):
        services.pass_down(answer, actor=world["official"], today=date.today())
    with pytest.raises(ValidationFailed, match="принятых"):
        services.answer_from_lower(answer, actor=world["official"])

    code = invariant.code
    for school, director, value in ((world["school_a"], world["director_a"], "90"),
                                    (world["school_b"], world["director_b"], "40")):
        sub = next(s for s in child.submissions if s.organisation_id == school.id)
        report = save_values([{"indicator_code": code, "organisation_code": school.code, "period": child.period,
                               "value": value}], actor=director, source="form", submission=sub)
        assert report.ok, report.lines()
        services.transition_submission(sub, "submit", actor=director)
        services.transition_submission(sub, "accept", actor=world["head"])
    db_session.commit()

    # The regional grid shows the municipality and, under it, its schools' answers.
    row = services.grid(request, date.today()).rows[0]
    assert row.passed_down.id == child.id and (row.lower_done, row.lower_total) == (2, 2)

    assert services.answer_from_lower(answer, actor=world["official"]) == 1
    value = db_session.scalar(select(IndicatorValue).where(IndicatorValue.organisation_id == world["mun"].id))
    assert value.value == Decimal("80.3226") and "2 из 2" in value.comment
    services.transition_submission(answer, "submit", actor=world["official"])
    services.transition_submission(answer, "accept", actor=r_official)
    services.transition_request(child, "close", actor=world["official"], today=date.today())
    services.transition_request(request, "close", actor=r_official, today=date.today())
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(DataRequest)
                             .where(DataRequest.cycle_id == cycle.id, DataRequest.state == "closed")) == 2


def test_only_a_municipality_passes_a_request_down(world, sent, db_session):
    from app.monitoring import services

    with pytest.raises(ValidationFailed, match="муниципалитет"):
        services.pass_down(sent.submissions[0], actor=world["director_a"], today=date.today())


# --- pages ---

def test_the_rollup_and_cascade_pages_show_the_levels(world, rolled, client, login, db_session):
    cycle = rolled["cycle"]
    login(rolled["r_official"])
    page = client.get(f"/cycles/{cycle.id}/rollup")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Второй муниципалитет" in html and "собственный ответ" in html and "Не ответили" in html
    assert "76,4" in html
    drill = client.get(f"/cycles/{cycle.id}/rollup?unit={world['mun'].id}")
    assert drill.status_code == 200 and "Школа А" in drill.get_data(as_text=True)
    assert client.get(f"/cycles/{cycle.id}/rollup?unit={cycle.owner_id}").status_code == 404
    assert client.get(f"/cycles/{cycle.id}/cascade").status_code == 200


def test_a_municipal_official_cannot_open_the_regional_rollup_nor_drill_outside(world, rolled, client, login,
                                                                                  db_session):
    login(world["official"])
    assert client.get(f"/cycles/{rolled['cycle'].id}/rollup").status_code == 404
    municipal = rolled["municipal"]
    assert client.get(f"/cycles/{municipal.id}/rollup").status_code == 200
    assert client.get(f"/cycles/{municipal.id}/rollup?unit={rolled['mun2'].id}").status_code == 404


def test_the_municipality_passes_a_request_down_from_its_answer_page(world, region_people, regional_mon, client,
                                                                      login, db_session):
    from app.monitoring import services

    r_official = region_people["r_official"]
    request = services.create_request(
        regional_mon["cycle"], title="Сведения для РСОКО", period=regional_mon["cycle"].period, deadline=FUTURE,
        indicator_ids=[regional_mon["invariant"].id], organisation_ids=[world["mun"].id], actor=r_official,
        today=date.today())
    services.transition_request(request, "send", actor=r_official, today=date.today())
    db_session.commit()
    answer = request.submissions[0]
    login(world["official"])
    page = client.get(f"/monitoring/submissions/{answer.id}")
    assert page.status_code == 200 and 'id="pass-down"' in page.get_data(as_text=True)
    done = client.post(f"/monitoring/submissions/{answer.id}/pass-down", data={"version": answer.version})
    assert done.status_code == 302
    child = db_session.scalar(select(DataRequest).where(DataRequest.parent_submission_id == answer.id))
    assert child is not None and child.state == "sent"
    again = client.post(f"/monitoring/submissions/{answer.id}/pass-down", data={"version": answer.version})
    assert again.status_code == 422 and "уже передан" in again.get_data(as_text=True)
    # The region's grid shows the municipality's schools under it.
    client.post("/logout")
    login(r_official)
    grid = client.get(f"/monitoring/requests/{request.id}").get_data(as_text=True)
    assert "передан в подведомственные" in grid and "ответили 0 из 2" in grid


def test_the_indicators_stage_page_offers_the_missing_invariants(world, regional, make_cycle, client, login,
                                                                 db_session):
    official, head = world["official"], world["head"]
    municipal = make_cycle(world["mun"], official, mechanism="M1.1")
    fill_goal(municipal, official)
    _approve(municipal.stage("GOAL"), official, head)
    _invariant(regional["cycle"], regional["r_official"], "R-03", target=90)
    db_session.commit()
    login(official)
    stage_id = municipal.stage("IND").id
    page = client.get(f"/stages/{stage_id}").get_data(as_text=True)
    assert 'id="missing-invariants"' in page and "R-03" in page
    done = client.post(f"/cycles/{municipal.id}/indicators/inherit", data={})
    assert done.status_code == 302
    db_session.expire_all()
    assert "R-03" in {i.code for i in municipal.indicators}
    assert 'id="missing-invariants"' not in client.get(f"/stages/{stage_id}").get_data(as_text=True)


# --- what each level's figure means (a share of organisations counted over them; a change's colour; the demo) ---

def _share_of(data, code):
    return next(i for i in data.indicators if i.indicator.code == code)


def test_the_region_counts_the_organisations_behind_a_municipalitys_computed_share(world, rolled, client, login,
                                                                                 db_session):
    """MUN computed its share from its schools (school A 60 met the target 50, school B 30 did not): 50 %, 1 of 2.
    The region took that 50 % as MUN's value of the indicator, judged it «met», and read 100 % (MUN and MUN2);
    it is 2 of the 3 organisations counted (school A, school B, MUN2 answering for itself)."""
    db.session.add(IndicatorValue(indicator_id=rolled["share"].id, organisation_id=world["mun"].id, period="2025/26",
                                  value=Decimal("50"), source="form", organisations_met=1, organisations_counted=2))
    db_session.commit()
    share = _share_of(vertical.rollup(rolled["cycle"]), "R-02")
    rows = {r.organisation.code: r for r in share.rows}
    assert rows["MUN"].source == "own" and rows["MUN"].organisations == (1, 2) and rows["MUN"].meets is None
    assert rows["MUN2"].organisations is None and rows["MUN2"].meets is True  # its own value of the indicator
    assert share.value == Decimal("66.6667") and share.organisations == (2, 3)
    # the cascade's regional figure is the same count
    (now,) = [n for n in vertical.cascade(rolled["cycle"]).indicators_of(rolled["cycle"].id)
              if n.indicator.code == "R-02"]
    assert now.value == Decimal("66.6667") and now.organisations == (2, 3)

    login(rolled["r_official"])
    page = lxml.html.fromstring(client.get(f"/cycles/{rolled['cycle'].id}/rollup").get_data(as_text=True))
    (section,) = page.xpath("//section[@data-indicator='R-02']")
    summary = " ".join(section.xpath("./p")[0].text_content().split())
    assert "Итого: 66,7 % организаций, достигших цели (2 из 3 ОО)" in summary
    mun = " ".join(section.xpath(".//tr[@data-organisation='MUN']")[0].text_content().split())
    assert "собственный ответ: доля достигших цели" in mun and "достигли 1 из 2 ОО" in mun
    assert "не достигнута" not in mun and "✓" not in mun
    cascade = lxml.html.fromstring(client.get(f"/cycles/{rolled['cycle'].id}/cascade").get_data(as_text=True))
    (row,) = cascade.xpath("//table[contains(@class, 'cascade-indicators')]//tr[@data-indicator='R-02']")
    assert "66,7 % организаций, достигших цели (2 из 3 ОО)" in " ".join(row.text_content().split())


def _passed_down(world, region_people, make_cycle, aggregation):
    """A regional cycle at monitoring with an invariant R-02 (target 50) of `aggregation`, its request passed down
    by MUN, whose schools A (500 students) and B (120) answered 60 and 30 and were accepted; any other school of MUN
    has not answered."""
    official, cycle = _regional_cycle(world, region_people, make_cycle)
    invariant = _invariant(cycle, official, "R-02", target=50, aggregation=aggregation)
    fill_indicators(cycle, official)
    fill_method(cycle, official)
    for code in ("IND", "METH"):
        _approve(cycle.stage(code), official, region_people["r_head"])
    request = monitoring.create_request(cycle, title="Сведения для РСОКО", period=cycle.period, deadline=FUTURE,
                                        indicator_ids=[invariant.id], organisation_ids=[world["mun"].id],
                                        actor=official, today=date.today())
    monitoring.transition_request(request, "send", actor=official, today=date.today())
    answer = request.submissions[0]
    child = monitoring.pass_down(answer, actor=world["official"], today=date.today())
    answers = {"SCH-A": (world["director_a"], "60"), "SCH-B": (world["director_b"], "30")}
    for sub in (s for s in child.submissions if s.organisation.code in answers):
        director, value = answers[sub.organisation.code]
        row = {"indicator_code": "R-02", "organisation_code": sub.organisation.code, "period": child.period,
               "value": value}
        assert monitoring_values.save_values([row], actor=director, source="form", submission=sub).ok
        monitoring.transition_submission(sub, "submit", actor=director)
        monitoring.transition_submission(sub, "accept", actor=world["head"])
    return {"cycle": cycle, "answer": answer, "invariant": invariant}


@pytest.fixture
def share_request(world, region_people, make_cycle, db_session):
    made = _passed_down(world, region_people, make_cycle, "share_meeting")
    db_session.commit()
    return made


def test_a_mean_computed_from_some_schools_weighs_as_their_students_at_the_region(world, region_people, make_cycle,
                                                                                 make_org, db_session):
    """MUN's schools A and B answered, school X (1000 students) did not; MUN2 answered 70 for its 380 students. The
    region read (60·500 + 30·120 + 70·380) / 1000 = 60,2 before MUN computed its answer, and 57,2 after it: MUN's mean
    of two schools was weighed as all its 1620 students."""
    make_org("school", parent=world["mun"], code="SCH-X", name="Школа Х", students=1000)
    mun2 = make_org("municipality", parent=world["region"], code="MUN2", name="Второй муниципалитет")
    make_org("school", parent=mun2, code="SCH-C", name="Школа В", students=380)
    made = _passed_down(world, region_people, make_cycle, "mean_weighted")
    _value(made["invariant"], mun2, 70, period=made["cycle"].period)
    db_session.commit()
    before = _share_of(vertical.rollup(made["cycle"]), "R-02").value
    assert before == Decimal("60.2000")
    assert monitoring.answer_from_lower(made["answer"], actor=world["official"]) == 1
    db_session.commit()
    assert _share_of(vertical.rollup(made["cycle"]), "R-02").value == before
    (now,) = [n for n in vertical.cascade(made["cycle"]).indicators_of(made["cycle"].id) if n.indicator.code == "R-02"]
    assert now.value == before
    stored = db_session.scalar(select(IndicatorValue).where(IndicatorValue.organisation_id == world["mun"].id))
    assert stored.students_counted == 620


def test_a_share_computed_from_the_schools_keeps_its_counts_until_a_figure_is_typed_over_it(world, share_request,
                                                                                          db_session):
    answer = share_request["answer"]
    assert monitoring.answer_from_lower(answer, actor=world["official"]) == 1
    db_session.commit()
    stored = db_session.scalar(select(IndicatorValue).where(IndicatorValue.organisation_id == world["mun"].id))
    assert stored.value == Decimal("50") and (stored.organisations_met, stored.organisations_counted) == (1, 2)
    assert "цели достигли 1 из 2" in stored.comment
    # the region counts MUN's two schools, not MUN's 50 % judged against the target 50 («met»: 100 %)
    share = _share_of(vertical.rollup(share_request["cycle"]), "R-02")
    assert share.value == Decimal("50.0000") and share.organisations == (1, 2)

    def resave(value, comment):
        row = {"indicator_code": "R-02", "organisation_code": "MUN", "period": answer.request.period,
               "value": value, "comment": comment}
        report = monitoring_values.save_values([row], actor=world["official"], source="form", submission=answer)
        assert report.ok, report.lines()
        db_session.commit()
        db_session.refresh(stored)
        return stored.organisations_met, stored.organisations_counted

    # the form posts the figure back unchanged when the comment is edited: still the computed share
    assert resave("50", "Пересчитано.") == (1, 2)
    # a figure typed over it is the municipality's own value of the indicator
    assert resave("4,5", "Собственные данные.") == (None, None)


def test_a_change_is_coloured_by_the_indicators_direction(world, rolled, client, login, db_session):
    """A lower-is-better indicator: its total fell 80 → 76,4 (better) and MUN's row rose 80 → 80,3 (worse); the
    total's fall was shown red and the row's rise green."""
    rolled["mean"].direction = "down"
    db_session.commit()
    login(rolled["r_official"])
    page = lxml.html.fromstring(client.get(f"/cycles/{rolled['cycle'].id}/rollup").get_data(as_text=True))
    (section,) = page.xpath("//section[@data-indicator='R-01']")
    (total,) = section.xpath("./p[1]//span[contains(@class, 'delta')]")
    assert total.text_content().startswith("-3,6") and "text-success" in total.get("class")
    assert total.get("data-change") == "better"
    (row,) = section.xpath(".//tr[@data-organisation='MUN']//span[contains(@class, 'delta')]")
    assert row.text_content() == "+0,3" and "text-danger" in row.get("class") and row.get("data-change") == "worse"


def test_a_share_of_organisations_rising_is_better_whatever_the_indicators_direction():
    """The share of organisations meeting a lower-is-better target grows as they improve."""
    item = vertical.IndicatorRollup(SimpleNamespace(aggregation="share_meeting", direction="down"))
    assert item.higher_is_better
    assert item.row_higher_is_better(vertical.UnitRow(None, organisations=(1, 2)))
    assert not item.row_higher_is_better(vertical.UnitRow(None))  # a school's own value of the indicator


def test_the_demos_library_indicators_have_plausible_baselines_and_targets():
    """Every library indicator of the reference: a share within 0–100, the target better than the baseline in the
    indicator's direction by a realistic step, a lower-is-better share small («доля выпускников, не получивших
    аттестат» had the target 46,2 %)."""
    library = yaml.safe_load((DATA_DIR / "indicators.yaml").read_text(encoding="utf-8"))
    rng = random.Random(2026)  # noqa: S311 (test data)
    for entry in (i for mechanism in library.values() for i in mechanism["indicators"]):
        li = SimpleNamespace(code=entry["code"], unit=entry["unit"], direction=entry["direction"])
        for _draw in range(20):
            base, target = demo.library_figures(li, rng)
            step = round(target - base if li.direction == "up" else base - target, 1)
            assert step > 0, (li, base, target)
            if li.unit == "%":
                assert 0 <= target <= 100 and 0 <= base <= 100 and step <= 5, (li, base, target)
                if li.direction == "down":
                    assert base <= 15, (li, base, target)
            else:
                assert step <= max(2.0, 0.25 * base), (li, base, target)


def test_a_schools_rollup_says_there_is_nothing_below_and_lists_no_empty_totals(world, rolled, make_cycle, client,
                                                                                login, db_session):
    """A school's cycle holds the invariants but has no level below: its page listed each under «нет нижестоящего
    уровня» with «Итого: — · ответили 0 из 0»."""
    school = make_cycle(world["school_a"], world["director_a"], mechanism="I1.1")
    db_session.commit()
    assert any(i.invariant for i in school.indicators)
    login(world["director_a"])
    page = lxml.html.fromstring(client.get(f"/cycles/{school.id}/rollup").get_data(as_text=True))
    assert page.xpath("//*[@id='no-units']//a[contains(@href, '/cascade')]")
    assert not page.xpath("//section[contains(@class, 'rollup-indicator')]")


def test_the_municipality_reads_a_passed_down_request_without_links_to_the_regions_cycle(
        world, region_people, regional_mon, client, login, db_session):
    """The region's cycle of a request passed down is 404 to the municipality's people: its pages name it without a
    link (the monitoring list's «Цикл» column and the request page's crumbs linked /cycles/… and
    /monitoring/cycles/…/requests, which answered 404 — walk 21)."""
    import re

    from app.monitoring import services

    r_official, cycle = region_people["r_official"], regional_mon["cycle"]
    request = services.create_request(
        cycle, title="Сведения для РСОКО", period=cycle.period, deadline=FUTURE,
        indicator_ids=[regional_mon["invariant"].id], organisation_ids=[world["mun"].id], actor=r_official,
        today=date.today())
    services.transition_request(request, "send", actor=r_official, today=date.today())
    db_session.commit()
    answer = request.submissions[0]
    login(world["official"])
    assert client.post(f"/monitoring/submissions/{answer.id}/pass-down",
                       data={"version": answer.version}).status_code == 302
    child = db_session.scalar(select(DataRequest).where(DataRequest.parent_submission_id == answer.id))
    for user in (world["official"], world["head"]):
        client.post("/logout")
        login(user)
        for url in ("/monitoring/", f"/monitoring/requests/{child.id}"):
            page = client.get(url)
            assert page.status_code == 200, url
            text = page.get_data(as_text=True)
            assert cycle.period in text
            links = set(re.findall(r'href="(/(?:monitoring/)?cycles/[^"]*)"', text))
            assert f"/cycles/{cycle.id}" not in links and f"/monitoring/cycles/{cycle.id}/requests" not in links
            for link in links:
                assert client.get(link).status_code == 200, (user.login, url, link)

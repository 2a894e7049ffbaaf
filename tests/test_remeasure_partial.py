"""«После мер» when the repeat measurement covered only part of what an upper organisation's monitoring value stood
for (app/effectiveness/services.indicator_rows).

The department reported its own municipality-wide figure in the monitoring; the repeat measurement asked one school
of two. The upper value was dropped for any repeat below it, so «после мер» stood on that one school against the
municipality-wide baseline, and the page said nothing of it. Like with like: the upper value stays the figure
compared with the baseline, the page says which organisations were measured again, and a measure is not rated on a
monitoring value taken before it ended."""

from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from app.documents import contexts
from app.effectiveness import services
from app.monitoring.models import IndicatorValue
from tests.fixtures_effectiveness import (
    accepted_values, add_indicator, make_measure, open_all_stages, repeat_values, today,
)


def _repeat(cycle, actor, values, _db_session):
    return repeat_values(cycle, actor, values)


def _row(cycle, code):
    return next(r for r in services.indicator_rows(cycle) if r.code == code)


def _department_only(chain, world):
    """A share «чем меньше, тем лучше» (baseline 10) the department reported alone, 12 for the municipality."""
    worse = add_indicator(chain.cycle, world["official"], "E-09", baseline=10, target=8, direction="down")
    accepted_values(chain.cycle, world["official"], {(worse, world["mun"]): 12})
    return worse


def test_one_school_of_two_measured_again_keeps_the_departments_figure(chain, world, db_session):
    cycle, official = chain.cycle, world["official"]
    worse = _department_only(chain, world)
    _repeat(cycle, official, {(worse, world["school_a"]): 7}, db_session)
    row = _row(cycle, "E-09")
    # not school A's 7 against the municipality's baseline of 10
    assert row.after == 12
    (kept,) = row.kept
    assert (kept.name, kept.again, kept.total) == ("Тестовый муниципалитет", ["Школа А"], 2)
    # school A's repeat value still shows among the organisations
    assert ("Школа А", 7) in [(s.name, s.after) for s in row.schools]


def test_both_schools_measured_again_replace_the_departments_figure(chain, world, db_session):
    cycle, official = chain.cycle, world["official"]
    worse = _department_only(chain, world)
    _repeat(cycle, official, {(worse, world["school_a"]): 7, (worse, world["school_b"]): 8}, db_session)
    row = _row(cycle, "E-09")
    assert row.after == 7.5 and row.kept == []


def test_the_other_schools_own_monitoring_value_completes_the_figure(chain, world, db_session):
    """E-03: the schools answered the monitoring too (12 and 11) — school A measured again (7) and school B's 11 still
    cover the whole municipality, so the department's own figure gives way as before."""
    cycle, official, worse = chain.cycle, world["official"], chain.indicators["worse"]
    accepted_values(cycle, official, {(worse, world["mun"]): 12})
    _repeat(cycle, official, {(worse, world["school_a"]): 7}, db_session)
    row = _row(cycle, "E-03")
    assert row.after == 9 and row.kept == []


def test_a_regional_cycle_keeps_a_municipalitys_answer_measured_again_in_part(world, make_cycle, make_user,
                                                                              db_session):
    official = make_user("official", world["region"])
    cycle = make_cycle(world["region"], official, mechanism="R1.1")
    open_all_stages(cycle)
    ind = add_indicator(cycle, official, "R-01", baseline=10, target=8, direction="down")
    accepted_values(cycle, official, {(ind, world["mun"]): 12})
    _repeat(cycle, official, {(ind, world["school_b"]): 4}, db_session)
    row = _row(cycle, "R-01")
    assert row.after == 12 and [k.again for k in row.kept] == [["Школа Б"]]


def test_a_regional_cycle_keeps_the_regions_own_figure_over_a_kept_municipal_value(world, make_cycle, make_org,
                                                                                    make_user, db_session):
    """The region reported 11 for itself, the municipalities 10 and 14; the repeat asked school A alone. The first
    municipality's 10 stays (school B has no value of its own), and so it covers school B for nobody above it: the
    region's 11 stays too — not the municipalities' mean 12 with none of the repeat in it."""
    official = make_user("official", world["region"])
    second = make_org("municipality", parent=world["region"], code="MUN-2", name="Второй муниципалитет")
    make_org("school", parent=second, code="SCH-C", name="Школа В", students=300, settlement="city")
    cycle = make_cycle(world["region"], official, mechanism="R1.1")
    open_all_stages(cycle)
    ind = add_indicator(cycle, official, "R-02", baseline=10, target=8, direction="down")
    accepted_values(cycle, official, {(ind, world["region"]): 11, (ind, world["mun"]): 10, (ind, second): 14})
    _repeat(cycle, official, {(ind, world["school_a"]): 7}, db_session)
    row = _row(cycle, "R-02")
    assert row.after == 11
    # the region's value is the one that stands in the figure; the municipality's is held in it
    assert [(k.name, k.again) for k in row.kept] == [("Тестовая область", ["Школа А"])]


def test_a_regional_figure_gives_way_when_the_municipality_measured_again_in_full_does(world, make_cycle, make_org,
                                                                                       make_user, db_session):
    """Both schools of the first municipality measured again: its 10 gives way to them, and it still covers itself
    for the region, so the region's 11 gives way too — to the schools' 7 and 8 and the second municipality's 14."""
    official = make_user("official", world["region"])
    second = make_org("municipality", parent=world["region"], code="MUN-2", name="Второй муниципалитет")
    cycle = make_cycle(world["region"], official, mechanism="R1.1")
    open_all_stages(cycle)
    ind = add_indicator(cycle, official, "R-03", baseline=10, target=8, direction="down")
    accepted_values(cycle, official, {(ind, world["region"]): 11, (ind, world["mun"]): 10, (ind, second): 14})
    _repeat(cycle, official, {(ind, world["school_a"]): 7, (ind, world["school_b"]): 8}, db_session)
    row = _row(cycle, "R-03")
    assert row.after == Decimal("9.67") and row.kept == []


def test_the_measure_is_not_rated_on_the_kept_monitoring_value_and_the_page_says_so(client, login, chain, world,
                                                                                    db_session):
    cycle, official = chain.cycle, world["official"]
    worse = _department_only(chain, world)
    end = today() - timedelta(days=30)
    for value in db_session.scalars(select(IndicatorValue).where(IndicatorValue.indicator_id == worse.id)):
        value.updated_at = datetime.combine(end - timedelta(days=30), time(9), tzinfo=timezone.utc)
    measure = make_measure(cycle, official, "Курсы повышения квалификации", indicators=[worse],
                           start=end - timedelta(days=60), end=end)
    _repeat(cycle, official, {(worse, world["school_a"]): 7}, db_session)
    db_session.commit()
    rows = services.indicator_rows(cycle)
    (result,) = [r for r in services.assess_measures(cycle, rows, today=today()) if r.measure.id == measure.id]
    assert result.computed == "not_measurable"
    # it says which organisations were measured again, in words that fit one and many
    assert result.details == [("E-09", services.PARTIAL + "; повторно измерены: 1 организация из 2 (Школа А)")]

    login(official)
    page = client.get(f"/effectiveness/cycles/{cycle.id}").get_data(as_text=True)
    assert (f"повторно измерены: 1 организация из 2 (Школа А) — повторное измерение {int(cycle.period[:4]) + 1}; "
            f"«после мер» — по данным мониторинга за {cycle.period} (Тестовый муниципалитет)") in page
    assert "у остальных — значение мониторинга" not in page


def test_the_report_says_it_as_the_page_does(chain, world, db_session):
    """The signed report's assessment cell: which organisations were measured again and whose monitoring the figure
    is, without nested parentheses (it said «(повторно измерены только Школа А (1 из 2 орг.); фактическое значение —
    мониторинга …)»)."""
    cycle, official = chain.cycle, world["official"]
    worse = _department_only(chain, world)
    _repeat(cycle, official, {(worse, world["school_a"]): 7}, db_session)
    db_session.commit()
    ctx = contexts.build_context("effectiveness_report", cycle.stage("EFF"))
    (row,) = [r for r in ctx["indicator_rows"] if r["code"] == "E-09"]
    assert row["assessment"] == "не достигнуто; повторно измерена часть организаций (см. раздел 3)"
    assert ("Показатель «Показатель E-09» (E-09) повторно измерен частично: 1 организация из 2 (Школа А), "
            f"достигнутое значение — по данным мониторинга за {cycle.period} учебный год (Тестовый муниципалитет).") \
        in ctx["conclusions"]

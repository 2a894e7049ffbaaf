"""The owner's value of an indicator (итоговое значение по органу, ведущему цикл) is one rule wherever it is shown
(monitoring.values.owner_value): the owner's own value where it reported one; otherwise a head count («чел.»)
adds up over its organisations and anything else is their mean. The dashboard, the analytic report and the public
cycle page read the dashboard's owner row; the effectiveness page and its report compute it from the accepted
values. Before, the effectiveness page summed a head count while the others averaged it (a municipality's
21 pupils were «10,5» on the public page and in the signed effectiveness report), and the effectiveness page
added the municipality's own reported value to its schools'."""

import io
from decimal import Decimal

import lxml.html
from docx import Document
from sqlalchemy import delete, select

from app.analysis.dashboard import refresh_dashboard
from app.analysis.models import DashboardRow
from app.documents import contexts, rendering
from app.effectiveness import services
from app.monitoring.models import IndicatorValue
from app.monitoring.values import owner_value, topmost_answers
from tests.fixtures_effectiveness import accepted_values, add_indicator


def _doc_rows(data: bytes, first_header: list[str]) -> list[list[str]]:
    doc = Document(io.BytesIO(data))
    for table in doc.tables:
        header = [c.text.strip() for c in table.rows[0].cells]
        if header[:len(first_header)] == first_header:
            return [[c.text.strip() for c in row.cells] for row in table.rows]
    raise AssertionError(f"no table headed {first_header}")


def test_the_rule_itself():
    assert owner_value("чел.", [Decimal(12), Decimal(9)]) == 21
    assert owner_value("%", [Decimal(12), Decimal(9)]) == Decimal("10.5")
    assert owner_value("чел.", [Decimal(12), Decimal(9)], Decimal(30)) == 30  # the owner's own figure
    assert owner_value("чел.", []) is None
    # a municipality's answer stands for its schools'; a school answering under a silent municipality counts
    assert sorted(topmost_answers({"/1/2/": 21, "/1/2/5/": 12, "/1/2/6/": 9, "/1/3/7/": 4})) == [4, 21]


def _head_count(anl_cycle, world, db_session, *, own=None):
    """The cycle's first indicator as a head count, schools A and B 12 and 9 pupils (the municipality `own`)."""
    ind = anl_cycle.indicators[0]
    ind.unit, ind.baseline, ind.target, ind.direction = "чел.", Decimal("30"), Decimal("25"), "down"
    db_session.execute(delete(IndicatorValue).where(IndicatorValue.indicator_id == ind.id))
    values = {(world["school_a"], "12"), (world["school_b"], "9")} | ({(world["mun"], own)} if own else set())
    for org, value in values:
        db_session.add(IndicatorValue(indicator=ind, organisation=org, period=anl_cycle.period,
                                      value=Decimal(value), source="form"))
    db_session.flush()
    refresh_dashboard(anl_cycle)
    db_session.commit()
    return ind


def test_a_head_count_adds_up_on_the_dashboard_the_report_and_the_public_page(world, anl_cycle, db_session, client,
                                                                              login):
    ind = _head_count(anl_cycle, world, db_session)
    total = db_session.scalar(select(DashboardRow).where(DashboardRow.indicator_id == ind.id,
                                                         DashboardRow.is_total.is_(True)))
    assert total.value == 21.0 and total.history["mean_of"] == 2 and total.history["made_by"] == "сумма"
    assert total.change_baseline == -9.0

    login(world["official"])
    page = client.get(f"/analysis/cycles/{anl_cycle.id}/dashboard?indicator={ind.id}").get_data(as_text=True)
    assert "(сумма по 2 орг.)" in " ".join(page.split())

    # the analytic report's column is «Итоговое» (it was «Среднее», and a sum stood under it)
    ctx = contexts.build_context("analytic_report", anl_cycle.stage("ANL"))
    rows = _doc_rows(rendering.render("analytic_report", ctx), ["№", "Показатель, единица измерения"])
    assert rows[0][2:8] == ["Базовое", "Целевое", "Итоговое", "Мин.", "Макс.", "Число ОО"]
    mine = next(r for r in rows[1:] if r[1].startswith(f"{ind.code} "))
    assert mine[4:8] == ["21", "9", "12", "2"]

    # the public cycle page (the cycle's indicators approved) prints the municipality's 21, not 10,5 a school
    anl_cycle.stage("IND").state = "approved"
    db_session.commit()
    client.post("/logout")
    public = lxml.html.fromstring(client.get(f"/public/cycles/{anl_cycle.id}").get_data(as_text=True))
    cells = {" ".join(r.xpath("./td")[0].text_content().split()): [" ".join(td.text_content().split())
                                                                     for td in r.xpath("./td")]
             for r in public.xpath("//table[.//th[.='Базовое']]//tbody/tr")}
    row = cells[f"{ind.code} {ind.name}"]  # the row begins with the indicator's code
    assert row[4] == f"21 ({anl_cycle.period})", row


def test_the_owners_own_figure_stands_and_is_not_added_to_its_schools(world, anl_cycle, db_session):
    ind = _head_count(anl_cycle, world, db_session, own="30")
    total = db_session.scalar(select(DashboardRow).where(DashboardRow.indicator_id == ind.id,
                                                         DashboardRow.is_total.is_(True)))
    assert total.value == 30.0 and total.history["mean_of"] is None


def test_the_effectiveness_page_and_its_report_say_the_same_for_a_head_count(chain, world, db_session):
    count = add_indicator(chain.cycle, world["official"], "E-05", baseline=30, target=25, direction="down",
                          unit="чел.")
    accepted_values(chain.cycle, world["official"], {(count, world["school_a"]): 12, (count, world["school_b"]): 9})
    db_session.commit()
    page = next(r for r in services.indicator_rows(chain.cycle) if r.code == "E-05")
    assert page.after == Decimal("21.00") and page.target_met

    ctx = contexts.build_context("effectiveness_report", chain.cycle.stage("EFF"))
    rows = _doc_rows(rendering.render("effectiveness_report", ctx), ["№", "Показатель, единица измерения"])
    mine = next(r for r in rows[1:] if r[1].startswith("E-05 "))
    # «Достигнутое» 21 (was the mean 10,5 a school, «достигнуто» by accident of the average), change −9
    assert mine[4:7] == ["21", "\u22129", "достигнуто"], mine


def test_the_effectiveness_page_takes_the_municipalitys_own_figure(chain, world, db_session):
    count = add_indicator(chain.cycle, world["official"], "E-05", baseline=30, target=25, direction="down",
                          unit="чел.")
    accepted_values(chain.cycle, world["official"], {(count, world["school_a"]): 12, (count, world["school_b"]): 9,
                                                     (count, world["mun"]): 24})
    db_session.commit()
    page = next(r for r in services.indicator_rows(chain.cycle) if r.code == "E-05")
    # the municipality's 24, not 24 + 12 + 9 = 45
    assert page.after == Decimal("24.00") and page.target_met


def test_a_summed_figure_is_said_under_the_chart_not_drawn_across_the_schools_bars():
    from app.analysis import charts

    summed = charts.indicator_chart("E-05", [("Школа А", 12.0), ("Школа Б", 9.0)], target=25, baseline=30,
                                    total=21, unit="чел.", summed=True).decode()
    assert "в целом (сумма) 21; базовое 30; целевое 25" in summed
    assert "stroke-dasharray" not in summed  # no target line (dashed) over a school's bar
    averaged = charts.indicator_chart("E-01", [("Школа А", 56.0), ("Школа Б", 64.0)], target=60, baseline=50,
                                      total=60, unit="%").decode()
    assert "целевое 60" in averaged and "stroke-dasharray" in averaged


def test_the_before_after_chart_draws_each_indicator_on_its_own_scale():
    from app.effectiveness.services import IndicatorRow, before_after_chart

    rows = [IndicatorRow(1, "M-01", "Доля", "%", "up", Decimal("62.5"), Decimal("70"), Decimal("66.1")),
            IndicatorRow(2, "M-02", "Средний балл", "балл", "up", Decimal("3.6"), Decimal("3.9"), Decimal("3.7")),
            IndicatorRow(3, "M-03", "Численность", "чел.", "down", Decimal("30"), Decimal("25"), Decimal("21"))]
    svg = before_after_chart(rows).decode()
    # one panel an indicator (a mean mark of 3,6 → 3,7 was a sliver on the 0–70 axis of the shares), each with its
    # unit and its values written at the bars
    assert svg.count('id="axes_') == 3
    for text in ("балл", "чел.", "3,6", "3,7", "66,1", "21", "базовое значение", "после мер", "цель"):
        assert text in svg, text


def test_the_dashboard_prints_a_head_count_whole_and_compares_only_the_total_with_its_target(
        world, anl_cycle, db_session, client, login):
    ind = _head_count(anl_cycle, world, db_session)
    rows = {(r.organisation_id, r.is_total): r for r in db_session.scalars(
        select(DashboardRow).where(DashboardRow.indicator_id == ind.id))}
    school = rows[(world["school_a"].id, False)]
    # a school's 12 pupils were «цель достигнута» (100,0+) and «−18,00» against the municipality's 30 → 25
    assert (school.change_baseline, school.attainment, school.target_met) == (None, None, None)
    assert rows[(world["mun"].id, True)].target_met is True

    login(world["official"])
    page = lxml.html.fromstring(client.get(f"/analysis/cycles/{anl_cycle.id}/dashboard?indicator={ind.id}")
                                .get_data(as_text=True))
    cells = {" ".join(tr.xpath("./td")[1].text_content().split()): [" ".join(td.text_content().split())
                                                                     for td in tr.xpath("./td")]
             for tr in page.xpath("//table[@id='dashboard']/tbody/tr")}
    assert cells[world["school_a"].display_name][3] == "12"  # was «12,00»
    total = next(v for k, v in cells.items() if k.startswith("Итого"))
    assert total[3] == "21" and total[6] == "30 / 25" and total[7] == "\u22129", total


def test_a_regional_total_counts_a_municipality_that_answered_from_its_schools_once(world, make_cycle, make_user,
                                                                                     db_session):
    """A regional cycle's two-step request: the schools answer the municipality's passed-down request and the
    municipality's answer is computed from theirs, all on the regional indicator. The region's total takes the
    municipality's answer, not it and its schools again (21 + 12 + 9 = 42 pupils; a share's mean weighed by the
    schools' level)."""
    from app.cycles.models import Indicator

    region, mun, a, b = world["region"], world["mun"], world["school_a"], world["school_b"]
    official = make_user("official", region, login="reg_off_total")
    cycle = make_cycle(region, official, mechanism="R1.1")
    group = cycle.track.mechanism.indicator_groups[0].name
    count, share = (Indicator(cycle=cycle, code=code, name=code, unit=unit, definition="x", group_name=group,
                              source="x", collection_method="x", periodicity="x", responsible="x", direction="up")
                    for code, unit in (("R-01", "чел."), ("R-02", "%")))
    db_session.add_all([count, share])
    for ind, values in ((count, {mun: "21", a: "12", b: "9"}), (share, {mun: "61", a: "56", b: "70"})):
        for org, value in values.items():
            db_session.add(IndicatorValue(indicator=ind, organisation=org, period=cycle.period,
                                          value=Decimal(value), source="form"))
    db_session.flush()
    refresh_dashboard(cycle)
    totals = {r.indicator_id: r for r in db_session.scalars(
        select(DashboardRow).where(DashboardRow.cycle_id == cycle.id, DashboardRow.is_total.is_(True)))}
    assert (totals[count.id].value, totals[count.id].history["mean_of"]) == (21.0, 1)
    assert totals[share.id].value == 61.0


def test_the_dashboard_orders_organisations_by_the_name_it_shows():
    from types import SimpleNamespace

    from app.analysis.dashboard import SORTS

    rows = [SimpleNamespace(organisation=SimpleNamespace(name=name, display_name=shown))
            for name, shown in (("Муниципальное бюджетное … школа № 10", "СОШ № 10"),
                                ("Муниципальное бюджетное … школа № 4", "СОШ № 4"),
                                ("Администрация … гимназия № 3", "Гимназия № 3"))]
    # by the full names: «…гимназия № 3», «…школа № 10», «…школа № 4»
    assert [r.organisation.display_name for r in sorted(rows, key=SORTS["org"])] == [
        "Гимназия № 3", "СОШ № 4", "СОШ № 10"]

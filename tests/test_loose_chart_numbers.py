"""The dashboard's chart prints its total as the table beside it does («в целом 52,0» beside «52,0», not «52»):
the table's decimals (chart_cache.value_digits, dashboard.shown_numbers) and its decimal comma."""

import lxml.html

from app.analysis import chart_cache
from tests.test_analysis_charts import _chart_urls, _dispatch


def _values(cycle, schools, db_session, values):
    """Accepted values of the cycle's first indicator for the schools; the dashboard rebuilt and committed."""
    from app.analysis.dashboard import refresh_dashboard
    from app.monitoring.models import IndicatorValue

    ind = cycle.indicators[0]
    db_session.execute(IndicatorValue.__table__.delete().where(IndicatorValue.indicator_id == ind.id))
    for school, value in zip(schools, values, strict=False):
        db_session.add(IndicatorValue(indicator=ind, organisation=school, period=cycle.period, value=value,
                                      source="form"))
    refresh_dashboard(cycle)
    db_session.commit()


def test_the_charts_total_is_printed_as_the_tables(world, anl_cycle, more_schools, db_session, client, login):
    chart_cache.forget_memory()
    _values(anl_cycle, more_schools, db_session, [72, 74] * 10)  # whole values, a whole total: «73,0» in the table
    _dispatch()
    login(world["official"])
    page = client.get(f"/analysis/cycles/{anl_cycle.id}/dashboard").get_data(as_text=True)
    code = anl_cycle.indicators[0].code
    (total_row,) = [tr for tr in lxml.html.fromstring(page).xpath("//table[@id='dashboard']//tr")
                    if "Итого:" in tr.text_content() and tr.xpath("./td")[0].text_content().strip() == code]
    shown = total_row.xpath("./td")[3].text_content().strip()
    assert shown.endswith(",0"), shown
    (url,) = [u for u in _chart_urls(page) if f"/charts/{anl_cycle.indicators[0].id}.svg" in u]
    svg = client.get(url).get_data(as_text=True)
    assert f"в целом {shown}" in svg
    chart_cache.forget_memory()


def test_a_chart_stored_by_the_earlier_drawing_is_not_served():
    """Charts are stored under a hash of their data and the drawing's version: the legend's new format is a new
    version, so the totals drawn as «в целом 52» are drawn again, not read from the store."""
    data = {"title": "P-01", "bars": [["Школа", 52.0]], "total": 52.0, "target": None, "baseline": None,
            "unit": "%"}
    assert chart_cache.VERSION >= 3
    assert chart_cache.key_of("indicator", data) != chart_cache.key_of("indicator", {**data, "digits": 1})

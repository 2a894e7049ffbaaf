"""Charts are drawn once per data change (app/analysis/chart_cache.py): a repeat view draws nothing, new data draws
a new chart, the dashboard's chart images answer a repeat request with 304 Not Modified."""

import re

import pytest
from sqlalchemy import func, select

from app.analysis import chart_cache
from app.analysis.models import ChartImage
from app.core import charts as core_charts


def _inline_charts(page: str) -> int:
    """Charts drawn into the page itself (the navigation's icons are SVG too, and do not count)."""
    return page.count("<svg") - page.count('<svg class="nav-icon"')


@pytest.fixture
def draws(monkeypatch):
    """Counts matplotlib renderings (every chart goes through app.core.charts.render)."""
    calls = []
    real = core_charts.render

    def counting(fig, fmt="svg", **kw):
        calls.append(fmt)
        return real(fig, fmt, **kw)

    monkeypatch.setattr(core_charts, "render", counting)
    chart_cache.forget_memory()
    yield calls
    chart_cache.forget_memory()


def _values(cycle, schools, db_session, base=50):
    """Accepted values of the cycle's first indicator for the schools; the dashboard rebuilt and committed."""
    from app.analysis.dashboard import refresh_dashboard
    from app.monitoring.models import IndicatorValue

    ind = cycle.indicators[0]
    db_session.execute(IndicatorValue.__table__.delete().where(IndicatorValue.indicator_id == ind.id))
    for n, school in enumerate(schools):
        db_session.add(IndicatorValue(indicator=ind, organisation=school, period=cycle.period, value=base + n,
                                      source="form"))
    refresh_dashboard(cycle)
    db_session.commit()


def _chart_urls(page) -> list[str]:
    return [u.replace("&amp;", "&") for u in re.findall(r'<img class="img-fluid" src="([^"]+)"', page)]


def _dispatch():
    from app.jobs.queue import dispatch_ready

    dispatch_ready()  # inline mode: the chart job registered by the dashboard refresh runs now


def test_the_refresh_job_draws_the_charts_and_views_draw_nothing(world, anl_cycle, more_schools, db_session, client,
                                                                 login, draws):
    _values(anl_cycle, more_schools, db_session)
    _dispatch()
    drawn = len(draws)
    assert drawn >= 1
    assert db_session.scalar(select(func.count()).select_from(ChartImage)
                             .where(ChartImage.cycle_id == anl_cycle.id)) == drawn
    login(world["official"])
    for _view in range(2):
        chart_cache.forget_memory()  # another web process: only the stored charts are shared
        page = client.get(f"/analysis/cycles/{anl_cycle.id}/dashboard").get_data(as_text=True)
        urls = _chart_urls(page)
        assert urls and _inline_charts(page) == 0
        bodies = []
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200 and response.mimetype == "image/svg+xml"
            bodies.append(response.get_data(as_text=True))
        assert any("Школа Икс 00" in body for body in bodies)
    assert len(draws) == drawn  # neither view drew


def test_a_dashboard_chart_states_its_title_once_inside_the_picture(world, anl_cycle, more_schools, db_session,
                                                                     client, login):
    # A caption above the image repeated the title the chart draws itself.
    import lxml.html

    _values(anl_cycle, more_schools, db_session)
    _dispatch()
    login(world["official"])
    page = client.get(f"/analysis/cycles/{anl_cycle.id}/dashboard").get_data(as_text=True)
    figures = lxml.html.fromstring(page).xpath("//figure[contains(@class, 'chart')]")
    assert figures
    ind = anl_cycle.indicators[0]
    for figure in figures:
        assert " ".join(figure.text_content().split()) == ""  # no caption beside the picture
    svg = client.get(_chart_urls(page)[0]).get_data(as_text=True)
    assert ind.code in svg  # the picture names its indicator


def test_a_chart_not_drawn_ahead_is_drawn_on_first_view_only(world, anl_cycle, more_schools, db_session, client,
                                                             login, draws):
    _values(anl_cycle, more_schools, db_session)
    _dispatch()
    login(world["official"])
    before = len(draws)
    url = _chart_urls(client.get(f"/analysis/cycles/{anl_cycle.id}/dashboard?sort=value&dir=desc")
                      .get_data(as_text=True))[0]
    first = client.get(url)
    assert first.status_code == 200 and len(draws) == before + 1  # another order: another chart, drawn once
    chart_cache.forget_memory()
    second = client.get(url)
    assert second.get_data() == first.get_data() and len(draws) == before + 1  # from the store


def test_the_chart_changes_when_the_data_changes(world, anl_cycle, more_schools, db_session, client, login, draws):
    _values(anl_cycle, more_schools, db_session, base=40)
    _dispatch()
    login(world["official"])
    old_url = _chart_urls(client.get(f"/analysis/cycles/{anl_cycle.id}/dashboard").get_data(as_text=True))[0]
    old = client.get(old_url).get_data()

    _values(anl_cycle, more_schools, db_session, base=70)
    _dispatch()
    new_url = _chart_urls(client.get(f"/analysis/cycles/{anl_cycle.id}/dashboard").get_data(as_text=True))[0]
    assert new_url != old_url
    new = client.get(new_url)
    assert new.status_code == 200 and new.get_data() != old
    # A page opened before the change asks with the old URL: it gets the current chart, revalidated every time.
    stale = client.get(old_url)
    assert stale.get_data() == new.get_data() and "no-cache" in stale.headers["Cache-Control"]


def test_a_repeat_request_gets_304(world, anl_cycle, more_schools, db_session, client, login, draws):
    _values(anl_cycle, more_schools, db_session)
    _dispatch()
    login(world["official"])
    url = _chart_urls(client.get(f"/analysis/cycles/{anl_cycle.id}/dashboard").get_data(as_text=True))[0]
    first = client.get(url)
    etag = first.headers["ETag"].strip('"')
    assert url.endswith("v=" + etag)
    assert "private" in first.headers["Cache-Control"] and "max-age=31536000" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == first.headers["ETag"]


def test_a_chart_is_refused_to_who_may_not_see_the_cycle(world, anl_cycle, more_schools, db_session, client, login,
                                                         draws):
    _values(anl_cycle, more_schools, db_session)
    _dispatch()
    login(world["official"])
    url = _chart_urls(client.get(f"/analysis/cycles/{anl_cycle.id}/dashboard").get_data(as_text=True))[0]
    other_indicator = anl_cycle.indicators[-1].id + 10_000
    assert client.get(f"/analysis/cycles/{anl_cycle.id}/dashboard/charts/{other_indicator}.svg").status_code == 404
    client.post("/logout")
    login(world["director_a"])  # a school's director: the municipality's cycle is not theirs
    assert client.get(url).status_code == 404


def test_other_analysis_pages_draw_their_chart_once(world, anl_cycle, more_schools, db_session, client, login,
                                                    draws):
    from tests.test_analysis_views import _fake_run

    _fake_run(anl_cycle, more_schools, db_session)
    login(world["official"])
    for page in ("", "/clusters"):
        path = f"/analysis/cycles/{anl_cycle.id}{page}"
        before = len(draws)
        first = client.get(path).get_data(as_text=True)
        assert _inline_charts(first) and len(draws) == before + 1
        chart_cache.forget_memory()
        second = client.get(path).get_data(as_text=True)
        assert _inline_charts(second) and len(draws) == before + 1, page


def test_redrawing_a_cycles_charts_prunes_its_charts_of_old_data(world, anl_cycle, more_schools, db_session, draws):
    from datetime import timedelta

    from app.core.timeutil import utcnow

    db_session.add(ChartImage(key="0" * 64, kind="indicator", cycle_id=anl_cycle.id, svg="<svg/>",
                              created_at=utcnow() - timedelta(days=2)))
    db_session.add(ChartImage(key="1" * 64, kind="indicator", cycle_id=anl_cycle.id, svg="<svg/>"))  # an open page's
    _values(anl_cycle, more_schools, db_session)
    _dispatch()
    keys = set(db_session.scalars(select(ChartImage.key).where(ChartImage.cycle_id == anl_cycle.id)))
    assert "0" * 64 not in keys and "1" * 64 in keys and len(keys) == len(draws) + 1


def test_the_overviews_sign_chart_names_each_sign_in_words(world, anl_cycle, seeded_results, client, login):
    """The analysis overview's bar chart labelled its bars «K1» … «K5» only; each now says what the sign is."""
    login(world["official"])
    assert client.post(f"/analysis/cycles/{anl_cycle.id}/runs", data={}).status_code == 302
    page = client.get(f"/analysis/cycles/{anl_cycle.id}").get_data(as_text=True)
    bodies = [page] + [client.get(url).get_data(as_text=True) for url in _chart_urls(page)]
    chart = next(b for b in bodies if "Признаки необъективности результатов: число случаев" in b)
    assert "аномальное распределение" in chart and "трудные задания" in chart

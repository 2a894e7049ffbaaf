"""No N+1 at region scale (issue 15 §3): the pages of a working day issue the same number of SQL statements whatever
the number of municipalities, schools, cycles, tasks, audit events and analysis results in the database."""

import pytest
from sqlalchemy import select

from tests.conftest import counted_statements

MECHANISMS = ["M1.1", "M1.2", "M1.3", "M1.4"]


@pytest.fixture
def region_scale(world, anl_cycle, make_org, make_user, make_cycle, db_session):
    """The municipal M1.1 cycle at its ANL stage, analysed, with its dashboard; `grow()` adds municipalities with
    schools and cycles (tasks for the regional official), schools to the cycle's municipality, and re-analyses."""
    from app.analysis.dashboard import refresh_dashboard
    from app.analysis.models import AnalysisRun
    from app.monitoring.models import IndicatorValue
    from app.orgs.models import Organisation
    from tests.test_analysis_views import _fake_run

    regional = make_user("official", world["region"], login="regional_official")
    db_session.commit()
    counter = {"mun": 0, "school": 0}

    def analyse():
        schools = list(db_session.scalars(select(Organisation).where(Organisation.parent_id == world["mun"].id,
                                                                     Organisation.kind == "school")))
        db_session.execute(AnalysisRun.__table__.delete().where(AnalysisRun.cycle_id == anl_cycle.id))
        _fake_run(anl_cycle, schools, db_session)
        for ind in anl_cycle.indicators:
            db_session.execute(IndicatorValue.__table__.delete().where(IndicatorValue.indicator_id == ind.id))
            for n, school in enumerate(schools):
                db_session.add(IndicatorValue(indicator=ind, organisation=school, period=anl_cycle.period,
                                              value=40 + n, source="form"))
        refresh_dashboard(anl_cycle)
        db_session.commit()

    def grow(municipalities: int, schools_each: int):
        for _ in range(municipalities):
            counter["mun"] += 1
            mun = make_org("municipality", parent=world["region"], code=f"RMUN{counter['mun']:02d}")
            for _ in range(schools_each):
                counter["school"] += 1
                make_org("school", parent=mun, code=f"RSCH{counter['school']:03d}", students=300,
                         settlement="city")
            for code in MECHANISMS:
                make_cycle(mun, regional, mechanism=code, responsible=regional)
        for _ in range(schools_each):
            counter["school"] += 1
            make_org("school", parent=world["mun"], code=f"RSCH{counter['school']:03d}", students=200,
                     settlement="town", low_income_share=10)
        db_session.commit()
        analyse()

    grow(1, 1)
    return {"cycle": anl_cycle, "regional": regional, "grow": grow}


def _urls(world, cycle):
    stage = {s.code: s.id for s in cycle.stages}
    return {"home": "/", "tasks": "/tasks/", "cycles": "/cycles", "cycle": f"/cycles/{cycle.id}",
            "stage GOAL": f"/stages/{stage['GOAL']}", "stage MON": f"/stages/{stage['MON']}",
            "stage ANL": f"/stages/{stage['ANL']}", "dashboard": f"/analysis/cycles/{cycle.id}/dashboard",
            "objectivity": f"/analysis/cycles/{cycle.id}/objectivity",
            "school": f"/analysis/schools/{world['school_a'].id}", "audit": "/audit/"}


PAGES = ["home", "tasks", "cycles", "cycle", "stage GOAL", "stage MON", "stage ANL", "dashboard", "objectivity",
         "school", "audit"]
PER_KIND = ("audit",)
GROWS_VISIBLY = ("home", "tasks", "cycles", "dashboard", "objectivity")  # show more rows at region scale


def test_pages_issue_as_many_statements_for_a_region_as_for_a_municipality(world, region_scale, client, login):
    urls = _urls(world, region_scale["cycle"])

    def measure(page):
        login(world["auditor"] if page == "audit" else region_scale["regional"])
        # Warm-up: the signed-in user and their roles are loaded once per session, whatever the page shows.
        assert client.get(urls[page]).status_code == 200
        with counted_statements() as statements:
            response = client.get(urls[page])
        assert response.status_code == 200, page
        client.post("/logout")
        return len(statements), len(response.get_data())

    few = {page: measure(page) for page in PAGES}
    region_scale["grow"](4, 5)  # 5 municipalities, 30 schools, 20 more cycles with their tasks, more results
    many = {page: measure(page) for page in PAGES}
    shown_more = [page for page in GROWS_VISIBLY if many[page][1] <= few[page][1]]
    assert not shown_more, f"these pages should show more at region scale: {shown_more}"
    # The audit page names what its rows mention with one query per kind of thing (people, documents, stages…):
    # a page of the grown region may mention fewer kinds, never cost more.
    differ = {page: (few[page][0], many[page][0]) for page in PAGES
              if few[page][0] != many[page][0] and not (page in PER_KIND and many[page][0] < few[page][0])}
    assert not differ, f"statements before → after the region grew: {differ}"

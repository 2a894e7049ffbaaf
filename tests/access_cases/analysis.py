"""Access-walk knowledge of this feature's routes (merged by tests/test_access.py).

ROUTE_ARGUMENTS: URL argument → (scope, fn(objs, values, rule) → list of school-B values); use objs.extra.
ENDPOINT_SCOPES: endpoint → scope, where the argument's scope is not the endpoint's.
FORM_ROUTES: endpoint → fn(objs, world, session) → (actor key, URL values, form data of a successful POST).
school_b_objects(world, make_cycle, db_session, objs) → dict of extra school-B ids, put in objs.extra.
"""

ORG_SCOPED = "organisation"

ROUTE_ARGUMENTS: dict = {
    "finding_id": (ORG_SCOPED, lambda o, v, r: [o.extra["finding_id"]]),
    "analysis_run_id": (ORG_SCOPED, lambda o, v, r: [o.extra["analysis_run_id"]]),
    # a dashboard chart: the indicator of school B's cycle, whose dashboard has a row (below)
    "indicator_id": (ORG_SCOPED, lambda o, v, r: [o.indicator_id]),
}
ENDPOINT_SCOPES: dict = {}
# The analysis pages have no GET+POST routes: forms are shown by GET pages and saved by POST-only routes.
FORM_ROUTES: dict = {}


def school_b_objects(world, make_cycle, db_session, objs) -> dict:
    """A finished analysis run of school B's own cycle, with a marker for the school, and a finding."""
    from app.analysis.models import AnalysisResult, AnalysisRun, DashboardRow, Finding
    from app.core.timeutil import utcnow
    from app.cycles.models import Cycle

    cycle = db_session.get(Cycle, objs.cycle_id)
    stage = cycle.stage("ANL") or cycle.stages[-1]
    director = world["director_b"]
    run = AnalysisRun(cycle=cycle, organisation=cycle.owner, years=[2024, 2025, 2026], status="done", progress=100,
                      fingerprint="0" * 64, params={}, created_by=director, finished_at=utcnow(),
                      message="Школ: 1.")
    db_session.add(run)
    db_session.flush()
    db_session.add(AnalysisResult(run_id=run.id, kind="marker", school_id=world["school_b"].id, year=2026,
                                  procedure="ВПР", subject="Математика", grade=5, sign="K4", value=0.6,
                                  payload={"statistic": 0.6, "threshold": 0.5, "detail": "понизили 60 %"}))
    finding = Finding(cycle=cycle, stage=stage, problem="Отметки в журнале выше результатов ВПР",
                      evidence="Понизили 60 % обучающихся", analysis_run_id=run.id, created_by_id=director.id)
    finding.organisations = [world["school_b"]]
    db_session.add(finding)
    db_session.add(DashboardRow(cycle_id=cycle.id, indicator_id=objs.indicator_id, organisation_id=world["school_b"].id,
                                period=cycle.period, value=1.0, history={"periods": {}, "mean_of": None}))
    db_session.flush()
    return {"finding_id": finding.id, "analysis_run_id": run.id}

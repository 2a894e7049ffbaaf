"""Analysis feature, application side: runs as jobs with reproducible fingerprints, the indicator dashboard,
findings, the ANL stage guard, risk profiles, the report context and the demo filler."""

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from app.analysis import services
from app.analysis.models import AnalysisResult, AnalysisRun, DashboardRow, Finding, RiskProfile
from app.core.errors import PermissionDenied, ValidationFailed
from app.extensions import db
from tests import services as svc


def audit_count(session):
    from app.audit.models import AuditEvent

    return session.scalar(select(func.count()).select_from(AuditEvent))


def result_set(session, run_id):
    """Everything a run computed, in a comparable form."""
    rows = session.execute(select(AnalysisResult.kind, AnalysisResult.school_id, AnalysisResult.year,
                                  AnalysisResult.procedure, AnalysisResult.subject, AnalysisResult.grade,
                                  AnalysisResult.sign, AnalysisResult.value, AnalysisResult.payload)
                           .where(AnalysisResult.run_id == run_id)).all()
    return sorted((repr((k, s, y, p, sub, g, sign, v, sorted((payload or {}).items())))
                   for k, s, y, p, sub, g, sign, v, payload in rows))


def run_job(cycle, actor, session):
    """Start a run the way the page does: queued, committed, then the job runs (inline in tests)."""
    from app.jobs.queue import dispatch_ready

    run = services.start_run(cycle, actor=actor)
    session.commit()
    assert run.status == "queued" and run.rq_job_id
    dispatch_ready()
    session.expire_all()
    return session.get(AnalysisRun, run.id)


# --- the job and its fingerprint ---------------------------------------------------------------

def test_analysis_job_stores_results_with_a_reproducible_fingerprint(world, anl_cycle, seeded_results, db_session):
    from app.imports.models import AssessmentResult

    first = run_job(anl_cycle, world["official"], db_session)
    assert first.status == "done", first.message
    assert first.progress == 100 and first.finished_at is not None
    assert first.years == [2024, 2025, 2026]
    assert len(first.fingerprint) == 64
    kinds = dict(db_session.execute(select(AnalysisResult.kind, func.count()).where(
        AnalysisResult.run_id == first.id).group_by(AnalysisResult.kind)).all())
    assert kinds["aggregate"] > 0 and kinds["cluster"] == 12 and kinds["cluster_position"] > 0
    assert kinds.get("marker", 0) > 0, "the planted anomalies raise no sign at all"
    # one verdict per school of the latest year; the run's count of flagged schools is the verdicts' list
    verdicts = list(db_session.scalars(select(AnalysisResult).where(AnalysisResult.run_id == first.id,
                                                                     AnalysisResult.kind == "verdict")))
    assert len(verdicts) == 12 and {v.year for v in verdicts} == {2026}
    flagged = [v for v in verdicts if v.payload["verdict"] == "flagged"]
    assert flagged and first.summary["flagged_schools"] == len(flagged) < 12
    assert all(v.payload["explanation"] and v.payload["evidence"] for v in flagged)
    # Every stored school row is a school of the cycle's municipality.
    schools = {s.id for s in services.scope_schools(world["mun"])}
    stored = set(db_session.scalars(select(AnalysisResult.school_id).where(
        AnalysisResult.run_id == first.id, AnalysisResult.school_id.is_not(None))))
    assert stored <= schools
    clustered = set(db_session.scalars(select(AnalysisResult.school_id).where(
        AnalysisResult.run_id == first.id, AnalysisResult.kind == "cluster")))
    assert clustered == schools

    # Unchanged data: the same fingerprint and exactly the same numbers.
    second = run_job(anl_cycle, world["official"], db_session)
    assert second.status == "done"
    assert second.fingerprint == first.fingerprint
    assert result_set(db_session, second.id) == result_set(db_session, first.id)

    # One changed score changes the fingerprint.
    row_id = db_session.scalar(select(AssessmentResult.id).where(AssessmentResult.year == 2026,
                                                                  AssessmentResult.primary_score > 0)
                               .order_by(AssessmentResult.id).limit(1))
    db_session.execute(update(AssessmentResult).where(AssessmentResult.id == row_id)
                       .values(primary_score=AssessmentResult.primary_score - 1))
    db_session.commit()
    third = run_job(anl_cycle, world["official"], db_session)
    assert third.status == "done"
    assert third.fingerprint != first.fingerprint


def test_a_second_run_is_refused_while_one_is_queued(world, anl_cycle, db_session):
    services.start_run(anl_cycle, actor=world["official"], enqueue=False)
    db_session.flush()
    with pytest.raises(ValidationFailed, match="уже выполняется"):
        services.start_run(anl_cycle, actor=world["official"], enqueue=False)


def test_a_closed_cycle_is_not_analysed_again(world, anl_cycle, client, login, db_session):
    """Attack 2026-12: the page of a closed cycle offers no «Запустить анализ», but a POST of another cycle's form
    to it queued a run that replaced the analysis the cycle was closed with."""
    from app.core.timeutil import utcnow

    anl_cycle.state, anl_cycle.closed_at = "closed", utcnow()
    db_session.commit()
    with pytest.raises(ValidationFailed, match="Цикл закрыт"):
        services.start_run(anl_cycle, actor=world["official"], enqueue=False)
    login(world["official"])
    response = client.post(f"/analysis/cycles/{anl_cycle.id}/runs", data={"form_token": "t1"})
    # The analysis page again with the reason and the refusal's status (a redirect answered 302 to a refusal).
    assert response.status_code == 422 and "Цикл закрыт" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(AnalysisRun)) == 0


def test_a_cycle_whose_mechanism_reads_no_results_offers_and_takes_no_run(world, make_cycle, client, login,
                                                                          db_session):
    """The preschool cycle's analysis page said the ВПР/ОГЭ calculation did not belong to its mechanism, and
    offered «Запустить анализ» below: a run none of its pages or reports would ever show."""
    cycle = make_cycle(world["mun"], world["official"], mechanism="M2.4", track="op-do")
    db_session.commit()
    with pytest.raises(ValidationFailed, match="к механизму M2.4 не относится"):
        services.start_run(cycle, actor=world["official"], enqueue=False)
    login(world["official"])
    page = client.get(f"/analysis/cycles/{cycle.id}").get_data(as_text=True)
    assert "не относится" in page and "Запустить анализ" not in page
    assert f"/analysis/cycles/{cycle.id}/objectivity" not in page  # no tab to a section that is not its own
    page = client.get(f"/analysis/cycles/{cycle.id}/objectivity").get_data(as_text=True)
    assert "не относится" in page and "когда анализ запустят" not in page
    assert f"/analysis/cycles/{cycle.id}/objectivity" not in client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    response = client.post(f"/analysis/cycles/{cycle.id}/runs", data={"form_token": "t3"})
    assert response.status_code == 422 and "не относится" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(AnalysisRun)) == 0


def test_only_editors_of_the_owner_start_an_analysis(world, anl_cycle, db_session):
    for user in (world["director_a"], world["auditor"], world["expert"]):
        with pytest.raises(PermissionDenied):
            services.start_run(anl_cycle, actor=user, enqueue=False)
    assert db_session.scalar(select(func.count()).select_from(AnalysisRun)) == 0


def test_a_failing_computation_marks_the_run_failed_and_keeps_no_results(world, anl_cycle, seeded_results,
                                                                          db_session, monkeypatch):
    from app.analysis import jobs

    def broken(run, progress):
        db_session.add(AnalysisResult(run_id=run.id, kind="note", payload={"text": "half"}))
        db_session.flush()
        raise RuntimeError("boom")

    monkeypatch.setattr(jobs, "execute", broken)
    run_fails_and_keeps_no_results(anl_cycle, world["official"], db_session)


def run_fails_and_keeps_no_results(cycle, actor, session) -> None:
    """A run whose job raises: failed with the internal error's message, and none of its result rows kept."""
    with pytest.raises(RuntimeError):
        run_job(cycle, actor, session)
    session.rollback()
    run = session.scalar(select(AnalysisRun).order_by(AnalysisRun.id.desc()))
    assert run.status == "failed" and "Внутренняя ошибка" in run.message and run.finished_at
    assert session.scalar(select(func.count()).select_from(AnalysisResult).where(
        AnalysisResult.run_id == run.id)) == 0


def test_one_year_of_data_is_said_not_divided_by_zero(world, anl_cycle, more_schools, db_session):
    from app.analysis.methods import synthetic

    schools = services.scope_schools(world["mun"])
    region = synthetic.generate_region(n_schools=len(schools), n_municipalities=1, years=(2026,), seed=3,
                                       planted={})
    synthetic.insert_results(db_session, region.results, {i + 1: s.id for i, s in enumerate(schools)})
    db_session.commit()
    run = run_job(anl_cycle, world["official"], db_session)
    assert run.status == "done", run.message
    assert run.summary["years_with_data"] == [2026]
    assert "только за один год" in run.message


# --- dashboard -----------------------------------------------------------------------------------

def _value(indicator, org, period, value):
    from app.monitoring.models import IndicatorValue

    db.session.add(IndicatorValue(indicator=indicator, organisation=org, period=period, value=Decimal(value),
                                  source="form"))


def test_dashboard_values_match_hand_computed_ones(world, anl_cycle, db_session):
    from app.analysis.dashboard import refresh_dashboard

    ind = anl_cycle.indicators[0]
    ind.baseline, ind.target = Decimal("50"), Decimal("60")
    db_session.execute(update(type(ind)).where(type(ind).cycle_id == anl_cycle.id, type(ind).id != ind.id)
                       .values(baseline=None))
    period = anl_cycle.period
    from app.monitoring.models import IndicatorValue

    db_session.execute(IndicatorValue.__table__.delete().where(IndicatorValue.indicator_id.in_(
        [i.id for i in anl_cycle.indicators])))
    _value(ind, world["school_a"], period, "58")
    _value(ind, world["school_b"], period, "45")
    db_session.flush()
    assert refresh_dashboard(anl_cycle) == 3 + (len(anl_cycle.indicators) - 1)  # 2 schools + total; totals
    rows = {(r.organisation_id, r.is_total): r for r in db_session.scalars(
        select(DashboardRow).where(DashboardRow.indicator_id == ind.id))}
    a, b = rows[(world["school_a"].id, False)], rows[(world["school_b"].id, False)]
    total = rows[(world["mun"].id, True)]
    assert (a.value, a.change_baseline, a.attainment, a.target_met) == (58.0, 8.0, 80.0, False)
    assert (b.value, b.change_baseline, b.attainment, b.target_met) == (45.0, -5.0, -50.0, False)
    assert total.value == pytest.approx(51.5) and total.history["mean_of"] == 2
    assert total.change_baseline == pytest.approx(1.5) and total.attainment == pytest.approx(15.0)


def test_dashboard_shows_earlier_periods_and_the_owners_own_value(world, anl_cycle, db_session):
    from app.analysis.dashboard import refresh_dashboard
    from app.cycles.models import Indicator
    from app.monitoring.models import IndicatorValue
    from tests.conftest import track_of

    from app.cycles.services import create_cycle

    earlier = create_cycle(track=track_of("M1.1"), owner=world["mun"], period="2024/25", actor=world["official"],
                           responsible=world["official"])
    ind = anl_cycle.indicators[0]
    old = Indicator(cycle=earlier, code=ind.code, name=ind.name, unit=ind.unit, definition="x",
                    group_name=ind.group_name, source="x", collection_method="x", periodicity="x", responsible="x",
                    direction="up")
    db_session.add(old)
    anl_cycle.previous = earlier
    db_session.execute(IndicatorValue.__table__.delete().where(IndicatorValue.indicator_id == ind.id))
    db_session.flush()
    _value(old, world["school_a"], "2024/25", "40")
    _value(ind, world["school_a"], anl_cycle.period, "46")
    _value(ind, world["mun"], anl_cycle.period, "70")
    db_session.flush()
    refresh_dashboard(anl_cycle)
    rows = {(r.organisation_id, r.is_total): r for r in db_session.scalars(
        select(DashboardRow).where(DashboardRow.indicator_id == ind.id))}
    a = rows[(world["school_a"].id, False)]
    assert a.previous_value == 40.0 and a.change_previous == 6.0 and a.history["periods"] == {"2024/25": 40.0}
    total = rows[(world["mun"].id, True)]
    assert total.value == 70.0 and total.history["mean_of"] is None  # the municipality's own reported value
    assert (world["mun"].id, False) not in rows


def test_dashboard_positions_schools_within_their_cluster(world, anl_cycle, seeded_results, db_session):
    ind = anl_cycle.indicators[0]
    from app.monitoring.models import IndicatorValue

    db_session.execute(IndicatorValue.__table__.delete().where(IndicatorValue.indicator_id == ind.id))
    for n, school in enumerate(services.scope_schools(world["mun"])):
        _value(ind, school, anl_cycle.period, str(40 + 3 * n))
    db_session.commit()
    run = run_job(anl_cycle, world["official"], db_session)
    assert run.status == "done"
    rows = list(db_session.scalars(select(DashboardRow).where(DashboardRow.indicator_id == ind.id,
                                                              DashboardRow.is_total.is_(False))))
    assert len(rows) == 12
    positioned = [r for r in rows if r.cluster_position is not None]
    assert positioned and all(r.cluster is not None for r in positioned)


def test_xlsx_export_opens_and_holds_the_rows(world, anl_cycle, db_session, client, login):
    from openpyxl import load_workbook

    from app.analysis.dashboard import refresh_dashboard

    refresh_dashboard(anl_cycle)
    db_session.commit()
    expected = db_session.scalar(select(func.count()).select_from(DashboardRow).where(
        DashboardRow.cycle_id == anl_cycle.id))
    assert expected > 0
    login(world["official"])
    response = client.get(f"/analysis/cycles/{anl_cycle.id}/dashboard.xlsx?sort=value&dir=desc")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "Показатель" and rows[1][2] == "Организация"
    assert len(rows) - 2 == expected
    assert any(str(r[2]).startswith("Итого: ") for r in rows[2:])
    svc.assert_printable(sheet, header_row=2)
    assert "сформировано" in rows[0][0]


# --- findings ----------------------------------------------------------------------------------

def _data(world, **over):
    base = dict(problem="Низкая доля выполнения заданий повышенного уровня", causes="Нет системной подготовки",
                evidence="Средний процент выполнения 41 % при 55 % по региону", organisation_ids=[world["school_a"].id])
    base.update(over)
    return services.FindingData(**base)


def test_findings_create_update_delete_are_audited(world, anl_cycle, db_session):
    before = audit_count(db_session)
    finding = services.create_finding(anl_cycle, _data(world), actor=world["official"])
    db_session.commit()
    assert finding.stage.code == "ANL" and finding.organisation == world["mun"]
    assert [o.id for o in finding.organisations] == [world["school_a"].id]
    assert finding.title.startswith("Низкая доля")
    services.update_finding(finding, _data(world, organisation_ids=[world["school_a"].id, world["school_b"].id],
                                           causes=""), actor=world["official"], expected_version=finding.version)
    db_session.commit()
    assert finding.causes is None and len(finding.organisations) == 2
    services.delete_finding(finding, actor=world["official"], expected_version=finding.version)
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(Finding)) == 0
    from app.audit.models import AuditEvent

    events = db_session.execute(select(AuditEvent.action, AuditEvent.object_type).order_by(AuditEvent.id)
                                ).all()[before:]
    assert events == [("create", "finding"), ("update", "finding"), ("delete", "finding")]


@pytest.mark.parametrize("over, message", [
    ({"problem": "  "}, "Сформулируйте проблему."),
    ({"evidence": ""}, "Укажите доказательства"),
    ({"organisation_ids": []}, "Выберите хотя бы одну затронутую организацию."),
    ({"organisation_ids": ["elsewhere"]}, "только из организаций цикла"),
    ({"analysis_run_id": 999999}, "Расчёт анализа не относится к этому циклу."),
])
def test_bad_finding_input_changes_nothing(world, anl_cycle, make_org, db_session, over, message):
    if over.get("organisation_ids") == ["elsewhere"]:
        other = make_org("municipality", parent=world["region"], code="MUN-OTHER")
        over = {"organisation_ids": [make_org("school", parent=other).id]}
    db_session.commit()
    before = audit_count(db_session)
    with pytest.raises(ValidationFailed) as error:
        services.create_finding(anl_cycle, _data(world, **over), actor=world["official"])
    assert message in error.value.message
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Finding)) == 0
    assert audit_count(db_session) == before


def test_a_finding_cannot_rest_on_another_mechanisms_analysis(world, anl_cycle, db_session):
    """The M1.1 cycle's finding may cite the objectivity signs of its run, not the ШНОР list, which belongs to the
    mechanism of schools with low results (M1.2, app/analysis/data/mechanism_analyses.yaml): refused in Russian,
    nothing saved."""
    from app.core.timeutil import utcnow

    run = services.start_run(anl_cycle, actor=world["official"], enqueue=False)
    run.status, run.finished_at = "done", utcnow()
    shnor = AnalysisResult(run_id=run.id, kind="shnor", school_id=world["school_a"].id, year=2026)
    marker = AnalysisResult(run_id=run.id, kind="marker", school_id=world["school_a"].id, year=2026, sign="K1")
    db_session.add_all([shnor, marker])
    db_session.commit()
    before = audit_count(db_session)
    with pytest.raises(ValidationFailed) as error:
        services.create_finding(anl_cycle, _data(world, analysis_run_id=run.id, source_result_id=shnor.id),
                                actor=world["official"])
    assert ("относится к анализу «школы с низкими результатами и в неблагоприятных условиях», который не входит в "
            "механизм «" in error.value.message and "только на анализ своего механизма" in error.value.message)
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Finding)) == 0
    assert audit_count(db_session) == before
    # its own mechanism's analysis is accepted
    finding = services.create_finding(anl_cycle, _data(world, analysis_run_id=run.id, source_result_id=marker.id),
                                      actor=world["official"])
    assert finding.source_result_id == marker.id


def test_findings_are_editable_only_while_the_stage_is_a_draft(world, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    db_session.commit()
    with pytest.raises(ValidationFailed, match="не редактируется"):
        services.create_finding(cycle, _data(world), actor=world["official"])
    with pytest.raises(PermissionDenied):
        services.create_finding(cycle, _data(world), actor=world["director_a"])


# --- the stage guard -----------------------------------------------------------------------------

def test_anl_guard_wants_a_run_or_conclusions_and_a_finding(world, anl_cycle, db_session):
    from app.analysis.guards import analysis_content
    from app.cycles.services import save_summary

    stage = anl_cycle.stage("ANL")
    problems = analysis_content(stage)
    assert len(problems) == 2 and "выполненного расчёта" in problems[0] and "вывода" in problems[1]
    save_summary(stage, text="Выводы: результаты стабильны.", actor=world["official"])
    assert len(analysis_content(stage)) == 1
    services.create_finding(anl_cycle, _data(world), actor=world["official"])
    assert analysis_content(stage) == []
    save_summary(stage, text="", actor=world["official"])
    assert "выполненного расчёта" in analysis_content(stage)[0]
    run = services.start_run(anl_cycle, actor=world["official"], enqueue=False)
    run.status = "done"
    from app.core.timeutil import utcnow

    run.finished_at = utcnow()
    db_session.flush()
    assert analysis_content(stage) == []


def test_submitting_the_anl_stage_without_content_is_refused(world, anl_cycle, db_session):
    from app.core.errors import GuardFailed
    from workflows import engine

    stage = anl_cycle.stage("ANL")
    with pytest.raises(GuardFailed) as refused:
        engine.fire(stage, "submit", actor=world["official"])
    assert any("вывод" in p for p in refused.value.problems)


def test_demo_filler_runs_an_analysis_and_records_findings(world, anl_cycle, more_schools, db_session):
    import random
    from datetime import date

    from app.analysis.demo import fill_anl
    from app.analysis.guards import analysis_content

    stage = anl_cycle.stage("ANL")
    fill_anl(stage, official=world["official"], head=world["head"], rng=random.Random(1), today=date.today())
    db_session.commit()
    run = services.latest_run(anl_cycle)
    assert run is not None and run.status == "done"
    assert db_session.scalar(select(func.count()).select_from(AnalysisResult).where(
        AnalysisResult.run_id == run.id, AnalysisResult.kind == "marker")) > 0
    findings = services.findings_of_cycle(anl_cycle)
    assert 2 <= len(findings) <= 3
    assert all(f.organisations and f.evidence for f in findings)
    assert analysis_content(stage) == []


def test_whole_cycle_still_closes_with_the_demo_filler(world, make_cycle, db_session):
    from tests.test_cycle_views import close_cycle

    cycle = make_cycle(world["mun"], world["official"], mechanism="M1.2")
    close_cycle(cycle, world, db_session)
    assert services.findings_of_cycle(cycle)


# --- risk profiles -------------------------------------------------------------------------------

def _scores(value="3"):
    from app.analysis.risk_profile import risk_factors

    return {f.key: value for f in risk_factors()}


def test_risk_profile_saved_with_priorities_and_programmes(world, db_session):
    from app.analysis.risk_profile import profile_view

    scores = _scores()
    scores["teacher_shortage"] = "8,5"
    profile = services.save_risk_profile(world["school_a"], year=2026, scores=scores, actor=world["director_a"],
                                         priorities=[{"factor": "teacher_shortage", "programme": ""},
                                                     {"factor": "low_motivation", "programme": "Клуб проектов"}])
    db_session.commit()
    view = profile_view(profile)
    assert [p["factor"] for p in view["priorities"]] == ["teacher_shortage", "low_motivation"]
    assert view["priorities"][0]["programme"].startswith("Привлечение")  # the default programme note
    assert view["priorities"][1]["programme"] == "Клуб проектов"
    assert next(r for r in view["rows"] if r["key"] == "teacher_shortage")["high"] is True


@pytest.mark.parametrize("change, message", [
    ({"score": "11"}, "должна быть от 0 до 10"),
    ({"score": "много"}, "должна быть числом"),
    ({"priorities": 4}, "не больше 3"),
    ({"duplicate": True}, "выбран приоритетным дважды"),
])
def test_bad_risk_profile_input_changes_nothing(world, db_session, change, message):
    from app.analysis.risk_profile import risk_factors

    scores = _scores()
    keys = [f.key for f in risk_factors()]
    priorities = [{"factor": keys[0], "programme": ""}]
    if "score" in change:
        scores[keys[1]] = change["score"]
    if change.get("priorities"):
        priorities = [{"factor": k, "programme": ""} for k in keys[:4]]
    if change.get("duplicate"):
        priorities = [{"factor": keys[0], "programme": ""}, {"factor": keys[0], "programme": ""}]
    with pytest.raises(ValidationFailed) as error:
        services.save_risk_profile(world["school_a"], year=2026, scores=scores, priorities=priorities,
                                   actor=world["director_a"])
    assert message in error.value.message
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(RiskProfile)) == 0


def test_risk_profile_csv_is_parsed(world, db_session):
    from app.analysis.risk_profile import parse_csv, risk_factors

    lines = ["factor;score;priority;programme"]
    for n, f in enumerate(risk_factors()):
        lines.append(f"{f.title if n == 0 else f.key};{n % 10};{'1' if n == 9 else ''};{'Мотивация' if n == 9 else ''}")
    scores, priorities = parse_csv("\n".join(lines).encode("cp1251"))
    assert scores[risk_factors()[0].key] == "0" and priorities == [{"factor": "low_motivation",
                                                                    "programme": "Мотивация"}]
    with pytest.raises(ValidationFailed, match="неизвестный фактор"):
        parse_csv("factor,score\nчто-то,3\n".encode())
    with pytest.raises(ValidationFailed, match="factor и score"):
        parse_csv(b"a,b\n1,2\n")


@pytest.mark.parametrize("encoding", ["cp1251", "koi8-r", "utf-8"])
def test_a_risk_profile_csv_in_any_encoding_the_imports_read_is_read_alike(encoding):
    """KOI8-R was read as Windows-1251: the factors' titles came out as «ОЕИЧБФЛБ …», every one «неизвестный»."""
    from app.analysis.risk_profile import parse_csv, risk_factors

    factors = risk_factors()
    lines = ["factor;score;priority;programme"] + [f"{f.title};{n % 10};;" for n, f in enumerate(factors)]
    lines[1] = f"{factors[0].title.upper()};7;1;Программа ШАГ ВПЕРЁД"
    scores, priorities = parse_csv("\n".join(lines).encode(encoding))
    assert scores == {f.key: "7" if n == 0 else str(n % 10) for n, f in enumerate(factors)}
    assert priorities == [{"factor": factors[0].key, "programme": "Программа ШАГ ВПЕРЁД"}]


@pytest.mark.parametrize("text", ['ОДД;МОУ "СРЕДНЯЯ ШКОЛА ИМЕНИ ПУШКИНА";ШКОЛА ПУШКИНА', "КОД;НАИМЕНОВАНИЕ", "ДА",
                                  "Средняя школа", "код;наименование"])
def test_koi8_r_is_told_from_windows_1251_in_capitals_too(text):
    """All-caps KOI8-R text reads as small letters in Windows-1251: deciding by the case first took it for
    Windows-1251 (a list of organisations typed in capitals was stored as «пдд;нпх …»)."""
    from app.imports.readers import is_koi8_r, single_byte_encoding

    assert is_koi8_r(text.encode("koi8-r"))
    assert not is_koi8_r(text.encode("cp1251"))
    assert single_byte_encoding(text.encode("koi8-r")) == "koi8-r"


# --- the report context --------------------------------------------------------------------------

def test_report_context_is_plain_data_with_png_charts(world, anl_cycle, seeded_results, db_session):
    from app.analysis.report import report_context

    run_job(anl_cycle, world["official"], db_session)
    services.create_finding(anl_cycle, _data(world), actor=world["official"])
    context = report_context(anl_cycle)

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, (str, int, float, bool))

    charts = context.pop("charts")
    assert plain(context)
    # one chart per indicator with values (indicators, indicators_2, …), then the analysis charts
    assert {"indicators", "signs", "flagged_share", "clusters"} <= set(charts)
    assert all(name.startswith("indicators_") for name in set(charts) - {"indicators", "signs", "flagged_share",
                                                                         "clusters"})
    assert all(png.startswith(b"\x89PNG") for png in charts.values())
    assert context["run"]["fingerprint"] and context["years"] == [2024, 2025, 2026]
    assert context["flagged_schools"] and context["clusters"]
    assert context["findings"][0]["organisations"] == "Школа А"
    assert [c["name"] for c in context["chart_list"]] == list(charts)
    assert context["indicator_rows"][0]["number"] == "1"



def test_the_import_hook_rebuilds_the_dashboards_of_the_cycles_above(world, anl_cycle, db_session):
    from app.analysis.dashboard import refresh_after_import

    ind = anl_cycle.indicators[0]
    from app.monitoring.models import IndicatorValue

    db_session.execute(IndicatorValue.__table__.delete().where(IndicatorValue.indicator_id == ind.id))
    _value(ind, world["school_a"], anl_cycle.period, "61")
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(DashboardRow)) == 0
    refresh_after_import(world["school_a"].id)
    row = db_session.scalar(select(DashboardRow).where(DashboardRow.indicator_id == ind.id,
                                                       DashboardRow.organisation_id == world["school_a"].id))
    assert row is not None and row.value == 61.0


def test_report_context_without_an_analysis_run(world, anl_cycle, db_session):
    from app.analysis.report import report_context

    context = report_context(anl_cycle)
    assert context["run"] is None and context["flagged_schools"] == [] and context["findings"] == []
    assert "не проводился" in context["report"]["intro"]
    assert all(png.startswith(b"\x89PNG") for png in context["charts"].values())

"""Demo data of the analysis feature, called from app.demo for each stage it fills.

For the analysis stage (ANL): synthetic assessment results over three years for the cycle owner's
schools, with a few planted anomalies (inflated results, hard tasks done better than easy ones, score
heaping, inflated journal marks, persistently low results), an analysis run computed in place, and
findings with their affected schools and evidence taken from the computed results.
"""

import random
from datetime import date

from sqlalchemy import func, select

from app.analysis import services
from app.analysis.models import AnalysisResult
from app.analysis.sections import kinds_for
from app.extensions import db
from app.orgs.models import Organisation
from app.imports import partitions, summaries
from app.imports.models import AssessmentResult
from app.monitoring.demo import addressee_kinds, answered
from app.analysis.dashboard import refresh_dashboard
from app.analysis.jobs import run_now
from app.analysis import finding_text
from app.core import russian as ru

MIN_SCHOOLS = 5  # fewer schools make no meaningful statistics: then only findings are recorded


def results_year(period: str) -> int:
    """The latest year with written assessments for a cycle: a 2026/27 cycle starts from spring 2026's."""
    return int(period[:4])


def seed_results(owner: Organisation, *, year: int, seed: int = 2026) -> int:
    """Synthetic results for the owner's schools over `year` and the two years before it, unless the
    schools have results already. Returns the number of rows written."""
    # Local: heavy: pandas and the statistical methods load only when a computation runs.
    from app.analysis.methods import synthetic

    schools = services.scope_schools(owner)
    if len(schools) < MIN_SCHOOLS:
        return 0
    have = db.session.scalar(select(func.count()).select_from(AssessmentResult)
                             .where(AssessmentResult.school_id.in_([s.id for s in schools])))
    if have:
        return 0
    n = len(schools)
    planted = {"inflated_scores": 1, "hard_better": 1, "heaping": 1, "inflated_marks": 1, "cohort_drop": 0,
               "persistently_low": max(1, n // 10)}
    region = synthetic.generate_region(n_schools=n, n_municipalities=1, years=(year - 2, year - 1, year),
                                       students=22, seed=seed, planted=planted)
    mapping = {i + 1: school.id for i, school in enumerate(schools)}
    # The generator knows no kinds of school: a primary school (НОШ) wrote ОГЭ of the 9th grade. Each school keeps
    # the works of the grades it teaches.
    top_grade = region.results["school_id"].map({i + 1: _top_grade(school) for i, school in enumerate(schools)})
    region.results = region.results[region.results["grade"] <= top_grade]
    partitions.ensure_years(region.results["year"].unique().tolist())
    written = synthetic.insert_results(db.session, region.results, mapping)
    summaries.refresh(set(region.results[["procedure", "year", "subject", "grade"]]
                          .drop_duplicates().itertuples(index=False, name=None)))
    return written


def _top_grade(school: Organisation) -> int:
    """The last grade a demo school teaches, read from its name: начальная (1–4), основная (1–9), средняя (1–11)."""
    name = school.name.lower()
    return 4 if "начальная" in name else 9 if "основная" in name else 11


def fill_anl(stage, *, official, head, rng: random.Random, today: date) -> None:
    """Results, an analysis run and two or three findings for the demo's analysis stage."""
    cycle = stage.cycle
    run = None
    seeded = _about_schools(cycle) and len(services.scope_schools(cycle.owner)) >= MIN_SCHOOLS
    if seeded:  # the schools' results serve the situational centre and the other mechanisms' cycles too
        seed_results(cycle.owner, year=results_year(cycle.period))
    if seeded and services.reads_results(cycle):  # a run only where the mechanism's pages show one
        run = services.start_run(cycle, actor=official, enqueue=False)
        run_now(run)  # rebuilds the indicator dashboard too
    else:
        # No run to rebuild the dashboard, and the demo's accepted answers enqueue their refresh after a commit the
        # seed does not make: the preschool cycle's page said «Принятых значений показателей пока нет».
        refresh_dashboard(cycle)
    for data in _findings(cycle, run):
        services.create_finding(cycle, data, actor=official)


def _pick(run, kind: str, **where):
    if run is None:
        return None
    query = select(AnalysisResult).where(AnalysisResult.run_id == run.id, AnalysisResult.kind == kind)
    for name, value in where.items():
        query = query.where(getattr(AnalysisResult, name) == value)
    return db.session.scalar(query.order_by(AnalysisResult.value.desc().nulls_last(), AnalysisResult.id).limit(1))


def _about_schools(cycle) -> bool:
    """Whether the demo seeds the schools' assessment results (ВПР, ОГЭ) and runs a calculation for the cycle: not
    for the preschool mechanism, whose monitoring asks the kindergartens (its findings name them, not schools).
    (Which sections a run's pages show is the mechanism's own, app/analysis/sections.py: not the demo's question.)"""
    return cycle.owner.kind != "municipality" or "school" in addressee_kinds(cycle)


def _findings(cycle, run) -> list[services.FindingData]:
    # a mechanism not reading the results names the institutions that answered its monitoring (kindergartens)
    schools = services.scope_schools(cycle.owner) if _about_schools(cycle) else answered(cycle)
    out = []
    # Only findings of the analyses that belong to the cycle's mechanism (app/analysis/sections.py).
    own = kinds_for(cycle.track.mechanism.code)
    # the objectivity finding is about a school the verdicts name (the least likely by chance), not one sign
    verdict = None
    if run is not None and "verdict" in own:
        verdict = next((r for r in db.session.scalars(select(AnalysisResult).where(
            AnalysisResult.run_id == run.id, AnalysisResult.kind == "verdict").order_by(
            AnalysisResult.value.asc().nulls_last(), AnalysisResult.id)) if (r.payload or {}).get("verdict") ==
            "flagged"), None)
    marker = None
    if verdict is None and run is not None and "marker" in own:  # no school named: the strongest single sign, as before
        marker = _pick(run, "marker", year=max(run.years)) or _pick(run, "marker")
    if verdict is not None:
        p = verdict.payload or {}
        out.append(services.FindingData(
            problem=f"В школе {ru.quote(verdict.school.display_name)} выявлены признаки необъективности "
                    f"результатов ({', '.join(finding_text.sign_words(s) for s in p.get('signs') or [])}).",
            causes="Недостаточный контроль за проведением и проверкой работ, "
                   "завышение отметок в журнале.",
            evidence=f"{verdict.year} г.: {finding_text.explanation_words(p.get('explanation'))}".strip(),
            organisation_ids=[verdict.school_id], analysis_run_id=run.id, source_result_id=verdict.id))
    if marker is not None:
        out.append(services.FindingData(
            problem=f"Признаки необъективности результатов ВПР в школе {ru.quote(marker.school.display_name)} "
                    f"({marker.subject}, {marker.grade} класс): {finding_text.sign_words(marker.sign)}.",
            causes="Недостаточный контроль за проведением и проверкой работ, "
                   "завышение отметок в журнале.",
            evidence=finding_text.prefill(marker)[1],
            organisation_ids=[marker.school_id], analysis_run_id=run.id, source_result_id=marker.id))
    shnor = _pick(run, "shnor") if "shnor" in own else None
    if shnor is not None:
        out.append(services.FindingData(
            problem=f"Школа {ru.quote(shnor.school.display_name)} показывает устойчиво низкие образовательные "
                    "результаты (ШНОР).",
            causes="Дефицит педагогических кадров, низкая учебная мотивация обучающихся.",
            evidence=finding_text.prefill(shnor)[1],
            organisation_ids=[shnor.school_id], analysis_run_id=run.id, source_result_id=shnor.id))
    below = None
    if run is not None and "cluster_position" in own:
        below = db.session.scalar(select(AnalysisResult).where(
            AnalysisResult.run_id == run.id, AnalysisResult.kind == "cluster_position")
            .order_by(AnalysisResult.value.asc().nulls_last()).limit(1))
    if below is not None and below.value is not None and below.value < 0:
        out.append(services.FindingData(
            problem=f"Результаты школы {ru.quote(below.school.display_name)} ниже ожидаемого для школ со схожими "
                    "условиями.",
            causes="Недостаточная методическая поддержка учителей.",
            evidence=finding_text.prefill(below)[1],
            organisation_ids=[below.school_id], analysis_run_id=run.id, source_result_id=below.id))
    if len(out) < 2:
        affected = [s.id for s in schools[:2]] or [cycle.owner_id]
        # A mechanism without the assessment analyses gets a finding about its own indicators, not the ВПР.
        problem = ("Доля обучающихся, не достигших базового уровня, выше региональной в части школ округа."
                   if own else f"Значения части показателей механизма {ru.quote(cycle.track.mechanism.title)} "
                               "ниже целевых в части организаций округа.")
        out.append(services.FindingData(
            problem=problem,
            causes=("Недостаточная работа с обучающимися группы риска учебной неуспешности." if own else
                    "Недостаточная системность работы организаций по направлению."),
            evidence="Сведения мониторинга показателей текущего периода (см. значения показателей).",
            organisation_ids=affected, analysis_run_id=run.id if run else None))
    return out


STAGE_FILLERS: dict = {"ANL": fill_anl}

"""Operations of the analysis feature: starting analysis runs, reading their stored results within the
user's scope, findings (выводы) and school risk profiles. They flush, audit, and never commit."""

import uuid
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.analysis import sections
from app.analysis.models import AnalysisPart, AnalysisResult, AnalysisRun, Finding, RiskProfile
from app.audit import chain
from app.auth.models import User
from app.auth.roles import EDITORS
from app.core.access import scope_condition
from app.core import russian as ru
from app.core.checks import check_version, require_role
from app.core.errors import StaleObject, ValidationFailed
from app.core.timeutil import utcnow
from app.cycles.models import Cycle, Stage
from app.extensions import db
from app.jobs import registry
from app.jobs.tracked import enqueue_tracked, pending_rows, reconcile_rows
from app.orgs.models import Organisation
from app.imports.models import AssessmentResult
from app.analysis.risk_profile import validate_profile

# Who may start an analysis and formulate findings:
# The cycle's editors, and the РЦОКО analysts of the region their centre supports (they run analyses and write
# findings, but edit no other content and approve nothing: they are neither EDITORS nor approvers).
ANALYSTS = EDITORS | {"analyst"}
# Who may enter a school's risk-profile questionnaire results.
RISK_EDITORS = frozenset({"director", "staff", "official", "methodologist", "head"})
MAX_FINDING_TEXT = 10_000

def _runs_failed(run_ids: list[int]) -> None:
    # Local: the fan-out's jobs module loads the computation's modules; the registry only needs the hook.
    from app.analysis.fanout import runs_failed

    runs_failed(run_ids)


# A failed run (its job raised, or the reconciler found its worker gone — a fanned-out run's combining job among
# them) keeps none of its result rows: the parts of a fanned-out run store theirs in their own transactions.
registry.register(registry.TrackedKind(
    name="analysis_run", model=AnalysisRun, job="app.analysis.jobs.run_analysis", label="расчёт анализа",
    lost="Расчёт прерван: фоновый процесс был остановлен; результаты не сохранены. Запустите анализ снова.",
    internal_error="Внутренняя ошибка при расчёте; результаты не сохранены. Сообщите администратору системы "
                   "номер расчёта.", raise_inline=True,
    on_claim=lambda: {"started_at": utcnow(), "progress": 0}, on_fail=lambda: {"finished_at": utcnow()},
    after_fail=_runs_failed))


def _parts_failed(part_ids: list[int]) -> None:
    # Local: the fan-out's jobs module loads the computation's modules; the registry only needs the hook.
    from app.analysis.fanout import parts_failed

    parts_failed(part_ids)


# One municipality's share of a fanned-out run (app/analysis/fanout.py): its failure fails the run.
registry.register(registry.TrackedKind(
    name="analysis_part", model=AnalysisPart, job="app.analysis.jobs.run_part", label="часть расчёта анализа",
    lost="фоновый процесс, читавший результаты муниципалитета, был остановлен.",
    internal_error="внутренняя ошибка при чтении результатов муниципалитета.",
    on_claim=lambda: {"started_at": utcnow()}, on_fail=lambda: {"finished_at": utcnow()},
    after_fail=_parts_failed))


# --- scope -----------------------------------------------------------------------------------

def scope_schools(org: Organisation) -> list[Organisation]:
    """Schools (educational organisations) of an organisation's subtree, the organisation itself included."""
    return list(db.session.scalars(
        select(Organisation).where(Organisation.in_subtree_of(org), Organisation.kind == "school")
        .order_by(Organisation.name)))


def reference_organisation(org: Organisation) -> Organisation:
    """The region an organisation belongs to: results are compared with the region's schools (§8)."""
    ids = org.ancestor_ids()
    if not ids:
        return org
    return db.session.get(Organisation, ids[0]) or org


def school_year_end(period: str) -> int:
    """«2025/26» → 2026 (the year the school year's assessments are written); «2026» → 2026."""
    period = (period or "").strip()
    head = period[:4]
    if not head.isdigit():
        raise ValidationFailed(f"Не удалось определить учебный год цикла по периоду «{period}».")
    return int(head) + 1 if "/" in period else int(head)


def analysis_years(cycle: Cycle) -> list[int]:
    """The cycle's year and up to two before it. The cycle's year is the latest year with results in the
    owner's subtree not after the end of the cycle's school year (so «2025/26» reads 2026, or 2025 when
    2026's results are not loaded yet)."""
    end = school_year_end(cycle.period)
    latest = db.session.scalar(
        select(func.max(AssessmentResult.year)).join(Organisation, Organisation.id == AssessmentResult.school_id)
        .where(Organisation.in_subtree_of(cycle.owner), AssessmentResult.year <= end))
    year = latest or end
    return [year - 2, year - 1, year]


# --- runs ------------------------------------------------------------------------------------

def fans_out(reference: Organisation) -> bool:
    """Whether a run over `reference`'s schools is split into one job per municipality (ANALYSIS_FANOUT_MIN_SCHOOLS;
    the results are the same either way)."""
    least = current_app.config["ANALYSIS_FANOUT_MIN_SCHOOLS"]
    if least <= 0:
        return False
    return db.session.scalar(select(func.count()).select_from(Organisation).where(
        Organisation.in_subtree_of(reference), Organisation.kind == "school")) >= least


def reads_results(cycle: Cycle) -> bool:
    """Whether a calculation over the assessment results (ВПР, ОГЭ) belongs to the cycle's mechanism: some section of
    it does (mechanism_analyses.yaml). A preschool or an upbringing cycle is analysed by its indicators instead."""
    return bool(sections.sections_for(cycle.track.mechanism.code))


def may_start_run(cycle: Cycle) -> bool:
    """Whether the cycle takes a new run at all (the pages offer «Запустить анализ» only then)."""
    return cycle.state == "open" and reads_results(cycle)


def start_run(cycle: Cycle, *, actor: User, enqueue: bool = True) -> AnalysisRun:
    """Queue an analysis of the cycle owner's schools over the cycle's year and the two before it."""
    role = require_role(actor, cycle.owner, ANALYSTS, "Недостаточно прав, чтобы запустить анализ.")
    if cycle.state != "open":  # its analysis stays what the cycle was closed with (the page offers no button)
        raise ValidationFailed("Цикл закрыт: новый анализ по нему не запускается.")
    if not reads_results(cycle):  # none of its pages or reports would show the run
        raise ValidationFailed(f"Расчёт по результатам оценочных процедур (ВПР, ОГЭ) к механизму "
                               f"{cycle.track.mechanism.code} не относится: его анализ — значения показателей "
                               "(вкладка «Показатели») и выводы.")
    # Two «Запустить анализ» at once (two analysts, two tabs) must not both pass the «already running» check below:
    # the cycle's row is locked until this request commits, so the second one waits and then sees the first run.
    db.session.execute(select(Cycle.id).where(Cycle.id == cycle.id).with_for_update())
    # A run left behind by a dead worker or a Redis that lost its job must not block this one: settle it first.
    reconcile_rows("analysis_run", pending_rows("analysis_run", AnalysisRun.cycle_id == cycle.id))
    running = db.session.execute(select(AnalysisRun.id, AnalysisRun.message).where(
        AnalysisRun.cycle_id == cycle.id, AnalysisRun.status.in_(("queued", "running"))).limit(1)).first()
    if running is not None and running.message == registry.WAITING:
        raise ValidationFailed(f"Анализ № {running.id} по этому циклу {registry.WAITING}; он начнётся, когда очередь "
                               "станет доступна.")
    if running is not None:
        raise ValidationFailed(f"Анализ № {running.id} по этому циклу уже выполняется; дождитесь его окончания.")
    if not scope_schools(cycle.owner):
        raise ValidationFailed("В организации цикла нет школ: анализировать нечего.")
    years = analysis_years(cycle)
    reference = reference_organisation(cycle.owner)
    run = AnalysisRun(cycle=cycle, organisation=cycle.owner, years=years, status="queued", progress=0,
                      created_by=actor, rq_job_id=uuid.uuid4().hex,
                      params={"years": years, "reference_organisation_id": reference.id,
                              "reference_path": reference.path, "scope_path": cycle.owner.path,
                              "fanout": enqueue and fans_out(reference)})
    db.session.add(run)
    db.session.flush()
    chain.record(action="run_analysis", object_type="analysis_run", object_id=run.id, actor=actor,
                 actor_role=role, cycle_id=cycle.id, organisation_id=cycle.owner_id,
                 after={"years": years, "cycle_id": cycle.id})
    if enqueue:
        enqueue_tracked("analysis_run", run.id, job_id=run.rq_job_id)
    else:
        run.rq_job_id = None
    return run


def runs_of_cycle(cycle: Cycle, limit: int = 20) -> list[AnalysisRun]:
    return list(db.session.scalars(
        select(AnalysisRun).where(AnalysisRun.cycle_id == cycle.id)
        .options(selectinload(AnalysisRun.created_by))
        .order_by(AnalysisRun.id.desc()).limit(limit)))


def latest_run(cycle: Cycle, *, done: bool = True) -> AnalysisRun | None:
    query = select(AnalysisRun).where(AnalysisRun.cycle_id == cycle.id)
    if done:
        query = query.where(AnalysisRun.status == "done")
    return db.session.scalar(query.order_by(AnalysisRun.id.desc()).limit(1))


def latest_run_for_school(school: Organisation) -> AnalysisRun | None:
    """The newest finished run whose scope includes the school (the school's own or a higher authority's)."""
    ancestors = school.ancestor_ids()
    return db.session.scalar(
        select(AnalysisRun).where(AnalysisRun.status == "done", AnalysisRun.organisation_id.in_(ancestors))
        .order_by(AnalysisRun.finished_at.desc(), AnalysisRun.id.desc()).limit(1))


def results(run: AnalysisRun, kinds, *, user: User | None = None, school_id: int | None = None) -> list:
    """Stored result rows of a run, of the given kinds, limited to schools in the user's subtree (rows
    without a school — municipality shares, notes — stay visible to whoever sees the run)."""
    if isinstance(kinds, str):
        kinds = (kinds,)
    query = (select(AnalysisResult).where(AnalysisResult.run_id == run.id, AnalysisResult.kind.in_(kinds))
             .options(selectinload(AnalysisResult.school)))
    if school_id is not None:
        query = query.where(AnalysisResult.school_id == school_id)
    if user is not None:
        visible = select(Organisation.id).where(scope_condition(Organisation.path, user))
        query = query.where((AnalysisResult.school_id.is_(None)) | AnalysisResult.school_id.in_(visible))
    return list(db.session.scalars(query.order_by(AnalysisResult.id)))


def result_in_run(run: AnalysisRun, result_id: int | None) -> AnalysisResult | None:
    if not result_id:
        return None
    row = db.session.get(AnalysisResult, result_id)
    return row if row is not None and row.run_id == run.id else None


# --- findings --------------------------------------------------------------------------------

@dataclass
class FindingData:
    problem: str
    causes: str | None
    evidence: str
    organisation_ids: list[int]
    analysis_run_id: int | None = None
    source_result_id: int | None = None


def _anl_stage(cycle: Cycle, actor: User) -> tuple[Stage, str]:
    role = require_role(actor, cycle.owner, ANALYSTS, "Недостаточно прав для изменения выводов анализа.")
    stage = cycle.stage("ANL")
    if stage is None:
        raise ValidationFailed("Блок «Анализ результатов мониторинга» не входит в этот цикл.")
    if cycle.state != "open" or stage.state != "draft":
        raise ValidationFailed(f"Этап «{stage.title}» сейчас не редактируется: выводы можно изменять, "
                               "пока этап в работе.")
    stage.content_updated_at = utcnow()  # an edit racing a submit collides on the stage's version
    return stage, role


def of_own_mechanism(cycle: Cycle, result: AnalysisResult) -> bool:
    """One computation serves every cycle, but its sections belong to mechanisms (mechanism_analyses.yaml): a
    finding of this cycle rests only on a result of its own mechanism's sections (or of none, e.g. a note)."""
    section = sections.section_of(result.kind)
    return section is None or section in sections.sections_for(cycle.track.mechanism.code)


def _clean_finding(cycle: Cycle, data: FindingData) -> tuple[dict, list[Organisation]]:
    problems = []
    problem = (data.problem or "").strip()
    evidence = (data.evidence or "").strip()
    causes = (data.causes or "").strip() or None
    if not problem:
        problems.append("Сформулируйте проблему.")
    if not evidence:
        problems.append("Укажите доказательства: данные анализа, на которых основан вывод.")
    for label, text in (("Проблема", problem), ("Причины", causes or ""), ("Доказательства", evidence)):
        if len(text) > MAX_FINDING_TEXT:
            problems.append(f"{label}: не более {MAX_FINDING_TEXT} символов.")
    ids = sorted(set(data.organisation_ids or []))
    orgs = list(db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)))) if ids else []
    if len(orgs) != len(ids) or any(not o.is_within(cycle.owner) for o in orgs):
        problems.append("Затронутые организации можно выбрать только из организаций цикла.")
    if not ids:
        problems.append("Выберите хотя бы одну затронутую организацию.")
    run_id = data.analysis_run_id
    if run_id:
        run = db.session.get(AnalysisRun, run_id)
        if run is None or run.cycle_id != cycle.id:
            problems.append("Расчёт анализа не относится к этому циклу.")
    if data.source_result_id:
        row = db.session.get(AnalysisResult, data.source_result_id)
        if row is None or row.run_id != run_id:
            problems.append("Выбранный результат расчёта не относится к указанному расчёту.")
        elif not of_own_mechanism(cycle, row):
            section = sections.section_of(row.kind)
            problems.append(f"Выбранный результат расчёта относится к анализу «{sections.SECTION_TITLES[section]}», "
                            f"который не входит в механизм {ru.quote(cycle.track.mechanism.title)}: вывод цикла "
                            "может опираться только на анализ своего механизма.")
    if problems:
        raise ValidationFailed(" ".join(problems), problems=problems)
    return ({"problem": problem, "causes": causes, "evidence": evidence, "analysis_run_id": run_id or None,
             "source_result_id": data.source_result_id or None}, orgs)


def create_finding(cycle: Cycle, data: FindingData, *, actor: User) -> Finding:
    stage, role = _anl_stage(cycle, actor)
    values, orgs = _clean_finding(cycle, data)
    finding = Finding(cycle=cycle, stage=stage, created_by_id=actor.id, **values)
    finding.organisations = orgs
    db.session.add(finding)
    db.session.flush()
    chain.record(action="create", object_type="finding", object_id=finding.id, actor=actor, actor_role=role,
                 cycle_id=cycle.id, organisation_id=cycle.owner_id, after=finding.audit_snapshot())
    return finding


def update_finding(finding: Finding, data: FindingData, *, actor: User, expected_version: int | None = None) -> None:
    cycle = finding.cycle
    stage, role = _anl_stage(cycle, actor)
    check_version(finding, expected_version)
    values, orgs = _clean_finding(cycle, data)
    before = finding.audit_snapshot()
    for key, value in values.items():
        setattr(finding, key, value)
    finding.organisations = orgs
    finding.updated_at = utcnow()  # the organisation list alone would not bump the version
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleObject() from None
    chain.record(action="update", object_type="finding", object_id=finding.id, actor=actor, actor_role=role,
                 cycle_id=cycle.id, organisation_id=cycle.owner_id, before=before, after=finding.audit_snapshot())


def delete_finding(finding: Finding, *, actor: User, expected_version: int | None = None) -> None:
    cycle = finding.cycle
    _stage, role = _anl_stage(cycle, actor)
    check_version(finding, expected_version)
    chain.record(action="delete", object_type="finding", object_id=finding.id, actor=actor, actor_role=role,
                 cycle_id=cycle.id, organisation_id=cycle.owner_id, before=finding.audit_snapshot())
    db.session.delete(finding)
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleObject() from None


def findings_of_cycle(cycle: Cycle) -> list[Finding]:
    return list(db.session.scalars(
        select(Finding).where(Finding.cycle_id == cycle.id)
        .options(selectinload(Finding.organisations), selectinload(Finding.created_by))
        .order_by(Finding.id)))


# --- risk profiles ---------------------------------------------------------------------------

def save_risk_profile(school: Organisation, *, year: int, scores: dict, priorities: list[dict], actor: User,
                      source: str = "form", expected_version: int | None = None) -> RiskProfile:
    """Create or replace a school's risk profile for a year (scores 0–10 per factor, ≤ 3 priorities)."""
    role = require_role(actor, school, RISK_EDITORS, "Недостаточно прав, чтобы вносить профиль рисков школы.")
    if school.kind != "school":
        raise ValidationFailed("Профиль рисков заполняется для образовательной организации.")
    scores, priorities = validate_profile(year, scores, priorities)
    profile = db.session.scalar(select(RiskProfile).where(RiskProfile.organisation_id == school.id,
                                                          RiskProfile.year == year))
    before = None
    if profile is None:
        profile = RiskProfile(organisation=school, year=year)
        db.session.add(profile)
    else:
        check_version(profile, expected_version)
        before = profile.audit_snapshot()
    profile.scores, profile.priorities, profile.source = scores, priorities, source
    profile.entered_by_id = actor.id
    profile.updated_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleObject() from None
    chain.record(action="update" if before else "create", object_type="risk_profile", object_id=profile.id,
                 actor=actor, actor_role=role, organisation_id=school.id, before=before,
                 after=profile.audit_snapshot())
    return profile


def risk_profiles_of(school: Organisation) -> list[RiskProfile]:
    return list(db.session.scalars(select(RiskProfile).where(RiskProfile.organisation_id == school.id)
                                   .order_by(RiskProfile.year.desc())))

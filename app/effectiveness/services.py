"""Effectiveness evaluation (анализ эффективности принятых мер): indicator values after the measures against
baseline and target (per school and overall), each measure assessed from the indicators it was expected to
move, the official's conclusions, and proposals carried into the next period's cycle.

Operations flush, write the audit log and never commit. Numbers are computed from accepted indicator values
(the school's answer accepted by the official) in a fixed number of queries per cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.audit import chain
from app.auth.models import User
from app.auth.roles import EDITORS
from app.core.checks import check_version, require_role
from app.core.errors import StaleObject, ValidationFailed
from app.core.timeutil import utcnow
from app.cycles.basis import basis_cycles, basis_indicators
from app.cycles.models import Cycle, Goal, Stage
from app.effectiveness.models import (PROPOSAL_KINDS, RESULT_SHORT, RESULTS, EffectivenessEvaluation,
                                      EffectivenessProposal, MeasureAssessment)
from app.extensions import db
from app.orgs.services import org_time_zone, org_today
from app.monitoring.values import owner_value, parse_number, topmost_answers
from app.monitoring.models import DataRequest, IndicatorValue, Submission
from app.monitoring.services import audience_addressees
from app.orgs.models import Organisation
from app.followup.models import Measure, local_day, measure_indicators, remeasured, remeasured_from
from app.effectiveness.repeat import Answer, KeptValue, settle
from workflows.measure import ACTIVE_STATES
from app.core import charts
from app.core import russian as ru

UNFINISHED = "мера не завершена — эффект не оценивается"
PARTIAL = ("повторно измерена только часть организаций, значение «после мер» по всем — значение мониторинга до "
           "окончания меры, эффект не оценивается")

CENT = Decimal("0.01")


# --- numbers -----------------------------------------------------------------------------------

def improved(direction: str, before, after) -> bool | None:
    """Did the value move the right way (higher for 'up', lower for 'down')? None when either is unknown."""
    if before is None or after is None:
        return None
    return after > before if direction == "up" else after < before


def target_met(direction: str, target, value) -> bool | None:
    if target is None or value is None:
        return None
    return value >= target if direction == "up" else value <= target


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _round(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)


def overall(unit: str, values: list[Decimal], own: Decimal | None = None) -> Decimal | None:
    """The owner's value (monitoring.values.owner_value: its own where it reported one, else from its
    organisations' values), to the cent."""
    value = owner_value(unit, values, own)
    return None if value is None else _round(value)


@dataclass
class SchoolValue:
    organisation_id: int
    name: str
    before: Decimal | None  # the school's value for the previous period, if it was measured
    after: Decimal

    def change(self) -> Decimal | None:
        return None if self.before is None else self.after - self.before


@dataclass
class IndicatorRow:
    """One indicator: the municipality's (owner's) value after the measures — its own where it reported one,
    otherwise the mean over the organisations that answered, or their sum for a head count — against the baseline
    and target, and each one's value."""

    id: int
    code: str
    name: str
    unit: str
    direction: str
    baseline: Decimal | None
    target: Decimal | None
    after: Decimal | None
    schools: list[SchoolValue] = field(default_factory=list)
    measured_on: date | None = None  # when the latest accepted value was entered
    # the periods of the repeat measurement (повторное измерение of the EFF stage) the value after the measures is of
    repeat_periods: list[str] = field(default_factory=list)
    repeated: int = 0  # of the organisations counted, how many were measured again (the rest: the monitoring's value)
    # upper values kept because the repeat measurement covered only part of what each stands for
    kept: list[KeptValue] = field(default_factory=list)

    @property
    def change(self) -> Decimal | None:
        return None if self.after is None or self.baseline is None else self.after - self.baseline

    @property
    def improved(self) -> bool | None:
        return improved(self.direction, self.baseline, self.after)

    @property
    def target_met(self) -> bool | None:
        return target_met(self.direction, self.target, self.after)

    @property
    def progress(self) -> Decimal | None:
        """Share of the planned change achieved, in per cent (100 = target reached exactly)."""
        if self.change is None or self.target is None or self.target == self.baseline:
            return None
        return _round(self.change / (self.target - self.baseline) * 100)


def indicator_rows(cycle: Cycle) -> list[IndicatorRow]:
    """Values after the measures per indicator, per school and overall (two queries)."""
    # A partial cycle evaluates its measures on the indicators of its full cycle (app/cycles/basis.py).
    indicators = basis_indicators(cycle)
    # The previous period's values live on the indicator the current one was carried from.
    source_of = {i.carried_from_id: i.id for i in indicators if i.carried_from_id}
    ids = [i.id for i in indicators] + list(source_of)
    values = db.session.execute(
        select(IndicatorValue.indicator_id, IndicatorValue.organisation_id, IndicatorValue.period,
               IndicatorValue.value, IndicatorValue.updated_at, Organisation.short_name, Organisation.name,
               Organisation.path, Organisation.kind, DataRequest.stage_code)
        .join(Submission, Submission.id == IndicatorValue.submission_id)
        .join(DataRequest, DataRequest.id == Submission.request_id)
        .join(Organisation, Organisation.id == IndicatorValue.organisation_id)
        .where(IndicatorValue.indicator_id.in_(ids), Submission.state == "accepted")
        .order_by(Organisation.name, IndicatorValue.period)).all() if ids else []
    zone = org_time_zone(cycle.owner)
    current: dict[int, dict[int, tuple]] = {}
    earlier: dict[int, dict[int, tuple[str, Decimal]]] = {}
    latest: dict[int, date] = {}
    # indicator → organisation → its monitoring value as the repeat's rule reads it (app/effectiveness/repeat.py)
    answers: dict[int, dict[int, Answer]] = {}
    # indicator → organisation → (entered, value, period, name, path, kind) of its latest repeat measurement
    repeat: dict[int, dict[int, tuple]] = {}
    for v in values:
        previous_cycle = v.indicator_id in source_of
        indicator_id = source_of[v.indicator_id] if previous_cycle else v.indicator_id
        if not previous_cycle:
            # Any accepted value of this cycle's indicator counts as a measurement (as in the integrity check), on
            # its day in the owner's time zone.
            day = local_day(v.updated_at, zone)
            if indicator_id not in latest or day > latest[indicator_id]:
                latest[indicator_id] = day
        if not previous_cycle and v.stage_code == "EFF":
            # The repeat measurement after the measures: its value is the organisation's «после мер» (the
            # monitoring's value for the cycle's period stays what the analysis read).
            seen = repeat.setdefault(indicator_id, {}).get(v.organisation_id)
            if seen is None or v.updated_at > seen[0]:
                repeat[indicator_id][v.organisation_id] = (v.updated_at, v.value, v.period, v.short_name or v.name,
                                                           v.path, v.kind)
        elif not previous_cycle and v.period == cycle.period:
            current.setdefault(indicator_id, {})[v.organisation_id] = (v.value, v.short_name or v.name, v.path)
            answers.setdefault(indicator_id, {})[v.organisation_id] = Answer(
                v.organisation_id, v.short_name or v.name, v.path, v.kind, v.updated_at)
        elif v.period < cycle.period:
            seen = earlier.setdefault(indicator_id, {}).get(v.organisation_id)
            if seen is None or v.period > seen[0]:
                earlier[indicator_id][v.organisation_id] = (v.period, v.value)
    kept: dict[int, list[KeptValue]] = {}
    asked = cache(lambda: audience_addressees(cycle))  # the organisations the cycle asks, read once when needed
    for indicator_id, by_org in repeat.items():
        measured = current.setdefault(indicator_id, {})
        again = {org_id: Answer(org_id, name, path, kind) for org_id, (_e, _v, _p, name, path, kind) in by_org.items()}
        dropped, kept[indicator_id] = settle(answers.get(indicator_id, {}), again, asked, zone)
        for org_id in dropped:
            del measured[org_id]
        for org_id, (_entered, value, _period, name, path, _kind) in by_org.items():
            measured[org_id] = (value, name, path)
    rows = []
    for ind in indicators:
        by_school = current.get(ind.id, {})
        schools = [SchoolValue(org_id, name, earlier.get(ind.id, {}).get(org_id, (None, None))[1], value)
                   for org_id, (value, name, _path) in by_school.items()]
        own = by_school.get(cycle.owner_id, (None,))[0]
        # the topmost organisations that answered (a municipality's answer holds its schools')
        below = topmost_answers({path: value for org_id, (value, _name, path) in by_school.items()
                                 if org_id != cycle.owner_id})
        after = overall(ind.unit, below, own)
        periods = sorted({r[2] for r in repeat.get(ind.id, {}).values()})
        rows.append(IndicatorRow(ind.id, ind.code, ind.name, ind.unit, ind.direction, _dec(ind.baseline),
                                 _dec(ind.target), after, schools, latest.get(ind.id), periods,
                                 len(repeat.get(ind.id, {})), kept.get(ind.id, [])))
    return rows


def measured_indicator_ids(cycle: Cycle) -> list[int]:
    """The indicators the cycle's (not cancelled) measures were expected to move, by code: what its repeat
    measurement asks (registered for the monitoring's request form, app/effectiveness/__init__.py)."""
    own = {i.id: i.code for i in basis_indicators(cycle)}  # a partial cycle's measures name its full cycle's
    ids = db.session.scalars(
        select(measure_indicators.c.indicator_id).join(Measure, Measure.id == measure_indicators.c.measure_id)
        .where(Measure.cycle_id == cycle.id, Measure.state != "cancelled").distinct())
    return sorted((i for i in ids if i in own), key=own.get)


@dataclass
class MeasureResult:
    measure: object
    computed: str
    details: list[tuple[str, str]]  # (indicator code, what happened to it)


def assess_measures(cycle: Cycle, rows: list[IndicatorRow], *, today: date) -> list[MeasureResult]:
    """Each (not cancelled) measure assessed from the indicators it was expected to move: moved when every
    measurable one improved on its baseline, not moved when any did not, not measurable when none can be
    told (no values, no baseline, or not measured again after the measure ended)."""
    by_id = {r.id: r for r in rows}
    # the values as the page's table prints them («49,3 → 52,9», not «60,6 → 85,93» beside «85,9» in the table)
    shown = {r.id: n for r, n in zip(rows, shown_numbers(rows))}
    measures = db.session.scalars(
        select(Measure).where(Measure.cycle_id == cycle.id, Measure.state != "cancelled")
        .options(selectinload(Measure.indicators)).order_by(Measure.start_date, Measure.id)).all()
    zone = org_time_zone(cycle.owner)
    results = []
    for m in measures:
        details, verdicts = [], []
        since = remeasured_from(m.start_date, m.end_date, m.done_at, today, zone)
        for ind in m.indicators:
            row = by_id.get(ind.id)
            if row is None or row.after is None:
                details.append((ind.code, "нет принятых значений"))
            elif row.baseline is None:
                details.append((ind.code, "не задано базовое значение"))
            elif since is not None and not remeasured(row.measured_on, since):
                details.append((ind.code, "не измерялся после окончания меры"))
            elif since is not None and any(not remeasured(k.entered_on, since) for k in row.kept):
                # the value «после мер» is a monitoring value from before the measure ended: a repeat of a part
                # does not make it one measured after it
                details.append((ind.code, "; ".join([PARTIAL, *(k.words for k in row.kept)])))
            else:
                verdicts.append(bool(row.improved))
                details.append((ind.code, f"{shown[row.id]['baseline']} → {shown[row.id]['after']}: "
                                          + ("улучшился" if row.improved else "не улучшился")))
        if not m.indicators:
            details.append(("—", "не указаны показатели, на которые направлена мера"))
        if m.state in ACTIVE_STATES:
            # a measure still planned or under way has no effect to rate yet
            details.append(("—", UNFINISHED))
            verdicts = []
        computed = "not_measurable" if not verdicts else "moved" if all(verdicts) else "not_moved"
        results.append(MeasureResult(m, computed, details))
    return results


def shown_numbers(rows: list[IndicatorRow]) -> list[dict]:
    """Each row's numbers as the page prints them, a column with one number of decimals (it mixed «52,9» and
    «85,93»): the baseline and the target as entered, the value after the measures and the change with the precision
    of the organisations' values and at least one decimal (as the effectiveness report), a head count whole; the
    change signed («+2,1», «−0,4»); each row's organisations' values a column pair of their own."""
    units = [r.unit for r in rows]
    measured = [v for r in rows if not ru.is_count_unit(r.unit) for s in r.schools for v in (s.before, s.after)
                if v is not None]
    digits = max(1, ru.decimals(measured))
    columns = {"baseline": ru.column([r.baseline for r in rows], units),
               "target": ru.column([r.target for r in rows], units),
               "after": ru.column([r.after for r in rows], units, digits),
               "change": ru.column([r.change for r in rows], units, digits, sign=True)}
    out = []
    for n, r in enumerate(rows):
        same = [r.unit] * len(r.schools)
        pair = ru.column([s.before for s in r.schools] + [s.after for s in r.schools], same + same)
        out.append({**{key: column[n] for key, column in columns.items()},
                    "schools": list(zip(pair[:len(r.schools)], pair[len(r.schools):]))})
    return out


def _fmt(value) -> str:
    if value is None:
        return "—"
    text = f"{Decimal(value).quantize(CENT):f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


# --- writes ------------------------------------------------------------------------------------

def _eff_stage(cycle: Cycle, actor: User) -> tuple[Stage, str]:
    role = require_role(actor, cycle.owner, EDITORS, "Недостаточно прав для анализа эффективности этого цикла.")
    stage = cycle.stage("EFF")
    if stage is None:
        raise ValidationFailed("В цикле этого направления нет этапа «Анализ эффективности принятых мер».")
    if stage.state != "draft" or cycle.state != "open":
        raise ValidationFailed("Анализ эффективности редактируется, пока этап «Анализ эффективности принятых мер» "
                               "открыт (черновик).")
    # Bumps the stage version: an edit and a concurrent submit of the stage cannot both win.
    stage.content_updated_at = utcnow()
    return stage, role


def evaluation_of(cycle: Cycle) -> EffectivenessEvaluation | None:
    return db.session.scalar(select(EffectivenessEvaluation).where(EffectivenessEvaluation.cycle_id == cycle.id))


def _get_or_create(cycle: Cycle, stage: Stage, actor: User, role: str) -> EffectivenessEvaluation:
    evaluation = evaluation_of(cycle)
    if evaluation is None:
        evaluation = EffectivenessEvaluation(cycle=cycle, stage=stage, created_by_id=actor.id)
        db.session.add(evaluation)
        db.session.flush()
        chain.record(action="create", object_type=evaluation.audit_type, object_id=evaluation.id, actor=actor,
                     actor_role=role, cycle_id=cycle.id, organisation_id=cycle.owner_id,
                     after=evaluation.audit_snapshot())
    return evaluation


def _sync_assessments(evaluation: EffectivenessEvaluation, *, today: date) -> dict[int, str]:
    cycle = evaluation.cycle
    results = {r.measure.id: r.computed for r in assess_measures(cycle, indicator_rows(cycle), today=today)}
    existing = {a.measure_id: a for a in evaluation.assessments}
    for measure_id, assessment in existing.items():
        if measure_id not in results:  # the measure was cancelled since
            evaluation.assessments.remove(assessment)
    for measure_id, computed in results.items():
        if measure_id in existing:
            existing[measure_id].computed = computed
        else:
            evaluation.assessments.append(MeasureAssessment(measure_id=measure_id, computed=computed))
    return results


def save_evaluation(cycle: Cycle, *, conclusions: str, actor: User, expected_version: int | None = None,
                    today: date | None = None) -> EffectivenessEvaluation:
    """Save the conclusions and recompute every measure's assessment from the current values."""
    stage, role = _eff_stage(cycle, actor)
    conclusions = (conclusions or "").strip()
    if not conclusions:
        raise ValidationFailed("Сформулируйте выводы об эффективности принятых мер.")
    if len(conclusions) > 20000:
        raise ValidationFailed("Выводы слишком длинные: не более 20 000 символов.")
    existing = evaluation_of(cycle)
    if existing is not None:
        check_version(existing, expected_version)
    evaluation = _get_or_create(cycle, stage, actor, role)
    before = {**evaluation.audit_snapshot(), "assessments": {a.measure_id: a.computed for a in evaluation.assessments}}
    evaluation.conclusions = conclusions
    results = _sync_assessments(evaluation, today=today or org_today(cycle.owner))
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleObject() from None
    chain.record(action="update_content", object_type=evaluation.audit_type, object_id=evaluation.id, actor=actor,
                 actor_role=role, cycle_id=cycle.id, organisation_id=cycle.owner_id, before=before,
                 after={**evaluation.audit_snapshot(), "assessments": results})
    return evaluation


def override_assessment(evaluation: EffectivenessEvaluation, *, measure_id: int, result: str, note: str,
                        actor: User, expected_version: int | None = None) -> MeasureAssessment:
    """The official's own assessment of a measure (or back to the computed one with an empty result)."""
    _stage, role = _eff_stage(evaluation.cycle, actor)
    assessment = next((a for a in evaluation.assessments if a.measure_id == measure_id), None)
    if assessment is None:
        raise ValidationFailed("Эта мера не оценивается в анализе эффективности данного цикла.")
    check_version(assessment, expected_version)
    result, note = (result or "").strip(), (note or "").strip()
    if result and result not in RESULTS:
        raise ValidationFailed("Выберите оценку меры из списка.")
    if result and not note:
        raise ValidationFailed("Укажите, почему оценка меры отличается от рассчитанной.")
    measure = db.session.get(Measure, measure_id)
    if result in ("moved", "not_moved") and measure.state in ACTIVE_STATES:
        raise ValidationFailed(f"Мера «{measure.title}» не завершена: {UNFINISHED}.")
    before = assessment.audit_snapshot()
    assessment.override = result or None
    assessment.note = note or None
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleObject() from None
    chain.record(action="override" if result else "reset_override", object_type=assessment.audit_type,
                 object_id=assessment.id, actor=actor, actor_role=role, cycle_id=evaluation.cycle_id,
                 organisation_id=evaluation.cycle.owner_id, before=before, after=assessment.audit_snapshot())
    return assessment


def parse_target(raw) -> Decimal | None:
    if raw is None or isinstance(raw, Decimal):
        return raw
    value, error = parse_number(raw)
    if error:
        raise ValidationFailed("Новое целевое значение должно быть числом (например, 75 или 12,5).")
    return value


def add_proposal(cycle: Cycle, *, kind: str, text: str, actor: User, indicator_id: int | None = None,
                 new_target=None) -> EffectivenessProposal:
    """A proposal for the next period's cycle: a goal, or a new target for one of this cycle's indicators."""
    stage, role = _eff_stage(cycle, actor)
    text = (text or "").strip()
    problems = []
    if kind not in PROPOSAL_KINDS:
        problems.append("Выберите вид предложения: цель или корректировка показателя.")
    if not text:
        problems.append("Сформулируйте предложение.")
    elif len(text) > 5000:
        problems.append("Предложение слишком длинное: не более 5000 символов.")
    indicator = None
    target = None
    if kind == "indicator_correction":
        indicator = next((i for i in basis_indicators(cycle) if indicator_id and i.id == int(indicator_id)), None)
        if indicator is None:
            problems.append("Выберите показатель этого цикла, который нужно скорректировать." if
                            cycle.track.own_indicators else "Выберите показатель полного цикла этого механизма, "
                            "который нужно скорректировать.")
        try:
            target = parse_target(new_target)
        except ValidationFailed as exc:
            problems.append(exc.message)
        else:
            if target is None:
                problems.append("Укажите новое целевое значение показателя.")
            elif indicator is not None and indicator.unit.strip() == "%" and not 0 <= target <= 100:
                problems.append("Целевое значение в процентах должно быть от 0 до 100.")
            elif abs(target) >= Decimal("1e10"):
                problems.append("Целевое значение слишком велико.")
    if problems:
        raise ValidationFailed("Предложение не сохранено.", problems=problems)
    evaluation = _get_or_create(cycle, stage, actor, role)
    proposal = EffectivenessProposal(kind=kind, text=text, indicator_id=indicator.id if indicator else None,
                                     new_target=target, created_by_id=actor.id)
    evaluation.proposals.append(proposal)
    db.session.flush()
    chain.record(action="create", object_type=proposal.audit_type, object_id=proposal.id, actor=actor,
                 actor_role=role, cycle_id=cycle.id, organisation_id=cycle.owner_id, after=proposal.audit_snapshot())
    return proposal


def delete_proposal(proposal: EffectivenessProposal, *, actor: User, expected_version: int | None = None) -> None:
    cycle = proposal.evaluation.cycle
    _stage, role = _eff_stage(cycle, actor)
    check_version(proposal, expected_version)
    chain.record(action="delete", object_type=proposal.audit_type, object_id=proposal.id, actor=actor,
                 actor_role=role, cycle_id=cycle.id, organisation_id=cycle.owner_id,
                 before=proposal.audit_snapshot())
    proposal.evaluation.proposals.remove(proposal)
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleObject() from None


def carry_proposals(old: Cycle, new: Cycle, *, actor: User) -> int:
    """Turn the closed cycle's proposals into draft goals and indicator corrections of the next period's cycle
    (called by cycles.services.start_next_period after goals and indicators are carried over). Goals are added
    with an empty «реалистичность», so the GOAL stage cannot be submitted before the official completes them."""
    evaluation = evaluation_of(old)
    if evaluation is None:
        return 0
    # A partial cycle's proposals go where its goals and indicators live: the next period's full cycle of the
    # mechanism (the first by track order) when it is open already; until then they wait, flagged by the panel.
    carried_indicators = {i.carried_from_id: i for i in basis_indicators(new) if i.carried_from_id}
    goal_cycle = new if new.track.covers("GOAL") else next(
        (c for c in basis_cycles(new) if c.id != new.id and c.state == "open"), None)
    applied = 0
    for proposal in evaluation.proposals:
        if proposal.applied_cycle_id is not None:
            continue
        before = proposal.audit_snapshot()
        if proposal.kind == "goal":
            if goal_cycle is None:
                continue
            goal = Goal(position=len(goal_cycle.goals), direction=f"По итогам анализа эффективности за {old.period}",
                        statement=proposal.text, realism="",
                        justification=f"Выводы анализа эффективности принятых мер за {old.period}: "
                                      f"{(evaluation.conclusions or '').strip()}"[:20000])
            goal_cycle.goals.append(goal)
            target_note = {"goal": proposal.text, "cycle": goal_cycle.id}
        else:
            indicator = carried_indicators.get(proposal.indicator_id)
            if indicator is None:
                continue
            target_note = {"indicator": indicator.code, "target_before": str(indicator.target),
                           "target_after": str(proposal.new_target)}
            indicator.target = proposal.new_target
        # The cycle the proposal landed in (for a partial cycle's proposal, the next period's full cycle).
        proposal.applied_cycle = goal_cycle if proposal.kind == "goal" else indicator.cycle
        proposal.applied_at = utcnow()
        db.session.flush()
        chain.record(action="carry_over", object_type=proposal.audit_type, object_id=proposal.id, actor=actor,
                     actor_role=require_role(actor, old.owner, EDITORS, "Недостаточно прав."),
                     cycle_id=new.id, organisation_id=old.owner_id, before=before,
                     after={**proposal.audit_snapshot(), **target_note})
        applied += 1
    return applied


# --- reading -----------------------------------------------------------------------------------

def before_after_chart(rows: list[IndicatorRow], fmt: str = "svg") -> bytes | None:
    """Baseline, value after the measures and target of each indicator (through app.core.charts): one small panel
    an indicator, each on its own scale with its unit — one axis for all put a mean mark of 3,6 → 3,7 as an
    invisible sliver beside shares of 60 % and head counts of 30 pupils."""
    rows = [r for r in rows if r.after is not None or r.baseline is not None][:20]
    if not rows:
        return None
    fig = charts.figure(17, 1.8 + 1.4 * len(rows))
    axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    # the values as the table above prints them («71,9», not «71,93»)
    for ax, r, shown in zip(axes, rows, shown_numbers(rows)):
        pairs = [(1, r.baseline, shown["baseline"], "#adb5bd", "базовое значение"),
                 (0, r.after, shown["after"], "#0d6efd", "после мер")]
        top = max(float(v) for v in (r.baseline, r.after, r.target, 0) if v is not None)
        right = top * 1.3 or 1  # room for the value beside the longest bar, or beside the target line
        target = float(r.target) if r.target is not None else None
        for y, value, text, color, label in pairs:
            ax.barh([y], [float(value or 0)], 0.6, color=color, label=label)
            text = text if value is not None else "нет данных"
            x = float(value or 0)
            # A value written over the target line (the white box of «69,1» cut the line at 74,1): a label the line
            # would cross starts beyond it. A 7 pt character takes about 1.1 % of a panel's width.
            if target is not None and x - right * 0.01 <= target <= x + right * 0.011 * (len(text) + 2):
                x = target + right * 0.008
            ax.text(x, y, f" {text}", va="center", fontsize=7)
        if target is not None:
            ax.axvline(target, color="#198754", linewidth=2.5, label="цель")
        ax.set_xlim(0, right)
        ax.set_ylim(-0.6, 1.6)  # the labels stay inside the panel's frame
        # Russian numbers on the axis («12,5», not «12.5»); a head count's axis in whole pupils
        ax.xaxis.set_major_formatter(lambda v, _pos: ru.number(v, 2))
        if ru.is_count_unit(r.unit):
            ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_yticks([])
        # The unit under the code, left of the panel: at the axis's right end it touched the last tick («60%»).
        ax.set_ylabel(f"{r.code}\n{r.unit}" if r.unit else r.code, rotation=0, ha="right", va="center", fontsize=8,
                      linespacing=1.4)
        ax.tick_params(axis="x", labelsize=7)
    handles, labels = axes[0].get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: ["базовое значение", "после мер", "цель"].index(labels[i]))
    fig.legend([handles[i] for i in order], [labels[i] for i in order], loc="outside lower center", ncols=3,
               fontsize=7, frameon=False)  # below the panels, never over the bars
    fig.suptitle("Показатели: базовое значение, значение после мер, цель", fontsize=9)
    return charts.render(fig, fmt)


def evaluation_context(cycle: Cycle, *, today: date | None = None) -> dict:
    """Plain primitives for the effectiveness report document (documents helpers): measures with their
    assessment, indicators before/after/target (overall and per school), conclusions and proposals."""
    today = today or org_today(cycle.owner)
    rows = indicator_rows(cycle)
    evaluation = evaluation_of(cycle)
    overrides = {a.measure_id: a for a in evaluation.assessments} if evaluation else {}
    measures = []
    for r in assess_measures(cycle, rows, today=today):
        stored = overrides.get(r.measure.id)
        result = stored.result if stored else r.computed
        measures.append({
            "title": r.measure.title, "kind": r.measure.kind_label,
            "responsible": r.measure.responsible.full_name if r.measure.responsible else "",
            "start_date": r.measure.start_date, "end_date": r.measure.end_date,
            "state": r.measure.state, "computed": r.computed, "result": result,
            "result_label": RESULT_SHORT[result], "override_note": stored.note if stored and stored.override else "",
            "indicators": [{"code": code, "note": note} for code, note in r.details]})
    indicators = [{
        "code": r.code, "name": r.name, "unit": r.unit, "direction": r.direction,
        "baseline": _fmt(r.baseline), "after": _fmt(r.after), "target": _fmt(r.target),
        "change": _fmt(r.change), "improved": r.improved, "target_met": r.target_met,
        "schools": [{"name": s.name, "before": _fmt(s.before), "after": _fmt(s.after)} for s in r.schools],
    } for r in rows]
    proposals = [{"kind": p.kind, "kind_label": p.kind_label, "text": p.text,
                  "indicator": p.indicator.code if p.indicator else "", "new_target": _fmt(p.new_target),
                  "carried": p.applied_cycle_id is not None} for p in (evaluation.proposals if evaluation else [])]
    return {"cycle": cycle.short_title, "period": cycle.period, "organisation": cycle.owner.display_name,
            "conclusions": (evaluation.conclusions or "") if evaluation else "",
            "measures": measures, "indicators": indicators, "proposals": proposals,
            "moved": sum(1 for m in measures if m["result"] == "moved"),
            "not_moved": sum(1 for m in measures if m["result"] == "not_moved"),
            "not_measurable": sum(1 for m in measures if m["result"] == "not_measurable")}

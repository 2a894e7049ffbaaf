"""The integrity checks of many cycles counted by code (count_defects) from per-cycle aggregates taken in SQL, and the
content counts an assessment's facts read (app/assessment/evidence.py) from the same aggregates.

The integrity panel (app/effectiveness/integrity.py) walks the rows of a cycle's chain to describe every broken link
with its message, title and link. An assessment scores a region's cycles (hundreds) on how many defects of each code
they have, nothing more: here every check is a count — «indicators of the cycle's basis without a method», «decisions
without a deadline», … — that the database takes per cycle with one GROUP BY per table, whatever the number of cycles,
instead of handing ~20,000 rows to Python to be walked one by one. Nothing is cached between calls: every count is
read from the rows as they are now, so a changed or tampered row changes the counts at the next call.

The counts must be the defects check_cycles describes, code for code (tests/test_integrity.py pins the equality on
chains broken in every way the checks know). Where the walk tests text with Python's `str.strip()` the SQL strips
the very same characters (BLANK_CHARACTERS); the content counts keep SQL's `trim` (spaces only), as before.
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date
from functools import cache

from sqlalchemy import Date, and_, bindparam, case, exists, func, literal, not_, or_, select

from app.core.db import in_ids
from app.cycles.basis import basis_problems
from app.cycles.models import CollectionMethod, Cycle, Goal, Indicator, Stage
from app.effectiveness.integrity import (ACCEPTED, STAGE_ORDER, UNACKNOWLEDGED, CycleHead, _basis_ids, nonblank,
                                         time_zones)
from app.effectiveness.models import EffectivenessEvaluation, EffectivenessProposal
from app.effectiveness.repeat import partial_repeats
from app.extensions import db
from app.followup.letters import letter_registered
from app.followup.models import (Decision, Measure, Recommendation, RecommendationItem, decision_findings,
                                 measure_indicators, measure_recommendations, recommendation_findings, local_day,
                                 remeasured, remeasured_from)
from app.analysis.models import Finding
from app.monitoring.models import IndicatorValue, Submission

# Every character Python's str.strip() removes (str.isspace()): a text of these alone is blank to the walk.
BLANK_CHARACTERS = "".join(chr(n) for n in range(sys.maxunicode + 1) if chr(n).isspace())
ACKNOWLEDGED_STATES = ("acknowledged", "in_progress", "reported", "accepted", "returned")
BITS = {code: 1 << n for n, code in enumerate(STAGE_ORDER)}
_BLOCKS_OF: dict[int, frozenset] = {}


def blocks_of(mask: int) -> frozenset:
    """The stage codes of a bit mask of BITS."""
    found = _BLOCKS_OF.get(mask)
    if found is None:
        found = _BLOCKS_OF[mask] = frozenset(code for code, bit in BITS.items() if mask & bit)
    return found


def _blank(column):
    """`not (column or "").strip()` of the walk, in SQL: nothing left once its whitespace is stripped."""
    return func.ltrim(func.coalesce(column, ""), literal(BLANK_CHARACTERS)) == ""


def _filled(column):
    """SQL's own test of a filled text (trim: spaces only), as the content counts have always taken it."""
    return func.length(func.trim(func.coalesce(column, ""))) > 0


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def _stage_mask(condition):
    return func.sum(case((condition, case(BITS, value=Stage.code, else_=0)), else_=0))


@cache
def _statements() -> dict:
    """The statements of ChainCounts, built once per process: each run only binds its ids and date (`ids`: the
    cycles, `basis`: their basis cycles, `today`)."""
    ids, basis = "ids", "basis"
    today = bindparam("today", type_=Date())
    out = {}
    # cycle id → (reached mask, approved mask) over BITS: reached = past «ожидает предыдущего этапа».
    out["stages"] = (select(Stage.cycle_id, _stage_mask(Stage.state != "waiting"),
                            _stage_mask(Stage.state == "approved"))
                     .where(in_ids(Stage.cycle_id, key=ids)).group_by(Stage.cycle_id))
    # → (goals, with a justification, with a realism)
    out["goals"] = (select(Goal.cycle_id, func.count(), nonblank(Goal.justification), nonblank(Goal.realism))
                    .where(in_ids(Goal.cycle_id, key=ids)).group_by(Goal.cycle_id))
    # Of the basis cycles: → (indicators, without a method, without an accepted value for their cycle's period).
    in_period = exists().where(IndicatorValue.indicator_id == Indicator.id, IndicatorValue.period == Cycle.period,
                               Submission.id == IndicatorValue.submission_id, Submission.state == ACCEPTED)
    out["indicators"] = (select(Indicator.cycle_id, func.count(), _count(_blank(Indicator.collection_method)),
                                _count(~in_period))
                         .join(Cycle, Cycle.id == Indicator.cycle_id)
                         .where(in_ids(Indicator.cycle_id, key=basis)).group_by(Indicator.cycle_id))
    out["methods"] = (select(CollectionMethod.cycle_id, func.count())
                      .where(in_ids(CollectionMethod.cycle_id, key=ids)).group_by(CollectionMethod.cycle_id))
    # The measures' indicators to be re-measured: (cycle, end date, latest accepted value of the indicator, start
    # date, moment marked done, the indicator) of the measures not cancelled with an end date (the latest value as
    # the walk sees it: of an indicator of a basis cycle, any period).
    latest = (select(func.max(IndicatorValue.updated_at))
              .join(Submission, Submission.id == IndicatorValue.submission_id)
              .join(Indicator, Indicator.id == IndicatorValue.indicator_id)
              .where(IndicatorValue.indicator_id == measure_indicators.c.indicator_id,
                     Submission.state == ACCEPTED, in_ids(Indicator.cycle_id, key=basis))
              .scalar_subquery())
    out["remeasured"] = (select(Measure.cycle_id, Measure.end_date, latest, Measure.start_date, Measure.done_at,
                                measure_indicators.c.indicator_id)
                         .select_from(measure_indicators)
                         .join(Measure, Measure.id == measure_indicators.c.measure_id)
                         .where(in_ids(Measure.cycle_id, key=ids), Measure.state != "cancelled",
                                Measure.end_date.is_not(None)))
    answered = exists().where(recommendation_findings.c.finding_id == Finding.id,
                              Recommendation.id == recommendation_findings.c.recommendation_id,
                              Recommendation.cycle_id == Finding.cycle_id)
    # → (findings, with causes, answered by no recommendation of the cycle)
    out["findings"] = (select(Finding.cycle_id, func.count(), nonblank(Finding.causes), _count(~answered))
                       .where(in_ids(Finding.cycle_id, key=ids)).group_by(Finding.cycle_id))
    addressed = exists().where(RecommendationItem.recommendation_id == Recommendation.id)
    implemented = exists().where(measure_recommendations.c.recommendation_id == Recommendation.id,
                                 Measure.id == measure_recommendations.c.measure_id,
                                 Measure.cycle_id == Recommendation.cycle_id, Measure.state != "cancelled")
    # → (recommendations, issued, without addressees, addressed but not issued, implemented by no measure)
    out["recommendations"] = (select(Recommendation.cycle_id, func.count(),
                                     _count(Recommendation.issued_at.is_not(None)), _count(~addressed),
                                     _count(and_(addressed, Recommendation.issued_at.is_(None))), _count(~implemented))
                              .where(in_ids(Recommendation.cycle_id, key=ids)).group_by(Recommendation.cycle_id))
    # → (items acknowledged, items past their answer date unacknowledged, items sent without a registered letter)
    late = and_(RecommendationItem.state.in_(UNACKNOWLEDGED), RecommendationItem.due_date < today)
    unlettered = and_(RecommendationItem.state != "draft", ~letter_registered())
    out["items"] = (select(Recommendation.cycle_id, _count(RecommendationItem.state.in_(ACKNOWLEDGED_STATES)),
                           _count(late), _count(unlettered))
                    .join(Recommendation, Recommendation.id == RecommendationItem.recommendation_id)
                    .where(in_ids(Recommendation.cycle_id, key=ids)).group_by(Recommendation.cycle_id))
    live = Measure.state != "cancelled"
    # → (not cancelled, done, not cancelled without a responsible, not cancelled without both dates)
    out["measures"] = (select(Measure.cycle_id, _count(live), _count(Measure.state.in_(("done", "verified"))),
                              _count(and_(live, Measure.responsible_id.is_(None))),
                              _count(and_(live, or_(Measure.start_date.is_(None), Measure.end_date.is_(None)))))
                       .where(in_ids(Measure.cycle_id, key=ids)).group_by(Measure.cycle_id))
    with_findings = exists().where(decision_findings.c.decision_id == Decision.id)
    taken = Decision.state != "draft"
    # → (decisions, taken, taken with participants, without a responsible, without a deadline, without
    # participants, without a basis)
    out["decisions"] = (select(Decision.cycle_id, func.count(), _count(taken),
                               _count(and_(taken, _filled(Decision.participants))),
                               _count(Decision.responsible_id.is_(None)), _count(Decision.deadline.is_(None)),
                               _count(_blank(Decision.participants)),
                               _count(and_(_blank(Decision.basis), not_(with_findings))))
                        .where(in_ids(Decision.cycle_id, key=ids)).group_by(Decision.cycle_id))
    # → (conclusions blank, conclusions filled (SQL trim), proposals, proposals not carried); one evaluation
    # per cycle.
    conclusions = EffectivenessEvaluation.conclusions
    out["evaluations"] = (select(EffectivenessEvaluation.cycle_id, func.max(case((_blank(conclusions), 1), else_=0)),
                                 func.max(case((_filled(conclusions), 1), else_=0)),
                                 func.count(EffectivenessProposal.id),
                                 _count(and_(EffectivenessProposal.id.is_not(None),
                                             EffectivenessProposal.applied_cycle_id.is_(None))))
                          .outerjoin(EffectivenessProposal,
                                     EffectivenessProposal.evaluation_id == EffectivenessEvaluation.id)
                          .where(in_ids(EffectivenessEvaluation.cycle_id, key=ids))
                          .group_by(EffectivenessEvaluation.cycle_id))
    out["continued"] = select(Cycle.previous_id).where(in_ids(Cycle.previous_id, key=ids)).distinct()
    return out


class ChainCounts:
    """Per cycle, the counts of its chain's rows the checks and the content counts need: one GROUP BY per table for
    all the cycles (a fixed number of statements, _statements). Each attribute maps a cycle id to a tuple of counts
    (described in _statements); cycles without rows are absent."""

    def __init__(self, cycles: list[Cycle | CycleHead], *, today: date):
        self.today = today
        self.basis = _basis_ids(cycles)
        statements = _statements()
        params = {"ids": [c.id for c in cycles], "basis": sorted({b for v in self.basis.values() for b in v}),
                  "today": today}
        # The first through the session, which autoflushes; the rest as plain Core rows on its connection.
        self.stages = {r[0]: r[1:] for r in db.session.execute(statements["stages"], params).all()}
        execute = db.session.connection().execute

        def counts(name: str) -> dict[int, tuple]:
            return {r[0]: r[1:] for r in execute(statements[name], params).all()}

        self.goals = counts("goals")
        self.indicators = counts("indicators")
        self.methods = dict(execute(statements["methods"], params).all())
        self.remeasured: dict[int, list] = {}
        # the days of the stored moments in each owner's time zone, as the integrity panel reads them
        zones = time_zones(params["ids"])
        for cycle_id, end, last, start, done_at, indicator_id in execute(statements["remeasured"], params).all():
            self.remeasured.setdefault(cycle_id, []).append((end, local_day(last, zones[cycle_id]), start, done_at,
                                                             zones[cycle_id], indicator_id))
        # cycle id → indicator id → upper monitoring values kept «после мер» by a repeat of a part, as the walk reads
        # them (two statements whatever the number of cycles)
        self.partial = partial_repeats(cycles, self.basis, zones)
        self.findings = counts("findings")
        self.recommendations = counts("recommendations")
        self.items = counts("items")
        self.measures = counts("measures")
        self.decisions = counts("decisions")
        self.evaluations = counts("evaluations")
        self.continued = set(execute(statements["continued"], params).scalars().all())


def count_defects(cycles: list[Cycle | CycleHead], *, today: date,
                  counts: ChainCounts | None = None) -> dict[int, Counter]:
    """{cycle id: Counter(check code → defects)} — what check_cycles finds, counted from per-cycle aggregates (an
    assessment scores a region's cycles on the counts alone; tests/test_integrity.py pins the equality). `counts`:
    the cycles' aggregates if already taken (as of the same `today`)."""
    if not cycles:
        return {}
    counts = counts or ChainCounts(cycles, today=today)
    return {c.id: _defects(c, counts, today) for c in cycles}


def _defects(cycle, counts: ChainCounts, today: date) -> Counter:
    """The walk of app/effectiveness/integrity.py _Checker.run, check by check, on the counts."""
    out = Counter()
    reached = counts.stages.get(cycle.id, (0, 0))[0]
    goals = counts.goals.get(cycle.id, (0,))[0]
    indicators = without_method = without_data = 0
    for b in counts.basis[cycle.id]:
        n, no_method, no_data = counts.indicators.get(b, (0, 0, 0))
        indicators, without_method, without_data = indicators + n, without_method + no_method, without_data + no_data
    if reached & BITS["GOAL"] and goals == 0:
        out["no_goals"] += 1
    if reached & BITS["IND"]:
        if goals and not indicators:
            out["goals_without_indicators"] += 1
        if without_method:
            out["indicator_without_method"] += without_method
    if reached & BITS["METH"] and indicators and not counts.methods.get(cycle.id):
        out["no_collection_methods"] += 1
    if reached & BITS["MON"] and without_data:
        out["indicator_without_data"] += without_data
    if reached & BITS["REC"]:
        recs, _, unaddressed, not_issued, _ = counts.recommendations.get(cycle.id, (0, 0, 0, 0, 0))
        if not recs:
            out["no_recommendations"] += 1
        _add(out, "finding_without_recommendation", counts.findings.get(cycle.id, (0, 0, 0))[2])
        _add(out, "recommendation_without_addressees", unaddressed)
        _add(out, "recommendation_not_issued", not_issued)
        _, late, unlettered = counts.items.get(cycle.id, (0, 0, 0))
        _add(out, "recommendation_not_acknowledged", late)
        _add(out, "recommendation_without_letter", unlettered)
    if not cycle.track.own_indicators and not indicators:
        _no_basis(out, cycle, reached)
    if reached & BITS["MEAS"]:
        live, _, no_responsible, no_dates = counts.measures.get(cycle.id, (0, 0, 0, 0))
        if not live:
            out["no_measures"] += 1
        _add(out, "recommendation_without_measure", counts.recommendations.get(cycle.id, (0, 0, 0, 0, 0))[4])
        _add(out, "measure_without_responsible", no_responsible)
        _add(out, "measure_without_dates", no_dates)
    if reached & BITS["DEC"]:
        decisions, _, _, no_responsible, no_deadline, no_participants, no_basis = counts.decisions.get(
            cycle.id, (0, 0, 0, 0, 0, 0, 0))
        if not decisions:
            out["no_decisions"] += 1
        _add(out, "decision_without_responsible", no_responsible)
        _add(out, "decision_without_deadline", no_deadline)
        _add(out, "decision_without_participants", no_participants)
        _add(out, "decision_without_basis", no_basis)
    if reached & BITS["EFF"]:
        _effectiveness(out, cycle, counts, today, indicators)
    return out


def _add(out: Counter, code: str, n: int) -> None:
    if n:
        out[code] += n


def _no_basis(out: Counter, cycle, reached: int) -> None:
    """A partial cycle with nothing to evaluate against (rare): the walk's _basis, asked of app/cycles/basis.py."""
    if not reached & (BITS["MEAS"] | BITS["EFF"]):
        return
    cycle = cycle if isinstance(cycle, Cycle) else db.session.get(Cycle, cycle.id)
    if basis_problems(cycle):
        out["no_basis_cycle"] += bool(reached & BITS["MEAS"]) + bool(reached & BITS["EFF"])


def _effectiveness(out: Counter, cycle, counts: ChainCounts, today: date, indicators: int) -> None:
    for end, latest, start, done_at, zone, indicator_id in counts.remeasured.get(cycle.id, ()):
        if end >= today:
            continue
        since = remeasured_from(start, end, done_at, today, zone)
        # The walk reads the latest values only when the cycle's basis has indicators; measured again in part, the
        # upper monitoring value from before the measure ended still stands «после мер».
        if (not indicators or not remeasured(latest, since)
                or any(not remeasured(k.entered_on, since)
                       for k in counts.partial.get(cycle.id, {}).get(indicator_id, ()))):
            out["indicator_not_remeasured"] += 1
    evaluation = counts.evaluations.get(cycle.id)
    if evaluation is None:
        out["no_evaluation"] += 1
        return
    blank, _, proposals, not_carried = evaluation
    if blank:
        out["evaluation_without_conclusions"] += 1
    if not proposals:
        out["no_proposals"] += 1
        return
    if cycle.id in counts.continued:
        _add(out, "proposal_not_carried", not_carried)

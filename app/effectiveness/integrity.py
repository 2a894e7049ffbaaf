"""Cycle integrity panel: every broken link of the traceability chain

    goal → indicator → collection method → monitoring data → finding → recommendation → measure →
    decision → effect on the indicator → next-cycle goal

found in a fixed number of queries per cycle (one query per kind of row, never per row). A stage's links
are checked once the stage has been reached (it is no longer «ожидает предыдущего этапа»), so an early
cycle is not flooded with gaps nobody could have filled yet; the guards of REC, MEAS, DEC and EFF refuse
submission with the defects of their own stage (app/effectiveness/guards.py).

Goals are not linked to individual indicators in the data model (a cycle's goals and indicators are two
lists of the same cycle), so «a goal without indicators» is checked as «the cycle has goals but no indicators».
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased, contains_eager

from app.catalogue.models import Track
from app.core.db import in_ids
from app.core.timeutil import format_date
from app.cycles.basis import basis_problems
from app.cycles.models import CollectionMethod, Cycle, Goal, Indicator, Stage
from app.cycles.services import content_refusal
from app.extensions import db
from app.orgs.services import org_today
from flask import current_app, url_for
from app.monitoring.models import IndicatorValue, Submission
from app.analysis.models import Finding
from app.followup.letters import letter_registered
from app.followup.models import Recommendation, RecommendationItem, recommendation_findings
from app.orgs.models import Organisation
from app.followup.models import (Measure, local_day, measure_indicators, measure_recommendations, remeasured,
                                 remeasured_from)
from app.followup.models import Decision, decision_findings
from app.followup.services import (decision_edit_refusal, measure_edit_refusal, recommendation_edit_refusal,
                                   stage_content_refusal)
from app.effectiveness.models import EffectivenessEvaluation, EffectivenessProposal
from app.effectiveness.repeat import partial_repeats

STAGE_ORDER = ("GOAL", "IND", "METH", "MON", "ANL", "REC", "MEAS", "DEC", "EFF")
# Values count as data once the school's answer has been accepted by the official.
ACCEPTED = "accepted"
# Items still waiting for the director's «ознакомлен».
UNACKNOWLEDGED = ("draft", "issued")


@dataclass(frozen=True)
class Defect:
    """One broken link: what is wrong (Russian), on which object, in which stage, and where to fix it."""

    code: str
    message: str
    stage: str
    object_type: str
    object_id: int | None
    object_title: str
    endpoint: str
    args: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def url(self) -> str:
        return url_for(self.endpoint, **self.args)


LABELS = {
    "no_goals": "Не сформулировано ни одной цели",
    "goals_without_indicators": "Цели без показателей",
    "indicator_without_method": "Показатель без метода сбора",
    "no_collection_methods": "Не описаны методы сбора",
    "indicator_without_data": "Показатель без данных мониторинга",
    "finding_without_recommendation": "Вывод без рекомендации",
    "no_recommendations": "Нет рекомендаций",
    "recommendation_without_addressees": "Рекомендация без адресатов",
    "recommendation_not_issued": "Рекомендация не выдана",
    "recommendation_not_acknowledged": "Рекомендация не получена адресатом",
    "recommendation_without_letter": "Рекомендация направлена без письма",
    "recommendation_without_measure": "Рекомендация без мер",
    "no_basis_cycle": "Нет полного цикла с показателями",
    "no_measures": "Нет мер",
    "measure_without_responsible": "Мера без ответственного",
    "measure_without_dates": "Мера без сроков",
    "no_decisions": "Нет управленческих решений",
    "decision_without_responsible": "Решение без ответственного",
    "decision_without_deadline": "Решение без срока",
    "decision_without_participants": "Решение без участников",
    "decision_without_basis": "Решение без опоры на анализ",
    "indicator_not_remeasured": "Показатель не измерен после меры",
    "no_evaluation": "Нет анализа эффективности",
    "evaluation_without_conclusions": "Нет выводов об эффективности",
    "no_proposals": "Выводы не переданы в следующий цикл",
    "proposal_not_carried": "Предложение не перенесено в следующий цикл",
}


def _short(text: str | None, limit: int = 90) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "…"


@dataclass(frozen=True)
class CycleHead:
    """What the checks read of a cycle besides its chain's rows: enough to check a region's cycles without loading
    each as an object (check_cycles and app/effectiveness/chain_counts.py count_defects take these or cycles). The
    title names the cycle in the defects' descriptions: count_defects never reads it (None there)."""

    id: int
    period: str
    owner_id: int
    track: Track
    short_title: str | None = None


def _grouped(rows) -> dict[int, list]:
    """Rows whose first column is a cycle id, as {cycle id: [rows]} in their order."""
    out: dict[int, list] = defaultdict(list)
    for row in rows:
        out[row[0]].append(row)
    return out


def _basis_ids(cycles: list[Cycle]) -> dict[int, list[int]]:
    """basis_cycle_ids (app/cycles/basis.py) of many cycles at once: the cycle itself when it sets its own
    indicators, else the full cycles of the same mechanism, owner and period in track order (one query for all the
    partial cycles, none when there are none)."""
    out = {c.id: [c.id] for c in cycles if c.track.own_indicators}
    partial = [c for c in cycles if c.id not in out]
    if not partial:
        return out
    candidates = db.session.scalars(
        select(Cycle).join(Track, Track.id == Cycle.track_id)
        .where(Cycle.owner_id.in_({c.owner_id for c in partial}), Cycle.period.in_({c.period for c in partial}),
               Track.mechanism_id.in_({c.track.mechanism_id for c in partial}))
        .options(contains_eager(Cycle.track)).order_by(Track.position, Cycle.id)).all()
    for c in partial:
        out[c.id] = [k.id for k in candidates if k.id != c.id and k.owner_id == c.owner_id and k.period == c.period
                     and k.track.mechanism_id == c.track.mechanism_id and k.track.own_indicators]
    return out


class Chain:
    """The rows of the traceability chain of many cycles, loaded with one query per kind of row whatever their
    number, grouped by cycle. An assessment, which only counts the defects of a region's cycles, takes per-cycle
    aggregates instead (app/effectiveness/chain_counts.py)."""

    def __init__(self, cycles: list[Cycle]):
        ids = [c.id for c in cycles]
        self.stages: dict[int, dict] = defaultdict(dict)  # cycle id → {block code: (id, code, state) row}
        for row in db.session.execute(select(Stage.cycle_id, Stage.id, Stage.code, Stage.state)
                                      .where(in_ids(Stage.cycle_id, ids))):
            self.stages[row.cycle_id][row.code] = row
        self.basis = _basis_ids(cycles)
        self.zones = time_zones(ids)
        # cycle id → indicator id → upper monitoring values kept «после мер» by a repeat of a part (two statements)
        self.partial = partial_repeats(cycles, self.basis, self.zones)
        basis_ids = sorted({b for v in self.basis.values() for b in v})
        # The rest as plain Core rows on the session's connection (no ORM result processing of ~10,000 rows for a
        # region); the session's query above has autoflushed, and nothing is changed in between.
        rows = db.session.connection().execute
        self.goals, self.goals_explained = {}, {}  # cycle id → goals; → (with a justification, with a realism)
        for cycle_id, count, justified, realistic in rows(
                select(Goal.cycle_id, func.count(), nonblank(Goal.justification), nonblank(Goal.realism))
                .where(in_ids(Goal.cycle_id, ids)).group_by(Goal.cycle_id)):
            self.goals[cycle_id], self.goals_explained[cycle_id] = count, (int(justified or 0), int(realistic or 0))
        self.indicators = _grouped(rows(
            select(Indicator.cycle_id, Indicator.id, Indicator.code, Indicator.name, Indicator.collection_method)
            .where(in_ids(Indicator.cycle_id, basis_ids)).order_by(Indicator.code)).all())
        self.methods = dict(rows(select(CollectionMethod.cycle_id, func.count())
                                 .where(in_ids(CollectionMethod.cycle_id, ids))
                                 .group_by(CollectionMethod.cycle_id)).all())
        # indicator id → (accepted values for its cycle's period, the latest accepted value's moment: its day is the
        # owner's, app/followup/models.local_day).
        self.measured = {r[0]: (int(r[1] or 0), r[2]) for r in rows(
            select(IndicatorValue.indicator_id, func.sum(case((IndicatorValue.period == Cycle.period, 1), else_=0)),
                   func.max(IndicatorValue.updated_at))
            .join(Submission, Submission.id == IndicatorValue.submission_id)
            .join(Indicator, Indicator.id == IndicatorValue.indicator_id)
            .join(Cycle, Cycle.id == Indicator.cycle_id)
            .where(in_ids(Indicator.cycle_id, basis_ids), Submission.state == ACCEPTED)
            .group_by(IndicatorValue.indicator_id))}
        self.findings = _grouped(rows(select(Finding.cycle_id, Finding.id, Finding.problem, Finding.causes)
                                      .where(in_ids(Finding.cycle_id, ids)).order_by(Finding.id)).all())
        self.recommendations = _grouped(rows(
            select(Recommendation.cycle_id, Recommendation.id, Recommendation.text, Recommendation.issued_at)
            .where(in_ids(Recommendation.cycle_id, ids)).order_by(Recommendation.id)).all())
        self.answered = _grouped(rows(
            select(Recommendation.cycle_id, recommendation_findings.c.finding_id)
            .join(Recommendation, Recommendation.id == recommendation_findings.c.recommendation_id)
            .where(in_ids(Recommendation.cycle_id, ids))).all())
        self.items = _grouped(rows(
            select(Recommendation.cycle_id, RecommendationItem.recommendation_id, RecommendationItem.state,
                   RecommendationItem.due_date, RecommendationItem.id, Organisation.short_name, Organisation.name,
                   and_(RecommendationItem.state != "draft", ~letter_registered()).label("unlettered"))
            .join(Recommendation, Recommendation.id == RecommendationItem.recommendation_id)
            .join(Organisation, Organisation.id == RecommendationItem.organisation_id)
            .where(in_ids(Recommendation.cycle_id, ids)).order_by(RecommendationItem.id)).all())
        self.measures = _grouped(rows(
            select(Measure.cycle_id, Measure.id, Measure.title, Measure.responsible_id, Measure.start_date,
                   Measure.end_date, Measure.state, Measure.done_at)
            .where(in_ids(Measure.cycle_id, ids)).order_by(Measure.start_date, Measure.id)).all())
        self.implemented = _grouped(rows(
            select(Measure.cycle_id, measure_recommendations.c.recommendation_id)
            .join(Measure, Measure.id == measure_recommendations.c.measure_id)
            .where(in_ids(Measure.cycle_id, ids), Measure.state != "cancelled")).all())
        self.measure_indicators = _grouped(rows(
            select(Measure.cycle_id, measure_indicators.c.measure_id, measure_indicators.c.indicator_id)
            .join(Measure, Measure.id == measure_indicators.c.measure_id).where(in_ids(Measure.cycle_id, ids))).all())
        self.decisions = _grouped(rows(
            select(Decision.cycle_id, Decision.id, Decision.text, Decision.responsible_id, Decision.deadline,
                   Decision.participants, Decision.basis, Decision.state)
            .where(in_ids(Decision.cycle_id, ids)).order_by(Decision.id)).all())
        self.with_findings = _grouped(rows(
            select(Decision.cycle_id, decision_findings.c.decision_id)
            .join(Decision, Decision.id == decision_findings.c.decision_id)
            .where(in_ids(Decision.cycle_id, ids))).all())
        self.evaluations = _grouped(rows(
            select(EffectivenessEvaluation.cycle_id, EffectivenessEvaluation.id, EffectivenessEvaluation.conclusions)
            .where(in_ids(EffectivenessEvaluation.cycle_id, ids)).order_by(EffectivenessEvaluation.id)).all())
        self.proposals = _grouped(rows(
            select(EffectivenessEvaluation.cycle_id, EffectivenessProposal.id, EffectivenessProposal.text,
                   EffectivenessProposal.applied_cycle_id)
            .join(EffectivenessEvaluation, EffectivenessEvaluation.id == EffectivenessProposal.evaluation_id)
            .where(in_ids(EffectivenessEvaluation.cycle_id, ids)).order_by(EffectivenessProposal.id)).all())
        self.next_cycle = {}
        for previous_id, cycle_id in rows(select(Cycle.previous_id, Cycle.id).where(in_ids(Cycle.previous_id, ids))
                                          .order_by(Cycle.id)):
            self.next_cycle.setdefault(previous_id, cycle_id)


class _Checker:
    """Walks one cycle's chain (loaded by Chain, one query per kind of row) in memory."""

    def __init__(self, cycle: Cycle, today: date, chain: Chain):
        self.cycle = cycle
        self.today = today
        self.chain = chain
        self.stages = chain.stages[cycle.id]
        self.defects: list[Defect] = []

    # --- helpers ---

    def reached(self, code: str) -> bool:
        stage = self.stages.get(code)
        return stage is not None and stage.state != "waiting"

    def stage_link(self, code: str) -> tuple[str, dict]:
        return "cycles.stage_detail", {"stage_id": self.stages[code].id}

    def add(self, code: str, stage: str, describe: Callable[[], tuple]) -> None:
        """A broken link: `describe()` gives (message, object type, object id, title[, link]) — called at once, so
        the loop variables it reads are the current ones)."""
        message, obj_type, obj_id, title, *link = describe()
        endpoint, args = link[0] if link else self.stage_link(stage)
        self.defects.append(Defect(code, message, stage, obj_type, obj_id, title, endpoint, args))

    # --- the chain ---

    def run(self) -> list[Defect]:
        cycle, chain = self.cycle, self.chain
        goal_count = chain.goals.get(cycle.id, 0)
        # A partial cycle's measures are evaluated on the indicators of its full cycle (app/cycles/basis.py); its
        # own blocks never include IND, METH or MON, so the checks below of those blocks stay the full cycle's.
        self.basis_ids = chain.basis[cycle.id]
        indicators = sorted((i for b in self.basis_ids for i in chain.indicators.get(b, [])), key=lambda i: i.code)
        self.indicator_codes = {i.id: i.code for i in indicators}
        if self.reached("GOAL") and goal_count == 0:
            self.add("no_goals", "GOAL", lambda: (
                "Не сформулировано ни одной цели: цепочка не начинается.",
                "cycle", cycle.id, cycle.short_title,
                ("cycles.content_new", {"cycle_id": cycle.id, "kind": "goals"})))
        if self.reached("IND") and goal_count and not indicators:
            self.add("goals_without_indicators", "IND", lambda: (
                f"Цели цикла ({goal_count}) не подкреплены ни одним показателем.", "cycle", cycle.id,
                cycle.short_title, ("cycles.content_new", {"cycle_id": cycle.id, "kind": "indicators"})))
        if self.reached("IND"):
            for ind in indicators:
                if not (ind.collection_method or "").strip():
                    self.add("indicator_without_method", "IND", lambda ind=ind: (
                        f"Показатель {ind.code}: не указан метод сбора данных.", "indicator", ind.id,
                        f"{ind.code} {_short(ind.name, 70)}",
                        ("cycles.content_edit", {"kind": "indicators", "item_id": ind.id})))
        if self.reached("METH") and indicators:
            if not chain.methods.get(cycle.id):
                self.add("no_collection_methods", "METH", lambda: (
                    "Не описано ни одного метода сбора и обработки информации для показателей цикла.",
                    "cycle", cycle.id, cycle.short_title,
                    ("cycles.content_new", {"cycle_id": cycle.id, "kind": "methods"})))
        self.measured = chain.measured if indicators else {}
        if self.reached("MON"):
            for ind in indicators:
                if not self.measured.get(ind.id, (0, None))[0]:
                    self.add("indicator_without_data", "MON", lambda ind=ind: (
                        f"Показатель {ind.code}: нет принятых значений за период {cycle.period}.",
                        "indicator", ind.id, f"{ind.code} {_short(ind.name, 70)}"))
        self._findings_and_recommendations()
        self._basis()
        self._measures()
        self._decisions()
        self._effectiveness()
        return self.defects

    def _findings_and_recommendations(self) -> None:
        cycle, chain = self.cycle, self.chain
        findings = chain.findings.get(cycle.id, [])
        recs = chain.recommendations.get(cycle.id, [])
        answered = {r.finding_id for r in chain.answered.get(cycle.id, [])}
        items = chain.items.get(cycle.id, [])
        self.recommendations = recs
        new_rec = ("followup.new_recommendation", {"cycle_id": cycle.id})
        if self.reached("REC"):
            if not recs:
                self.add("no_recommendations", "REC", lambda: (
                    "Не сформулировано ни одной адресной рекомендации.",
                    "cycle", cycle.id, cycle.short_title, new_rec))
            for f in findings:
                if f.id not in answered:
                    self.add("finding_without_recommendation", "REC", lambda f=f: (
                        f"Вывод анализа «{_short(f.problem, 70)}» не учтён ни в одной рекомендации.",
                        "finding", f.id, _short(f.problem),
                        ("followup.new_recommendation", {"cycle_id": cycle.id, "finding": f.id})))
            by_rec: dict[int, list] = {}
            for item in items:
                by_rec.setdefault(item.recommendation_id, []).append(item)
            for rec in recs:
                if not by_rec.get(rec.id):
                    self.add("recommendation_without_addressees", "REC", lambda rec=rec: (
                        f"Рекомендация «{_short(rec.text, 60)}»: не указано ни одного адресата.",
                        "recommendation", rec.id, _short(rec.text),
                        ("followup.edit_recommendation", {"recommendation_id": rec.id})))
                elif rec.issued_at is None:
                    self.add("recommendation_not_issued", "REC", lambda rec=rec: (
                        f"Рекомендация «{_short(rec.text, 60)}» не выдана адресатам.",
                        "recommendation", rec.id, _short(rec.text),
                        ("followup.recommendation_detail", {"recommendation_id": rec.id})))
                for item in by_rec.get(rec.id, []):
                    if item.unlettered:
                        self.add("recommendation_without_letter", "REC", lambda rec=rec, item=item: (
                            f"Рекомендация «{_short(rec.text, 50)}»: {item.short_name or item.name} — направлена "
                            "без зарегистрированного письма (нет исходящего номера и даты отправки).",
                            "recommendation_item", item.id, _short(rec.text),
                            ("followup.item_detail", {"rec_item_id": item.id})))
                    if item.state in UNACKNOWLEDGED and item.due_date is not None and item.due_date < self.today:
                        self.add("recommendation_not_acknowledged", "REC", lambda rec=rec, item=item: (
                            f"Рекомендация «{_short(rec.text, 50)}»: {item.short_name or item.name} не "
                            f"ознакомилась, срок ответа {item.due_date:%d.%m.%Y} истёк.",
                            "recommendation_item", item.id, _short(rec.text),
                            ("followup.item_detail", {"rec_item_id": item.id})))

    def _basis(self) -> None:
        """A partial cycle without the full cycle (or its indicators) to evaluate against: its measures have no
        indicators to name and its effectiveness nothing to measure; said once per block that needs them."""
        basis = self.chain.basis[self.cycle.id]
        if self.cycle.track.own_indicators or any(self.chain.indicators.get(b) for b in basis):
            return  # a full cycle, or a partial one whose full cycle has indicators: asked without a query
        # A partial cycle with nothing to evaluate against (rare): the words come from app/cycles/basis.py.
        cycle = self.cycle if isinstance(self.cycle, Cycle) else db.session.get(Cycle, self.cycle.id)
        problems = basis_problems(cycle)
        if not problems:
            return
        for code in ("MEAS", "EFF"):
            if self.reached(code):
                self.add("no_basis_cycle", code, lambda: (
                    problems[0], "cycle", self.cycle.id,
                    self.cycle.short_title, ("cycles.new_cycle", {})))

    def _measures(self) -> None:
        cycle, chain = self.cycle, self.chain
        self.measures = chain.measures.get(cycle.id, [])
        implemented = {r.recommendation_id for r in chain.implemented.get(cycle.id, [])}
        self.measure_indicators: dict[int, list[int]] = {}
        for _, measure_id, indicator_id in chain.measure_indicators.get(cycle.id, []):
            self.measure_indicators.setdefault(measure_id, []).append(indicator_id)
        new_measure = ("followup.new_measure", {"cycle_id": cycle.id})
        if self.reached("MEAS"):
            if not any(m.state != "cancelled" for m in self.measures):
                self.add("no_measures", "MEAS", lambda: (
                    "Не запланировано ни одной меры (мероприятия).", "cycle", cycle.id, cycle.short_title, new_measure))
            for rec in self.recommendations:
                if rec.id not in implemented:
                    self.add("recommendation_without_measure", "MEAS", lambda rec=rec: (
                        f"Рекомендация «{_short(rec.text, 60)}» не реализуется ни одной мерой.",
                        "recommendation", rec.id, _short(rec.text), new_measure))
            for m in self.measures:
                if m.state == "cancelled":
                    continue
                if m.responsible_id is None:
                    self.add("measure_without_responsible", "MEAS", lambda m=m: (
                        f"Мера «{_short(m.title, 60)}»: не назначен ответственный.", "measure", m.id, _short(m.title),
                        ("followup.edit_measure", {"measure_id": m.id})))
                if m.start_date is None or m.end_date is None:
                    self.add("measure_without_dates", "MEAS", lambda m=m: (
                        f"Мера «{_short(m.title, 60)}»: не указаны сроки проведения.", "measure", m.id, _short(m.title),
                        ("followup.edit_measure", {"measure_id": m.id})))

    def _decisions(self) -> None:
        if not self.reached("DEC"):
            return
        cycle = self.cycle
        decisions = self.chain.decisions.get(cycle.id, [])
        if not decisions:
            self.add("no_decisions", "DEC", lambda: (
                "Не принято ни одного управленческого решения.", "cycle",
                cycle.id, cycle.short_title,
                ("followup.new_decision", {"cycle_id": cycle.id})))
        with_findings = {r.decision_id for r in self.chain.with_findings.get(cycle.id, [])}
        for d in decisions:
            checks = (("decision_without_responsible", d.responsible_id is None, "не назначен ответственный"),
                      ("decision_without_deadline", d.deadline is None, "не установлен срок"),
                      ("decision_without_participants", not (d.participants or "").strip(), "не указаны участники"),
                      ("decision_without_basis", not (d.basis or "").strip() and d.id not in with_findings,
                       "не указан анализ, на котором оно основано"))
            for code, broken, what in checks:
                if broken:
                    self.add(code, "DEC", lambda d=d, what=what: (
                        f"Решение «{_short(d.text, 60)}»: {what}.", "decision", d.id, _short(d.text),
                        ("followup.edit_decision", {"decision_id": d.id})))

    def _effectiveness(self) -> None:
        if not self.reached("EFF"):
            return
        cycle = self.cycle
        # The evaluation page shows the panel too: each link goes to the very form that fixes the gap.
        def eff_link_to(anchor: str) -> tuple[str, dict]:
            return "effectiveness.evaluation", {"cycle_id": cycle.id, "_anchor": anchor}

        eff_link = eff_link_to("indicator-rows")
        for m in self.measures:
            if m.state == "cancelled" or m.end_date is None or m.end_date >= self.today:
                continue
            # the evaluation's own rule of which values show the measure's effect (app/followup/models.py)
            zone = self.chain.zones[cycle.id]
            since = remeasured_from(m.start_date, m.end_date, m.done_at, self.today, zone)
            # The day it ended as remeasured_from reads it: marked done early, the day it was marked done (the stored
            # moment's day in the owner's time zone, as there), not its planned end.
            ended = min(m.end_date, local_day(m.done_at, zone)) if m.done_at is not None else m.end_date
            for indicator_id in self.measure_indicators.get(m.id, []):
                code = self.indicator_codes.get(indicator_id, "?")
                if not remeasured(local_day(self.measured.get(indicator_id, (0, None))[1], zone), since):
                    self.add("indicator_not_remeasured", "EFF", lambda m=m, code=code, ended=ended, ind=indicator_id: (
                        f"Показатель {code} не измерялся после окончания меры «{_short(m.title, 50)}» "
                        f"({format_date(ended)}).", "indicator", ind, code, eff_link))
                    continue
                # measured again in part: «после мер» is still the upper monitoring value from before the measure
                # ended (the evaluation's rule, services.assess_measures), so the measure's effect is not rated
                kept = [k for k in self.chain.partial.get(cycle.id, {}).get(indicator_id, [])
                        if not remeasured(k.entered_on, since)]
                if kept:
                    self.add("indicator_not_remeasured", "EFF", lambda m=m, code=code, ended=ended, ind=indicator_id,
                             kept=kept: (
                        f"Показатель {code} после окончания меры «{_short(m.title, 50)}» ({format_date(ended)}) "
                        f"повторно измерен частично: {'; '.join(k.counted for k in kept)}. «После мер» — значение "
                        f"мониторинга до окончания меры ({', '.join(k.name for k in kept)}): эффект меры не "
                        "оценивается.", "indicator", ind, code, eff_link))
        evaluations = self.chain.evaluations.get(cycle.id, [])
        evaluation = evaluations[0] if evaluations else None
        if evaluation is None:
            self.add("no_evaluation", "EFF", lambda: (
                "Анализ эффективности принятых мер не проведён.", "cycle",
                cycle.id, cycle.short_title, eff_link_to("conclusions-form")))
            return
        if not (evaluation.conclusions or "").strip():
            self.add("evaluation_without_conclusions", "EFF", lambda: (
                "Не сформулированы выводы об эффективности мер.", "effectiveness_evaluation", evaluation.id,
                cycle.short_title, eff_link_to("conclusions-form")))
        proposals = self.chain.proposals.get(cycle.id, [])
        if not proposals:
            self.add("no_proposals", "EFF", lambda: (
                "Выводы не переданы в следующий цикл: нет ни одного предложения "
                "(цели или корректировки показателя).", "effectiveness_evaluation", evaluation.id,
                cycle.short_title, eff_link_to("proposal-form")))
            return
        next_cycle = self.chain.next_cycle.get(cycle.id)
        if next_cycle is not None:
            for p in proposals:
                if p.applied_cycle_id is None:
                    self.add("proposal_not_carried", "EFF", lambda p=p: (
                        f"Предложение «{_short(p.text, 60)}» не перенесено в цикл следующего периода.",
                        "effectiveness_proposal", p.id, _short(p.text),
                        ("cycles.cycle_detail", {"cycle_id": next_cycle})))


def nonblank(column):
    """How many rows have the text column filled (SQL's trim: spaces only)."""
    return func.sum(case((func.length(func.trim(func.coalesce(column, ""))) > 0, 1), else_=0))


def time_zones(cycle_ids) -> dict[int, str]:
    """{cycle id: its owner's time zone} as orgs.services.org_time_zone reads it (the owner's own, or its nearest
    ancestor's, or APP_TIMEZONE), for many cycles in one query: the days of the stored moments the checks compare
    with end dates are the owner's."""
    owner, above = aliased(Organisation), aliased(Organisation)
    zones = defaultdict(lambda: current_app.config["APP_TIMEZONE"])
    # the nearest last: the longest path of the owner's and its ancestors' with a time zone set
    for cycle_id, tz in db.session.execute(
            select(Cycle.id, above.timezone).join(owner, owner.id == Cycle.owner_id)
            .join(above, owner.path.like(above.path + "%"))
            .where(in_ids(Cycle.id, list(cycle_ids)), above.timezone.is_not(None))
            .order_by(Cycle.id, func.length(above.path))):
        zones[cycle_id] = tz
    return zones


def check_cycle(cycle: Cycle, *, today: date | None = None) -> list[Defect]:
    """Every broken link of the cycle's chain, in chain order (stage by stage)."""
    # «Past due» is counted in the owner's day, not in UTC's (a day behind Moscow from 21:00 to 24:00 UTC).
    return _ordered(_Checker(cycle, today or org_today(cycle.owner), Chain([cycle])).run())


def check_cycles(cycles: list[Cycle | CycleHead], *, today: date) -> dict[int, list[Defect]]:
    """check_cycle of many cycles with one query per kind of row for all of them (the cycles' tracks with their
    mechanisms, and their owners, are expected loaded): {cycle id: defects}."""
    if not cycles:
        return {}
    chain = Chain(cycles)
    return {c.id: _ordered(_Checker(c, today, chain).run()) for c in cycles}


def _ordered(defects: list[Defect]) -> list[Defect]:
    order = {code: n for n, code in enumerate(STAGE_ORDER)}
    return sorted(defects, key=lambda d: order.get(d.stage, 99))


def defects_by_stage(cycle: Cycle, defects: list[Defect]) -> list[tuple]:
    """[(stage, [defects])] for the cycle's stages that have any, in stage order."""
    grouped: dict[str, list[Defect]] = {}
    for d in defects:
        grouped.setdefault(d.stage, []).append(d)
    return [(s, grouped[s.code]) for s in cycle.stages if s.code in grouped]


# Links that open a form: which stage's rule decides whether its save would be accepted.
_CONTENT_FORMS = ("cycles.content_new", "cycles.content_edit")
_NEW_FOLLOWUP_FORMS = {"followup.new_recommendation": "REC", "followup.new_measure": "MEAS",
                       "followup.new_decision": "DEC"}
_EDIT_FORMS = {"followup.edit_recommendation": (Recommendation, "recommendation_id", recommendation_edit_refusal),
               "followup.edit_measure": (Measure, "measure_id", measure_edit_refusal),
               "followup.edit_decision": (Decision, "decision_id", decision_edit_refusal)}


def fix_refusals(cycle: Cycle, defects: list[Defect]) -> dict[Defect, str]:
    """{defect: why its «Исправить» would be refused now} for the defects whose link opens a form that its save would
    refuse (a stage on review or approved, a recommendation already issued, a measure of an approved roadmap) — each
    by the rule of the service that refuses the save, so the panel says why instead of offering a form that cannot
    be saved. The rows behind the edit links are loaded in one query per kind."""
    ids: dict[str, list[int]] = defaultdict(list)
    for d in defects:
        if d.endpoint in _EDIT_FORMS:
            ids[d.endpoint].append(d.args[_EDIT_FORMS[d.endpoint][1]])
    rows = {endpoint: {row.id: row for row in db.session.scalars(
                select(_EDIT_FORMS[endpoint][0]).where(in_ids(_EDIT_FORMS[endpoint][0].id, wanted)))}
            for endpoint, wanted in ids.items()}
    refusals = {}
    for d in defects:
        refusal, stage = None, cycle.stage(d.stage)
        if d.endpoint in _CONTENT_FORMS and stage is not None:
            refusal = content_refusal(stage)
        elif d.endpoint in _NEW_FOLLOWUP_FORMS:
            refusal = stage_content_refusal(cycle, _NEW_FOLLOWUP_FORMS[d.endpoint])
        elif d.endpoint in _EDIT_FORMS:
            _model, key, rule = _EDIT_FORMS[d.endpoint]
            row = rows[d.endpoint].get(d.args[key])
            refusal = rule(row) if row is not None else None
        if refusal:
            refusals[d] = refusal
    return refusals

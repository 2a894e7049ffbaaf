"""Evidence found automatically: for every (municipality, mechanism) of a campaign, the facts of the municipality's
cycles of the campaign's period — stage states, documents of each block with their registration and signer, and the
content counts (goals, indicator groups covered, closed data requests, findings, issued and acknowledged
recommendations, measures, decisions, the effectiveness evaluation), the defects the cycles' integrity checks find
(app/effectiveness/integrity.py, the panel «Целостность цикла») — and, per criterion, the proposed score with its
reason in Russian.

Every fact is taken by one group-by query over all the campaign's municipalities at once: the number of statements
does not depend on how many municipalities are assessed (tests/test_assessment_evidence.py counts them). These
are read-only queries over the tables of the cycle features below this one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import selectinload

from app.analysis.models import Finding
from app.assessment.models import Criterion
from app.catalogue.models import IndicatorGroup, Mechanism, MechanismSet, StageDefinition, Track
from app.core.timeutil import format_date
from app.cycles.models import CollectionMethod, Cycle, Goal, Indicator, Stage
from app.documents.models import Document, DocumentVersion, Signature
from app.effectiveness.integrity import LABELS as INTEGRITY_LABELS
from app.effectiveness.integrity import CycleHead, check_cycles
from app.effectiveness.models import EffectivenessEvaluation, EffectivenessProposal
from app.extensions import db
from app.followup.models import Decision, Measure, Recommendation, RecommendationItem
from app.monitoring.models import DataRequest
from app.orgs.models import Organisation

REGISTERED_STATES = ("registered", "published")
ACKNOWLEDGED_STATES = ("acknowledged", "in_progress", "reported", "accepted", "returned")
CONTENT_LABELS = {
    "goals": "целей", "goals_justified": "целей с обоснованием", "goals_realistic": "целей с оценкой реалистичности",
    "methods": "методов сбора", "requests_closed": "закрытых запросов сведений", "findings": "выводов анализа",
    "findings_with_causes": "выводов с причинами", "recommendations_issued": "направленных рекомендаций",
    "items_acknowledged": "адресатов, ознакомленных с рекомендациями", "measures": "мер",
    "measures_done": "выполненных мер", "decisions": "принятых решений",
    "decisions_complete": "решений со сроком, ответственным и участниками",
    "evaluations_with_conclusions": "анализов эффективности с выводами", "proposals": "предложений на следующий цикл",
}


@dataclass
class DocumentFact:
    document_id: int
    cycle_id: int
    block: str
    title: str
    state: str
    version_id: int | None = None
    registration_number: str | None = None
    registration_date: object = None
    sha256: str | None = None
    signer: str | None = None

    @property
    def registered(self) -> bool:
        return self.state in REGISTERED_STATES

    def describe(self) -> str:
        if self.registration_number:
            return f"{self.title} № {self.registration_number} от {format_date(self.registration_date)} зарегистрирован"
        return f"{self.title} ({'зарегистрирован' if self.registered else 'не зарегистрирован'})"


@dataclass
class Facts:
    """What the municipality's cycles of one mechanism hold."""

    cycle_ids: list[int] = field(default_factory=list)
    approved_blocks: set[str] = field(default_factory=set)
    documents: list[DocumentFact] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    groups_covered: set[str] = field(default_factory=set)
    reached_blocks: set[str] = field(default_factory=set)  # stages past «ожидает предыдущего этапа»
    defects: Counter = field(default_factory=Counter)  # integrity check code → how many defects


@dataclass(frozen=True)
class Proposal:
    points: int
    reason: str


def _rows(query):
    return db.session.execute(query).all()


def gather(period: str, municipality_ids, mechanism_codes, *, today: date | None = None,
           integrity: bool = True) -> dict[tuple[int, str], Facts]:
    """Facts per (municipality id, mechanism code), in a fixed number of queries. `integrity`: run the cycles'
    integrity checks too (as of `today`, default the server's date) for the criteria that name them."""
    municipality_ids, mechanism_codes = list(municipality_ids), list(mechanism_codes)
    facts: dict[tuple[int, str], Facts] = defaultdict(Facts)
    if not municipality_ids or not mechanism_codes:
        return facts
    cycles = (select(Cycle.id.label("cycle_id"), Cycle.owner_id, Mechanism.code.label("mechanism"), Cycle.period,
                     Cycle.track_id)
              .join(Track, Track.id == Cycle.track_id).join(Mechanism, Mechanism.id == Track.mechanism_id)
              .where(Cycle.owner_id.in_(municipality_ids), Cycle.period == period,
                     Mechanism.code.in_(mechanism_codes))).subquery()
    key_of, heads = {}, []
    for cycle_id, owner_id, code, cycle_period, track_id in _rows(select(cycles.c.cycle_id, cycles.c.owner_id,
                                                                         cycles.c.mechanism, cycles.c.period,
                                                                         cycles.c.track_id)):
        key_of[cycle_id] = (owner_id, code)
        heads.append((cycle_id, cycle_period, owner_id, track_id))
        facts[(owner_id, code)].cycle_ids.append(cycle_id)
    if not key_of:
        return facts
    ids = select(cycles.c.cycle_id)

    for cycle_id, code, state in _rows(select(Stage.cycle_id, Stage.code, Stage.state)
                                       .where(Stage.cycle_id.in_(ids), Stage.state != "waiting")):
        facts[key_of[cycle_id]].reached_blocks.add(code)
        if state == "approved":
            facts[key_of[cycle_id]].approved_blocks.add(code)
    if integrity:
        for cycle_id, defects in check_cycles(_heads(heads), today=today or date.today()).items():
            facts[key_of[cycle_id]].defects.update(d.code for d in defects)

    # Documents with their newest registered edition (if any).
    registered = (select(DocumentVersion.document_id, func.max(DocumentVersion.number).label("number"))
                  .where(DocumentVersion.registration_number.is_not(None)).group_by(DocumentVersion.document_id)
                  .subquery())
    doc_rows = _rows(
        select(Document.id, Document.cycle_id, Stage.code, Document.title, Document.state, DocumentVersion.id,
               DocumentVersion.registration_number, DocumentVersion.registration_date,
               func.coalesce(DocumentVersion.registered_sha256, DocumentVersion.sha256))
        .join(Stage, Stage.id == Document.stage_id)
        .outerjoin(registered, registered.c.document_id == Document.id)
        .outerjoin(DocumentVersion, and_(DocumentVersion.document_id == Document.id,
                                         DocumentVersion.number == registered.c.number))
        .where(Document.cycle_id.in_(ids), Document.state != "draft").order_by(Document.id))
    by_version = {}
    for row in doc_rows:
        fact = DocumentFact(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8])
        facts[key_of[fact.cycle_id]].documents.append(fact)
        if fact.version_id is not None:
            by_version[fact.version_id] = fact
    if by_version:
        for version_id, name, position in _rows(
                select(Signature.version_id, Signature.signer_name, Signature.signer_position)
                .join(DocumentVersion, DocumentVersion.id == Signature.version_id)
                .where(DocumentVersion.document_id.in_(select(Document.id).where(Document.cycle_id.in_(ids))))
                .order_by(Signature.signed_at)):
            if version_id in by_version:
                by_version[version_id].signer = f"{position} {name}".strip() if position else name

    def add(query, *names):
        for cycle_id, *values in _rows(query):
            counts = facts[key_of[cycle_id]].counts
            for name, value in zip(names, values):
                counts[name] += int(value or 0)

    def nonblank(column):
        return func.sum(case((func.length(func.trim(func.coalesce(column, ""))) > 0, 1), else_=0))

    add(select(Goal.cycle_id, func.count(), nonblank(Goal.justification), nonblank(Goal.realism))
        .where(Goal.cycle_id.in_(ids)).group_by(Goal.cycle_id), "goals", "goals_justified", "goals_realistic")
    add(select(CollectionMethod.cycle_id, func.count()).where(CollectionMethod.cycle_id.in_(ids))
        .group_by(CollectionMethod.cycle_id), "methods")
    add(select(DataRequest.cycle_id, func.count()).where(DataRequest.cycle_id.in_(ids), DataRequest.state == "closed")
        .group_by(DataRequest.cycle_id), "requests_closed")
    add(select(Finding.cycle_id, func.count(), nonblank(Finding.causes)).where(Finding.cycle_id.in_(ids))
        .group_by(Finding.cycle_id), "findings", "findings_with_causes")
    add(select(Recommendation.cycle_id, func.count()).where(Recommendation.cycle_id.in_(ids),
                                                           Recommendation.issued_at.is_not(None))
        .group_by(Recommendation.cycle_id), "recommendations_issued")
    add(select(Recommendation.cycle_id, func.count(RecommendationItem.id))
        .join(RecommendationItem, RecommendationItem.recommendation_id == Recommendation.id)
        .where(Recommendation.cycle_id.in_(ids), RecommendationItem.state.in_(ACKNOWLEDGED_STATES))
        .group_by(Recommendation.cycle_id), "items_acknowledged")
    add(select(Measure.cycle_id, func.sum(case((Measure.state != "cancelled", 1), else_=0)),
               func.sum(case((Measure.state.in_(("done", "verified")), 1), else_=0)))
        .where(Measure.cycle_id.in_(ids)).group_by(Measure.cycle_id), "measures", "measures_done")
    complete = and_(Decision.participants.is_not(None), func.length(func.trim(Decision.participants)) > 0)
    add(select(Decision.cycle_id, func.count(), func.sum(case((complete, 1), else_=0)))
        .where(Decision.cycle_id.in_(ids), Decision.state != "draft").group_by(Decision.cycle_id),
        "decisions", "decisions_complete")
    concluded = func.length(func.trim(func.coalesce(EffectivenessEvaluation.conclusions, ""))) > 0
    add(select(EffectivenessEvaluation.cycle_id, func.max(case((concluded, 1), else_=0)),
               func.count(distinct(EffectivenessProposal.id)))
        .outerjoin(EffectivenessProposal, EffectivenessProposal.evaluation_id == EffectivenessEvaluation.id)
        .where(EffectivenessEvaluation.cycle_id.in_(ids)).group_by(EffectivenessEvaluation.cycle_id),
        "evaluations_with_conclusions", "proposals")
    for cycle_id, group_name in _rows(select(Indicator.cycle_id, Indicator.group_name).distinct()
                                      .where(Indicator.cycle_id.in_(ids))):
        facts[key_of[cycle_id]].groups_covered.add(group_name)
    return facts


def _heads(rows) -> list[CycleHead]:
    """The cycles as the integrity checks read them (CycleHead): their few tracks and owners loaded once, never a
    cycle or a stage as an object."""
    tracks = {t.id: t for t in db.session.scalars(
        select(Track).where(Track.id.in_({r[3] for r in rows}))
        .options(selectinload(Track.mechanism).selectinload(Mechanism.tracks)))}
    # Organisation.display_name in SQL: the short name, else the name.
    owners = dict(_rows(select(Organisation.id, func.coalesce(func.nullif(Organisation.short_name, ""),
                                                              Organisation.name))
                        .where(Organisation.id.in_({r[2] for r in rows}))))
    labels = {track_id: Cycle.track_label.fget(_TrackOnly(track)) for track_id, track in tracks.items()}
    return [CycleHead(cycle_id, period, owner_id, tracks[track_id],
                      f"{labels[track_id]}, {owners[owner_id]}, {period}")
            for cycle_id, period, owner_id, track_id in rows]


@dataclass(frozen=True)
class _TrackOnly:
    """Cycle.track_label reads only the track: the label of a track without loading a cycle."""

    track: Track


def required_groups(mechanism_codes) -> dict[str, list[str]]:
    rows = _rows(select(Mechanism.code, IndicatorGroup.name).join(Mechanism.mechanism_set)
                 .join(IndicatorGroup, IndicatorGroup.mechanism_id == Mechanism.id)
                 .where(MechanismSet.level == "municipal", MechanismSet.active.is_(True),
                        IndicatorGroup.required.is_(True), Mechanism.code.in_(list(mechanism_codes)))
                 .order_by(Mechanism.code, IndicatorGroup.position))
    out: dict[str, list[str]] = defaultdict(list)
    for code, name in rows:
        out[code].append(name)
    return out


def block_titles() -> dict[str, str]:
    return dict(_rows(select(StageDefinition.code, StageDefinition.title)))


def _plain(criterion: Criterion) -> tuple[dict, str, str, int]:
    """The criterion's rule, block, mechanism and maximum, each attribute read once (a region's proposal reads every
    criterion for every municipality)."""
    return criterion.evidence or {}, criterion.block, criterion.mechanism_code, criterion.max_points


def propose(criterion: Criterion, facts: Facts, *, groups: list[str], titles: dict[str, str]) -> Proposal:
    """The proposed score of one criterion from the facts, with its reason («1 — …» / «0 — …»)."""
    rule, block, mechanism_code, max_points = _plain(criterion)
    block_title = titles.get(block, block)
    if not facts.cycle_ids:
        return Proposal(0, f"0 — нет цикла механизма {mechanism_code} за период кампании")
    if rule.get("per_group"):
        covered = [g for g in groups if g in facts.groups_covered]
        missing = [g for g in groups if g not in facts.groups_covered]
        points = min(len(covered), max_points)
        reason = f"{points} — показатели охватывают групп: {len(covered)} из {len(groups)}"
        if missing:
            reason += "; не охвачены: " + ", ".join(f"«{g}»" for g in missing)
        return Proposal(points, reason)
    met, unmet = [], []
    documents = rule.get("documents")
    if documents:
        doc_block = documents.get("block", block)
        title = titles.get(doc_block, doc_block)
        found = [d for d in facts.documents if d.block == doc_block]
        if documents.get("registered"):
            good = [d for d in found if d.registered]
            (met if good else unmet).append(
                good[0].describe() if good else f"нет зарегистрированного документа этапа «{title}»")
        else:
            (met if found else unmet).append(found[0].describe() if found else f"нет документа этапа «{title}»")
    if rule.get("stage_approved"):
        if block in facts.approved_blocks:
            met.append(f"этап «{block_title}» утверждён")
        else:
            unmet.append(f"этап «{block_title}» не утверждён")
    checks = rule.get("integrity") or []
    if checks:
        if block not in facts.reached_blocks:
            unmet.append(f"этап «{block_title}» не начат: проверки целостности не выполнялись")
        else:
            failed = [f"«{INTEGRITY_LABELS.get(code, code)}» ({facts.defects[code]})" for code in checks
                      if facts.defects[code]]
            if failed:
                unmet.append("проверки целостности не пройдены: " + ", ".join(failed))
            else:
                met.append("проверки целостности пройдены: " + ", ".join(
                    f"«{INTEGRITY_LABELS.get(code, code)}»" for code in checks))
    for name, minimum in (rule.get("content") or {}).items():
        value = facts.counts.get(name, 0)
        label = CONTENT_LABELS.get(name, name)
        (met if value >= minimum else unmet).append(f"{label}: {value}")
    if not met and not unmet:
        return Proposal(0, "0 — правило доказательств не задано: оценивается экспертом")
    if unmet:
        return Proposal(0, "0 — " + "; ".join(unmet))
    return Proposal(max_points, f"{max_points} — " + "; ".join(met))


def evidence_documents(criterion: Criterion, facts: Facts) -> list[DocumentFact]:
    """The documents that stand as evidence of the criterion: those of its block (or of the rule's block)."""
    block = ((criterion.evidence or {}).get("documents") or {}).get("block", criterion.block)
    return [d for d in facts.documents if d.block == block]

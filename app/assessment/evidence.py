"""Evidence found automatically: for every (municipality, mechanism) of a campaign, the facts of the municipality's
cycles of the campaign's period — stage states, documents of each block with their registration and signer, and the
content counts (goals, indicator groups covered, closed data requests, findings, issued and acknowledged
recommendations, measures, decisions, the effectiveness evaluation), the defects the cycles' integrity checks find
(app/effectiveness/integrity.py, the panel «Целостность цикла») — and, per criterion, the proposed score with its
reason in Russian.

Every fact is taken by one query over all the campaign's municipalities at once: the number of statements does not
depend on how many municipalities are assessed (tests/test_assessment.py counts them). The stage states and most
content counts come from the rows the integrity checks load anyway (app/effectiveness/integrity.py Chain, one query
per kind of row); the checks' defects are only counted, never described. These are read-only queries over the tables
of the cycle features below this one.

The proposal compiles each criterion's rule once (rule_of) and applies it to every municipality (propose_all).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Callable, NamedTuple

from sqlalchemy import and_, bindparam, func, select

from app.assessment.models import Criterion
from app.catalogue.models import IndicatorGroup, Mechanism, MechanismSet, StageDefinition, Track
from app.core.db import in_ids
from app.core.timeutil import format_date
from app.cycles.models import Cycle, Indicator, Stage
from app.documents.models import Document, DocumentVersion, Signature
from app.effectiveness.chain_counts import ChainCounts, blocks_of, count_defects
from app.effectiveness.integrity import LABELS as INTEGRITY_LABELS
from app.effectiveness.integrity import CycleHead
from app.extensions import db
from app.monitoring.models import DataRequest

REGISTERED_STATES = ("registered", "published")
CONTENT_LABELS = {
    "goals": "целей", "goals_justified": "целей с обоснованием", "goals_realistic": "целей с оценкой реалистичности",
    "methods": "методов сбора", "requests_closed": "закрытых запросов сведений", "findings": "выводов анализа",
    "findings_with_causes": "выводов с причинами", "recommendations_issued": "направленных рекомендаций",
    "items_acknowledged": "адресатов, ознакомленных с рекомендациями", "measures": "мер",
    "measures_done": "выполненных мер", "decisions": "принятых решений",
    "decisions_complete": "решений со сроком, ответственным и участниками",
    "evaluations_with_conclusions": "анализов эффективности с выводами", "proposals": "предложений на следующий цикл",
}

# Integrity checks a rule's check stands for too: a recommendation marked sent with no registered letter to its
# addressee is not sent as evidence goes (domain §4, REC: the outgoing number is the proof of sending), so a
# criterion that asks «Рекомендация не выдана» of the cycles asks «Рекомендация направлена без письма» as well —
# in the criteria sets published before the check existed too (a published set is never changed).
IMPLIED_CHECKS = {"recommendation_not_issued": ("recommendation_without_letter",)}


def integrity_checks(rule: dict) -> list[str]:
    """The integrity check codes a criterion's rule asks, with those they imply (IMPLIED_CHECKS), each once."""
    checks = list(rule.get("integrity") or [])
    return list(dict.fromkeys(c for code in checks for c in (code, *IMPLIED_CHECKS.get(code, ()))))


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


class Proposal(NamedTuple):
    points: int
    reason: str


@cache
def _statements() -> dict:
    """gather's statements, built once per process: each run only binds its values (`owners`, `period`, `codes`:
    the municipalities, period and mechanisms; `ids`: their cycles; `versions`: the documents' registered editions)."""
    out = {}
    out["cycles"] = (select(Cycle.id, Cycle.owner_id, Mechanism.code, Cycle.period, Cycle.track_id)
                     .join(Track, Track.id == Cycle.track_id).join(Mechanism, Mechanism.id == Track.mechanism_id)
                     .where(in_ids(Cycle.owner_id, key="owners"), Cycle.period == bindparam("period"),
                            Mechanism.code.in_(bindparam("codes", expanding=True))))
    # Documents with their newest registered edition (if any).
    registered = (select(DocumentVersion.document_id, func.max(DocumentVersion.number).label("number"))
                  .where(DocumentVersion.registration_number.is_not(None)).group_by(DocumentVersion.document_id)
                  .subquery())
    out["documents"] = (
        select(Document.id, Document.cycle_id, Stage.code, Document.title, Document.state, DocumentVersion.id,
               DocumentVersion.registration_number, DocumentVersion.registration_date,
               func.coalesce(DocumentVersion.registered_sha256, DocumentVersion.sha256))
        .join(Stage, Stage.id == Document.stage_id)
        .outerjoin(registered, registered.c.document_id == Document.id)
        .outerjoin(DocumentVersion, and_(DocumentVersion.document_id == Document.id,
                                         DocumentVersion.number == registered.c.number))
        .where(in_ids(Document.cycle_id, key="ids"), Document.state != "draft").order_by(Document.id))
    out["signatures"] = (select(Signature.version_id, Signature.signer_name, Signature.signer_position)
                         .where(in_ids(Signature.version_id, key="versions")).order_by(Signature.signed_at))
    out["requests"] = (select(DataRequest.cycle_id, func.count())
                       .where(in_ids(DataRequest.cycle_id, key="ids"), DataRequest.state == "closed")
                       .group_by(DataRequest.cycle_id))
    # Not DISTINCT: the set below drops repeats for less than the database's sort would cost.
    out["groups"] = select(Indicator.cycle_id, Indicator.group_name).where(in_ids(Indicator.cycle_id, key="ids"))
    return out


def gather(period: str, municipality_ids, mechanism_codes, *, today: date | None = None,
           integrity: bool = True) -> dict[tuple[int, str], Facts]:
    """Facts per (municipality id, mechanism code), in a fixed number of queries. `integrity`: run the cycles'
    integrity checks too (as of `today`, default the server's date) for the criteria that name them."""
    municipality_ids, mechanism_codes = list(municipality_ids), list(mechanism_codes)
    facts: dict[tuple[int, str], Facts] = defaultdict(Facts)
    if not municipality_ids or not mechanism_codes:
        return facts
    statements = _statements()
    key_of, rows = {}, []
    # Through the session, which autoflushes; the rest as plain Core rows on its connection (nothing is changed
    # after it).
    for cycle_id, owner_id, code, cycle_period, track_id in db.session.execute(
            statements["cycles"], {"owners": municipality_ids, "period": period, "codes": mechanism_codes}).all():
        key_of[cycle_id] = (owner_id, code)
        rows.append((cycle_id, cycle_period, owner_id, track_id))
        facts[(owner_id, code)].cycle_ids.append(cycle_id)
    if not key_of:
        return facts
    # The cycles as the checks read them: their few tracks loaded once, never a cycle or a stage as an object (the
    # title that names a cycle in a defect's description is not needed to count them).
    tracks = {t.id: t for t in db.session.scalars(select(Track).where(Track.id.in_({r[3] for r in rows})))}
    heads = [CycleHead(cycle_id, cycle_period, owner_id, tracks[track_id])
             for cycle_id, cycle_period, owner_id, track_id in rows]
    # The cycle ids as one bound array (app/core/db.in_ids): every query below is a short statement whatever the
    # region's size.
    params = {"ids": list(key_of)}
    execute = db.session.connection().execute
    # The per-cycle counts of the cycles' chains (one GROUP BY per table), read twice: the stages and the content
    # counts below, and the integrity checks' defects (counted, not described: the integrity panel describes them).
    today = today or date.today()
    counts = ChainCounts(heads, today=today)
    for cycle_id, (owner_id, code) in key_of.items():
        _count_content(facts[(owner_id, code)], counts, cycle_id)
    if integrity:
        for cycle_id, defects in count_defects(heads, today=today, counts=counts).items():
            facts[key_of[cycle_id]].defects.update(defects)

    by_version = {}
    for row in execute(statements["documents"], params).all():
        fact = DocumentFact(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8])
        facts[key_of[fact.cycle_id]].documents.append(fact)
        if fact.version_id is not None:
            by_version[fact.version_id] = fact
    if by_version:
        for version_id, name, position in execute(statements["signatures"], {"versions": list(by_version)}).all():
            by_version[version_id].signer = f"{position} {name}".strip() if position else name

    for cycle_id, count in execute(statements["requests"], params).all():
        facts[key_of[cycle_id]].counts["requests_closed"] += count
    for cycle_id, group_name in execute(statements["groups"], params).all():
        facts[key_of[cycle_id]].groups_covered.add(group_name)
    return facts


def _count_content(facts: Facts, counts: ChainCounts, cycle_id: int) -> None:
    """Add one cycle's stage states and content counts to its facts, from its chain's counts."""
    reached, approved = counts.stages.get(cycle_id, (0, 0))
    facts.reached_blocks |= blocks_of(reached)
    facts.approved_blocks |= blocks_of(approved)
    out = facts.counts
    goals, justified, realistic = counts.goals.get(cycle_id, (0, 0, 0))
    out["goals"] += goals
    out["goals_justified"] += justified
    out["goals_realistic"] += realistic
    out["methods"] += counts.methods.get(cycle_id, 0)
    findings, with_causes, _ = counts.findings.get(cycle_id, (0, 0, 0))
    out["findings"] += findings
    out["findings_with_causes"] += with_causes
    out["recommendations_issued"] += counts.recommendations.get(cycle_id, (0, 0))[1]
    out["items_acknowledged"] += counts.items.get(cycle_id, (0,))[0]
    live, done = counts.measures.get(cycle_id, (0, 0))[:2]
    out["measures"] += live
    out["measures_done"] += done
    taken, complete = counts.decisions.get(cycle_id, (0, 0, 0))[1:3]
    out["decisions"] += taken
    out["decisions_complete"] += complete
    conclusions, proposals = counts.evaluations.get(cycle_id, (0, 0, 0))[1:3]
    out["evaluations_with_conclusions"] += conclusions
    out["proposals"] += proposals


def required_groups(mechanism_codes) -> dict[str, list[str]]:
    rows = db.session.execute(select(Mechanism.code, IndicatorGroup.name).join(Mechanism.mechanism_set)
                              .join(IndicatorGroup, IndicatorGroup.mechanism_id == Mechanism.id)
                              .where(MechanismSet.level == "municipal", MechanismSet.active.is_(True),
                                     IndicatorGroup.required.is_(True), Mechanism.code.in_(list(mechanism_codes)))
                              .order_by(Mechanism.code, IndicatorGroup.position))
    out: dict[str, list[str]] = defaultdict(list)
    for code, name in rows:
        out[code].append(name)
    return out


def block_titles() -> dict[str, str]:
    return dict(db.session.execute(select(StageDefinition.code, StageDefinition.title)).all())


def block_positions() -> dict[str, int]:
    """Block code → its number in the cycle (GOAL → 1): pages number criteria «1.2», never «GOAL.2»."""
    return dict(db.session.execute(select(StageDefinition.code, StageDefinition.position)).all())


def criterion_number(criterion, positions: dict[str, int] | None = None) -> str:
    """«1.2»: the number of the criterion's block in the cycle and its own number in the block — how pages, documents
    and messages name a criterion (the data's code, «GOAL.2», when the block is not a stage of the cycle)."""
    block = (block_positions() if positions is None else positions).get(criterion.block)
    return f"{block}.{criterion.code.rsplit('.', 1)[-1]}" if block else criterion.code


def _plain(criterion: Criterion) -> tuple[dict, str, str, int]:
    """The criterion's rule, block, mechanism and maximum, each attribute read once."""
    return criterion.evidence or {}, criterion.block, criterion.mechanism_code, criterion.max_points


def propose(criterion: Criterion, facts: Facts, *, groups: list[str], titles: dict[str, str]) -> Proposal:
    """The proposed score of one criterion from the facts, with its reason («1 — …» / «0 — …»)."""
    return rule_of(criterion, groups=groups, titles=titles)(facts)


def propose_all(criteria, facts: dict[tuple[int, str], Facts], municipality_ids, *, groups: dict[str, list[str]],
                titles: dict[str, str]):
    """(municipality id, criterion, proposal) of every criterion for every municipality: each criterion's rule read
    and compiled once (rule_of), not once per municipality."""
    rules = [(c, c.mechanism_code, rule_of(c, groups=groups.get(c.mechanism_code, []), titles=titles))
             for c in criteria]
    empty = Facts()
    for municipality_id in municipality_ids:
        for criterion, mechanism_code, rule in rules:
            yield municipality_id, criterion, rule(facts.get((municipality_id, mechanism_code), empty))


def describe_rule(rule: dict | None, block: str, titles: dict[str, str]) -> list[str]:
    """What a criterion's evidence rule asks for, in Russian, one phrase per part (the criteria page shows these,
    never the rule's JSON); an empty list when the expert alone scores the criterion."""
    rule = rule or {}
    block_title = titles.get(block, block)
    parts = []
    if rule.get("per_group"):
        parts.append("показатели по каждой обязательной группе (балл за группу)")
    documents = rule.get("documents")
    if documents:
        doc_title = titles.get(documents.get("block", block), documents.get("block", block))
        parts.append(f"{'зарегистрированный ' if documents.get('registered') else ''}документ этапа «{doc_title}»")
    if rule.get("stage_approved"):
        parts.append(f"этап «{block_title}» утверждён")
    checks = integrity_checks(rule)
    if checks:
        parts.append("нет дефектов: " + ", ".join(f"«{INTEGRITY_LABELS.get(code, code)}»" for code in checks))
    for name, minimum in (rule.get("content") or {}).items():
        parts.append(f"{CONTENT_LABELS.get(name, name)}: не меньше {minimum}")
    return parts


def rule_of(criterion: Criterion, *, groups: list[str], titles: dict[str, str]) -> Callable[[Facts], Proposal]:
    """The criterion's evidence rule as a function of the facts: the rule, titles and labels read once, the reason's
    fixed words built once (a region's proposal applies each criterion to every municipality)."""
    rule, block, mechanism_code, max_points = _plain(criterion)
    block_title = titles.get(block, block)
    no_cycle = Proposal(0, f"0 — нет цикла механизма {mechanism_code} за период кампании")
    if rule.get("per_group"):
        return _per_group(no_cycle, groups, max_points)
    # Functions of the facts → (met?, words), in the order of the reason: closures, the cheapest call there is.
    steps = []
    documents = rule.get("documents")
    if documents:
        doc_block = documents.get("block", block)
        title = titles.get(doc_block, doc_block)
        if documents.get("registered"):
            steps.append(_document(doc_block, True, f"нет зарегистрированного документа этапа «{title}»"))
        else:
            steps.append(_document(doc_block, False, f"нет документа этапа «{title}»"))
    if rule.get("stage_approved"):
        steps.append(_stage_approved(block, (True, f"этап «{block_title}» утверждён"),
                                     (False, f"этап «{block_title}» не утверждён")))
    checks = integrity_checks(rule)
    if checks:
        labelled = [(code, f"«{INTEGRITY_LABELS.get(code, code)}»") for code in checks]
        steps.append(_integrity(
            block, labelled, (False, f"этап «{block_title}» не начат: проверки целостности не выполнялись"),
            (True, "проверки целостности пройдены: " + ", ".join(label for _, label in labelled))))
    for name, minimum in (rule.get("content") or {}).items():
        steps.append(_content(name, minimum, CONTENT_LABELS.get(name, name)))
    if not steps:
        unruled = Proposal(0, "0 — правило доказательств не задано: оценивается экспертом")
        return lambda facts: unruled if facts.cycle_ids else no_cycle
    full = f"{max_points} — "

    def proposal(facts: Facts) -> Proposal:
        if not facts.cycle_ids:
            return no_cycle
        met, unmet = [], []
        for step in steps:
            ok, words = step(facts)
            (met if ok else unmet).append(words)
        if unmet:
            return Proposal(0, "0 — " + "; ".join(unmet))
        return Proposal(max_points, full + "; ".join(met))

    return proposal


def _per_group(no_cycle: Proposal, groups: list[str], max_points: int) -> Callable[[Facts], Proposal]:
    def proposal(facts: Facts) -> Proposal:
        if not facts.cycle_ids:
            return no_cycle
        covered = [g for g in groups if g in facts.groups_covered]
        missing = [g for g in groups if g not in facts.groups_covered]
        points = min(len(covered), max_points)
        reason = f"{points} — показатели охватывают групп: {len(covered)} из {len(groups)}"
        if missing:
            reason += "; не охвачены: " + ", ".join(f"«{g}»" for g in missing)
        return Proposal(points, reason)

    return proposal


def _document(block: str, registered: bool, missing: str):
    """The first (registered) document of the block describes itself; else the missing words."""
    def step(facts: Facts) -> tuple[bool, str]:
        for d in facts.documents:
            if d.block == block and (d.registered or not registered):
                return True, d.describe()
        return False, missing

    return step


def _stage_approved(block: str, yes: tuple, no: tuple):
    def step(facts: Facts) -> tuple[bool, str]:
        return yes if block in facts.approved_blocks else no

    return step


def _integrity(block: str, labelled: list[tuple[str, str]], not_reached: tuple, passed: tuple):
    def step(facts: Facts) -> tuple[bool, str]:
        if block not in facts.reached_blocks:
            return not_reached
        defects = facts.defects
        failed = [f"{label} ({defects[code]})" for code, label in labelled if defects.get(code)]
        if failed:
            return False, "проверки целостности не пройдены: " + ", ".join(failed)
        return passed

    return step


def _content(name: str, minimum: int, label: str):
    def step(facts: Facts) -> tuple[bool, str]:
        value = facts.counts.get(name, 0)
        return value >= minimum, f"{label}: {value}"

    return step


def evidence_documents(criterion: Criterion, facts: Facts) -> list[DocumentFact]:
    """The documents that stand as evidence of the criterion: those of its block (or of the rule's block)."""
    block = ((criterion.evidence or {}).get("documents") or {}).get("block", criterion.block)
    return [d for d in facts.documents if d.block == block]

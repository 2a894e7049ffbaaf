"""What the public pages show, and only that (152-ФЗ: aggregates, no person's data beyond the signer printed on
a published document).

A cycle's content becomes public block by block as its stage is approved: goals once GOAL is approved,
indicators once IND is, measures once MEAS is, the effectiveness conclusions once EFF is; drafts never.
Documents are public only in the «опубликован» state. Results are the result summaries of the organisation's
subtree's schools, each school's group under PUBLIC_MIN_GROUP participants suppressed and kept out of the totals
above it while that would let a page's difference from its children's pages reveal it (`results`)."""

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.analysis.models import DashboardRow
from app.audit.models import AuditEvent
from app.catalogue.models import Mechanism, Track
from app.core import russian as ru
from app.core.russian import sort_key
from app.cycles.basis import basis_cycles, basis_indicators
from app.cycles.models import Cycle, Stage
from app.documents.catalogue import document_types
from app.documents.models import Document, DocumentVersion
from app.effectiveness.models import EffectivenessEvaluation
from app.extensions import db
from app.followup.models import Measure
from app.imports.models import ResultSummary
from app.orgs.models import Organisation

PUBLIC_KINDS = ("region", "municipality", "school", "preschool", "additional")
SUMS = ("participants", "percent_sum", "marked", "mark_2", "mark_3", "mark_4", "mark_5")


def change_marker() -> int:
    """Every state change of the system writes an audit event: the newest id says whether anything changed."""
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def roots() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).where(Organisation.parent_id.is_(None))
                                   .order_by(Organisation.name)))


def organisation(code: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.code == code,
                                                        Organisation.kind.in_(PUBLIC_KINDS)))


def children(org: Organisation) -> list[Organisation]:
    """In the order of the names the page shows (the short ones), numbers by value: ordered by the full legal name,
    «СОШ № 10» came before «СОШ № 1» and «Детский сад № 14» before «№ 7»."""
    rows = db.session.scalars(select(Organisation).where(Organisation.parent_id == org.id,
                                                         Organisation.kind.in_(PUBLIC_KINDS)))
    return sorted(rows, key=lambda o: sort_key(o.display_name))


def _opened_stages():
    """The approved first block of each cycle: its goals for a full cycle, or for a partial one (M2.4
    «Развитие механизмов…»: MEAS → DEC → EFF, no «Цели») the block it starts with. Asking for «Цели» alone kept
    a partial cycle off the portal for good: its measures, effectiveness and published documents had no page."""
    first = select(func.min(Stage.position)).where(Stage.cycle_id == Cycle.id).correlate(Cycle).scalar_subquery()
    return (select(Stage.cycle_id).join(Cycle, Cycle.id == Stage.cycle_id)
            .where(Stage.state == "approved", Stage.position == first))


def _public_cycle_ids(owner_ids) -> set[int]:
    """Cycles whose first block is approved (`_opened_stages`)."""
    return set(db.session.scalars(_opened_stages().where(Cycle.owner_id.in_(list(owner_ids)))))


@dataclass
class MechanismCycles:
    mechanism: Mechanism
    tracks: list  # [(Track, [Cycle])]


def mechanisms_of(org: Organisation) -> list[MechanismCycles]:
    """The organisation's own public cycles grouped by mechanism and track."""
    ids = _public_cycle_ids([org.id])
    if not ids:
        return []
    rows = db.session.execute(
        select(Cycle, Track, Mechanism).join(Track, Track.id == Cycle.track_id)
        .join(Mechanism, Mechanism.id == Track.mechanism_id).where(Cycle.id.in_(ids))
        .order_by(Mechanism.position, Mechanism.code, Track.position, Cycle.period.desc())).all()
    grouped: dict = {}
    for cycle, track, mechanism in rows:
        entry = grouped.setdefault(mechanism.id, MechanismCycles(mechanism, []))
        if not entry.tracks or entry.tracks[-1][0].id != track.id:
            entry.tracks.append((track, []))
        entry.tracks[-1][1].append(cycle)
    return list(grouped.values())


def public_cycle(cycle_id: int) -> Cycle | None:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None or cycle.owner.kind not in PUBLIC_KINDS or cycle.id not in _public_cycle_ids([cycle.owner_id]):
        return None
    return cycle


def approved(cycle: Cycle, code: str) -> bool:
    stage = cycle.stage(code)
    return stage is not None and stage.state == "approved"


@dataclass
class IndicatorLine:
    indicator: object
    value: float | None
    period: str | None
    # as the page prints them: each column with one number of decimals, a head count whole («69,1», never «69.1000»)
    shown: dict = field(default_factory=dict)


def indicator_lines(cycle: Cycle) -> list[IndicatorLine]:
    """The indicators the cycle works with (app.cycles.basis: its own, or for a partial cycle those of the full
    cycle of the mechanism it rests on), each once the cycle that holds it has approved «Показатели», with the
    owner's newest computed value of each."""
    by_cycle = {c.id: c for c in [cycle, *basis_cycles(cycle)]}
    indicators = [i for i in basis_indicators(cycle) if approved(by_cycle.get(i.cycle_id, cycle), "IND")]
    if not indicators:
        return []
    rows = db.session.scalars(select(DashboardRow).where(
        DashboardRow.cycle_id.in_({i.cycle_id for i in indicators}),
        DashboardRow.indicator_id.in_([i.id for i in indicators]),
        DashboardRow.organisation_id == cycle.owner_id)).all()
    newest = {}
    for row in rows:
        if row.value is not None and (row.indicator_id not in newest or row.period > newest[row.indicator_id].period):
            newest[row.indicator_id] = row
    lines = [IndicatorLine(ind, newest[ind.id].value if ind.id in newest else None,
                           newest[ind.id].period if ind.id in newest else None) for ind in indicators]
    units = [ind.unit for ind in indicators]
    columns = {"baseline": ru.column([ind.baseline for ind in indicators], units),
               "target": ru.column([ind.target for ind in indicators], units),
               # the owner's value (monitoring.values.owner_value): a mean with one decimal, a head count whole
               "value": ru.column([line.value for line in lines], units, 1)}
    for n, line in enumerate(lines):
        line.shown = {key: column[n] for key, column in columns.items()}
    return lines


def measures(cycle: Cycle) -> list[Measure]:
    if not approved(cycle, "MEAS"):
        return []
    return list(db.session.scalars(select(Measure).where(Measure.cycle_id == cycle.id)
                                   .order_by(Measure.start_date, Measure.id)))


def conclusions(cycle: Cycle) -> str | None:
    if not approved(cycle, "EFF"):
        return None
    return db.session.scalar(select(EffectivenessEvaluation.conclusions)
                             .where(EffectivenessEvaluation.cycle_id == cycle.id))


@dataclass
class PublishedDocument:
    document: Document
    version: DocumentVersion  # the registered edition (number and date)
    type_title: str


def published(*, cycle: Cycle | None = None, within: Organisation | None = None, limit: int | None = None):
    """Published documents (their registered edition), newest first, of one cycle or of an organisation's subtree."""
    # The portal shows the cycles' documents (an assessment campaign's documents are not published there).
    query = (select(Document).where(Document.state == "published", Document.cycle_id.is_not(None))
             .options(selectinload(Document.versions), selectinload(Document.cycle).selectinload(Cycle.owner),
                      selectinload(Document.cycle).selectinload(Cycle.track))
             .order_by(Document.published_at.desc(), Document.id.desc()))
    if cycle is not None:
        query = query.where(Document.cycle_id == cycle.id)
    if within is not None:
        query = query.join(Cycle, Cycle.id == Document.cycle_id).join(Organisation, Organisation.id == Cycle.owner_id
                                                                      ).where(Organisation.path.like(within.path + "%"))
    if limit:
        query = query.limit(limit)
    types = document_types()
    out = []
    for doc in db.session.scalars(query):
        version = _shown_edition(doc)
        if version is not None:
            kind = types.get(doc.type_key)
            out.append(PublishedDocument(doc, version, kind.title_for(doc.cycle.owner.level) if kind else ""))
    return out


def _shown_edition(doc: Document) -> DocumentVersion | None:
    """The edition of a published document the portal shows: its newest registered one."""
    return next((v for v in sorted(doc.versions, key=lambda v: -v.number) if v.registration_number), None)


def published_version(version_id: int) -> DocumentVersion | None:
    """The edition a public page shows of a published cycle document; None for anything else — an assessment
    campaign's documents too, which the portal does not list (`published`), and an earlier registered edition of a
    document redone since (registered, perhaps never published), so that no id serves what no page offers."""
    version = db.session.get(DocumentVersion, version_id)
    if version is None or version.document.state != "published" or version.document.cycle_id is None \
            or _shown_edition(version.document) is not version:
        return None
    return version


@dataclass
class ResultGroup:
    procedure: str
    subject: str
    grade: int
    participants: int  # those the shown figures are of (a group's own count when it is suppressed)
    mean: float | None  # None when suppressed
    share_2: float | None
    share_45: float | None
    # the figures leave out groups under the threshold below this organisation (a school's too small a group)
    partial: bool = False

    @property
    def suppressed(self) -> bool:
        return self.mean is None


def _add(a: tuple, b: tuple) -> tuple:
    return tuple(x + y for x, y in zip(a, b))


def _publishable(rows, top: str, minimum: int) -> tuple:
    """The sums of SUMS that the page of the organisation at path `top` may show for one work, from its subtree's
    school rows [(path, sums)]: a school's group under `minimum` is left out, and the groups left out under one
    organisation are added back as a whole once together they reach `minimum`. So the page of any organisation
    differs from the sum of its children's pages by nothing or by a group of at least `minimum`."""
    zero = (0,) * len(SUMS)
    own: dict[str, tuple] = {}
    children: dict[str, set] = {}
    for path, sums in rows:
        own[path] = _add(own.get(path, zero), sums)
        node = path
        while node != top:
            parent = node[:node.rstrip("/").rindex("/") + 1]
            children.setdefault(parent, set()).add(node)
            node = parent

    def walk(node: str) -> tuple[tuple, tuple]:
        shown, left = zero, zero
        if node in own:
            if own[node][0] >= minimum:
                shown = own[node]
            else:
                left = own[node]
        for child in children.get(node, ()):
            child_shown, child_left = walk(child)
            shown, left = _add(shown, child_shown), _add(left, child_left)
        if left[0] >= minimum:
            return _add(shown, left), zero
        return shown, left

    return walk(top)[0]


def results(org: Organisation, year: int | None = None) -> tuple[int | None, list[ResultGroup]]:
    """The newest year's results of the organisation's subtree per work, from its schools' groups: a group under
    PUBLIC_MIN_GROUP participants is suppressed, and left out of the totals above it until the groups left out
    under one organisation together reach the threshold (`_publishable`).

    Why not the organisation's own subtree total: a municipality's total minus its schools' published figures was
    the one small school's group (234 participants in ГО Северный, 231 in the ten schools shown: the three of the
    eleventh, with their mean and marks to the page's rounding), so a suppressed group was public after all."""
    s = ResultSummary.__table__.c
    if year is None:
        year = db.session.scalar(select(func.max(s.year)).where(s.organisation_id == org.id))
    if year is None:
        return None, []
    minimum = current_app.config["PUBLIC_MIN_GROUP"]
    work = (s.procedure, s.subject, s.grade)
    schools: dict[tuple, list] = {}
    for row in db.session.execute(
            select(Organisation.path, *work, *[getattr(s, c) for c in SUMS])
            .join(Organisation, Organisation.id == s.organisation_id)
            .where(Organisation.path.like(org.path + "%"), s.level == "school", s.year == year)):
        schools.setdefault((row.procedure, row.subject, row.grade), []).append(
            (row.path, tuple(getattr(row, c) for c in SUMS)))
    out = []
    for row in db.session.execute(select(*work, s.participants).where(s.organisation_id == org.id, s.year == year)
                                  .order_by(s.procedure, s.grade, s.subject)):
        shown = dict(zip(SUMS, _publishable(schools.get((row.procedure, row.subject, row.grade), []), org.path,
                                            minimum)))
        if shown["participants"] == 0:
            out.append(ResultGroup(row.procedure, row.subject, row.grade, row.participants, None, None, None))
            continue
        marked = shown["marked"] or 0
        out.append(ResultGroup(
            row.procedure, row.subject, row.grade, shown["participants"],
            shown["percent_sum"] / shown["participants"],
            100.0 * shown["mark_2"] / marked if marked else None,
            100.0 * (shown["mark_4"] + shown["mark_5"]) / marked if marked else None,
            partial=shown["participants"] < row.participants))
    return year, out


def sitemap_entries() -> list[tuple[str, dict]]:
    """(endpoint, arguments) of every public page."""
    codes = db.session.scalars(select(Organisation.code).where(Organisation.kind.in_(PUBLIC_KINDS))
                               .order_by(Organisation.code)).all()
    cycles = db.session.scalars(
        _opened_stages().join(Organisation, Organisation.id == Cycle.owner_id)
        .where(Organisation.kind.in_(PUBLIC_KINDS)).order_by(Stage.cycle_id)).all()
    return ([("public.index", {})] + [("public.organisation_page", {"code": c}) for c in codes]
            + [("public.cycle_page", {"cycle_id": c}) for c in cycles])

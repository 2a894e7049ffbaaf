"""Reading the situational centre's tables. Results come from the result summaries (app/imports/summaries.py:
kept current by every import), verdicts and ШНОР/ШНСУ from the latest finished analysis run covering the
organisation, cycles from their stages — a handful of set-based queries per page, whatever the region's size."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager

from app.analysis import services as analysis_services
from app.analysis.models import AnalysisResult, AnalysisRun
from app.auth.roles import ASSIGNED_ROLES, SUPPORT_ROLES
from app.catalogue.models import Mechanism, Track
from app.core.russian import sort_key
from app.cycles.models import Cycle, Stage
from app.extensions import db, reading
from app.imports.models import ResultSummary
from app.orgs.models import CENTRE_KINDS, Organisation

# Who reads the situational centre: the authorities' people, experts and auditors (not schools).
VIEWERS = frozenset({"admin", "official", "head", "methodologist", "expert", "analyst", "auditor"})
# Children listed on an organisation's page: the levels that have results and cycles.
LISTED_KINDS = ("municipality", "school")
SUMS = ("participants", "percent_sum", "marked", "mark_2", "mark_3", "mark_4", "mark_5")


# A school's own people see their school's page (its results beside the municipality's and the region's).
SCHOOL_READERS = frozenset({"director", "staff"})


def root_for(user) -> Organisation | None:
    """Where the centre opens: the highest organisation whose results the user reads (roots_for)."""
    roots = roots_for(user)
    return roots[0] if roots else None


def roots_for(user) -> list[Organisation]:
    """The highest organisations whose results the user reads, highest and oldest first, none inside another — where
    they hold a viewer role, or, for a role held at a centre (ИМЦ, РЦОКО analyst), the organisations the centre
    supports (the centre itself has no schools: opening there showed nothing) — else their school. A regional expert
    reads the municipalities assigned to them: several side by side (opening at the first one alone left no way to
    the others)."""
    at_centre = [r for r in user.roles if r.role in SUPPORT_ROLES and r.organisation.kind in CENTRE_KINDS]
    found = [r.organisation for r in user.roles
             if r.role in VIEWERS and r.role not in ASSIGNED_ROLES and r not in at_centre]
    found += [db.session.get(Organisation, org_id) for role, _, org_id in user.support_grants() if role in VIEWERS]
    if not found:  # a centre that supports no one yet: its own page
        found = [r.organisation for r in at_centre if r.role in VIEWERS]
    if not found:  # a regional expert alone reads the municipalities assigned to them
        found = [db.session.get(Organisation, org_id) for role, _, org_id in user.assigned_grants() if role in VIEWERS]
    if not found:
        found = [r.organisation for r in user.roles if r.role in SCHOOL_READERS and r.organisation.kind == "school"]
    found = sorted({o.id: o for o in found if o is not None}.values(), key=lambda o: (len(o.path), o.id))
    tops: list[Organisation] = []
    for org in found:
        if not any(org.is_within(top) for top in tops):
            tops.append(org)
    return tops


def may_view(user, org: Organisation) -> bool:
    held = user.roles_over(org)
    if held & ASSIGNED_ROLES and not any(org.path.startswith(p) for p in user.scope_paths(ASSIGNED_ROLES)):
        # A page of the whole subtree: the regional expert's role, valid at the region itself only for the region's
        # own objects, shows no more than the municipalities assigned.
        held = held - ASSIGNED_ROLES
    return bool(held & VIEWERS or (org.kind == "school" and held & SCHOOL_READERS))


@dataclass
class Figures:
    """Sums of results of one organisation (one year) and what pages show of them."""

    participants: int = 0
    percent_sum: float = 0.0
    marked: int = 0
    marks: tuple = (0, 0, 0, 0)  # 2, 3, 4, 5

    @property
    def mean(self) -> float | None:
        return self.percent_sum / self.participants if self.participants else None

    def share(self, *marks: int) -> float | None:
        if not self.marked:
            return None
        return 100.0 * sum(self.marks[m - 2] for m in marks) / self.marked

    def add(self, row) -> None:
        self.participants += int(row.participants)
        self.percent_sum += float(row.percent_sum)
        self.marked += int(row.marked)
        self.marks = tuple(a + int(b) for a, b in zip(self.marks, (row.mark_2, row.mark_3, row.mark_4, row.mark_5)))


@dataclass
class ResultLine:
    organisation: Organisation
    current: Figures
    previous: Figures | None
    series: list  # [(year, mean)] over every year with results, oldest first

    @property
    def delta(self) -> float | None:
        if self.previous is None or self.previous.mean is None or self.current.mean is None:
            return None
        return self.current.mean - self.previous.mean


def children(org: Organisation) -> list[Organisation]:
    """The rows of the centre's tables, in the order of the names they show («ГО Северный» before «Озёрный МР»,
    «СОШ № 4» before «СОШ № 10»): the full names ordered them otherwise («Администрация Озёрного…» before
    «Управление образования…», «…школа № 10»» before «…школа № 1»»)."""
    kids = db.session.scalars(select(Organisation).where(
        Organisation.parent_id == org.id, Organisation.kind.in_(LISTED_KINDS)))
    return sorted(kids, key=lambda o: sort_key(o.display_name))


def choices(org: Organisation) -> tuple[list[int], list[str], list[str]]:
    """Years (newest first), procedures and subjects that have results in the organisation's subtree."""
    s = ResultSummary.__table__.c
    with reading() as connection:
        rows = connection.execute(select(s.year, s.procedure, s.subject).where(s.organisation_id == org.id)
                                  .distinct()).all()
    return (sorted({r.year for r in rows}, reverse=True), sorted({r.procedure for r in rows}),
            sorted({r.subject for r in rows}))


def _summed(ids, *, procedure: str, subject: str | None = None, grade: int | None = None):
    s = ResultSummary.__table__.c
    query = (select(s.organisation_id, s.year, *[func.sum(getattr(s, c)).label(c) for c in SUMS])
             .where(s.organisation_id.in_(ids), s.procedure == procedure)
             .group_by(s.organisation_id, s.year))
    if subject:
        query = query.where(s.subject == subject)
    if grade:
        query = query.where(s.grade == grade)
    found: dict[int, dict[int, Figures]] = defaultdict(dict)
    with reading() as connection:
        for row in connection.execute(query):
            figures = Figures()
            figures.add(row)
            found[row.organisation_id][row.year] = figures
    return found


def _line(org, by_year: dict, year: int) -> ResultLine:
    return ResultLine(org, by_year.get(year, Figures()), by_year.get(year - 1),
                      [(y, by_year[y].mean) for y in sorted(by_year)])


def result_lines(org: Organisation, kids: list[Organisation], *, year: int, procedure: str,
                 subject: str | None = None) -> tuple[ResultLine, list[ResultLine]]:
    """The organisation's own line (its subtree) and one line per child, for `year` and `procedure`."""
    found = _summed([org.id, *[k.id for k in kids]], procedure=procedure, subject=subject)
    return _line(org, found.get(org.id, {}), year), [_line(k, found.get(k.id, {}), year) for k in kids]


@dataclass
class WorkLine:
    procedure: str
    subject: str
    grade: int
    own: Figures
    previous: Figures | None
    parent: Figures | None
    region: Figures | None

    @property
    def delta(self) -> float | None:
        if self.previous is None or self.previous.mean is None or self.own.mean is None:
            return None
        return self.own.mean - self.previous.mean


def work_lines(school: Organisation, *, year: int, procedure: str | None = None) -> list[WorkLine]:
    """Each work of the school in `year` with its municipality's and the region's figures for the same work."""
    s = ResultSummary.__table__.c
    ancestors = school.ancestor_ids()
    parent_id = school.parent_id
    region_id = ancestors[0] if ancestors and ancestors[0] != school.id else None
    ids = {school.id, *(i for i in (parent_id, region_id) if i)}
    query = select(ResultSummary).where(s.organisation_id.in_(ids), s.year.in_([year, year - 1]))
    if procedure:
        query = query.where(s.procedure == procedure)
    rows = db.session.scalars(query).all()
    table: dict = {}
    for row in rows:
        figures = Figures()
        figures.add(row)
        table[(row.organisation_id, row.year, row.procedure, row.subject, row.grade)] = figures
    lines = []
    for (org_id, y, proc, subject, grade), own in table.items():
        if org_id != school.id or y != year:
            continue
        lines.append(WorkLine(proc, subject, grade, own, table.get((school.id, year - 1, proc, subject, grade)),
                              table.get((parent_id, year, proc, subject, grade)),
                              table.get((region_id, year, proc, subject, grade)) if region_id != parent_id else None))
    return sorted(lines, key=lambda w: (w.procedure, w.grade, w.subject))


def work_history(school: Organisation, *, procedure: str, subject: str, grade: int):
    """[(year, the school's figures, its municipality's, the region's)] for one work, oldest first."""
    ancestors = school.ancestor_ids()
    region_id = ancestors[0] if ancestors and ancestors[0] != school.id else None
    ids = [i for i in (school.id, school.parent_id, region_id) if i]
    found = _summed(ids, procedure=procedure, subject=subject, grade=grade)
    years = sorted(found.get(school.id, {}))
    return [(y, found[school.id][y], found.get(school.parent_id, {}).get(y),
             found.get(region_id, {}).get(y) if region_id != school.parent_id else None) for y in years]


# --- objectivity and low results -------------------------------------------------------------------------

@dataclass
class Standing:
    """Counts of schools by verdict and list, for one organisation's subtree (or one school)."""

    schools: int = 0
    flagged: int = 0
    watch: int = 0
    shnor: int = 0
    shnsu: int = 0
    run: AnalysisRun | None = None
    verdict: str | None = None  # for a school: its verdict label
    explanation: str | None = None
    explained: bool = False  # for a school: its analysis page states this run's verdict with its reasons


def _runs(org: Organisation) -> list[AnalysisRun]:
    """Finished analysis runs of `org`, of the organisations above it and below it, newest first (one query)."""
    ancestors = org.ancestor_ids()
    return list(db.session.scalars(
        select(AnalysisRun).join(Organisation, Organisation.id == AnalysisRun.organisation_id)
        .options(contains_eager(AnalysisRun.organisation))
        .where(AnalysisRun.status == "done",
               or_(Organisation.id.in_(ancestors), Organisation.path.like(org.path + "%")))
        .order_by(AnalysisRun.finished_at.desc(), AnalysisRun.id.desc())))


def _covering(runs, org: Organisation, year: int) -> AnalysisRun | None:
    """The newest run whose organisation is `org` or above it and whose year is `year`: a run over 2024–2026 gives
    its verdicts and ШНОР/ШНСУ lists for 2026 alone (the earlier years are its history), so the page for 2025 said
    «вердикта нет» beside «ШНСУ: да» for some schools and «анализ за 2025 г. не проводился» for the others."""
    return next((r for r in runs if org.path.startswith(r.organisation.path) and r.years and max(r.years) == year),
                None)


def standings(org: Organisation, kids: list[Organisation], *, year: int) -> dict[int, Standing]:
    """Per child (by id): verdict and list counts of its schools, from the newest run covering the organisation,
    else the child's own newest run. Schools that no run covers are not counted. Two queries in all."""
    out = {k.id: Standing() for k in kids}
    runs = _runs(org)
    whole = _covering(runs, org, year)
    chosen = {k.id: whole or _covering(runs, k, year) for k in kids}
    run_ids = {r.id for r in chosen.values() if r is not None}
    if not run_ids:
        return out
    verdict = AnalysisResult.payload["verdict"].as_string()
    label = AnalysisResult.payload["verdict_label"].as_string()
    with reading() as connection:
        rows = connection.execute(
            select(AnalysisResult.run_id, AnalysisResult.kind, verdict, label, Organisation.path)
            .join(Organisation, Organisation.id == AnalysisResult.school_id)
            .where(AnalysisResult.run_id.in_(sorted(run_ids)),
                   AnalysisResult.kind.in_(("verdict", "shnor", "shnsu")),
                   or_(AnalysisResult.kind != "verdict", AnalysisResult.year == year),
                   Organisation.path.like(org.path + "%"))).all()
    members = sorted(kids, key=lambda k: -len(k.path))
    for run_id, kind, v, v_label, path in rows:
        member = next((m for m in members if path.startswith(m.path)), None)
        if member is None or chosen[member.id] is None or chosen[member.id].id != run_id:
            continue
        standing = out[member.id]
        standing.run = chosen[member.id]
        if kind == "verdict":
            standing.schools += 1
            standing.flagged += v == "flagged"
            standing.watch += v == "watch"
            if member.kind == "school":
                standing.verdict = v_label
        elif kind == "shnor":
            standing.shnor += 1
        else:
            standing.shnsu += 1
    return out


def standings_total(standings: dict[int, Standing]) -> Standing | None:
    """The page's own line over the rows that have a run (the results table has its «Итого», the objectivity table
    had none: the region's count of flagged schools was left to the reader's sum). None when no row has one."""
    counted = [s for s in standings.values() if s.run is not None]
    if not counted:
        return None
    return Standing(schools=sum(s.schools for s in counted), flagged=sum(s.flagged for s in counted),
                    watch=sum(s.watch for s in counted), shnor=sum(s.shnor for s in counted),
                    shnsu=sum(s.shnsu for s in counted))


def school_standing(school: Organisation, *, year: int) -> Standing:
    """A school's verdict for `year`. The verdict's reasons (which works, which sign, how unlikely) are on the
    school's analysis page, which shows the school's newest run: `explained` says that run is the one whose verdict
    this standing states, so the drill-down's last step may link there."""
    standing = standings(school, [school], year=year)[school.id]
    latest = analysis_services.latest_run_for_school(school)
    standing.explained = standing.run is not None and latest is not None and latest.id == standing.run.id
    return standing


# --- management cycles ----------------------------------------------------------------------------------

@dataclass
class CycleState:
    cycle: Cycle
    mechanism: str
    block: str | None  # the current stage's title, None when every stage is approved
    overdue: int


@dataclass
class CycleLine:
    organisation: Organisation
    cycles: list = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return sum(c.overdue for c in self.cycles)


def cycle_lines(org: Organisation, kids: list[Organisation], *, today: date) -> list[CycleLine]:
    """The open cycles of `org` itself (first, when it has any) and of each child: the mechanism, the block it is
    at, its overdue stages. Two queries. (The municipality's own cycles were listed on the region's page only, so
    the ИМЦ, whose centre opens at the municipality, never saw them.)"""
    listed = [org, *kids]
    lines = {k.id: CycleLine(k) for k in listed}
    cycles = db.session.execute(
        select(Cycle, Mechanism.title, Track.title).join(Track, Track.id == Cycle.track_id)
        .join(Mechanism, Mechanism.id == Track.mechanism_id)
        .where(Cycle.owner_id.in_(list(lines)), Cycle.state == "open")
        .order_by(Mechanism.position, Mechanism.code, Cycle.id)).all()
    stages = defaultdict(list)
    if cycles:
        for stage in db.session.scalars(select(Stage).where(Stage.cycle_id.in_([c.id for c, _m, _t in cycles]))
                                        .order_by(Stage.cycle_id, Stage.position)):
            stages[stage.cycle_id].append(stage)
    for cycle, mechanism_title, track_title in cycles:
        # A mechanism with several tracks (M2.4 has five) gave as many rows with the same words: name the track
        # when it is not the mechanism's own main one.
        title = mechanism_title if track_title == mechanism_title else f"{mechanism_title} — {track_title}"
        own = stages[cycle.id]
        current = next((s for s in own if s.state != "approved"), None)
        overdue = sum(1 for s in own if s.state != "approved" and s.deadline is not None and s.deadline < today)
        lines[cycle.owner_id].cycles.append(CycleState(cycle, title, current.definition.title if current else None,
                                                       overdue))
    return [lines[k.id] for k in listed if k is not org or lines[k.id].cycles]

"""The vertical region → municipality → school, read side: the roll-up of a cycle's invariant indicators over
the organisations below its owner, and the cascade of goals down the levels (README, «The vertical»).

Both read in a fixed number of queries whatever the size of the region (one per level of the indicator family
or goal tree, one for the organisations, one for the values); tests/test_vertical.py counts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.catalogue.models import Track
from app.core import russian as ru
from app.core.russian import sort_key
from app.cycles.aggregation import Part, combine, meets, organisations, part
from app.cycles.models import Cycle, Goal, Indicator
from app.extensions import db
from app.monitoring.models import IndicatorValue
from app.orgs.models import Organisation, ancestor_paths

INSTITUTION_KINDS = ("school", "preschool", "additional")
# The organisations one level down, whose values roll up into the level of the key.
LOWER_KINDS = {"region": ("municipality",), "municipality": INSTITUTION_KINDS}
MAX_DEPTH = 3  # region → municipality → school: the indicator family and the goal tree are never deeper


def previous_period(cycle: Cycle) -> str | None:
    """'2025/26' → '2024/25' (the previous cycle's period when there is one)."""
    if cycle.previous is not None:
        return cycle.previous.period
    period = cycle.period
    try:
        if "/" in period:
            start = int(period.split("/")[0]) - 1
            return f"{start}/{(start + 1) % 100:02d}"
        return str(int(period) - 1)
    except ValueError:
        return None


def shown_digits(ind: Indicator) -> int:
    """The decimals every figure of an indicator is printed with on the vertical's pages: a count whole, anything else
    as precise as its target and baseline and at least one decimal. Each figure was printed with up to two as it came:
    «Итого: 72,13» under «цель: 74,1» beside rows of «68,4», and a mean of whole answers «87,67»."""
    if ru.is_count_unit(ind.unit):
        return 0
    return max(1, ru.decimals([ind.target, ind.baseline]))


def shown(value: Decimal | None, digits: int) -> Decimal | None:
    """`value` as the page prints it (ru.number's rounding), which the target is judged on: 74,06 against a target
    of 74,1 printed «74,1 … цель: 74,1» beside «цель не достигнута»."""
    return None if value is None else Decimal(str(value)).quantize(Decimal(1).scaleb(-digits))


@dataclass
class UnitRow:
    """One organisation of the level below: its value now and in the previous period."""

    organisation: Organisation
    value: Decimal | None = None
    previous: Decimal | None = None
    source: str | None = None  # "own": its own answer; "lower": computed from its institutions' values
    answered: int = 0  # institutions below it that answered (a municipality's row)
    expected: int = 0
    meets: bool | None = None  # None: not judged against the target (below, IndicatorRollup.counts_organisations)
    inherits: bool = False  # a cycle of this organisation holds the indicator (inherited)
    # Under «доля организаций, достигших целевого значения», a value that is such a share (computed from the
    # organisations below, here or by the municipality's «Рассчитать по данным подведомственных»): (met, counted).
    organisations: tuple[int, int] | None = None
    previous_is_share: bool = False

    @property
    def is_share(self) -> bool:
        return self.organisations is not None

    @property
    def delta(self) -> Decimal | None:
        # a share of organisations against last year's value of the indicator itself (or back) is no change
        if self.value is None or self.previous is None or self.is_share != self.previous_is_share:
            return None
        return self.value - self.previous


@dataclass
class IndicatorRollup:
    indicator: Indicator
    value: Decimal | None = None
    previous: Decimal | None = None
    rows: list[UnitRow] = field(default_factory=list)
    organisations: tuple[int, int] | None = None  # the total's (met, counted) under share_meeting

    @property
    def delta(self) -> Decimal | None:
        return None if self.value is None or self.previous is None else self.value - self.previous

    @property
    def higher_is_better(self) -> bool:
        """The direction a change of the total and of a row is good in: a share of organisations meeting the target
        grows as they improve whatever the indicator's direction; any other figure goes the indicator's way (a fall
        of «доля не получивших аттестат» was shown red)."""
        return self.counts_organisations or self.indicator.direction != "down"

    def row_higher_is_better(self, row: UnitRow) -> bool:
        return row.is_share or self.indicator.direction != "down"

    @property
    def counts_organisations(self) -> bool:
        """«Доля организаций, достигших целевого значения»: the total, and a row computed from the organisations
        below, is the share of those meeting the target, in % of organisations — not a value of the indicator, so
        not judged against its target (a share of 66,7 % of schools read «цель 5,0 … не достигнута»)."""
        return self.indicator.aggregation == "share_meeting"

    @property
    def meets(self) -> bool | None:
        if self.counts_organisations:
            return None
        return meets(shown(self.value, self.digits), self.indicator.target, self.indicator.direction)

    @property
    def digits(self) -> int:
        return shown_digits(self.indicator)

    @property
    def not_answered(self) -> list[UnitRow]:
        return [r for r in self.rows if r.value is None]


@dataclass
class Rollup:
    cycle: Cycle
    within: Organisation
    period: str
    previous_period: str | None
    indicators: list[IndicatorRollup]
    units: list[Organisation]

    @property
    def unit_kind_label(self) -> str:
        return "муниципалитеты" if self.within.kind == "region" else "образовательные организации"


def _family(roots: dict[int, tuple[int, bool]]) -> tuple[dict[int, tuple[int, bool]], dict[int, set[int]]]:
    """Every indicator inheriting (transitively) from the roots → (root id, previous period?), one query per level;
    and root id → owners of the cycles that inherited it."""
    members = dict(roots)
    owners: dict[int, set[int]] = {}
    frontier = list(roots)
    for _level in range(MAX_DEPTH):
        if not frontier:
            break
        rows = db.session.execute(
            select(Indicator.id, Indicator.upper_indicator_id, Cycle.owner_id)
            .join(Cycle, Cycle.id == Indicator.cycle_id)
            .where(Indicator.upper_indicator_id.in_(frontier))).all()
        frontier = []
        for ind_id, upper_id, owner_id in rows:
            if ind_id in members:
                continue
            members[ind_id] = members[upper_id]
            root, is_previous = members[upper_id]
            if not is_previous:
                owners.setdefault(root, set()).add(owner_id)
            frontier.append(ind_id)
    return members, owners


def _upper_links(ids) -> list[tuple[int, int]]:
    """(indicator, the indicator it inherits from) for `ids` and, transitively, their upper indicators, level by
    level (one query per level)."""
    links: list[tuple[int, int]] = []
    frontier, climbed = list(ids), set(ids)
    for _level in range(MAX_DEPTH):
        if not frontier:
            break
        found = db.session.execute(select(Indicator.id, Indicator.upper_indicator_id).where(
            Indicator.id.in_(frontier), Indicator.upper_indicator_id.is_not(None))).all()
        links += [tuple(row) for row in found]
        frontier = [upper for _ind, upper in found if upper not in climbed]
        climbed.update(frontier)
    return links


def _with_uppers(roots: dict[int, tuple[int, bool]]) -> dict[int, tuple[int, bool]]:
    """The roots and the indicators they inherit from (upper_indicator_id, transitively), each mapped to its root: a
    value is an organisation's whichever indicator of the family it was collected through. A school's answer to the
    region's request passed down by the municipality is stored against the regional indicator, and the municipal
    cycle's roll-up, looking only down from its own, showed the school «не ответил» (demo of 7 December 2026). The
    values are read within the roll-up's subtree, so the upper's other branches add nothing."""
    members = dict(roots)
    for ind_id, upper_id in _upper_links(roots):
        members.setdefault(upper_id, members[ind_id])
    return members


def rollup(cycle: Cycle, within: Organisation | None = None) -> Rollup:
    """The cycle's invariant indicators over the organisations one level below `within` (default: the owner;
    a municipality of a regional cycle to see its schools)."""
    within = within or cycle.owner
    period, prev = cycle.period, previous_period(cycle)
    invariants = list(db.session.scalars(
        select(Indicator).where(Indicator.cycle_id == cycle.id, Indicator.invariant.is_(True))
        .order_by(Indicator.code)))
    roots: dict[int, tuple[int, bool]] = {i.id: (i.id, False) for i in invariants}
    for i in invariants:
        if i.carried_from_id and i.carried_from_id not in roots:
            roots[i.carried_from_id] = (i.id, True)
    lower_kinds = LOWER_KINDS.get(within.kind, ())
    result = Rollup(cycle, within, period, prev, [], [])
    if not invariants or not lower_kinds:
        result.indicators = [IndicatorRollup(i) for i in invariants]
        return result
    members, inheriting = _family(_with_uppers(roots))

    # In the order of the names the table shows, numbers by value: ordered by the full legal name, the kindergartens
    # («МБДОУ …») came before «Гимназия № 3», «СОШ № 10» before «СОШ № 1» and the ДДТ («МУ ДО …») last.
    orgs = sorted(db.session.scalars(
        select(Organisation).where(Organisation.in_subtree_of(within), Organisation.id != within.id,
                                   Organisation.kind.in_(("municipality",) + INSTITUTION_KINDS))),
        key=lambda o: (sort_key(o.display_name), o.id))
    # (root, period, organisation) → the latest value among the family's indicators, its update time, the
    # (met, counted) of a computed share of organisations (None for a value of the indicator itself) and the students
    # behind a computed weighted mean.
    latest: dict[tuple[int, str, int], tuple] = {}
    periods = [p for p in (period, prev) if p]
    for ind_id, org_id, value_period, value, updated, met, counted, students in db.session.execute(
            select(IndicatorValue.indicator_id, IndicatorValue.organisation_id, IndicatorValue.period,
                   IndicatorValue.value, IndicatorValue.updated_at, IndicatorValue.organisations_met,
                   IndicatorValue.organisations_counted, IndicatorValue.students_counted)
            .join(Organisation, Organisation.id == IndicatorValue.organisation_id)
            .where(IndicatorValue.indicator_id.in_(list(members)), IndicatorValue.period.in_(periods),
                   Organisation.in_subtree_of(within))):
        root, is_previous = members[ind_id]
        if is_previous and value_period != prev:
            continue
        key = (root, value_period, org_id)
        if key not in latest or (updated or 0) > (latest[key][1] or 0):
            latest[key] = (Decimal(value), updated, (met, counted) if counted else None, students)

    # Only the institutions the cycle's mechanism is about, the addressees of its «все образовательные организации»
    # (Mechanism.audience): a school mechanism's roll-up listed the kindergartens as «не ответил» for the share of
    # pupils at the ВПР base level, and the ДДТ, which takes no ВПР and is never asked, among those expected.
    # An institution outside the audience that was asked one by one and answered keeps its row and its value.
    audience = cycle.track.mechanism.audience
    answered = {org_id for _root, _period, org_id in latest}
    orgs = [o for o in orgs if o.kind not in INSTITUTION_KINDS or o.serves(audience) or o.id in answered]
    units = [o for o in orgs if o.kind in lower_kinds]
    institutions = [o for o in orgs if o.kind in INSTITUTION_KINDS]
    below: dict[int, list[Organisation]] = {u.id: [] for u in units}
    if within.kind == "region":
        by_path = {u.path: u.id for u in units}
        for inst in institutions:
            unit_id = next((by_path[p] for p in ancestor_paths(inst.path) if p in by_path), None)
            if unit_id is not None:
                below[unit_id].append(inst)
    result.units = units

    for ind in invariants:
        item = IndicatorRollup(ind)
        rows = {u.id: UnitRow(u, expected=len(below[u.id]), inherits=u.id in inheriting.get(ind.id, set()))
                for u in units}
        for which in periods:
            pooled: list[Part] = []
            for u in units:
                parts, value, source, answered = _unit(ind, u, below[u.id], which, latest)
                pooled.extend(parts)
                row = rows[u.id]
                # a share of organisations (computed below, here or by the municipality): its counts, not judged
                share = organisations(parts) if item.counts_organisations and value is not None and (
                    source == "lower" or latest[(ind.id, which, u.id)][2] is not None) else None
                if which == period:
                    row.value, row.source, row.answered, row.organisations = value, source, answered, share
                    row.meets = None if share is not None else \
                        meets(shown(value, shown_digits(ind)), ind.target, ind.direction)
                else:
                    row.previous, row.previous_is_share = value, share is not None
            total = combine(pooled, ind.aggregation)
            if which == period:
                item.value = total
                if item.counts_organisations and pooled:
                    item.organisations = organisations(pooled)
            else:
                item.previous = total
        item.rows = list(rows.values())
        result.indicators.append(item)
    return result


def _unit(ind: Indicator, unit: Organisation, institutions: list[Organisation], period: str, latest) -> tuple:
    """(contributions, displayed value, source, institutions answered) of one organisation of the level below."""
    def contribution(value, students, counts=None):
        return part(value, aggregation=ind.aggregation, students=students, target=ind.target,
                    direction=ind.direction, counts=counts)

    own = latest.get((ind.id, period, unit.id))
    if own is not None:
        # a mean computed from its schools weighs as their students; its own figure as all of its institutions'
        students = own[3] if own[3] is not None else unit.students if unit.students is not None else \
            sum(i.students or 0 for i in institutions)
        return [contribution(own[0], students, own[2])], own[0], "own", 0
    parts = [contribution(latest[(ind.id, period, i.id)][0], i.students)
             for i in institutions if (ind.id, period, i.id) in latest]
    if not parts:
        return [], None, None, 0
    return parts, combine(parts, ind.aggregation), "lower", len(parts)


# --- the goals cascade ---

@dataclass
class IndicatorNow:
    indicator: Indicator
    value: Decimal | None
    source: str | None  # "own" or "lower" (computed from the organisations below the cycle's owner)
    # (met, counted) when the value is a share of organisations meeting the target (share_meeting: computed below,
    # here or by the owner's «Рассчитать по данным подведомственных»), not a value of the indicator
    organisations: tuple[int, int] | None = None

    @property
    def digits(self) -> int:
        return shown_digits(self.indicator)


@dataclass
class GoalNode:
    goal: Goal
    children: list["GoalNode"] = field(default_factory=list)


@dataclass
class Cascade:
    cycle: Cycle
    roots: list[GoalNode]
    indicators: dict[int, list[IndicatorNow]]  # cycle id → its indicators with current values
    cycles: dict[int, Cycle]

    def indicators_of(self, cycle_id: int) -> list[IndicatorNow]:
        return self.indicators.get(cycle_id, [])


def cascade(cycle: Cycle) -> Cascade:
    """The cycle's goals with the lower levels' goals linked to them (Goal.parent_goal_id), as a tree; each
    cycle's indicators with their current values. One query per level, one for indicators, one for values."""
    goal_options = (selectinload(Goal.cycle).selectinload(Cycle.owner),
                    selectinload(Goal.cycle).selectinload(Cycle.track).selectinload(Track.mechanism))
    level = list(db.session.scalars(select(Goal).where(Goal.cycle_id == cycle.id).options(*goal_options)
                                    .order_by(Goal.position, Goal.id)))
    nodes = {g.id: GoalNode(g) for g in level}
    roots = list(nodes.values())
    frontier = list(nodes)
    for _level in range(MAX_DEPTH - 1):
        if not frontier:
            break
        # by the owner's name as the tree shows it (as the roll-up's rows): not by the full legal name
        children = sorted(db.session.scalars(
            select(Goal).where(Goal.parent_goal_id.in_(frontier)).options(*goal_options)),
            key=lambda g: (sort_key(g.cycle.owner.display_name), g.cycle.owner_id, g.position, g.id))
        frontier = []
        for g in children:
            if g.id in nodes:
                continue
            nodes[g.id] = GoalNode(g)
            nodes[g.parent_goal_id].children.append(nodes[g.id])
            frontier.append(g.id)
    cycles = {n.goal.cycle_id: n.goal.cycle for n in nodes.values()}
    cycles.setdefault(cycle.id, cycle)
    indicators: dict[int, list[IndicatorNow]] = {}
    if cycles:
        inds = list(db.session.scalars(select(Indicator).where(Indicator.cycle_id.in_(list(cycles)))
                                       .order_by(Indicator.cycle_id, Indicator.code)))
        values: dict[int, list[tuple]] = {}
        if inds:
            # An indicator's values include those of the indicators inheriting it (one query per level), so a
            # regional invariant sees the schools' values collected through the municipal cycles.
            ids = {i.id for i in inds}
            upper_of: dict[int, int] = {}
            frontier = list(ids)
            for _level in range(MAX_DEPTH):
                if not frontier:
                    break
                found = db.session.execute(select(Indicator.id, Indicator.upper_indicator_id)
                                           .where(Indicator.upper_indicator_id.in_(frontier))).all()
                frontier = [i for i, _u in found if i not in upper_of]
                upper_of.update(dict(found))
            # And the values of the indicators each one inherits from, within its owner's subtree: a school's answer
            # to the region's request passed down by the municipality is stored against the regional indicator, and
            # the municipal and school levels printed «нет данных» beside it (demo of 7 December 2026).
            subtree = {i.id: cycles[i.cycle_id].owner.path for i in inds}
            heirs: dict[int, list[int]] = {}  # an upper indicator → the indicators inheriting it directly
            for ind_id, upper_id in _upper_links(ids):
                heirs.setdefault(upper_id, []).append(ind_id)
            seen: dict[tuple[int, int], tuple] = {}
            # (a mean computed from the schools below weighs as their students: IndicatorValue.students_counted)
            for ind_id, org_id, value, students, path, kind, updated, met, counted in db.session.execute(
                    select(IndicatorValue.indicator_id, IndicatorValue.organisation_id, IndicatorValue.value,
                           func.coalesce(IndicatorValue.students_counted, Organisation.students), Organisation.path,
                           Organisation.kind, IndicatorValue.updated_at, IndicatorValue.organisations_met,
                           IndicatorValue.organisations_counted)
                    .join(Indicator, Indicator.id == IndicatorValue.indicator_id)
                    .join(Cycle, Cycle.id == Indicator.cycle_id)
                    .join(Organisation, Organisation.id == IndicatorValue.organisation_id)
                    .where(IndicatorValue.indicator_id.in_(list(ids | set(upper_of) | set(heirs))),
                           IndicatorValue.period == Cycle.period)):
                targets = []
                target = ind_id
                while target is not None:
                    if target in ids:
                        targets.append(target)
                    target = upper_of.get(target)
                targets += [heir for heir in _heirs_of(ind_id, heirs) if heir in ids and path.startswith(subtree[heir])]
                for target in targets:
                    key = (target, org_id)
                    if key not in seen or (updated or 0) > (seen[key][-1] or 0):
                        seen[key] = (org_id, Decimal(value), students, path, kind, (met, counted) if counted else None,
                                     updated)
            for (target, _org), row in seen.items():
                values.setdefault(target, []).append(row[:-1])
        weights = _municipal_students({path for rows in values.values() for _o, _v, _s, path, kind, _c in rows
                                       if kind == "municipality"})
        for ind in inds:
            owner_id = cycles[ind.cycle_id].owner_id
            rows = values.get(ind.id, [])
            own = next((r for r in rows if r[0] == owner_id), None)
            if own is not None:
                now = IndicatorNow(ind, own[1], "own", own[5] if ind.aggregation == "share_meeting" else None)
            else:
                parts = _pooled(ind, [r for r in rows if r[0] != owner_id], weights)
                now = IndicatorNow(ind, combine(parts, ind.aggregation), "lower" if parts else None,
                                   organisations(parts) if parts and ind.aggregation == "share_meeting" else None)
            indicators.setdefault(ind.cycle_id, []).append(now)
    return Cascade(cycle, roots, indicators, cycles)


def _heirs_of(upper_id: int, heirs: dict[int, list[int]]) -> list[int]:
    """The indicators inheriting `upper_id`, directly or through indicators in between (`heirs`: an upper → the
    indicators inheriting it directly)."""
    found, frontier = [], [upper_id]
    for _level in range(MAX_DEPTH):
        frontier = [heir for upper in frontier for heir in heirs.get(upper, ())]
        if not frontier:
            break
        found += frontier
    return found


def _municipal_students(paths: set[str]) -> dict[str, int]:
    """Municipality path → students of its institutions (the weight of a municipality's own answer), one query."""
    if not paths:
        return {}
    totals = dict.fromkeys(paths, 0)
    for path, students in db.session.execute(
            select(Organisation.path, Organisation.students).where(
                Organisation.kind.in_(INSTITUTION_KINDS), or_(*[Organisation.path.like(p + "%") for p in paths]))):
        for p in ancestor_paths(path):
            if p in totals:
                totals[p] += students or 0
    return totals


def _pooled(ind: Indicator, rows: list[tuple], weights: dict[str, int]) -> list[Part]:
    """The contributions below a cycle's owner, as the roll-up pools them: a municipality's own answer once
    (weighted by its institutions' students) in place of its institutions' values, each other institution's
    value with its own students."""
    own_paths = [path for _o, _v, _s, path, kind, _c in rows if kind == "municipality"]
    parts = []
    for _org, value, students, path, kind, counts in rows:
        if kind == "municipality":
            parts.append(part(value, aggregation=ind.aggregation, students=students or weights.get(path, 0),
                              target=ind.target, direction=ind.direction, counts=counts))
        elif kind in INSTITUTION_KINDS and not any(path.startswith(p) for p in own_paths):
            parts.append(part(value, aggregation=ind.aggregation, students=students, target=ind.target,
                              direction=ind.direction))
    return parts

"""The repeat of a part: which upper organisations' monitoring values stay «после мер» because the repeat measurement
(повторное измерение of the EFF stage) covered only some of the organisations each stands for, and the words that say
how many were measured again.

One rule (settle) for the evaluation page and the effectiveness report (services.indicator_rows, one cycle) and for
the integrity panel and its counts (partial_repeats: many cycles in a fixed number of statements, whatever their
number): the panel counted a repeat of one school of two as «measured again» while the evaluation kept the
municipality's monitoring value and rated nothing.

Counted by level: a regional cycle asks its municipalities and their schools, and «1 из 5» of one school measured
again beside two municipalities and three schools mixed the two; each level is counted apart («1 муниципалитет из 2,
1 организация из 3»), and only the levels the repeat reached are named.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, or_, select

from app.core import russian as ru
from app.core.db import in_ids
from app.cycles.models import Cycle, Indicator
from app.extensions import db
from app.followup.models import local_day
from app.monitoring.models import DataRequest, IndicatorValue, Submission
from app.monitoring.services import INSTITUTION_KINDS, asked_by_all
from app.orgs.models import Organisation, ancestor_paths

REPEAT_STAGE = "EFF"
# the levels a cycle's audience is counted at, with the noun that counts each
LEVELS = (("municipality", "муниципалитет"), ("institution", "организация"))


def level_of(kind: str) -> str:
    return "municipality" if kind == "municipality" else "institution"


@dataclass(frozen=True)
class Answer:
    """An organisation's accepted value of an indicator: its monitoring value for the cycle's period (`entered`: when
    it was entered) or its latest repeat value."""

    org_id: int
    name: str
    path: str
    kind: str
    entered: datetime | str | None = None


@dataclass
class KeptValue:
    """An upper organisation's monitoring value kept as «после мер» because the repeat measurement covered only some
    of the organisations it stands for (the owner's own value, or a municipality's in a regional cycle)."""

    name: str  # the organisation whose monitoring value stays
    again: list[str]  # the organisations under it measured again
    total: int  # the organisations under it the cycle asks, at the levels measured again
    entered_on: date | None  # the day its monitoring value was entered (the owner's day)
    # (noun, organisations asked at the level, those of them measured again) for each level the repeat reached
    levels: list[tuple[str, int, list[str]]] = field(default_factory=list)

    @property
    def counted(self) -> str:
        """«1 организация из 2 (Школа А)»; in a regional cycle each level apart: «1 муниципалитет из 2 (…),
        2 организации из 5 (…)» — the number and the noun agreeing."""
        return ", ".join(f"{ru.plural(len(names), noun)} из {total} ({', '.join(names)})"
                         for noun, total, names in self.levels)

    @property
    def words(self) -> str:
        """«повторно измерены: 1 организация из 2 (Школа А)», what the page says of the organisations measured
        again."""
        return f"повторно измерены: {self.counted}"

    def source(self, period: str | None = None) -> str:
        """«по данным мониторинга за 2025/2026 (Тестовый муниципалитет)»: whose monitoring value «после мер» is."""
        return f"по данным мониторинга{f' за {period}' if period else ''} ({self.name})"


def settle(current: dict[int, Answer], repeat: dict[int, Answer], audience, zone: str) -> tuple[set[int],
                                                                                                 list[KeptValue]]:
    """(the upper organisations whose monitoring value gives way to the repeat values under them, the kept values
    that stand in the figure) of one indicator: `current` its monitoring values for the cycle's period by
    organisation, `repeat` its repeat values, `audience` the organisations the cycle asks (anything with `path` and
    `kind`: monitoring.services.audience_addressees, or those partial_repeats reads), or a callable giving them
    when needed.

    The repeat measurement is the later value: an organisation above those measured again — the owner's own
    monitoring value, or a municipality's that held its schools' when the repeat asked the schools — no longer
    stands for them when the organisations under it still all have a value: measured again, or their own
    monitoring value. When some have none but the upper one (one school of two measured again, the other never
    answered for itself), the upper value stays: the part's values against a baseline of the whole compare unlike
    with unlike. An organisation is covered by a repeat value or by a monitoring value that does not itself stay for
    a part measured again: the deepest upper organisations are decided first, and one whose value stays covers
    nothing for those above it (a region's own figure gave way to a municipality's kept monitoring value, «после мер»
    the municipalities' monitoring with none of the repeat in it)."""
    repeat_paths = {a.path for a in repeat.values()}
    above = {p for path in repeat_paths for p in ancestor_paths(path)}
    uppers = sorted((a for org_id, a in current.items() if org_id not in repeat and a.path in above),
                    key=lambda a: -a.path.count("/"))
    valued = repeat_paths | {a.path for a in current.values()}
    dropped: set[int] = set()
    standing: dict[str, KeptValue] = {}
    for upper in uppers:
        if callable(audience):
            audience = audience()
        below = [o for o in audience if o.path.startswith(upper.path) and o.path != upper.path]
        missing = [o for o in below if not any(p in valued and p.startswith(upper.path) and p != upper.path
                                               for p in (*ancestor_paths(o.path), o.path))]
        if not missing:
            dropped.add(upper.org_id)
            continue
        valued.discard(upper.path)
        again = [a for a in repeat.values() if a.path.startswith(upper.path)]
        levels = []
        for level, noun in LEVELS:
            names = sorted(a.name for a in again if level_of(a.kind) == level)
            if names:
                levels.append((noun, sum(1 for o in below if level_of(o.kind) == level), names))
        standing[upper.path] = KeptValue(upper.name, sorted(a.name for a in again), sum(n for _w, n, _a in levels),
                                         local_day(upper.entered, zone), levels)
    # the values that stand in the figure: a kept value under another kept one is held in it
    return dropped, [k for path, k in standing.items() if not any(p in standing for p in ancestor_paths(path))]


def partial_repeats(cycles, basis: dict[int, list[int]], zones: dict[int, str]) -> dict[int, dict[int, list]]:
    """{cycle id: {indicator id: kept values}} of the cycles' basis indicators (`basis`: integrity._basis_ids) that a
    repeat measurement covered in part, by settle: two statements whatever the number of cycles — the values of the
    indicators measured again, and, only when some upper value may stay, the organisations the cycles ask below the
    upper ones (with the owners' kinds). The cycles' tracks with their mechanisms are expected loaded."""
    basis_ids = sorted({b for ids in basis.values() for b in ids})
    if not basis_ids:
        return {}
    repeated = (select(IndicatorValue.indicator_id)
                .join(Submission, Submission.id == IndicatorValue.submission_id)
                .join(DataRequest, DataRequest.id == Submission.request_id)
                .where(Submission.state == "accepted", DataRequest.stage_code == REPEAT_STAGE))
    rows = db.session.execute(
        select(Indicator.cycle_id, IndicatorValue.indicator_id, IndicatorValue.organisation_id,
               IndicatorValue.updated_at, Organisation.short_name, Organisation.name, Organisation.path,
               Organisation.kind, DataRequest.stage_code == REPEAT_STAGE)
        .join(Submission, Submission.id == IndicatorValue.submission_id)
        .join(DataRequest, DataRequest.id == Submission.request_id)
        .join(Organisation, Organisation.id == IndicatorValue.organisation_id)
        .join(Indicator, Indicator.id == IndicatorValue.indicator_id)
        .join(Cycle, Cycle.id == Indicator.cycle_id)
        .where(in_ids(Indicator.cycle_id, basis_ids), Submission.state == "accepted",
               IndicatorValue.indicator_id.in_(repeated),
               or_(DataRequest.stage_code == REPEAT_STAGE, IndicatorValue.period == Cycle.period))).all()
    # indicator → organisation → its monitoring value / its latest repeat value (as services.indicator_rows reads)
    current: dict[int, dict[int, Answer]] = defaultdict(dict)
    repeat: dict[int, dict[int, Answer]] = defaultdict(dict)
    of_cycle: dict[int, list[int]] = defaultdict(list)  # basis cycle → its indicators measured again
    for cycle_id, indicator_id, org_id, updated_at, short_name, name, path, kind, is_repeat in rows:
        answer = Answer(org_id, short_name or name, path, kind, updated_at)
        if not is_repeat:
            current[indicator_id][org_id] = answer
            continue
        seen = repeat[indicator_id].get(org_id)
        if seen is None:
            of_cycle[cycle_id].append(indicator_id)
        if seen is None or updated_at > seen.entered:
            repeat[indicator_id][org_id] = answer
    if not repeat:
        return {}
    # the upper organisations that may stay: one query for the organisations below all of them
    uppers = {a.path for ind, by_org in repeat.items() for a in current[ind].values()
              if a.org_id not in by_org and any(a.path in ancestor_paths(r.path) for r in by_org.values())}
    audience: dict[int, list] = {}
    if uppers:
        owner_ids = {c.owner_id for c in cycles}
        found = db.session.scalars(select(Organisation).where(or_(
            in_ids(Organisation.id, sorted(owner_ids)),
            and_(Organisation.kind.in_((*INSTITUTION_KINDS, "municipality")),
                 or_(*(Organisation.path.like(p + "%") for p in sorted(uppers))))))).all()
        owners = {o.id: o for o in found}
        for c in cycles:
            owner = owners[c.owner_id]
            audience[c.id] = [o for o in found if o.path.startswith(owner.path)
                              and asked_by_all(o, owner.kind, c.track.mechanism.audience)]
    out: dict[int, dict[int, list]] = {}
    for c in cycles:
        for b in basis.get(c.id, ()):
            for indicator_id in dict.fromkeys(of_cycle.get(b, ())):
                _dropped, kept = settle(current[indicator_id], repeat[indicator_id], audience.get(c.id, []),
                                        zones[c.id])
                if kept:
                    out.setdefault(c.id, {})[indicator_id] = kept
    return out

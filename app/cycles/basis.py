"""The indicators a cycle's measures are evaluated against (its «basis»).

A full cycle sets its own indicators (block IND). A partial cycle (a track with `blocks`, e.g. M2.4 «Развитие
механизмов управления качеством ДО»: MEAS → DEC → EFF) has none of its own: it belongs to the full cycles of the
same mechanism, owner organisation and period, and its measures name, and its effectiveness analysis evaluates,
the indicators of those full cycles (domain.md §4: the effect of a measure is read on the mechanism's indicators,
so a partial cycle does not invent a second set of targets). Everything that reads «the cycle's indicators» for
measures, effectiveness and their documents asks this module, so the guards, the integrity panel and the
documents agree on one rule.
"""

from __future__ import annotations

from sqlalchemy import select

from app.catalogue.models import Track
from app.cycles.models import Cycle, Indicator
from app.extensions import db


def is_partial_without_indicators(cycle: Cycle) -> bool:
    return not cycle.track.own_indicators


def basis_cycles(cycle: Cycle) -> list[Cycle]:
    """The cycles whose indicators this cycle's measures are evaluated against: the cycle itself when it has the
    block «Показатели»; otherwise the full cycles (those with own indicators) of the same mechanism, owner and
    period, in the catalogue's track order (one query)."""
    if cycle.track.own_indicators:
        return [cycle]
    candidates = db.session.scalars(
        select(Cycle).join(Track, Track.id == Cycle.track_id)
        .where(Track.mechanism_id == cycle.track.mechanism_id, Cycle.owner_id == cycle.owner_id,
               Cycle.period == cycle.period, Cycle.id != cycle.id)
        .order_by(Track.position, Cycle.id)).all()
    return [c for c in candidates if c.track.own_indicators]


def basis_cycle_ids(cycle: Cycle) -> list[int]:
    return [c.id for c in basis_cycles(cycle)]


def basis_indicators(cycle: Cycle) -> list[Indicator]:
    """The indicators the cycle's measures may name and its effectiveness analysis evaluates, ordered by the full
    cycle they come from and by code."""
    if cycle.track.own_indicators:
        return sorted(cycle.indicators, key=lambda i: i.code)
    basis = basis_cycles(cycle)
    if not basis:
        return []
    order = {c.id: n for n, c in enumerate(basis)}
    rows = db.session.scalars(select(Indicator).where(Indicator.cycle_id.in_(order))).all()
    return sorted(rows, key=lambda i: (order[i.cycle_id], i.code))


def basis_condition(cycle: Cycle, column):
    """SQL condition on an `Indicator.cycle_id`-like column: the row belongs to one of the basis cycles."""
    return column.in_(basis_cycle_ids(cycle))


def basis_problems(cycle: Cycle) -> list[str]:
    """Why a partial cycle cannot evaluate its measures yet (Russian, empty when it can): no full cycle of the
    mechanism for the same organisation and period, or no indicators in it."""
    if cycle.track.own_indicators:
        return []
    mechanism = cycle.track.mechanism
    basis = basis_cycles(cycle)
    if not basis:
        return [f"Неполный цикл направления «{cycle.track.title}» оценивает меры по показателям полного цикла "
                f"механизма {mechanism.code} той же организации за тот же период, но такого цикла нет: откройте "
                f"полный цикл механизма {mechanism.code} для «{cycle.owner.display_name}» на {cycle.period} и "
                "задайте в нём показатели."]
    if not basis_indicators(cycle):
        names = ", ".join(f"«{c.track.title}»" for c in basis)
        return [f"В полном цикле механизма {mechanism.code} за {cycle.period} ({names}) не задано ни одного "
                "показателя: неполный цикл оценивает меры по его показателям."]
    return []


def indicator_label(indicator: Indicator, cycle: Cycle) -> str:
    """«code name», with the full cycle's track named when the indicator is borrowed from it."""
    label = f"{indicator.code} {indicator.name}"
    if indicator.cycle_id != cycle.id:
        label += f" (цикл «{indicator.cycle.track.title}»)"
    return label

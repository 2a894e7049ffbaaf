"""How the lower values of an invariant indicator roll up (README, «The vertical»).

Each organisation that answered contributes (value, weight) to the level above:
- sum: (value, 1), and the level's value is the sum;
- mean_weighted: (value, students), and the level's value is the mean weighted by students (the plain mean
  when no contributor knows its number of students);
- share_meeting: (100 if the value meets the target else 0, 1), and the level's value is the share of
  organisations that met the target, in per cent. A value that is itself such a share, computed below with its
  counts kept (k of n organisations met the target), contributes (100·k/n, n): the level's value is then the share
  of all the organisations counted, not a share of shares.
A municipality's own answer contributes once, weighted by the students of its institutions (a mean it computed
from its schools: by the students of those counted, IndicatorValue.students_counted); a municipality that
answered from its schools passes its schools' contributions up (pooled), so the region's value is the same
whichever way the municipality answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Part:
    value: Decimal
    weight: Decimal


def meets(value, target, direction: str) -> bool:
    if value is None or target is None:
        return False
    target = Decimal(str(target))
    return value >= target if direction == "up" else value <= target


def part(value: Decimal, *, aggregation: str, students: int | None, target, direction: str,
         counts: tuple[int, int] | None = None) -> Part:
    """One organisation's contribution to the level above; `counts`: (met, counted) when its value is a share of
    organisations meeting the target computed from those below it (IndicatorValue.organisations_met)."""
    if aggregation == "share_meeting":
        if counts is not None and counts[1]:
            met, counted = counts
            return Part(Decimal(100) * met / counted, Decimal(counted))
        return Part(Decimal(100) if meets(value, target, direction) else Decimal(0), Decimal(1))
    if aggregation == "mean_weighted":
        return Part(value, Decimal(students or 0))
    return Part(value, Decimal(1))


def combine(parts: list[Part], aggregation: str) -> Decimal | None:
    """The level's value from its contributions; None when nobody answered."""
    if not parts:
        return None
    if aggregation == "sum":
        return sum((p.value for p in parts), Decimal(0)).quantize(PLACES)
    total = sum((p.weight for p in parts), Decimal(0))
    if total == 0:
        return (sum((p.value for p in parts), Decimal(0)) / len(parts)).quantize(PLACES)
    return (sum((p.value * p.weight for p in parts), Decimal(0)) / total).quantize(PLACES)


def organisations(parts: list[Part]) -> tuple[int, int]:
    """(met the target, counted) behind a share of organisations meeting the target combined from `parts`."""
    counted = sum((p.weight for p in parts), Decimal(0))
    met = sum((p.value * p.weight for p in parts), Decimal(0)) / 100
    return int(met.to_integral_value()), int(counted)

"""Issue 13 (screens): honest dashboard numbers, form limits that match the database, the navigation."""

import pytest

from app.analysis.dashboard import attainment_shown, goal_attainment


@pytest.mark.parametrize(("current", "baseline", "target", "direction", "expected"), [
    (58, 50, 60, "up", (80.0, False)),             # 8 of the 10 points to go
    (45, 50, 60, "up", (-50.0, False)),            # went the wrong way
    (64, 50, 60, "up", (140.0, True)),             # beyond the target (shown capped, true value kept)
    (4, 10, 2, "down", (75.0, False)),             # lower is better: 6 of the 8 points
    (1.0, 10, 2, "down", (112.5, True)),
    (12, 10, 2, "down", (-25.0, False)),
    (12.7, 10, 9.8, "up", (129.6, True)),          # a target below the baseline: no "−1350 %"
    (9.5, 10, 10, "up", (95.0, False)),            # baseline equal to target: kept level against target
    (10, 10, 10, "up", (100.0, True)),
    (3, 2, 2, "down", (66.7, False)),
    (0, 2, 2, "down", (100.0, True)),
    (None, 10, 12, "up", (None, None)),
    (5, 10, None, "up", (None, None)),
    (5, None, 4, "up", (125.0, True)),             # no baseline: against the target
])
def test_goal_attainment_reads_the_direction(current, baseline, target, direction, expected):
    assert goal_attainment(current, baseline, target, direction) == expected


def test_attainment_is_shown_capped():
    assert [attainment_shown(v) for v in (None, -1350.0, 0.0, 55.5, 100.0, 960.0)] == [None, 0.0, 0.0, 55.5, 100.0,
                                                                                        100.0]

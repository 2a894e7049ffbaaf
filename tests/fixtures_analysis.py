"""Shared pytest fixtures of the analysis feature (loaded through pytest_plugins in conftest)."""

import pytest

from tests.snapshots import cycle_state_fixtures

MORE_SCHOOLS = 10  # beside school A and B: enough units for the statistics to mean something


def drive_to_anl(cycle, world):
    """Fill, submit and approve GOAL … MON of a municipal cycle, leaving the ANL stage a draft."""
    from app.demo import fill_stage
    from tests.conftest import fill_goal, fill_indicators, fill_method
    from workflows import engine

    official, head = world["official"], world["head"]
    fill_goal(cycle, official)
    for code in ("GOAL", "IND", "METH", "MON"):
        stage = cycle.stage(code)
        if code == "IND":
            fill_indicators(cycle, official)
            fill_method(cycle, official)
        elif code == "MON":
            fill_stage(stage, official=official, head=head)
        if stage.state == "draft":
            engine.fire(stage, "submit", actor=official)
            engine.fire(stage, "approve", actor=head)
    assert cycle.stage("ANL").state == "draft", [(s.code, s.state) for s in cycle.stages]
    return cycle.stage("ANL")


@pytest.fixture
def more_schools(world, make_org, db_session):
    """Ten more schools in the municipality, with varied context."""
    made = []
    for n in range(MORE_SCHOOLS):
        made.append(make_org("school", parent=world["mun"], code=f"SCH-X{n:02d}", name=f"Школа Икс {n:02d}",
                             students=150 + 60 * n, settlement=("city", "town", "village")[n % 3],
                             remote=n % 4 == 0, low_income_share=5 + 3 * n, non_native_share=n % 5,
                             ovz_share=2 + n % 3))
    db_session.commit()
    return made


_anl_cycle_snapshot, _anl_cycle_state = cycle_state_fixtures("anl_cycle", drive_to_anl)


@pytest.fixture
def anl_cycle(_anl_cycle_snapshot, _anl_cycle_state, world):
    """A municipal M1.1 cycle (2025/26) with its ANL stage open (draft). Built once per session and copied into
    the test's transaction (tests/snapshots.py); the test's `world` is the one it was built in."""
    return _anl_cycle_state["cycle"]


@pytest.fixture
def seeded_results(world, more_schools, db_session):
    """Synthetic results (2024–2026) for the municipality's twelve schools, with planted anomalies."""
    from app.analysis.demo import seed_results

    rows = seed_results(world["mun"], year=2026, seed=7)
    db_session.commit()
    assert rows > 0
    return rows

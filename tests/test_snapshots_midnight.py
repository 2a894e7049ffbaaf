"""A test session that crosses the region's midnight builds its shared states again for the new day.

A shared state's dates are relative to the day it was built («a request due today»); a test that runs after
midnight and is handed yesterday's rows sees that request overdue (six failures on 6 December 2026)."""

from datetime import date, timedelta
from itertools import count

from tests import snapshots
from tests.conftest import org_factory


def _counting_build():
    builds = count(1)

    def build():
        return org_factory("region", code="MIDNIGHT", name=f"Сборка {next(builds)}")

    return build


def test_a_state_built_yesterday_is_built_again_and_the_next_test_gets_the_new_rows(app, monkeypatch):
    monkeypatch.setattr(snapshots, "_STATES", {})
    held = snapshots.prepare(app, "midnight", _counting_build())  # what a session fixture keeps
    assert held.built_on == date.today()

    assert snapshots.refresh_after_midnight(today=date.today()) == []  # the same day: nothing is built again
    tomorrow = date.today() + timedelta(days=1)
    assert snapshots.refresh_after_midnight(today=tomorrow) == ["midnight"]
    assert held.built_on == tomorrow
    assert snapshots.refresh_after_midnight(today=tomorrow) == []  # once a day, not before every test

    with snapshots.rolled_back_session(app) as session:
        org = snapshots.restore(session, held)
        assert org.name == "Сборка 2"  # the fixture's own Snapshot object now holds the new day's rows

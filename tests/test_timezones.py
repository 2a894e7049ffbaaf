"""Times are stored in UTC and shown in the time zone of the user's organisation (or its ancestors')."""

from datetime import datetime, timezone

from app.core.timeutil import format_datetime


def test_history_shows_times_in_the_organisations_time_zone(world, make_cycle, client, login, db_session):
    world["mun"].timezone = "Asia/Vladivostok"  # UTC+10, inherited by the municipality's users
    db_session.commit()
    cycle = make_cycle(world["mun"], world["official"])
    db_session.commit()
    created = cycle.created_at
    login(world["official"])
    page = client.get(f"/cycles/{cycle.id}/history").get_data(as_text=True)
    assert format_datetime(created, "Asia/Vladivostok") in page
    # A user of the region (no time zone of its own) sees the application default.
    client.post("/logout")
    login(world["auditor"])
    page = client.get(f"/cycles/{cycle.id}/history").get_data(as_text=True)
    assert format_datetime(created, "Europe/Moscow") in page


def test_format_datetime_converts_from_utc():
    moment = datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)
    assert format_datetime(moment, "Europe/Moscow") == "02.03.2026 02:30"
    assert format_datetime(moment, "Asia/Vladivostok") == "02.03.2026 09:30"

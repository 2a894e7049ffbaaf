"""Issue 17 item 3: a session ends after SESSION_IDLE_MINUTES without a request and SESSION_MAX_HOURS after
the log-in, checked on the server; a password change ends the other sessions. The clock is moved, nobody
sleeps."""

from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import PASSWORD


class Clock:
    def __init__(self):
        self.now = datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("app.auth.sessions.utcnow", clock)
    return clock


def sign_in(app, user):
    client = app.test_client()
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 302
    return client


def signed_in(client) -> bool:
    response = client.get("/password")
    return response.status_code == 200


def test_defaults_are_thirty_minutes_and_twelve_hours():
    from config import Config

    assert Config.SESSION_IDLE_MINUTES == 30 and Config.SESSION_MAX_HOURS == 12
    assert Config.PERMANENT_SESSION_LIFETIME == 12 * 3600


def test_an_idle_session_ends_after_the_idle_timeout(app, world, db_session, clock):
    client = sign_in(app, world["head"])
    idle = app.config["SESSION_IDLE_MINUTES"]
    clock.advance(minutes=idle - 1)
    assert signed_in(client)  # used just in time: the idle clock starts again
    clock.advance(minutes=idle - 1)
    assert signed_in(client)
    clock.advance(minutes=idle + 1)
    response = client.get("/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Сеанс завершён из-за отсутствия активности" in page
    assert not signed_in(client)  # does not come back when the clock is looked at again


def test_an_active_session_ends_at_the_absolute_lifetime(app, world, db_session, clock):
    client = sign_in(app, world["head"])
    hours = app.config["SESSION_MAX_HOURS"]
    for _ in range(hours * 3):  # a request every 20 minutes, never idle, up to the full lifetime
        clock.advance(minutes=20)
        assert signed_in(client)
    clock.advance(minutes=1)
    response = client.get("/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "истёк максимальный срок сеанса" in client.get(response.headers["Location"]).get_data(as_text=True)
    # Logging in again starts a new lifetime.
    assert sign_in_again(client, world["head"])
    assert signed_in(client)


def sign_in_again(client, user) -> bool:
    return client.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 302


def test_limits_come_from_the_settings(app, world, db_session, clock, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    client = sign_in(app, world["head"])
    clock.advance(minutes=6)
    assert not signed_in(client)
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 600)
    monkeypatch.setitem(app.config, "SESSION_MAX_HOURS", 1)
    client = sign_in(app, world["head"])
    clock.advance(minutes=59)
    assert signed_in(client)
    clock.advance(minutes=2)
    assert not signed_in(client)


def test_a_replayed_cookie_expires_like_the_session(app, world, db_session, clock):
    """A cookie captured at log-in and replayed later is refused: the limits are in the signed cookie."""
    client = sign_in(app, world["head"])
    cookie = client.get_cookie("session").value
    assert signed_in(client)
    clock.advance(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert not signed_in(thief)


def test_a_session_without_issue_time_is_refused(app, world, db_session, clock):
    """Sessions issued before the check (or stripped of their times) must log in again."""
    from app.auth import sessions

    client = sign_in(app, world["head"])
    with client.session_transaction() as session:
        session.pop(sessions.ISSUED_KEY)
    assert not signed_in(client)


def test_a_password_change_ends_the_other_sessions(app, world, db_session, clock):
    other = sign_in(app, world["head"])
    this = sign_in(app, world["head"])
    new = "brand-new-password-77"
    response = this.post("/password", data={"current": PASSWORD, "new": new, "repeat": new})
    assert response.status_code == 302
    assert signed_in(this) and not signed_in(other)

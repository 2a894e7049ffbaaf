"""Issue 17 item 11: an unknown login takes as long as a wrong password for an existing one (a dummy hash is
verified), so accounts cannot be enumerated by timing. Measured with the production hashing parameters, as
a ratio of medians in one run."""

import statistics
import time

import pytest


@pytest.fixture
def production_hashing(app, monkeypatch):
    monkeypatch.setitem(app.config, "ARGON2_FAST", False)
    # Throttling answers early for both kinds alike; keep it out of the measurement.
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ACCOUNT", 1000)
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 1000)


def _timed_login(client, login):
    started = time.perf_counter()
    response = client.post("/login", data={"login": login, "password": "wrong-password-123"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 401
    return elapsed


def test_unknown_login_takes_as_long_as_a_wrong_password(app, world, db_session, production_hashing):
    from app.auth import services
    from app.auth.models import User

    # The existing user's hash must carry the production parameters too (the suite hashes fast).
    head = db_session.get(User, world["head"].id)
    head.password_hash = services.hash_password("correct-horse-42")
    db_session.commit()
    client = app.test_client()
    _timed_login(client, "nobody-here")  # warm-up: the dummy hash is made once per process
    _timed_login(client, head.login)
    known, unknown = [], []
    for _ in range(7):  # interleaved, so a burst of load on the machine hits both alike
        known.append(_timed_login(client, head.login))
        unknown.append(_timed_login(client, "nobody-here"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 <= ratio <= 2.0, (ratio, known, unknown)


def test_a_disabled_account_is_verified_too(app, world, db_session, production_hashing):
    """A disabled account answers like any other wrong password, after the same verification."""
    from app.auth import services
    from app.auth.models import User

    head = db_session.get(User, world["head"].id)
    head.password_hash = services.hash_password("correct-horse-42")
    official = db_session.get(User, world["official"].id)
    official.password_hash = services.hash_password("correct-horse-42")
    official.active = False
    db_session.commit()
    client = app.test_client()
    _timed_login(client, official.login)
    known, disabled = [], []
    for _ in range(5):
        known.append(_timed_login(client, head.login))
        disabled.append(_timed_login(client, official.login))
    ratio = statistics.median(disabled) / statistics.median(known)
    assert 0.5 <= ratio <= 2.0, (ratio, known, disabled)

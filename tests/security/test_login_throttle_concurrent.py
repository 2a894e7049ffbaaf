"""The per-account log-in limit under guesses sent at the same moment (PostgreSQL, real commits). Counting the failures
and recording the attempt were two steps, so guesses in flight together (one per web worker) each counted the failures
before any was recorded: the attack on the running server (gunicorn, two workers) got six wrong passwords checked
against a limit of five, and more workers give more. Attempts at one account now wait for each other."""

import threading

import pytest
from sqlalchemy import func, select

from tests import services

pytestmark = pytest.mark.postgresql_only
DB_NAME = "uko_test_login_throttle"
PASSWORD = "tram-lilac-9031"
THREADS = 8


live_app = services.live_postgres_app(DB_NAME)


def test_guesses_at_once_stop_at_the_account_limit(live_app, monkeypatch):
    from app.auth import services as auth
    from app.auth.models import LoginAttempt
    from app.core.errors import DomainError
    from app.extensions import db

    services.region_with_user(live_app, code="RTHR", login="guessed", role="official", password=PASSWORD)
    limit = live_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    assert THREADS > limit

    # Without the lock every guess passes the count before any records its failure.
    monkeypatch.setattr(auth, "_verify", services.after_the_others(threading.Barrier(THREADS), auth._verify))
    outcomes = []

    def guess(n):
        with live_app.app_context():
            try:
                # One address: the account's limit counts per address (attack 13).
                auth.authenticate("guessed", f"wrong guess {n}", address="192.0.2.1")
            except DomainError as exc:
                outcomes.append(type(exc).__name__)
            finally:
                db.session.commit()  # as the log-in view: the refused attempt is kept
                db.session.remove()

    services.at_once(guess, [(n,) for n in range(THREADS)])
    assert len(outcomes) == THREADS
    assert outcomes.count("LoginThrottled") == THREADS - limit
    with live_app.app_context():
        checked = db.session.scalar(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.login == "guessed", LoginAttempt.succeeded.is_(False)))
        db.session.remove()
    assert checked == limit

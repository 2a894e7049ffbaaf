"""«At most 20 active tokens per user» held one request at a time only: the count and the new row were two steps,
so tokens issued at the same moment (a script, two tabs) each counted 19 and each added one — the attack on the
running server got 21 (PostgreSQL, real commits). Issuing locks the owner's row first, so the second waits for the
first and then counts it."""

import threading

import pytest
from sqlalchemy import func, select

from tests import services

pytestmark = pytest.mark.postgresql_only
DB_NAME = "uko_test_token_limit"
PASSWORD = "tram-lilac-9031"
THREADS = 5


live_app = services.live_postgres_app(DB_NAME)


def test_tokens_issued_at_once_stop_at_the_limit(live_app, monkeypatch):
    from app.api import services as api
    from app.api.models import ApiToken
    from app.audit import chain
    from app.extensions import db

    def tokens_but_one(_region, user):
        for n in range(api.MAX_ACTIVE_TOKENS - 1):
            api.issue_token(user, name=f"t{n}", actor=user)

    _region_id, user_id = services.region_with_user(live_app, code="RTOK", login="tokens", role="official",
                                                    password=PASSWORD, then=tokens_but_one)

    # Every request that passed the count waits here for the others (or 2 s, when the others wait for its lock):
    # without the lock all of them pass the count before any adds its token.
    monkeypatch.setattr(chain, "record", services.after_the_others(
        threading.Barrier(THREADS), chain.record, when=lambda *a, **kw: kw.get("action") == "issue_api_token"))
    outcomes = []

    def issue(n):
        def action():
            owner = db.session.get(api.User, user_id)
            api.issue_token(owner, name=f"at once {n}", actor=owner)
        services.as_one_request(live_app, outcomes, "issued", action)

    services.at_once(issue, [(n,) for n in range(THREADS)])
    assert outcomes.count("issued") == 1
    assert all("действующих токенов" in o for o in outcomes if o != "issued")
    with live_app.app_context():
        active = db.session.scalar(select(func.count()).select_from(ApiToken).where(
            ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)))
        db.session.remove()
    assert active == api.MAX_ACTIVE_TOKENS

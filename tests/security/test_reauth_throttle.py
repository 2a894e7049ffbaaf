"""Issue 17 item 2: a re-entered password (password change, signing, «Ознакомлен») is throttled like the
log-in, per account and per address; each failure is audited; past the limit the action is refused with
429 even with the right password, until the window has passed."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
from tests.conftest import PASSWORD
from tests.test_documents import generate

NEW_PASSWORD = "brand-new-password-77"


@pytest.fixture
def limits(app, monkeypatch):
    def set_limits(**values):
        for key, value in values.items():
            monkeypatch.setitem(app.config, key, value)
    return set_limits


def signed_in(app, user, addr="10.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def audit_count(db_session, action, user=None) -> int:
    from app.audit.models import AuditEvent

    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    if user is not None:
        query = query.where(AuditEvent.actor_id == user.id)
    return db_session.scalar(query)


def move_attempts_out_of_window(app, db_session, login):
    from app.auth.models import LoginAttempt
    from app.core.timeutil import utcnow

    moved_to = utcnow() - timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"] + 5)
    db_session.execute(update(LoginAttempt).where(LoginAttempt.login == login).values(created_at=moved_to))
    db_session.commit()


def change(client, current):
    return client.post("/password", data={"current": current, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD})


# --- /password ----------------------------------------------------------------------------------

def test_password_change_is_locked_after_the_limit_and_every_failure_is_audited(app, world, db_session):
    from app.auth import services

    head = world["head"]
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    client = signed_in(app, head)
    for _ in range(limit):
        response = change(client, "wrong-current-pw")
        assert response.status_code == 422
        assert "Текущий пароль указан неверно." in response.get_data(as_text=True)
    assert audit_count(db_session, "reauth_failed", head) == limit
    # The right password is refused now: the account is locked for the window.
    response = change(client, PASSWORD)
    assert response.status_code == 429
    text = response.get_data(as_text=True)
    assert "Слишком много неверных вводов пароля" in text and "Повторите через" in text
    assert audit_count(db_session, "reauth_throttled", head) == 1
    db_session.expire_all()
    assert services.check_password(head, PASSWORD) and not services.check_password(head, NEW_PASSWORD)
    # Once the failures have left the window, the owner can change the password.
    move_attempts_out_of_window(app, db_session, head.login)
    assert change(client, PASSWORD).status_code == 302
    db_session.expire_all()
    assert services.check_password(head, NEW_PASSWORD)


def test_reentry_failures_lock_the_reentry_not_the_log_in(app, world, db_session):
    """Wrong passwords typed at a re-entry (a signature, a password change) locked the signer out of the system:
    they have their own count now, and the log-in page counts only its own failures."""
    head = world["head"]
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    client = signed_in(app, head)
    for _ in range(limit):
        change(client, "wrong-current-pw")
    assert change(client, PASSWORD).status_code == 429
    response = app.test_client().post("/login", data={"login": head.login, "password": PASSWORD})
    assert response.status_code == 302


def test_an_account_locked_at_the_log_in_gives_no_guesses_at_a_reentry(app, world, db_session):
    """A stolen session gets no guesses from an address the log-in page refuses for the account (the log-in
    refuses an account per address: attack 13)."""
    head = world["head"]
    client = signed_in(app, head)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        app.test_client().post("/login", data={"login": head.login, "password": "wrong-password"},
                               environ_overrides={"REMOTE_ADDR": "10.0.0.1"})
    assert change(client, PASSWORD).status_code == 429


def test_reentry_is_throttled_per_address_across_accounts(app, world, db_session, limits):
    limits(LOGIN_MAX_FAILURES_PER_ADDRESS=3, LOGIN_MAX_FAILURES_PER_ACCOUNT=100)
    head = signed_in(app, world["head"], addr="10.9.9.9")
    official = signed_in(app, world["official"], addr="10.9.9.9")
    other_place = signed_in(app, world["methodologist"], addr="10.1.1.1")
    for client in (head, official, head):
        assert change(client, "wrong-current-pw").status_code == 422
    assert change(official, PASSWORD).status_code == 429
    assert change(other_place, PASSWORD).status_code == 302


# --- document signing and «Ознакомлен» ----------------------------------------------------------

def _awaiting_signature(world, goal_stage, db_session):
    from app.documents import services

    doc = generate(goal_stage, "regulation", world["official"], db_session)
    services.transition(doc, "to_approval", actor=world["official"])
    services.decide_step(doc, "approved", actor=world["methodologist"])
    db_session.commit()
    return doc


def test_signing_is_locked_for_the_window_after_the_limit(app, world, goal_stage, db_session, fake_generation):
    from app.documents.models import Signature

    doc = _awaiting_signature(world, goal_stage, db_session)
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    client = signed_in(app, world["head"])
    for _ in range(limit):
        response = client.post(f"/documents/{doc.id}/sign", data={"password": "wrong-password",
                                                                    "version": doc.version})
        assert response.status_code == 403
    assert audit_count(db_session, "sign_refused", world["head"]) == limit
    response = client.post(f"/documents/{doc.id}/sign", data={"password": PASSWORD, "version": doc.version})
    assert response.status_code == 429
    assert "Подпись заблокирована" in response.get_data(as_text=True)
    assert audit_count(db_session, "sign_refused", world["head"]) == limit + 1
    db_session.expire_all()
    assert doc.state == "awaiting_signature"
    assert db_session.scalar(select(func.count()).select_from(Signature)) == 0
    # The signature is locked, not the signer's log-in.
    login = app.test_client().post("/login", data={"login": world["head"].login, "password": PASSWORD})
    assert login.status_code == 302
    move_attempts_out_of_window(app, db_session, world["head"].login)
    response = client.post(f"/documents/{doc.id}/sign", data={"password": PASSWORD, "version": doc.version})
    assert response.status_code == 302
    db_session.expire_all()
    assert doc.state == "signed"


def test_document_acknowledgement_is_throttled(app, world, goal_stage, db_session, fake_generation):
    from app.documents import services

    doc = _awaiting_signature(world, goal_stage, db_session)
    services.sign_document(doc, actor=world["head"], password=PASSWORD)
    db_session.commit()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    client = signed_in(app, world["official"])
    url = f"/documents/versions/{doc.current.id}/acknowledge"
    for _ in range(limit):
        assert client.post(url, data={"password": "nope-nope-nope"}).status_code == 403
    assert audit_count(db_session, "acknowledge_refused", world["official"]) == limit
    response = client.post(url, data={"password": PASSWORD})
    assert response.status_code == 429
    assert "Ознакомление заблокировано" in response.get_data(as_text=True)
    db_session.expire_all()
    assert not any(s.meaning == "ознакомлен" for s in doc.current.signatures)


def test_recommendation_acknowledgement_is_throttled(app, world, rec_cycle, make_recommendation, db_session):
    from tests.test_followup import item_of

    rec = make_recommendation(rec_cycle, issue=True)
    item = item_of(rec, world["school_a"])
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    client = signed_in(app, world["director_a"])
    url = f"/followup/items/{item.id}/acknowledge"
    for _ in range(limit):
        response = client.post(url, data={"password": "nope-nope-nope", "version": item.version})
        assert response.status_code == 422 and "Неверный пароль" in response.get_data(as_text=True)
    assert audit_count(db_session, "reauth_failed", world["director_a"]) == limit
    response = client.post(url, data={"password": PASSWORD, "version": item.version})
    assert response.status_code == 429
    assert "Слишком много неверных вводов пароля" in response.get_data(as_text=True)
    db_session.expire_all()
    assert item.state == "issued"
    move_attempts_out_of_window(app, db_session, world["director_a"].login)
    assert client.post(url, data={"password": PASSWORD, "version": item.version}).status_code == 302
    db_session.expire_all()
    assert item.state == "acknowledged"

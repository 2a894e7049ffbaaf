"""Personal API tokens: issued once on /tokens (only the hash kept), revoked there, scoped to their owner;
/api/v1 authenticates only with `Authorization: Bearer`, never with the session cookie."""

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.test_access import changed_tables, db_state

SECRET_RE = re.compile(r"uko_[A-Za-z0-9_-]{43}")
NEED_LOGIN = "Требуется вход в систему."


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def token_for(db_session):
    """Issue a token for `user` the way the page does, committed; returns the secret."""
    from app.api.services import issue_token

    def make(user, name="Интеграция с АИС"):
        issued = issue_token(user, name=name, actor=user)
        db_session.commit()
        return issued.secret
    return make


def tokens_of(db_session, user):
    from app.api.models import ApiToken

    db_session.expire_all()
    return db_session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all()


def audit_events(db_session, action):
    from app.audit.models import AuditEvent

    return db_session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def assert_refused(response, problem_part: str):
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    data = response.get_json()
    assert data["error"] == NEED_LOGIN
    assert any(problem_part in p for p in data["problems"]), data


# --- issuing on the page -----------------------------------------------------------------------

def test_issued_token_is_shown_once_and_only_its_hash_is_stored(world, client, login, db_session):
    director = world["director_a"]
    login(director)
    response = client.post("/tokens/new", data={"name": "Выгрузка из АИС «Сетевой город»"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    secrets_shown = SECRET_RE.findall(page)
    assert len(set(secrets_shown)) == 1
    secret = secrets_shown[0]
    assert "больше он показан не будет" in page

    (token,) = tokens_of(db_session, director)
    assert token.name == "Выгрузка из АИС «Сетевой город»"
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:12] and token.revoked_at is None
    # The secret itself is nowhere in the database: not in the token row, not in the audit log.
    state = db_state(db_session)
    assert not [name for name, rows in state.items() if secret in repr(rows)]
    (event,) = audit_events(db_session, "issue_api_token")
    assert event.actor_id == director.id and event.object_id == token.id
    assert event.organisation_id == world["school_a"].id

    # The list page afterwards shows the prefix, never the secret again.
    listing = client.get("/tokens/").get_data(as_text=True)
    assert token.prefix in listing and secret not in listing
    # And the secret works, as its owner.
    api = client.application.test_client()
    data = api.get("/api/v1/organisations", headers=bearer(secret)).get_json()
    assert [o["code"] for o in data["items"]] == ["SCH-A"]


@pytest.mark.parametrize("name, message", [
    ("", "Обязательное поле."),
    ("   ", "Обязательное поле."),
    ("я" * 201, "Не более 200 символов."),
])
def test_token_name_is_required_and_bounded(world, client, login, db_session, name, message):
    login(world["director_a"])
    before = db_state(db_session)
    response = client.post("/tokens/new", data={"name": name})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and not SECRET_RE.search(page)
    assert changed_tables(before, db_state(db_session)) == []


def test_active_tokens_per_user_are_limited(world, client, login, db_session, token_for, monkeypatch):
    from app.api import services

    monkeypatch.setattr(services, "MAX_ACTIVE_TOKENS", 2)
    director = world["director_a"]
    token_for(director, "первый")
    second = token_for(director, "второй")
    login(director)
    before = db_state(db_session)
    response = client.post("/tokens/new", data={"name": "третий"})
    assert response.status_code == 422
    assert "У вас уже 2 действующих токенов" in response.get_data(as_text=True)
    assert changed_tables(before, db_state(db_session)) == []
    # Revoking one makes room again.
    client.post(f"/tokens/{tokens_of(db_session, director)[1].id}/revoke")
    assert client.get("/api/v1/organisations", headers=bearer(second)).status_code == 401
    assert client.post("/tokens/new", data={"name": "третий"}).status_code == 201


def test_token_pages_are_csrf_protected(world, client, login, db_session, app):
    login(world["director_a"])
    before = db_state(db_session)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/tokens/new", data={"name": "без защитного токена"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert "нет защитного токена" in response.get_data(as_text=True)
    assert changed_tables(before, db_state(db_session)) == []


# --- revoking ----------------------------------------------------------------------------------

def test_revoked_token_gets_401_and_revoking_twice_changes_nothing(world, client, login, db_session, token_for):
    director = world["director_a"]
    secret = token_for(director)
    assert client.get("/api/v1/cycles", headers=bearer(secret)).status_code == 200
    (token,) = tokens_of(db_session, director)

    login(director)
    response = client.post(f"/tokens/{token.id}/revoke", follow_redirects=True)
    assert response.status_code == 200
    assert f"Токен «{token.name}» отозван." in response.get_data(as_text=True)
    (token,) = tokens_of(db_session, director)
    assert token.revoked_at is not None
    (event,) = audit_events(db_session, "revoke_api_token")
    assert event.object_id == token.id and event.actor_id == director.id

    assert_refused(client.get("/api/v1/cycles", headers=bearer(secret)), "отозван")

    before = db_state(db_session)
    again = client.post(f"/tokens/{token.id}/revoke", follow_redirects=True)
    assert "уже был отозван" in again.get_data(as_text=True)
    assert changed_tables(before, db_state(db_session)) == []


def test_users_see_and_revoke_only_their_own_tokens(world, client, login, db_session, token_for):
    secret_a = token_for(world["director_a"], "токен школы А")
    (token_a,) = tokens_of(db_session, world["director_a"])
    for intruder in ("director_b", "admin"):  # not even an administrator of the region
        login(world[intruder])
        page = client.get("/tokens/")
        assert page.status_code == 200
        assert "токен школы А" not in page.get_data(as_text=True) and token_a.prefix not in page.get_data(as_text=True)
        before = db_state(db_session)
        assert client.post(f"/tokens/{token_a.id}/revoke").status_code == 404
        assert changed_tables(before, db_state(db_session)) == []
        client.post("/logout")
    assert client.get("/api/v1/organisations", headers=bearer(secret_a)).status_code == 200


def test_token_pages_need_a_session(world, client, token_for):
    secret = token_for(world["director_a"])
    # A bearer token opens the API only, never the pages (where CSRF protection relies on the cookie).
    response = client.get("/tokens/", headers=bearer(secret))
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.post("/tokens/new", data={"name": "x"}, headers=bearer(secret)).status_code == 401


# --- authenticating API requests ---------------------------------------------------------------

def test_disabled_owner_gets_401_until_enabled_again(world, client, db_session, token_for):
    from app.auth.services import set_active

    director = world["director_a"]
    secret = token_for(director)
    set_active(director, False, actor=world["admin"])
    db_session.commit()
    assert_refused(client.get("/api/v1/organisations", headers=bearer(secret)), "владелец отключён")
    set_active(director, True, actor=world["admin"])
    db_session.commit()
    assert client.get("/api/v1/organisations", headers=bearer(secret)).status_code == 200


def test_session_cookie_without_token_is_401_on_the_api(world, client, login, token_for):
    login(world["official"])
    assert client.get("/orgs/").status_code == 200  # the session is real
    for method, path in (("GET", "/api/v1/organisations"), ("GET", "/api/v1/cycles"),
                         ("POST", "/api/v1/indicator-values"), ("POST", "/api/v1/imports/results")):
        assert_refused(client.open(path, method=method), "Authorization: Bearer")
    # With a token the same client gets in, as the token's owner (not as the session's user).
    secret = token_for(world["director_a"])
    data = client.get("/api/v1/organisations", headers=bearer(secret)).get_json()
    assert [o["code"] for o in data["items"]] == ["SCH-A"]


@pytest.mark.parametrize("header, problem", [
    ("Basic b2ZmaWNpYWw6cGFzc3dvcmQ=", "Bearer <токен>"),
    ("Bearer", "Bearer <токен>"),
    ("Bearer    ", "Bearer <токен>"),
    ("Token {secret}", "Bearer <токен>"),
    ("Bearer uko_not-a-real-token", "недействителен"),
    ("Bearer {secret}x", "недействителен"),
    ("Bearer " + "x" * 5000, "недействителен"),
])
def test_malformed_or_unknown_tokens_get_401(world, client, token_for, header, problem):
    secret = token_for(world["official"])
    response = client.get("/api/v1/organisations", headers={"Authorization": header.format(secret=secret)})
    assert_refused(response, problem)
    assert "items" not in response.get_json()


def test_bearer_scheme_is_case_insensitive(world, client, token_for):
    secret = token_for(world["official"])
    assert client.get("/api/v1/cycles", headers={"Authorization": f"bearer {secret}"}).status_code == 200


def test_api_answers_set_no_session_cookie(world, client, token_for):
    secret = token_for(world["official"])
    response = client.get("/api/v1/organisations", headers=bearer(secret))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_last_use_is_noted_at_most_once_per_resolution(world, client, db_session, token_for):
    from app.api import services
    from app.api.models import ApiToken
    from app.core.timeutil import utcnow

    secret = token_for(world["official"])
    (token,) = tokens_of(db_session, world["official"])
    assert token.last_used_at is None
    client.get("/api/v1/cycles", headers=bearer(secret))
    first = tokens_of(db_session, world["official"])[0].last_used_at
    assert first is not None
    before = db_state(db_session)
    client.get("/api/v1/organisations", headers=bearer(secret))
    assert changed_tables(before, db_state(db_session)) == []  # a read stays a read within the resolution

    stale = utcnow() - services.LAST_USED_RESOLUTION - timedelta(minutes=1)
    db_session.execute(ApiToken.__table__.update().values(last_used_at=stale))
    db_session.commit()
    client.get("/api/v1/organisations", headers=bearer(secret))
    refreshed = tokens_of(db_session, world["official"])[0].last_used_at
    assert services._aware(refreshed) > services._aware(stale) + timedelta(minutes=1)


def test_token_acts_with_its_owners_current_roles(world, client, db_session, token_for):
    from app.auth.models import RoleAssignment

    staff = world["staff_a"]
    secret = token_for(staff)
    assert [o["code"] for o in client.get("/api/v1/organisations", headers=bearer(secret)).get_json()["items"]] \
        == ["SCH-A"]
    # A role taken away is gone for the token at once: it carries no roles of its own.
    db_session.execute(RoleAssignment.__table__.delete().where(RoleAssignment.user_id == staff.id))
    db_session.commit()
    data = client.get("/api/v1/organisations", headers=bearer(secret)).get_json()
    assert data["items"] == [] and data["total"] == 0
    assert db_session.scalar(select(func.count()).select_from(RoleAssignment)
                             .where(RoleAssignment.user_id == staff.id)) == 0

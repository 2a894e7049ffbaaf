"""Security headers (issue 17 item 7): every GET route, signed in and anonymous, answers with
`Cache-Control: no-store` (static files aside) and a CSP with `base-uri 'none'` and `object-src 'none'`;
production adds HSTS (a year, includeSubDomains) and names its cookies with the `__Host-` prefix."""

import pytest

from tests.conftest import PASSWORD, make_config
from tests.security.test_bad_input import _path, _rules

YEAR = 365 * 24 * 3600


def _check(response, where, published_ok=False):
    """The headers every answer carries. `published_ok`: an anonymous visitor of a public route may get an
    answer its view marked `public` (the public section's ETag caching); nothing else may be stored."""
    csp = response.headers.get("Content-Security-Policy", "")
    for directive in ("default-src 'self'", "base-uri 'none'", "object-src 'none'", "frame-ancestors 'none'"):
        assert directive in csp, (where, csp)
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    # the older browsers' equivalent of frame-ancestors 'none' (attack 11: it was missing everywhere)
    assert response.headers.get("X-Frame-Options") == "DENY", where
    cache = response.headers.get("Cache-Control")
    if published_ok and cache and cache.startswith("public"):
        return
    if cache and cache.startswith("private") and response.mimetype.startswith("image/"):
        return  # a content-addressed chart image, kept in the user's own browser only
    assert cache == "no-store", (where, cache)


def _walk(app, client, real, *, anonymous=False, **kwargs) -> int:
    from app.core.access import rule_of

    walked = 0
    for rule in _rules(app):
        if "GET" not in rule.methods:
            continue
        path = _path(rule, 1, real)
        response = client.get(path, **kwargs)
        public_route = bool(getattr(rule_of(app.view_functions[rule.endpoint]), "public", False))
        _check(response, (path, response.status_code), published_ok=anonymous and public_route)
        response.close()
        walked += 1
    return walked


@pytest.fixture
def real(world, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    db_session.commit()
    return {"cycle_id": cycle.id, "org_id": world["school_a"].id, "user_id": world["admin"].id,
            "stage_id": cycle.stages[0].id}


def test_every_get_route_signed_in(app, client, login, world, real):
    login(world["admin"])
    assert _walk(app, client, real) > 80


def test_every_get_route_signed_in_as_a_school(app, client, login, world, real):
    login(world["director_a"])
    assert _walk(app, client, real) > 80


def test_every_get_route_anonymous(app, client, real):
    assert _walk(app, client, real, anonymous=True) > 80


def test_every_api_route_with_a_token(app, client, world, db_session, real):
    from app.api.services import issue_token

    issued = issue_token(world["official"], name="headers", actor=world["official"])
    db_session.commit()
    headers = {"Authorization": f"Bearer {issued.secret}"}
    for rule in _rules(app):
        if rule.rule.startswith("/api/") and "GET" in rule.methods:
            response = client.get(_path(rule, 1, real), headers=headers)
            _check(response, rule.rule)


def test_downloads_are_not_stored(client, login, world, sent):
    from tests.test_monitoring import submission_of

    login(world["director_a"])
    response = client.get(f"/monitoring/submissions/{submission_of(sent, world['school_a']).id}/xlsx")
    assert response.status_code == 200
    _check(response, "submission xlsx")


def test_static_files_may_be_cached(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    response.close()


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_view_may_publish_to_anonymous_visitors_only(app, client, login, world, monkeypatch, signed_in):
    """A view that marks its answer `public` (the public section) keeps that for visitors who are not signed
    in; a signed-in user's copy is never stored, whatever the view says."""
    from flask import make_response

    from app.core.access import RULE_ATTR

    if signed_in:
        login(world["official"])
    original = app.view_functions["auth.login"]

    def published():
        response = make_response("страница для всех")
        response.headers["Cache-Control"] = "public, max-age=60"
        return response

    setattr(published, RULE_ATTR, getattr(original, RULE_ATTR))
    monkeypatch.setitem(app.view_functions, "auth.login", published)
    response = client.get("/login")
    assert response.headers["Cache-Control"] == ("no-store" if signed_in else "public, max-age=60")


def test_development_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


@pytest.fixture
def production_app(app, database_url):
    from app import create_app
    from config import ProductionConfig

    attrs = {name: getattr(make_config(database_url), name) for name in
             ("SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR", "STORAGE_DIR")}
    config = type("ProductionUnderTest", (ProductionConfig,), {
        **attrs, "SECRET_KEY": "p" * 40, "STUDENT_CODE_SALT": "production-salt", "JOBS_MODE": "inline",
        "WTF_CSRF_ENABLED": False, "APP_BASE_URL": "https://uko.edu.example.ru"})
    production = create_app(config)
    production.test_client_class = app.test_client_class
    yield production
    from app.extensions import db

    with production.app_context():
        db.engine.dispose()


def test_production_sends_hsts_and_host_prefixed_cookies(production_app, world, real):
    client = production_app.test_client()
    login_page = client.get("/login", base_url="https://uko.example")
    hsts = login_page.headers["Strict-Transport-Security"]
    assert "includeSubDomains" in hsts and int(hsts.split("max-age=")[1].split(";")[0]) >= YEAR

    response = client.post("/login", data={"login": world["admin"].login, "password": PASSWORD},
                           base_url="https://uko.example")
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("__Host-session="))
    attributes = [part.strip().lower() for part in session_cookie.split(";")[1:]]
    assert "secure" in attributes and "path=/" in attributes and not any(a.startswith("domain=") for a in attributes)
    assert not any(c.startswith("session=") for c in cookies)
    # Signed in through the prefixed cookie: the walk sees pages, every one with the headers.
    assert client.get("/tasks/", base_url="https://uko.example").status_code == 200
    for rule in _rules(production_app):
        if "GET" in rule.methods:
            response = client.get(_path(rule, 1, real), base_url="https://uko.example")
            assert response.headers["Strict-Transport-Security"] == hsts, rule.rule
            response.close()


def test_an_embeddable_public_page_is_not_denied_framing(client):
    """?embed=1 lets PUBLIC_FRAME_ANCESTORS frame the page: X-Frame-Options (DENY or SAMEORIGIN only) would forbid
    what the CSP allows, in the browsers that read both."""
    page = client.get("/public/?embed=1")
    assert "frame-ancestors https:" in page.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in page.headers
    assert client.get("/public/").headers["X-Frame-Options"] == "DENY"

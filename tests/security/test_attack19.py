"""Attack 19.

Personal API tokens never expired: a secret pasted into a forgotten script, a CI variable or a colleague's mail kept
acting as its owner until someone remembered to revoke it. They now end API_TOKEN_DAYS (90) after issuing, are
refused past it with their own reason, and an administrator sees the expiry and the last use of a user's tokens.

The calendar feed's link is its own key and lives in URLs: its feed held every dated item of the owner's subtree (a
municipal official's link told whoever found it what each school had to do), the application's own error log wrote
the path with the secret in it, and an access log, once turned on, would too."""

import importlib.util
import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, select, text

from tests import services as test_services
from tests.test_api_tokens import bearer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def issued(db_session):
    from app.api.services import issue_token

    def make(user, name="Выгрузка из АИС"):
        result = issue_token(user, name=name, actor=user)
        db_session.commit()
        return result
    return make


# --- API tokens expire ---------------------------------------------------------------------------

def test_an_expired_token_is_refused_with_its_own_reason(world, client, issued, db_session):
    from app.core.timeutil import utcnow

    token = issued(world["director_a"])
    assert client.get("/api/v1/organisations", headers=bearer(token.secret)).status_code == 200
    token.token.expires_at = utcnow() - timedelta(minutes=1)
    db_session.commit()
    response = client.get("/api/v1/organisations", headers=bearer(token.secret))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    problems = response.get_json()["problems"]
    assert any("Срок действия API-токена истёк" in p for p in problems), problems


def test_a_token_ends_api_token_days_after_issuing_and_the_page_says_when(world, app, client, login, db_session):
    from app.core.timeutil import utcnow

    app.config["API_TOKEN_DAYS"] = 30
    login(world["director_a"])
    before = utcnow()
    page = client.post("/tokens/new", data={"name": "Скрипт выгрузки"})
    assert page.status_code == 201
    from app.api.models import ApiToken

    token = db_session.scalar(select(ApiToken).where(ApiToken.user_id == world["director_a"].id))
    assert timedelta(days=30) <= token.expires_at - before < timedelta(days=30, minutes=1)
    body = page.get_data(as_text=True)
    assert "Действует до" in body and "30 дн." in body


def test_expired_tokens_neither_count_towards_the_limit_nor_show_as_in_force(world, client, login, issued,
                                                                              db_session):
    from app.api.services import MAX_ACTIVE_TOKENS, issue_token
    from app.core.timeutil import utcnow

    tokens = [issued(world["director_a"], name=f"Токен {n}").token for n in range(MAX_ACTIVE_TOKENS)]
    for token in tokens:
        token.expires_at = utcnow() - timedelta(days=1)
    db_session.commit()
    issue_token(world["director_a"], name="Новый", actor=world["director_a"])  # not «already 20 in force»
    db_session.commit()
    login(world["director_a"])
    body = client.get("/tokens/").get_data(as_text=True)
    assert body.count("срок истёк") == MAX_ACTIVE_TOKENS and body.count(">Отозвать</button>") == 1


def test_an_administrator_sees_the_expiry_and_last_use_of_a_users_tokens(world, client, login, issued, db_session):
    token = issued(world["director_a"], name="Интеграция с «Сетевым городом»")
    client.get("/api/v1/organisations", headers=bearer(token.secret))  # notes the last use
    login(world["admin"])
    page = client.get(f"/tokens/of/{world['director_a'].id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Интеграция с «Сетевым городом»" in body and token.token.prefix in body
    assert token.secret not in body and "Действует до" in body and "Последнее использование" in body
    assert f"/tokens/of/{world['director_a'].id}" in client.get(
        f"/admin/users/{world['director_a'].id}").get_data(as_text=True)
    # Not an administrator, or not over the user's organisation: nothing to see.
    client.post("/logout")
    login(world["director_b"])
    assert client.get(f"/tokens/of/{world['director_a'].id}").status_code in (403, 404)


def test_the_migration_gives_existing_tokens_an_expiry_from_their_creation(tmp_path):
    """90 days from its creation, but not sooner than a month after the upgrade: an old token expiring at the
    upgrade itself would stop its integration at deployment without warning."""
    from datetime import datetime, timedelta, timezone

    url = test_services.scratch_database("uko_attack19_tokens", tmp_path)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    recent = now - timedelta(days=10)
    assert test_services.run_flask(["db", "upgrade", "coord0002"], url).returncode == 0
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, login, full_name, password_hash, active, session_version, created_at)"
                          " VALUES (1, 'u', 'U', 'x', true, 1, '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at) VALUES "
                          "(1, 1, 'old', 'uko_abcdefgh', :h, '2026-01-10 08:30:00')"), {"h": "0" * 64})
        conn.execute(text("INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at) VALUES "
                          "(2, 1, 'recent', 'uko_ijklmnop', :h, :created)"),
                     {"h": "1" * 64, "created": recent.strftime("%Y-%m-%d %H:%M:%S")})
    upgraded = test_services.run_flask(["db", "upgrade"], url)
    assert upgraded.returncode == 0, upgraded.stderr
    with engine.connect() as conn:
        old, new = (str(value) for (value,) in conn.execute(text("SELECT expires_at FROM api_tokens ORDER BY id")))
    engine.dispose()
    # the old token (expired 10.04.2026 by its age): a month from the upgrade (downgrade: tests/test_migrations.py)
    assert old[:10] in {(now + timedelta(days=30, hours=h)).strftime("%Y-%m-%d") for h in (-1, 0, 1)}, old
    assert new.startswith((recent + timedelta(days=90)).strftime("%Y-%m-%d %H:%M:%S")), new  # 90 days from creation


# --- the calendar feed's secret link -------------------------------------------------------------

def _feed_text(client, user, db_session):
    from app.deadlines import ical

    _feed, secret = ical.issue_feed(user, actor=user)
    db_session.commit()
    response = client.get(f"/deadlines/ical/{secret}.ics")
    assert response.status_code == 200
    return response, response.get_data(as_text=True)


def test_the_feed_holds_only_the_owners_own_deadlines(world, make_cycle, client, db_session):
    from datetime import date

    due = date.today() + timedelta(days=5)
    cycle = make_cycle(world["school_a"], world["director_a"], mechanism="I1.1", deadlines={"GOAL": due})
    db_session.commit()
    stage = cycle.stage("GOAL")
    # The official sees the school's stage on the calendar page (the subtree), but a leaked link must not tell it.
    _response, official_feed = _feed_text(client, world["official"], db_session)
    assert f"stage-{stage.id}@" not in official_feed and "BEGIN:VEVENT" not in official_feed
    _response, director_feed = _feed_text(client, world["director_a"], db_session)
    assert f"stage-{stage.id}@" in director_feed


def test_the_feed_tells_no_referrer_and_is_kept_nowhere(world, client, db_session):
    response, _text = _feed_text(client, world["director_a"], db_session)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response.headers["Cache-Control"]


def test_the_application_log_never_writes_a_feed_secret(app):
    from app.core.hardening import path_for_log

    with app.test_request_context("/deadlines/ical/Sup3rSecretValue_x.ics"):
        assert path_for_log() == "/deadlines/ical/[secret].ics"
    with app.test_request_context("/tasks/12"):
        assert path_for_log() == "/tasks/12"


def test_gunicorns_access_log_never_writes_a_feed_secret():
    spec = importlib.util.spec_from_file_location("gunicorn_conf_attack19", ROOT / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    secret = "Sup3rSecretValue_x-y"
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/deadlines/ical/{secret}.ics?x=1", "SERVER_PROTOCOL": "HTTP/1.1",
               "PATH_INFO": f"/deadlines/ical/{secret}.ics", "HTTP_REFERER": f"http://h/deadlines/ical/{secret}.ics"}
    logger = conf.logger_class.__new__(conf.logger_class)
    atoms = logger.atoms(SimpleNamespace(status="200 OK", headers=[], sent=10), SimpleNamespace(headers=[]), environ,
                         timedelta(seconds=1))
    assert not any(secret in str(v) for v in atoms.values())
    assert atoms["r"] == "GET /deadlines/ical/[secret].ics?x=1 HTTP/1.1"
    assert re.fullmatch(r"/deadlines/ical/\[secret\]\.ics", atoms["U"])


# --- the stand-in form named any account by its id ------------------------------------------------

def test_the_stand_in_form_names_no_one_outside_the_organisation(world, client, login, db_session):
    from datetime import date

    from app.auth.services import set_active

    set_active(world["director_b"], False, actor=world["admin"])
    db_session.commit()
    login(world["director_a"])
    start = date.today() + timedelta(days=3)
    period = {"start": f"{start:%d.%m.%Y}", "end": f"{start + timedelta(days=2):%d.%m.%Y}"}
    for outsider in (world["official"], world["director_b"], world["auditor"]):
        response = client.post("/deadlines/standins/new", data={"deputy_id": str(outsider.id), **period})
        assert response.status_code == 422
        body = response.get_data(as_text=True)
        assert "не работает в вашей организации" in body
        assert outsider.short_name not in body and outsider.full_name not in body and "отключён" not in body

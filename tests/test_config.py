"""Configuration: production refuses unsafe settings at start-up, and every setting an operator
deploys with is read from the environment (checked in a fresh interpreter, since config.py reads
the environment once, at import)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import config
from config import DEV_SECRET_KEY, ProductionConfig

pytestmark = pytest.mark.db_independent  # no test database: the SQLite pass only (Makefile)

ROOT = Path(__file__).resolve().parents[1]
GOOD_KEY = "k" * 16 + "0123456789abcdef"  # exactly 32 characters
GOOD_SALT = "municipal-salt-2025"
GOOD_BASE_URL = "https://uko.edu.example.ru"

# Everything config.py (or the app factory) reads; cleared so the developer's shell cannot leak in.
CONFIG_VARS = (
    "APP_CONFIG", "DATABASE_URL", "TEST_DATABASE_URL", "REDIS_URL", "SECRET_KEY", "UPLOAD_DIR", "STORAGE_DIR",
    "APP_TIMEZONE", "JOBS_MODE", "MAX_UPLOAD_MB", "LOGIN_WINDOW_SECONDS", "LOGIN_MAX_FAILURES_PER_ACCOUNT",
    "LOGIN_MAX_FAILURES_PER_ADDRESS", "LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_ADDRESSES", "LOGIN_KNOWN_ADDRESS_DAYS",
    "STUDENT_CODE_SALT", "SESSION_COOKIE_SECURE", "FLASK_DEBUG", "APP_BASE_URL",
)


def production(**attrs):
    """A ProductionConfig subclass with the given settings; never touches os.environ."""
    base = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "JOBS_MODE": "inline", "APP_BASE_URL": GOOD_BASE_URL}
    return type("ProductionUnderTest", (ProductionConfig,), {**base, **attrs})


def run_python(code: str, **env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def read_config(expression: str, **env_overrides):
    """Evaluate `expression` after `import config` in a fresh interpreter and return it (via JSON)."""
    result = run_python(f"import json, config; print(json.dumps({expression}))", **env_overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


SETTINGS = ("[config.Config.SQLALCHEMY_DATABASE_URI, config.Config.REDIS_URL, config.Config.SECRET_KEY, "
            "config.Config.UPLOAD_DIR, config.Config.STORAGE_DIR, config.Config.APP_TIMEZONE]")


# --- production refuses to start on unsafe settings ------------------------------------------

@pytest.mark.parametrize("key", [DEV_SECRET_KEY, None, "", GOOD_KEY[:31]],
                         ids=["development key", "no key", "empty key", "31 characters"])
def test_production_refuses_to_start_without_a_proper_secret_key(key):
    from app import create_app

    with pytest.raises(RuntimeError, match="SECRET_KEY") as refused:
        create_app(production(SECRET_KEY=key, STUDENT_CODE_SALT=GOOD_SALT))
    assert "at least 32 characters" in str(refused.value)
    assert "refuses to start" in str(refused.value)


def test_production_refuses_to_start_with_the_default_student_code_salt():
    from app import create_app

    with pytest.raises(RuntimeError, match="STUDENT_CODE_SALT"):
        create_app(production(SECRET_KEY=GOOD_KEY, STUDENT_CODE_SALT="dev-student-code-salt"))


@pytest.mark.parametrize("address", [None, "", "http://127.0.0.1:5000", "uko.example.ru"],
                         ids=["none", "empty", "the development address", "no scheme"])
def test_production_refuses_to_start_without_its_own_address(address):
    # The links of e-mails and of the public sitemap and feeds are built on APP_BASE_URL (never on the request's
    # Host): left at the laptop's address they all pointed at 127.0.0.1.
    from app import create_app

    with pytest.raises(RuntimeError, match="set APP_BASE_URL"):
        create_app(production(SECRET_KEY=GOOD_KEY, STUDENT_CODE_SALT=GOOD_SALT, APP_BASE_URL=address))


def test_production_starts_with_a_proper_key_and_salt():
    from app import create_app

    app = create_app(production(SECRET_KEY=GOOD_KEY, STUDENT_CODE_SALT=GOOD_SALT, SESSION_COOKIE_SECURE=True))
    assert app.config["ENV_NAME"] == "production"
    assert app.config["SECRET_KEY"] == GOOD_KEY
    assert app.config["WTF_CSRF_ENABLED"] is True
    assert not app.config.get("TESTING") and not app.config.get("DEBUG")
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "inline"}


def test_development_and_testing_configs_are_not_held_to_production_rules():
    # The development key is what makes a laptop start without setup; only production rejects it.
    config.DevelopmentConfig.validate()
    config.TestingConfig.validate()


def test_wsgi_entry_point_refuses_production_with_the_development_key():
    result = run_python("import wsgi", APP_CONFIG="production", DATABASE_URL="sqlite://", JOBS_MODE="inline",
                        STUDENT_CODE_SALT=GOOD_SALT)
    assert result.returncode != 0
    assert "RuntimeError" in result.stderr
    assert "set SECRET_KEY to a random value of at least 32 characters" in result.stderr


def test_wsgi_entry_point_refuses_production_without_a_student_code_salt():
    result = run_python("import wsgi", APP_CONFIG="production", DATABASE_URL="sqlite://", JOBS_MODE="inline",
                        SECRET_KEY=GOOD_KEY)
    assert result.returncode != 0
    assert "set STUDENT_CODE_SALT" in result.stderr


def test_wsgi_entry_point_starts_in_production_with_proper_settings():
    """The operator's only way in: SECRET_KEY and STUDENT_CODE_SALT set in the environment."""
    result = run_python(
        "import wsgi; c = wsgi.app.config; "
        "print(c['ENV_NAME'], c['SESSION_COOKIE_SECURE'], c['REMEMBER_COOKIE_SECURE'], "
        "c['SQLALCHEMY_DATABASE_URI'])",
        APP_CONFIG="production", SECRET_KEY=GOOD_KEY, STUDENT_CODE_SALT=GOOD_SALT, APP_BASE_URL=GOOD_BASE_URL,
        DATABASE_URL="postgres://uko:pw@db.internal:5432/uko", JOBS_MODE="inline")
    assert result.returncode == 0, result.stderr
    # Production cookies are HTTPS-only unless the operator says otherwise.
    assert result.stdout.split() == ["production", "True", "True", "postgresql+psycopg://uko:pw@db.internal:5432/uko"]


# --- settings come from the environment ------------------------------------------------------

def test_settings_are_read_from_the_environment(tmp_path):
    values = read_config(
        SETTINGS,
        DATABASE_URL="postgres://uko:secret@db.example.org:5433/uko_prod",
        REDIS_URL="redis://cache.example.org:6380/3",
        SECRET_KEY="s" * 40,
        UPLOAD_DIR=str(tmp_path / "up"),
        STORAGE_DIR=str(tmp_path / "store"),
        APP_TIMEZONE="Asia/Yekaterinburg",
    )
    assert values == [
        "postgresql+psycopg://uko:secret@db.example.org:5433/uko_prod",
        "redis://cache.example.org:6380/3",
        "s" * 40,
        str(tmp_path / "up"),
        str(tmp_path / "store"),
        "Asia/Yekaterinburg",
    ]


def test_every_config_class_sees_the_environment(tmp_path):
    values = read_config(
        "[[c.SQLALCHEMY_DATABASE_URI, c.UPLOAD_DIR, c.APP_TIMEZONE] "
        "for c in (config.DevelopmentConfig, config.ProductionConfig)]",
        DATABASE_URL="postgresql://u@h/d", UPLOAD_DIR=str(tmp_path), APP_TIMEZONE="Asia/Vladivostok")
    assert values == [["postgresql+psycopg://u@h/d", str(tmp_path), "Asia/Vladivostok"]] * 2


def test_defaults_when_nothing_is_set():
    values = read_config(SETTINGS)
    assert values == [
        f"sqlite:///{ROOT / 'var' / 'uko.sqlite3'}",
        "redis://127.0.0.1:6379/0",
        DEV_SECRET_KEY,
        str(ROOT / "var" / "uploads"),
        str(ROOT / "var" / "storage"),
        "Europe/Moscow",
    ]


def test_empty_variables_count_as_unset():
    empty = {name: "" for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "UPLOAD_DIR", "STORAGE_DIR",
                                   "APP_TIMEZONE")}
    assert read_config(SETTINGS, **empty) == read_config(SETTINGS)


def test_numbers_and_switches_are_parsed():
    values = read_config(
        "[config.Config.MAX_CONTENT_LENGTH, config.Config.LOGIN_WINDOW_SECONDS, "
        "config.Config.LOGIN_MAX_FAILURES_PER_ACCOUNT, config.Config.LOGIN_MAX_FAILURES_PER_ADDRESS, "
        "config.ProductionConfig.SESSION_COOKIE_SECURE, config.DevelopmentConfig.DEBUG, "
        "config.Config.STUDENT_CODE_SALT, config.Config.JOBS_MODE]",
        MAX_UPLOAD_MB="5", LOGIN_WINDOW_SECONDS="120", LOGIN_MAX_FAILURES_PER_ACCOUNT="3",
        LOGIN_MAX_FAILURES_PER_ADDRESS="9", SESSION_COOKIE_SECURE="off", FLASK_DEBUG="yes",
        STUDENT_CODE_SALT=GOOD_SALT, JOBS_MODE="rq")
    assert values == [5 * 1024 * 1024, 120, 3, 9, False, True, GOOD_SALT, "rq"]


def test_testing_config_uses_its_own_database_variable():
    values = read_config(
        "[config.TestingConfig.SQLALCHEMY_DATABASE_URI, config.Config.SQLALCHEMY_DATABASE_URI]",
        TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/scratch", DATABASE_URL="sqlite:////srv/uko.db")
    assert values == ["postgresql+psycopg://postgres@127.0.0.1:5432/scratch", "sqlite:////srv/uko.db"]


@pytest.mark.parametrize("app_config, expected", [
    (None, "DevelopmentConfig"), ("development", "DevelopmentConfig"), ("testing", "TestingConfig"),
    ("production", "ProductionConfig"),
])
def test_app_config_selects_the_configuration(app_config, expected):
    env = {"APP_CONFIG": app_config} if app_config else {}
    assert read_config("config.config_from_env().__name__", **env) == expected


@pytest.mark.parametrize("url, expected", [
    ("postgres://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
    ("postgresql://u:p@h/d?sslmode=require", "postgresql+psycopg://u:p@h/d?sslmode=require"),
    ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ("sqlite:///var/uko.sqlite3", "sqlite:///var/uko.sqlite3"),
    ("sqlite://", "sqlite://"),
])
def test_database_urls_are_routed_to_psycopg3(url, expected):
    assert config.normalise_database_url(url) == expected


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for():
    """Throttling and the audit log must see the user's address, not the reverse proxy's."""
    from flask import request

    from app import create_app

    def address_seen(hops):
        app = create_app(production(SECRET_KEY=GOOD_KEY, STUDENT_CODE_SALT=GOOD_SALT, PROXY_FIX_HOPS=hops))
        seen = {}

        @app.before_request
        def capture():
            seen["addr"] = request.remote_addr

        app.test_client().get("/health", headers={"X-Forwarded-For": "198.51.100.23"},
                              environ_overrides={"REMOTE_ADDR": "10.0.0.1"})
        return seen["addr"]

    assert address_seen(1) == "198.51.100.23"
    assert address_seen(0) == "10.0.0.1"  # not trusted unless configured: the header is forgeable

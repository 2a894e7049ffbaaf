"""Application configuration. Every setting comes from the environment, with a typed helper."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEV_BASE_URL = "http://127.0.0.1:5000"
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105 (production refuses to start with it)
DEV_STUDENT_CODE_SALT = "dev-student-code-salt"


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    return int(value) if value is not None else default


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _default_sqlite_url() -> str:
    return f"sqlite:///{BASE_DIR / 'var' / 'uko.sqlite3'}"


def normalise_database_url(url: str) -> str:
    """Accept plain postgres:// URLs and route them to psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    ENV_NAME = "development"
    SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = normalise_database_url(env_str("DATABASE_URL", _default_sqlite_url()))
    # pool_pre_ping replaces a pooled connection that died (database restarted) instead of failing a request;
    # the connect timeout (seconds, PostgreSQL) bounds how long a request waits for a database that is down.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5)
    # Strict-Transport-Security max-age, seconds (0: not sent). Production sends a year, with includeSubDomains.
    HSTS_SECONDS = 0
    REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
    # "auto": use RQ when Redis answers, otherwise run jobs inline; "inline" / "rq" force one.
    JOBS_MODE = env_str("JOBS_MODE", "auto")
    # Seconds a queued tracked row is left alone by the reconciler (its job may be on its way to Redis).
    JOBS_RECONCILE_GRACE = env_int("JOBS_RECONCILE_GRACE", 120)
    # Analysis runs over at least this many schools fan out: one job per municipality reads and parses its rows,
    # a combining job computes the region's verdicts from them (app/analysis/fanout.py); 0: never.
    ANALYSIS_FANOUT_MIN_SCHOOLS = env_int("ANALYSIS_FANOUT_MIN_SCHOOLS", 0)
    # A read replica of the primary (PostgreSQL streaming replication) for the heavy read-only queries: the analysis
    # reading results, the situational centre's tables (app/extensions.py, `reading`). Empty: the primary serves them.
    # Only SELECTs go there: its connections are read-only, and anything else is refused before it is sent.
    REPLICA_DATABASE_URL = normalise_database_url(env_str("REPLICA_DATABASE_URL", "")) or None
    UPLOAD_DIR = env_str("UPLOAD_DIR", str(BASE_DIR / "var" / "uploads"))
    STORAGE_DIR = env_str("STORAGE_DIR", str(BASE_DIR / "var" / "storage"))
    # Evidence packages (app/assessment/package.py): how many of the newest built packages of one scope (a campaign's
    # municipality, or the whole campaign) keep their ZIP; the files of older ones are deleted once a newer one is
    # built, their rows (who, when, the SHA-256 handed out) stay.
    ASSESSMENT_PACKAGES_KEEP = max(env_int("ASSESSMENT_PACKAGES_KEEP", 1), 1)
    # Default time zone for organisations that do not set their own; times are stored in UTC.
    APP_TIMEZONE = env_str("APP_TIMEZONE", "Europe/Moscow")
    MAX_CONTENT_LENGTH = env_int("MAX_UPLOAD_MB", 200) * 1024 * 1024
    # A form without files (URL-encoded): its whole body, read at once (app/core/hardening.py: HardenedRequest). The
    # largest real one, an assessment sheet of 130 criteria with comments, is well under 2 MB.
    MAX_FORM_BODY_BYTES = 8 * 1024 * 1024
    # A school's XLSX answer to a data request is small; larger uploads are refused before parsing.
    MONITORING_UPLOAD_MAX_BYTES = env_int("MONITORING_UPLOAD_MAX_MB", 10) * 1024 * 1024
    # Evidence of execution, protocols, scanned signed copies attached to recommendations, measures, documents.
    ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_MB", 25) * 1024 * 1024
    # An administrator's upload of a new Word template version.
    TEMPLATE_MAX_BYTES = env_int("TEMPLATE_MAX_MB", 10) * 1024 * 1024
    # LibreOffice for PDF copies of registered documents (empty: found on PATH) and its time limit, seconds.
    SOFFICE_PATH = env_str("SOFFICE_PATH", "")
    PDF_TIMEOUT = env_int("PDF_TIMEOUT", 120)
    # Bootstrap assets are served from the package, never from a CDN (closed municipal networks).
    BOOTSTRAP_SERVE_LOCAL = True
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Use WTForms' bundled translations (Russian, via Form.Meta.locales) rather than Flask-Babel.
    WTF_I18N_ENABLED = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    # Session lifetime, enforced on the server (app/auth/sessions.py): minutes without a request before a
    # session ends, and hours after log-in after which it ends in any case. The signed cookie itself is not
    # accepted past the absolute lifetime either.
    SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
    SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12)
    PERMANENT_SESSION_LIFETIME = SESSION_MAX_HOURS * 3600
    # Log-in throttling (app/auth/services.py: check_throttle): failures counted over a sliding window, per account
    # and client address, per address, and per account over all addresses — past the last, only addresses the
    # account has logged in from in the last LOGIN_KNOWN_ADDRESS_DAYS may try. Failed password re-entries (password
    # change, signing, «Ознакомлен») count in the same counters.
    LOGIN_WINDOW_SECONDS = env_int("LOGIN_WINDOW_SECONDS", 600)
    LOGIN_MAX_FAILURES_PER_ACCOUNT = env_int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
    LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_ADDRESSES = env_int("LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_ADDRESSES", 10)
    LOGIN_KNOWN_ADDRESS_DAYS = env_int("LOGIN_KNOWN_ADDRESS_DAYS", 90)
    LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 30)
    # Personal API tokens end this many days after they are issued (app/api/services.py); a client then needs a new one.
    API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90)
    # Signed checkpoints of the audit hash chain (app/audit/checkpoints.py, `flask audit checkpoint`): the
    # HMAC-SHA256 key (at least 32 characters, never stored in the database) and the directory the checkpoints
    # go to, one the operator keeps apart from the database. Unset: the periodic checkpoint job does nothing.
    AUDIT_CHECKPOINT_KEY = env_str("AUDIT_CHECKPOINT_KEY")
    AUDIT_CHECKPOINT_DIR = env_str("AUDIT_CHECKPOINT_DIR")
    # Salt for hashing pseudonymous student codes (used by result imports).
    STUDENT_CODE_SALT = env_str("STUDENT_CODE_SALT", DEV_STUDENT_CODE_SALT)
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none).
    # Behind nginx set 1, so throttling and the audit log see the client's address, not the proxy's.
    PROXY_FIX_HOPS = env_int("PROXY_FIX_HOPS", 0)
    # Deadlines: a reminder this many days before a task's due date, one on the day it becomes overdue, and
    # escalation to the assignee's head once it has been overdue for the grace period (days).
    REMINDER_DAYS_BEFORE = env_int("REMINDER_DAYS_BEFORE", 3)
    ESCALATION_GRACE_DAYS = env_int("ESCALATION_GRACE_DAYS", 2)
    # E-mail of notifications: "console" (the log), "file" (.eml files in MAIL_FILE_DIR) or "smtp".
    MAIL_BACKEND = env_str("MAIL_BACKEND", "console")
    MAIL_FROM = env_str("MAIL_FROM", "uko-cikl@localhost")
    MAIL_FILE_DIR = env_str("MAIL_FILE_DIR", str(BASE_DIR / "var" / "mail"))
    SMTP_HOST = env_str("SMTP_HOST", "localhost")
    SMTP_PORT = env_int("SMTP_PORT", 25)
    SMTP_USER = env_str("SMTP_USER")
    SMTP_PASSWORD = env_str("SMTP_PASSWORD")
    SMTP_TLS = env_bool("SMTP_TLS", False)  # STARTTLS after connecting
    SMTP_TIMEOUT = env_int("SMTP_TIMEOUT", 30)
    # Where the application is reachable: links in e-mails, the public sitemap and feeds, the iCalendar feed — never
    # the request's Host. Production must name it (validate).
    APP_BASE_URL = env_str("APP_BASE_URL", DEV_BASE_URL)
    # Public pages (/public/, 152-ФЗ): results of a group smaller than this are not shown; how long a public page
    # may be cached; which sites may embed the embeddable variant (?embed=1) — a CSP frame-ancestors source list.
    PUBLIC_MIN_GROUP = env_int("PUBLIC_MIN_GROUP", 10)
    PUBLIC_MAX_AGE = env_int("PUBLIC_MAX_AGE", 300)
    PUBLIC_FRAME_ANCESTORS = env_str("PUBLIC_FRAME_ANCESTORS", "https:")
    # A region's own thresholds of the analytics methods (YAML), laid over app/analysis/data/thresholds.yaml.
    ANALYSIS_THRESHOLDS_FILE = env_str("ANALYSIS_THRESHOLDS_FILE", "")

    @classmethod
    def validate(cls) -> None:
        """Hook for configurations that must refuse to start on unsafe settings."""


class DevelopmentConfig(Config):
    DEBUG = env_bool("FLASK_DEBUG", False)


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = normalise_database_url(env_str("TEST_DATABASE_URL", "sqlite://"))
    JOBS_MODE = env_str("JOBS_MODE", "inline")
    REPLICA_DATABASE_URL = None  # a test that wants one sets it
    # Fast hashing keeps the suite quick; production parameters are argon2-cffi's defaults.
    ARGON2_FAST = True


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    # The __Host- prefix makes browsers refuse the cookie unless it is Secure, for this host only and path /
    # (no subdomain can set or shadow it); a browser drops such a cookie without Secure, hence the condition.
    SESSION_COOKIE_NAME = "__Host-session" if SESSION_COOKIE_SECURE else "session"
    REMEMBER_COOKIE_NAME = "__Host-remember_token" if REMEMBER_COOKIE_SECURE else "remember_token"
    HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600)

    @classmethod
    def validate(cls) -> None:
        if not cls.SECRET_KEY or cls.SECRET_KEY == DEV_SECRET_KEY or len(cls.SECRET_KEY) < 32:
            raise RuntimeError(
                "Production configuration refuses to start: set SECRET_KEY to a random value "
                "of at least 32 characters (not the development key)."
            )
        if not cls.STUDENT_CODE_SALT or cls.STUDENT_CODE_SALT == DEV_STUDENT_CODE_SALT:
            raise RuntimeError("Production configuration refuses to start: set STUDENT_CODE_SALT.")
        if not cls.APP_BASE_URL or cls.APP_BASE_URL == DEV_BASE_URL or not cls.APP_BASE_URL.startswith(
                ("https://", "http://")):
            # Left at the laptop's address, every e-mail's link and the public feeds point at 127.0.0.1.
            raise RuntimeError("Production configuration refuses to start: set APP_BASE_URL to the address users "
                               "reach the application at (https://…).")
        if cls.AUDIT_CHECKPOINT_KEY and len(cls.AUDIT_CHECKPOINT_KEY) < 32:
            raise RuntimeError("Production configuration refuses to start: AUDIT_CHECKPOINT_KEY must be at least "
                               "32 characters.")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    return CONFIGS[env_str("APP_CONFIG", "development")]

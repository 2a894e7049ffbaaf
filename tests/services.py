"""Reaching the real services the suite needs. Under CI=true a missing service fails the test;
locally it skips with the reason, so a developer without PostgreSQL can still run the SQLite pass."""

import os
from contextlib import contextmanager
from pathlib import Path
import socket
import threading

import pytest

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pass_redis_url(url: str) -> str:
    # `make test` runs its SQLite and PostgreSQL passes side by side on one Redis server: the SQLite pass takes the
    # database one below TEST_REDIS_URL's, so the two passes (and the tests' own databases, own_redis_url) never
    # share one (the PostgreSQL pass odd numbers from 15 down, the SQLite pass even ones from 14).
    if os.environ.get("TEST_DB", "sqlite") == "postgresql":
        return url
    base, number = url.rsplit("/", 1)
    return f"{base}/{int(number) - 1}"


REDIS_URL = _pass_redis_url(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))


def own_redis_url(n: int) -> str:
    """The `n`-th Redis database a test has to itself (it flushes it): 2·n below the pass's own. Taken: 1 analysis
    views, 2 stalled documents, 3 assessment package, 4 analysis fan-out, 5 document jobs."""
    base, number = REDIS_URL.rsplit("/", 1)
    own = int(number) - 2 * n
    if own < 0:
        raise ValueError(f"TEST_REDIS_URL's database number is too low for a test database of its own: {REDIS_URL}")
    return f"{base}/{own}"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require(service: str, host: str, port: int) -> None:
    if port_open(host, port):
        return
    message = f"{service} is not reachable at {host}:{port}"
    if in_ci():
        pytest.fail(message + " (CI=true: a missing service is a failure, not a skip)")
    pytest.skip(message)


def require_postgres() -> None:
    require("PostgreSQL", "127.0.0.1", 5432)


def require_redis() -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(REDIS_URL)
    require("Redis", parts.hostname or "127.0.0.1", parts.port or 6379)


def scratch_name(name: str) -> str:
    """A scratch database's name; suffixed with the test database's own name when that is not the
    default `test`, so that two suites on one PostgreSQL server (TEST_DATABASE_URL=…/test_b) never share one."""
    own = POSTGRES_URL.rsplit("/", 1)[1]
    return name if own == "test" else f"{name}_{own}"


def scratch_database(name: str, tmp_path, *, backend: str | None = None) -> str:
    """An empty database of its own for tests that need real commits seen by other processes:
    a fresh SQLite file, or a PostgreSQL database `name` created if missing and emptied."""
    from tests.conftest import TEST_DB, reset_postgres_schema

    if (backend or TEST_DB) != "postgresql":
        if tmp_path is None:
            raise ValueError("a SQLite scratch database needs tmp_path")
        return f"sqlite:///{tmp_path / (name + '.sqlite3')}"
    from sqlalchemy import create_engine, text

    require_postgres()
    base = POSTGRES_URL.rsplit("/", 1)[0]
    name = scratch_name(name)
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = f"{base}/{name}"
    reset_postgres_schema(url)
    return url


_SEEDED_TEMPLATE: dict[str, str] = {}


def seeded_demo_database(name: str, tmp_path) -> str:
    """A database `name` of its own holding the demo as `flask db upgrade` and `flask seed demo` leave it. The two
    commands run once per test session (in subprocesses, as an operator would) into a template; each caller gets a
    copy of it — the file on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL — instead of seeding again."""
    import shutil
    import tempfile

    from tests.conftest import TEST_DB

    if "url" not in _SEEDED_TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="uko-seeded-demo-"))
        template = scratch_database("uko_demo_template", folder)
        for args in (["db", "upgrade"], ["seed", "demo"]):
            done = run_flask(args, template)
            assert done.returncode == 0, done.stderr
        _SEEDED_TEMPLATE["url"] = template
    template = _SEEDED_TEMPLATE["url"]
    if TEST_DB != "postgresql":
        copy = tmp_path / f"{name}.sqlite3"
        shutil.copyfile(template.removeprefix("sqlite:///"), copy)
        return f"sqlite:///{copy}"
    from sqlalchemy import create_engine, text

    base, name = POSTGRES_URL.rsplit("/", 1)[0], scratch_name(name)
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{scratch_name("uko_demo_template")}"'))
    admin.dispose()
    return f"{base}/{name}"


def run_flask(args, database_url: str, **env):
    """Run `flask …` in a subprocess against `database_url`, as an operator would."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    environ = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "wsgi.py", "JOBS_MODE": "inline", **env}
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=root, env=environ, capture_output=True,
                          text=True, timeout=180)


def find_soffice() -> str | None:
    """The LibreOffice executable (`soffice` or `libreoffice`) on PATH, or None."""
    import shutil

    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    """The LibreOffice executable; a missing one fails under CI=true and skips otherwise."""
    path = find_soffice()
    if path:
        return path
    message = "LibreOffice (soffice) is not installed"
    if in_ci():
        pytest.fail(message + " (CI=true: a missing service is a failure, not a skip)")
    pytest.skip(message)


def require_soffice_calc() -> str:
    """LibreOffice with its spreadsheet module (package libreoffice-calc-nogui): without it `--convert-to pdf` of an
    XLSX answers «source file could not be loaded». Fails under CI=true, skips otherwise."""
    path = require_soffice()
    program = Path(os.path.realpath(path)).parent
    if (program / "libsclo.so").exists() or (program / "sclo.dll").exists():
        return path
    message = "LibreOffice Calc (libreoffice-calc-nogui) is not installed"
    if in_ci():
        pytest.fail(message + " (CI=true: a missing service is a failure, not a skip)")
    pytest.skip(message)


def assert_printable(sheet, *, header_row: int) -> None:
    """An XLSX sheet a person can print (fifth document review): a Russian name of at most 31 characters, a title row
    above the header that says what it is, the header bold and frozen, A4 landscape on the width of one page, the
    header row repeated on every printed page."""
    import re

    assert len(sheet.title) <= 31 and re.search("[А-Яа-яЁё]", sheet.title), sheet.title
    if header_row > 1:
        assert sheet.cell(1, 1).value and re.search("[А-Яа-яЁё]", sheet.cell(1, 1).value)
    assert all(c.font.b for c in sheet[header_row] if c.value is not None), sheet.title
    assert sheet.freeze_panes == f"A{header_row + 1}", sheet.title
    assert (sheet.print_title_rows or "").replace("$", "") == f"{header_row}:{header_row}", sheet.title
    setup = sheet.page_setup
    assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("landscape", 1, 0), sheet.title
    assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title


@contextmanager
def migrated_postgres_app(name: str):
    """An app on its own PostgreSQL database `name`, migrated and with the catalogue loaded, for tests that need
    real commits seen by concurrent sessions (no per-test rollback)."""
    require_postgres()
    url = scratch_database(name, None, backend="postgresql")
    from flask_migrate import upgrade

    from app import create_app
    from app.catalogue.services import load_all
    from app.extensions import db
    from tests.conftest import make_config

    app = create_app(make_config(url))
    with app.app_context():
        upgrade()
        load_all()
        db.session.commit()
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def live_postgres_app(name: str):
    """A module-scoped `live_app` fixture: `migrated_postgres_app(name)`. A module names it `live_app = ...`."""
    @pytest.fixture(scope="module")
    def live_app():
        with migrated_postgres_app(name) as app:
            yield app
    return live_app


def after_the_others(barrier, func, *, when=None):
    """`func` that first waits at `barrier` for the other threads (2 s at most: when they wait for a lock this one
    holds, the barrier breaks and it goes on), for the calls `when(*args, **kwargs)` accepts (all without `when`).
    Put after a service's checks and before its write, it makes requests sent at once all pass the checks before
    any writes, unless the service serialises them."""
    def wrapper(*args, **kwargs):
        if when is None or when(*args, **kwargs):
            try:
                barrier.wait(timeout=2)
            except threading.BrokenBarrierError:
                pass
        return func(*args, **kwargs)
    return wrapper


def at_once(target, calls) -> None:
    """Run `target(*args)` for each args of `calls`, each in its own thread, and wait for them all (60 s each)."""
    threads = [threading.Thread(target=target, args=args) for args in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)


def as_one_request(app, outcomes: list, done: str, action) -> None:
    """`action()` in an app context and a transaction of its own, as one request would run it: committed and
    `done` recorded in `outcomes`, or rolled back and the refusal recorded (its message and problems)."""
    from app.core.errors import ValidationFailed
    from app.extensions import db

    with app.app_context():
        try:
            action()
            db.session.commit()
            outcomes.append(done)
        except ValidationFailed as exc:
            db.session.rollback()
            outcomes.append(" ".join([exc.message, *exc.problems]))
        finally:
            db.session.remove()


def region_with_user(app, *, code: str, login: str, role: str, password: str, then=None) -> tuple[int, int]:
    """A region and one user holding `role` there, committed on `app`'s database; `then(region, user)` runs before
    the commit (more of the setup). Returns (region id, user id)."""
    from app.auth.services import create_user
    from app.extensions import db
    from app.orgs.services import create_organisation

    with app.app_context():
        region = create_organisation(code=code, name="Область", kind="region")
        user = create_user(login=login, full_name="Петрова Мария Ивановна", password=password, roles=[(role, region)])
        if then is not None:
            then(region, user)
        db.session.commit()
        ids = region.id, user.id
        db.session.remove()
    return ids

"""Fixtures: one app and one migrated database per session; every test runs inside an outer
transaction that is rolled back, with the application's session in savepoint mode so that code
under test can commit normally (style guide, convention 13)."""

import os
import tempfile
import time
from contextlib import contextmanager
from datetime import date, timedelta
from itertools import count

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import event, text

from tests import services as svc
from tests import snapshots

# Tests say `date.today()` for the users' today, and the users' today is the region's: the application's default
# time zone (Europe/Moscow). On a machine clock in UTC the two differ between 21:00 and 24:00 UTC, when «due
# today» or «a stand-in from today» would be a day off; so the suite runs in the region's zone. The application
# itself never reads the process time zone (aware UTC times, dates through app.core.timeutil.today_in).
os.environ["TZ"] = "Europe/Moscow"
time.tzset()

# Each feature's shared fixtures live in its own module (one owner per file).
pytest_plugins = ["tests.fixtures_documents", "tests.fixtures_analysis", "tests.fixtures_followup",
                  "tests.fixtures_deadlines", "tests.fixtures_effectiveness", "tests.fixtures_access",
                  "tests.fixtures_demo"]

TEST_DB = os.environ.get("TEST_DB", "sqlite")
PASSWORD = "correct-horse-42"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Before the test's fixtures are set up (no test transaction open): states built before the region's midnight
    # are built again for the new day (tests/snapshots.py refresh_after_midnight).
    snapshots.refresh_after_midnight()


def pytest_collection_modifyitems(config, items):
    # A test marked db_independent runs in the SQLite pass only (Makefile): one that reaches the test database after
    # all would lose its PostgreSQL run unnoticed, so it is refused here.
    for item in items:
        if item.get_closest_marker("db_independent") and (
                "database_url" in getattr(item, "fixturenames", ()) or hasattr(item.module, "TEST_DB")):
            raise pytest.UsageError(f"{item.nodeid} is marked db_independent but uses the test database")


def _database_url(tmp_dir: str) -> str:
    if TEST_DB == "postgresql":
        return svc.POSTGRES_URL
    return f"sqlite:///{os.path.join(tmp_dir, 'test.sqlite3')}"


def reset_postgres_schema(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def make_config(url: str, **overrides):
    from config import TestingConfig

    attrs = {"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "JOBS_MODE": "inline",
             "SECRET_KEY": "test-secret-key", "UPLOAD_DIR": tempfile.mkdtemp(prefix="uko-uploads-"),
             "STORAGE_DIR": tempfile.mkdtemp(prefix="uko-storage-"), **overrides}
    return type("SuiteConfig", (TestingConfig,), attrs)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if TEST_DB == "postgresql":
        svc.require_postgres()
        reset_postgres_schema(svc.POSTGRES_URL)
    return _database_url(str(tmp_path_factory.mktemp("db")))


@pytest.fixture(scope="session")
def app(database_url):
    from flask_migrate import upgrade

    from app import create_app
    from app.catalogue.services import load_all
    from app.extensions import db

    app = create_app(make_config(database_url))
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()
        load_all()
        db.session.commit()
        if db.engine.dialect.name == "sqlite":
            _enable_sqlite_savepoints(db.engine)
    yield app
    with app.app_context():
        db.engine.dispose()


def _enable_sqlite_savepoints(engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")

    engine.dispose()


@pytest.fixture
def db_session(app):
    with snapshots.rolled_back_session(app) as session:
        yield session


class IsolatedClient(FlaskClient):
    """A test client whose every request starts with an empty `flask.g`.

    db_session keeps one app context pushed for the whole test and Flask reuses it for each request,
    so `g` (where Flask-Login caches the signed-in user) would otherwise leak between requests and
    clients; a real server gets a fresh app context per request.
    """

    def open(self, *args, **kwargs):
        for name in list(g):
            g.pop(name)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app, db_session):
    return app.test_client()


# --- factories -------------------------------------------------------------------------------

_seq = count(1)


def org_factory(kind="school", parent=None, code=None, name=None, **context):
    from app.orgs.services import create_organisation

    n = next(_seq)
    return create_organisation(code=code or f"T{n:04d}", name=name or f"Организация {n}", kind=kind,
                               parent=parent, **context)


def user_factory(role, org, login=None, full_name=None, **kw):
    from app.auth.services import create_user

    n = next(_seq)
    return create_user(login=login or f"{role}{n}", full_name=full_name or f"Тестов{n} Иван Петрович",
                       password=PASSWORD, position=kw.pop("position", role), roles=[(role, org)], **kw)


@pytest.fixture
def make_org(db_session):
    return org_factory


@pytest.fixture
def make_user(db_session):
    return user_factory


def track_of(code: str, level_track: str = "main"):
    from sqlalchemy import select

    from app.catalogue.models import Mechanism, MechanismSet, Track
    from app.extensions import db

    return db.session.scalar(
        select(Track).join(Track.mechanism).join(Mechanism.mechanism_set)
        .where(Mechanism.code == code, Track.code == level_track, MechanismSet.active.is_(True)))


def cycle_factory(owner, actor, mechanism="M1.1", track="main", period="2025/26", responsible=None, deadlines=None):
    from app.cycles.services import create_cycle

    return create_cycle(track=track_of(mechanism, track), owner=owner, period=period, actor=actor,
                        responsible=responsible if responsible is not None else actor,
                        deadlines=deadlines or {"GOAL": date.today() + timedelta(days=10)})


@pytest.fixture
def make_cycle(db_session):
    return cycle_factory


def build_world(make_org, make_user) -> dict:
    """A region with one municipality and two schools, and one user per role where it matters."""
    region = make_org("region", code="REG", name="Тестовая область")
    mun = make_org("municipality", parent=region, code="MUN", name="Тестовый муниципалитет")
    school_a = make_org("school", parent=mun, code="SCH-A", name="Школа А", students=500, settlement="city")
    school_b = make_org("school", parent=mun, code="SCH-B", name="Школа Б", students=120, settlement="village")
    users = {
        "admin": make_user("admin", region, login="admin"),
        "official": make_user("official", mun, login="official"),
        "head": make_user("head", mun, login="head"),
        "methodologist": make_user("methodologist", mun, login="methodologist"),
        "director_a": make_user("director", school_a, login="director_a"),
        "staff_a": make_user("staff", school_a, login="staff_a"),
        "director_b": make_user("director", school_b, login="director_b"),
        "expert": make_user("expert", region, login="expert"),
        "auditor": make_user("auditor", region, login="auditor"),
    }
    return {"region": region, "mun": mun, "school_a": school_a, "school_b": school_b, **users}


# Fixtures whose state is built once per session (tests/snapshots.py) together with the world they stand in;
# a test asking for one of them gets that world as `world`.
WORLD_SNAPSHOTS = {"rec_cycle": "_rec_cycle_state", "anl_cycle": "_anl_cycle_state", "school_b": "_school_b_state"}


@pytest.fixture
def world(request, db_session, make_org, make_user):
    for name, state in WORLD_SNAPSHOTS.items():
        if name in request.fixturenames:
            return request.getfixturevalue(state)["world"]
    made = build_world(make_org, make_user)
    db_session.commit()
    return made


@pytest.fixture
def login(client):
    def do(user, password=PASSWORD, follow=False):
        response = client.post("/login", data={"login": user.login, "password": password},
                                follow_redirects=follow)
        assert response.status_code in (200, 302), response.data[:500]
        return response
    return do


def fill_goal(cycle, actor):
    from app.cycles.models import Goal
    from app.cycles.services import save_content

    from tests.fixtures_documents import stage_document_drafts

    goal = save_content(Goal, cycle, actor=actor, data={
        "direction": "Развитие добровольчества",
        "statement": "Создание условий для развития добровольчества обучающихся",
        "justification": "Доля обучающихся, вовлечённых в добровольчество, 12 % при региональной 25 %",
        "realism": "Есть ресурсный центр и опыт проведения акций"})
    stage_document_drafts(cycle.stage("GOAL"), actor)  # the stage's mandatory documents (documents guard)
    return goal


def fill_indicators(cycle, actor, *, skip_groups=(), baseline=50, target=60):
    """One indicator per required group of the cycle's mechanism, except `skip_groups`."""
    from app.cycles.models import Indicator
    from app.cycles.services import save_content

    from tests.fixtures_documents import stage_document_drafts

    made = []
    for n, group in enumerate(cycle.track.mechanism.indicator_groups, 1):
        if group.name in skip_groups:
            continue
        made.append(save_content(Indicator, cycle, actor=actor, data={
            "code": f"I-{n:02d}", "name": f"Показатель группы «{group.name}»", "unit": "%",
            "definition": "число / всего × 100", "group_name": group.name, "source": "ФИС ОКО",
            "collection_method": "выгрузка", "periodicity": "ежегодно", "baseline": baseline, "target": target,
            "direction": "up", "responsible": "Петрова М.И."}))
    stage_document_drafts(cycle.stage("IND"), actor)
    return made


def fill_method(cycle, actor):
    from app.cycles.models import CollectionMethod
    from app.cycles.services import save_content

    from tests.fixtures_documents import stage_document_drafts

    method = save_content(CollectionMethod, cycle, actor=actor, data={
        "source": "ФИС ОКО", "method": "статистический анализ", "tool": "шаблон", "schedule": "май"})
    stage_document_drafts(cycle.stage("METH"), actor)
    return method


# --- monitoring (shared by tests/test_monitoring*.py) -----------------------------------------

@pytest.fixture
def mon(world, make_cycle, db_session):
    """A municipal M1.1 cycle whose monitoring stage is open, with the official responsible."""
    from tests.test_monitoring import open_monitoring_stage

    cycle = make_cycle(world["mun"], world["official"])
    open_monitoring_stage(cycle, world["official"], world["head"])
    db_session.commit()
    return cycle


@pytest.fixture
def sent(world, mon, db_session):
    """A request to schools A and B, sent."""
    from app.monitoring import services
    from tests.test_monitoring import make_request

    req = make_request(mon, world["official"], [world["school_a"], world["school_b"]])
    services.transition_request(req, "send", actor=world["official"], today=date.today())
    db_session.commit()
    return req


@contextmanager
def counted_statements():
    """The SQL statements run inside the block (savepoints and rollbacks of the test harness left out): tests
    that guard against N+1 queries compare their counts for few and many rows."""
    from app.extensions import db

    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

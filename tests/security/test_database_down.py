"""The database or Redis is unreachable (issue 17 item 6): a signed-in user gets a Russian page without a
traceback, 503 with Retry-After (the error page itself needs no database); /health names the part that is
down; once the database is back the same process serves again (pool_pre_ping, no restart).

These tests build their own application on a database that cannot be reached, so they use no db_session."""

import os
import socket
import threading
import time

import pytest
from sqlalchemy.engine import make_url

from tests import services as svc
from tests.conftest import TEST_DB, make_config

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


_apps = []


def _app(url, **overrides):
    from app import create_app

    app = create_app(make_config(url, **{"DATABASE_CONNECT_TIMEOUT": 2, **overrides}))
    _apps.append(app)
    return app


@pytest.fixture(autouse=True)
def _dispose_engines():
    """Close the pooled connections of the applications a test built (psycopg warns about open ones)."""
    yield
    from app.extensions import db

    while _apps:
        with _apps.pop().app_context():
            db.engine.dispose()


def _signed_in_client(app):
    """A client whose session names user 1 (as after a log-in), so the next request must load the user."""
    from flask_login.utils import _create_identifier

    client = app.test_client()
    with app.test_request_context("/", environ_base=client.environ_base):
        identifier = _create_identifier()  # what "strong" session protection compares with
    with client.session_transaction() as session:
        session["_user_id"] = "1:0"
        session["_fresh"] = True
        session["_id"] = identifier
    return client


def _unreachable_url(tmp_path):
    if TEST_DB == "postgresql":
        return str(make_url(svc.POSTGRES_URL).set(host="127.0.0.1", port=1))
    return f"sqlite:///{tmp_path / 'no-such-directory' / 'db.sqlite3'}"


def _assert_unavailable_page(response):
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_data(as_text=True)
    assert "нет связи с базой данных" in body
    assert "Traceback" not in body and "Internal Server Error" not in body and "sqlalchemy" not in body.lower()
    assert response.headers["Cache-Control"] == "no-store"


def test_signed_in_user_gets_a_russian_503_page(tmp_path):
    app = _app(_unreachable_url(tmp_path))
    client = _signed_in_client(app)
    for path in ("/", "/cycles", "/tasks/", "/no-such-page"):
        _assert_unavailable_page(client.get(path))
    # A form post fails the same way, not with a bare 500.
    _assert_unavailable_page(client.post("/logout"))


def test_api_answers_503_json(tmp_path):
    app = _app(_unreachable_url(tmp_path))
    response = app.test_client().get("/api/v1/cycles", headers={"Authorization": "Bearer uko_x"})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json() == {"error": response.get_json()["error"], "problems": []}
    assert "базой данных" in response.get_json()["error"]


def test_health_names_the_part_that_is_down(tmp_path):
    down = _app(_unreachable_url(tmp_path)).test_client().get("/health")
    assert down.status_code == 503
    assert down.get_json() == {"status": "error", "database": "недоступна", "redis": "inline", "down": ["database"]}

    no_redis = _app("sqlite://", JOBS_MODE="rq", REDIS_URL=DEAD_REDIS).test_client().get("/health")
    assert no_redis.status_code == 503
    assert no_redis.get_json() == {"status": "error", "database": "ok", "redis": "недоступен", "down": ["redis"]}

    fine = _app("sqlite://").test_client().get("/health")
    assert fine.status_code == 200 and fine.get_json() == {"status": "ok", "database": "ok", "redis": "inline"}


@pytest.mark.redis
def test_health_with_a_live_redis():
    svc.require_redis()
    response = _app("sqlite://", JOBS_MODE="rq", REDIS_URL=svc.REDIS_URL).test_client().get("/health")
    assert response.get_json()["redis"] == "ok"


def test_engine_options_bound_the_wait(tmp_path):
    pg = _app("postgresql+psycopg://u@127.0.0.1:1/x", DATABASE_CONNECT_TIMEOUT=3)
    options = pg.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True and options["connect_args"]["connect_timeout"] == 3
    # A host that does not answer at all: the request ends after the connect timeout, with the 503 page.
    slow = _app("postgresql+psycopg://u@10.255.255.1:5432/x", DATABASE_CONNECT_TIMEOUT=1)
    started = time.monotonic()
    response = _signed_in_client(slow).get("/cycles")
    assert time.monotonic() - started < 10
    _assert_unavailable_page(response)


# --- recovery without a restart ------------------------------------------------------------------------

class _Proxy:
    """A TCP forwarder in front of PostgreSQL that the test can stop (closing every connection) and restart."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.port = None
        self._server = None
        self._sockets = []

    def start(self):
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", self.port or 0))
        self._server.listen(16)
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, args=(self._server,), daemon=True).start()

    def _accept(self, server):
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):
        try:
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept(); close() alone does not
        except OSError:
            pass
        self._server.close()
        for s in self._sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self._sockets = []


# The connections cut off while the database is away are dropped by the pool, and their sockets may be
# collected during a later test: that warning is the fault this test injects, not a leak of the application.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning", "ignore::ResourceWarning")
def test_the_same_process_recovers_when_the_database_comes_back(tmp_path):
    if TEST_DB == "postgresql":
        target = make_url(svc.POSTGRES_URL)
        proxy = _Proxy(target.host or "127.0.0.1", target.port or 5432)
        proxy.start()
        app = _app(str(target.set(host="127.0.0.1", port=proxy.port)))
        take_down, bring_back = proxy.stop, proxy.start
    else:
        folder = tmp_path / "db"
        folder.mkdir()
        app = _app(f"sqlite:///{folder / 'db.sqlite3'}")

        def take_down():
            with app.app_context():
                from app.extensions import db

                db.engine.dispose()
            os.rename(folder, tmp_path / "away")

        def bring_back():
            os.rename(tmp_path / "away", folder)

    client = app.test_client()
    assert client.get("/health").status_code == 200  # a pooled connection now exists
    take_down()
    try:
        assert client.get("/health").get_json()["down"] == ["database"]
        _assert_unavailable_page(_signed_in_client(app).get("/cycles"))
    finally:
        bring_back()
    assert client.get("/health").status_code == 200

"""Tracked jobs under faults, with a real Redis server (started here on a port of its own, stopped and started
again) and real `flask jobs worker` processes, over a scratch database the worker sees:

- Redis down while a user uploads an import, regenerates a document, starts an analysis and posts an API
  import: no 500, every row waits with «ожидает запуска: очередь недоступна»; Redis back, `flask jobs
  reconcile` sends each job once and a worker runs each to the end exactly once;
- the worker SIGKILLed in the middle of a large import: the reconciler fails the import with a Russian reason
  (no row of it stored), and uploading the file again loads every row once;
- an analysis run left running by a dead worker does not block a new run of the cycle.
"""

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from tests import services
from tests.conftest import PASSWORD, make_config

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parent.parent


class RedisServer:
    """A redis-server of this test on a free port, without persistence: stopping it loses every job."""

    def __init__(self, tmp_path: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.dir = tmp_path
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not services.port_open("127.0.0.1", self.port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def redis_server(tmp_path):
    if not Path("/usr/bin/redis-server").exists() and subprocess.run(["which", "redis-server"],
                                                                      capture_output=True).returncode:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def scratch(tmp_path):
    return services.scratch_database("test_jobs_faults", tmp_path)


def _env(app, server) -> dict:
    return {"REDIS_URL": server.url, "JOBS_MODE": "rq", "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "STORAGE_DIR": app.config["STORAGE_DIR"], "PYTHONPATH": str(ROOT)}


def _world_app(url: str, server, tmp_path, *, cycle: bool = True):
    """An app in RQ mode over a fresh scratch database with a municipality, its schools and users, and (with
    `cycle`) a municipal cycle whose ANL stage is open. Built with jobs inline (nothing queued is left)."""
    from flask_migrate import upgrade

    from app import create_app
    from app.catalogue.services import load_all
    from app.extensions import db
    from app.jobs.queue import dispatch_ready
    from tests.fixtures_analysis import drive_to_anl

    app = create_app(make_config(url, JOBS_MODE="rq", REDIS_URL=server.url, UPLOAD_DIR=str(tmp_path / "uploads"),
                                 STORAGE_DIR=str(tmp_path / "storage"), JOBS_RECONCILE_GRACE=0))
    app.config["JOBS_EFFECTIVE_MODE"] = "inline"
    with app.app_context():
        from app.auth.services import create_user
        from app.cycles.services import create_cycle
        from app.orgs.services import create_organisation
        from tests.conftest import track_of

        upgrade()
        load_all()
        region = create_organisation(code="REG", name="Тестовая область", kind="region")
        mun = create_organisation(code="MUN", name="Тестовый муниципалитет", kind="municipality", parent=region)
        for code, name in (("SCH-A", "Школа А"), ("SCH-B", "Школа Б")):
            create_organisation(code=code, name=name, kind="school", parent=mun, students=300, settlement="city")
        world = {"mun": mun}
        for role in ("official", "head"):
            world[role] = create_user(login=role, full_name=f"{role.title()}ов Иван Петрович", password=PASSWORD,
                                      position=role, roles=[(role, mun)])
        db.session.commit()
        if cycle:
            from datetime import date, timedelta

            made = create_cycle(track=track_of("M1.1"), owner=mun, period="2025/26", actor=world["official"],
                                responsible=world["official"], deadlines={"GOAL": date.today() + timedelta(days=10)})
            drive_to_anl(made, world)
            db.session.commit()
        dispatch_ready()
        db.session.remove()
    app.config["JOBS_EFFECTIVE_MODE"] = "rq"
    return app


def _dispose(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _csv(rows: int, *, offset: int = 0) -> bytes:
    from tests.test_imports import HEADER, result_row

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for n in range(offset + 1, offset + rows + 1):
        row = result_row(n, school_code="SCH-A" if n % 2 else "SCH-B")
        writer.writerow([row[h] for h in HEADER])
    return out.getvalue().encode()


def _login(client, login: str) -> None:
    response = client.post("/login", data={"login": login, "password": PASSWORD})
    assert response.status_code == 302


def _worker(app, server, url):
    """A long-running `flask jobs worker` in a process group of its own (so it dies with its job process)."""
    environ = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi.py", **_env(app, server)}
    return subprocess.Popen([sys.executable, "-m", "flask", "jobs", "worker"], cwd=ROOT, env=environ,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _kill(process) -> None:
    """SIGKILL the worker and its job process (RQ puts the job process in a process group of its own)."""
    for child in _children(process.pid):
        os.kill(child, signal.SIGKILL)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()  # reaped: its pid is gone, as a dead worker's is


def test_redis_down_at_four_actions_no_500_then_the_reconciler_runs_each_exactly_once(scratch, redis_server,
                                                                                      tmp_path):
    from app.analysis.models import AnalysisRun
    from app.audit.models import AuditEvent
    from app.documents.models import Document, DocumentVersion
    from app.extensions import db
    from app.imports.models import AssessmentResult, ImportRun
    from app.jobs.registry import WAITING
    from tests.test_api_tokens import bearer

    app = _world_app(scratch, redis_server, tmp_path)
    try:
        with app.app_context():
            from app.api.services import issue_token
            from app.auth.models import User
            from app.cycles.models import Cycle

            official = db.session.scalar(select(User).where(User.login == "official"))
            secret = issue_token(official, name="АИС", actor=official).secret
            db.session.commit()
            cycle_id = db.session.scalar(select(Cycle.id))
            doc = db.session.scalar(select(Document).order_by(Document.id))
            doc_id, doc_version = doc.id, doc.version
            mun_id = official.roles[0].organisation_id
            db.session.remove()

        redis_server.stop()
        client = app.test_client()
        _login(client, "official")
        upload = client.post("/imports/results/new", content_type="multipart/form-data",
                             data={"organisation_id": mun_id, "file": (io.BytesIO(_csv(20)), "r.csv")})
        regenerate = client.post(f"/documents/{doc_id}/regenerate",
                                 data={"version": doc_version, "form_token": "r" * 32})
        analysis = client.post(f"/analysis/cycles/{cycle_id}/runs", data={})
        from werkzeug.datastructures import FileStorage
        from werkzeug.test import encode_multipart

        boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(_csv(5, offset=100)), filename="api.csv",
                                                               content_type="text/csv")})
        api = client.post("/api/v1/imports/results", data=body, headers=bearer(secret),
                          content_type=f"multipart/form-data; boundary={boundary}")
        assert [r.status_code for r in (upload, regenerate, analysis, api)] == [302, 302, 302, 202]
        assert "ожидает запуска" in client.get(upload.headers["Location"]).get_data(as_text=True)

        with app.app_context():
            imports = db.session.scalars(select(ImportRun).order_by(ImportRun.id)).all()
            version = db.session.scalar(select(DocumentVersion).where(DocumentVersion.document_id == doc_id)
                                        .order_by(DocumentVersion.number.desc()))
            run = db.session.scalar(select(AnalysisRun))
            waiting = [(r.status, r.message) for r in imports] + [(version.status, version.error),
                                                                   (run.status, run.message)]
            assert waiting == [("queued", WAITING)] * 4
            version_id, run_id = version.id, run.id
            db.session.remove()

        redis_server.start()  # back, empty: it never saw the four jobs
        reconciled = services.run_flask(["jobs", "reconcile"], scratch, **_env(app, redis_server))
        assert reconciled.returncode == 0, reconciled.stderr
        assert "импорт: снова в очереди 2, прервано 0." in reconciled.stdout
        assert "расчёт анализа: снова в очереди 1" in reconciled.stdout
        assert "формирование документа: снова в очереди 1" in reconciled.stdout
        with app.app_context():
            from app.jobs.tracked import reconcile_all

            again = reconcile_all()  # the jobs are in Redis now: nothing is sent twice
            assert all(not o.requeued and not o.failed for o in again.values()), again
            db.session.remove()

        worker = services.run_flask(["jobs", "worker", "--burst"], scratch, **_env(app, redis_server))
        assert worker.returncode == 0, worker.stderr
        with app.app_context():
            imports = db.session.scalars(select(ImportRun).order_by(ImportRun.id)).all()
            assert [(r.status, r.rows_inserted) for r in imports] == [("done", 20), ("done", 5)], \
                [r.message for r in imports]
            assert db.session.scalar(select(func.count()).select_from(AssessmentResult)) == 25
            assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "import")) == 2
            version = db.session.get(DocumentVersion, version_id)
            assert (version.status, version.error) == ("done", None) and version.sha256
            run = db.session.get(AnalysisRun, run_id)
            assert run.status == "done" and run.message != WAITING, run.message
            db.session.remove()
        connection = redis.Redis.from_url(redis_server.url)
        assert all(connection.llen(f"rq:queue:{name}") == 0 for name in ("default", "documents", "imports"))
    finally:
        _dispose(app)


def _wait_for(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_import_fails_it_and_a_retry_loads_every_row_once(scratch, redis_server, tmp_path):
    from app.extensions import db
    from app.imports.models import AssessmentResult, ImportRun
    from app.imports.services import start_import
    from app.jobs.queue import dispatch_ready
    from app.jobs.tracked import reconcile_all

    rows = 60_000  # long enough that a worker is caught mid-way on a fast machine (30,000 took under a second)
    content = _csv(rows)
    app = _world_app(scratch, redis_server, tmp_path, cycle=False)
    worker = None
    try:
        def upload():
            with app.test_request_context():
                from app.auth.models import User

                official = db.session.scalar(select(User).where(User.login == "official"))
                run = start_import("results", filename="big.csv", stream=io.BytesIO(content), actor=official,
                                   organisation=official.roles[0].organisation)
                db.session.commit()
                dispatch_ready()
                run_id = run.id
                db.session.remove()
            return run_id

        def state(run_id):
            with app.app_context():
                run = db.session.get(ImportRun, run_id)
                found = (run.status, run.progress, run.message)
                db.session.remove()
                return found

        first = upload()
        worker = _worker(app, redis_server, scratch)
        status, progress, _ = _wait_for(lambda: (s := state(first))[0] == "running" and s[1] >= 1 and s,
                                        timeout=90, what="the import to run")
        _kill(worker)
        worker = None
        assert state(first)[0] == "running"  # a dead worker leaves it «выполняется» …

        with app.app_context():
            outcome = reconcile_all(["import"])["import"]  # … until the reconciler looks
            assert outcome.failed == [first]
            db.session.remove()
        status, _progress, message = state(first)
        assert status == "failed" and message.startswith("Импорт прерван: фоновый процесс был остановлен")
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(AssessmentResult)) == 0
            db.session.remove()
        client = app.test_client()
        _login(client, "official")
        page = client.get(f"/imports/{first}")
        assert "Refresh" not in page.headers and "Импорт прерван" in page.get_data(as_text=True)

        retry = upload()
        finished = services.run_flask(["jobs", "worker", "--burst"], scratch, **_env(app, redis_server))
        assert finished.returncode == 0, finished.stderr
        assert state(retry)[0] == "done", state(retry)
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(AssessmentResult)) == rows
            assert db.session.scalar(select(ImportRun.rows_inserted).where(ImportRun.id == retry)) == rows
            assert state(first)[0] == "failed"  # the killed import stays failed: its job does not come back
            db.session.remove()
    finally:
        if worker is not None:
            _kill(worker)
        _dispose(app)


def test_an_analysis_run_left_running_by_a_dead_worker_does_not_block_a_new_run(scratch, redis_server, tmp_path):
    from rq import Worker
    from rq.job import JobStatus

    from app.analysis.models import AnalysisRun
    from app.extensions import db
    from app.jobs.queue import get_queue

    app = _world_app(scratch, redis_server, tmp_path)
    worker = None
    try:
        connection = redis.Redis.from_url(redis_server.url)
        worker = _worker(app, redis_server, scratch)
        name = _wait_for(lambda: [w.name for w in Worker.all(connection=connection)], timeout=90,
                         what="the worker to register")[0]
        _kill(worker)
        worker = None
        client = app.test_client()
        _login(client, "official")
        with app.app_context():
            from app.cycles.models import Cycle

            cycle_id = db.session.scalar(select(Cycle.id))
            db.session.remove()
        assert client.post(f"/analysis/cycles/{cycle_id}/runs", data={}).status_code == 302
        with app.app_context():
            # The state a worker killed in the middle of the run leaves: the row running, its job started by a
            # worker whose process is gone.
            stuck = db.session.scalar(select(AnalysisRun))
            stuck.status, stuck.progress = "running", 40
            db.session.commit()
            job = get_queue("default").fetch_job(stuck.rq_job_id)
            job.worker_name = name
            job.save()
            job.set_status(JobStatus.STARTED)
            stuck_id = stuck.id
            db.session.remove()

        response = client.post(f"/analysis/cycles/{cycle_id}/runs", data={}, follow_redirects=False)
        assert response.status_code == 302
        with app.app_context():
            runs = db.session.scalars(select(AnalysisRun).order_by(AnalysisRun.id)).all()
            assert [r.status for r in runs] == ["failed", "queued"]
            assert runs[0].id == stuck_id and runs[0].message.startswith("Расчёт прерван")
            assert response.headers["Location"].endswith(f"/analysis/runs/{runs[1].id}")
            db.session.remove()
    finally:
        if worker is not None:
            _kill(worker)
        _dispose(app)

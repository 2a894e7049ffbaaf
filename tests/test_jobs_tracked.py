"""Tracked jobs without a Redis server: jobs declare their queue and timeout, one helper claims → works → commits
or fails the row with a Russian reason, Redis being down at dispatch never turns a committed action into a 500
(the row waits with «ожидает запуска: очередь недоступна»), and the reconciler settles rows a dead process left.
(The same against a real Redis and a real worker: test_jobs_faults.py.)"""

import io
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.errors import ValidationFailed
from app.core.timeutil import utcnow
from app.jobs import queue
from app.jobs.registry import WAITING
from tests.test_api_tokens import token_for  # noqa: F401  (a fixture)
from tests.test_imports import result_row, results_csv

DOWN = "redis://127.0.0.1:1/0"  # nothing listens there: every connection is refused


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    directory = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(directory))
    return directory


@pytest.fixture
def redis_down(app, monkeypatch):
    """The application is configured for RQ, and Redis has just gone away."""
    monkeypatch.setitem(app.config, "JOBS_EFFECTIVE_MODE", "rq")
    monkeypatch.setitem(app.config, "REDIS_URL", DOWN)


def _queued_import(world, db_session, **values):
    from app.imports.services import start_import

    run = start_import("results", filename="r.csv", stream=io.BytesIO(results_csv([result_row(1)])),
                       actor=world["official"], organisation=world["mun"], enqueue=False)
    run.rq_job_id = "job-of-the-test"
    for name, value in values.items():
        setattr(run, name, value)
    db_session.commit()
    db_session.info.pop("uko_ready_jobs", None)
    return run


# --- the declaration and the dispatch --------------------------------------------------------------------

def test_a_job_declares_its_queue_and_timeout_and_enqueueing_passes_neither(app, world, uploads, db_session,
                                                                            monkeypatch):
    from app.imports.jobs import run_import
    from app.imports.services import start_import

    assert (run_import.job_spec.queue, run_import.job_spec.timeout) == ("imports", 3 * 3600)
    sent = []

    class FakeQueue:
        def __init__(self, name):
            self.name = name

        def enqueue(self, func, *args, **options):
            sent.append((self.name, func, args, options))

    monkeypatch.setattr(queue, "get_queue", FakeQueue)
    monkeypatch.setitem(app.config, "JOBS_EFFECTIVE_MODE", "rq")
    run = start_import("results", filename="r.csv", stream=io.BytesIO(results_csv([result_row(1)])),
                       actor=world["official"], organisation=world["mun"])
    db_session.commit()
    queue.dispatch_ready()
    assert sent == [("imports", run_import, (run.id,), {"job_id": run.rq_job_id, "job_timeout": 3 * 3600,
                                                        "result_ttl": 500, "failure_ttl": 7 * 24 * 3600})]


def test_a_function_not_declared_as_a_job_cannot_be_enqueued(app, db_session):
    with pytest.raises(TypeError, match="not declared with @job"):
        queue.enqueue_after_commit(print, 1)


# --- Redis down when the user's action commits --------------------------------------------------------------

def test_an_upload_while_redis_is_down_redirects_and_the_import_waits_with_the_message(
        world, uploads, client, login, db_session, redis_down, caplog):
    from app.imports.models import ImportRun

    login(world["official"])
    with caplog.at_level(logging.WARNING, logger="app.jobs.queue"):
        response = client.post("/imports/results/new", content_type="multipart/form-data",
                               data={"organisation_id": world["mun"].id,
                                     "file": (io.BytesIO(results_csv([result_row(1)])), "r.csv")})
    assert response.status_code == 302
    run = db_session.scalar(select(ImportRun))
    assert response.headers["Location"].endswith(f"/imports/{run.id}")
    assert (run.status, run.message) == ("queued", WAITING)
    assert any("not enqueued" in r.getMessage() for r in caplog.records)
    page = client.get(f"/imports/{run.id}")
    assert WAITING in page.get_data(as_text=True)
    assert "Refresh" not in page.headers and 'http-equiv="refresh"' not in page.get_data(as_text=True)
    listing = client.get("/imports/")
    assert listing.status_code == 200 and "Refresh" not in listing.headers


def test_an_api_import_while_redis_is_down_is_accepted_and_waits(world, uploads, client, db_session, redis_down,
                                                                token_for):  # noqa: F811
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    from tests.test_api_tokens import bearer

    secret = token_for(world["official"])
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(results_csv([result_row(1)])),
                                                           filename="r.csv", content_type="text/csv")})
    response = client.post("/api/v1/imports/results", data=body, headers=bearer(secret),
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 202, response.get_data(as_text=True)
    status = client.get(response.headers["Location"], headers=bearer(secret)).get_json()
    assert (status["status"], status["message"]) == ("queued", WAITING)


def test_an_analysis_started_while_redis_is_down_waits_and_says_so(world, anl_cycle, client, login, db_session,
                                                                   redis_down):
    from app.analysis.models import AnalysisRun

    login(world["official"])
    response = client.post(f"/analysis/cycles/{anl_cycle.id}/runs", data={})
    assert response.status_code == 302
    run = db_session.scalar(select(AnalysisRun).where(AnalysisRun.cycle_id == anl_cycle.id))
    assert (run.status, run.message) == ("queued", WAITING)
    page = client.get(f"/analysis/runs/{run.id}").get_data(as_text=True)
    assert WAITING in page and 'http-equiv="refresh"' not in page
    overview = client.get(f"/analysis/cycles/{anl_cycle.id}").get_data(as_text=True)
    assert WAITING in overview and 'http-equiv="refresh"' not in overview
    # A second request while Redis is still down: the waiting run is not judged (nothing can be), and the
    # refusal says why the first one has not started.
    second = client.post(f"/analysis/cycles/{anl_cycle.id}/runs", data={}, follow_redirects=True)
    assert f"Анализ № {run.id} по этому циклу {WAITING}" in second.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(AnalysisRun)) == 1


def test_a_document_regenerated_while_redis_is_down_waits_and_the_page_stops_reloading(
        world, goal_stage, client, login, db_session, fake_generation, app, monkeypatch):
    from app.documents.services import generate_document

    doc = generate_document(goal_stage, "regulation", actor=world["official"])
    db_session.commit()
    queue.dispatch_ready()  # inline: the first edition is made
    db_session.expire_all()
    assert doc.current.status == "done"
    monkeypatch.setitem(app.config, "JOBS_EFFECTIVE_MODE", "rq")
    monkeypatch.setitem(app.config, "REDIS_URL", DOWN)
    login(world["official"])
    response = client.post(f"/documents/{doc.id}/regenerate", data={"version": doc.version, "form_token": "r" * 32})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    db_session.expire_all()
    assert (doc.current.number, doc.current.status, doc.current.error) == (2, "queued", WAITING)
    page = client.get(f"/documents/{doc.id}")
    assert "Refresh" not in page.headers and WAITING in page.get_data(as_text=True)


# --- the tracked run ---------------------------------------------------------------------------------------

def test_a_run_claims_its_row_once_and_commits_the_outcome(world, uploads, db_session):
    from app.imports.models import ImportRun
    from app.jobs.tracked import run_tracked

    run = _queued_import(world, db_session)
    calls = []

    def work(ids):
        calls.append(ids)
        row = db_session.get(ImportRun, ids[0])
        assert row.status == "running" and row.started_at is not None  # claimed and committed first
        row.status, row.message = "done", "Готово."

    assert run_tracked("import", [run.id], work) == [run.id]
    assert run_tracked("import", [run.id], work) == []  # a second delivery finds it taken
    db_session.expire_all()
    assert calls == [[run.id]] and (run.status, run.message) == ("done", "Готово.")


def test_a_refusal_fails_the_row_with_its_reason_and_an_error_with_the_kinds_message(world, uploads, db_session):
    from app.imports.models import ImportRun
    from app.imports.services import INTERNAL_ERROR
    from app.jobs.tracked import run_tracked

    refused, broken = _queued_import(world, db_session), _queued_import(world, db_session)

    def refuse(ids):
        db_session.get(ImportRun, ids[0]).rows_total = 99  # rolled back with the work
        raise ValidationFailed("Нельзя.", problems=["Причина."])

    run_tracked("import", [refused.id], refuse)  # outside a worker a refusal is recorded, not raised

    def crash(ids):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):  # imports re-raise, so the CLI reports the crash
        run_tracked("import", [broken.id], crash)
    db_session.expire_all()
    assert (refused.status, refused.message, refused.rows_total) == ("failed", "Нельзя. Причина.", 0)
    assert (broken.status, broken.message) == ("failed", INTERNAL_ERROR) and broken.finished_at is not None


# --- the reconciler ----------------------------------------------------------------------------------------

def test_inline_the_reconciler_fails_rows_a_dead_process_left_and_spares_young_ones(world, uploads, db_session,
                                                                                    app):
    from app.imports.models import ImportRun
    from app.jobs.tracked import reconcile_all

    old = _queued_import(world, db_session, status="running", progress=70,
                         created_at=utcnow() - timedelta(hours=7))
    young = _queued_import(world, db_session, status="running", progress=10)
    result = app.test_cli_runner().invoke(args=["jobs", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "импорт: снова в очереди 0, прервано 1." in result.output
    db_session.expire_all()
    assert old.status == "failed" and old.message.startswith("Импорт прерван") and old.finished_at is not None
    assert young.status == "running"
    assert reconcile_all(["import"])["import"].failed == []
    assert db_session.scalar(select(func.count()).select_from(ImportRun).where(ImportRun.status == "failed")) == 1


def test_a_command_import_killed_midway_is_failed_and_a_running_one_is_spared(world, uploads, db_session, app,
                                                                             monkeypatch):
    """`flask import results` runs the import in its own process, without a worker: killed mid-way (SIGKILL, a closed
    terminal), its row must not say «выполняется» forever. A command still running (this process) is left alone."""
    import subprocess
    import sys

    from app.imports.services import start_import
    from app.jobs import tracked

    def command_run():
        run = start_import("results", filename="r.csv", stream=io.BytesIO(results_csv([result_row(1)])),
                           actor=world["official"], organisation=world["mun"], enqueue=False)
        run.status = "running"
        return run

    running = command_run()
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    with monkeypatch.context() as patched:
        patched.setattr(tracked.os, "getpid", lambda: int(finished.stdout))  # that process is gone
        killed = command_run()
    db_session.commit()
    db_session.info.pop("uko_ready_jobs", None)

    result = app.test_cli_runner().invoke(args=["jobs", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "импорт: снова в очереди 0, прервано 1." in result.output
    db_session.expire_all()
    assert killed.status == "failed" and killed.finished_at is not None
    assert killed.message == ("Импорт прерван: команда импорта была остановлена, не завершив его; ничего не "
                              "сохранено. Запустите импорт снова.")
    assert running.status == "running"


def test_the_page_of_a_failed_import_stops_reloading(world, uploads, db_session, client, login):
    run = _queued_import(world, db_session, status="failed", message="Импорт прерван.")
    login(world["official"])
    page = client.get(f"/imports/{run.id}")
    assert page.status_code == 200 and "Refresh" not in page.headers
    assert 'http-equiv="refresh"' not in page.get_data(as_text=True)


def test_a_stuck_analysis_run_does_not_block_a_new_one(world, anl_cycle, db_session):
    from app.analysis import services
    from app.analysis.models import AnalysisRun

    stuck = services.start_run(anl_cycle, actor=world["official"])
    stuck.status, stuck.started_at, stuck.progress = "running", utcnow(), 40
    stuck.created_at = utcnow() - timedelta(hours=2)  # twice the job's timeout ago: its process is gone
    db_session.commit()
    db_session.info.pop("uko_ready_jobs", None)
    fresh = services.start_run(anl_cycle, actor=world["official"], enqueue=False)
    db_session.commit()
    db_session.expire_all()
    assert stuck.status == "failed" and stuck.message.startswith("Расчёт прерван")
    assert fresh.status == "queued" and fresh.id != stuck.id
    assert db_session.scalar(select(func.count()).select_from(AnalysisRun)) == 2

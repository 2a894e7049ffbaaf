"""Background jobs: enqueued only after commit, dropped on rollback, run by a real RQ worker on Redis
(or inline when Redis is absent)."""

from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from app.jobs import queue
from tests import job_probes, services
from tests.conftest import make_config

ROOT = Path(__file__).resolve().parent.parent


def test_job_runs_inline_only_after_commit(app, db_session):
    job_probes.CALLS.clear()
    with app.test_request_context():
        queue.enqueue_after_commit(job_probes.remember, 1)
        queue.dispatch_ready()
        assert job_probes.CALLS == []  # not committed yet
        db_session.commit()
        queue.dispatch_ready()
        assert job_probes.CALLS == [1]


def test_job_is_dropped_when_the_transaction_rolls_back(app, db_session):
    job_probes.CALLS.clear()
    with app.test_request_context():
        queue.enqueue_after_commit(job_probes.remember, 2)
        db_session.rollback()
        db_session.commit()
        queue.dispatch_ready()
        assert job_probes.CALLS == []


def test_unreachable_redis_means_inline_mode_and_a_log_line(database_url, caplog):
    from app import create_app

    with caplog.at_level("WARNING"):
        app = create_app(make_config(database_url, JOBS_MODE="auto", REDIS_URL="redis://127.0.0.1:1/0"))
    assert app.config["JOBS_EFFECTIVE_MODE"] == "inline"
    assert any("run inline" in r.getMessage() for r in caplog.records)


@pytest.fixture
def worker_database(tmp_path):
    return services.scratch_database("uko_test_jobs", tmp_path)


@pytest.mark.redis
def test_committed_job_goes_through_redis_to_a_real_rq_worker(worker_database):
    services.require_redis()
    from flask_migrate import upgrade

    from app import create_app
    from app.audit.models import AuditEvent
    from app.extensions import db

    redis_url = services.REDIS_URL
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    app = create_app(make_config(worker_database, JOBS_MODE="rq", REDIS_URL=redis_url))
    with app.app_context():
        upgrade()
        with app.test_request_context():
            queue.enqueue_after_commit(job_probes.record_probe, 4242)
            queue.enqueue_after_commit(job_probes.record_probe, 4343)
            db.session.rollback()  # the first two never happened
            queue.enqueue_after_commit(job_probes.record_probe, 777)
            db.session.commit()
            queue.dispatch_ready()
        assert queue.get_queue("default").count == 1
        worker = services.run_flask(["jobs", "worker", "--burst"], worker_database, REDIS_URL=redis_url,
                                    JOBS_MODE="rq", PYTHONPATH=str(ROOT))
        assert worker.returncode == 0, worker.stderr
        db.session.expire_all()
        markers = db.session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "probe")).all()
        assert markers == [777]
        assert queue.get_queue("default").count == 0
        db.session.remove()
        db.engine.dispose()
    connection.flushdb()

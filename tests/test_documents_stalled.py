"""A generation whose job is gone (worker killed, Redis lost it, inline process died) does not say «формируется»
forever: the reconciler (app.jobs.tracked) sends a job Redis forgot again and fails a version whose job is over,
periodically and when the document is generated again."""

from datetime import timedelta

import pytest
import redis
from flask import current_app
from sqlalchemy import select

from app.core.errors import ValidationFailed
from app.core.timeutil import utcnow
from tests import services

REDIS_URL = services.own_redis_url(2)  # a Redis database of its own: flushed here


def _queued(stage, actor, db_session, *, minutes: float):
    """The stage's regulation with its edition queued `minutes` ago and its job never run."""
    from app.documents.services import generate_document

    doc = generate_document(stage, "regulation", actor=actor)
    doc.current.created_at = utcnow() - timedelta(minutes=minutes)
    db_session.commit()
    db_session.info.pop("uko_ready_jobs", None)  # the job never runs
    return doc


def test_inline_a_generation_pending_past_twice_the_job_timeout_is_replaced(world, goal_stage, db_session,
                                                                            fake_generation):
    from app.documents.services import JOB_TIMEOUT, generate_document
    from app.documents.jobs import STALLED_REASON
    from app.jobs.queue import dispatch_ready

    doc = _queued(goal_stage, world["official"], db_session, minutes=10)
    with pytest.raises(ValidationFailed, match="уже формируется"):
        generate_document(goal_stage, "regulation", actor=world["official"])
    db_session.rollback()
    first = doc.current
    first.created_at = utcnow() - timedelta(seconds=2 * JOB_TIMEOUT + 60)
    db_session.commit()
    generate_document(goal_stage, "regulation", actor=world["official"])
    db_session.commit()
    dispatch_ready()
    db_session.expire_all()
    assert (first.status, first.error) == ("failed", STALLED_REASON)
    assert (doc.current.number, doc.current.status) == (2, "done")


@pytest.mark.redis
def test_with_redis_a_forgotten_job_is_sent_again_and_a_version_whose_job_is_over_is_failed(
        world, goal_stage, db_session, fake_generation, monkeypatch):
    services.require_redis()
    from rq.job import JobStatus

    from app.documents.jobs import STALLED_REASON, generate_versions
    from app.documents.models import DocumentVersion
    from app.jobs.queue import get_queue
    from app.jobs.tracked import pending_rows, reconcile_all, reconcile_rows

    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    monkeypatch.setitem(current_app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(current_app.config, "JOBS_EFFECTIVE_MODE", "rq")
    try:
        doc = _queued(goal_stage, world["official"], db_session, minutes=10)
        gone = doc.current  # its job id was never enqueued
        versions = {"gone": gone}
        for number, (name, minutes) in enumerate((("young", 0.5), ("waiting", 10), ("failed_job", 10)), start=2):
            version = DocumentVersion(document_id=doc.id, number=number, status="queued", progress=0,
                                      rq_job_id=f"job-{name}", created_at=utcnow() - timedelta(minutes=minutes))
            db_session.add(version)
            versions[name] = version
        db_session.commit()
        queue = get_queue("documents")
        queue.enqueue(generate_versions, [versions["waiting"].id], job_id="job-waiting")  # no worker: it waits
        queue.enqueue(generate_versions, [versions["failed_job"].id], job_id="job-failed_job")
        queue.fetch_job("job-failed_job").set_status(JobStatus.FAILED)

        outcome = reconcile_all(["document_version"])["document_version"]
        assert (outcome.requeued, outcome.failed) == ([gone.id], [versions["failed_job"].id])
        db_session.expire_all()
        state = {name: (v.status, v.error) for name, v in versions.items()}
        assert state == {"gone": ("queued", None), "failed_job": ("failed", STALLED_REASON),
                         "young": ("queued", None), "waiting": ("queued", None)}
        assert queue.fetch_job(gone.rq_job_id).args == ([gone.id],)  # sent again under its own job id
        again = reconcile_all(["document_version"])["document_version"]
        assert (again.requeued, again.failed) == ([], [])  # nothing left to judge again

        # Redis unreachable: nothing is judged, nothing changes.
        monkeypatch.setitem(current_app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
        versions["waiting"].created_at = utcnow() - timedelta(days=1)
        db_session.commit()
        assert not reconcile_rows("document_version", pending_rows("document_version")).judged
        assert db_session.scalar(select(DocumentVersion.status).where(
            DocumentVersion.id == versions["waiting"].id)) == "queued"
    finally:
        connection.flushdb()

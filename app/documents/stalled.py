"""Generations that will never finish (прерванное формирование).

A version waits «в очереди» or «формируется» until its job stores the file. When the job is gone — its worker was
killed (job timeout, out of memory, a restart), Redis lost it, or the web process running an inline job died — the
version would say «формируется» forever and a new generation of the document would be refused. Since the letters
of one click render 25 to a job, one lost job strands 25 letters. Such versions are failed with a reason instead:
by a periodic job (with Redis), and on the spot when someone generates the document again.
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.core.timeutil import utcnow
from app.documents.models import DocumentVersion
from app.extensions import db

log = logging.getLogger(__name__)
STALLED_REASON = ("Формирование прервано: задание не завершилось (фоновый процесс был остановлен). "
                  "Сформируйте документ заново.")
# The job is enqueued right after the commit that created the version: a young version may not be in Redis yet.
GRACE = timedelta(minutes=2)
_OVER = {"finished", "failed", "stopped", "canceled"}


def stalled(versions) -> list[DocumentVersion]:
    """Those of `versions` that wait or render although their job is over or gone. With Redis, RQ is asked about
    each job (one round trip for all); inline, a job runs right after its request, so a version still pending
    after twice the job timeout died with its process. Redis unreachable: nothing is judged stalled."""
    from app.documents.services import JOB_TIMEOUT

    now = utcnow()
    pending = [v for v in versions if v.status in ("queued", "running") and v.created_at < now - GRACE]
    if not pending:
        return []
    if current_app.config["JOBS_EFFECTIVE_MODE"] != "rq":
        return [v for v in pending if v.created_at < now - timedelta(seconds=2 * JOB_TIMEOUT)]
    import redis
    from rq.job import Job

    job_ids = sorted({v.rq_job_id for v in pending if v.rq_job_id})
    try:
        connection = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)
        jobs = Job.fetch_many(job_ids, connection=connection)
        over = {job_id for job_id, job in zip(job_ids, jobs) if job is None or job.get_status(refresh=False) in _OVER}
    except redis.RedisError:
        log.warning("Redis unreachable: stalled document generations are not checked now")
        return []
    return [v for v in pending if not v.rq_job_id or v.rq_job_id in over]


def fail_stalled(versions) -> int:
    """Fail the stalled ones of `versions` with STALLED_REASON (no commit); how many. Conditional on the status
    in the database: a job that finished between the look-ups keeps its result."""
    found = stalled(versions)
    if not found:
        return 0
    failed = list(db.session.scalars(update(DocumentVersion).where(
        DocumentVersion.id.in_([v.id for v in found]), DocumentVersion.status.in_(("queued", "running"))).values(
        status="failed", progress=100, error=STALLED_REASON).returning(DocumentVersion.id)
        .execution_options(synchronize_session=False)))
    for version in found:
        db.session.expire(version)
    for version_id in failed:
        log.warning("document version %s: its generation job is gone; marked failed", version_id)
    return len(failed)


def fail_stalled_job() -> int:
    """The periodic job (see app.jobs.queue.PERIODIC_JOBS): fail every stalled generation; commits."""
    pending = db.session.scalars(select(DocumentVersion).where(
        DocumentVersion.status.in_(("queued", "running")), DocumentVersion.created_at < utcnow() - GRACE)).all()
    failed = fail_stalled(pending)
    db.session.commit()
    return failed

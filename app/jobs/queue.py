"""Background jobs.

Jobs are enqueued only after the surrounding transaction commits (a worker must never read rows that
may still roll back); when Redis is unreachable on the embedded default they run inline, right after
the commit, and the log says so once at start-up.
"""

import logging
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)
QUEUES = ("default", "documents", "imports", "periodic")
_PENDING_KEY = "uko_pending_jobs"
_READY_KEY = "uko_ready_jobs"


def redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def init_app(app: Flask) -> None:
    mode = app.config["JOBS_MODE"]
    if mode == "auto":
        mode = "rq" if redis_reachable(app.config["REDIS_URL"]) else "inline"
        if mode == "inline":
            log.warning("Redis is not reachable at %s: background jobs run inline in the web process",
                        app.config["REDIS_URL"])
        else:
            log.info("Background jobs go to Redis at %s (start a worker: flask jobs worker)", app.config["REDIS_URL"])
    app.config["JOBS_EFFECTIVE_MODE"] = mode

    @app.after_request
    def _dispatch_jobs(response):
        dispatch_ready()
        return response


def get_queue(name: str = "default"):
    import redis
    from rq import Queue

    if name not in QUEUES:
        raise ValueError(f"unknown queue {name}")
    connection = redis.Redis.from_url(current_app.config["REDIS_URL"])
    return Queue(name, connection=connection)


def enqueue_after_commit(func, *args, queue: str = "default", job_timeout: int = 600, **kwargs) -> None:
    """Register a job to run once the current transaction commits; dropped on rollback."""
    session = db.session()
    # Make sure a transaction is open, so its commit or rollback (and so our hooks) will happen.
    session.connection()
    session.info.setdefault(_PENDING_KEY, []).append((func, args, kwargs, queue, job_timeout))


def _after_commit(session) -> None:
    # No SQL may run inside after_commit, so jobs only move to the ready list here.
    pending = session.info.pop(_PENDING_KEY, [])
    if pending:
        session.info.setdefault(_READY_KEY, []).extend(pending)


def _after_soft_rollback(session, previous_transaction) -> None:
    # Soft rollbacks count too (a rollback before any SQL ran); a rolled-back savepoint inside a
    # still-open transaction keeps the jobs registered before it.
    if not session.in_transaction():
        session.info.pop(_PENDING_KEY, None)


def dispatch_ready() -> None:
    """Send committed jobs to RQ, or run them inline (each in its own transaction) when Redis is absent."""
    session = db.session()
    # An inline job may itself commit follow-up jobs (an import refreshes the dashboards): run those too.
    while ready := session.info.pop(_READY_KEY, []):
        for func, args, kwargs, queue, job_timeout in ready:
            if current_app.config["JOBS_EFFECTIVE_MODE"] == "rq":
                get_queue(queue).enqueue(func, *args, job_timeout=job_timeout, failure_ttl=7 * 24 * 3600,
                                         **kwargs)
            else:
                func(*args, **kwargs)


# --- periodic jobs ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PeriodicJob:
    name: str  # stable: RQ keys the job's history by it
    func: str  # dotted path of a job function that takes no arguments and is safe to run any number of times
    queue: str
    interval: int  # seconds between runs (the first run is at scheduler start)
    timeout: int


# Every periodic job of the system, declared here as data. RQ 2.12's CronScheduler (`rq.cron`, run by
# `flask reminders cron` beside the worker) enqueues them; registering is idempotent: each start builds the
# scheduler from this list afresh, so restarting it never adds a second copy, and the jobs themselves are
# idempotent, so even two schedulers at once only repeat harmless work.
PERIODIC_JOBS = (
    PeriodicJob("deadline-reminders", "app.deadlines.reminders.reminders_job", "periodic",
                interval=3600, timeout=600),
    PeriodicJob("stalled-document-generations", "app.documents.stalled.fail_stalled_job", "periodic",
                interval=600, timeout=300),
)


def cron_scheduler(connection=None):
    """RQ's CronScheduler with every PERIODIC_JOBS entry registered once (by name)."""
    import redis
    from rq.cron import CronScheduler
    from werkzeug.utils import import_string

    connection = connection or redis.Redis.from_url(current_app.config["REDIS_URL"])
    scheduler = CronScheduler(connection=connection)
    registered = {job.name for job in scheduler.get_jobs()}
    for job in PERIODIC_JOBS:
        if job.queue not in QUEUES:
            raise ValueError(f"periodic job {job.name}: unknown queue {job.queue}")
        if job.name in registered:
            continue
        scheduler.register(import_string(job.func), queue_name=job.queue, interval=job.interval,
                           job_timeout=job.timeout, failure_ttl=7 * 24 * 3600, name=job.name)
        registered.add(job.name)
    return scheduler


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_soft_rollback", _after_soft_rollback)

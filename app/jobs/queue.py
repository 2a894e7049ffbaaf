"""Background jobs.

Every job declares its queue, timeout and TTLs where it is defined (`@job(queue=…, timeout=…)`), so an
enqueue names only the function and its ids. Jobs are enqueued only after the surrounding transaction
commits (a worker must never read rows that may still roll back); when Redis is unreachable on the
embedded default they run inline, right after the commit, and the log says so once at start-up. Redis
going down later never turns a committed action into an error: the job is not sent, the log warns, and a
tracked row (app.jobs.registry) says it waits; the reconciler (app.jobs.tracked) sends it when Redis is back.
"""

import logging
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.jobs import registry
from werkzeug.utils import import_string

log = logging.getLogger(__name__)
QUEUES = ("default", "documents", "imports", "periodic")
_PENDING_KEY = "uko_pending_jobs"
_READY_KEY = "uko_ready_jobs"


def redis_reachable(url: str) -> bool:
    # Local: Redis and RQ load only where a job really goes to a queue (inline mode never needs them).
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


@dataclass(frozen=True)
class JobSpec:
    queue: str
    timeout: int  # seconds; the worker kills a job that runs longer
    result_ttl: int  # seconds RQ keeps a finished job (the domain row keeps the outcome for good)
    failure_ttl: int  # seconds RQ keeps a failed job, for the operator


def job(*, queue: str = "default", timeout: int = 600, result_ttl: int = 500, failure_ttl: int = 7 * 24 * 3600):
    """Declare a job function's queue, timeout and TTLs where it is defined (Redash's `@job`). The function
    itself is returned unchanged (RQ enqueues it by its dotted name), carrying its `job_spec`."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue}")

    def declare(func):
        func.job_spec = JobSpec(queue, timeout, result_ttl, failure_ttl)
        return func

    return declare


def spec_of(func) -> JobSpec:
    try:
        return func.job_spec
    except AttributeError:
        raise TypeError(f"{func.__module__}.{func.__qualname__} is not declared with @job") from None


def init_app(app: Flask) -> None:
    mode = app.config["JOBS_MODE"]
    if mode == "auto":
        mode = "rq" if redis_reachable(app.config["REDIS_URL"]) else "inline"
        if mode == "inline":
            log.warning("Redis is not reachable at %s: background jobs run inline in the web process",
                        app.config["REDIS_URL"])
        else:
            log.info("Background jobs go to Redis at %s: a worker runs them (flask jobs worker; make run starts one)",
                     app.config["REDIS_URL"])
    app.config["JOBS_EFFECTIVE_MODE"] = mode
    # Pages compare a tracked row's message with it: a row waiting for Redis says so and stops reloading itself.
    app.jinja_env.globals["JOB_WAITING"] = registry.WAITING

    @app.after_request
    def _dispatch_jobs(response):
        dispatch_ready()
        return response


def get_queue(name: str = "default"):
    # Local: Redis and RQ load only where a job really goes to a queue (inline mode never needs them).
    import redis
    from rq import Queue

    if name not in QUEUES:
        raise ValueError(f"unknown queue {name}")
    # A short connect timeout: a request that dispatches jobs must not hang on a Redis that went away.
    connection = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=2)
    return Queue(name, connection=connection)


@dataclass(frozen=True)
class _Pending:
    func: object
    args: tuple
    job_id: str | None
    track: tuple[str, tuple[int, ...]] | None  # (tracked kind, row ids) the job will take
    after: tuple[str, ...] = ()  # job ids this one waits for (run whether they succeed or fail)


def enqueue_after_commit(func, *args, job_id: str | None = None, track: tuple[str, list[int]] | None = None,
                         after: list[str] | None = None) -> None:
    """Register a job (declared with @job) to run once the current transaction commits; dropped on rollback.
    `track` names the tracked rows it takes (kind, ids): if Redis cannot take the job, they say they wait.
    `after`: ids of jobs registered before this one that it waits for, finished or failed (RQ dependencies; inline,
    jobs run in the order they were registered anyway)."""
    spec_of(func)
    session = db.session()
    # Make sure a transaction is open, so its commit or rollback (and so our hooks) will happen.
    session.connection()
    tracked = (track[0], tuple(track[1])) if track else None
    session.info.setdefault(_PENDING_KEY, []).append(_Pending(func, args, job_id, tracked, tuple(after or ())))


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
    """Send committed jobs to RQ, or run them inline (each in its own transaction) when Redis is absent.

    Never raises because Redis is down: the action that registered the jobs is committed already, so the
    user gets its normal answer; the jobs' tracked rows are marked waiting and the reconciler sends them."""
    # Local: Redis and RQ load only where a job really goes to a queue (inline mode never needs them).
    import redis

    session = db.session()
    # An inline job may itself commit follow-up jobs (an import refreshes the dashboards): run those too.
    while ready := session.info.pop(_READY_KEY, []):
        for pending in ready:
            if current_app.config["JOBS_EFFECTIVE_MODE"] != "rq":
                pending.func(*pending.args)
                continue
            spec = spec_of(pending.func)
            try:
                options = {}
                if pending.after:
                    # Local: Redis and RQ load only where a job really goes to a queue.
                    from rq.job import Dependency

                    options["depends_on"] = Dependency(jobs=list(pending.after), allow_failure=True)
                get_queue(spec.queue).enqueue(pending.func, *pending.args, job_id=pending.job_id,
                                              job_timeout=spec.timeout, result_ttl=spec.result_ttl,
                                              failure_ttl=spec.failure_ttl, **options)
            except redis.RedisError as exc:
                name = f"{pending.func.__module__}.{pending.func.__qualname__}"
                log.warning("Redis unreachable, job %s%s not enqueued (%s)%s", name, pending.args, exc,
                            "; its rows wait for the reconciler" if pending.track else "")
                if pending.track:
                    registry.mark_waiting(*pending.track)


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
    # Re-sends the jobs of tracked rows Redis does not know, fails the rows a dead worker left (app.jobs.tracked).
    PeriodicJob("reconcile-tracked-jobs", "app.jobs.tracked.reconcile_job", "periodic",
                interval=120, timeout=300),
    # Signs the audit chain's head into AUDIT_CHECKPOINT_DIR (app.audit.checkpoints); a no-op until configured.
    PeriodicJob("audit-checkpoint", "app.audit.checkpoints.checkpoint_job", "periodic",
                interval=3600, timeout=1800),
)


def cron_scheduler(connection=None):
    """RQ's CronScheduler with every PERIODIC_JOBS entry registered once (by name)."""
    # Local: Redis and RQ load only where a job really goes to a queue (inline mode never needs them).
    import redis
    from rq.cron import CronScheduler

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

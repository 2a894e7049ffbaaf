"""Tracked runs: one lifecycle for every job whose fate a user watches on a domain row, and the reconciler.

    enqueue_tracked(kind, ids, job_id=None)   # after commit; the row's job as its kind declares it
    run_tracked(kind, ids, work) -> claimed   # the job: claim → work → done, or failed with a Russian reason
    reconcile_rows(kind, rows) -> Outcome     # re-send what Redis forgot, fail what a dead worker left
    reconcile_all() -> {kind: Outcome}        # every kind (`flask jobs reconcile`, the periodic job)

A row is `queued` until its job claims it (one conditional UPDATE, so of two deliveries only one works), then
`running`, then whatever the work sets (done, rejected, …) in the job's one commit, or `failed` with the reason.
The reconciler closes the two holes a queue leaves: a queued row whose job Redis does not know (Redis was down
when the action committed, or lost its data) is enqueued again; a running row whose job is over or whose worker
is gone (killed, out of memory, a lost host) is failed with the kind's Russian reason, so no page says
«выполняется» forever and nothing waits behind it. A row a command runs in its own process (`flask import
results`: no queue) carries a job id naming that process (`synchronous_job_id`); killed mid-way, it is failed
once its process is gone (on this host) or, seen from another host, once it is older than twice the job's timeout.
"""

import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from werkzeug.utils import import_string

from app.core.errors import DomainError
from app.core.timeutil import utcnow
from app.extensions import db
from app.jobs import queue
from app.jobs.registry import PENDING, WAITING, TrackedKind, get
from app.jobs.registry import KINDS

log = logging.getLogger(__name__)
_OVER = {"finished", "failed", "stopped", "canceled"}
SYNC_PREFIX = "sync:"  # the job id of a row run by a command in its own process, not by a worker


def synchronous_job_id() -> str:
    """The job id of a row the calling process runs itself (a command, no queue): its host and process id, so the
    reconciler can tell a run still going from one whose process was killed."""
    return f"{SYNC_PREFIX}{socket.gethostname()[:40]}:{os.getpid()}"


def _process_gone(job_id: str, since, limit) -> bool:
    """The command that ran a synchronous row is gone: on this host its process no longer exists; from another
    host (where it cannot be asked) the row is older than `limit`."""
    host, _, pid = job_id[len(SYNC_PREFIX):].rpartition(":")
    if host != socket.gethostname()[:40] or not pid.isdigit():
        return since < limit
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # a process of another user holds that id: alive
    return False


def in_worker() -> bool:
    # Local: Redis and RQ load only where a job really goes to a queue (inline mode never needs them).
    from rq import get_current_job

    return get_current_job() is not None


def job_function(kind: TrackedKind):
    return import_string(kind.job)


def enqueue_tracked(name: str, ids, *, job_id: str | None = None) -> None:
    """Enqueue the job of tracked rows after commit (`ids`: one id, or a list for a batch kind)."""
    kind = get(name)
    ids = list(ids) if isinstance(ids, (list, tuple)) else [ids]
    if not kind.batch and len(ids) != 1:
        raise ValueError(f"{name}: one row per job")
    if kind.job_id_column is None:
        job_id = f"{kind.name}-{ids[0]}"
    queue.enqueue_after_commit(job_function(kind), ids if kind.batch else ids[0], job_id=job_id, track=(name, ids))


# --- the run ---------------------------------------------------------------------------------------------

def claim(kind: TrackedKind, ids) -> list[int]:
    """Mark the queued ones of `ids` running with one conditional UPDATE and commit (the page shows it at once);
    the ids claimed, in order. A row no longer queued (a second delivery, a finished run) is left alone."""
    status = kind.column("status")
    claimed = sorted(db.session.scalars(
        update(kind.model).where(kind.model.id.in_(list(ids)), status == "queued")
        .values({kind.status: "running", kind.message: None, **kind.on_claim()})
        .returning(kind.model.id).execution_options(synchronize_session=False)))
    db.session.commit()
    if len(claimed) < len(ids):
        log.info("%s %s: not queued (already taken, finished or missing)", kind.name,
                 sorted(set(ids) - set(claimed)))
    return claimed


def fail(kind: TrackedKind, ids, message: str) -> list[int]:
    """Mark the pending ones of `ids` failed with `message` (no commit); the ids failed."""
    status = kind.column("status")
    return list(db.session.scalars(
        update(kind.model).where(kind.model.id.in_(list(ids)), status.in_(PENDING))
        .values({kind.status: "failed", kind.message: message[:2000], **kind.on_fail()})
        .returning(kind.model.id).execution_options(synchronize_session=False)))


def domain_message(exc: DomainError) -> str:
    return exc.message + (" " + " ".join(exc.problems) if exc.problems else "")


def run_tracked(name: str, ids, work) -> list[int]:
    """The body of a tracked job: claim the queued rows of `ids`, call `work(claimed_ids)` — which sets the
    rows' outcome and never commits — and commit once. If `work` raises, its transaction is rolled back and the
    rows are failed (a DomainError's Russian message, else the kind's internal error) in a transaction of their
    own. Inside an RQ worker the exception is then re-raised, so RQ keeps the job as failed too (outside one
    only for kinds that ask, e.g. the CLI reporting an import's crash). Returns the ids claimed."""
    kind = get(name)
    ids = list(ids) if isinstance(ids, (list, tuple)) else [ids]
    claimed = claim(kind, ids)
    if not claimed:
        return claimed
    try:
        work(claimed)
        db.session.commit()
    except DomainError as exc:
        log.info("%s %s refused: %s", kind.name, claimed, exc.message)
        _record_failure(kind, claimed, domain_message(exc))
        if in_worker():
            raise
    except Exception:
        log.exception("%s %s failed", kind.name, claimed)
        _record_failure(kind, claimed, kind.internal_error)
        if kind.raise_inline or in_worker():
            raise
    return claimed


def _record_failure(kind: TrackedKind, ids, message: str) -> None:
    db.session.rollback()
    failed = fail(kind, ids, message)
    if failed and kind.after_fail is not None:
        kind.after_fail(failed)
    db.session.commit()


# --- the reconciler --------------------------------------------------------------------------------------

@dataclass
class Outcome:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    judged: bool = True  # False: Redis did not answer, nothing was decided


def pending_rows(name: str, *where) -> list:
    """The rows of a kind that wait or run (filtered by `where`), with a job the reconciler can ask about (rows
    without a job id are run synchronously by a command, which the reconciler leaves alone)."""
    kind = get(name)
    query = select(kind.model).where(kind.column("status").in_(PENDING), *where)
    if kind.job_id_column is not None:
        query = query.where(kind.column("job_id_column").is_not(None))
    return list(db.session.scalars(query.order_by(kind.model.id)))


def _age_limit(kind: TrackedKind) -> timedelta:
    return timedelta(seconds=2 * queue.spec_of(job_function(kind)).timeout)


def _worker_gone(job, connection) -> bool:
    """The worker that started `job` is dead: its key expired (no heartbeat), or it ran on this host and its
    process is gone (seen at once, without waiting for the heartbeat to lapse)."""
    # Local: Redis and RQ load only where a job really goes to a queue (inline mode never needs them).
    from rq import Worker

    if not job.worker_name:
        return False
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name, connection=connection)
    if worker is None:
        return True
    if worker.hostname == socket.gethostname() and worker.pid:
        try:
            os.kill(worker.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


def _judge(kind: TrackedKind, rows) -> tuple[list, list] | None:
    """(rows to enqueue again, rows to fail); None when Redis does not answer (nothing can be judged)."""
    now = utcnow()
    # A queued row younger than this may be on its way to Redis right now (enqueued after its commit).
    grace = timedelta(seconds=current_app.config["JOBS_RECONCILE_GRACE"])
    status = {row.id: getattr(row, kind.status) for row in rows}
    if current_app.config["JOBS_EFFECTIVE_MODE"] != "rq":
        # Inline, a job runs right after its request: a row still pending after twice the job's timeout died
        # with the process that ran it.
        limit = now - _age_limit(kind)
        return [], [row for row in rows if getattr(row, kind.since) < limit]
    # Local: Redis and RQ load only where a job really goes to a queue (inline mode never needs them).
    import redis
    from rq.job import Job

    job_ids = sorted({kind.job_id_of(row) for row in rows})
    try:
        connection = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=2,
                                          socket_timeout=5)
        jobs = dict(zip(job_ids, Job.fetch_many(job_ids, connection=connection)))
        states = {job_id: job.get_status(refresh=False) if job else None for job_id, job in jobs.items()}
        dead = {job_id for job_id, job in jobs.items() if states[job_id] == "started" and _worker_gone(job,
                                                                                                     connection)}
    except redis.RedisError as exc:
        log.warning("Redis unreachable: tracked %s rows are not reconciled now (%s)", kind.name, exc)
        return None
    requeue, lost = [], []
    for row in rows:
        job_id = kind.job_id_of(row)
        state = states[job_id]
        if status[row.id] == "running":
            if state is None or state in _OVER or job_id in dead:
                lost.append(row)
        elif getattr(row, kind.message) == WAITING:
            requeue.append(row)  # its dispatch failed: nothing of it is in Redis, or only an old run's trace
        elif getattr(row, kind.since) > now - grace:
            continue
        elif state is None:
            requeue.append(row)
        elif state in _OVER or job_id in dead:
            lost.append(row)  # the job ran (or died) without taking the row: it will not come back
    return requeue, lost


def _synchronous(kind: TrackedKind, row) -> bool:
    return (kind.job_id_of(row) or "").startswith(SYNC_PREFIX)


def reconcile_rows(name: str, rows) -> Outcome:
    """Reconcile pending rows of one kind: enqueue again (after commit) those whose job Redis does not know, fail
    those whose job is over or whose worker is gone with the kind's reason. Flushes, never commits."""
    kind = get(name)
    rows = [row for row in rows if getattr(row, kind.status) in PENDING and kind.job_id_of(row)]
    if not rows:
        return Outcome()
    limit = utcnow() - _age_limit(kind)
    stopped = [row for row in rows if _synchronous(kind, row)
               and _process_gone(kind.job_id_of(row), getattr(row, kind.since), limit)]
    queued_rows = [row for row in rows if not _synchronous(kind, row)]
    judged = _judge(kind, queued_rows) if queued_rows else ([], [])
    if judged is None:
        if not stopped:
            return Outcome(judged=False)
        judged = ([], [])  # Redis is down: the queue's rows wait, a dead command's rows are failed all the same
    judged = (judged[0], judged[1] + stopped)
    requeue, lost = judged
    outcome = Outcome()
    if lost:
        outcome.failed = fail(kind, [row.id for row in lost if not _synchronous(kind, row)], kind.lost)
        outcome.failed += fail(kind, [row.id for row in lost if _synchronous(kind, row)], kind.lost_command)
        if outcome.failed and kind.after_fail is not None:
            kind.after_fail(outcome.failed)
        for row in lost:
            db.session.expire(row)
        for row_id in outcome.failed:
            log.warning("%s %s: its job is gone; marked failed", kind.name, row_id)
    groups: dict[str, list[int]] = {}
    for row in requeue:
        groups.setdefault(kind.job_id_of(row), []).append(row.id)
    for job_id, ids in groups.items():
        if kind.batch:
            # The whole batch goes back under its job id, not only the rows that were looked at.
            ids = sorted(db.session.scalars(select(kind.model.id).where(
                kind.column("job_id_column") == job_id, kind.column("status") == "queued")))
        db.session.execute(update(kind.model).where(kind.model.id.in_(ids), kind.column("message") == WAITING)
                           .values({kind.message: None}).execution_options(synchronize_session=False))
        for row_id in ids if not kind.batch else [ids]:
            enqueue_tracked(name, row_id, job_id=job_id)
        outcome.requeued += ids
        log.info("%s %s: job %s unknown to Redis; enqueued again", kind.name, ids, job_id)
    for row in requeue:
        db.session.expire(row)
    return outcome


def reconcile_all(names=None) -> dict[str, Outcome]:
    """Reconcile every pending row of every registered kind (or of `names`); commits and dispatches."""
    outcomes = {}
    for name in names or sorted(KINDS):
        outcomes[name] = reconcile_rows(name, pending_rows(name))
        db.session.commit()
    queue.dispatch_ready()
    return outcomes


def reconcile_job() -> int:
    """The periodic job (app.jobs.queue.PERIODIC_JOBS): reconcile everything; the number of rows changed."""
    outcomes = reconcile_all()
    return sum(len(o.requeued) + len(o.failed) for o in outcomes.values())

"""A job used by the queue tests: it runs in the RQ worker process and leaves a visible trace."""

from app.audit import chain
from app.extensions import db
from app.jobs.queue import job


@job(queue="default", timeout=60)
def record_probe(marker: int) -> None:
    chain.record(action="probe", object_type="probe", object_id=marker)
    db.session.commit()


CALLS: list[int] = []


@job(queue="default", timeout=60)
def remember(marker: int) -> None:
    CALLS.append(marker)

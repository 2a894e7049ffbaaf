"""Tracked rows: the domain rows that show a background job's fate to users (an import, an analysis run, a
document's edition, its registered copy, its PDF).

Features register their row type here at import time (`register(TrackedKind(...))`), so the job machinery of
this package — the tracked-run helper, the dispatch that survives Redis being down, the reconciler — can walk
every kind without importing a feature. The job is named by its dotted path for the same reason.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import update

from app.extensions import db

PENDING = ("queued", "running")
# Shown on the row's page while its job could not be handed to the queue (Redis down when the user's action was
# committed); the reconciler hands it over as soon as Redis answers again.
WAITING = "ожидает запуска: очередь недоступна"


def _nothing() -> dict:
    return {}


@dataclass(frozen=True)
class TrackedKind:
    name: str  # stable key: "import", "analysis_run", …
    model: type
    job: str  # dotted path of the job function; it takes the row's id (a list of ids when `batch`)
    label: str  # Russian noun for operators' output, e.g. «импорт»
    lost: str  # Russian reason recorded when the job is gone (worker killed, Redis lost it)
    internal_error: str  # Russian reason recorded on an unexpected error
    status: str = "status"  # column names on the model
    message: str = "message"
    job_id_column: str | None = "rq_job_id"  # None: the job id is derived from the row id (`<name>-<id>`)
    since: str = "created_at"  # the row's age, for the reconciler's grace period and the inline limit
    batch: bool = False  # one job renders several rows; rows sharing a job id are re-enqueued together
    on_claim: Callable[[], dict] = field(default=_nothing)  # extra column values when the job takes the row
    on_fail: Callable[[], dict] = field(default=_nothing)  # extra column values when the row fails
    raise_inline: bool = False  # re-raise unexpected errors outside a worker too (the CLI reports them)
    # Called with the ids just failed (by their job or by the reconciler), in that transaction: a row that is part of
    # a larger run fails the run with it (app/analysis/fanout.py). Flushes, never commits.
    after_fail: Callable[[list[int]], None] | None = None
    # Russian reason when a command running the row in its own process (no worker) was stopped; default: `lost`.
    lost_by_command: str | None = None

    @property
    def lost_command(self) -> str:
        return self.lost_by_command or self.lost

    def column(self, name: str):
        return getattr(self.model, getattr(self, name))

    def job_id_of(self, row) -> str | None:
        if self.job_id_column is None:
            return f"{self.name}-{row.id}"
        return getattr(row, self.job_id_column)


KINDS: dict[str, TrackedKind] = {}


def register(kind: TrackedKind) -> TrackedKind:
    """Declare a tracked row type (idempotent: registering a name again replaces it)."""
    KINDS[kind.name] = kind
    return kind


def get(name: str) -> TrackedKind:
    try:
        return KINDS[name]
    except KeyError:
        raise LookupError(f"no tracked job kind {name!r} is registered") from None


def job_id(name: str, row_id: int) -> str:
    """The job id of a row whose kind derives it from the row id."""
    return f"{name}-{row_id}"


def mark_waiting(name: str, ids) -> None:
    """Record on still-queued rows that their job could not be handed to Redis; commits."""
    kind = get(name)
    db.session.execute(update(kind.model).where(kind.model.id.in_(list(ids)), kind.column("status") == "queued")
                       .values({kind.message: WAITING}).execution_options(synchronize_session=False))
    db.session.commit()

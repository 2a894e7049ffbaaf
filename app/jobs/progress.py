"""Progress of a tracked run (app.jobs.registry: its `progress` column), written where the row's page can see
it while the job's own transaction is still open.

Each update is its own short transaction on a separate connection: a job's transaction commits only at the very
end (an import's rows all or none), so a progress value written inside it would stay invisible until then.
Exceptions:

- the session is bound to a connection that already holds a transaction (the test suite's rolled-back
  outer transaction): a separate connection could not even see the row, so updates go through the session
  itself, and only while reading (an import's load may be streaming a COPY on that connection);
- SQLite while rows are being loaded (`loading`): the loading transaction holds the database's only write lock,
  so a second writer would wait for it; progress is shown for reading and validating only;
- SQLite for a job that only reads until its final write (`commit_on_sqlite`, the analysis): a second writer
  would wait for the job's own read transaction, so the job's session writes and commits the value itself,
  which releases the lock and loses nothing.
"""

import time

from sqlalchemy import Connection, update
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.jobs.registry import get

MIN_INTERVAL = 0.5


class Progress:
    def __init__(self, kind: str, row_id: int, listener=None, *, commit_on_sqlite: bool = False):
        self.model = get(kind).model
        self.row_id = row_id
        self.listener = listener  # e.g. the CLI printing the percentage
        self.commit_on_sqlite = commit_on_sqlite
        self.shared = isinstance(db.session.get_bind(), Connection)
        self.sqlite = db.engine.dialect.name == "sqlite"
        self.loading = False
        self.closed = False
        self._last_value = None
        self._last_time = 0.0
        self._heard = None

    def set(self, percent: float, *, force: bool = False) -> None:
        value = max(0, min(99, int(percent)))
        if self.closed or value == self._last_value:
            return
        if self.listener is not None and value != self._heard:
            self._heard = value
            self.listener(value)
        now = time.monotonic()
        if not force and now - self._last_time < MIN_INTERVAL:
            return
        if self.loading and (self.sqlite or self.shared):
            return
        statement = update(self.model).where(self.model.id == self.row_id).values(progress=value)
        if self.shared:
            db.session.execute(statement)
        elif self.sqlite and self.commit_on_sqlite:
            db.session.execute(statement)
            db.session.commit()
        else:
            try:
                with db.engine.begin() as conn:
                    if conn.dialect.name == "postgresql":
                        # The job's own transaction may hold a lock this row's update waits for (a new year's
                        # partition locks import_runs through its foreign key): progress is worth no deadlock.
                        conn.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
                    conn.execute(statement)
            except OperationalError:
                return  # the next update will try again
        self._last_value, self._last_time = value, now

    def phase(self, start: float, end: float):
        """A callable mapping a fraction 0–1 of one phase onto the overall percentage."""
        return lambda fraction: self.set(start + (end - start) * fraction)

    @property
    def commits_session(self) -> bool:
        """Whether an update commits the job's own session (SQLite, `commit_on_sqlite`): what the job wrote before it
        is then visible to every connection, and durable."""
        return self.sqlite and self.commit_on_sqlite and not self.shared

    def close(self) -> None:
        # After this the job's own transaction updates the row: a separate writer would then wait on
        # the row lock held by the very transaction it is waiting for.
        self.closed = True

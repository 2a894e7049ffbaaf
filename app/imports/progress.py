"""Progress of a running import, written where the import page can see it while the import's own
transaction is still open.

Each update is its own short transaction on a separate connection: the import's transaction commits
only at the very end (all rows or none), so a progress value written inside it would stay invisible
until then. Two exceptions:

- the session is bound to a connection that already holds a transaction (the test suite's rolled-back
  outer transaction): a separate connection could not even see the import row, so updates go through
  the session itself, and only while reading (the load may be streaming a COPY on that connection);
- SQLite while rows are being loaded: the loading transaction holds the database's only write lock,
  so a second writer would wait for it; progress is shown for reading and validating only.
"""

import time

from sqlalchemy import Connection, update

from app.extensions import db
from app.imports.models import ImportRun

MIN_INTERVAL = 0.5


class Progress:
    def __init__(self, import_id: int, listener=None):
        self.import_id = import_id
        self.listener = listener  # e.g. the CLI printing the percentage
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
        statement = update(ImportRun).where(ImportRun.id == self.import_id).values(progress=value)
        if self.shared:
            db.session.execute(statement)
        else:
            with db.engine.begin() as conn:
                conn.execute(statement)
        self._last_value, self._last_time = value, now

    def phase(self, start: float, end: float):
        """A callable mapping a fraction 0–1 of one phase onto the overall percentage."""
        return lambda fraction: self.set(start + (end - start) * fraction)

    def close(self) -> None:
        # After this the import's own transaction updates the row: a separate writer would then wait on
        # the row lock held by the very transaction it is waiting for.
        self.closed = True

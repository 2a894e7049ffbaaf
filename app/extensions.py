"""Unbound extension singletons; create_app binds them with init_app. `reading`: the connection of the read-only
heavy queries (a read replica when REPLICA_DATABASE_URL is set)."""

from contextlib import contextmanager

from flask import current_app
from flask_bootstrap import Bootstrap5
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import create_engine, event

from app.core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
bootstrap = Bootstrap5()


READ_ONLY = ("SELECT", "WITH", "SHOW")


def _refuse_writes(conn, cursor, statement, parameters, context, executemany):
    if not statement.lstrip().upper().startswith(READ_ONLY):
        raise RuntimeError(f"the read replica takes only reads: {statement.split(None, 1)[0]!r} refused")


def replica_engine():
    """The read replica's engine of the current app (created on first use), or None when none is configured."""
    url = current_app.config.get("REPLICA_DATABASE_URL")
    if not url:
        return None
    state = current_app.extensions.setdefault("replica", {})
    if state.get("url") != url:
        options = {"pool_pre_ping": True}
        if url.startswith("postgresql"):
            # read-only transactions: the database itself refuses a write that got past the check below
            options["execution_options"] = {"postgresql_readonly": True}
            options["connect_args"] = {"connect_timeout": current_app.config.get("DATABASE_CONNECT_TIMEOUT", 5)}
        engine = create_engine(url, **options)
        event.listen(engine, "before_cursor_execute", _refuse_writes)
        state.update(url=url, engine=engine)
    return state["engine"]


@contextmanager
def reading():
    """A connection for a heavy read-only query: the replica's (its own short transaction, closed after the block)
    when one is configured, else the session's own connection (the job's or request's transaction, which sees
    what it wrote). What is read on a replica may lag the primary by its replication delay."""
    engine = replica_engine()
    if engine is None:
        yield db.session.connection()
        return
    with engine.connect() as connection:
        yield connection

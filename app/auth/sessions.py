"""Session lifetime: an idle timeout and an absolute lifetime, checked on the server at every request.

The signed session cookie carries when the session was issued (at log-in) and when it was last used; the
user loader refuses a session past either limit, so a captured cookie stops working after
SESSION_IDLE_MINUTES without use and SESSION_MAX_HOURS after the log-in, whatever the browser does.
Together with the user's `session_version` (bumped on log-out, password change and disabling) this ends
sessions on the server side.
"""

from flask import current_app, flash, session

from app.core.timeutil import utcnow

ISSUED_KEY = "_auth_issued"
SEEN_KEY = "_auth_seen"


def _now() -> int:
    return int(utcnow().timestamp())


def start() -> None:
    """Call right after log-in: the session's lifetime counts from now."""
    session[ISSUED_KEY] = session[SEEN_KEY] = _now()


def _end(message: str) -> None:
    session.pop(ISSUED_KEY, None)
    session.pop(SEEN_KEY, None)
    flash(message, "warning")


def alive() -> bool:
    """True while the session is within both limits (and marks it used now); False once it has expired."""
    cfg = current_app.config
    issued, seen = session.get(ISSUED_KEY), session.get(SEEN_KEY)
    if not isinstance(issued, int) or not isinstance(seen, int):
        return False  # a session from before these checks, or a tampered one that still verified
    now = _now()
    if now - issued > cfg["SESSION_MAX_HOURS"] * 3600:
        _end("Сеанс завершён: истёк максимальный срок сеанса. Войдите снова.")
        return False
    if now - seen > cfg["SESSION_IDLE_MINUTES"] * 60:
        _end("Сеанс завершён из-за отсутствия активности. Войдите снова.")
        return False
    if now != seen:
        session[SEEN_KEY] = now
    return True

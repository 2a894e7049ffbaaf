"""The request boundary owns the transaction (indico's `RH._process`).

A view reads its form, calls a service and returns. The boundary, around every view:

- a POST (any unsafe method) whose view returns a status below 400 is committed once, here, after the view;
  the jobs it registered with `enqueue_after_commit` are dispatched after that commit (app.jobs.queue);
- a view that returns a 4xx/5xx status, or raises anything, is rolled back: nothing of the request is kept;
- a GET (HEAD, OPTIONS) is never committed: what it wrote is discarded when the request ends. (A page that
  must keep something it computed, like the chart cache, commits that itself and says why; a download's
  access-log entry is kept by `keep_access_record`, which a HEAD's is not.)
- a write the database refuses because another request committed the same one first (a unique key, a foreign
  key, a row version: IntegrityError, StaleDataError at flush or commit) is a 409 refusal like any other
  (`ConcurrentChange`, `StaleObject`), so the view's own page comes back with what the user typed;
- a `DomainError` (app.core.errors) becomes, after the rollback, the answer the view declared with
  `on_refusal(...)` — its page again with the Russian message flashed or set on a form field, or a redirect —
  and otherwise the error page (HTML) or the JSON error body (`/api/`) with the error's status, never a 5xx.

A view that must keep a write although it refuses the request (a failed password counted by the throttle)
commits it itself, with a comment saying why; that is the only commit a view writes.
"""

from collections.abc import Callable

from flask import Flask, current_app, g, request, session
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.core import access
from app.core.errors import ConcurrentChange, DomainError, StaleObject
from app.core.hardening import path_for_log
from app.core.web import flash_problems
from app.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ANSWER = "_refusal_answer"


def on_refusal(answer: Callable[[DomainError], object], *, field=None) -> None:
    """Declare what this request answers if a DomainError is raised from here on.

    `answer(exc)` is called after the rollback (re-load what the page shows) and returns the view's usual
    response: its page with `exc.status_code`, or a redirect. The message and problems are flashed, or, with
    `field` (a WTForms field of the re-rendered form, or `field(exc)` choosing one by the kind of refusal),
    shown beside that field instead."""
    setattr(g, _ANSWER, (answer, field))


def keep_access_record() -> None:
    """Commit the access-log entry a GET view recorded before it sends a file (who took pupils' results or an
    evidence package is on record even if the transfer breaks off). A HEAD takes no file — a link checker's or a
    proxy's probe — and its entry is dropped: it was logged as a download the user never made (attack 17)."""
    if request.method == "HEAD":
        db.session.rollback()
    else:
        db.session.commit()


class App(Flask):
    """Flask with the request boundary around every view function (see the module's docstring)."""

    def dispatch_request(self):
        g.pop(_ANSWER, None)
        unsafe = request.method not in SAFE_METHODS
        flashed = len(session.get("_flashes", ())) if unsafe else 0
        try:
            try:
                response = self.make_response(super().dispatch_request())
                if unsafe:
                    if response.status_code < 400:
                        _commit(flashed)
                    else:
                        db.session.rollback()
                return response
            except (IntegrityError, StaleDataError) as exc:
                _drop_flashes(flashed)  # a success message the view flashed before its write was refused
                raise _collision(exc) from exc
        except DomainError as exc:
            db.session.rollback()
            declared = g.pop(_ANSWER, None)
            if declared is None or access.wants_json():
                raise  # the error page or the JSON error body with the error's status (app.core.web, app.api)
            answer, field = declared
            if field is not None and not hasattr(field, "errors"):
                field = field(exc)
            if field is None:
                flash_problems(exc)
            else:
                field.errors = [*field.errors, exc.message, *exc.problems]
            return self.make_response(answer(exc))
        except BaseException:
            # Before any error page is rendered: the layout loads the user and must not flush a half-done write.
            db.session.rollback()
            raise


def _collision(exc: Exception) -> StaleObject:
    """A unique key, a foreign key or a row version refused the write at flush or commit: another request that
    did the same thing (or changed or removed what this one refers to) committed first. The check the service
    made before writing could not see it, so the database's refusal is the answer: a 409 with the view's own
    page (what the user typed comes back), nothing kept. Logged, since a constraint that a check should have
    caught first is worth a look."""
    current_app.logger.warning("concurrent write refused on %s %s: %s", request.method, path_for_log(),
                               (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0])
    return StaleObject() if isinstance(exc, StaleDataError) else ConcurrentChange()


def _commit(flashed: int) -> None:
    try:
        db.session.commit()
    except BaseException:
        # The view flashed its success message before this commit failed: the user must not read it.
        _drop_flashes(flashed)
        raise


def _drop_flashes(flashed: int) -> None:
    if len(session.get("_flashes", ())) > flashed:
        session["_flashes"] = session["_flashes"][:flashed]

"""Double submit: a create form is processed once per rendered form.

Every form carries a one-time token (app.core.forms.Form.form_token, new at each rendering). A create view
decorated with `submit_once` stores the token with the rows it creates, in the same transaction, so a second
POST of the same form (a double click, a resent request) creates nothing and gets the first one's redirect.
The token is kept on the server, per user, not in the cookie session: two POSTs of one double click are in
flight together and the second carries the cookie from before the first answer; the primary key on the
token makes the second wait for the first to commit and then find it.
"""

import hashlib
import re
from datetime import timedelta
from functools import wraps
from typing import Callable

from flask import abort, flash, make_response, redirect, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from app.core.errors import ValidationFailed
from app.core.forms import FORM_TOKEN_FIELD, new_form_token
from app.core.redirects import same_site_path
from app.core.timeutil import utcnow
from app.extensions import db

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_\-]{16,64}")
KEEP = timedelta(days=2)  # a form left open longer than this is answered as a new one
REPLAYED = "Эта форма уже была отправлена: повторная отправка ничего не создала."
# A create view that refuses a repeat it cannot recognise (no token to compare) says so in these words.
UNTOKENED = ("Запрос отправлен не со страницы (без одноразового ключа формы) и ничего не изменил: обновите страницу "
            "и отправьте форму ещё раз.")


def form_token_input() -> Markup:
    """For a template's hand-written <form> (no WTForms object): a hidden input with a fresh token."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FORM_TOKEN_FIELD, new_form_token())


def _token() -> str | None:
    """The key of this submission: the form's token bound to the address it is posted to, so forms of one page
    that share a token (one form object rendered for several rows) do not stand in for each other."""
    token = request.form.get(FORM_TOKEN_FIELD) if request.method == "POST" else None
    if not token or not TOKEN_PATTERN.fullmatch(token):
        return None
    return hashlib.sha256(f"{token}|{request.path}".encode()).hexdigest()


def carries_form_token() -> bool:
    """Whether this POST carries a well-formed one-time token. Without one, `submit_once` cannot tell a repeat from a
    first submission: a view whose second submission would make something anew (a document's next edition) refuses
    it with UNTOKENED instead of processing it."""
    return _token() is not None


def refuse_untokened(existing: Callable[[], object | None]) -> None:
    """Refuse (ValidationFailed, UNTOKENED) a POST without the one-time token over an object it would make anew:
    `submit_once` cannot tell it from a repeat, and each replayed request made one more edition or row. `existing()`
    finds that object, asked only without a token; when there is none the POST is a first creation, no repeat."""
    if not carries_form_token() and existing() is not None:
        raise ValidationFailed(UNTOKENED)


def _same_site(target: str | None) -> str | None:
    return same_site_path(target, request.host)


def _replay(row):
    if row is not None and row.user_id != current_user.id:
        abort(400)
    flash(REPLAYED, "info")
    # No location yet: the first POST committed but has not written its redirect; go back to the form's page.
    location = (row.location if row is not None else None) or _same_site(request.referrer) \
        or url_for("cycles.dashboard")
    return redirect(location)


def submit_once(view):
    """Decorate a create view (under its access rule): a repeated POST of one rendered form creates nothing."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        from app.auth.models import FormSubmission  # late: feature views import this module while models load

        token = _token()
        if token is None or not current_user.is_authenticated:
            return view(*args, **kwargs)  # forms from before the token, API clients: processed as they are
        done = db.session.get(FormSubmission, token)
        if done is not None:
            return _replay(done)
        db.session.execute(delete(FormSubmission).where(FormSubmission.user_id == current_user.id,
                                                        FormSubmission.created_at < utcnow() - KEEP))
        db.session.add(FormSubmission(token=token, user_id=current_user.id, endpoint=(request.endpoint or "")[:100]))
        try:
            db.session.flush()  # waits here while a concurrent first POST of the same form is running
        except IntegrityError:
            db.session.rollback()
            return _replay(db.session.get(FormSubmission, token))
        response = make_response(view(*args, **kwargs))
        row = db.session.get(FormSubmission, token)
        created_page = response.status_code == 201  # e.g. an API token shown once on the page that issued it
        if (300 <= response.status_code < 400 and response.location) or created_page:
            if row is not None:  # committed with what the view created (or the view changed nothing)
                location = response.location if not created_page else _same_site(request.referrer)
                row.location = (location or url_for("cycles.dashboard"))[:500]
                db.session.commit()
        elif row is not None:
            # Refused: the same rendered form may be corrected and sent again.
            db.session.rollback()
            db.session.execute(delete(FormSubmission).where(FormSubmission.token == token))
            db.session.commit()
        return response

    return wrapper

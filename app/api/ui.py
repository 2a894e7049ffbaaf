"""Pages where a user issues and revokes personal API tokens (CSRF-protected, unlike the API itself).

A user sees and revokes only their own tokens, whatever roles they hold. The secret is shown once, in the
response to the issuing POST itself: it never goes into a redirect, a flash message or the session cookie.
"""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from app.api import services
from app.api.forms import RevokeForm, TokenForm
from app.auth.services import user_in_admin_scope
from app.auth.submissions import submit_once
from app.core.access import roles_required, signed_in
from app.core.boundary import on_refusal

bp_ui = Blueprint("tokens", __name__, template_folder="templates")


def _list_page(form: TokenForm, status: int = 200, issued: services.IssuedToken | None = None):
    return render_template("tokens/list.html", tokens=services.tokens_of(current_user), form=form,
                           revoke=RevokeForm(), issued=issued,
                           max_tokens=services.MAX_ACTIVE_TOKENS,
                           token_days=services.token_lifetime().days), status


@bp_ui.route("/")
@signed_in
def token_list():
    return _list_page(TokenForm(formdata=None))


@bp_ui.route("/new", methods=["POST"])
@signed_in
@submit_once
def issue_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _list_page(form, 422)
    on_refusal(lambda exc: _list_page(form, 422), field=form.name)
    issued = services.issue_token(current_user, name=form.name.data, actor=current_user)
    # 201 with the page, not a redirect: the secret exists only in this response.
    response, _ = _list_page(TokenForm(formdata=None), 201, issued)
    return response, 201, {"Cache-Control": "no-store"}


@bp_ui.route("/<int:token_id>/revoke", methods=["POST"])
@signed_in
def revoke_token(token_id: int):
    # CSRFProtect has already checked the form's token (RevokeForm only renders it).
    token = services.own_token(current_user, token_id)
    on_refusal(lambda exc: redirect(url_for("tokens.token_list")))
    revoked = services.revoke_token(token, actor=current_user)
    if revoked:
        flash(f"Токен «{token.name}» отозван.", "success")
    else:
        flash(f"Токен «{token.name}» уже был отозван." if token.revoked_at else
              f"Срок действия токена «{token.name}» уже истёк.", "info")
    return redirect(url_for("tokens.token_list"))


@bp_ui.route("/of/<int:user_id>")
@roles_required("admin")
def user_tokens(user_id: int):
    """An administrator sees the tokens of a user in their scope — expiry and last use, never a secret — to tell
    which systems still reach the API as that person; issuing and revoking stay the owner's."""
    user = user_in_admin_scope(current_user, user_id)
    return render_template("tokens/of_user.html", user=user, tokens=services.tokens_of(user))

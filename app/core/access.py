"""Access policy: deny by default.

Every view declares its rule with one of the decorators below; a before-request hook enforces it and
refuses any endpoint that declares none. Object-level scope (the organisation subtree) is checked by
`get_in_scope`, which answers 404 for objects outside the user's subtree so their existence does not leak.

A deputy (заместитель) is admitted exactly where the person they stand in for today would be: role rules and
scoped getters judge the user's own roles together with those of the people they cover (`acting_roles_over`,
`acting_has_role`); the stand-in answer comes through the `covered_people` hook (app/core/hooks.py), so this
module imports no feature.

Pages authenticate with the session cookie; the machine-to-machine API (@api_token) authenticates only
with a personal token in `Authorization: Bearer …` and ignores the cookie, which is why CSRF does not
apply to it: a browser never attaches that header on its own.
"""

from functools import wraps

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import false, or_
from werkzeug.exceptions import Unauthorized

from app.core import hooks
from app.extensions import db

RULE_ATTR = "_access_rule"


class Rule:
    def __init__(self, *, public: bool = False, roles: frozenset[str] | None = None, token: bool = False):
        self.public = public
        self.roles = roles  # None: any signed-in user (object scope is checked by the view)
        self.token = token  # authenticated by an API token in the Authorization header, never by the cookie

    def __repr__(self) -> str:
        if self.public:
            return "public"
        roles = f"roles={sorted(self.roles) if self.roles else 'any'}"
        return f"api token, {roles}" if self.token else roles


def _mark(rule: Rule):
    def decorator(view):
        setattr(view, RULE_ATTR, rule)
        return view
    return decorator


def public(view):
    """Reachable without signing in (log-in page, static files, health check)."""
    return _mark(Rule(public=True))(view)


def signed_in(view):
    """Any signed-in user; the view must scope every object it loads with get_in_scope."""
    return _mark(Rule())(view)


def roles_required(*roles: str):
    """Only users holding one of `roles` somewhere; objects are still scoped to their subtree."""
    return _mark(Rule(roles=frozenset(roles)))


def api_token(view):
    """Any holder of a valid personal API token; the request acts as the token's owner, with the owner's
    roles and scope. The session cookie is ignored. The view must scope every object with get_in_scope."""
    return _mark(Rule(token=True))(view)


class TokenRefused(Unauthorized):
    """401 for the API: no token, or one that is unknown, revoked or belongs to a disabled user.
    `description` is the Russian reason shown in the error's problems."""


def acting_roles_over(user, org, day=None) -> set[str]:
    """The user's own roles over `org` and those of the people they stand in for on `day` (default: today): what a
    page or a button gated by role admits (the workflow engine judges transitions the same way)."""
    roles = set(user.roles_over(org))
    for absent in hooks.covered_people(user, day):
        roles |= absent.roles_over(org)
    return roles


def acting_has_role(user, *roles: str) -> bool:
    """The user, or someone they stand in for today, holds one of `roles` somewhere."""
    if user.has_role(*roles):
        return True
    return any(absent.has_role(*roles) for absent in hooks.covered_people(user))


def acting_role_organisations(user, roles) -> list:
    """The organisations where the user, or someone they stand in for today, holds one of `roles`: the choice a
    form offers (an upload's organisation), the same the service then admits."""
    people = [user, *hooks.covered_people(user)]
    return sorted({r.organisation for p in people for r in p.roles if r.role in roles}, key=lambda o: o.path)


def acting_scope_paths(user, roles=None) -> list[str]:
    paths = set(user.scope_paths(roles))
    for absent in hooks.covered_people(user):
        paths |= set(absent.scope_paths(roles))
    return sorted(paths)


def _sign_in_with_bearer_token() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if not header:
        raise TokenRefused("Передайте персональный API-токен в заголовке «Authorization: Bearer <токен>».")
    if scheme.lower() != "bearer" or not secret.strip():
        raise TokenRefused("Заголовок Authorization должен иметь вид «Bearer <токен>».")
    user = hooks.bearer_user(secret.strip())
    if user is None:
        raise TokenRefused("API-токен недействителен, отозван или его владелец отключён.")
    # Flask-Login's own hook for "this request's user" (what its request_loader uses): the user holds only
    # for this request, nothing is written to the session, so no cookie is issued either.
    current_app.login_manager._update_request_context_with_user(user)


def rule_of(view) -> Rule | None:
    return getattr(view, RULE_ATTR, None)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def enforce_access_rule():
    """before_request hook."""
    if request.endpoint is None:
        return None  # 404/405 from routing
    view = current_app.view_functions.get(request.endpoint)
    rule = rule_of(view)
    if rule is None:
        current_app.logger.error("endpoint %s declares no access rule; refused", request.endpoint)
        abort(403)
    if rule.public:
        return None
    if rule.token:
        _sign_in_with_bearer_token()
    elif not current_user.is_authenticated:
        if wants_json() or request.method != "GET":
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
    if rule.roles is not None and not acting_has_role(current_user, *rule.roles):
        abort(403)
    return None


def scope_condition(path_column, user=None, roles=None):
    """SQL condition: the row's organisation path lies in one of the user's role subtrees (or in one of the
    people's they stand in for today)."""
    user = user or current_user
    paths = acting_scope_paths(user, roles)
    if not paths:
        return false()
    return or_(*[path_column.like(p + "%") for p in paths])


def can_open(org, user=None) -> bool:
    """Whether get_in_scope (without roles) admits an object of `org` for the user: a page links an object only when
    its page opens for the reader (a municipality's request page linked the region's cycle, 404 to its head)."""
    user = user or current_user
    return bool(user.is_authenticated and acting_roles_over(user, org))


def get_in_scope(model, object_id, *, roles=None):
    """Load a row and return it only if its organisation is in the user's subtree (or in that of someone they
    stand in for today), else 404."""
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    roles_held = acting_roles_over(current_user, obj.organisation)
    if not roles_held or (roles is not None and not roles_held & set(roles)):
        abort(404)
    return obj


def with_rule(rule_decorator):
    """Apply an access rule to a view added by a third-party extension."""
    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            return view(*args, **kwargs)
        return rule_decorator(inner)
    return wrap

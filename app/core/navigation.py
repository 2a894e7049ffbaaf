"""The navigation bar: the entries every feature declares in its descriptor (`Feature.navigation`, each with
its group, label, endpoint and who sees it), in the groups of GROUPS, and the user menu.

The base template renders whatever `navigation()` returns (a group with no visible entry is left out), so a
feature adds a page to the menu in its own descriptor and never touches the markup."""

from flask import current_app, request, url_for
from flask_login import current_user

from app.core import features
from app.core.access import acting_has_role
from app.core.features import NavEntry


# The groups of the bar, in order; each feature's descriptor names the group of its entries (app/core/features.py).
GROUPS = ("Работа", "Циклы", "Данные", "Аналитика", "Администрирование")

# The user menu (right-hand side): personal settings; log-out is a form rendered after these.
USER_MENU = (
    NavEntry(10, "Сменить пароль", "auth.change_password"),
    NavEntry(20, "API-токены", "tokens.token_list"),
    NavEntry(30, "Подписка iCalendar", "deadlines.ical_settings"),
)


def _visible(entries, user):
    out = []
    for entry in entries:
        if entry.endpoint not in current_app.view_functions:
            continue  # a feature not installed in this build
        if not entry.visible_to(user):
            continue
        args = entry.args(user) if callable(entry.args) else {}
        if args is None:
            continue
        active = request.endpoint in (entry.endpoint, *entry.also)
        out.append({"label": entry.label, "url": url_for(entry.endpoint, **args), "active": active})
    return out


def navigation() -> list[dict]:
    """The groups the signed-in user sees: [{label, active, entries: [{label, url, active}]}]."""
    if not current_user.is_authenticated:
        return []
    by_group: dict[str, list] = {}
    for entry in features.navigation(current_user):
        if entry.group:
            by_group.setdefault(entry.group, []).append(entry)
    groups = []
    for label in GROUPS + tuple(g for g in by_group if g not in GROUPS):
        entries = _visible(by_group.get(label, ()), current_user)
        if entries:
            groups.append({"label": label, "entries": entries, "active": any(e["active"] for e in entries)})
    return groups


def user_menu() -> list[dict]:
    return _visible(USER_MENU, current_user) if current_user.is_authenticated else []


def init_app(app) -> None:
    app.context_processor(lambda: {"navigation": navigation, "user_menu": user_menu})
    # A button leading to a role-gated page asks what the page admits (a deputy included), not `has_role`.
    app.jinja_env.globals["acting_has_role"] = acting_has_role

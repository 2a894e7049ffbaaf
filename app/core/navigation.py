"""The navigation bar as data: groups of entries, each entry an endpoint, a label and who sees it.

The base template renders whatever `navigation()` returns (a group with no visible entry is left out),
so adding a page to the menu is one line here and never touches the markup."""

from dataclasses import dataclass, field

from flask import current_app, request, url_for
from flask_login import current_user


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: str
    roles: tuple[str, ...] = ()            # empty: every signed-in user
    # Called with the user; returns the endpoint's URL arguments, or None when the entry does not apply.
    args: object = None
    # Other endpoints that count as "this entry" for highlighting the active group.
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class NavGroup:
    label: str
    entries: tuple[NavEntry, ...] = field(default_factory=tuple)


def _own_school(user):
    org = user.home_organisation
    return {"org_id": org.id} if org is not None and org.kind == "school" else None


NAV_GROUPS = (
    NavGroup("Работа", (
        NavEntry("tasks.inbox", "Мои задачи"),
        NavEntry("deadlines.calendar_page", "Календарь"),
        NavEntry("followup.my_items", "Рекомендации", roles=("director", "staff")),
        NavEntry("deadlines.standin_list", "Заместители"),
    )),
    NavGroup("Циклы", (
        NavEntry("cycles.cycle_list", "Все циклы", also=("cycles.cycle_detail", "cycles.stage_detail")),
        NavEntry("catalogue.index", "Механизмы и направления"),
    )),
    NavGroup("Данные", (
        NavEntry("monitoring.index", "Сбор сведений"),
        NavEntry("imports.import_list", "Импорт данных"),
    )),
    NavGroup("Аналитика", (
        NavEntry("situation.index", "Ситуационный центр"),
        NavEntry("analysis.school", "Профиль моей организации", roles=("director", "staff"), args=_own_school),
        NavEntry("orgs.org_list", "Организации", also=("orgs.org_detail",)),
    )),
    NavGroup("Администрирование", (
        NavEntry("audit.events", "Журнал аудита", roles=("admin", "auditor", "expert", "head")),
        NavEntry("auth.users", "Пользователи", roles=("admin",)),
        NavEntry("documents.templates_list", "Шаблоны документов", roles=("admin",)),
    )),
)

# The user menu (right-hand side): personal settings; log-out is a form rendered after these.
USER_MENU = (
    NavEntry("auth.change_password", "Сменить пароль"),
    NavEntry("tokens.token_list", "API-токены"),
    NavEntry("deadlines.ical_settings", "Подписка iCalendar"),
)


def _visible(entries, user):
    out = []
    for entry in entries:
        if entry.endpoint not in current_app.view_functions:
            continue  # a feature not installed in this build
        if entry.roles and not user.has_role(*entry.roles):
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
    groups = []
    for group in NAV_GROUPS:
        entries = _visible(group.entries, current_user)
        if entries:
            groups.append({"label": group.label, "entries": entries, "active": any(e["active"] for e in entries)})
    return groups


def user_menu() -> list[dict]:
    return _visible(USER_MENU, current_user) if current_user.is_authenticated else []


def init_app(app) -> None:
    app.context_processor(lambda: {"navigation": navigation, "user_menu": user_menu})

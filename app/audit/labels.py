"""Russian labels for audit actions, object types and states, for the history pages."""

ACTIONS = {
    "create": "создание", "update": "изменение", "delete": "удаление", "open": "этап открыт",
    "submit": "отправлено на утверждение", "approve": "утверждено", "return": "возвращено на доработку",
    "close": "цикл завершён", "update_settings": "ответственный и срок", "update_content": "изменение содержания",
    "carry_over": "перенос целей и показателей из прошлого периода", "login": "вход в систему",
    "change_password": "смена пароля", "create_user": "создание пользователя", "grant_role": "назначение роли",
    "disable_user": "отключение пользователя", "enable_user": "включение пользователя",
    "load_catalogue": "загрузка перечня механизмов", "add_mechanism": "добавление механизма",
    "add_track": "добавление трека",
}
OBJECTS = {
    "cycle": "цикл", "stage": "этап", "goal": "цель", "indicator": "показатель",
    "collection_method": "метод сбора", "user": "пользователь", "organisation": "организация",
    "mechanism_set": "перечень механизмов", "mechanism": "механизм", "track": "трек",
}
STATES = {
    "waiting": "ожидает", "draft": "черновик", "on_review": "на рассмотрении", "approved": "утверждён",
    "open": "идёт", "closed": "завершён",
}


def init_app(app) -> None:
    app.jinja_env.filters["audit_action"] = lambda v: ACTIONS.get(v, v)
    app.jinja_env.filters["audit_object"] = lambda v: OBJECTS.get(v, v)
    app.jinja_env.filters["audit_state"] = lambda v: STATES.get(v, v) if v else "—"

"""Russian labels for audit actions, object types and states, for the history pages."""
import json

from app.core import hooks

ACTIONS = {
    "create": "создание", "update": "изменение", "delete": "удаление", "open": "этап открыт",
    "submit": "отправлено на утверждение", "approve": "утверждено", "return": "возвращено на доработку",
    "close": "цикл завершён", "update_settings": "ответственный и срок", "update_content": "изменение содержания",
    "carry_over": "перенос целей и показателей из прошлого периода", "login": "вход в систему",
    "change_password": "смена пароля", "reauth_failed": "неверный пароль при подтверждении действия",
    "reauth_throttled": "подтверждение паролем заблокировано (слишком много попыток)",
    "create_user": "создание пользователя", "grant_role": "назначение роли",
    "disable_user": "отключение пользователя", "enable_user": "включение пользователя",
    "load_catalogue": "загрузка перечня механизмов", "fill_in_catalogue": "дополнение перечня механизмов",
    "add_mechanism": "добавление механизма",
    "inherit": "получен обязательный показатель вышестоящего уровня",
    "pass_down": "запрос передан в подведомственные организации",
    "add_track": "добавление трека",
    # data requests and submissions (monitoring)
    "send": "запрос направлен", "issue": "запрос получен", "resubmit": "отправлено повторно",
    "accept": "принято", "mark_not_provided": "отмечено «не представлено»", "delegate": "поручено исполнителю",
    "remind": "напоминание",
    "issue_api_token": "выпуск API-токена", "revoke_api_token": "отзыв API-токена", "import": "импорт файла",
}
OBJECTS = {
    "cycle": "цикл", "stage": "этап", "goal": "цель", "indicator": "показатель",
    "collection_method": "метод сбора", "user": "пользователь", "organisation": "организация",
    "mechanism_set": "перечень механизмов", "mechanism": "механизм", "track": "трек",
    "api_token": "API-токен", "import_run": "импорт файла", "data_request": "запрос сведений",
    "submission": "ответ на запрос", "indicator_value": "значение показателя",
}
STATES = {
    "waiting": "ожидает", "draft": "черновик", "on_review": "на рассмотрении", "approved": "утверждён",
    "open": "идёт", "closed": "завершён",
    "sent": "направлен", "pending": "ожидает ответа", "submitted": "на проверке", "accepted": "принято",
    "returned": "возвращено на доработку", "not_provided": "не представлено",
}


def init_app(app, vocabularies=()) -> None:
    """Merge each feature's vocabulary (its descriptor's `audit`) into the shared one and add the filters."""
    for vocabulary in vocabularies:
        for target, extra in ((ACTIONS, vocabulary.actions), (OBJECTS, vocabulary.objects),
                              (STATES, vocabulary.states), (FIELDS, vocabulary.fields)):
            target.update(extra)
        for object_type, actions in vocabulary.object_actions.items():
            OBJECT_ACTIONS.setdefault(object_type, {}).update(actions)
    app.jinja_env.filters["audit_action"] = action_label
    app.jinja_env.filters["audit_object"] = lambda v: OBJECTS.get(v, v)
    app.jinja_env.filters["audit_state"] = state_label


# Filled at start-up by the layers above, which this package must not import (workflow states come through
# app.core.hooks.state_label): LOOKUPS: name → fn(events) → {id: label}, the words an event list shows for
# objects that features own (e.g. "stage_titles", "cycle_labels" from the cycles feature), loaded once per page.
LOOKUPS: dict = {}


def lookup(name: str, events) -> dict:
    loader = LOOKUPS.get(name)
    return loader(events) if loader is not None else {}


# The same trigger name means different things for different objects («accept» a submission, «accept» a
# report on a recommendation): an object type's own wording wins over the shared one.
OBJECT_ACTIONS: dict[str, dict[str, str]] = {}


def action_label(action: str, object_type: str | None = None) -> str:
    return OBJECT_ACTIONS.get(object_type, {}).get(action) or ACTIONS.get(action, action)


def state_label(state: str | None, object_type: str | None = None) -> str:
    """A state as its own workflow names it (a document's «черновик» is not a stage's), else the shared label."""
    if not state:
        return "—"
    if object_type:
        # The workflows declare their states' labels; asked through a hook, the audit layer imports no workflow.
        label = hooks.state_label(object_type, state)
        if label:
            return label
    return STATES.get(state, state)

FIELDS = {
    "state": "состояние", "responsible_id": "ответственный", "deadline": "срок", "summary": "содержание",
    "direction": "направление", "statement": "цель", "justification": "обоснование", "realism": "реалистичность",
    "parent_goal_id": "цель вышестоящего уровня", "code": "код", "name": "наименование", "unit": "единица",
    "definition": "определение / формула", "group_name": "группа", "source": "источник",
    "collection_method": "метод сбора", "periodicity": "периодичность", "baseline": "базовое значение",
    "target": "целевое значение", "method": "метод", "tool": "инструмент", "schedule": "график",
    "period": "период", "from_cycle": "из цикла", "goals": "целей", "indicators": "показателей",
    "collection_methods": "методов",
}
# Bookkeeping fields that mean nothing to a reader of the history.
HIDDEN = {"version", "track_id", "owner_id"}
VALUE_LABELS = {"up": "чем больше, тем лучше", "down": "чем меньше, тем лучше", **STATES}


def _load(text):
    return json.loads(text) if text else {}


def describe_object(event, stage_titles: dict[int, str]) -> str:
    """«этап 2. Показатели», «показатель M1.1-03», «цель «Создание условий …»» rather than database ids."""
    data = _load(event.after) or _load(event.before)
    if event.object_type == "stage" and event.object_id in stage_titles:
        return f"этап {stage_titles[event.object_id]}"
    if event.object_type == "indicator" and data.get("code"):
        return f"показатель {data['code']}"
    if event.object_type == "goal" and data.get("statement"):
        text = data["statement"]
        return f"цель «{text[:80]}{'…' if len(text) > 80 else ''}»"
    if event.object_type == "collection_method" and data.get("source"):
        return f"метод сбора: {data['source'][:80]}"
    return OBJECTS.get(event.object_type, event.object_type)


def changes(event, people: dict[int, str]) -> list[tuple[str, str, str]]:
    """(field, before, after) for the fields the event changed, in Russian, bookkeeping hidden."""
    before, after = _load(event.before), _load(event.after)
    rows = []
    for key in list(after) + [k for k in before if k not in after]:
        if key in HIDDEN or before.get(key) == after.get(key):
            continue
        rows.append((FIELDS.get(key, key), _value(key, before.get(key), people), _value(key, after.get(key), people)))
    return rows


def _value(key: str, value, people: dict[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if key == "responsible_id":
        return people.get(value, f"пользователь {value}")
    if key == "deadline":
        year, month, day = str(value).split("-")
        return f"{day}.{month}.{year}"
    if isinstance(value, str) and value in VALUE_LABELS:
        return VALUE_LABELS[value]
    return str(value)

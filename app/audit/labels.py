"""Russian labels for audit actions, object types and states, for the history pages."""
import ast
import json
import re
from datetime import date, datetime

from flask import has_request_context

from app.core import hooks
from app.core.russian import lower_first, number, sort_key
from app.core.timeutil import format_date, format_datetime
from app.core.web import user_time_zone

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
    "download_original": "выгрузка исходного файла результатов",
    "download_report": "выгрузка отчёта об ошибках импорта",
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

# Actions that bring their object into being in the state they record: a move from no state («— → черновик»).
CREATING_ACTIONS = frozenset({"create", "pass_down"})


def moves_state(event) -> bool:
    """Whether the event changed its object's state. Many events only note the state the object was in (an 08-70
    sheet saved while «оценивается», a criteria draft edited): the history showed «— → оценивается» for them, a
    transition that never happened."""
    if event.from_state == event.to_state:
        return False
    return event.from_state is not None or event.action in CREATING_ACTIONS


def init_app(app, vocabularies=()) -> None:
    """Merge each feature's vocabulary (its descriptor's `audit`) into the shared one and add the filters."""
    for vocabulary in vocabularies:
        for target, extra in ((ACTIONS, vocabulary.actions), (OBJECTS, vocabulary.objects),
                              (STATES, vocabulary.states), (FIELDS, vocabulary.fields)):
            target.update(extra)
        for object_type, actions in vocabulary.object_actions.items():
            OBJECT_ACTIONS.setdefault(object_type, {}).update(actions)
        for name, words in vocabulary.values.items():
            VALUES.setdefault(name, {}).update(words)
        REFERENCES.update(vocabulary.references)
        NAMERS.update(vocabulary.namers)
        WITHHELD.update(vocabulary.withheld)
    app.jinja_env.filters["audit_action"] = action_label
    app.jinja_env.filters["audit_object"] = lambda v: OBJECTS.get(v, v)
    app.jinja_env.filters["audit_state"] = state_label
    app.jinja_env.tests["state_move"] = moves_state


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
    "collection_methods": "методов", "responsible": "ответственный", "cycle_id": "цикл",
    "organisation_id": "организация", "login": "логин", "roles": "роли", "full_name": "ФИО",
    "position": "должность", "level": "уровень", "version": "версия", "mechanisms": "механизмы",
    "title": "название", "years": "годы",
    # a share of organisations meeting the target computed from those below (app.monitoring.services.answer_from_lower)
    "indicator_value.organisations_met": "организаций, достигших цели", "indicator_value.organisations_counted":
        "учтено организаций", "indicator_value.students_counted": "учтено обучающихся",
    # a refused password re-entry (app.auth.services.verify_password_reentry): what it was for, from where
    "user.purpose": "подтверждалось", "user.address": "IP-адрес",
    # the stage a data request belongs to: the monitoring, or the repeat measurement of the effectiveness stage
    "data_request.stage_code": "этап",
    # an API token's own words (the calendar feed's «начало ссылки» is a link's, not a token's)
    "api_token.prefix": "начало токена", "api_token.expires_at": "действует до",
}
# Bookkeeping fields that mean nothing to a reader of the history.
HIDDEN = {"version", "track_id", "owner_id"}
# Field → code → word; a key «object_type.field» is that object type's own (a measure's «kind» is not a decision's).
VALUES: dict[str, dict[str, str]] = {
    "direction": {"up": "чем больше, тем лучше", "down": "чем меньше, тем лучше"},
    "level": {"regional": "региональный", "municipal": "муниципальный",
              "school": "уровень образовательной организации"},
    "data_request.stage_code": {"MON": "мониторинг показателей", "EFF": "повторное измерение (анализ эффективности)"},
    "user.purpose": {"acknowledge_recommendation": "ознакомление с рекомендацией", "change_password": "смена пароля",
                     "sign": "подпись документа", "acknowledge_document": "ознакомление с документом"},
}
# Field → kind of what its ids or codes name; the kind's namer (NAMERS) turns them into names and links.
REFERENCES: dict[str, str] = {"responsible_id": "user", "organisation_id": "organisation", "cycle_id": "cycle",
                              "parent_goal_id": "goal"}
# Kind → fn(set of ids or codes) → {id or code: (name, url or None)}: filled by app.audit.present and the features.
NAMERS: dict = {}
# Object type → fn(user) → ids of its objects whose events the user may not read: filled by the features.
WITHHELD: dict = {}


def scoped(table: dict, object_type: str | None, key: str):
    """The object type's own entry («measure.kind») before the shared one («kind»)."""
    if object_type and f"{object_type}.{key}" in table:
        return table[f"{object_type}.{key}"]
    return table.get(key)


def field_label(object_type: str | None, key: str) -> str:
    return scoped(FIELDS, object_type, key) or key


def form_vocabulary(form_class, object_type: str | None = None) -> tuple[dict, dict]:
    """(FIELDS, VALUES) a WTForms form class declares: each field's label, and a choice field's choices, so
    the history names a field and its values in the words of the form that edits it."""
    fields, values = {}, {}
    prefix = f"{object_type}." if object_type else ""
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        if not hasattr(unbound, "field_class"):
            continue
        label = unbound.kwargs.get("label") or (unbound.args[0] if unbound.args else None)
        if isinstance(label, str) and label:
            fields[prefix + name] = lower_first(label)
        choices = unbound.kwargs.get("choices")
        if isinstance(choices, (list, tuple)):
            pairs = [(getattr(c, "value", None), getattr(c, "label", None)) if not isinstance(c, (list, tuple))
                     else tuple(c[:2]) for c in choices]
            pairs = [(code, word) for code, word in pairs if code not in (None, "") and word]
            if pairs:
                values[prefix + name] = {str(code): str(word) for code, word in pairs}
    return fields, values


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_NUMBER = re.compile(r"^-?\d+\.\d+$")
_REPR_LIST = re.compile(r"^\[.*\]$", re.S)


def load(text):
    return json.loads(text) if text else {}


def references_of(object_type: str | None, data: dict):
    """(kind, id or code) of every reference the stored fields hold, for the page's one query per kind."""
    for key, value in data.items():
        kind = scoped(REFERENCES, object_type, key)
        if kind is None or value in (None, ""):
            continue
        value = _unrepr(value)
        if isinstance(value, dict):
            items = list(value)
        elif isinstance(value, (list, tuple)):
            items = value
        elif isinstance(value, str) and kind != "organisation_code" and "," in value:
            items = [v.strip() for v in value.split(",")]  # «7,14»: a joined list of ids
        else:
            items = [value]
        for item in items:
            yield kind, _key(item)


def _key(item):
    if isinstance(item, list):
        return tuple(item)
    if isinstance(item, str) and item.isdigit():
        return int(item)
    return item


# In place of what the reader may not read: a title (name_of), an object's comment and changes (present.Row).
WITHHELD_TEXT = "(вне вашей области доступа)"


def name_of(kind: str, item, names: dict) -> str:
    found = names.get(kind, {}).get(_key(item))
    what = OBJECTS.get(kind) or {"user": "пользователь"}.get(kind, "объект")
    if found:
        # a namer withholds the title of what lies outside the reader's scope (app.audit.present.namer)
        return found[0] or f"{what} {WITHHELD_TEXT}"
    if isinstance(item, str) and kind.endswith("_code"):
        return item  # a code the page could not resolve is still readable («MUN01-S01», «M2.3-01»)
    return f"{what} (нет в базе)"


def value_text(object_type: str | None, key: str, value, names: dict) -> str:
    """A stored value in words: states and codes through the vocabularies, ids as names, dates and numbers
    in the Russian way, lists joined, yes/no — never a Python repr."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if key == "state" or key.endswith("_state"):
        return state_label(str(value), object_type)
    kind = scoped(REFERENCES, object_type, key)
    words = scoped(VALUES, object_type, key)
    value = _unrepr(value)
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            # a dict's own keys by their words where the feature names them («params.invited»: приглашённые)
            label = name_of(kind, k, names) if kind else scoped(FIELDS, object_type, f"{key}.{k}") or str(k)
            # lines kept as a list (a protocol's invited) read as lines, never as a Python list
            shown = "; ".join(_scalar(x, words) for x in v) or "—" if isinstance(v, list) else _scalar(v, words)
            parts.append(f"{label} — {shown}")
        return "; ".join(parts)
    if isinstance(value, (list, tuple)):
        # A score is logged as [points, comment]: no comment is no text, not «0, —».
        shown = [_item(object_type, key, v, kind, words, names) for v in value if v is not None and v != ""]
        return ", ".join(shown) if shown else "—"
    if kind and isinstance(value, str) and "," in value and kind != "organisation_code":
        return ", ".join(name_of(kind, v.strip(), names) for v in value.split(","))
    return _item(object_type, key, value, kind, words, names)


def _unrepr(value):
    """A list written into the log as its Python repr by an older version («['M1.1', 'M1.2']») read as a list."""
    if isinstance(value, str) and _REPR_LIST.match(value):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
        return parsed if isinstance(parsed, (list, tuple)) else value
    return value


def _item(object_type, key, value, kind, words, names) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(_item(object_type, key, v, kind, words, names) for v in value)
    if kind:
        return name_of(kind, value, names)
    return _scalar(value, words)


def _scalar(value, words=None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "да" if value else "нет"
    if words and str(value) in words:
        return words[str(value)]
    if isinstance(value, float) or (isinstance(value, str) and _NUMBER.match(value)):
        return number(value, 4, group=False)
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return format_date(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, str) and _ISO_DATETIME.match(value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        # A moment logged with its offset (UTC) reads in the reader's zone, as the «Время» column beside it does: a
        # token issued at 02:29 in Moscow read «действует до … 23:29». A value without an offset is left as logged.
        if moment.tzinfo is not None and has_request_context():
            return format_datetime(moment, user_time_zone())
        return moment.strftime("%d.%m.%Y %H:%M")
    return str(value)


def changes(event, names: dict) -> list[tuple[str, str, str]]:
    """(field, before, after) for the fields the event changed, in Russian, bookkeeping hidden."""
    before, after = load(event.before), load(event.after)
    rows = []
    for key in list(after) + [k for k in before if k not in after]:
        if key in HIDDEN or before.get(key) == after.get(key):
            continue
        # The transition and its comment have columns of their own: every row of a history said its state twice.
        if (key == "state" and event.to_state and after.get(key) == event.to_state) or \
                (event.reason and after.get(key) == event.reason):
            continue
        rows.append((field_label(event.object_type, key), value_text(event.object_type, key, before.get(key), names),
                     value_text(event.object_type, key, after.get(key), names)))
    # The snapshots are stored with sorted keys (the hash needs one spelling), so their order is that of the codes —
    # «критерий 5.1» (ANL) came before «критерий 1.1» (GOAL). The reader's order is that of the names shown.
    return sorted(rows, key=lambda row: sort_key(row[0]))

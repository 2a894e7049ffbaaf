"""The OpenAPI 3.1 document of /api/v1, written by hand as data.

It is the contract for the routes in app/api/views.py: tests compare its paths and methods with the URL
map and run schemathesis against it, so a route or a field added to one side only fails the suite.
"""

from copy import deepcopy

from flask import current_app, has_app_context

from app.api.services import token_lifetime
from app.core.web import HTTP_MESSAGES, too_large_problem
from app.orgs.models import ORG_KINDS, PROFILES, SETTLEMENTS
from workflows.cycle import STATES as CYCLE_STATES
from workflows.stage import STATES as STAGE_STATES


def _states(labels: dict[str, str], what: str) -> dict:
    """A workflow state: the workflow's own states, and their Russian labels in the description."""
    return {"type": "string", "enum": list(labels),
            "description": f"{what}: " + "; ".join(f"{state} — {label}" for state, label in labels.items()) + "."}

MAX_ID = 2_147_483_647
IMPORT_STATUSES = ["queued", "running", "done", "unchanged", "rejected", "failed"]


def _object(properties: dict, *, optional: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "additionalProperties": False,
            "required": [name for name in properties if name not in optional], "properties": properties}


STRING = {"type": "string"}
# PostgreSQL text cannot hold NUL, so no value the API looks up or stores may contain one.
NO_NUL = "^[^\\x00]*$"
TEXT_OR_NULL = {"type": ["string", "null"]}
INTEGER = {"type": "integer"}
NUMBER_OR_NULL = {"type": ["number", "null"]}
TIMESTAMP = {"type": "string", "format": "date-time"}
TIMESTAMP_OR_NULL = {"type": ["string", "null"], "format": "date-time"}

ORGANISATION = _object({
    "code": {**STRING, "description": "Код организации (уникальный, не меняется)."},
    "name": {**STRING, "description": "Полное наименование."},
    "short_name": TEXT_OR_NULL,
    "kind": {"type": "string", "enum": sorted(ORG_KINDS), "description": "Тип организации."},
    "parent_code": {**TEXT_OR_NULL, "description": "Код вышестоящей организации; null у региона."},
    "timezone": TEXT_OR_NULL,
    "settlement": {"type": ["string", "null"], "enum": [*sorted(SETTLEMENTS), None]},
    "remote": {"type": ["boolean", "null"]},
    "preschool_groups": {"type": "boolean", "description": "Есть дошкольные группы (школа реализует программы "
                                                           "дошкольного образования)."},
    "students": {"type": ["integer", "null"], "minimum": 0},
    "profile": {"type": ["string", "null"], "enum": [*sorted(PROFILES), None]},
    "low_income_share": {**NUMBER_OR_NULL, "description": "Доля обучающихся из малообеспеченных семей, %."},
    "non_native_share": {**NUMBER_OR_NULL, "description": "Доля обучающихся, для которых русский язык не родной, %."},
    "ovz_share": {**NUMBER_OR_NULL, "description": "Доля обучающихся с ОВЗ, %."},
    "unqualified_teachers_share": NUMBER_OR_NULL,
    "teacher_vacancies": {"type": ["integer", "null"], "minimum": 0},
})

_CYCLE_PROPERTIES = {
    "id": {**INTEGER, "minimum": 1},
    "title": STRING,
    "mechanism": {**STRING, "description": "Код механизма, например M1.1."},
    "mechanism_title": STRING,
    "track": STRING,
    "track_title": STRING,
    "organisation_code": {**STRING, "description": "Код организации — владельца цикла."},
    "organisation_name": STRING,
    "period": {**STRING, "description": "Период, например 2025/26."},
    "state": _states(CYCLE_STATES, "Состояние цикла"),
    "created_at": TIMESTAMP,
    "closed_at": TIMESTAMP_OR_NULL,
}
CYCLE = _object(_CYCLE_PROPERTIES)

STAGE = _object({
    "code": {**STRING, "description": "Код блока: GOAL, IND, METH, …"},
    "position": INTEGER,
    "title": STRING,
    "state": _states(STAGE_STATES, "Состояние этапа"),
    "responsible": {**TEXT_OR_NULL, "description": "ФИО ответственного."},
    "deadline": {"type": ["string", "null"], "format": "date"},
    "submitted_at": TIMESTAMP_OR_NULL,
    "approved_at": TIMESTAMP_OR_NULL,
})

CYCLE_DETAIL = _object({**_CYCLE_PROPERTIES,
                        "stages": {"type": "array", "items": {"$ref": "#/components/schemas/Stage"}}})

INDICATOR = _object({
    "code": STRING,
    "name": STRING,
    "unit": STRING,
    "definition": STRING,
    "group": {**STRING, "description": "Группа показателей механизма."},
    "source": STRING,
    "collection_method": STRING,
    "periodicity": STRING,
    "baseline": NUMBER_OR_NULL,
    "target": NUMBER_OR_NULL,
    "direction": {"type": "string", "enum": ["up", "down"]},
    "responsible": STRING,
})

VALUE_ROW = _object({
    "indicator_code": {**STRING, "minLength": 1, "maxLength": 40, "description": "Код показателя цикла."},
    "organisation_code": {**STRING, "minLength": 1, "maxLength": 40},
    "period": {**STRING, "minLength": 1, "maxLength": 20, "description": "Период, например 2025/26."},
    "value": {"description": "Значение: число или строка с числом («12,5»).",
              "anyOf": [{"type": "number"}, {"type": "string", "maxLength": 50}]},
    "comment": {"type": ["string", "null"], "maxLength": 2000},
}, optional=("comment",))

VALUES_REQUEST = _object({
    "cycle_id": {**INTEGER, "minimum": 1, "maximum": MAX_ID,
                 "description": "Цикл, запросы сведений которого заполняются: строки, не относящиеся к открытым "
                                "запросам этого цикла, отклоняются. Без него каждая строка относится к тому "
                                "открытому запросу, в котором у организации запрошен этот показатель на этот "
                                "период."},
    "rows": {"type": "array", "minItems": 1, "maxItems": 5000, "items": {"$ref": "#/components/schemas/ValueRow"}},
    "save_valid_rows": {"type": "boolean", "default": False,
                        "description": "Сохранить верные строки, даже если в других есть ошибки "
                                       "(по умолчанию при любой ошибке не сохраняется ничего)."},
}, optional=("cycle_id", "save_valid_rows"))

CELL_ERROR = _object({
    "row": {**INTEGER, "description": "Номер строки в запросе (с 1)."},
    "column": {**STRING, "description": "Поле строки (indicator_code, …) или пусто, если ошибка в строке целиком."},
    "message": STRING,
})

VALUES_REPORT = _object({
    "rows": {**INTEGER, "minimum": 0, "description": "Строк в запросе."},
    "created": {**INTEGER, "minimum": 0},
    "updated": {**INTEGER, "minimum": 0},
    "unchanged": {**INTEGER, "minimum": 0},
    "skipped": {**INTEGER, "minimum": 0, "description": "Строк без значения (пропущены)."},
    "saved": {**INTEGER, "minimum": 0, "description": "Сохранено значений: добавлено и изменено."},
    "rejected": {**INTEGER, "minimum": 0, "description": "Строк с ошибками (не сохранены)."},
    "problems": {"type": "array", "items": STRING, "description": "Ошибки текстом: «Строка 2, столбец …: …»."},
    "errors": {"type": "array", "items": {"$ref": "#/components/schemas/CellError"}},
})

IMPORT_RUN = _object({
    "id": {**INTEGER, "minimum": 1},
    "kind": {"type": "string", "enum": ["organisations", "results", "indicator_values"]},
    "status": {"type": "string", "enum": IMPORT_STATUSES,
               "description": "queued — в очереди, running — выполняется, done — загружен, unchanged — такие данные "
                              "уже были загружены, rejected — отклонён (ничего не сохранено), failed — сбой."},
    "progress": {**INTEGER, "minimum": 0, "maximum": 100},
    "original_filename": STRING,
    "organisation_code": STRING,
    "rows_total": {**INTEGER, "minimum": 0},
    "rows_inserted": {**INTEGER, "minimum": 0},
    "rows_updated": {**INTEGER, "minimum": 0},
    "rows_unchanged": {**INTEGER, "minimum": 0},
    "rows_rejected": {**INTEGER, "minimum": 0},
    "message": {**TEXT_OR_NULL, "description": "Итог импорта по-русски."},
    "has_error_report": {"type": "boolean",
                         "description": "Есть построчный отчёт об ошибках (скачивается в веб-интерфейсе)."},
    "created_at": TIMESTAMP,
    "started_at": TIMESTAMP_OR_NULL,
    "finished_at": TIMESTAMP_OR_NULL,
})

RESULTS_UPLOAD = _object({
    "file": {"type": "string", "format": "binary",
             "description": "CSV (UTF-8 или Windows-1251, разделитель «;» или «,») или XLSX в формате v1."},
    "organisation_code": {**STRING, "maxLength": 40,
                          "description": "Организация, в пределах которой выполняется импорт; по умолчанию — "
                                         "организация первой роли владельца токена."},
}, optional=("organisation_code",))

ERROR = _object({
    "error": {**STRING, "description": "Сообщение по-русски."},
    "problems": {"type": "array", "items": STRING, "description": "Подробности: что именно не так."},
    "errors": {"type": "array", "items": {"$ref": "#/components/schemas/CellError"},
               "description": "Ошибки значений показателей по строкам и полям (только у /indicator-values)."},
}, optional=("errors",))


def _listing(item_ref: str) -> dict:
    return _object({
        "items": {"type": "array", "items": {"$ref": item_ref}},
        "total": {**INTEGER, "minimum": 0, "description": "Всего записей, подходящих под фильтр."},
        "limit": {**INTEGER, "minimum": 1},
        "offset": {**INTEGER, "minimum": 0},
    })


def _json(ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": ref}}}


def _error(description: str) -> dict:
    return {"description": description, "content": _json("#/components/schemas/Error")}


def _ok(description: str, ref: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": _json(ref)}
    if headers:
        response["headers"] = headers
    return response


UNAUTHORIZED = {"$ref": "#/components/responses/Unauthorized"}
NOT_FOUND = {"$ref": "#/components/responses/NotFound"}
INVALID = {"$ref": "#/components/responses/Invalid"}
TOO_LARGE = {"$ref": "#/components/responses/TooLarge"}


def _too_large(limit: int | None) -> dict:
    """The 413 as the API answers it (app/api/views.py _http_error), with the deployment's limit when known."""
    size = too_large_problem(limit) if limit else "Наибольший допустимый размер запроса задаёт MAX_UPLOAD_MB."
    return _error(f"Запрос слишком большой: error — «{HTTP_MESSAGES[413]}», problems — [«{size}»]. Форма "
                  "multipart/form-data со слишком многими полями или слишком длинным текстовым полем: error — «В "
                  "форме слишком много полей …» с допустимым числом полей.")

PAGE_PARAMETERS = [
    {"name": "limit", "in": "query", "required": False, "description": "Сколько записей вернуть (по умолчанию 100).",
     "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
    {"name": "offset", "in": "query", "required": False, "description": "Сколько записей пропустить.",
     "schema": {"type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0}},
]
CYCLE_ID = {"name": "cycle_id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


def _query(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "УКО-Цикл API",
        "version": "1.0.0",
        "description": (
            "Обмен данными между информационными системами: организации, циклы, этапы и показатели в области "
            "доступа владельца токена; приём значений показателей; загрузка файлов результатов оценочных "
            "процедур и отслеживание их импорта. Аутентификация — персональный API-токен (выпускается на "
            "странице «API-токены», /tokens/) в заголовке `Authorization: Bearer <токен>`; токен действует "
            "от имени владельца, с его ролями и областью доступа. Ошибки — JSON {\"error\": …, \"problems\": […]}."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearerAuth": []}],
    "paths": {
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApiDocument",
                "summary": "Этот документ (доступен без токена)",
                "security": [],
                "responses": {"200": {"description": "Документ OpenAPI", "content": {
                    "application/json": {"schema": {"type": "object"}}}}},
            },
        },
        "/organisations": {
            "get": {
                "operationId": "listOrganisations",
                "summary": "Организации в области доступа",
                "parameters": [
                    _query("kind", "Тип организации.", {"type": "string", "enum": sorted(ORG_KINDS)}),
                    _query("parent_code", "Только непосредственно подчинённые этой организации.",
                           {"type": "string", "maxLength": 40, "pattern": NO_NUL}),
                    *PAGE_PARAMETERS,
                ],
                "responses": {"200": _ok("Страница списка", "#/components/schemas/OrganisationList"),
                              "401": UNAUTHORIZED, "422": INVALID},
            },
        },
        "/organisations/{code}": {
            "get": {
                "operationId": "getOrganisation",
                "summary": "Организация по коду",
                "parameters": [{"name": "code", "in": "path", "required": True,
                                "schema": {"type": "string", "minLength": 1, "maxLength": 40, "pattern": NO_NUL}}],
                "responses": {"200": _ok("Организация", "#/components/schemas/Organisation"),
                              "401": UNAUTHORIZED, "404": NOT_FOUND},
            },
        },
        "/cycles": {
            "get": {
                "operationId": "listCycles",
                "summary": "Управленческие циклы в области доступа",
                "parameters": [
                    _query("period", "Период, например 2025/26.",
                           {"type": "string", "maxLength": 20, "pattern": NO_NUL}),
                    _query("mechanism", "Код механизма, например M1.1.",
                           {"type": "string", "maxLength": 20, "pattern": NO_NUL}),
                    _query("organisation_code", "Код организации — владельца цикла.",
                           {"type": "string", "maxLength": 40, "pattern": NO_NUL}),
                    _query("state", "Состояние цикла.", {"type": "string", "enum": list(CYCLE_STATES)}),
                    *PAGE_PARAMETERS,
                ],
                "responses": {"200": _ok("Страница списка", "#/components/schemas/CycleList"),
                              "401": UNAUTHORIZED, "422": INVALID},
            },
        },
        "/cycles/{cycle_id}": {
            "get": {
                "operationId": "getCycle",
                "summary": "Цикл с его этапами",
                "parameters": [CYCLE_ID],
                "responses": {"200": _ok("Цикл", "#/components/schemas/CycleDetail"),
                              "401": UNAUTHORIZED, "404": NOT_FOUND},
            },
        },
        "/cycles/{cycle_id}/indicators": {
            "get": {
                "operationId": "listCycleIndicators",
                "summary": "Показатели цикла",
                "parameters": [CYCLE_ID],
                "responses": {"200": _ok("Показатели", "#/components/schemas/IndicatorList"),
                              "401": UNAUTHORIZED, "404": NOT_FOUND},
            },
        },
        "/indicator-values": {
            "post": {
                "operationId": "submitIndicatorValues",
                "summary": "Передать значения показателей (формат v1)",
                "description": "Каждая строка проверяется (тип, диапазон, единица, допустимые значения, область "
                               "доступа). При любой ошибке не сохраняется ничего, если не передано "
                               "save_valid_rows: true.",
                "requestBody": {"required": True, "content": _json("#/components/schemas/IndicatorValuesRequest")},
                "responses": {
                    "200": _ok("Значения сохранены", "#/components/schemas/IndicatorValuesReport"),
                    "401": UNAUTHORIZED, "403": _error("Недостаточно прав"), "404": NOT_FOUND,
                    "409": _error("Конфликт: данные изменены одновременно другим пользователем"),
                    "413": TOO_LARGE,
                    "415": _error("Тело запроса не JSON"), "422": INVALID,
                },
            },
        },
        "/imports/results": {
            "post": {
                "operationId": "uploadResults",
                "summary": "Загрузить файл результатов оценочных процедур",
                "description": "Файл сохраняется, импорт выполняется в фоне; статус — по адресу из заголовка "
                               "Location.",
                "requestBody": {"required": True, "content": {
                    "multipart/form-data": {"schema": {"$ref": "#/components/schemas/ResultsUpload"}}}},
                "responses": {
                    "202": _ok("Файл принят, импорт поставлен в очередь", "#/components/schemas/ImportRun",
                               headers={"Location": {"description": "Адрес статуса импорта",
                                                     "required": True, "schema": {"type": "string"}}}),
                    "401": UNAUTHORIZED, "403": _error("Недостаточно прав для импорта"),
                    "413": TOO_LARGE, "422": INVALID,
                    "429": _error("У владельца токена уже 5 импортов в очереди или в работе; файл не принят"),
                },
            },
        },
        "/imports/{import_id}": {
            "get": {
                "operationId": "getImport",
                "summary": "Статус, ход и итог импорта",
                "parameters": [{"name": "import_id", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}],
                "responses": {"200": _ok("Импорт", "#/components/schemas/ImportRun"),
                              "401": UNAUTHORIZED, "404": NOT_FOUND},
            },
        },
    },
    "components": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "Персональный API-токен (uko_…), выпускается на странице /tokens/ и "
                                          "действует ограниченный срок после выпуска (настройка API_TOKEN_DAYS)."},
        },
        "responses": {
            "Unauthorized": {
                "description": "Нет токена, токен неизвестен, отозван или его срок истёк, владелец отключён",
                "headers": {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
                "content": _json("#/components/schemas/Error"),
            },
            "NotFound": _error("Не найдено или вне области доступа владельца токена"),
            "Invalid": _error("Данные или параметры не прошли проверку; ничего не сохранено"),
        },
        "schemas": {
            "Error": ERROR,
            "Organisation": ORGANISATION,
            "OrganisationList": _listing("#/components/schemas/Organisation"),
            "Cycle": CYCLE,
            "CycleList": _listing("#/components/schemas/Cycle"),
            "Stage": STAGE,
            "CycleDetail": CYCLE_DETAIL,
            "Indicator": INDICATOR,
            "IndicatorList": _object({"cycle_id": INTEGER,
                                      "items": {"type": "array", "items": {"$ref": "#/components/schemas/Indicator"}}}),
            "ValueRow": VALUE_ROW,
            "IndicatorValuesRequest": VALUES_REQUEST,
            "CellError": CELL_ERROR,
            "IndicatorValuesReport": VALUES_REPORT,
            "ResultsUpload": RESULTS_UPLOAD,
            "ImportRun": IMPORT_RUN,
        },
    },
}


# Operations of features above the API (which register their routes on its blueprint): path → path item, and the
# schemas they name. The API knows no feature; a feature adds its part here when it is imported.
_EXTRA_PATHS: dict[str, dict] = {}
_EXTRA_SCHEMAS: dict[str, dict] = {}


def extend(paths: dict[str, dict], schemas: dict[str, dict]) -> None:
    """Add a feature's operations and schemas to the document (idempotent: a path registered again replaces it)."""
    clash = (set(paths) & set(_DOCUMENT["paths"])) | (set(schemas) & set(_DOCUMENT["components"]["schemas"]))
    if clash:
        raise ValueError(f"OpenAPI names already taken: {sorted(clash)}")
    _EXTRA_PATHS.update(deepcopy(paths))
    _EXTRA_SCHEMAS.update(deepcopy(schemas))


def document() -> dict:
    """A copy, so no caller can change the served document."""
    doc = deepcopy(_DOCUMENT)
    doc["components"]["responses"]["TooLarge"] = _too_large(
        current_app.config.get("MAX_CONTENT_LENGTH") if has_app_context() else None)
    if has_app_context():  # the lifetime this installation gives its tokens, not the default's
        days = token_lifetime().days
        doc["components"]["securitySchemes"]["bearerAuth"]["description"] = (
            "Персональный API-токен (uko_…), выпускается на странице /tokens/ и действует "
            f"{days} дн. после выпуска (настройка API_TOKEN_DAYS).")
    doc["paths"].update(deepcopy(_EXTRA_PATHS))
    doc["components"]["schemas"].update(deepcopy(_EXTRA_SCHEMAS))
    return doc

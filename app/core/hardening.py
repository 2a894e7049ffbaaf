"""Request-boundary hardening (issue 17 items 5–7): bounded ids, refused control characters, an error page that
needs no database, a health check that asks the database and Redis, and the security headers.

Everything here is wired by `init_app`, which create_app calls before the database extension is set up (it
adjusts the engine options) and before any blueprint is registered (it replaces the `int` URL converter).
"""

from __future__ import annotations

import re

from flask import Flask, Request, current_app, has_app_context, jsonify, request, session
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from werkzeug.formparser import FormDataParser
from werkzeug.routing import IntegerConverter

from app.core.errors import ValidationFailed
from app.extensions import db

# Every id column is a 32-bit integer: a larger number cannot name a row, and PostgreSQL refuses to compare
# an int4 column with it (a 500 before this converter).
MAX_ID = 2**31 - 1
RETRY_AFTER_SECONDS = 30
STATIC_ENDPOINTS = ("static", "bootstrap.static")
# Control characters (C0, DEL, C1). Form fields and JSON strings may hold tab and line breaks (a textarea
# sends \r\n); a query string, a field name and a file name may not.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_ANYWHERE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Characters that print as nothing: soft hyphen, zero-width space and joiners, the bidirectional marks and overrides,
# word joiner, BOM. Copied from a web page or a report they ride inside a value, and two values then look the same
# and are not: «S-0001» with a zero-width space was another student, «Математика» with one another work.
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def without_invisible(text: str) -> str:
    """`text` without the characters that print as nothing (ASCII, the common case, is returned as it is)."""
    return text if text.isascii() else _INVISIBLE.sub("", text)
_ID = re.compile(r"[0-9]{1,10}")


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` for ids: ASCII digits only, 1 … 2^31-1 by default; anything else does not match (404).

    Registered as the application's `int`, so every route gets it; `<int(min=…, max=…):…>` still works."""

    regex = r"[0-9]{1,10}"  # werkzeug's \d+ also matches other scripts' digits

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
        if signed:
            self.regex = r"-?[0-9]{1,10}"


def query_id(raw: str) -> int:
    """`type=` for request.args.get: an id in a query string, with the bounds of the URL converter.
    Raises ValueError otherwise, which request.args.get turns into its default (None): no such filter."""
    if raw is None or not _ID.fullmatch(raw) or not 1 <= int(raw) <= MAX_ID:
        raise ValueError(f"not an id: {raw!r}")
    return int(raw)


# --- control characters -----------------------------------------------------------------------------------

def _refuse(where: str):
    raise ValidationFailed(f"Запрос отклонён: {where} содержит недопустимые управляющие символы (например, "
                           "нулевой байт). Уберите их и повторите; ничего не изменено.")


def _check_json(value, where: str) -> None:
    stack = [value]  # a loop, not recursion: the depth of the body is the client's choice
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _CONTROL_IN_TEXT.search(item):
                _refuse(where)
        elif isinstance(item, dict):
            if any(_CONTROL_ANYWHERE.search(str(key)) for key in item):
                _refuse(where)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def refuse_control_characters():
    """before_request: a NUL or another control character in the query string, a form field, a file name or
    a JSON string is refused with 422 before any view runs (PostgreSQL cannot store NUL; XLSX cannot hold
    control characters). The API's query parameters and JSON bodies are left to its own checks, which answer
    422 per field in its documented format; its multipart form (a results upload) is checked here."""
    api = request.path.startswith("/api/")
    for key, value in ([] if api else request.args.items(multi=True)):
        if _CONTROL_ANYWHERE.search(key) or _CONTROL_ANYWHERE.search(value):
            _refuse(f"параметр адреса «{_CONTROL_ANYWHERE.sub('?', key)[:40]}»")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            if _CONTROL_ANYWHERE.search(key) or _CONTROL_IN_TEXT.search(value):
                _refuse(f"поле формы «{_CONTROL_ANYWHERE.sub('?', key)[:40]}»")
        for key, storage in request.files.items(multi=True):
            if _CONTROL_ANYWHERE.search(key) or _CONTROL_ANYWHERE.search(storage.filename or ""):
                _refuse("имя файла")
    elif request.is_json and not api:
        _check_json(json_body(), "тело запроса")
    return None


# Values one form field may carry (a multiple select: addressees, indicators, findings). A region's schools stay far
# below it; 70,000 ids went into one `IN (…)` and PostgreSQL's driver refused the statement (at most 65,535
# parameters) — answered as «нет связи с базой данных», a 503 that was a lie.
MAX_VALUES_PER_FIELD = 10_000


# Characters one form value may hold. The longest text a form asks for is 20,000 characters (a textarea's own Length);
# a longer value is no one's typing. Every refused form is drawn again with what was typed, so a 1.4 MB field came
# back as a 5 MB page (11–40 MB with a few such fields, 6–14 s each), and a hand-made form (a score's comment) stored
# it (attack 13). Refused here, before any view, the answer is the error page: nothing echoed, nothing stored.
MAX_CHARS_PER_FIELD = 50_000


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")


def refuse_oversized_fields():
    """before_request: a form field sent more than MAX_VALUES_PER_FIELD times, or a value longer than
    MAX_CHARS_PER_FIELD, is refused with 422."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.mimetype not in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        return None
    for key, values in request.form.lists():
        name = _CONTROL_ANYWHERE.sub('?', key)[:40]
        if len(values) > MAX_VALUES_PER_FIELD:
            raise ValidationFailed(
                f"Запрос отклонён: в поле «{name}» выбрано {_thousands(len(values))} "
                f"значений, допустимо не более {_thousands(MAX_VALUES_PER_FIELD)}. Ничего не изменено.")
        longest = max(map(len, values), default=0)
        if longest > MAX_CHARS_PER_FIELD:
            raise ValidationFailed(
                f"Запрос отклонён: в поле «{name}» {_thousands(longest)} символов, допустимо не более "
                f"{_thousands(MAX_CHARS_PER_FIELD)}. Сократите текст; ничего не изменено.")
    return None


class FormNotJson(ValidationFailed):
    status_code = 415


def refuse_json_on_pages():
    """before_request: a page's form is sent as a form; a JSON body goes to the API only. Flask-WTF fills a form
    from a JSON object too, and a number, null or object where the form field expects text ({"students": 5},
    {"name": 123}) crashed the field's reading — a 500 on every form of the system (attack 12). No page of the
    system sends JSON, so it is refused before any view runs, nothing changed."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.is_json or request.path.startswith("/api/"):
        return None
    raise FormNotJson("Запрос отклонён: страницы системы принимают данные формы, а не JSON (JSON принимает только "
                      "API, /api/v1). Отправьте форму со страницы системы; ничего не изменено.")


_SURROGATE = re.compile("[\ud800-\udfff]")


def refuse_lone_surrogates():
    """before_request: JSON may escape half of a UTF-16 surrogate pair ("\\ud800"), which becomes a Python string
    that no UTF-8 encoder writes: the first query binding it failed with UnicodeEncodeError, a 500 (the API's
    indicator codes, organisation codes, periods, values). Refused with 422 for every JSON body, the API's too."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.is_json:
        return None
    stack = [json_body()]  # a loop, not recursion: the depth of the body is the client's choice
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found = _SURROGATE.search(item)
        elif isinstance(item, dict):
            found = any(_SURROGATE.search(str(key)) for key in item)
            stack.extend(item.values())
        else:
            found = False
            if isinstance(item, list):
                stack.extend(item)
        if found:
            raise ValidationFailed("Тело запроса отклонено: в нём непарный суррогатный символ UTF-16 (например, "
                                   "«\\ud800»), который не является символом текста. Ничего не изменено.")
    return None


class _DuplicateKey(Exception):
    """Not a ValueError: the parser's ValueErrors mean «not JSON», this one has its own answer."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _refuse_duplicate_keys(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


_JSON_BODY = "uko_json_body"


def _printable(key: str) -> str:
    """A client's key fit to quote in a message: no control characters, no half surrogate pair (unwritable)."""
    return re.sub("[\ud800-\udfff]", "?", _CONTROL_ANYWHERE.sub("?", key))[:40]


# The longest whole number a JSON body may hold: Python refuses to read one past 4300 digits (a ValueError, which read
# as «not JSON»: {"cycle_id": 999…9} was told «Тело запроса должно быть JSON-объектом», attack 17). No field of the
# API takes a number of more than 20 digits.
MAX_JSON_INT_DIGITS = 100


class _LongNumber(Exception):
    """Not a ValueError, like _DuplicateKey: it has its own answer."""


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise _LongNumber()
    return int(text)


def json_body():
    """The request's JSON body, None when it is not JSON; a body nested past the parser's limit is refused
    with 422 (a RecursionError is not a ValueError, so `silent` does not cover it), and so is an object naming
    one key twice: the parser kept the last value silently, so {"cycle_id": 1, "cycle_id": 2} acted on what a
    proxy, a log or a reviewer reading the first one did not see. Parsed once per request."""
    if _JSON_BODY in request.environ:
        return request.environ[_JSON_BODY]
    body = None
    if request.is_json:
        try:
            body = current_app.json.loads(request.get_data(cache=True), object_pairs_hook=_refuse_duplicate_keys,
                                          parse_int=_bounded_int)
        except RecursionError:
            raise ValidationFailed("Тело запроса отклонено: слишком глубокая вложенность.") from None
        except _DuplicateKey as exc:
            raise ValidationFailed(
                f"Тело запроса отклонено: поле «{_printable(exc.key)}» указано в одном объекте "
                "дважды. Ничего не изменено.") from None
        except _LongNumber:
            raise ValidationFailed(f"Тело запроса отклонено: число длиннее {MAX_JSON_INT_DIGITS} цифр. "
                                   "Ничего не изменено.") from None
        except ValueError:  # not JSON (UnicodeDecodeError is one too), as get_json(silent=True) answered
            body = None
    request.environ[_JSON_BODY] = body
    return body


# --- the database or Redis is down --------------------------------------------------------------------------

DATABASE_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)
UNAVAILABLE_MESSAGE = ("Система временно недоступна: нет связи с базой данных. Повторите попытку через "
                       "минуту; если ошибка повторяется, сообщите администратору.")


def unavailable_response(status: int = 503, message: str = UNAVAILABLE_MESSAGE):
    """A page that needs neither the database nor the signed-in user (base.html needs both). Rendered straight
    from the Jinja environment: render_template would run the context processors, and Flask-Login's loads the
    user from the database."""
    if request.path.startswith("/api/"):
        response = jsonify({"error": message, "problems": []})
    else:
        page = current_app.jinja_env.get_template("unavailable.html").render(status=status, message=message)
        response = current_app.make_response(page)
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def path_for_log() -> str:
    """The request's path for a log line, without the secret a path may carry (a route variable named «…_token»: the
    calendar feed's link is its own key): logs are read by more people, and kept longer, than the link's owner."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if name.endswith("_token") and isinstance(value, str) and value:
            path = path.replace(value, "[secret]")
    return path


def database_unavailable(exc):
    try:
        db.session.rollback()
    except Exception:  # the connection is gone: the answer must not depend on it
        current_app.logger.debug("rollback after a database error failed", exc_info=True)
    current_app.logger.error("database unavailable on %s %s: %s", request.method, path_for_log(),
                             str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__)
    return unavailable_response()


VALUE_ERRORS = (sa_exc.DataError, OverflowError)
OUT_OF_RANGE_MESSAGE = ("Значение вне допустимого диапазона (например, слишком большой номер или слишком длинный "
                        "текст): запрос отклонён, ничего не изменено.")


# The error page of app.core.web (which imports this module): set by web.init_app, so the two stay one-way.
ERROR_RESPONSE = None


def value_out_of_range(exc):
    """A safety net for input no check caught: the database refused a value (an id ≥ 2^31 in a form field,
    a string longer than its column on PostgreSQL: DataError), or the driver could not even bind it (an
    integer beyond 64 bits on SQLite: OverflowError). That is bad input, 422, not a server error."""
    if isinstance(exc, OverflowError) and "too large to convert" not in str(exc):
        raise exc  # an overflow in the application's own arithmetic is a bug: the generic 500 handler
    try:
        db.session.rollback()
    except DATABASE_ERRORS:
        return unavailable_response()
    reason = getattr(exc, "orig", None) or exc
    current_app.logger.warning("value refused by the database on %s %s: %s", request.method, path_for_log(),
                               (str(reason).splitlines() or [type(reason).__name__])[0])
    return ERROR_RESPONSE(422, OUT_OF_RANGE_MESSAGE)


def _database_state() -> str:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any failure means the part is down; the reason goes to the log
        current_app.logger.warning("health: database check failed", exc_info=True)
        return "недоступна"
    return "ok"


def _redis_state() -> str:
    mode = current_app.config.get("JOBS_EFFECTIVE_MODE") or current_app.config.get("JOBS_MODE")
    if mode == "inline":
        return "inline"
    import redis  # only when jobs go to Redis

    try:
        client = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=1, socket_timeout=1)
        return "ok" if client.ping() else "недоступен"
    except redis.RedisError:
        return "недоступен"


def health_report() -> tuple[dict, int]:
    """/health: 200 when the database answers and Redis does (or jobs run inline); 503 naming what is down."""
    parts = {"database": _database_state(), "redis": _redis_state()}
    down = [name for name, state in parts.items() if state not in ("ok", "inline")]
    body = {"status": "error" if down else "ok", **parts}
    if down:
        body["down"] = down
    return body, 503 if down else 200


# --- headers -------------------------------------------------------------------------------------------

def cache_and_transport_headers(response):
    """after_request: no browser or proxy may store a page, an API answer or a download (they carry personal
    data), with two exceptions: static files, and an answer its view explicitly marked `public` (a page of
    the public section) given to someone not signed in. HSTS where the configuration asks for it (production)."""
    # The session says whether someone is signed in without loading the user (no query, works with the
    # database down); Flask-Login keeps the id under "_user_id".
    published = response.cache_control.public and not session.get("_user_id") and not request.path.startswith("/api/")
    # A chart image the view marks `private` (aggregated numbers; its URL names the data's hash, so it never goes
    # stale) may stay in the user's own browser cache, never in a shared one: the dashboard's speed depends on it.
    private_image = response.cache_control.private and response.mimetype.startswith("image/")
    if request.endpoint not in STATIC_ENDPOINTS and not published and not private_image:
        response.headers["Cache-Control"] = "no-store"
    seconds = current_app.config.get("HSTS_SECONDS") or 0
    if seconds:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={seconds}; includeSubDomains")
    return response


def _engine_options(app: Flask) -> None:
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # A connection that died while pooled (database restarted) is replaced instead of failing one request.
    options.setdefault("pool_pre_ping", True)
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", app.config.get("DATABASE_CONNECT_TIMEOUT", 5))
        options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


class ClosingFormDataParser(FormDataParser):
    """Werkzeug's form parser, closing the files it spooled when it refuses a multipart body part-way (over
    MAX_FORM_PARTS, or a field over MAX_FORM_MEMORY_SIZE: RequestEntityTooLarge). The files already received were
    then dropped unclosed — a temporary file left to the garbage collector (ResourceWarning) on each refusal."""

    def _parse_multipart(self, stream, mimetype, content_length, options):
        opened, factory = [], self.stream_factory

        def tracking_factory(*args, **kwargs):
            container = factory(*args, **kwargs)
            opened.append(container)
            return container

        self.stream_factory = tracking_factory
        try:
            return super()._parse_multipart(stream, mimetype, content_length, options)
        except BaseException:
            for container in opened:
                container.close()
            raise
        finally:
            self.stream_factory = factory


class HardenedRequest(Request):
    form_data_parser_class = ClosingFormDataParser

    @property
    def max_content_length(self) -> int | None:
        """A URL-encoded form (no files) is held to MAX_FORM_BODY_BYTES, not the uploads' MAX_CONTENT_LENGTH:
        Werkzeug reads such a body whole and applies no MAX_FORM_MEMORY_SIZE to it, so a 200 MB form kept a web worker
        parsing until gunicorn killed it (attack 13: a 500 after 30 s)."""
        limit = super().max_content_length
        if self.mimetype == "application/x-www-form-urlencoded" and has_app_context():
            form_limit = current_app.config["MAX_FORM_BODY_BYTES"]
            return form_limit if limit is None else min(limit, form_limit)
        return limit


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    app.request_class = HardenedRequest
    _engine_options(app)
    app.before_request(refuse_control_characters)
    app.before_request(refuse_oversized_fields)
    app.before_request(refuse_lone_surrogates)
    app.before_request(refuse_json_on_pages)
    app.after_request(cache_and_transport_headers)
    for error in DATABASE_ERRORS:
        app.register_error_handler(error, database_unavailable)
    for error in VALUE_ERRORS:
        app.register_error_handler(error, value_out_of_range)


def protect_blueprints(app: Flask) -> None:
    """A blueprint's own catch-all handler (the API's `Exception` → 500) is found before the application's
    database handlers, so every blueprint that has one gets them too. Called once every blueprint is registered."""
    for name, by_code in app.error_handler_spec.items():
        if name is not None and Exception in by_code.get(None, {}):
            for error in DATABASE_ERRORS:
                by_code[None][error] = database_unavailable
            for error in VALUE_ERRORS:
                by_code[None][error] = value_out_of_range

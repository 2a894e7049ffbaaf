"""Request-level wiring: access enforcement, session loading, error pages, template helpers."""

import json
import unicodedata
from pathlib import Path
from urllib.parse import quote, urlsplit

from flask import (Flask, Response, abort, current_app, flash, make_response, render_template, request,
                   url_for)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import Headers
from werkzeug.exceptions import BadHost, HTTPException
from werkzeug.http import dump_options_header

from app.core import access
from app.core.errors import DomainError, StaleObject
from app.core import hardening
from app.core.russian import byte_count, deputy_for, number as russian_number, numero_bound, plural
from app.core.hardening import DATABASE_ERRORS, health_report, unavailable_response
from app.core.redirects import same_site_path
from app.core.timeutil import format_date, format_datetime, today_in
from app.core.uploads import XLSX_MIME
from app.extensions import db, login_manager

HTTP_MESSAGES = {
    400: "Некорректный запрос.",
    401: "Требуется вход в систему.",
    403: "Доступ запрещён.",
    404: "Страница или объект не найдены.",
    405: "Метод запроса не поддерживается для этого адреса.",
    409: "Конфликт изменений.",
    413: "Файл слишком большой.",
    422: "Данные не прошли проверку.",
    429: "Слишком много запросов.",
    500: "Внутренняя ошибка сервера. Попробуйте позже или обратитесь к администратору.",
}


def reading() -> bool:
    """Whether the request only reads the page: GET or HEAD. HEAD is GET without the body (RFC 9110), so a view
    that branches on the method treats both alike — `request.method == "GET"` sent HEAD down the POST branch."""
    return request.method in ("GET", "HEAD")


def user_time_zone() -> str:
    """The time zone of the signed-in user's organisation (or its nearest ancestor that sets one)."""
    if current_user.is_authenticated:
        org = current_user.home_organisation
        while org is not None:
            if org.timezone:
                return org.timezone
            org = org.parent
    return current_app.config["APP_TIMEZONE"]


def user_today():
    """Today's date where the user works: deadlines and overdue marks are counted in it."""
    return today_in(user_time_zone())


# What a reader of an error page can do next (the page only; the API's errors keep their one message).
ERROR_ADVICE = {
    400: "Вернитесь на предыдущую страницу, обновите её и повторите действие.",
    401: "Войдите в систему и повторите действие: отправленное без входа не сохранено.",
    403: "Если эта страница нужна вам для работы, обратитесь к администратору вашей организации.",
    404: "Проверьте адрес: объект мог быть удалён или быть вам недоступен.",
    405: "Откройте страницу по ссылке из системы.",
    413: "Вернитесь на предыдущую страницу и загрузите файл меньшего размера.",
    "form": "Вернитесь на предыдущую страницу, обновите её и отправьте форму оттуда, не добавляя в неё полей.",
    429: "Подождите несколько минут и повторите.",
}


def too_large_problem(limit: int | None) -> str:
    """The API's detail of a body over MAX_CONTENT_LENGTH (`limit`, bytes), beside HTTP_MESSAGES[413]: the API's
    answer and its OpenAPI document say it in the same words."""
    return f"Наибольший допустимый размер запроса — {(limit or 0) // (1024 * 1024)} МБ."


def too_large_message() -> tuple[str, str | None]:
    """What a 413 refused and the advice for it. Werkzeug raises the same RequestEntityTooLarge for a body over
    MAX_CONTENT_LENGTH and for a multipart form over MAX_FORM_PARTS parts (or with one text field over
    MAX_FORM_MEMORY_SIZE), and «Файл слишком большой» misled whoever sent a small form of two thousand fields. A
    multipart body within MAX_CONTENT_LENGTH whose form was not parsed (a parsed form is kept in the request's
    __dict__; a view's own 413, for a file over its limit, comes after it) was refused for its parts; if it is no
    longer than MAX_FORM_MEMORY_SIZE, no field of it can be too long, so it is the number of parts."""
    config = current_app.config
    limit, length = config.get("MAX_CONTENT_LENGTH"), request.content_length
    if request.mimetype == "application/x-www-form-urlencoded":
        return (f"Форма слишком велика: допустимо не более {byte_count(request.max_content_length)} данных формы.",
                ERROR_ADVICE["form"])
    if (request.mimetype != "multipart/form-data" or "form" in request.__dict__ or length is None
            or (limit is not None and length > limit)):
        return HTTP_MESSAGES[413], ERROR_ADVICE[413]
    parts = russian_number(config.get("MAX_FORM_PARTS") or 0, 0)
    field_limit = config.get("MAX_FORM_MEMORY_SIZE")
    if field_limit is None or length <= field_limit:
        return f"В форме слишком много полей: допустимо не более {parts}.", ERROR_ADVICE["form"]
    return (f"В форме слишком много полей (допустимо не более {parts}) или слишком длинное текстовое поле "
            f"(не более {byte_count(field_limit)}).", ERROR_ADVICE["form"])


def _error_response(status: int, message: str, problems=None, advice: str | None = None):
    if access.wants_json():
        # As the API writes its own answers (app/api/views.py: json_response): UTF-8 text, not \u escapes — a 404 or
        # 405 from the router read «\u0421\u0442\u0440…» in a client's log where the API's own errors read Russian.
        body = json.dumps({"error": message, "problems": list(problems or [])}, ensure_ascii=False,
                          separators=(",", ":"))
        return current_app.response_class(body, status=status, mimetype="application/json")
    if isinstance(request.routing_exception, BadHost):
        return _unbound_page(status, message, advice or ERROR_ADVICE.get(status)), status
    try:
        return render_template("error.html", status=status, message=message, problems=problems or [],
                               advice=None if problems else advice or ERROR_ADVICE.get(status),
                               back=_sending_page()), status
    except DATABASE_ERRORS:
        # The layout needs the signed-in user, so the database: it is down, and that is what the user is told.
        db.session.rollback()
        return unavailable_response()


def _sending_page() -> str | None:
    """The page of this site a refused form was sent from (its Referer), for the error page's way back. A form
    refused after its session had expired (401), with a stale token (400) or a file too large (413) left the reader
    with «На главную» or a bare «Войти в систему» that led to the home page: the page they were filling in was lost.
    A GET has no such page: the address refused is the one the reader asked for."""
    if reading():
        return None
    return same_site_path(request.referrer, request.host)


def _unbound_page(status: int, message: str, advice: str | None) -> str:
    """The error page of a request Werkzeug could not bind to the URL map: a Host header it cannot encode (a name
    part over 63 characters: BadHost). No url_for works in such a request, and the layout builds its links with
    it, so the error page itself failed and a 400 became gunicorn's 500 (attack 11)."""
    advice_line = f"<p>{escape(advice)}</p>\n" if advice else ""
    return ('<!doctype html>\n<html lang="ru">\n<meta charset="utf-8">\n'
            f"<title>Ошибка {status} — УКО-Цикл</title>\n<h1>УКО-Цикл: ошибка {status}</h1>\n"
            f"<p>{escape(message)}</p>\n{advice_line}")


def absolute_url(endpoint: str, **values) -> str:
    """An absolute link that leaves the page it is on (the sitemap, an Atom feed, an iCalendar feed and the link to
    it): the configured address of the application (APP_BASE_URL), never the request's Host header. Built from the
    Host, a request sent with «Host: evil.example» wrote that host into the public sitemap and feeds, which a proxy
    or a browser then keeps for PUBLIC_MAX_AGE and hands to everyone (cache poisoning)."""
    return current_app.config["APP_BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def redirect_body(location: str) -> str:
    """The page under a redirect: what a client that does not follow it shows."""
    target = escape(location)
    return ('<!doctype html>\n<html lang="ru">\n<meta charset="utf-8">\n<title>Переход на другую страницу</title>\n'
            f'<p>Страница находится по другому адресу: <a href="{target}">{target}</a>.</p>\n')


def init_app(app: Flask) -> None:
    hardening.ERROR_RESPONSE = _error_response
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Войдите в систему, чтобы продолжить."
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"

    # The user loader and the ROLES template global come with the auth feature (app/auth/__init__.py).
    app.before_request(access.enforce_access_rule)

    @app.after_request
    def security_headers(response):
        # 'self' only: no page may reach out to a CDN or any other host.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # A browser that does not read CSP's frame-ancestors reads only X-Frame-Options: a page nobody may frame says
        # so in both (a public page with ?embed=1 allows its frame-ancestors, which X-Frame-Options cannot express).
        if "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", ""):
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.after_request
    def russian_redirect_body(response):
        # Werkzeug writes «Redirecting... You should be redirected automatically to the target URL» under every
        # redirect (ours, Flask-Login's, the router's added slash). A browser follows the Location unseen, but a
        # client that shows the body — curl, a mail client's preview, a proxy's log — read English.
        if 300 <= response.status_code < 400 and response.location and response.mimetype == "text/html":
            response.set_data(redirect_body(response.location))
        return response

    @app.after_request
    def relative_redirect_to_this_site(response):
        # The router's own redirects (a missing trailing slash: /public → /public/, //x → /x) are absolute URLs built
        # from the request's Host: «Host: evil.example» got «Location: http://evil.example/public/» (attack 17), a
        # poisoned answer for any cache in front that keys on the path. A redirect to this site needs no host: its
        # path, which the browser resolves against the address it asked. Registered after russian_redirect_body so
        # that it runs first (Flask runs them in reverse): the body names the same target.
        # A path a browser would read as another host («//x», «/\\x») keeps its absolute form (same_site_path).
        if 300 <= response.status_code < 400 and response.location and urlsplit(response.location).netloc:
            response.location = same_site_path(response.location, request.host) or response.location
        return response

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        return _error_response(exc.status_code, exc.message, exc.problems)

    @app.errorhandler(StaleDataError)
    def stale(exc):
        db.session.rollback()
        return _error_response(409, StaleObject().message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        db.session.rollback()
        return _error_response(400, "Форма устарела или отправлена не со страницы системы "
                                    "(нет защитного токена). Обновите страницу и повторите.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.session.rollback()
        if exc.code in (301, 302, 303, 307, 308):
            return exc.get_response()
        message, advice = (too_large_message() if exc.code == 413
                           else (HTTP_MESSAGES.get(exc.code, exc.description), None))
        response = make_response(_error_response(exc.code or 500, message, advice=advice))
        # Keep what the exception says in headers (a 405's Allow, a 401's WWW-Authenticate …).
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(exc):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, hardening.path_for_log())
        return _error_response(500, HTTP_MESSAGES[500])

    # A moment shown as a date is dated where the reader works, like the time of `datetime`.
    app.jinja_env.filters["date"] = lambda value: format_date(value, user_time_zone())
    # «8,4», «15 000»: a stored Decimal printed as it is reads «8.40» (a point, trailing zeros).
    app.jinja_env.filters["number"] = russian_number
    # «39 967 байт», «40 482 байта»: a file size grouped and agreed with its number.
    app.jinja_env.filters["bytes"] = byte_count
    # «1 задача», «3 задачи», «12 задач»: a count agreed with its noun.
    app.jinja_env.filters["plural"] = plural
    # «за Н.И. Ковалёву»: «за» takes the accusative (the inbox marked a deputy's task «за Н.И. Ковалёва»).
    app.jinja_env.filters["deputy_for"] = deputy_for
    app.jinja_env.filters["datetime"] = lambda value: format_datetime(value, user_time_zone())
    app.jinja_env.filters["numero_bound"] = numero_bound
    app.jinja_env.globals["absolute_url"] = absolute_url

    @app.route("/health")
    @access.public
    def health():
        return health_report()


def protect_extension_endpoints(app: Flask) -> None:
    """Static files of the app and of Bootstrap-Flask are public; every other endpoint declares its own rule."""
    for endpoint in ("static", "bootstrap.static"):
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = access.with_rule(access.public)(app.view_functions[endpoint])


def flash_problems(exc: DomainError) -> None:
    """The refusal as one message: its reason, then what is wrong as a list under it — each problem in a box of its
    own stacked four red boxes above the form it is about (a measure sent empty: walk 10)."""
    if not exc.problems:
        flash(exc.message, "danger")
        return
    items = Markup("").join(Markup("<li>{}</li>").format(problem) for problem in exc.problems)
    flash(Markup('{} <ul class="mb-0 mt-1 refusal-problems">{}</ul>').format(exc.message, items), "danger")


def send_stored_file(path: Path | None, name: str, mimetype: str) -> Response:
    """Stream a stored file as an attachment; 404 when there is none on disk (a file lost from storage, or not
    made yet). The file is opened only once the body is read and closed as soon as it is done (or abandoned), so
    no handle outlives the response."""
    if path is None or not path.is_file():
        abort(404)

    def chunks():
        with open(path, "rb") as fh:
            while chunk := fh.read(256 * 1024):
                yield chunk

    headers = _attachment_headers(name)
    headers.set("Content-Length", str(path.stat().st_size))
    return Response(chunks(), mimetype=mimetype, headers=headers, direct_passthrough=True)


def send_temporary_file(fh, name: str, mimetype: str) -> Response:
    """A generated export written to a temporary file (`tempfile.TemporaryFile`, binary) as an attachment: read back
    in chunks and closed — so removed — when the body is done or abandoned. An export of a hundred thousand rows is
    then never held in memory whole (send_download takes the bytes)."""
    size = fh.seek(0, 2)
    fh.seek(0)

    def chunks():
        with fh:
            while chunk := fh.read(256 * 1024):
                yield chunk

    headers = _attachment_headers(name)
    headers.set("Content-Length", str(size))
    response = Response(chunks(), mimetype=mimetype, headers=headers, direct_passthrough=True)
    response.call_on_close(fh.close)
    return response


# Characters a Windows file name cannot hold (an organisation's name may carry quotes or a slash).
_UNSAFE_IN_NAME = str.maketrans({c: " " for c in '\\/:*?"<>|'})


def send_download(data: bytes, name: str, mimetype: str = XLSX_MIME) -> Response:
    """A generated export (XLSX, CSV) as an attachment named in Russian: «Реестр экспертов.xlsx» rather than
    a transliteration. The name goes as filename* (UTF-8, RFC 6266) with an ASCII fallback for old clients."""
    headers = _attachment_headers(name)
    headers.set("Content-Length", str(len(data)))
    return Response(data, mimetype=mimetype, headers=headers)


def content_disposition(name: str, *, inline: bool = False) -> str:
    """The Content-Disposition of a file named in Russian: filename* (UTF-8, RFC 6266) and an ASCII fallback for old
    clients — «file.docx» when nothing of the name is left in ASCII, never Werkzeug's name of spaces where each
    Cyrillic letter was («       No 1-  07.12.2026.docx», the public documents' until attack 21)."""
    name = " ".join(name.translate(_UNSAFE_IN_NAME).split())
    try:
        name.encode("ascii")
        names = {"filename": name}
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        _, dot, ext = name.rpartition(".")
        fallback = " ".join(simple.split())
        # A fully Cyrillic name leaves only its extension: the fallback is then «file.xlsx», not «.xlsx».
        if not fallback.rpartition(".")[0].strip(" -—"):
            fallback = f"file.{ext}" if dot else "file"
        names = {"filename": fallback, "filename*": "UTF-8''" + quote(name, safe="!#$&+-.^_`|~")}
    return dump_options_header("inline" if inline else "attachment", names)


def _attachment_headers(name: str) -> Headers:
    headers = Headers()
    headers.set("Content-Disposition", content_disposition(name))
    headers.set("Cache-Control", "no-store")
    return headers

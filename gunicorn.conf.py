"""gunicorn's settings for УКО-Цикл, read by `gunicorn` started in the repository's folder (or `-c gunicorn.conf.py`).

A request gunicorn refuses before the application sees it (a request line or a header past the limits below, a
malformed request line or header) was answered by gunicorn's own English page («Bad Request — Request Line is too
large (5014 > 4094)»), not ours (attack 8). gunicorn has no setting for that page, so `write_error`, the one function
every such answer goes through, is replaced here by one that writes a Russian page, UTF-8, in the words of the
application's error pages. A request line past the limit is answered 414 (URI Too Long), as nginx does, not 400.

A request to the API (a path under /api/) is answered in the API's own form instead — JSON, {"error": "…", "problems":
["…"]}, in the same Russian words — so a client that reads JSON is not handed a page: gunicorn passes `write_error` no
request (it failed to parse), so the start of the request line is kept, per thread, as gunicorn reads it.

gunicorn names itself in a «Server: gunicorn» header on every answer; the header is left out (the version of the
server behind the proxy is nobody's business).

The limits are gunicorn's largest (a line of 8190 bytes, a header of 8190, 100 headers): the reverse proxy in front
(README, «Deployment») is set to pass larger ones, so whatever is too large is refused here, in Russian, and never
by the proxy's English page.
"""

import html
import json
import re
import threading

from gunicorn import glogging, util
from gunicorn.http.message import Request
from gunicorn.http.wsgi import Response

limit_request_line = 8190
limit_request_field_size = 8190
limit_request_fields = 100

# status → (reason phrase, what happened, what the reader can do); the statuses gunicorn answers by itself
PAGES = {
    400: ("Bad Request", "Некорректный запрос: сервер не смог его разобрать.",
          "Вернитесь на предыдущую страницу, обновите её и повторите действие."),
    403: ("Forbidden", "Запрос отклонён сервером.",
          "Откройте систему по её обычному адресу; если ошибка повторяется, обратитесь к администратору."),
    414: ("URI Too Long", "Адрес запроса слишком длинный.",
          "Откройте страницу по ссылке из системы или задайте меньше условий поиска."),
    431: ("Request Header Fields Too Large", "Заголовки запроса слишком велики или их слишком много.",
          "Удалите cookie этого сайта в браузере и войдите в систему снова."),
    500: ("Internal Server Error", "Внутренняя ошибка сервера.",
          "Попробуйте позже или обратитесь к администратору."),
    501: ("Not Implemented", "Сервер не поддерживает такой способ передачи запроса.",
          "Откройте страницу по ссылке из системы."),
}


API_PREFIX = b"/api/"
# The page has no script, style or picture: nothing may load, nobody may frame it (the application's own pages say
# so in their headers; these answers, written before the application sees the request, said nothing: attack 15).
ERROR_PAGE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def is_api(request_line: bytes) -> bool:
    """Whether the (start of the) request line asks for a path under /api/ («GET /api/v1/… HTTP/1.1»)."""
    parts = request_line.split(b" ", 2)
    path = parts[1] if len(parts) > 1 else b""
    return path.startswith(API_PREFIX) or path.split(b"?", 1)[0] == API_PREFIX.rstrip(b"/")


def russian_error(status_int: int, mesg: str, request_line: bytes = b"") -> tuple[int, bytes]:
    """The status and the whole HTTP answer (head and page, or the API's JSON) for a request gunicorn refused."""
    if status_int == 400 and mesg.startswith("Request Line is too large"):
        status_int = 414
    reason, message, advice = PAGES.get(status_int, PAGES[400])
    if is_api(request_line):
        kind = "application/json"
        body = json.dumps({"error": message, "problems": [advice]}, ensure_ascii=False).encode("utf-8")
    else:
        kind = "text/html"
        body = (
            '<!doctype html>\n<html lang="ru">\n<head>\n<meta charset="utf-8">\n'
            f"<title>Ошибка {status_int} — УКО-Цикл</title>\n</head>\n<body>\n"
            f"<h1>УКО-Цикл: ошибка {status_int}</h1>\n<p>{html.escape(message)}</p>\n<p>{html.escape(advice)}</p>\n"
            '<p><a href="/">На главную страницу</a></p>\n</body>\n</html>\n'
        ).encode("utf-8")
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: {kind}; charset=utf-8\r\n"
            f"Content-Language: ru\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
            f"Content-Security-Policy: {ERROR_PAGE_CSP}\r\nX-Frame-Options: DENY\r\nReferrer-Policy: same-origin\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("ascii")
    return status_int, head + body


# The start of the request line the worker's thread is reading (or read last), for `write_error`.
_reading = threading.local()
_parse, _read_line = Request.parse, Request.read_line


def _parse_kept(self, unreader):
    _reading.line = b""  # a new request: nothing of the previous one's line is left to misjudge this one by
    return _parse(self, unreader)


def _read_line_kept(self, unreader, buf, limit=0):
    try:
        return _read_line(self, unreader, buf, limit)
    finally:
        # also when the line is too long: its start names the path
        _reading.line = buf.getvalue()[:256]


Request.parse, Request.read_line = _parse_kept, _read_line_kept


def write_error(sock, status_int, reason, mesg):
    util.write_nonblock(sock, russian_error(status_int, mesg or "", getattr(_reading, "line", b""))[1])


_default_headers = Response.default_headers


def _default_headers_unnamed(self):
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


Response.default_headers = _default_headers_unnamed


# The workers call `util.write_error(...)` through the module at the moment of answering, so this takes effect in
# every worker forked from this master.
util.write_error = write_error


# The calendar feed's link is its own key (/deadlines/ical/<secret>.ics, app/deadlines/ical.py): an access log, when
# the operator turns one on (--access-logfile), writes every line with the secret cut out — in the request line, the
# path and the Referer alike —, since logs are read by more people, and kept longer, than the link's owner.
FEED_SECRET = re.compile(r"(/deadlines/ical/)[^/?#\s\"]+(\.ics)")


def without_secrets(text: str) -> str:
    return FEED_SECRET.sub(r"\1[secret]\2", text)


class SecretRedactingLogger(glogging.Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: without_secrets(value) if isinstance(value, str) else value for key, value in atoms.items()}


logger_class = SecretRedactingLogger

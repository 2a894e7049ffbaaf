"""gunicorn's settings for УКО-Цикл, read by `gunicorn` started in the repository's folder (or `-c gunicorn.conf.py`).

A request gunicorn refuses before the application sees it (a request line or a header past the limits below, a
malformed request line or header) was answered by gunicorn's own English page («Bad Request — Request Line is too
large (5014 > 4094)»), not ours (attack 8). gunicorn has no setting for that page, so `write_error`, the one function
every such answer goes through, is replaced here by one that writes a Russian page, UTF-8, in the words of the
application's error pages. A request line past the limit is answered 414 (URI Too Long), as nginx does, not 400.

The limits are gunicorn's largest (a line of 8190 bytes, a header of 8190, 100 headers): the reverse proxy in front
(README, «Deployment») is set to pass larger ones, so whatever is too large is refused here, in Russian, and never
by the proxy's English page.
"""

import html

from gunicorn import util

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


def russian_error(status_int: int, mesg: str) -> tuple[int, bytes]:
    """The status and the whole HTTP answer (head and page) for a request gunicorn refused."""
    if status_int == 400 and mesg.startswith("Request Line is too large"):
        status_int = 414
    reason, message, advice = PAGES.get(status_int, PAGES[400])
    page = (
        '<!doctype html>\n<html lang="ru">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Ошибка {status_int} — УКО-Цикл</title>\n</head>\n<body>\n"
        f"<h1>УКО-Цикл: ошибка {status_int}</h1>\n<p>{html.escape(message)}</p>\n<p>{html.escape(advice)}</p>\n"
        '<p><a href="/">На главную страницу</a></p>\n</body>\n</html>\n'
    ).encode("utf-8")
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Language: ru\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
            f"Content-Length: {len(page)}\r\n\r\n").encode("ascii")
    return status_int, head + page


def write_error(sock, status_int, reason, mesg):
    util.write_nonblock(sock, russian_error(status_int, mesg or "")[1])


# The workers call `util.write_error(...)` through the module at the moment of answering, so this takes effect in
# every worker forked from this master.
util.write_error = write_error

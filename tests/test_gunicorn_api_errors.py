"""What gunicorn answers by itself under /api/: the API's JSON in Russian, not the site's HTML page (gunicorn.conf.py);
and no answer names the server («Server: gunicorn»)."""

import json

import pytest

from tests.security.test_gunicorn_errors import _ask, _page, server  # noqa: F401 (the fixture)


@pytest.mark.parametrize("raw, status, words", [
    (b"GET /api/v1/cycles?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 414,
     "Адрес запроса слишком длинный"),
    (b"GET /api/v1/cycles HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\nConnection: close\r\n\r\n", 431,
     "Заголовки запроса слишком велики"),
    (b"GET /api/v1/cycles HTTP/9.9\r\nHost: x\r\n\r\n", 400, "Некорректный запрос"),
], ids=["a long request line", "a long header", "a malformed request"])
def test_an_api_request_gunicorn_refuses_gets_the_apis_json_in_russian(server, raw, status, words):  # noqa: F811
    head, body = _page(_ask(server, raw))
    assert head.startswith(f"HTTP/1.1 {status} ")
    assert "Content-Type: application/json; charset=utf-8" in head
    answer = json.loads(body)
    assert words in answer["error"] and answer["problems"] and "<" not in body


def test_the_site_still_gets_its_page_after_an_api_refusal_on_the_same_worker(server):  # noqa: F811
    _ask(server, b"GET /api/v1/cycles HTTP/9.9\r\nHost: x\r\n\r\n")
    head, body = _page(_ask(server, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    assert head.startswith("HTTP/1.1 414 ") and "text/html" in head and "<html lang=\"ru\">" in body
    # a path merely starting with «api» is the site's
    head, _body = _page(_ask(server, b"GET /apiary HTTP/9.9\r\nHost: x\r\n\r\n"))
    assert "text/html" in head


def test_no_answer_names_the_server(server):  # noqa: F811
    for raw in (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n"):
        head, _body = _page(_ask(server, raw))
        assert not [line for line in head.split("\r\n") if line.lower().startswith("server:")], head

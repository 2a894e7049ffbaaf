"""What gunicorn answers by itself, before the application sees the request (attack 8): a request line of 5 000
bytes got «400 Bad Request — Request Line is too large (5014 > 4094)», a long header «431 Request Header Fields Too
Large», in English, without the site's page. gunicorn.conf.py (read by gunicorn started in the repository's folder, as
README's «Deployment» does) writes those answers in Russian."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ("def app(environ, start_response):\n"
       "    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '2')])\n"
       "    return [b'ok']\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ask(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(raw)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tinyapp")
    (folder / "tinyapp.py").write_text(APP, encoding="utf-8")
    port = _free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    # As README says: started in the repository's folder, where gunicorn finds gunicorn.conf.py by itself.
    proc = subprocess.Popen([str(gunicorn), "-w", "1", "-b", f"127.0.0.1:{port}", "--pythonpath", str(folder),
                             "tinyapp:app"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                _ask(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _page(answer: bytes) -> tuple[str, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.decode("ascii"), body.decode("utf-8")


def test_a_request_line_too_long_is_answered_in_russian(server):
    head, body = _page(_ask(server, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    assert head.startswith("HTTP/1.1 414 ")
    assert "charset=utf-8" in head
    assert "Адрес запроса слишком длинный" in body and "УКО-Цикл" in body
    assert "Request Line" not in body


def test_a_line_within_the_limit_reaches_the_application(server):
    head, body = _page(_ask(server, b"GET /" + b"a" * 6000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    assert head.startswith("HTTP/1.1 200 ") and body == "ok"


@pytest.mark.parametrize("headers", [
    b"X-Long: " + b"a" * 9000 + b"\r\n",
    b"".join(b"X-%d: a\r\n" % n for n in range(150)),
], ids=["a long header", "too many headers"])
def test_headers_too_large_are_answered_in_russian(server, headers):
    head, body = _page(_ask(server, b"GET / HTTP/1.1\r\nHost: x\r\n" + headers + b"Connection: close\r\n\r\n"))
    assert head.startswith("HTTP/1.1 431 ")
    assert "Заголовки запроса слишком велики" in body and "cookie" in body


def test_a_malformed_request_is_answered_in_russian(server):
    head, body = _page(_ask(server, b"GET / HTTP/9.9\r\nHost: x\r\n\r\n"))
    assert head.startswith("HTTP/1.1 400 ")
    assert "Некорректный запрос" in body and "<html lang=\"ru\">" in body

"""Attack 15: the answers gunicorn writes by itself (a request line or headers too large, a malformed request)
carried no Content-Security-Policy and no X-Frame-Options, unlike every answer of the application: a scanner
checking the headers of every kind of response found an HTML page that any site could frame. They carry the same
protections now (the page loads nothing, so its policy allows nothing)."""

import pytest

from tests.security.test_gunicorn_errors import _ask, _page, server  # noqa: F401  (fixture)


@pytest.mark.parametrize("raw", [
    b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /api/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
], ids=["414", "431", "400", "414-api"])
def test_gunicorns_own_answers_carry_the_security_headers(server, raw):  # noqa: F811
    head, _body = _page(_ask(server, raw))
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head.split("\r\n")[1:])}
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"

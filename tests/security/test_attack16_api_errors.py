"""Attack 16: the API's errors that the router or Flask answer (an unknown path under /api/, a method a route does not
take) were JSON with every Russian letter escaped — «{"error":"\\u0421\\u0442\\u0440…"}» — while the API's own errors
are UTF-8 text («Страница или объект не найдены.»), as README promises so that a client's log reads them. Now every
JSON error is written the API's way.
"""

import pytest


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/api/v1/nope", 404),
    ("GET", "/api/v1/organisations/", 404),
    ("PUT", "/api/v1/organisations", 405),
    ("DELETE", "/api/v1/openapi.json", 405),
])
def test_router_errors_under_the_api_are_readable_json(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    raw = response.get_data()
    assert b"\\u04" not in raw and b"\\u0421" not in raw
    body = response.get_json()
    assert body["problems"] == [] and body["error"].isascii() is False
    assert body["error"] in raw.decode("utf-8")

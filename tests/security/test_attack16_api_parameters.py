"""Attack 16: a query parameter of the API named twice was read by its first value, the others dropped without a word.

`GET /api/v1/organisations?kind=school&kind=municipality` answered 200 with the schools only, `?limit=1&limit=1000`
with one item: a client that meant both filters got half of what it asked for and could not tell, and a proxy, a WAF
or a request log that reads the last value (many do) saw another request than the one answered — the two readings of
one request for which a JSON object naming one key twice is refused (test_duplicate_json_keys.py). Now such a
parameter is refused with 422 in the API's JSON form, like an unknown one, on every list of the API.
"""

import pytest

from tests.test_api_tokens import bearer, token_for  # noqa: F401  (token_for is a fixture)

INVALID = "Некорректные параметры запроса."


@pytest.mark.parametrize("path, name", [
    ("/api/v1/organisations?kind=school&kind=municipality", "kind"),
    ("/api/v1/organisations?limit=1&limit=1000", "limit"),
    ("/api/v1/organisations?parent_code=MUN&parent_code=REG", "parent_code"),
    ("/api/v1/cycles?state=open&state=closed", "state"),
    ("/api/v1/cycles?offset=0&offset=5", "offset"),
    ("/api/v1/assessment/campaigns?limit=5&limit=6", "limit"),
])
def test_a_parameter_named_twice_is_refused(world, client, token_for, path, name):  # noqa: F811
    response = client.get(path, headers=bearer(token_for(world["admin"])))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == INVALID
    assert f"Параметр «{name}» указан несколько раз; укажите его один раз." in body["problems"]


def test_a_parameter_named_once_still_filters(world, client, token_for):  # noqa: F811
    response = client.get("/api/v1/organisations?kind=school&limit=1", headers=bearer(token_for(world["admin"])))
    assert response.status_code == 200
    assert [o["kind"] for o in response.get_json()["items"]] == ["school"]

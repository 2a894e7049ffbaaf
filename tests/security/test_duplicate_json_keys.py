"""A JSON object that names one key twice is refused (attack 6). The parser kept the last value silently: a client
sending {"cycle_id": …, "rows": [{"value": 40, …, "value": 95}]} had 95 saved, while a proxy, a request log or a
reviewer reading the first value saw 40 — two readings of one request. Now 422 in Russian, nothing written."""

import json

import pytest

from tests.test_api import api, data_request, row, values  # noqa: F401  (fixtures)
from tests.test_access import db_state
from tests.test_api_tokens import token_for  # noqa: F401  (fixture)


def _raw(body_text: str):
    return {"data": body_text.encode(), "content_type": "application/json"}


@pytest.mark.parametrize("where", ["top", "row"])
def test_a_duplicate_key_is_refused_and_nothing_is_saved(world, data_request, api, db_session, where):  # noqa: F811
    first, _second = data_request["codes"]
    good_row = json.dumps(row(first, 40), ensure_ascii=False)
    if where == "top":
        text = f'{{"cycle_id": {data_request["cycle"].id}, "rows": [{good_row}], "cycle_id": 1}}'
    else:
        text = f'{{"cycle_id": {data_request["cycle"].id}, "rows": [{good_row[:-1]}, "value": 95}}]}}'
    api(world["director_a"], "/api/v1/organisations")  # token issued and its use noted before the snapshot
    before = db_state(db_session)
    response = api(world["director_a"], "/api/v1/indicator-values", "POST", **_raw(text))
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert "указано в одном объекте дважды" in error and ("«cycle_id»" if where == "top" else "«value»") in error
    assert db_state(db_session) == before and values(db_session) == {}


def test_the_same_body_without_the_duplicate_is_saved(world, data_request, api, db_session):  # noqa: F811
    first, _second = data_request["codes"]
    text = json.dumps({"cycle_id": data_request["cycle"].id, "rows": [row(first, 40)]}, ensure_ascii=False)
    response = api(world["director_a"], "/api/v1/indicator-values", "POST", **_raw(text))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["saved"] == 1


def test_a_duplicate_key_with_a_half_surrogate_is_quoted_safely(world, data_request, api):  # noqa: F811
    response = api(world["director_a"], "/api/v1/indicator-values", "POST",
                   **_raw('{"\\ud800\\u0001": 1, "\\ud800\\u0001": 2}'))
    assert response.status_code == 422 and response.mimetype == "application/json"

"""JSON may escape half of a UTF-16 surrogate pair («\\ud800»): Python keeps it in the string, and the first query
binding it failed with UnicodeEncodeError — a 500 from the API for an indicator code, an organisation code, a
period or a value (attack 4). Every JSON body carrying one is refused with 422 in Russian, the API's in its format."""

import pytest

ROW = {"indicator_code": "A", "organisation_code": "SCH-A", "period": "2025/26", "value": "1"}


@pytest.fixture
def api_headers(world, db_session):
    from app.api.services import issue_token

    issued = issue_token(world["director_a"], name="probe", actor=world["director_a"])
    db_session.commit()
    return {"Authorization": f"Bearer {issued.secret}", "Content-Type": "application/json"}


@pytest.mark.parametrize("field", ["indicator_code", "organisation_code", "period", "value", "comment"])
@pytest.mark.parametrize("half", ["\\ud800", "\\udfff"])
def test_the_api_refuses_a_lone_surrogate_with_422(client, api_headers, field, half):
    import json

    body = json.dumps({"rows": [{**ROW, field: "X"}]}).replace('"X"', f'"a{half}b"')
    response = client.post("/api/v1/indicator-values", data=body, headers=api_headers)
    assert response.status_code == 422
    answer = response.get_json()
    assert "непарный суррогатный символ" in answer["error"] and answer["problems"] == []


def test_a_key_with_a_lone_surrogate_is_refused_too(client, api_headers):
    response = client.post("/api/v1/indicator-values", data='{"rows": [], "\\ud83d": 1}', headers=api_headers)
    assert response.status_code == 422


def test_a_whole_pair_is_text_and_passes(client, api_headers):
    import json

    body = json.dumps({"rows": [{**ROW, "comment": "😀"}]})  # escaped as the pair \ud83d\ude00
    assert "\\ud83d\\ude00" in body
    response = client.post("/api/v1/indicator-values", data=body, headers=api_headers)
    assert response.status_code == 422  # the data request is missing, not the character
    assert "Нет открытого запроса" in response.get_data(as_text=True)

"""Attack 12: the forms of the pages took a JSON body as well (Flask-WTF fills a form from a JSON object), and a
number, null or object where a field expects text crashed the field's reading: an administrator's client sending
{"name": 123} or {"students": 5} to an organisation's form got a 500, and so did every other form. No page sends JSON
(the API has its own JSON), so a JSON body to a page is refused with 415 and a Russian message, nothing changed."""

import json

import pytest

from tests.conftest import PASSWORD

BODIES = [{"students": 5}, {"name": 123}, {"name": None}, {"ovz_share": 12.5}, {"students": {"a": 1}},
          {"name": ["Школа", "Лицей"]}]


@pytest.mark.parametrize("body", BODIES, ids=lambda b: json.dumps(b, ensure_ascii=True))
def test_a_json_body_to_a_form_is_refused_and_nothing_changes(client, login, world, db_session, body):
    school = world["school_b"]
    before = (school.name, school.students, school.ovz_share)
    login(world["admin"])
    response = client.post(f"/orgs/{school.id}/edit", json={"name": school.name, "settlement": "village", **body})
    assert response.status_code == 415
    assert "принимают данные формы, а не JSON" in response.get_data(as_text=True)
    db_session.expire_all()
    assert (school.name, school.students, school.ovz_share) == before


def test_log_in_by_json_is_refused_too(client, world):
    response = client.post("/login", json={"login": world["admin"].login, "password": PASSWORD})
    assert response.status_code == 415
    assert client.get("/tasks/").status_code != 200 or "Вход" in client.get("/tasks/").get_data(as_text=True)


def test_the_same_form_sent_as_a_form_is_saved(client, login, world, db_session):
    school = world["school_b"]
    login(world["admin"])
    response = client.post(f"/orgs/{school.id}/edit", data={"name": school.name, "settlement": "village",
                                                              "students": "5"})
    assert response.status_code == 302
    db_session.expire_all()
    assert school.students == 5

"""Attack 14 (fuzz of every route): a multipart POST with a file part under a text field's name was a 500 on every
form of the pages — Flask-WTF lays the uploaded parts over the text fields, the field took the FileStorage as its
value and the Length validator called len() on it (POST /documents/1/transition/1, /documents/1/regenerate …).
Only a form's file fields take files now: a text field is read from the text parts alone, so a name sent as a file
is a name not sent (the organisation keeps its own)."""

import io

from app.orgs.models import Organisation


def test_a_file_sent_as_a_text_field_is_not_taken_as_its_value(client, login, world, db_session):
    school = world["school_b"]
    before = school.name
    login(world["admin"])
    response = client.post(f"/orgs/{school.id}/edit", content_type="multipart/form-data",
                           data={"name": (io.BytesIO(b"\x00\xff" * 10), "x.pdf"), "settlement": "village"})
    assert response.status_code < 500
    db_session.expire_all()
    assert db_session.get(Organisation, school.id).name == before


def test_text_parts_of_a_multipart_form_are_still_read(client, login, world, db_session):
    school = world["school_b"]
    login(world["admin"])
    response = client.post(f"/orgs/{school.id}/edit", content_type="multipart/form-data",
                           data={"name": school.name, "settlement": "village", "students": "7",
                                 "stray": (io.BytesIO(b"x"), "x.txt")})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Organisation, school.id).students == 7

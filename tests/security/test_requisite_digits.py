"""Requisites (ИНН, ОГРН, ОКПО, КПП) in other digits than 0–9 (attack 8). They were checked with `str.isdigit`, which
says yes to «²»: the check digit's `int` then raised, so an administrator saving «123456789²» as the ИНН got a 500,
and the organisations import failed. Arabic-Indic or full-width digits passed the check and were stored, to be
printed on the бланк of letters as typed. Each is refused with the field's Russian message, nothing changed."""

import pytest

from tests.test_imports import count, import_orgs, run_file, uploads  # noqa: F401  (fixtures)

BAD = [("inn", "123456789²"), ("inn", "٧٧٠٧٠٨٣٨٩٣"), ("inn", "７７０７０８３８９３"), ("ogrn", "102770013219²"),
       ("okpo", "1234567²"), ("okpo", "٠٠٠٣٢٥٣٧"), ("kpp", "٧٧٠٧٠١٠٠١")]


@pytest.mark.parametrize("field, typed", BAD)
def test_the_organisation_form_refuses_other_digits(client, login, world, db_session, field, typed):
    school = world["school_b"]
    login(world["admin"])
    response = client.post(f"/orgs/{school.id}/edit", data={"name": school.name, "settlement": "village",
                                                              "students": "120", field: typed})
    assert response.status_code == 422
    assert "цифр" in response.get_data(as_text=True) or "9 знаков" in response.get_data(as_text=True)
    db_session.expire_all()
    assert getattr(school, field) is None


@pytest.mark.parametrize("field, typed", BAD)
def test_the_organisations_import_refuses_other_digits(import_orgs, db_session, field, typed):  # noqa: F811
    from app.orgs.models import Organisation

    content = f"code;name;kind;parent_code;{field}\r\nDIG-1;МОУ «Школа»;school;MUN;{typed}\r\n".encode("utf-8")
    run = import_orgs(content)
    assert run.status == "rejected", run.message
    assert db_session.query(Organisation).filter_by(code="DIG-1").count() == 0

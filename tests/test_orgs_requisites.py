"""Organisation requisites (реквизиты for the бланк): check digits, the admin pages, nothing saved when invalid."""

import base64
import hashlib
import io

import pytest
from sqlalchemy import select

from app.core.errors import ValidationFailed
from app.orgs import requisites as rq
from app.orgs.models import Organisation

# A 1×1 PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
                       "AAAABJRU5ErkJggg==")
GOOD = {"inn": "7707083893", "kpp": "773601001", "ogrn": "1027700132195", "okpo": "00032537",
        "address": "ул. Вавилова, д. 19, г. Москва, 117312", "phone": "+7 (495) 500-55-50", "email": "info@example.ru",
        "website": "https://example.ru", "head_position": "Директор"}


@pytest.mark.parametrize("check, value, ok", [
    (rq.inn_valid, "7707083893", True), (rq.inn_valid, "7707083894", False), (rq.inn_valid, "500100732259", True),
    (rq.inn_valid, "500100732258", False), (rq.inn_valid, "77070838", False), (rq.inn_valid, "77070838ab", False),
    (rq.ogrn_valid, "1027700132195", True), (rq.ogrn_valid, "1027700132196", False),
    (rq.ogrn_valid, "304500116000157", True), (rq.ogrn_valid, "304500116000158", False),
    (rq.okpo_valid, "00032537", True), (rq.okpo_valid, "00032538", False), (rq.okpo_valid, "123", False),
])
def test_check_digits(check, value, ok):
    assert check(value) is ok


def test_generated_demo_numbers_are_valid():
    for serial in range(1, 400, 7):
        assert rq.inn_valid(rq.with_inn_check(f"9901{serial:05d}"))
        assert rq.ogrn_valid(rq.with_ogrn_check(f"10299{serial:07d}"))
        assert rq.okpo_valid(rq.with_okpo_check(f"{4000000 + serial:07d}"))


def test_clean_requisites_normalises_and_explains_in_russian():
    cleaned, problems = rq.clean_requisites({"inn": " 7707 083 893 ", "kpp": "7736ab001", "phone": "",
                                             "address": "  ул.  Ленина,  д. 1  "})
    assert cleaned == {"inn": "7707083893", "kpp": "7736AB001", "phone": None, "address": "ул. Ленина, д. 1"}
    assert problems == []
    _, problems = rq.clean_requisites({"inn": "7707083894", "ogrn": "12345", "okpo": "00032538", "kpp": "77",
                                       "email": "нет", "website": "не сайт", "phone": "звоните"})
    assert problems == [
        "Телефон: номер из цифр, например +7 (351) 263-42-04.", "Электронная почта: адрес вида name@example.ru.",
        "Сайт: адрес сайта вида https://example.ru.",
        "ОКПО: неверное контрольное число — проверьте ОКПО.", "ОГРН: 13 цифр (ОГРНИП — 15).",
        "ИНН: неверное контрольное число — проверьте ИНН.",
        "КПП: 9 знаков: 4 цифры, 2 цифры или латинские буквы, 3 цифры."]


def test_requisites_lines_follow_the_ministry_letter():
    org = Organisation(code="X", name="X", kind="school", **GOOD)
    assert rq.requisites_lines(org) == [
        "ул. Вавилова, д. 19, г. Москва, 117312",
        "тел. +7 (495) 500-55-50, e-mail: info@example.ru, сайт: https://example.ru",
        "ОКПО 00032537, ОГРН 1027700132195, ИНН/КПП 7707083893/773601001"]
    assert rq.requisites_lines(Organisation(code="Y", name="Y", kind="school")) == []


def test_service_refuses_invalid_requisites_and_changes_nothing(world, db_session):
    from app.orgs.services import update_organisation

    school = world["school_b"]
    with pytest.raises(ValidationFailed) as refused:
        update_organisation(school, data={"name": school.name, "inn": "7707083894", "phone": "+7 351 000-00-00"},
                            actor=world["admin"])
    assert refused.value.problems == ["ИНН: неверное контрольное число — проверьте ИНН."]
    assert school.inn is None and school.phone is None
    with pytest.raises(ValidationFailed, match="PNG или JPEG"):
        update_organisation(school, data={"emblem": b"GIF89a...."}, actor=world["admin"])
    update_organisation(school, data={**GOOD, "emblem": PNG}, actor=world["admin"])
    assert (school.inn, school.ogrn, school.emblem) == ("7707083893", "1027700132195", PNG)
    db_session.rollback()


def test_admin_edits_requisites_and_uploads_an_emblem(world, client, login, db_session):
    login(world["admin"])
    school = world["school_b"]
    bad = client.post(f"/orgs/{school.id}/edit", data={"name": "Школа Б", "inn": "7707083894", "ogrn": "1"},
                      content_type="multipart/form-data")
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "Неверное контрольное число — проверьте ИНН." in page and "13 цифр (ОГРНИП — 15)." in page
    db_session.refresh(school)
    assert school.inn is None
    response = client.post(f"/orgs/{school.id}/edit", data={
        "name": "Школа Б", **GOOD, "emblem_file": (io.BytesIO(PNG), "gerb.png")}, content_type="multipart/form-data")
    assert response.status_code == 302
    db_session.refresh(school)
    assert (school.inn, school.kpp, school.okpo, school.head_position, school.emblem) == (
        "7707083893", "773601001", "00032537", "Директор", PNG)
    assert school.emblem_sha256 == hashlib.sha256(PNG).hexdigest()
    detail = client.get(f"/orgs/{school.id}").get_data(as_text=True)
    assert "ОКПО 00032537, ОГРН 1027700132195, ИНН/КПП 7707083893/773601001" in detail
    # Saving again without a file keeps the emblem; «Убрать эмблему» removes it.
    client.post(f"/orgs/{school.id}/edit", data={"name": "Школа Б", **GOOD}, content_type="multipart/form-data")
    db_session.refresh(school)
    assert school.emblem == PNG
    client.post(f"/orgs/{school.id}/edit", data={"name": "Школа Б", **GOOD, "emblem_remove": "y"},
                content_type="multipart/form-data")
    db_session.refresh(school)
    assert school.emblem is None and school.emblem_sha256 is None
    assert db_session.scalar(select(Organisation.inn).where(Organisation.id == school.id)) == "7707083893"

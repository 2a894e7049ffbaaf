"""Organisations: administrators add them and keep their context attributes; codes never change."""

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.orgs.models import Organisation


def count(db_session, model):
    return db_session.scalar(select(func.count()).select_from(model))


def test_admin_adds_a_school_with_context_attributes(world, client, login, db_session):
    login(world["admin"])
    response = client.post("/orgs/new", data={
        "code": "SCH-C", "name": "МОУ «СОШ с. Луговое»", "short_name": "СОШ с. Луговое", "kind": "school",
        "parent_id": world["mun"].id, "settlement": "village", "remote": "1", "students": "87",
        "profile": "ordinary", "low_income_share": "34,5", "ovz_share": "6", "teacher_vacancies": "2"})
    assert response.status_code == 302
    org = db_session.scalar(select(Organisation).where(Organisation.code == "SCH-C"))
    assert org.path == f"{world['mun'].path}{org.id}/" and org.parent_id == world["mun"].id
    assert (org.settlement, org.remote, org.students, float(org.low_income_share), org.teacher_vacancies) == (
        "village", True, 87, 34.5, 2)
    event = db_session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.object_type, event.object_id, event.actor_role) == (
        "create", "organisation", org.id, "admin")


def test_codes_are_unique_and_bad_values_are_refused_in_russian(world, client, login, db_session):
    login(world["admin"])
    before = count(db_session, Organisation)
    cases = [
        ({"code": "SCH-A"}, "уже существует"),
        ({"code": "a b"}, "Недопустимый код"),
        ({"students": "много"}, "Введите целое число цифрами 0–9 (например, 350)."),
        ({"low_income_share": "120"}, "от 0 до 100"),
        ({"timezone": "Europe/Nowhere"}, "Неизвестный часовой пояс"),
        ({"name": "   "}, "Обязательное поле."),
        ({"kind": "municipality"}, "не может входить"),
    ]
    for change, message in cases:
        data = {"code": "SCH-D", "name": "Школа Д", "kind": "school", "parent_id": world["mun"].id, **change}
        response = client.post("/orgs/new", data=data)
        assert response.status_code == 422, change
        assert message in response.get_data(as_text=True), (change, message)
    assert count(db_session, Organisation) == before


def test_edit_changes_context_but_never_the_code(world, client, login, db_session):
    login(world["admin"])
    school = world["school_b"]
    page = client.get(f"/orgs/{school.id}/edit").get_data(as_text=True)
    assert "SCH-B" in page and "не меняются" in page
    response = client.post(f"/orgs/{school.id}/edit", data={
        "code": "HACKED", "kind": "region", "name": "Школа Б", "students": "140", "settlement": "town",
        "remote": "0", "ovz_share": "7,5"})
    assert response.status_code == 302
    db_session.refresh(school)
    assert (school.code, school.kind, school.students, school.settlement, school.remote) == (
        "SCH-B", "school", 140, "town", False)
    event = db_session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "update" and '"students":120' in event.before and '"students":140' in event.after


def test_only_admins_of_the_subtree_manage_organisations(world, make_user, client, login, db_session):
    from app.orgs.services import create_organisation

    other_mun = create_organisation(code="MUN-2", name="Другой муниципалитет", kind="municipality",
                                    parent=world["region"])
    other_admin = make_user("admin", other_mun, login="admin_mun2")
    db_session.commit()
    login(other_admin)
    assert client.get(f"/orgs/{world['school_b'].id}/edit").status_code == 404
    response = client.post("/orgs/new", data={"code": "SCH-X", "name": "Чужая", "kind": "school",
                                              "parent_id": world["mun"].id})
    assert response.status_code == 422  # the other municipality is not offered as a parent
    assert db_session.scalar(select(Organisation).where(Organisation.code == "SCH-X")) is None
    client.post("/logout")
    login(world["official"])
    assert client.get(f"/orgs/{world['school_b'].id}/edit").status_code == 403
    assert client.get("/orgs/new").status_code == 403


def test_the_list_is_a_tree_with_siblings_by_code_numbers_by_value(world, make_org, client, login, db_session):
    # Ordered by the path of ids as text, a school made later (a larger id such as 10 before 9) came first.
    import lxml.html

    mun = make_org("municipality", parent=world["region"], code="TRE", name="Древесный район")
    for code in ("TRE-S10", "TRE-S2", "TRE-D01", "TRE-S1"):
        make_org("school" if "-S" in code else "preschool", parent=mun, code=code, name=f"Организация {code}")
    db_session.commit()
    login(world["admin"])
    page = lxml.html.fromstring(client.get("/orgs/").data)
    codes = [c.strip() for c in page.xpath("//tbody/tr/td[1]/text()")]
    assert codes[codes.index("TRE"):codes.index("TRE") + 5] == ["TRE", "TRE-D01", "TRE-S1", "TRE-S2", "TRE-S10"]
    assert codes.index("TRE") > codes.index(world["region"].code)  # the parent still comes before its subtree
    # The counts of students stand right-aligned under a right-aligned heading, as numbers (they stood left, as text).
    assert page.xpath("//thead//th[normalize-space()='Обучающихся']/@class") == ["text-end"]
    assert all("text-end" in c for c in page.xpath("//tbody/tr/td[4]/@class"))

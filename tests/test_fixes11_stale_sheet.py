"""A save refused because someone else saved the same 08-70 sheet in between (409) comes back with what the user
typed — and with what the other person saved, beside each criterion they changed and named in a notice above the
sheet. The re-rendered form carries the stored versions, so sending it again replaces the other person's scores: an
overwrite the user makes having seen them, not one made blind (before, the page showed only the user's old values
under the new versions, and the second click silently wiped the other save)."""

import lxml.html

from tests.access_cases.assessment import make_campaign


def _form_fields(form) -> dict:
    fields = {i.get("name"): i.get("value") or "" for i in form.xpath(".//input[@name]") if i.get("type") != "submit"}
    fields.update({t.get("name"): t.text_content() for t in form.xpath(".//textarea[@name]")})
    fields.update({s.get("name"): s.xpath("./option[@selected]/@value")[0] for s in form.xpath(".//select[@name]")
                   if s.xpath("./option[@selected]")})
    return fields


def test_a_stale_sheet_shows_the_other_save_before_it_is_overwritten(world, db_session, client_for):
    from app.assessment import services

    campaign, _manager, _expert = make_campaign(world, db_session)
    db_session.commit()
    sa = services.self_assessment_for(campaign, world["mun"].id, "M1.1")
    first, second = services.scores_of(campaign, world["mun"].id, "M1.1")[:2]
    url = f"/assessment/self/{sa.id}"

    mine, theirs = client_for(world["official"]), client_for(world["official"])  # two tabs, or two people
    opened = lxml.html.fromstring(mine.get(url).get_data(as_text=True))
    form = opened.xpath(f"//form[.//input[@name='points-{first.id}']]")[0]
    typed = _form_fields(form)
    typed.update({f"points-{first.id}": "0", f"comment-{first.id}": "мой комментарий"})

    response = theirs.post(f"{url}/scores", data={"version": sa.version, f"version-{first.id}": first.version,
                                                  f"points-{first.id}": "1", f"comment-{first.id}": "приказ № 12 есть"})
    assert response.status_code == 303
    db_session.expire_all()
    assert (first.self_points, first.self_comment) == (1, "приказ № 12 есть")

    response = mine.post(f"{url}/scores", data=typed)
    assert response.status_code == 409
    page = lxml.html.fromstring(response.get_data(as_text=True))
    notice = " ".join(page.xpath("//div[@id='sheet-overwritten']")[0].text_content().split())
    assert "1.1" in notice and "сохранил другой пользователь" in notice
    row = page.xpath(f"//tr[.//input[@name='points-{first.id}']]")[0]
    assert row.xpath(f".//input[@name='points-{first.id}']/@value") == ["0"]  # what was typed is kept
    stored = " ".join(row.xpath(".//div[contains(@class, 'overwritten')]")[0].text_content().split())
    assert "1" in stored and "приказ № 12 есть" in stored
    assert not page.xpath(f"//tr[.//input[@name='points-{second.id}']]//div[contains(@class, 'overwritten')]")
    db_session.expire_all()
    assert first.self_points == 1

    # Sent again, having seen it: the user's value replaces the other save.
    again = _form_fields(page.xpath(f"//form[.//input[@name='points-{first.id}']]")[0])
    assert again[f"points-{first.id}"] == "0" and again[f"comment-{first.id}"] == "мой комментарий"
    assert mine.post(f"{url}/scores", data=again).status_code == 303
    db_session.expire_all()
    assert (first.self_points, first.self_comment) == (0, "мой комментарий")


def test_a_stale_edit_of_the_campaigns_terms_lists_what_the_other_person_saved(world, db_session, client_for):
    from datetime import date, timedelta

    from app.assessment import services
    from app.assessment.criteria import load_criteria, published_sets
    from app.auth.services import create_user
    from tests.conftest import PASSWORD

    load_criteria()
    manager = create_user(login="reg_official", full_name="Регионова Ольга Петровна", password=PASSWORD,
                          position="консультант", roles=[("official", world["region"])])
    today = date.today()
    campaign = services.create_campaign(
        world["region"], actor=manager, title="Мониторинг механизмов 2026", period="2025/26",
        window_start=today + timedelta(days=1), window_end=today + timedelta(days=30),
        criteria_set_id=published_sets()[0].id, mechanisms=["M1.1"], municipality_ids=[world["mun"].id])
    db_session.commit()
    url = f"/assessment/campaigns/{campaign.id}"

    mine, theirs = client_for(manager), client_for(manager)
    opened = lxml.html.fromstring(mine.get(url).get_data(as_text=True))
    fields = _form_fields(opened.xpath("//form[@id='campaign-edit-form']")[0])
    fields.update({"mechanisms": "M1.1", "municipality_ids": str(world["mun"].id)})
    assert theirs.post(f"{url}/edit", data={**fields, "title": "Мониторинг: условия коллеги"}).status_code == 303

    response = mine.post(f"{url}/edit", data={**fields, "title": "Мониторинг: мои условия"})
    assert response.status_code == 409
    page = lxml.html.fromstring(response.get_data(as_text=True))
    form = page.xpath("//form[@id='campaign-edit-form']")[0]
    notice = " ".join(form.xpath(".//div[@id='campaign-edit-stored']")[0].text_content().split())
    assert "Название: Мониторинг: условия коллеги" in notice and "Период" not in notice
    again = _form_fields(form)
    assert again["title"] == "Мониторинг: мои условия"
    db_session.expire_all()
    assert campaign.title == "Мониторинг: условия коллеги"
    again.update({"mechanisms": "M1.1", "municipality_ids": str(world["mun"].id)})
    assert mine.post(f"{url}/edit", data=again).status_code == 303
    db_session.expire_all()
    assert campaign.title == "Мониторинг: мои условия"


def test_a_stale_edit_of_a_criteria_draft_shows_the_stored_wording_under_the_typed_one(world, db_session,
                                                                                       client_for):
    from app.assessment import criteria

    criteria.load_criteria()
    draft = criteria.new_version(criteria.published_sets()[0], version="2027.5", title="Набор", actor=world["admin"],
                                 region=world["region"])
    db_session.commit()
    first, second = draft.criteria[:2]
    url = f"/assessment/criteria/{draft.id}"

    mine, theirs = client_for(world["admin"]), client_for(world["admin"])
    opened = lxml.html.fromstring(mine.get(url).get_data(as_text=True))
    fields = _form_fields(opened.xpath("//form[@id='criteria-form']")[0])
    assert theirs.post(f"{url}/edit", data={**fields, f"text-{first.id}": "Формулировка коллеги"}).status_code == 303

    response = mine.post(f"{url}/edit", data={**fields, f"text-{first.id}": "Моя формулировка"})
    assert response.status_code == 409
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert page.xpath("//div[@id='criteria-stored']")
    row = page.xpath(f"//tr[.//textarea[@name='text-{first.id}']]")[0]
    assert row.xpath(f".//textarea[@name='text-{first.id}']")[0].text_content() == "Моя формулировка"
    assert "Сейчас сохранено: «Формулировка коллеги»" in " ".join(row.text_content().split())
    assert not page.xpath(f"//tr[.//textarea[@name='text-{second.id}']]//*[contains(@class, 'stored-now')]")
    again = _form_fields(page.xpath("//form[@id='criteria-form']")[0])
    assert mine.post(f"{url}/edit", data=again).status_code == 303
    db_session.expire_all()
    assert first.text == "Моя формулировка"

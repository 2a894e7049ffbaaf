"""Walk 11 (the region's expert, auditor, official and head; the public pages): what the pages found wanting.

Two managers of the same campaign or register each see the other's concurrent save instead of writing over it
blind: a cell of the experts' assignment carries the assignment's version (none did: the second «Назначить» silently
replaced the first one's expert), and a refused «Исключить» shows the date and basis the other manager recorded
beside what was typed (the row lost its form and the typing, and said only that the data had changed)."""

from datetime import date, timedelta

import lxml.html

from tests.access_cases.assessment import make_campaign


def _page(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def _words(node) -> str:
    return " ".join(node.text_content().split())


def _cell_form(page, mechanism: str):
    return next(f for f in page.xpath("//form[contains(@action, '/assign')]")
                if f.xpath(".//input[@name='mechanism_code']/@value") == [mechanism])


def _fields(form) -> dict:
    fields = {i.get("name"): i.get("value") or "" for i in form.xpath(".//input[@name]")}
    fields.update({s.get("name"): (s.xpath("./option[@selected]/@value") or [""])[0]
                   for s in form.xpath(".//select[@name]")})
    return fields


def _second_expert(world, manager, full_name: str, login: str):
    from app.assessment import services
    from app.assessment.criteria import published_sets
    from app.auth.services import create_user
    from tests.conftest import PASSWORD

    codes = published_sets()[0].mechanism_codes()
    user = create_user(login=login, full_name=full_name, password=PASSWORD, position="эксперт",
                       roles=[("expert", world["region"])])
    return services.add_expert(world["region"], actor=manager, user_id=user.id, organisation_id=world["region"].id,
                               position="эксперт", competences=list(codes), included_on=date.today(),
                               basis="приказ от 01.06.2026 № 7", mechanism_codes=codes)


def test_a_stale_expert_assignment_shows_the_expert_assigned_meanwhile(world, db_session, client_for):
    from app.assessment import services

    campaign, manager, _expert = make_campaign(world, db_session)
    theirs_pick = _second_expert(world, manager, "Соседова Вера Павловна", "expert_b")
    mine_pick = _second_expert(world, manager, "Моя Ирина Олеговна", "expert_c")
    db_session.commit()
    url = f"/assessment/campaigns/{campaign.id}"
    mine, theirs = client_for(manager), client_for(manager)  # two managers (or two tabs) of the same campaign

    opened = _fields(_cell_form(_page(mine.get(url)), "M1.1"))
    assert theirs.post(f"{url}/assign", data={**opened, "expert_id": theirs_pick.id}).status_code == 303

    response = mine.post(f"{url}/assign", data={**opened, "expert_id": mine_pick.id})
    assert response.status_code == 409
    db_session.expire_all()
    assert services.assignment_for(campaign, world["mun"].id, "M1.1").expert_id == theirs_pick.id
    page = _page(response)
    notice = _words(page.xpath("//div[@id='assign-stored']")[0])
    assert "эксперта назначил другой пользователь" in notice and "Соседова Вера Павловна" in notice
    # the message above says what happened, not «обновите страницу», which would lose the choice kept below
    assert "назначил другой пользователь, пока форма была открыта; ваш выбор не записан" in _words(page)
    assert "обновите страницу" not in _words(page)
    again = _fields(_cell_form(page, "M1.1"))
    assert again["expert_id"] == str(mine_pick.id)  # what was chosen stays chosen

    # Sent again, having seen the other choice: it replaces it.
    assert mine.post(f"{url}/assign", data=again).status_code == 303
    db_session.expire_all()
    assert services.assignment_for(campaign, world["mun"].id, "M1.1").expert_id == mine_pick.id


def test_a_stale_exclusion_shows_the_date_and_basis_the_other_manager_recorded(world, db_session, client_for):
    from app.assessment.models import Expert

    _campaign, manager, _expert = make_campaign(world, db_session)
    other = _second_expert(world, manager, "Соседова Вера Павловна", "expert_b")
    db_session.commit()
    mine, theirs = client_for(manager), client_for(manager)
    opened = _page(mine.get("/assessment/experts"))
    form = opened.xpath(f"//form[contains(@action, '/experts/{other.id}/exclude')]")[0]
    fields = _fields(form)
    day = date.today() - timedelta(days=1)
    assert theirs.post(f"/assessment/experts/{other.id}/exclude", data={
        **fields, "excluded_on": day.isoformat(), "reason": "приказ от 05.12.2026 № 77"}).status_code == 303

    response = mine.post(f"/assessment/experts/{other.id}/exclude", data={
        **fields, "excluded_on": date.today().isoformat(), "reason": "по собственному желанию"})
    assert response.status_code == 409
    db_session.expire_all()
    assert db_session.get(Expert, other.id).excluded_on == day
    notice = _words(_page(response).xpath("//div[@id='exclusion-stored']")[0])
    assert "исключение записал другой пользователь" in notice
    assert f"Дата исключения: {day:%d.%m.%Y}" in notice and "Основание: приказ от 05.12.2026 № 77" in notice
    assert f"вы ввели: дата {date.today():%d.%m.%Y}, основание «по собственному желанию»" in notice


def test_an_expert_assigned_to_two_municipalities_chooses_between_them_in_the_situational_centre(
        world, db_session, client_for, make_org, make_user):
    from app.assessment import services

    campaign, manager, expert = make_campaign(world, db_session)
    other = make_org("municipality", parent=world["region"], code="MUN-2", name="Второй муниципалитет")
    coordinator = make_user("official", other, login="official_mun2")
    second, _, _ = make_campaign(world, db_session, mun=other, coordinator=coordinator, manager=manager)
    db_session.commit()
    assert {a.municipality_id for c in (campaign, second) for a in c.assignments} == {world["mun"].id, other.id}
    assert services.assignment_for(second, other.id, "M1.1").expert_id == expert.id

    client = client_for(world["expert"])
    response = client.get("/situation/")
    # Both municipalities to choose from (it opened at the first one, with no way to the second).
    assert response.status_code == 200
    page = _page(response)
    links = {a.text_content().strip(): a.get("href") for a in page.xpath("//ul[@id='situation-roots']//a")}
    assert links == {"Тестовый муниципалитет": f"/situation/orgs/{world['mun'].id}",
                     "Второй муниципалитет": f"/situation/orgs/{other.id}"}
    assert client.get(links["Второй муниципалитет"]).status_code == 200
    # One organisation in sight still opens it straight away.
    assert client_for(world["official"]).get("/situation/").status_code == 302


def test_a_long_comment_in_the_audit_log_shows_its_beginning_and_folds_the_rest(world, db_session, client_for):
    from app.assessment import services

    campaign, _manager, _expert = make_campaign(world, db_session)
    sa = services.self_assessment_for(campaign, world["mun"].id, "M1.1")
    score = services.scores_of(campaign, world["mun"].id, "M1.1")[0]
    comment = "Обоснование самооценки по критерию со ссылками на документы муниципалитета. " * 26  # ≈ 2,000
    services.save_self_scores(sa, actor=world["official"], entries={score.id: (1, comment.strip(), score.version)},
                              today=date.today())
    db_session.commit()

    page = _page(client_for(world["auditor"]).get("/audit/?object=self_assessment"))
    cell = next(td for td in page.xpath("//td[contains(@class, 'json-diff')]") if "Обоснование" in td.text_content())
    folded = cell.xpath(".//details[contains(@class, 'long-value')]")
    assert len(folded) == 1
    shown = cell.text_content().replace(folded[0].text_content(), "")
    assert len(shown) < 400  # the beginning, not 2,000 characters in a column 8 words wide
    assert "…" in folded[0].xpath("./summary")[0].text_content()
    summary = folded[0].xpath("./summary")[0].text_content()
    assert " ".join(cell.text_content().replace(summary, "").split()).count("Обоснование самооценки") == 26


def test_a_cell_whose_expert_has_begun_offers_no_replacement(world, db_session, client_for):
    from app.assessment import services

    campaign, manager, _expert = make_campaign(world, db_session, mechanisms=("M1.1", "M1.2"))
    assignment = services.assignment_for(campaign, world["mun"].id, "M1.1")
    score = services.scores_of(campaign, world["mun"].id, "M1.1")[0]
    services.save_expert_scores(assignment, actor=world["expert"], entries={score.id: (0, "нет", score.version)},
                                today=date.today())
    db_session.commit()

    page = _page(client_for(manager).get(f"/assessment/campaigns/{campaign.id}"))
    cells = [f.xpath(".//input[@name='mechanism_code']/@value")[0]
             for f in page.xpath("//table[@id='appointments']//form[contains(@action, '/assign')]")]
    # M1.1 is scored: «Назначить» there could only be refused («Эксперт уже начал оценку…»); M1.2 can be replaced.
    assert cells == ["M1.2"]
    fixed = _words(page.xpath("//table[@id='appointments']//td[contains(@class, 'fixed-expert')]")[0])
    assert "оценка начата" in fixed


def test_a_long_comment_on_the_score_sheet_shows_its_beginning_and_folds_the_rest(world, db_session, client_for):
    from app.assessment import services

    campaign, manager, _expert = make_campaign(world, db_session)
    sa = services.self_assessment_for(campaign, world["mun"].id, "M1.1")
    comment = "Обоснование самооценки по критерию со ссылками на документы муниципалитета. " * 26  # ≈ 2,000
    entries = {s.id: (0, comment.strip(), s.version) for s in services.scores_of(campaign, world["mun"].id, "M1.1")}
    services.save_self_scores(sa, actor=world["official"], entries=entries, today=date.today())
    services.transition_self(sa, "submit", actor=world["official"], today=date.today())
    db_session.commit()

    page = _page(client_for(manager).get(f"/assessment/self/{sa.id}"))
    row = page.xpath("//table[@id='sheet']//tr[@data-criterion]")[0]
    cell = row.xpath("./td")[2]
    folded = cell.xpath(".//details[contains(@class, 'long-value')]")
    assert len(folded) == 1
    assert len(cell.text_content().replace(folded[0].text_content(), "")) < 400  # not 2,000 characters a row
    summary = folded[0].xpath("./summary")[0].text_content()
    assert " ".join(cell.text_content().replace(summary, "").split()).count("Обоснование самооценки") == 26  # all

"""Bad input gets a clear Russian message and changes nothing; nothing typed is lost. The forms of the 08-70
assessment that answered a refusal with a redirect (the typed date, reason, choice gone) re-render their page with
the refusal's status and what was typed; history rows of events that move no state say nothing of a transition; the
deadlines page takes a date as people type it."""

from datetime import date, timedelta

import lxml.html
import pytest
from sqlalchemy import func, select

from tests.access_cases.assessment import make_campaign
from tests.test_access_centres import centres  # noqa: F401  (a fixture)


@pytest.fixture
def assess(world, db_session):
    """A published campaign over world["mun"] (M1.1 and M1.2) and the region's official who manages it."""
    campaign, manager, expert = make_campaign(world, db_session, mechanisms=("M1.1", "M1.2"))
    db_session.commit()
    return {"campaign": campaign, "manager": manager, "expert": expert}


def _page(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def _alert(page) -> str:
    return " ".join(" ".join(a.text_content().split()) for a in page.xpath("//div[contains(@class, 'alert-danger')]"))


def test_a_refused_extension_keeps_the_date_and_the_reason(assess, client, login, db_session):
    campaign = assess["campaign"]
    login(assess["manager"])
    too_early = campaign.window_closes.isoformat()
    response = client.post(f"/assessment/campaigns/{campaign.id}/extend", data={
        "until": too_early, "reason": "по просьбе муниципалитета", "version": campaign.version})
    assert response.status_code == 422
    page = _page(response)
    assert page.xpath("//form[@id='extend-form']//input[@id='until']/@value") == [too_early]
    assert page.xpath("//form[@id='extend-form']//input[@id='reason']/@value") == ["по просьбе муниципалитета"]
    assert "Новая дата окончания должна быть позже" in _alert(page)
    db_session.expire_all()
    assert campaign.extended_until is None


def test_a_refused_expert_assignment_keeps_the_chosen_expert_in_its_cell(world, assess, client, login, make_user,
                                                                         db_session):
    from app.assessment import services
    from app.assessment.criteria import published_sets

    campaign, mun = assess["campaign"], world["mun"]
    codes = published_sets()[0].mechanism_codes()
    local = services.add_expert(
        world["region"], actor=assess["manager"], user_id=make_user("expert", world["region"], full_name=(
            "Местная Анна Ильинична")).id, organisation_id=mun.id, position="методист", competences=list(codes),
        included_on=date.today(), basis="приказ от 01.06.2026 № 2", mechanism_codes=codes)
    db_session.commit()
    login(assess["manager"])
    response = client.post(f"/assessment/campaigns/{campaign.id}/assign", data={
        "municipality_id": mun.id, "mechanism_code": "M1.2", "expert_id": local.id,
        "version": services.assignment_for(campaign, mun.id, "M1.2").version})
    assert response.status_code == 422
    page = _page(response)
    assert "Конфликт интересов" in _alert(page)
    cells = {tuple(f.xpath(".//input[@name='mechanism_code']/@value")): f.xpath(".//option[@selected]/@value")
             for f in page.xpath("//form[contains(@action, '/assign')]")}
    # The refused choice in its own cell; the other cell still shows the expert assigned there.
    assert cells == {("M1.2",): [str(local.id)], ("M1.1",): [str(assess["expert"].id)]}
    assert services.assignment_for(campaign, mun.id, "M1.2").expert_id == assess["expert"].id


def test_a_refused_coordinator_keeps_the_chosen_user(world, assess, client, login, db_session):
    campaign = assess["campaign"]
    login(assess["manager"])
    response = client.post(f"/assessment/campaigns/{campaign.id}/coordinator", data={
        "municipality_id": world["mun"].id, "user_id": world["head"].id, "version": campaign.version - 1})
    assert response.status_code == 409
    page = _page(response)
    assert _alert(page)
    form = page.xpath("//form[contains(@action, '/coordinator')]")[0]
    assert form.xpath(".//option[@selected]/@value") == [str(world["head"].id)]
    db_session.expire_all()
    assert campaign.municipalities[0].coordinator_id == world["official"].id


def test_a_refused_campaign_edit_keeps_what_was_typed(world, make_user, client, login, db_session):
    from app.assessment import services
    from app.assessment.criteria import load_criteria, published_sets

    load_criteria()
    manager = make_user("official", world["region"], login="reg_official2")
    today = date.today()
    campaign = services.create_campaign(
        world["region"], actor=manager, title="Черновик", period="2025/26", window_start=today,
        window_end=today + timedelta(days=30), criteria_set_id=published_sets()[0].id, mechanisms=["M1.1"],
        municipality_ids=[world["mun"].id])
    db_session.commit()
    login(manager)
    response = client.post(f"/assessment/campaigns/{campaign.id}/edit", data={
        "title": "Новое название", "period": "2025/26", "window_start": "2026-10-01", "window_end": "31.02.2026",
        "criteria_set_id": campaign.criteria_set_id, "mechanisms": ["M1.1", "M1.2"],
        "municipality_ids": [world["mun"].id], "version": campaign.version})
    assert response.status_code == 422
    page = _page(response)
    assert "«31.02.2026» не является датой" in _alert(page)
    assert page.xpath("//details[@id='campaign-edit']/@open")
    assert page.xpath("//input[@id='edit-title']/@value") == ["Новое название"]
    assert page.xpath("//input[@id='edit-window-start']/@value") == ["2026-10-01"]
    assert page.xpath("//input[@name='mechanisms'][@checked]/@value") == ["M1.1", "M1.2"]
    db_session.expire_all()
    assert campaign.title == "Черновик" and campaign.mechanisms == ["M1.1"]


def test_a_refused_exclusion_keeps_the_reason_in_that_experts_row(assess, client, login, db_session):
    expert = assess["expert"]
    login(assess["manager"])
    response = client.post(f"/assessment/experts/{expert.id}/exclude", data={
        "excluded_on": "", "reason": "переход на другую работу", "version": expert.version})
    assert response.status_code == 422
    page = _page(response)
    assert "Укажите дату и основание исключения." in _alert(page)
    form = page.xpath(f"//form[contains(@action, '/experts/{expert.id}/exclude')]")[0]
    assert form.xpath(".//input[@name='reason']/@value") == ["переход на другую работу"]
    db_session.expire_all()
    assert expert.status == "active"


def test_a_refused_criteria_edit_keeps_the_typed_points_and_text(world, client, login, db_session):
    from app.assessment import criteria

    criteria.load_criteria()
    base = criteria.published_sets()[0]
    draft = criteria.new_version(base, version="2026-р", title=base.title, actor=world["admin"],
                                 region=world["region"])
    db_session.commit()
    first = draft.criteria[0]
    login(world["admin"])
    response = client.post(f"/assessment/criteria/{draft.id}/edit", data={
        f"points-{first.id}": "500", f"text-{first.id}": "Новая формулировка", "threshold-high": "80",
        "threshold-medium": "60", "threshold-low": "40", "version": draft.version_counter})
    assert response.status_code == 422
    page = _page(response)
    assert _alert(page)
    assert page.xpath(f"//input[@name='points-{first.id}']/@value") == ["500"]
    assert page.xpath(f"//textarea[@name='text-{first.id}']/text()") == ["Новая формулировка"]
    db_session.expire_all()
    assert first.max_points != 500


def test_a_refused_new_criteria_version_keeps_the_typed_version(world, client, login, db_session):
    from app.assessment import criteria
    from app.assessment.models import CriteriaSet

    criteria.load_criteria()
    base = criteria.published_sets()[0]
    login(world["admin"])
    before = db_session.scalar(select(func.count()).select_from(CriteriaSet))
    response = client.post(f"/assessment/criteria/{base.id}/new-version", data={
        "version": base.version, "title": "Копия с тем же номером"})
    assert response.status_code in (409, 422)
    page = _page(response)
    assert _alert(page)
    assert page.xpath("//form[@id='new-version']//input[@id='version']/@value") == [base.version]
    assert page.xpath("//form[@id='new-version']//input[@id='title']/@value") == ["Копия с тем же номером"]
    assert db_session.scalar(select(func.count()).select_from(CriteriaSet)) == before


def test_a_refused_campaign_document_answers_the_campaign_page_with_the_reason(assess, client, login):
    campaign = assess["campaign"]
    login(assess["manager"])
    response = client.post(f"/assessment/campaigns/{campaign.id}/documents", data={"type_key": "no_such_document"})
    assert 400 <= response.status_code < 500
    page = _page(response)
    assert _alert(page) and page.xpath("//table[@id='campaign-documents-table']")


def _state_cells(client, url) -> dict[str, str]:
    """The audit page's state cell of each event, by the event's id."""
    page = _page(client.get(url))
    return {tr.get("data-event-id"): " ".join(tr.xpath("./td")[6].text_content().split())
            for tr in page.xpath("//tr[@data-event-id]")}


def test_a_saved_sheet_shows_no_transition_in_the_history_and_a_real_one_still_does(world, assess, client, login,
                                                                                     db_session):
    # «— → оценивается» stood beside every saved 08-70 sheet, a transition that never happened.
    from app.assessment import services
    from app.audit.models import AuditEvent

    sa = services.self_assessment_for(assess["campaign"], world["mun"].id, "M1.1")
    scores = services.scores_of(sa.campaign, sa.municipality_id, "M1.1")
    services.save_self_scores(sa, actor=world["official"], entries={s.id: (1, None, s.version) for s in scores},
                              today=date.today())
    db_session.commit()
    events = {e.action: e for e in db_session.scalars(select(AuditEvent).where(
        AuditEvent.object_type.in_(("self_assessment", "assessment_campaign"))))}
    assert events["score_self"].from_state is None and events["score_self"].to_state  # the state only noted
    login(world["auditor"])
    cells = _state_cells(client, "/audit/")
    assert cells[str(events["score_self"].id)] == ""
    assert cells[str(events["publish"].id)] == "подготовка → идёт оценка"
    assert cells[str(events["create"].id)] == "— → подготовка"  # a creation: the campaign came into being in that state


def test_the_calendar_takes_a_date_typed_as_people_write_it_and_names_that_form_when_refusing(world, client, login):
    # «?date=15.03.2027» was refused with «ожидается ГГГГ-ММ-ДД», a form nobody types.
    from app.deadlines import calendar

    login(world["official"])
    start = calendar.week_start(date(2027, 3, 17))
    typed = client.get("/deadlines/?view=week&date=17.03.2027").get_data(as_text=True)
    assert f"Неделя {start:%d.%m} — {start + timedelta(days=6):%d.%m.%Y}" in typed
    assert "не является датой" not in typed
    iso = client.get("/deadlines/?view=week&date=2027-03-17").get_data(as_text=True)
    assert f"Неделя {start:%d.%m}" in iso
    bad = client.get("/deadlines/?date=31.02.2027")
    assert bad.status_code == 200
    assert "«31.02.2027» не является датой (ожидается дата в виде ДД.ММ.ГГГГ): показан текущий месяц." in \
        bad.get_data(as_text=True)


def test_a_refused_evidence_package_answers_its_page_with_the_municipality_chosen(world, assess, client, login,
                                                                                  db_session):
    from app.assessment.package import EvidencePackage

    login(world["expert"])  # the assigned expert: a draft self-assessment is not theirs to package yet
    response = client.post(f"/assessment/campaigns/{assess['campaign'].id}/packages/request",
                           data={"municipality_id": str(world["mun"].id)})
    assert response.status_code == 422
    page = _page(response)
    assert "собирается после того, как координатор представит самооценку" in _alert(page)
    assert page.xpath("//select[@id='municipality_id']/option[@selected]/@value") == [str(world["mun"].id)]
    assert db_session.scalar(select(func.count()).select_from(EvidencePackage)) == 0


def test_a_refused_support_answers_the_centres_page_with_the_reason(world, centres, client_for, db_session):  # noqa: F811
    # The redirect to the page said the reason in a flash but answered 302 (and lost the choice of a refused form).
    from app.orgs.models import OrganisationSupport
    from app.orgs.services import add_support

    imc = centres["imc_centre"]
    add_support(imc, world["mun"], actor=world["admin"])  # meanwhile, from another tab
    db_session.commit()
    admin = client_for(world["admin"])
    response = admin.post(f"/orgs/{imc.id}/supports", data={"supported_id": world["mun"].id})
    assert response.status_code == 422
    page = _page(response)
    assert "уже сопровождает" in _alert(page) and page.xpath("//h1")
    response = admin.post(f"/orgs/{imc.id}/supports", data={"supported_id": world["region"].id})
    assert response.status_code == 302  # a choice that is allowed still goes through
    response = admin.post(f"/orgs/{imc.id}/supports/{centres['mun2'].id}/remove")
    assert response.status_code == 422 and "не сопровождает" in _alert(_page(response))
    assert {s.supported_id for s in db_session.scalars(select(OrganisationSupport))} == {
        world["mun"].id, world["region"].id}

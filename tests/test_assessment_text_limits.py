"""Nothing typed is lost: a text of the assessment's forms past its limit is refused with the field and the limit
named, and comes back whole in the form that was sent (it was stored as its first characters without a word —
a campaign's title, the basis of an extension, an expert's position and basis of inclusion, the basis of an
exclusion, an evidence comment). A browser's maxlength stops typing; a pasted or hand-made form got cut."""

import io
from datetime import date, timedelta

import lxml.html
from sqlalchemy import func, select

from tests.access_cases.assessment import make_campaign


def _page(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def _refused(response, problem: str, field_xpath: str, typed: str):
    assert response.status_code == 422, response.status_code
    page = _page(response)
    assert problem in " ".join(page.text_content().split())
    assert page.xpath(field_xpath)[0].get("value") == typed  # shown again whole, not cut


def test_over_long_texts_are_refused_and_shown_again_whole(world, db_session, client_for):
    from app.assessment import services
    from app.assessment.criteria import published_sets
    from app.assessment.models import Campaign, EvidenceItem, Expert

    campaign, manager, expert = make_campaign(world, db_session)
    sa = services.self_assessment_for(campaign, world["mun"].id, "M1.1")
    criterion_id = services.scores_of(campaign, world["mun"].id, "M1.1")[0].criterion_id
    db_session.commit()
    mine = client_for(manager)
    today = date.today().isoformat()
    later = (date.today() + timedelta(days=30)).isoformat()  # a window already over is refused on its own
    campaigns = db_session.scalar(select(func.count()).select_from(Campaign))

    title = "Мониторинг " + "я" * services.MAX_TITLE
    response = mine.post("/assessment/campaigns", data={
        "title": title, "period": "2025/26", "window_start": today, "window_end": later,
        "criteria_set_id": published_sets()[0].id, "mechanisms": "M1.1", "municipality_ids": world["mun"].id})
    _refused(response, f"Название кампании длиннее {services.MAX_TITLE} символов ({len(title)})",
             "//input[@name='title']", title)

    reason = "приказ " + "я" * services.MAX_COMMENT
    response = mine.post(f"/assessment/campaigns/{campaign.id}/extend", data={
        "until": date(date.today().year + 1, 1, 1).isoformat(), "reason": reason, "version": campaign.version})
    _refused(response, f"Основание продления длиннее {services.MAX_COMMENT} символов",
             "//form[@id='extend-form']//input[@name='reason']", reason)

    position, basis = "эксперт " + "я" * 300, "приказ " + "я" * 300
    response = mine.post("/assessment/experts/add", data={
        "user_id": world["head"].id, "organisation_id": world["region"].id, "position": position,
        "competences": "M1.1", "included_on": today, "basis": basis})
    _refused(response, "Должность эксперта длиннее 300 символов", "//input[@name='position']", position)
    _refused(response, "Основание включения длиннее 300 символов", "//input[@name='basis']", basis)

    response = mine.post(f"/assessment/experts/{expert.id}/exclude", data={
        "excluded_on": today, "reason": reason, "version": expert.version})
    _refused(response, f"Основание исключения длиннее {services.MAX_COMMENT} символов",
             f"//form[contains(@action, '/experts/{expert.id}/exclude')]//input[@name='reason']", reason)

    coordinator = client_for(world["official"])
    comment = "протокол " + "я" * services.MAX_COMMENT
    response = coordinator.post(f"/assessment/self/{sa.id}/evidence", data={
        "criterion_id": criterion_id, "comment": comment, "file": (io.BytesIO(b"%PDF evidence"), "protokol.pdf")},
        content_type="multipart/form-data")
    _refused(response, f"Комментарий к доказательству длиннее {services.MAX_COMMENT} символов",
             "//input[@id='ev-comment']", comment)

    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Campaign)) == campaigns
    assert campaign.extended_until is None
    assert db_session.get(Expert, expert.id).status == "active"
    assert db_session.scalar(select(Expert.id).where(Expert.user_id == world["head"].id)) is None
    assert db_session.scalar(select(func.count()).select_from(EvidenceItem)) == 0

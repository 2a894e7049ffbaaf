"""Two managers of the same campaign appointing a municipality's coordinator at once: the second «Назначить» is
refused as stale and names the coordinator the first one appointed, who appointed them and when, beside the choice
that was typed (the form sent the campaign's version, which an appointment does not move: the second silently
replaced the first one's coordinator)."""

import re

import lxml.html

from tests.access_cases.assessment import make_campaign


def _page(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def _coordinator_form(page, municipality_id: int):
    return next(f for f in page.xpath("//form[contains(@action, '/coordinator')]")
                if f.xpath(".//input[@name='municipality_id']/@value") == [str(municipality_id)])


def _fields(form) -> dict:
    fields = {i.get("name"): i.get("value") or "" for i in form.xpath(".//input[@name]")}
    fields.update({s.get("name"): (s.xpath("./option[@selected]/@value") or [""])[0]
                   for s in form.xpath(".//select[@name]")})
    return fields


def test_a_stale_coordinator_appointment_names_the_coordinator_appointed_meanwhile(world, db_session, client_for):
    from app.assessment.models import CampaignMunicipality

    campaign, manager, _expert = make_campaign(world, db_session)
    db_session.commit()
    mun, theirs_pick, mine_pick = world["mun"], world["head"], world["methodologist"]
    url = f"/assessment/campaigns/{campaign.id}"
    mine, theirs = client_for(manager), client_for(manager)  # two managers (or two tabs) of the same campaign

    opened = _fields(_coordinator_form(_page(mine.get(url)), mun.id))
    assert theirs.post(f"{url}/coordinator", data={**opened, "user_id": theirs_pick.id}).status_code == 303

    response = mine.post(f"{url}/coordinator", data={**opened, "user_id": mine_pick.id})
    assert response.status_code == 409
    db_session.expire_all()
    row = db_session.query(CampaignMunicipality).filter_by(campaign_id=campaign.id, municipality_id=mun.id).one()
    assert row.coordinator_id == theirs_pick.id  # not overwritten
    page = _page(response)
    flashed = " ".join(page.xpath("//div[contains(@class, 'alert-danger')]")[0].text_content().split())
    assert flashed == (f"Координатора муниципалитета «{mun.display_name}» назначил другой пользователь, пока форма "
                       "была открыта; ваш выбор не записан.")  # not «обновите страницу»: a reload lost the choice
    notice = " ".join(page.xpath("//div[@id='appoint-stored']")[0].text_content().split())
    assert "координатора назначил другой пользователь" in notice
    assert f"Координатор ({mun.display_name}): {theirs_pick.full_name}" in notice
    assert re.search(rf"назначил\(а\) {manager.full_name}, \d\d\.\d\d\.\d{{4}} \d\d:\d\d", notice)  # who, when
    again = _fields(_coordinator_form(page, mun.id))
    assert again["user_id"] == str(mine_pick.id)  # what was chosen stays chosen
    assert again["version"] == str(row.version)

    # Sent again, having seen the other choice: it replaces it, through the audited path.
    assert mine.post(f"{url}/coordinator", data=again).status_code == 303
    db_session.expire_all()
    assert db_session.get(CampaignMunicipality, row.id).coordinator_id == mine_pick.id


def test_the_version_check_takes_the_callers_words_for_what_changed():
    """The coordinator's appointment and the expert's assignment each wrapped the version check to swap its
    «обновите страницу» for their own words; the check takes them now: a stale form is refused with the caller's
    message, an incomplete one as incomplete, a current one passes."""
    import pytest

    from app.core.checks import FORM_INCOMPLETE, MISSING_VERSION, check_seen
    from app.core.errors import StaleObject, ValidationFailed

    with pytest.raises(StaleObject, match="^Координатора назначил другой пользователь$"):
        check_seen(2, 1, "Координатора назначил другой пользователь")
    with pytest.raises(StaleObject, match="обновите страницу"):
        check_seen(2, 1)
    with pytest.raises(ValidationFailed, match=re.escape(FORM_INCOMPLETE)):
        check_seen(2, MISSING_VERSION, "не этот текст")
    check_seen(2, 2, "не этот текст")
    check_seen(2, None, "не этот текст")

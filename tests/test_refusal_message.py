"""A refusal comes as one message: its reason, then what is wrong as a list under it (walk 10: a measure sent empty
stacked four red boxes above the form — «Мероприятие не сохранено.», then one box per missing field)."""

import lxml.html

from tests.fixtures_followup import approve


def test_a_measure_sent_empty_is_refused_in_one_box_listing_what_is_missing(rec_cycle, world, db_session,
                                                                             client_for):
    from app.demo import fill_stage

    fill_stage(rec_cycle.stage("REC"), official=world["official"], head=world["head"])
    approve(rec_cycle.stage("REC"), world)
    db_session.commit()
    official = client_for(world["official"])
    url = f"/followup/cycles/{rec_cycle.id}/measures/new"
    form = lxml.html.fromstring(official.get(url).get_data(as_text=True))
    (token,) = form.xpath("//input[@name='csrf_token']/@value")[:1]
    response = official.post(url, data={"csrf_token": token, "title": "", "kind": "", "participants": ""})
    assert 400 <= response.status_code < 500
    page = lxml.html.fromstring(response.get_data(as_text=True))
    alerts = page.xpath("//div[contains(@class, 'alert-danger')]")
    assert len(alerts) == 1, [a.text_content() for a in alerts]
    assert " ".join(alerts[0].text_content().split()).startswith("Мероприятие не сохранено.")
    assert len(alerts[0].xpath(".//li")) >= 2  # each missing field a line of the one message

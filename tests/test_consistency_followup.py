"""Follow-up pages that said one thing twice or nothing at all: the reasons a recommendation was not sent (once in
the refusal, once more in the note of what it waits for), and a recommendation sent with no letter on old data
(«Рекомендация направлена без письма», its stage approved since): the panel's «Исправить» opened the item's page,
which said «письмо не зарегистрировано» and not what to do, though the stage's documents still make the letter."""

from lxml import html

MISSING = "нет письма «Адресные рекомендации»"


def _text(page: str, xpath: str) -> str:
    return " ".join(" ".join(n.text_content().split()) for n in html.fromstring(page).xpath(xpath))


def test_the_reasons_a_sending_was_refused_are_shown_once(rec_cycle, world, make_recommendation, client_for):
    rec = make_recommendation(rec_cycle, [world["school_a"]])
    refused = client_for(world["head"]).post(f"/followup/recommendations/{rec.id}/issue", data={"version": rec.version})
    page = refused.get_data(as_text=True)
    assert refused.status_code != 200 and "Рекомендация не направлена." in page
    assert page.count(MISSING) == 1
    assert f"/followup/recommendations/{rec.id}/issue" not in page  # the button still waits for the letter
    # the official who prepares the letters and the head who sends read them once on the page itself
    for who in ("official", "head"):
        page = client_for(world[who]).get(f"/followup/recommendations/{rec.id}").get_data(as_text=True)
        assert page.count(MISSING) == 1 and MISSING in _text(page, "//*[@id='issue-problems']"), who


def test_a_recommendation_sent_without_its_letter_is_mended_on_the_approved_stage(
        rec_cycle, world, make_recommendation, db_session, client_for):
    from app.core.timeutil import utcnow
    from app.documents import services as documents
    from app.documents.demo import complete_document
    from app.effectiveness.integrity import check_cycle

    rec = make_recommendation(rec_cycle, [world["school_a"], world["school_b"]])
    complete_document(documents.generate_document(rec_cycle.stage("REC"), "addressed_recommendations",
                                                  actor=world["official"], addressee=world["school_a"],
                                                  validate=False, inline=True),
                      official=world["official"], head=world["head"])
    # old data: B's item went out with no letter at all, and the stage was approved since
    for item in rec.items:
        item.state, item.issued_at = "issued", utcnow()
    rec.issued_at, rec.issued_by_id = utcnow(), world["head"].id
    stage = rec_cycle.stage("REC")
    stage.state, stage.approved_at, stage.approved_by_id = "approved", utcnow(), world["head"].id
    db_session.commit()
    item_b = next(i for i in rec.items if i.organisation_id == world["school_b"].id)
    (defect,) = [d for d in check_cycle(rec_cycle) if d.code == "recommendation_without_letter"]
    assert (defect.endpoint, defect.args) == ("followup.item_detail", {"rec_item_id": item_b.id})
    url = f"/followup/items/{item_b.id}"

    # the page the panel's «Исправить» opens tells the official what to do and where
    page = client_for(world["official"]).get(url).get_data(as_text=True)
    said = _text(page, "//*[@id='letter-mend']")
    assert MISSING in said and "Сформируйте его в разделе «Документы этапа», подпишите и зарегистрируйте" in said
    link = html.fromstring(page).xpath("//*[@id='letter-mend']//a/@href")
    assert link == [f"/stages/{stage.id}#stage-documents"]
    # where the approved stage still offers the letter to that addressee
    documents_page = client_for(world["official"]).get(f"/stages/{stage.id}").get_data(as_text=True)
    offered = html.fromstring(documents_page).xpath(
        "//form[.//input[@name='type_key' and @value='addressed_recommendations']]//option/text()")
    assert "Школа Б" in offered
    # the school's director reads that no letter is registered, not the authority's instructions
    director = client_for(world["director_b"]).get(url).get_data(as_text=True)
    assert "письмо не зарегистрировано" in director and 'id="letter-mend"' not in director

    # done as the page says: the letter made on the approved stage, signed and registered
    doc = documents.generate_document(stage, "addressed_recommendations", actor=world["official"],
                                      addressee=world["school_b"], validate=False, inline=True)
    complete_document(doc, official=world["official"], head=world["head"])
    db_session.commit()
    assert [d for d in check_cycle(rec_cycle) if d.code == "recommendation_without_letter"] == []
    page = client_for(world["official"]).get(url).get_data(as_text=True)
    assert f"№ {doc.current.registration_number} от" in _text(page, "//*[@id='letter']")
    assert 'id="letter-mend"' not in page

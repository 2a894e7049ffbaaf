"""A refused «Сформировать» of a per-addressee document renders the stage page again (docs 16): the addressee chosen
stays chosen. The page came back with the first addressee preselected, and the user's retry made the document for
another organisation."""

import lxml.html
from sqlalchemy import select


def test_a_refused_generation_keeps_the_addressee_chosen(world, rec_cycle, make_recommendation, db_session,
                                                         fake_generation, login, client):
    from app.documents.models import Document

    make_recommendation(rec_cycle, [world["school_a"], world["school_b"]])
    db_session.commit()
    login(world["official"])
    rec = rec_cycle.stage("REC")
    sent = {"type_key": "addressed_recommendations", "addressee_id": world["school_b"].id}
    assert client.post(f"/documents/stages/{rec.id}/generate", data=sent).status_code == 302
    assert db_session.scalar(select(Document.addressee_id).where(Document.stage_id == rec.id)) == \
        world["school_b"].id
    # again without the page's one-time token over the existing document: refused, the page rendered anew
    response = client.post(f"/documents/stages/{rec.id}/generate", data=sent)
    assert response.status_code == 422
    page = lxml.html.fromstring(response.get_data(as_text=True))
    (select_box,) = page.xpath("//select[@name='addressee_id']")
    options = select_box.xpath("./option")
    assert len(options) >= 2 and options[0].get("value") != str(world["school_b"].id)
    assert [o.get("value") for o in options if o.get("selected") is not None] == [str(world["school_b"].id)]

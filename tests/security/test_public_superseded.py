# ruff: noqa: F811
"""The public section serves the edition its pages show, and no other by its id (attack 11).

A document registered under one number and then redone (a new edition, registered and published) served the old
registered edition at /public/documents/<its id> to anyone: the document is published and the old edition has a
registration number, which was all `published_version` asked — although that edition was never published, and no
public page links it (`published` lists each document's newest registered edition)."""

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
from tests.test_documents_registered import PASSWORD, register, signed_regulation


def test_an_earlier_registered_edition_is_not_served(world, goal_stage, db_session, client):
    from app.documents import services
    from app.jobs.queue import dispatch_ready

    doc = signed_regulation(world, goal_stage, db_session)
    first = register(doc, world, db_session)
    assert first.registration_number
    services.regenerate(doc, actor=world["official"])  # «Подготовить новую редакцию»: the registered one stays
    db_session.commit()
    dispatch_ready()
    db_session.refresh(doc)
    assert doc.current.id != first.id and doc.current.status == "done", doc.current.error
    services.transition(doc, "to_approval", actor=world["official"])
    services.decide_step(doc, "approved", actor=world["methodologist"])
    services.sign_document(doc, actor=world["head"], password=PASSWORD)
    db_session.commit()
    second = register(doc, world, db_session)
    services.transition(doc, "publish", actor=world["official"])
    db_session.commit()

    page = client.get(f"/public/orgs/{world['mun'].code}").get_data(as_text=True)
    assert f"/public/documents/{second.id}" in page and f"/public/documents/{first.id}\"" not in page
    served = client.get(f"/public/documents/{second.id}")
    assert served.status_code == 200
    served.close()
    assert client.get(f"/public/documents/{first.id}").status_code == 404

"""«Новая редакция» of a campaign's document (the order, the report, an expert conclusion) posted again — a replayed
request, a form without the page's one-time token — made one more edition each time; the stage documents refuse such a
POST since docs 16, the campaign's page did not."""

from sqlalchemy import func, select

from app.documents.models import DocumentVersion
from tests.conftest import PASSWORD
from tests.test_assessment_documents import approve_a, camp  # noqa: F401  (camp: the fixture)
from tests.test_docs16_protocol_invited import _over


def _editions(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(DocumentVersion))


def _client(app, user):
    client = app.test_client()
    client.post("/login", data={"login": user.login, "password": PASSWORD})
    return client


def _check_once_per_token(client, url, data, doc_of, db_session):
    assert client.post(url, data=data).status_code == 303  # the first: nothing of it can be a repeat
    doc = doc_of()
    _over(doc, db_session)
    editions = _editions(db_session)
    for token in (None, "not a token"):
        sent = data if token is None else {**data, "form_token": token}
        response = client.post(url, data=sent)
        assert response.status_code == 422
        assert "без одноразового ключа формы" in response.get_data(as_text=True)
        assert _editions(db_session) == editions
    with_token = {**data, "form_token": "b" * 32}
    assert client.post(url, data=with_token).status_code == 303
    _over(doc, db_session)
    assert _editions(db_session) == editions + 1
    client.post(url, data=with_token)  # the same rendered form again: a repeat, nothing made
    assert _editions(db_session) == editions + 1


def test_a_campaign_order_is_made_anew_once_per_rendered_form(camp, app, db_session):  # noqa: F811
    from app.assessment import documents

    campaign = camp["campaign"]
    manager = _client(app, camp["manager"])
    page = manager.get(f"/assessment/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'name="form_token"' in page  # the page's forms carry their token
    _check_once_per_token(manager, f"/assessment/campaigns/{campaign.id}/documents", {"type_key": "assessment_order"},
                          lambda: documents.campaign_document_of(campaign, "assessment_order"), db_session)


def test_an_expert_conclusion_is_made_anew_once_per_rendered_form(camp, world, app, db_session):  # noqa: F811
    from app.assessment import documents

    approve_a(camp, world, db_session)
    campaign, mun = camp["campaign"], camp["mun_a"]
    _check_once_per_token(_client(app, camp["manager"]),
                          f"/assessment/campaigns/{campaign.id}/municipalities/{mun.id}/conclusion/generate", {},
                          lambda: documents.conclusion_of(campaign, mun.id), db_session)

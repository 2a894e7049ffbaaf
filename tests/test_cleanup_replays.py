"""Forms that made a row anew each time they were sent again (a double click, a resent request): «Сформировать заново» /
«Подготовить новую редакцию» on a document's page (one more edition each time: the version check lets it through,
a new edition leaves the document's row as it was), the coordinator's «Добавить доказательство» (one more evidence
item, and there is no removing one) and the manager's «Создать кампанию» (one more draft campaign). Each form now
carries the page's one-time token and is processed once per rendered form; a new edition over an existing document
posted without the token is refused, as «Сформировать» on the stage's page is (app.auth.submissions)."""

import io
from datetime import date, timedelta

import lxml.html
from sqlalchemy import func, select

from app.documents.models import DocumentVersion
from tests.access_cases.assessment import make_campaign
from tests.test_docs16_protocol_invited import DIRECTOR, _over, _protocol, dec_cycle  # noqa: F401  (the fixture)


def _count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def _token(client, url: str, form_xpath: str) -> str:
    """The one-time token of a form as the page renders it."""
    page = lxml.html.fromstring(client.get(url).get_data(as_text=True))
    tokens = page.xpath(f"{form_xpath}//input[@name='form_token']/@value")
    assert len(tokens) == 1, f"no token in {form_xpath} of {url}"
    return tokens[0]


def test_a_new_edition_from_the_document_page_is_made_once_per_rendered_form(dec_cycle, client, login, world,  # noqa: F811
                                                                             db_session):
    stage = dec_cycle.stage("DEC")
    login(world["official"])
    sent = {"type_key": "protocol", "invited": DIRECTOR, "form_token": "g" * 32}
    assert client.post(f"/documents/stages/{stage.id}/generate", data=sent).status_code == 302
    doc = _protocol(stage)
    _over(doc, db_session)
    url = f"/documents/{doc.id}/regenerate"
    token = _token(client, f"/documents/{doc.id}", f"//form[@action='{url}']")
    editions = _count(db_session, DocumentVersion)

    for untokened in ({"version": doc.version}, {"version": doc.version, "form_token": "not a token"}):
        response = client.post(url, data=untokened)
        text = response.get_data(as_text=True)
        assert response.status_code == 422 and "без одноразового ключа формы" in text
        assert _count(db_session, DocumentVersion) == editions

    data = {"version": doc.version, "form_token": token}
    assert client.post(url, data=data).status_code == 302
    _over(doc, db_session)
    assert _count(db_session, DocumentVersion) == editions + 1
    assert client.post(url, data=data).status_code == 302  # the same form again: the first one's redirect
    assert _count(db_session, DocumentVersion) == editions + 1
    db_session.refresh(doc)
    assert doc.current.number == 2


def test_evidence_sent_twice_from_one_form_is_added_once(world, db_session, client_for):
    from app.assessment import services
    from app.assessment.models import EvidenceItem

    campaign, _manager, _expert = make_campaign(world, db_session)
    sa = services.self_assessment_for(campaign, world["mun"].id, "M1.1")
    criterion_id = services.scores_of(campaign, world["mun"].id, "M1.1")[0].criterion_id
    db_session.commit()
    coordinator = client_for(world["official"])
    token = _token(coordinator, f"/assessment/self/{sa.id}", "//form[@id='evidence-form']")

    for _ in range(2):
        response = coordinator.post(f"/assessment/self/{sa.id}/evidence", content_type="multipart/form-data", data={
            "criterion_id": criterion_id, "comment": "Протокол заседания", "form_token": token,
            "file": (io.BytesIO(b"%PDF-1.4 evidence"), "protokol.pdf")})
        assert response.status_code in (302, 303)
    assert _count(db_session, EvidenceItem) == 1


def test_a_campaign_sent_twice_from_one_form_is_created_once(world, db_session, client_for):
    from app.assessment.criteria import published_sets
    from app.assessment.models import Campaign

    _campaign, manager, _expert = make_campaign(world, db_session)
    db_session.commit()
    mine = client_for(manager)
    token = _token(mine, "/assessment/campaigns/new", "//form[@id='campaign-form']")
    campaigns = _count(db_session, Campaign)
    today = date.today().isoformat()
    data = {"title": "Мониторинг механизмов 2027", "period": "2026/27", "window_start": today,
            "window_end": (date.today() + timedelta(days=30)).isoformat(),
            "criteria_set_id": published_sets()[0].id, "mechanisms": "M1.1", "municipality_ids": world["mun"].id,
            "form_token": token}
    first = mine.post("/assessment/campaigns", data=data)
    assert first.status_code in (302, 303)
    again = mine.post("/assessment/campaigns", data=data)
    assert again.status_code in (302, 303) and again.location == first.location
    assert _count(db_session, Campaign) == campaigns + 1

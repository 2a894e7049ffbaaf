"""The public section in a real browser, without log-in (issue 14 §4): a document the municipality published is
on its public page and opens; a registered but unpublished one is not there; no school page shows the results of
a group under the threshold."""

import re

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser

MUNICIPALITY = "ГО Северный"


def expect(target):
    from playwright.sync_api import expect as _expect

    return _expect(target)


def _publish_one(app):
    """On the server's side: publish one registered document of the demo municipality (not the regulation the
    other browser tests look at); return (published title, a registered-only title, municipality code)."""
    from app.auth.models import User
    from app.cycles.models import Cycle
    from app.documents import services
    from app.documents.models import Document
    from app.extensions import db
    from app.orgs.models import Organisation

    with app.app_context():
        mun = db.session.scalar(select(Organisation).where(Organisation.short_name == MUNICIPALITY)) or \
            db.session.scalar(select(Organisation).where(Organisation.name == MUNICIPALITY))
        registered = db.session.scalars(
            select(Document).join(Cycle, Cycle.id == Document.cycle_id)
            .where(Cycle.owner_id == mun.id, Document.state == "registered", Document.type_key != "regulation")
            .order_by(Document.id)).all()
        assert len(registered) >= 2, [d.title for d in registered]
        chosen, other = registered[0], next(d for d in registered[1:] if d.title != registered[0].title)
        official = db.session.scalar(select(User).where(User.login == "official"))
        services.transition(chosen, "publish", actor=official)
        db.session.commit()
        return chosen.title, other.title, mun.code


def test_a_published_document_is_public_without_log_in_and_small_groups_are_never_shown(page, live_server,
                                                                                          live_app):
    published, unpublished, code = _publish_one(live_app)
    page.goto(f"/public/orgs/{code}")
    expect(page.locator("h1")).to_contain_text("Северный")
    expect(page.get_by_role("link", name="Вход для сотрудников")).to_be_visible()
    link = page.get_by_role("link", name=published, exact=True).first
    expect(link).to_be_visible()
    assert page.get_by_role("link", name=unpublished, exact=True).count() == 0
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200 and response.body()[:2] in (b"PK", b"%P")

    schools = [a.get_attribute("href") for a in page.locator("ul.columns-list a").all()]
    assert schools, "the municipality's page lists its schools"
    for href in schools[:8]:
        page.goto(href)
        for row in page.locator("table tbody tr").all():
            cells = row.locator("td")
            text = row.inner_text()
            if "Участников" not in page.content() or cells.count() < 3:
                continue
            if "не публикуются" in text:
                continue
            participants = cells.nth(2).inner_text().strip()
            if re.fullmatch(r"\d+", participants):
                assert int(participants) >= 10, (href, text)

"""Walk 16 in the browser: «Ознакомлен» pressed with the password field empty was sent, answered «Неверный пароль»
and counted as a guess; the browser now asks for the password before anything is sent."""

import pytest

from tests.e2e.conftest import office_page
from tests.e2e.test_screens_browser import log_in, open_styled

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, live_server):
    yield from office_page(browser, live_server)


def _issued_to_kindergarten(live_app) -> int:
    """A recommendation item Детский сад № 7 has still to sign off; its id."""
    from sqlalchemy import select

    from app.auth.models import User
    from app.extensions import db
    from app.followup.models import RecommendationItem

    with live_app.app_context():
        head = db.session.scalar(select(User).where(User.login == "kindergarten"))
        orgs = {r.organisation_id for r in head.roles}
        return next(i.id for i in db.session.scalars(select(RecommendationItem).where(
            RecommendationItem.state == "issued").order_by(RecommendationItem.id)) if i.organisation_id in orgs)


def test_an_empty_password_at_ознакомлен_is_asked_for_and_nothing_is_sent(page, live_app):
    item = _issued_to_kindergarten(live_app)
    log_in(page, "kindergarten")
    open_styled(page, f"/followup/items/{item}")
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    field = page.get_by_label("Пароль (для подтверждения ознакомления)", exact=True)
    field.focus()
    page.keyboard.press("Enter")
    assert field.evaluate("f => f.validity.valueMissing")
    assert not sent
    assert page.locator(".alert-danger").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")  # nothing wider than 1366 px

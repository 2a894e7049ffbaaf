"""The second municipality's official at the office monitor (walk 22): what only a browser measures."""

import pytest

from tests.e2e.conftest import office_page
from tests.e2e.test_screens_browser import _axe, log_in, serious_violations

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, live_server):
    yield from office_page(browser, live_server)


def _official2_submissions(live_app) -> list[int]:
    from sqlalchemy import select

    from app.auth.models import User
    from app.monitoring.models import Submission

    with live_app.app_context():
        from app.extensions import db

        official = db.session.scalar(select(User).where(User.login == "official2"))
        org_ids = {r.organisation_id for r in official.roles}
        ids = list(db.session.scalars(select(Submission.id).where(Submission.organisation_id.in_(org_ids))
                                      .order_by(Submission.id)))
        db.session.remove()
        return ids


def test_the_pass_down_button_reads_on_the_requests_light_note(page, live_app):
    """«Передать в подведомственные организации» (outline «primary» on the request's bg-light note) had a contrast of
    4.38:1 — axe's color-contrast, serious."""
    log_in(page, "official2")
    for submission_id in _official2_submissions(live_app):
        page.goto(f"/monitoring/submissions/{submission_id}")
        page.wait_for_load_state("load")
        if page.locator("#pass-down").count():
            break
    else:
        pytest.fail("no submission of official2 offers «Передать в подведомственные организации»")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert [v for v in serious_violations(_axe(), page) if "color-contrast" in v] == []

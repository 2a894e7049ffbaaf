"""Walk 11 in the browser: a long 08-70 comment folds on the screen (its beginning and «… ещё N знаков») and is
printed whole — a closed <details> prints closed, so the printed sheet would lose the rest of the comment."""

import pytest

from tests.e2e.conftest import office_page
from tests.e2e.test_screens_browser import log_in, open_styled

pytestmark = pytest.mark.browser

TAIL = "последнее предложение обоснования, видимое только целиком"


@pytest.fixture
def page(browser, live_server):
    yield from office_page(browser, live_server)


def _long_comment(live_app) -> int:
    """The demo's first submitted self-assessment, its first criterion commented at length; its id."""
    from sqlalchemy import select

    from app.assessment.models import Score, SelfAssessment
    from app.extensions import db

    with live_app.app_context():
        sa = db.session.scalars(select(SelfAssessment).where(SelfAssessment.state == "submitted")
                                .order_by(SelfAssessment.id)).first()
        score = db.session.scalars(select(Score).where(
            Score.campaign_id == sa.campaign_id, Score.municipality_id == sa.municipality_id,
            Score.mechanism_code == sa.mechanism_code).order_by(Score.id)).first()
        score.self_comment = "Обоснование по критерию со ссылками на документы. " * 38 + TAIL
        db.session.commit()
        return sa.id


def test_a_folded_comment_is_printed_whole(page, live_app):
    sa_id = _long_comment(live_app)
    log_in(page, "region_official")
    open_styled(page, f"/assessment/self/{sa_id}")
    fold = page.locator("#sheet details.long-value").first
    summary = fold.locator("summary")
    assert summary.inner_text().startswith("… ещё")
    folded = fold.bounding_box()["height"]
    assert folded < 2 * summary.bounding_box()["height"]  # on the screen: the summary's line alone
    page.emulate_media(media="print")
    assert fold.bounding_box()["height"] > 5 * folded  # printed: the whole rest of the comment
    assert not summary.is_visible()

"""Screens, seventh walk, in the browser at 1366×768: the cycle's nine blocks on one row, the 08-70 expert sheet's
«Сохранить» within reach on a sheet four screens long, the campaign's document buttons on one line."""

import pytest

from tests.e2e.conftest import OFFICE_SCREEN, office_page
from tests.e2e.test_screens_browser import log_in, open_styled

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, live_server):
    yield from office_page(browser, live_server)


def _ids(live_app):
    """A full municipal cycle and an evaluation the expert `expert` may still edit, with its campaign."""
    from sqlalchemy import select

    from app.assessment.models import Assignment
    from app.auth.models import User
    from app.cycles.models import Cycle
    from app.extensions import db

    with live_app.app_context():
        # the official's (the demo's first cycle is the region's R1.1, not hers to open)
        cycle = next(c for c in db.session.scalars(select(Cycle).order_by(Cycle.id))
                     if len(c.stages) == 9 and c.owner.code == "MUN01")
        expert = db.session.scalars(select(User).where(User.login == "expert")).one()
        assignment = db.session.scalars(select(Assignment).where(Assignment.expert_user_id == expert.id,
                                                                 Assignment.state.in_(("draft", "returned")))
                                        .order_by(Assignment.id)).first()
        return cycle.id, assignment.id, assignment.campaign_id


def test_the_nine_blocks_of_a_cycle_sit_on_one_row(page, live_app):
    """At 1366 px the ninth card («Анализ эффективности принятых мер») wrapped alone onto a second row; narrower
    cards then cut «Управленческие» and «эффективности» in two."""
    cycle_id, _, _ = _ids(live_app)
    log_in(page, "official")
    open_styled(page, f"/cycles/{cycle_id}")
    tops = page.eval_on_selector_all(".stage-line .stage",
                                     "els => els.map(e => Math.round(e.getBoundingClientRect().top))")
    assert len(tops) == 9 and len(set(tops)) == 1, tops
    # and no block's title has a word cut in two (the page breaks long words anywhere when they do not fit):
    # the widest word of each title, measured in the title's own font, fits its card
    cut = page.evaluate("""() => { const c = document.createElement('canvas').getContext('2d'); const cut = [];
      for (const t of document.querySelectorAll('.stage-line .stage > div:nth-child(2)')) {
        const cs = getComputedStyle(t);
        c.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
        for (const w of t.innerText.split(/\\s+/)) if (c.measureText(w).width > t.clientWidth) cut.push(w); }
      return cut; }""")
    assert cut == [], cut


def test_the_expert_saves_the_sheet_without_scrolling_to_its_end(page, live_app):
    """The sheet runs four screens; «Сохранить оценку» was only after its last criterion. It now stays at the
    bottom of the window while the sheet is on screen, and saving from there keeps what was typed."""
    _, assignment_id, _ = _ids(live_app)
    log_in(page, "expert")
    open_styled(page, f"/assessment/evaluations/{assignment_id}")
    first = page.locator("#sheet tbody input[type=number]").first
    first.scroll_into_view_if_needed()
    first.fill("1")
    save = page.get_by_role("button", name="Сохранить оценку")
    box = save.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= OFFICE_SCREEN["height"], box
    assert page.evaluate("document.documentElement.scrollHeight") > 2 * OFFICE_SCREEN["height"]
    save.click()
    page.wait_for_load_state("load")
    assert page.locator("#sheet tbody input[type=number]").first.input_value() == "1"


def test_the_campaigns_document_buttons_keep_to_one_line(page, live_app):
    """«Новая редакция» broke into two lines in the narrow last column of «Документы кампании»."""
    _, _, campaign_id = _ids(live_app)
    log_in(page, "region_official")
    open_styled(page, f"/assessment/campaigns/{campaign_id}")
    buttons = page.locator("#campaign-documents-table button")
    assert buttons.count() >= 2
    for n in range(buttons.count()):
        lines = buttons.nth(n).evaluate(
            "b => b.getBoundingClientRect().height / parseFloat(getComputedStyle(b).lineHeight)")
        assert lines < 2, buttons.nth(n).inner_text()

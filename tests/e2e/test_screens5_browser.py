"""Screens, fifth review, in the browser at 1366×768: a reviewer sees at the top of a long stage that a decision waits
and gets to it with the keyboard; a confirmation dialog closed with Esc or «Отмена» gives the focus back."""

import pytest

from tests.e2e.conftest import OFFICE_SCREEN, office_page
from tests.e2e.test_screens_browser import log_in, open_styled

pytestmark = pytest.mark.browser

VIEWPORT = OFFICE_SCREEN


@pytest.fixture
def page(browser, live_server):
    yield from office_page(browser, live_server)


def _indicators_on_review(live_app) -> int:
    """The M2.3 indicators stage of ГО Северный, on review in the demo: a table of indicators two screens long."""
    from sqlalchemy import select

    from app.cycles.models import Stage
    from app.extensions import db

    with live_app.app_context():
        stages = db.session.scalars(select(Stage).where(Stage.state == "on_review").order_by(Stage.id)).all()
        return max((s for s in stages if s.code == "IND"), key=lambda s: len(s.cycle.indicators)).id


def _in_view(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"]


def test_a_reviewer_sees_the_decision_waits_and_reaches_it_by_keyboard(page, live_app):
    """«Утвердить» stood two screens below the status, after every indicator: nothing above the fold said that
    the stage waited for this reader's decision."""
    stage_id = _indicators_on_review(live_app)
    log_in(page, "methodologist")
    open_styled(page, f"/stages/{stage_id}")
    approve = page.locator("button[data-trigger='approve']")
    assert not _in_view(page, approve), "the stage's content pushes the decision below the fold"
    jump = page.locator("#approval-jump a")
    assert _in_view(page, jump)
    assert jump.inner_text().startswith("Ваше действие: Утвердить, Вернуть на доработку")
    jump.focus()
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert _in_view(page, approve)
    # the heading of the section takes the focus: the next Tab goes on from there, not from the top of the page
    assert page.evaluate("document.activeElement.id") == "approval"


@pytest.mark.parametrize("close", ["Escape", "Отмена"])
def test_a_closed_confirmation_gives_the_focus_back_to_its_button(page, live_app, close):
    """After Esc or «Отмена» the focus fell to <body>: the next Tab started from the navigation again."""
    from playwright.sync_api import expect

    stage_id = _indicators_on_review(live_app)
    log_in(page, "methodologist")
    open_styled(page, f"/stages/{stage_id}")
    approve = page.locator("button[data-trigger='approve']")
    approve.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#confirm-modal-ok")).to_be_focused()
    if close == "Escape":
        page.keyboard.press("Escape")
    else:
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Отмена"
        page.keyboard.press("Enter")
    page.wait_for_selector("#confirm-modal", state="hidden")
    expect(approve).to_be_focused()


def test_a_long_unbroken_name_keeps_the_page_at_the_screens_width(page, live_app):
    """A school named without spaces widened its table, which scrolls inside its wrapper, yet the page scrolled
    sideways too: the hidden words of the stage dots (absolutely positioned) escaped the static wrapper."""
    from sqlalchemy import select

    from app.extensions import db
    from app.orgs.models import Organisation

    long_name = "СОШ№1имениГероевСоветскогоСоюзаИвановаПетроваСидорова" * 2
    with live_app.app_context():
        school = db.session.scalars(select(Organisation).where(Organisation.code == "MUN01-S01")).one()
        school_id, before = school.id, school.short_name
        school.short_name = long_name
        db.session.commit()
    try:
        log_in(page, "official")
        for path in ("/", "/cycles", "/tasks/"):
            open_styled(page, path)
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], (path, widths)
    finally:
        with live_app.app_context():
            db.session.get(Organisation, school_id).short_name = before
            db.session.commit()


def test_a_measure_named_without_spaces_leaves_room_for_its_dates_and_state(page, live_app):
    """A 200-letter title made its column 1 300 px wide: the dates, the responsible person and the state were
    squeezed into slivers a word a line, and the roadmap scrolled sideways."""
    from sqlalchemy import select

    from app.extensions import db
    from app.followup.models import Measure

    long_title = "Мониторингзанятостиобучающихсявовнеурочнойдеятельности" * 4
    with live_app.app_context():
        measure = db.session.scalars(select(Measure).order_by(Measure.id)).first()
        measure_id, cycle_id, before = measure.id, measure.cycle_id, measure.title
        measure.title = long_title
        db.session.commit()
    try:
        log_in(page, "official")
        open_styled(page, f"/followup/cycles/{cycle_id}/measures")
        table = page.locator("main table").first
        fits = table.evaluate("t => [t.scrollWidth, t.closest('.table-responsive').clientWidth]")
        assert fits[0] <= fits[1], fits
        row = page.locator(f"main table tr:has(a[href='/followup/measures/{measure_id}'])")
        dates = row.locator("td").nth(2)
        assert dates.evaluate("c => c.getBoundingClientRect().width") > 150
        # only the long word may break anywhere: the words around it stay whole
        assert page.locator("main td .break-long").all_inner_texts() == [long_title]
    finally:
        with live_app.app_context():
            db.session.get(Measure, measure_id).title = before
            db.session.commit()

"""A municipal official's working day at the office monitor (1366×768), where the layout is the point."""

import pytest

from tests.e2e.conftest import office_page
from tests.e2e.test_screens_browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, live_server):
    yield from office_page(browser, live_server)


def _overlap(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_the_open_calendar_leaves_open_cycle_button_free(page):
    """The calendar of «Срок первого этапа» opened below the field, over «Открыть цикл» (the field is the form's
    last): a click there chose a day in January instead of opening the cycle."""
    from playwright.sync_api import expect

    log_in(page, "official")
    page.goto("/cycles/new")
    page.wait_for_load_state("load")
    field = page.get_by_label("Срок первого этапа")
    field.scroll_into_view_if_needed()
    field.click()
    calendar = page.locator(".air-datepicker.-active-")
    expect(calendar).to_be_visible()
    button = page.get_by_role("button", name="Открыть цикл")
    box, shown = button.bounding_box(), calendar.bounding_box()
    assert not _overlap(box, shown), (box, shown)
    assert not _overlap(field.bounding_box(), shown)  # nor over what is being typed
    # Wholly in the window: nothing of it needs a scroll to be reached.
    assert shown["y"] >= 0 and shown["y"] + shown["height"] <= 768 and shown["x"] + shown["width"] <= 1366
    # The button takes the click while the calendar is open (the form answers: no track chosen yet).
    button.click()
    page.wait_for_load_state("load")
    expect(page.locator(".invalid-feedback").first).to_be_visible()


def test_the_stand_in_calendars_leave_the_form_button_free(page):
    """Both dates of an absence, side by side above «Назначить заместителя»: neither calendar lies over the button."""
    from playwright.sync_api import expect

    log_in(page, "director")
    page.goto("/deadlines/standins")
    page.wait_for_load_state("load")
    button = page.get_by_role("button", name="Назначить заместителя")
    for name in ("start", "end"):
        page.locator(f"#{name}").click()
        calendar = page.locator(".air-datepicker.-active-")
        expect(calendar).to_be_visible()
        assert not _overlap(button.bounding_box(), calendar.bounding_box()), name
        page.keyboard.press("Escape")
        expect(calendar).to_be_hidden()

"""Date fields read and write ДД.ММ.ГГГГ with a Russian calendar whatever the browser's own language: an English
browser drew the native date field as «mm/dd/yyyy» with an English calendar on a Russian page (app/static/js/dates.js,
air-datepicker served locally)."""

import re
from datetime import date, timedelta

import pytest

from tests.e2e.conftest import CHROMIUM_ARGS
from tests.e2e.test_screens_browser import _axe, log_in, serious_violations

pytestmark = pytest.mark.browser

MONTHS = ["Январь", "Февраль", "Март", "Апрель", "Май", "Июнь", "Июль", "Август", "Сентябрь", "Октябрь", "Ноябрь",
          "Декабрь"]


@pytest.fixture(scope="module")
def english_browser(browser, chromium_executable):
    """Chromium whose interface is English, as a browser installed without the Russian resources is (launched by
    the session's Playwright: a second one cannot run beside it)."""
    args = [a for a in CHROMIUM_ARGS if not a.startswith("--lang=")] + ["--lang=en-US"]
    english = browser.browser_type.launch(executable_path=chromium_executable, headless=True, args=args)
    yield english
    english.close()


@pytest.fixture
def english_page(english_browser, live_server):
    context = english_browser.new_context(base_url=live_server, locale="en-US", viewport={"width": 1366, "height": 768})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def test_an_english_browser_shows_russian_date_fields_and_calendar(english_page):
    from playwright.sync_api import expect

    page = english_page
    log_in(page, "admin")
    page.goto("/audit/?date_from=2026-11-03")
    page.wait_for_load_state("load")
    since = page.locator("#f-date-from")
    # The value the server gave in ISO reads as a Russian date; an empty field says what to type.
    expect(since).to_have_value("03.11.2026")
    assert since.get_attribute("type") == "text"
    expect(page.locator("#f-date-to")).to_have_attribute("placeholder", "ДД.ММ.ГГГГ")

    page.locator("#f-date-to").click()
    calendar = page.locator(".air-datepicker.-active-")
    expect(calendar).to_be_visible()
    today = date.today()
    expect(calendar.locator(".air-datepicker-nav--title")).to_contain_text(MONTHS[today.month - 1])
    expect(calendar.locator(".air-datepicker-body--day-name").first).to_have_text("Пн")  # the week starts on Monday
    expect(calendar.get_by_text("Сегодня")).to_be_visible()
    # Open, it is read as the rest of the page is (the library's own colours were far below 4.5:1); axe looks once
    # the calendar has faded in (half-transparent, any colour fails).
    expect(calendar).to_have_css("opacity", "1")
    assert serious_violations(_axe(), page) == []
    calendar.locator(f".air-datepicker-cell.-day-[data-date='{today.day}'][data-month='{today.month - 1}']").click()
    expect(page.locator("#f-date-to")).to_have_value(today.strftime("%d.%m.%Y"))
    expect(calendar).to_be_hidden()  # it closes on a choice, and the focus stays in the field
    expect(page.locator("#f-date-to")).to_be_focused()

    page.get_by_role("button", name="Показать").click()
    page.wait_for_load_state("load")
    # The server read both dates: the filter holds and the fields show them again.
    assert "date_to=" + today.strftime("%d.%m.%Y") in page.url
    expect(page.locator("#f-date-from")).to_have_value("03.11.2026")
    expect(page.locator("#f-date-to")).to_have_value(today.strftime("%d.%m.%Y"))
    expect(page.locator("main")).not_to_contain_text("Введите")  # no refusal of either date


def test_a_typed_date_moves_the_calendar_and_is_saved(english_page, live_app):
    """A form of the application (the stand-in form: start and end of an absence), typed by hand."""
    from playwright.sync_api import expect

    from app.auth.models import User
    from app.deadlines.models import StandIn
    from app.extensions import db

    page = english_page
    log_in(page, "methodologist")
    page.goto("/deadlines/standins")
    page.wait_for_load_state("load")
    start, end = date.today() + timedelta(days=40), date.today() + timedelta(days=47)
    field = page.get_by_label(re.compile("^С "))
    field.fill(start.strftime("%d.%m.%Y"))
    # A date typed in full closes the calendar (it would cover the form's button) and keeps the focus in the field.
    calendar = page.locator(".air-datepicker.-active-")
    expect(calendar).to_be_hidden()
    expect(field).to_be_focused()
    field.click()  # the calendar opens again on the typed date
    expect(calendar.locator(".air-datepicker-nav--title")).to_contain_text(MONTHS[start.month - 1])
    expect(calendar.locator(".air-datepicker-cell.-selected-")).to_have_text(str(start.day))
    page.keyboard.press("Escape")  # closes the calendar; the keyboard user stays in the field
    expect(calendar).to_be_hidden()
    expect(field).to_be_focused()
    expect(field).to_have_value(start.strftime("%d.%m.%Y"))
    page.get_by_label(re.compile("^По ")).fill(end.strftime("%d.%m.%Y"))
    deputy = page.locator("select[name=deputy_id]")
    deputy.select_option(index=1)
    page.get_by_role("button", name=re.compile("Назначить")).click()
    expect(page.get_by_role("alert").first).to_contain_text(
        f"с {start.strftime('%d.%m.%Y')} по {end.strftime('%d.%m.%Y')}")
    with live_app.app_context():
        absent_id = db.session.execute(db.select(User.id).filter_by(login="methodologist")).scalar_one()
        stand_in = db.session.execute(db.select(StandIn).filter_by(absent_id=absent_id, start_date=start)).scalar_one()
        assert stand_in.end_date == end

"""Walk 15 in the browser: the ministry's official drills the situational centre down in 2025 and comes back up.

Region → municipality → school → work were each one click in the chosen year, but the crumbs back up opened the
region at its newest year; at 1366 px nothing of the region's tables may run past the window's edge."""

import pytest

from tests.e2e.conftest import office_page
from tests.e2e.test_screens_browser import log_in, open_styled

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, live_server):
    yield from office_page(browser, live_server)


def test_the_drill_down_and_the_crumbs_back_keep_the_year(page):
    from playwright.sync_api import expect

    log_in(page, "region_official")
    open_styled(page, "/situation/")
    page.select_option("#year", "2025")
    page.get_by_role("button", name="Показать").click()
    expect(page.locator("#results-title")).to_contain_text("2025 г.")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.locator("section[aria-labelledby=results-title] table a", has_text="ГО Северный").click()
    expect(page.locator("#results-title")).to_contain_text("2025 г.")
    page.locator("section[aria-labelledby=results-title] table tbody a").first.click()
    expect(page.locator("h2", has_text="Результаты по работам")).to_contain_text("2025 г.")
    page.locator("table tbody a").first.click()
    expect(page.locator("h1")).to_contain_text("класс")
    page.get_by_role("navigation", name="Уровни").get_by_role("link", name="Демонстрационная область").click()
    expect(page.locator("#results-title")).to_contain_text("ВПР, 2025 г.")
    expect(page.locator("#year")).to_have_value("2025")

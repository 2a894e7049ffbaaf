"""Screens, fourth review, in the browser at 1366 px: the public section, which no log-in reaches and the role walks
of the other screen tests therefore never opened, passes axe-core's WCAG 2.1 AA checks too."""

import pytest

from tests.e2e.conftest import OFFICE_SCREEN, office_page
from tests.e2e.test_screens_browser import _axe, serious_violations

pytestmark = pytest.mark.browser

VIEWPORT = OFFICE_SCREEN


@pytest.fixture
def page(browser, live_server):
    yield from office_page(browser, live_server)


def test_the_public_pages_pass_axe(page):
    """The header's links were Bootstrap's blue on its grey: 4.26:1, under the 4.5:1 that AA asks of small text."""
    axe = _axe()
    paths = ["/public/", "/public/orgs/DEMO", "/public/orgs/MUN01", "/public/orgs/MUN01-S03"]
    page.goto("/public/orgs/MUN01")
    paths.append(page.locator("main a[href^='/public/cycles/']").first.get_attribute("href"))
    problems = []
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("load")
        problems += [f"{path}: {v}" for v in serious_violations(axe, page)]
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width[0] > width[1]:
            problems.append(f"{path}: the page is {width[0]} px wide")
    assert problems == [], "\n".join(problems)

"""Walk 16 in the browser: the public pages at 1366 px, without log-in.

A municipality's page listed its fifteen organisations one under another, a screen high before the first word about
its mechanisms: the list's class («columns-list») was defined nowhere."""

import pytest

from tests.e2e.conftest import office_page

# The public header's row is Bootstrap's flex box: the stylesheet arrived (the public pages have no navigation bar,
# which is what the staff pages' check looks at).
STYLED = "getComputedStyle(document.querySelector('header .d-flex')).display === 'flex'"

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, live_server):
    yield from office_page(browser, live_server)


def test_a_municipalitys_organisations_stand_in_columns(page):
    page.goto("/public/orgs/MUN01")
    page.wait_for_load_state("load")
    assert page.evaluate(STYLED)
    links = page.locator("ul.columns-list a")
    assert links.count() >= 12  # the demo's ГО Северный: schools, kindergartens, the ДДТ
    boxes = [links.nth(n).bounding_box() for n in range(links.count())]
    columns = {round(box["x"]) for box in boxes}
    assert len(columns) >= 3, columns
    listed = max(box["y"] + box["height"] for box in boxes) - min(box["y"] for box in boxes)
    assert listed < 768 / 3  # a few lines, not a screen of them
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")

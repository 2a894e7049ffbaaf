"""The audit log at the office monitor: its nine columns fit 1366 px without a sideways scroll of the table (walk 22:
the region's administrator read «Изменения» cut off, the table 1,375–1,399 px wide in a 1,318 px page)."""

import pytest

from tests.e2e.conftest import office_page
from tests.e2e.test_screens_browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, live_server):
    yield from office_page(browser, live_server)


@pytest.mark.parametrize("login", ["admin", "auditor"])
def test_the_audit_table_fits_the_page(page, login):
    log_in(page, login)
    for query in ("", "?object=document", "?object=recommendation"):
        page.goto(f"/audit/{query}")
        page.wait_for_load_state("load")
        table, room = page.evaluate("(t => [t.scrollWidth, t.parentElement.clientWidth])"
                                    "(document.getElementById('audit-events'))")
        assert table <= room, (login, query, table, room)

"""The vertical in a real browser (README, «The vertical»): a regional cycle's invariant indicators rolled up over
the demo's municipalities (one answering from its schools, one not yet), the drill-down to a municipality's
schools, and the goals cascade from the regional goal to the municipal one — each page fitting 1366 px."""

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(os.environ["E2E_SCREENSHOTS"]) if os.environ.get("E2E_SCREENSHOTS") else None


def expect(target):
    from playwright.sync_api import expect as _expect

    return _expect(target)


def _regional_cycle(app):
    """On the server's side, what `flask seed demo` built (app/demo.py): the region's R1.1 with its invariants, MUN01
    answering from its schools (some silent), MUN02 not yet; MUN01's M1.1 goal linked to the regional goal."""
    from app.catalogue.models import Mechanism, Track
    from app.cycles.models import Cycle, Goal
    from app.extensions import db
    from app.orgs.models import Organisation
    from app.vertical.services import rollup

    with app.app_context():
        cycle = db.session.scalar(select(Cycle).join(Cycle.track).join(Track.mechanism).join(Cycle.owner)
                                  .where(Mechanism.code == "R1.1", Organisation.kind == "region"))
        goal = db.session.scalar(select(Goal).where(Goal.cycle_id == cycle.id).order_by(Goal.id).limit(1))
        mun1, mun2 = (db.session.scalar(select(Organisation).where(Organisation.code == code))
                      for code in ("MUN01", "MUN02"))
        schools = rollup(cycle, mun1).indicators[0].rows
        answered = next(r.organisation.code for r in schools if r.value is not None)
        silent = next(r.organisation.display_name for r in schools if r.value is None)
        return cycle.id, mun1.display_name, mun2.display_name, answered, silent, goal.statement


def _fits(page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url}: page is {width[0]} px wide for a {width[1]} px window"


def _shot(page, name, tmp_path) -> None:
    target = (SCREENSHOTS or tmp_path) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)


def test_the_region_sees_the_rollup_its_schools_and_the_goals_cascade(browser, live_server, live_app, tmp_path):
    from tests.e2e.test_loop_browser import log_in

    cycle_id, mun1, mun2, school, silent_school, regional_statement = _regional_cycle(live_app)
    context = browser.new_context(base_url=live_server, locale="ru-RU", viewport={"width": 1366, "height": 768})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    try:
        log_in(page, "region_official", DEMO_PASSWORD)
        page.goto(f"/cycles/{cycle_id}")
        page.locator("#cycle-vertical").get_by_role("link", name="свод обязательных показателей").click()
        section = page.locator("section.rollup-indicator[data-indicator='M1.1-01']")
        expect(section).to_be_visible()
        expect(section.locator("tr", has_text=mun2)).to_contain_text("не ответил")
        expect(section.locator("tr", has_text=mun1)).to_contain_text("по данным")
        expect(section.locator(".rollup-total")).not_to_have_text("—")
        total = section.locator(".rollup-total").inner_text()
        _fits(page)
        _shot(page, "vertical-rollup-1366.png", tmp_path)

        section.get_by_role("link", name=mun1).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(mun1)
        drill = page.locator("section.rollup-indicator[data-indicator='M1.1-01']")
        # with the column's precision: one decimal (the indicator's target and baseline are whole)
        expect(drill.locator(f"tr[data-organisation='{school}'] .rollup-value")).to_have_text(re.compile(r"^\d+,\d$"))
        expect(drill.locator(".not-answered")).to_contain_text(silent_school)
        _fits(page)

        page.get_by_role("link", name="Каскад целей").click()
        regional_goal = page.locator("#cascade > li.cascade-goal[data-level='0']")
        expect(regional_goal).to_contain_text(regional_statement[:40])
        expect(regional_goal.locator("li.cascade-goal[data-level='1']").first).to_contain_text(mun1)
        # The regional goal's indicator shows the same figure as the roll-up.
        expect(regional_goal.locator("tr[data-indicator='M1.1-01'] .cascade-value").first).to_have_text(total)
        _fits(page)
        _shot(page, "vertical-cascade-1366.png", tmp_path)
    finally:
        context.close()
    assert not errors, errors

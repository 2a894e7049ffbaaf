"""Closed lists and choices of long titles, measured at 1366 px as each role sees them.

A closed list (<select>) cannot wrap: in a narrow column it cut «M1.2 Система работы со школами…», goals of the level
above, «…, Консультант отдела оценки качества образования министерства» and the audit filter's «перенос целей и
показателей из прошлого периода». Each list on these pages now shows every option whole, and the long titles of a
mechanism's direction and of the goals above are a radio list whose labels wrap."""

import pytest

from tests.e2e.conftest import OFFICE_SCREEN
from tests.e2e.test_screens_browser import log_in, open_styled

pytestmark = pytest.mark.browser

# Every visible list's options wider than the list's room for text (the font measured as the list draws it).
CUT_OPTIONS = """() => [...document.querySelectorAll('main select')].filter(s => s.offsetParent).flatMap(s => {
  const cs = getComputedStyle(s), ctx = document.createElement('canvas').getContext('2d');
  ctx.font = cs.font;
  const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return [...s.options].filter(o => ctx.measureText(o.text).width > room)
    .map(o => (s.name || s.id) + ': ' + o.text); })"""

# Radio labels that do not show whole: wider than their box, or beyond the window's right edge.
CUT_LABELS = """name => [...document.querySelectorAll(`input[type=radio][name="${name}"]`)].map(r =>
  document.querySelector(`label[for="${r.id}"]`)).filter(l => l.scrollWidth > l.clientWidth + 1
  || l.getBoundingClientRect().right > document.documentElement.clientWidth).map(l => l.textContent)"""


def _ids(live_app) -> dict:
    from sqlalchemy import select

    from app.auth.models import User
    from app.cycles.models import Cycle, Stage
    from app.extensions import db

    with live_app.app_context():
        def home(login):
            return db.session.scalars(select(User).where(User.login == login)).one().home_organisation.id
        region_stage = db.session.scalars(select(Stage.id).join(Stage.cycle).where(
            Cycle.owner_id == home("region_official")).order_by(Stage.id)).first()
        region_cycle = db.session.get(Stage, region_stage).cycle_id
        school_cycle = db.session.scalars(select(Cycle.id).where(Cycle.owner_id == home("director"))
                                          .order_by(Cycle.id)).first()
        return {"region_stage": region_stage, "region_cycle": region_cycle, "school": home("director"),
                "school_cycle": school_cycle}


def test_every_option_and_choice_reads_whole_at_1366(browser, live_server, live_app):
    ids = _ids(live_app)
    walk = {"region_official": ["/cycles/new", "/deadlines/standins", "/assessment/campaigns/new",
                                f"/stages/{ids['region_stage']}",
                                f"/followup/cycles/{ids['region_cycle']}/measures/new",
                                f"/followup/cycles/{ids['region_cycle']}/decisions/new"],
            "head": ["/audit/"],
            "director": [f"/analysis/schools/{ids['school']}", f"/cycles/{ids['school_cycle']}/goals/new"]}
    cut, radios = {}, {}
    for login, paths in walk.items():
        context = browser.new_context(base_url=live_server, locale="ru-RU", viewport=OFFICE_SCREEN)
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            log_in(page, login)
            for path in paths:
                open_styled(page, path)
                page.evaluate("document.querySelectorAll('main details').forEach(d => d.open = true)")
                found = page.evaluate(CUT_OPTIONS)
                for name in ("track_id", "parent_goal_id"):
                    found += page.evaluate(CUT_LABELS, name)
                if found:
                    cut[f"{login} {path}"] = found
                if path.endswith(("/cycles/new", "/goals/new")):  # the radio lists are there to be read
                    radios[path] = page.locator("input[type=radio]").count()
        finally:
            context.close()
    assert cut == {}
    assert len(radios) == 2 and min(radios.values()) > 10, radios

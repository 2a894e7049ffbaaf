"""Screens, tenth walk, in the browser: what an official prints (a cycle, a stage, its roadmap, the recommendations
of a cycle and a school's own) keeps its tables on the sheet."""

import re

import pytest

from tests.e2e.conftest import office_page
from tests.e2e.test_screens_browser import log_in, open_styled

pytestmark = pytest.mark.browser

LANDSCAPE_A4 = 1047  # 29.7 cm less two margins of 1 cm, in CSS pixels (96 per inch)
LONG = ("Заместители директоров по воспитательной работе, советники директоров по воспитанию, классные "
        "руководители 5–11 классов, педагоги-организаторы, социальные педагоги и педагоги-психологи") * 3


@pytest.fixture
def page(browser, live_server):
    yield from office_page(browser, live_server)


def _roadmap_cycle(live_app):
    """A cycle with a roadmap, one measure of it given the participants and the result a real plan lists."""
    from sqlalchemy import select

    from app.extensions import db
    from app.followup.models import Measure

    with live_app.app_context():
        measure = db.session.scalars(select(Measure).order_by(Measure.id)).first()
        measure.participants, measure.expected_result = LONG[:2000], LONG[:2000]
        db.session.commit()
        return measure.cycle_id, measure.stage_id


def _printed_overflow(page) -> list[str]:
    """The elements of the printed page that stand beyond the sheet's right edge."""
    return page.evaluate("""() => { const w = document.documentElement.clientWidth; const out = [];
      for (const el of document.querySelectorAll('main *')) { const r = el.getBoundingClientRect();
        if (r.width && r.right > w + 1) out.push(`${el.tagName}#${el.id} ${Math.round(r.right)} > ${w}`); }
      return out.slice(0, 5); }""")


def test_printed_tables_stay_on_the_sheet(page, live_app):
    """Printed from the browser, «Рекомендации, адресованные моей организации» lost «Срок» and «Состояние», the
    roadmap everything from «Участники» on, and the recommendations' summary its last states: the tables kept their
    screen width and the sheet cut them at its right edge (the roadmap of the loaded demo came out on 127 pages,
    most of them blank). The print takes a landscape sheet, the cells wrap, the navigation and the buttons stay off
    the paper."""
    cycle_id, stage_id = _roadmap_cycle(live_app)
    pages = {"official": [f"/cycles/{cycle_id}", f"/stages/{stage_id}", f"/followup/cycles/{cycle_id}/measures",
                          f"/followup/cycles/{cycle_id}/recommendations", f"/followup/cycles/{cycle_id}/decisions"],
             "director": ["/followup/my"]}
    for login, paths in pages.items():
        log_in(page, login)
        for path in paths:
            open_styled(page, path)
            sheet = page.pdf(prefer_css_page_size=True)
            width, height = map(float, re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", sheet).groups())
            assert width > height, (path, "the sheet is not landscape", width, height)
            page.emulate_media(media="print")
            page.set_viewport_size({"width": LANDSCAPE_A4, "height": 700})
            assert page.locator("nav.navbar").is_hidden(), path
            assert page.locator("main .btn").evaluate_all("els => els.filter(e => e.offsetParent).length") == 0, path
            assert _printed_overflow(page) == [], path
            # a state badge keeps its background on paper (white text otherwise prints on white)
            adjust = page.eval_on_selector_all("main .badge", "els => [...new Set(els.filter(e => e.offsetParent)"
                                               ".map(e => getComputedStyle(e).printColorAdjust))]")
            assert adjust in ([], ["exact"]), (path, adjust)
            page.emulate_media(media="screen")
            page.set_viewport_size({"width": 1366, "height": 768})
        page.context.clear_cookies()

"""Walk 14 in the browser: the expert's 08-70 sheet by keyboard and on paper.

The sheet's «Сохранить оценку» bar stays at the bottom of the window; a criterion reached by Tab was scrolled just
into the window's bottom edge — under the bar, out of sight while the expert typed. Printed, a comment box showed its
first line only, each box had its «Осталось знаков» under it, and «Итого» stood at the foot of every page. A stage's
«Срок» refused as typed came back empty, and a refused form came back silent, its focus at the page's top."""

import pytest

from tests.e2e.conftest import office_page
from tests.e2e.test_screens_browser import log_in, open_styled

pytestmark = pytest.mark.browser

TAIL = "последние слова довода эксперта, видимые только целиком"


@pytest.fixture
def page(browser, live_server):
    yield from office_page(browser, live_server)


def _experts_draft(live_app) -> int:
    """The demo expert's first evaluation still being scored (the sheet is a form); its id."""
    from sqlalchemy import select

    from app.assessment.models import Assignment
    from app.auth.models import User
    from app.extensions import db

    with live_app.app_context():
        return db.session.scalars(select(Assignment.id).join(User, User.id == Assignment.expert_user_id).where(
            User.login == "expert", Assignment.state == "draft").order_by(Assignment.id)).first()


COVERED = """() => { const f = document.activeElement, bar = document.querySelector('.sheet-actions');
  const r = f.getBoundingClientRect(), b = bar.getBoundingClientRect();
  return {name: f.getAttribute('aria-label'), covered: r.bottom > b.top && r.top < b.bottom,
          outside: r.top < 0 || r.bottom > window.innerHeight}; }"""


def test_a_field_reached_by_tab_is_never_under_the_sheets_save_bar(page, live_app):
    page.emulate_media(reduced_motion="reduce")  # no smooth scrolling: the position is final when measured
    log_in(page, "expert")
    open_styled(page, f"/assessment/evaluations/{_experts_draft(live_app)}")
    fields = page.locator("#expert-form #sheet input[type=number], #expert-form #sheet textarea")
    count = fields.count()
    assert count > 20  # the sheet runs several screens
    last = fields.last.get_attribute("aria-label")
    fields.first.focus()
    seen = []
    # every field, and the links between them (each block's «этап в цикле»), until the sheet's last field
    for _ in range(count * 3):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(COVERED))
        if seen[-1]["name"] == last:
            break
    hidden = [f["name"] for f in seen if f["covered"] or f["outside"]]
    assert not hidden, hidden
    assert seen[-1]["name"] == last  # Tab walked the whole sheet
    assert len([f for f in seen if f["name"]]) >= count - 1


def test_the_printed_sheet_shows_a_comment_whole_and_its_total_once(page, live_app):
    log_in(page, "expert")
    open_styled(page, f"/assessment/evaluations/{_experts_draft(live_app)}")
    box = page.locator("#expert-form #sheet textarea").first
    box.fill("Довод эксперта по критерию со ссылкой на приказ и аналитическую справку. " * 8 + TAIL)
    page.emulate_media(media="print")
    assert box.evaluate("t => t.scrollHeight <= t.clientHeight + 1")  # nothing scrolled out of the printed box
    assert box.bounding_box()["height"] > 4 * page.locator("#expert-form #sheet input[type=number]").first \
        .bounding_box()["height"]
    assert not page.locator(".field-counter").first.is_visible()
    assert not page.locator(".sheet-actions").is_visible()
    assert page.locator("#sheet tfoot").evaluate("t => getComputedStyle(t).display") == "table-row-group"


def _draft_roadmap_stage(live_app) -> int:
    from sqlalchemy import select

    from app.cycles.models import Stage
    from app.extensions import db

    with live_app.app_context():
        return db.session.scalars(select(Stage.id).where(Stage.code == "MEAS", Stage.state == "draft")
                                  .order_by(Stage.id)).first()


def test_a_refused_date_comes_back_as_typed_with_the_focus_and_the_title_saying_so(page, live_app):
    """«Срок» typed as 31.02.2027 was refused with «Введите корректную дату» over an empty field (a date field keeps
    no invalid value), and the refused page began at its top, silent for a screen reader."""
    log_in(page, "official")
    open_styled(page, f"/stages/{_draft_roadmap_stage(live_app)}")
    form = page.locator("form[action$='/settings']")
    form.locator("input[name=deadline]").fill("31.02.2027")
    page.keyboard.press("Escape")  # the calendar closes
    form.locator("[type=submit]").click()
    page.wait_for_load_state("load")
    field = page.locator("#deadline")
    assert field.input_value() == "31.02.2027"
    assert field.evaluate("f => f === document.activeElement && f.getAttribute('aria-invalid') === 'true'")
    assert page.title().startswith("Ошибка: ")
    assert not page.locator(".air-datepicker.-active-").count()  # the focus opened no calendar over the form


FITS = """s => { const cs = getComputedStyle(s), ctx = document.createElement('canvas').getContext('2d');
  ctx.font = cs.font;
  const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return [...s.options].filter(o => ctx.measureText(o.text).width > room).map(o => o.text); }"""


def test_the_responsible_is_read_whole_in_the_closed_list(page, live_app):
    """A stage's, a new measure's and a new decision's «Ответственный»: «…, Главный специалист управления
    образования» was cut to «образовани»."""
    from app.cycles.models import Stage
    from app.extensions import db

    stage_id = _draft_roadmap_stage(live_app)
    with live_app.app_context():
        cycle_id = db.session.get(Stage, stage_id).cycle_id
    log_in(page, "official")
    for path in (f"/stages/{stage_id}", f"/followup/cycles/{cycle_id}/measures/new",
                 f"/followup/cycles/{cycle_id}/decisions/new"):
        open_styled(page, path)
        assert page.locator("#responsible_id").evaluate(FITS) == [], path

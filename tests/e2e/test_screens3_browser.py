"""Screens, third review, in the browser at 1366 px: a refused form keeps its red marks and ties each message to its
field; short codes («M2.3-01», «MUN01-S01») are never split across lines."""

import pytest

from tests.e2e.conftest import OFFICE_SCREEN, office_page
from tests.e2e.test_screens_browser import log_in, open_styled

pytestmark = pytest.mark.browser

VIEWPORT = OFFICE_SCREEN


def _ids(live_app):
    from sqlalchemy import select

    from app.cycles.models import Cycle
    from app.effectiveness.models import EffectivenessEvaluation
    from app.extensions import db
    from app.orgs.models import Organisation

    with live_app.app_context():
        school = db.session.scalars(select(Organisation).where(Organisation.code == "MUN01-S01")).one()
        own = db.session.scalars(select(Cycle).where(Cycle.owner_id == school.id).order_by(Cycle.id)).first()
        evaluated = db.session.scalars(select(EffectivenessEvaluation.cycle_id)
                                       .order_by(EffectivenessEvaluation.cycle_id)).first()
        return {"school_cycle": own.id, "evaluated": evaluated}


@pytest.fixture
def page(browser, live_server):
    yield from office_page(browser, live_server)


def test_a_refused_form_keeps_its_marks_and_ties_each_message_to_its_field(page, live_app):
    ids = _ids(live_app)
    log_in(page, "director")
    open_styled(page, f"/cycles/{ids['school_cycle']}/goals/new")
    page.get_by_role("button", name="Сохранить").click()
    page.wait_for_load_state("load")
    field = page.locator("#direction")
    # The character counter cleared the server's red mark on load: the field looked accepted beside
    # «Обязательное поле.»
    assert "is-invalid" in field.get_attribute("class")
    assert field.evaluate("el => getComputedStyle(el).borderTopColor") == "rgb(220, 53, 69)"
    assert field.get_attribute("aria-invalid") == "true"
    described = field.get_attribute("aria-describedby").split()
    messages = [page.locator(f"#{i}").inner_text() for i in described]
    assert "Обязательное поле." in messages
    # Typing clears the mark the server set (the counter takes over).
    field.fill("Развитие добровольчества")
    assert "is-invalid" not in field.get_attribute("class")


CODES_ON_ONE_LINE = """selector => Array.from(document.querySelectorAll(selector)).map(cell => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  const lines = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));
  return [cell.innerText.trim(), lines.size];
})"""


def test_indicator_and_organisation_codes_stay_on_one_line(page, live_app):
    ids = _ids(live_app)
    log_in(page, "official")
    open_styled(page, f"/effectiveness/cycles/{ids['evaluated']}")
    cells = page.evaluate(CODES_ON_ONE_LINE, "tr[data-code] > td:first-child")
    assert cells, "the evaluation lists its indicators"
    assert [code for code, lines in cells if lines > 1] == []  # «M2.3-» | «01» before
    open_styled(page, "/orgs/")
    cells = page.evaluate(CODES_ON_ONE_LINE, "main table tbody tr > td:first-child")
    assert cells and [code for code, lines in cells if lines > 1] == []


def test_the_task_filters_sit_on_one_line(page):
    log_in(page, "director")
    open_styled(page, "/tasks/")
    middles = page.evaluate("""() => ['select[name=mechanism]', '#closed', 'label[for=closed]', 'main form button']
        .map(s => { const r = document.querySelector(s).getBoundingClientRect(); return r.top + r.height / 2; })""")
    # «показать выполненные» sat above the line of the selects and the button
    assert max(middles) - min(middles) <= 3, middles


def test_file_fields_speak_russian_whatever_the_browsers_language(page, live_app, tmp_path):
    from sqlalchemy import select

    from app.extensions import db
    from app.followup.models import Measure
    from tests.e2e.test_screens_browser import _axe, serious_violations

    with live_app.app_context():
        measure = db.session.scalars(select(Measure).where(Measure.state.not_in(("verified", "cancelled")))
                                     .order_by(Measure.id)).first().id
    log_in(page, "official")
    open_styled(page, f"/followup/measures/{measure}")
    form = page.locator("#attach-form")
    # The browser's own control («Choose File» / «No file chosen» in an English browser) is out of sight; the
    # Russian button and line stand in its place, and the field keeps its label.
    native = form.locator("input[type=file]")
    assert native.bounding_box()["width"] <= 1
    assert form.get_by_text("Выберите файл", exact=True).is_visible()
    assert form.get_by_text("Файл не выбран", exact=True).is_visible()
    proof = tmp_path / "protokol.pdf"
    proof.write_bytes(b"%PDF-1.4 test")
    page.get_by_label("Файл", exact=True).set_input_files(str(proof))
    assert form.get_by_text("protokol.pdf", exact=True).is_visible()
    assert serious_violations(_axe(), page) == []
    page.screenshot(path=str(tmp_path / "measure.png"), full_page=True)

"""The vertical in a real browser (README, «The vertical»): a regional cycle's invariant indicators rolled up over
the demo's municipalities (one answering from its schools, one for itself), the drill-down to a municipality's
schools, and the goals cascade from the regional goal to the municipal one — each page fitting 1366 px."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser

PASSWORD = "uko-vertical-2026"  # noqa: S105 (a test account of the throwaway live server)
SCREENSHOTS = Path(os.environ["E2E_SCREENSHOTS"]) if os.environ.get("E2E_SCREENSHOTS") else None


def expect(target):
    from playwright.sync_api import expect as _expect

    return _expect(target)


def _regional_cycle(app):
    """On the server's side: a regional R1.1 cycle with two invariant indicators and a goal; values of MUN01's
    schools and MUN02's own answer; MUN01's M1.1 goal linked to the regional goal."""
    from app.auth.services import create_user
    from app.catalogue.models import Mechanism, MechanismSet, Track
    from app.cycles.models import Cycle, Goal, Indicator
    from app.cycles.services import save_content
    from app.extensions import db
    from app.monitoring.models import IndicatorValue
    from app.orgs.models import Organisation
    from workflows import engine

    with app.app_context():
        region = db.session.scalar(select(Organisation).where(Organisation.kind == "region"))
        official = create_user(login="r_official", full_name="Громова Алла Петровна", password=PASSWORD,
                               position="Консультант министерства", roles=[("official", region)])
        head = create_user(login="r_head", full_name="Рябов Олег Ильич", password=PASSWORD,
                           position="Начальник отдела министерства", roles=[("head", region)])
        municipal = db.session.scalar(select(Cycle).join(Cycle.track).join(Track.mechanism).join(Cycle.owner)
                                      .where(Mechanism.code == "M1.1", Organisation.code == "MUN01"))
        track = db.session.scalar(select(Track).join(Track.mechanism).join(Mechanism.mechanism_set).where(
            Mechanism.code == "R1.1", MechanismSet.active.is_(True)))
        # `flask seed demo` opens the region's R1.1 cycle with its goal (the assessment's linkage, issue 16): the
        # test builds the cascade on that goal.
        cycle = db.session.scalar(select(Cycle).where(Cycle.track_id == track.id, Cycle.owner_id == region.id,
                                                      Cycle.period == municipal.period))
        goal = db.session.scalar(select(Goal).where(Goal.cycle_id == cycle.id).order_by(Goal.id).limit(1))
        from tests.fixtures_documents import stage_document_drafts
        stage_document_drafts(cycle.stage("GOAL"), official)
        engine.fire(cycle.stage("GOAL"), "submit", actor=official)
        engine.fire(cycle.stage("GOAL"), "approve", actor=head)
        group = track.mechanism.indicator_groups[0].name
        made = {}
        for code, name, aggregation, target in (
                ("R-01", "Доля обучающихся 4 классов, достигших базового уровня по ВПР", "mean_weighted", 90),
                ("R-02", "Доля ОО, достигших целевого значения по ВПР", "share_meeting", 90)):
            made[code] = save_content(Indicator, cycle, actor=official, data={
                "code": code, "name": name, "unit": "%", "definition": "число / всего × 100", "group_name": group,
                "source": "ФИС ОКО", "collection_method": "выгрузка", "periodicity": "ежегодно", "baseline": 85,
                "target": target, "direction": "up", "responsible": "Громова А.П.", "invariant": True,
                "aggregation": aggregation})
        schools = db.session.scalars(select(Organisation).where(
            Organisation.kind == "school", Organisation.path.like(municipal.owner.path + "%"))
            .order_by(Organisation.code)).all()
        answered = schools[:-1]  # the last school has not answered
        for n, school in enumerate(answered):
            for ind in made.values():
                db.session.add(IndicatorValue(indicator_id=ind.id, organisation_id=school.id, period=cycle.period,
                                              value=Decimal(84 + n), source="import"))
        mun2 = db.session.scalar(select(Organisation).where(Organisation.code == "MUN02"))
        for ind in made.values():
            db.session.add(IndicatorValue(indicator_id=ind.id, organisation_id=mun2.id, period=cycle.period,
                                          value=Decimal("91.5"), source="import"))
        mun_goal = db.session.scalar(select(Goal).join(Goal.cycle).where(Cycle.owner_id == municipal.owner_id)
                                     .order_by(Goal.id).limit(1))
        mun_goal.parent_goal_id = goal.id
        db.session.commit()
        return cycle.id, municipal.owner.display_name, mun2.display_name, answered[0].code, \
            schools[-1].display_name, goal.statement


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
        log_in(page, "r_official", PASSWORD)
        page.goto(f"/cycles/{cycle_id}")
        page.locator("#cycle-vertical").get_by_role("link", name="свод обязательных показателей").click()
        section = page.locator("section.rollup-indicator[data-indicator='R-01']")
        expect(section).to_be_visible()
        expect(section.locator("tr", has_text=mun2)).to_contain_text("собственный ответ")
        expect(section.locator("tr", has_text=mun1)).to_contain_text("по данным")
        expect(section.locator(".rollup-total")).not_to_have_text("—")
        total = section.locator(".rollup-total").inner_text()
        _fits(page)
        _shot(page, "vertical-rollup-1366.png", tmp_path)

        section.get_by_role("link", name=mun1).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(mun1)
        drill = page.locator("section.rollup-indicator[data-indicator='R-01']")
        # with the column's precision: one decimal (the indicator's target and baseline are whole)
        expect(drill.locator(f"tr[data-organisation='{school}'] .rollup-value")).to_have_text("84,0")
        expect(drill.locator(".not-answered")).to_contain_text(silent_school)
        _fits(page)

        page.get_by_role("link", name="Каскад целей").click()
        regional_goal = page.locator("#cascade > li.cascade-goal[data-level='0']")
        expect(regional_goal).to_contain_text(regional_statement[:40])
        expect(regional_goal.locator("li.cascade-goal[data-level='1']").first).to_contain_text(mun1)
        # The regional goal's indicator shows the same figure as the roll-up.
        expect(regional_goal.locator("tr[data-indicator='R-01'] .cascade-value").first).to_have_text(total)
        _fits(page)
        _shot(page, "vertical-cascade-1366.png", tmp_path)
    finally:
        context.close()
    assert not errors, errors

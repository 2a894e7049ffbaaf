"""Screens, fifth review: one way back on every page (the shared breadcrumb, its last step the page itself), and
what a user meets on error and empty pages."""

import pathlib

from sqlalchemy import select

from tests.test_screens3_pages import _login, _page, _text

APP = pathlib.Path(__file__).resolve().parents[1] / "app"


def _trail(doc) -> list[tuple[str, str | None, str | None]]:
    (nav,) = doc.xpath("//nav[ol[contains(@class, 'breadcrumb')]]")
    assert nav.get("aria-label") == "Навигационная цепочка"
    return [(_text(li), (li.xpath("./a/@href") or [None])[0], li.get("aria-current")) for li in nav.xpath("./ol/li")]


def _assert_one_way_back(client, url):
    """Every step but the last leads somewhere the reader may open; the last is this page, said so to a screen
    reader (aria-current) and not a link to itself."""
    steps = _trail(_page(client, url))
    *before, last = steps
    assert last[1] is None and last[2] == "page", (url, steps)
    assert all(href and current is None for _, href, current in before), (url, steps)
    return steps


def _school(demo, code="MUN01-S01"):
    from app.orgs.models import Organisation

    return demo.scalars(select(Organisation).where(Organisation.code == code)).one()


def test_no_template_draws_its_own_breadcrumb():
    """Hand-written trails beside the shared macro drifted: no aria-current on the last step, the analysis section
    linking to itself, the journals page with none at all."""
    drawn = sorted(str(p.relative_to(APP)) for p in APP.rglob("*.html")
                   if 'class="breadcrumb' in p.read_text(encoding="utf-8") and p.name != "_breadcrumb.html"
                   and "public" not in p.parts and "situation" not in p.parts)
    assert drawn == []


def test_the_pages_of_a_cycle_end_their_trail_on_the_page_itself(demo, client):
    from app.cycles.models import Cycle
    from app.documents.models import Document
    from app.monitoring.models import DataRequest

    cycle = demo.scalars(select(Cycle).join(Cycle.track).where(Cycle.state == "closed").order_by(Cycle.id)).first()
    cycle = cycle or demo.scalars(select(Cycle).order_by(Cycle.id)).first()
    req = demo.scalars(select(DataRequest).order_by(DataRequest.id)).first()
    doc = demo.scalars(select(Document).where(Document.stage_id.is_not(None)).order_by(Document.id)).first()
    stage = cycle.stages[0]
    _login(client, "official")
    pages = [f"/cycles/{cycle.id}", f"/stages/{stage.id}", f"/cycles/{cycle.id}/history",
             f"/effectiveness/cycles/{cycle.id}", f"/effectiveness/cycles/{cycle.id}/integrity",
             f"/cycles/{cycle.id}/cascade", f"/cycles/{cycle.id}/rollup", f"/evidence/cycles/{cycle.id}",
             f"/analysis/cycles/{cycle.id}", f"/analysis/cycles/{cycle.id}/objectivity",
             f"/followup/cycles/{cycle.id}/measures", f"/monitoring/cycles/{req.cycle_id}/requests",
             f"/monitoring/requests/{req.id}", f"/documents/{doc.id}"]
    for url in pages:
        steps = _assert_one_way_back(client, url)
        if url != f"/cycles/{cycle.id}":
            assert steps[0][:2] == ("Циклы", "/cycles") and steps[1][1].startswith("/cycles/"), (url, steps)
    # the analysis section's own page no longer links to itself as its last step
    assert _trail(_page(client, f"/analysis/cycles/{cycle.id}"))[-1] == ("Анализ", None, "page")


def test_organisation_and_administration_pages_end_their_trail_on_the_page(demo, client):
    school = _school(demo)
    _login(client, "admin")
    for url in (f"/orgs/{school.id}", "/documents/templates/" + _a_template_type(),
                "/assessment/criteria/" + str(_a_criteria_set(demo))):
        _assert_one_way_back(client, url)


def test_the_registration_journals_lead_back_to_their_organisation(demo, client):
    """/documents/journals/<id> had no trail, only the organisation's name as a link under the heading."""
    school = _school(demo)
    _login(client, "admin")
    steps = _assert_one_way_back(client, f"/documents/journals/{school.id}")
    assert steps[0][:2] == ("Организации", "/orgs/")
    assert steps[-2][:2] == ("СОШ № 1", f"/orgs/{school.id}")
    assert steps[-1][0] == "Журналы регистрации"
    assert all(client.get(href).status_code == 200 for _, href, _ in steps if href)


def test_a_recommendation_item_leads_the_school_back_to_its_list(demo, client):
    from app.followup.models import RecommendationItem

    item = demo.scalars(select(RecommendationItem).where(RecommendationItem.organisation_id == _school(demo).id)
                        .order_by(RecommendationItem.id)).first()
    _login(client, "director")
    steps = _assert_one_way_back(client, f"/followup/items/{item.id}")
    assert steps[0][:2] == ("Рекомендации", "/followup/my")


def _a_template_type() -> str:
    from app.documents.catalogue import document_types

    return next(iter(document_types()))


def _a_criteria_set(demo) -> int:
    from app.assessment.models import CriteriaSet

    return demo.scalars(select(CriteriaSet.id).order_by(CriteriaSet.id)).first()

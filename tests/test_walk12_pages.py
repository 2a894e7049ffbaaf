# ruff: noqa: F811
"""Walk 12 (the 08-70 assessment pages at 1366 px, a campaign of many municipalities; the situational centre): what
the pages found wanting. On paper a page keeps what it says and drops what only a mouse can use: the region picture's
hover and sorting hints, the situational centre's selects (printed as form controls; the paper gets the chosen year,
procedure and subject as text)."""

import lxml.html
import pytest

from tests.test_assessment_picture import _campaign_over, _login
from tests.test_imports import import_results, results_csv, run_file, uploads  # noqa: F401
from tests.test_situation import _rows as _situation_rows


def _page(response):
    assert response.status_code == 200, response.status_code
    return lxml.html.fromstring(response.get_data(as_text=True))


def _words(node) -> str:
    return " ".join(node.text_content().split())


def _screen_only(node) -> bool:
    """The node or one of its ancestors is hidden on paper (Bootstrap's d-print-none, app.css's @media print)."""
    return any("d-print-none" in (n.get("class") or "").split() for n in [node, *node.iterancestors()])


def test_the_region_picture_prints_no_hover_or_sorting_hints(world, make_org, make_user, client, db_session):
    region = world["region"]
    second = make_org("municipality", parent=region, code="SM", name="Второй район")
    campaign = _campaign_over(db_session, region, [world["mun"], second])
    official = make_user("official", region, login="walk12_off")
    db_session.commit()
    _login(client, official)
    page = _page(client.get(f"/assessment/campaigns/{campaign.id}/picture"))
    hints = [n for n in page.xpath("//main//*[contains(text(), 'при наведении') or contains(text(), 'Сортировка')]")]
    assert hints and all(_screen_only(n) for n in hints)
    # what the cell holds is said on paper too
    note = page.xpath("//main//p[contains(., 'процент от максимума учитываемого балла')]")[0]
    assert not _screen_only(note)


@pytest.fixture
def results(import_results, world):
    run = import_results(_situation_rows())
    assert run.status == "done", run.message
    return world


def test_the_situational_centre_prints_its_filters_as_text(results, client, login):
    login(results["auditor"])
    page = _page(client.get(f"/situation/orgs/{results['mun'].id}?year=2025&procedure=ВПР&subject=Математика"))
    selects = page.xpath("//main//select[@name='year' or @name='procedure' or @name='subject']")
    assert len(selects) == 3 and all(_screen_only(s) for s in selects)
    printed = page.xpath("//main//*[@id='filters-printed']")[0]
    assert "d-print-block" in printed.get("class") and "d-none" in printed.get("class")
    assert _words(printed) == "Год: 2025; процедура: ВПР; предмет: Математика."
    school = _page(client.get(f"/situation/schools/{results['school_a'].id}?year=2025&procedure=ВПР"))
    assert all(_screen_only(s) for s in school.xpath("//main//select"))
    assert _words(school.xpath("//*[@id='filters-printed']")[0]) == "Год: 2025; процедура: ВПР."

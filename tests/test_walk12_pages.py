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


def _read_by_an_official(world, make_user, client, db_session, others, login: str):
    """A published campaign over world["mun"] and `others` (mechanisms M1.1, M1.2), read by a region's official."""
    campaign = _campaign_over(db_session, world["region"], [world["mun"], *others])
    official = make_user("official", world["region"], login=login)
    db_session.commit()
    _login(client, official)
    return campaign


def test_the_region_picture_prints_no_hover_or_sorting_hints(world, make_org, make_user, client, db_session):
    second = make_org("municipality", parent=world["region"], code="SM", name="Второй район")
    campaign = _read_by_an_official(world, make_user, client, db_session, [second], "walk12_off")
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


def _overview(page):
    return page.xpath("//table[@id='overview']")[0]


def test_the_campaign_overview_names_each_municipality_once_and_filters_by_one(world, make_org, make_user, client,
                                                                               db_session):
    region = world["region"]
    long_name = "Муниципальное образование «Городской округ Долгое-Название-Заречный»"
    others = [make_org("municipality", parent=region, code=f"W{i}", name=f"{long_name} {i}") for i in (1, 2)]
    campaign = _read_by_an_official(world, make_user, client, db_session, others, "walk12_overview")
    url = f"/assessment/campaigns/{campaign.id}"

    page = _page(client.get(url))
    table = _overview(page)
    assert len(table.xpath(".//tbody/tr")) == 6  # all of them by default
    # each name once, heading the two rows of its mechanisms
    heads = table.xpath(".//tbody/tr/th[@scope='rowgroup']")
    assert [_words(h) for h in heads] == ["Тестовый муниципалитет", f"{long_name} 1", f"{long_name} 2"]
    assert all(h.get("rowspan") == "2" for h in heads)
    assert _words(table).count(long_name) == 2
    assert [_words(r.xpath("./td[1]")[0]) for r in table.xpath(".//tbody/tr")] == ["M1.1", "M1.2"] * 3
    # the filter: the campaign's municipalities, all by default; hidden on paper
    select = page.xpath("//form[@id='overview-filter']//select[@name='municipality']")[0]
    assert [o.get("value") for o in select.xpath("./option")] == ["", str(world["mun"].id),
                                                                    *(str(o.id) for o in others)]
    assert not select.xpath("./option[@selected]") and _screen_only(select)

    one = _page(client.get(f"{url}?municipality={others[1].id}"))
    rows = _overview(one).xpath(".//tbody/tr")
    assert len(rows) == 2 and _words(_overview(one).xpath(".//tbody/tr/th")[0]) == f"{long_name} 2"
    assert one.xpath("//select[@name='municipality']/option[@selected]/@value") == [str(others[1].id)]

    # an id not of this campaign (or not an id) is said, and all are shown — never a 5xx
    outsider = make_org("municipality", parent=region, code="WX", name="Не в кампании")
    db_session.commit()
    for bad in (outsider.id, "abc", "0"):
        refused = _page(client.get(f"{url}?municipality={bad}"))
        assert "Такого муниципалитета" in _words(refused.xpath("//*[@id='overview-filter-unknown']")[0])
        assert len(_overview(refused).xpath(".//tbody/tr")) == 6


def test_a_coordinator_of_one_municipality_gets_no_filter_nor_another_municipality(world, make_org, client, login,
                                                                                    db_session):
    region = world["region"]
    other = make_org("municipality", parent=region, code="WO", name="Соседний район")
    campaign = _campaign_over(db_session, region, [world["mun"], other])
    campaign.municipalities[0].coordinator_id = world["official"].id  # of world["mun"] only
    db_session.commit()
    login(world["official"])
    url = f"/assessment/campaigns/{campaign.id}"
    page = _page(client.get(url))
    assert not page.xpath("//form[@id='overview-filter']")
    heads = _overview(page).xpath(".//tbody/tr/th")
    assert len(heads) == 1 and _words(heads[0]).startswith("Тестовый муниципалитет")
    assert len(_overview(page).xpath(".//tbody/tr")) == 2
    # the scope holds: the neighbour's id shows nothing of the neighbour
    asked = _page(client.get(f"{url}?municipality={other.id}"))
    assert "Соседний район" not in _words(_overview(asked))
    assert [_words(h).startswith("Тестовый муниципалитет") for h in _overview(asked).xpath(".//tbody/tr/th")] == [True]

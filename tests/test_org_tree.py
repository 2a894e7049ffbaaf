"""Organisation pickers as a tree (issue 13): region → municipality → institutions, same-named schools told
apart by their municipality, a municipality standing for its subtree; no request leaves the page (no CDN)."""

import re

import pytest

from app.orgs.tree import org_tree


@pytest.fixture
def two_municipalities(world, make_org, db_session):
    other = make_org("municipality", parent=world["region"], code="MUN2", name="Второй муниципалитет")
    twin = make_org("school", parent=other, code="MUN2-S1", name="Школа А")  # the same name as world's school_a
    tenth = make_org("school", parent=world["mun"], code="SCH-10", name="Школа 10")
    second = make_org("school", parent=world["mun"], code="SCH-2", name="Школа 2")
    db_session.commit()
    return {"other": other, "twin": twin, "tenth": tenth, "second": second}


def test_choices_are_grouped_by_municipality_and_told_apart(world, two_municipalities, app):
    t = two_municipalities
    ids = [world["school_a"].id, t["twin"].id, world["mun"].id, world["region"].id, t["tenth"].id, t["second"].id]
    groups = org_tree(ids)
    assert [g.label for g in groups] == ["Тестовая область", "Второй муниципалитет", "Тестовый муниципалитет"]
    own = groups[2].choices[0]
    assert own.id == world["mun"].id and own.own_group and "вся подведомственная сеть" in own.name
    names = [c.name for c in groups[2].choices[1:]]
    assert names == ["Школа 2", "Школа 10", "Школа А"]  # numbers in their natural order
    twins = [c for g in groups for c in g.choices if c.name == "Школа А"]
    assert sorted(c.full for c in twins) == ["Школа А, Второй муниципалитет", "Школа А, Тестовый муниципалитет"]
    assert org_tree([]) == [] and org_tree(["x"]) == []


def test_the_audit_filter_groups_organisations_by_municipality(world, two_municipalities, client, login):
    login(world["auditor"])
    html = client.get("/audit/").get_data(as_text=True)
    select = html[html.index('id="f-organisation"'):]
    select = select[:select.index("</select>")]
    assert '<optgroup label="Второй муниципалитет">' in select and '<optgroup label="Тестовый муниципалитет">' in select
    assert select.count(">Школа А</option>") == 2  # each under its own municipality


def test_a_municipality_filter_keeps_its_schools_cycles(world, make_cycle, client, login, db_session):
    school_cycle = make_cycle(world["school_a"], world["director_a"], mechanism="I1.1")
    db_session.commit()
    login(world["official"])
    html = client.get(f"/cycles?organisation={world['mun'].id}").get_data(as_text=True)
    assert f'/cycles/{school_cycle.id}"' in html
    html = client.get(f"/cycles?organisation={world['school_b'].id}").get_data(as_text=True)
    assert f'/cycles/{school_cycle.id}"' not in html


def _picker(html: str) -> str:
    start = html.index("data-org-tree")
    return html[start:html.index("data-org-found", start)]


def test_the_data_request_form_draws_the_tree(world, mon, client, login):
    login(world["official"])
    html = client.get(f"/monitoring/cycles/{mon.id}/requests/new").get_data(as_text=True)
    picker = _picker(html)
    assert "data-org-search" in picker and "<legend" in picker
    for school in (world["school_a"], world["school_b"]):
        assert re.search(rf'id="org-{school.id}"[^>]*>\s*<label class="form-check-label" for="org-{school.id}">'
                         rf'{school.name}<span class="visually-hidden">, {world["mun"].name}</span>', picker)
    assert "https://" not in picker and "cdn" not in html.lower()

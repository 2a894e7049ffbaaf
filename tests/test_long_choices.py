"""Choices among long titles are read whole, not cut by a closed list.

A closed list (<select>) cannot wrap: at 1366 px «Механизм и направление» on «Открыть цикл» cut «M1.2 Система работы
со школами с низкими результатами обучения и/или школами…», and «Связь с целью вышестоящего уровня» showed goals cut
to 120 characters and then to the column — two goals that began alike could not be told apart. Both are radio lists
now, each title whole."""

import re

import lxml.html
import pytest

from tests.conftest import track_of
from tests.test_screens3_pages import _login, _page

LONG_TITLE = ("Система работы со школами с низкими результатами обучения и/или школами, функционирующими "
              "в неблагоприятных социальных условиях")
SHARED_START = "Создание условий для повышения качества образования по направлению механизма " * 2


def _doc(response):
    assert response.status_code == 200, response.data[:500]
    return lxml.html.fromstring(response.get_data(as_text=True))


def _choices(doc, name: str) -> dict[str, str]:
    """value → the label's text of each radio button `name`, which must sit in a fieldset named by its legend."""
    assert not doc.xpath(f"//select[@name='{name}']"), "a closed list cuts long titles"
    radios = doc.xpath(f"//fieldset[legend]//input[@type='radio'][@name='{name}']")
    assert radios, f"no radio list «{name}»"
    return {r.get("value"): " ".join(doc.xpath(f"//label[@for='{r.get('id')}']")[0].text_content().split())
            for r in radios}


def test_the_new_cycles_mechanism_and_direction_is_chosen_with_each_title_whole(client, world, login):
    login(world["official"])
    doc = _doc(client.get("/cycles/new"))
    choices = _choices(doc, "track_id")
    assert choices[str(track_of("M1.2").id)] == f"M1.2 {LONG_TITLE}"
    assert doc.xpath("//fieldset[@id='track_id']/legend")[0].text_content() == "Механизм и направление"


def test_a_region_officials_thirty_directions_are_grouped_by_level_and_region_first(client, world, login,
                                                                                     make_user, db_session):
    """A region's official opens cycles at all three levels: thirty-odd radio buttons in one run, «M1.1 …» and
    «R1.1 …» of the same title apart only by a letter, read as one undivided list."""
    official = make_user("official", world["region"], login="region_official")
    db_session.commit()
    login(official)
    doc = _doc(client.get("/cycles/new"))
    outer = doc.xpath("//fieldset[@id='track_id']")[0]
    groups = [(" ".join(g.xpath("./legend")[0].text_content().split()),
               [r.get("value") for r in g.xpath(".//input[@type='radio']")]) for g in outer.xpath("./fieldset")]
    headings = [heading for heading, _ in groups]
    assert headings[:2] == ["Региональный уровень: качество образовательных результатов",
                            "Региональный уровень: качество образовательной деятельности"]
    assert "Муниципальный уровень: сквозные механизмы" in headings
    assert headings[-1].startswith("Уровень образовательной организации (ВСОКО)")
    assert len(headings) == len(set(headings)), "each heading once: a level's group is one run"
    # Every radio sits in a group, the region's R1.1 before the municipality's M1.1, and each group's own.
    grouped = [value for _, values in groups for value in values]
    assert sorted(grouped) == sorted(_choices(doc, "track_id"))
    assert grouped.index(str(track_of("R1.1").id)) < grouped.index(str(track_of("M1.1").id))
    assert str(track_of("M1.2").id) in dict(groups)["Муниципальный уровень: качество образовательных результатов"]


def test_a_municipal_officials_directions_are_grouped_by_the_mechanisms_group(client, world, login):
    login(world["official"])
    outer = _doc(client.get("/cycles/new")).xpath("//fieldset[@id='track_id']")[0]
    headings = [" ".join(g.text_content().split()) for g in outer.xpath("./fieldset/legend")]
    assert headings[0] == "Муниципальный уровень: качество образовательных результатов"
    assert not any(h.startswith("Региональный") for h in headings)


def test_a_refused_new_cycle_keeps_the_chosen_direction_and_marks_the_missing_one(client, world, login):
    login(world["official"])
    form = {"owner_id": world["mun"].id, "period": "2025/26"}
    doc = lxml.html.fromstring(client.post("/cycles/new", data=form).get_data(as_text=True))
    fieldset = doc.xpath("//fieldset[@id='track_id']")[0]
    assert fieldset.xpath(".//input[@type='radio']")[0].get("class").split()[-1] == "is-invalid"
    assert fieldset.xpath(".//*[contains(@class, 'invalid-feedback')]")
    track = track_of("M1.2").id
    doc = lxml.html.fromstring(client.post("/cycles/new", data={**form, "track_id": track, "period": "20"})
                               .get_data(as_text=True))
    assert doc.xpath("//input[@name='track_id'][@checked]/@value") == [str(track)]


@pytest.fixture
def school_cycle(world, make_cycle, db_session):
    """A school's cycle under a municipal one whose two goals begin with the same 150 characters."""
    from app.cycles.models import Goal
    from app.cycles.services import save_content

    municipal = make_cycle(world["mun"], world["official"])
    for ending in ("в основной школе", "в начальной школе"):
        save_content(Goal, municipal, actor=world["official"], data={
            "direction": "Качество", "statement": SHARED_START + ending, "justification": "Данные ВПР",
            "realism": "Ресурсы есть"})
    made = make_cycle(world["school_a"], world["director_a"], mechanism="I1.1")
    db_session.commit()
    return made


def test_the_higher_goal_is_chosen_with_each_statement_whole_and_its_cycle(client, world, login, school_cycle):
    login(world["director_a"])
    choices = _choices(_doc(client.get(f"/cycles/{school_cycle.id}/goals/new")), "parent_goal_id")
    labels = sorted(choices.values())
    assert labels == ["M1.1, Тестовый муниципалитет: " + SHARED_START.strip() + " в начальной школе",
                      "M1.1, Тестовый муниципалитет: " + SHARED_START.strip() + " в основной школе",
                      "нет связи"]
    assert choices["0"] == "нет связи"


def test_a_new_goal_is_linked_to_the_chosen_higher_goal(client, world, login, school_cycle, db_session):
    from app.cycles.models import Goal

    login(world["director_a"])
    doc = _doc(client.get(f"/cycles/{school_cycle.id}/goals/new"))
    assert doc.xpath("//input[@name='parent_goal_id'][@checked]/@value") == ["0"], "«нет связи» until one is chosen"
    target = next(v for v, text in _choices(doc, "parent_goal_id").items() if text.endswith("в начальной школе"))
    response = client.post(f"/cycles/{school_cycle.id}/goals/new", data={
        "direction": "Н", "statement": "Ц", "justification": "О", "realism": "Р", "parent_goal_id": target,
        "form_token": doc.xpath("//input[@name='form_token']/@value")[0]})
    assert response.status_code == 302, response.data[:1000]
    goal = db_session.query(Goal).filter_by(cycle_id=school_cycle.id).one()
    assert goal.parent_goal_id == int(target)


# --- a closed list of long titles has the row -----------------------------------------------------------------------

def _share_of_row(select) -> float:
    """The share of the form's row the list may take: the product of its Bootstrap columns (col-md-6 → ½); a
    max-width in rem caps it below any row and counts as nothing."""
    share = 1.0
    for node in [select, *select.iterancestors()]:
        if "max-width" in (node.get("style") or ""):
            return 0.0
        for css in (node.get("class") or "").split():
            match = re.fullmatch(r"col-(?:sm|md|lg|xl|xxl)-(\d+)", css)
            share *= int(match.group(1)) / 12 if match else 1
    return share


def _home(demo, login: str) -> int:
    from sqlalchemy import select

    from app.auth.models import User

    return demo.scalars(select(User).where(User.login == login)).one().home_organisation.id


def _first_stage(demo, login: str) -> int:
    """The first stage of the first cycle the user's organisation runs."""
    from sqlalchemy import select

    from app.cycles.models import Cycle, Stage

    return demo.scalars(select(Stage).join(Stage.cycle).where(Cycle.owner_id == _home(demo, login))
                        .order_by(Stage.id)).first()


@pytest.mark.parametrize(("login", "where", "name"), [
    # «…, Консультант отдела оценки качества образования министерства»
    ("region_official", "/cycles/new", "responsible_id"),
    ("region_official", "/deadlines/standins", "deputy_id"),
    ("official", "stage", "responsible_id"),
    ("region_official", "measure", "responsible_id"),
    ("region_official", "decision", "responsible_id"),
    # «Недостаточная предметная и методическая компетентность педагогических работников»
    ("director", "school", "priority-1"),
    ("region_official", "/assessment/campaigns/new", "criteria_set_id"),  # «2026.1 — Критерии оценки муниципальных …»
    ("head", "/audit/", "action"),  # «перенос целей и показателей из прошлого периода»
    ("head", "/audit/", "organisation"),  # «ГО Северный — вся подведомственная сеть»
    ("head", "/audit/", "object"),
])
def test_a_list_of_long_titles_is_not_squeezed_into_part_of_the_row(demo, client, login, where, name):
    url = {"stage": lambda: f"/stages/{_first_stage(demo, login).id}",
           "measure": lambda: f"/followup/cycles/{_first_stage(demo, login).cycle_id}/measures/new",
           "decision": lambda: f"/followup/cycles/{_first_stage(demo, login).cycle_id}/decisions/new",
           "school": lambda: f"/analysis/schools/{_home(demo, login)}"}.get(where, lambda: where)()
    _login(client, login)
    lists = _page(client, url).xpath(f"//select[@name='{name}']")
    assert lists, (url, name)
    assert _share_of_row(lists[0]) >= 0.8, (url, name)


# --- the auditor's 08-70 sheet gives its room to the evidence -------------------------------------------------------

def _column_widths(doc) -> dict[str, float]:
    heads = doc.xpath("//table[@id='sheet']/thead/tr/th")
    widths = {" ".join(th.text_content().split()): float(re.search(r"width: *([\d.]+)%", th.get("style") or "")[1])
              for th in heads if "width" in (th.get("style") or "")}
    widths.update({" ".join(th.text_content().split()): 100 - sum(widths.values())
                   for th in heads if "width" not in (th.get("style") or "")})
    return widths


def test_the_read_sheet_gives_the_evidence_more_room_than_the_scores(demo, client):
    """Read, «Самооценка» and «Эксперт» (a number, a folded comment) had 18 % each and stood mostly empty while
    «Доказательства» — titles, numbers, signers, hashes — had 20 % and ran a few words a line."""
    from sqlalchemy import select

    from app.assessment.models import Assignment
    approved = demo.scalars(select(Assignment.id).where(Assignment.state == "approved")).first()
    _login(client, "auditor")
    widths = _column_widths(_page(client, f"/assessment/evaluations/{approved}"))
    assert widths["Доказательства"] >= 30
    assert widths["Доказательства"] > widths["Самооценка"] + widths["Эксперт"]

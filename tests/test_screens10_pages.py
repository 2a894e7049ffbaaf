"""Screens, tenth walk (municipal and regional officials, heads, directors and the administrator at 1366 px on a
loaded demo: five times the measures, decisions and recommendations, names of 120+ characters, texts of 2,000, a
school with forty recommendations, a user with three hundred tasks): what did not hold under the load."""

from datetime import timedelta

from sqlalchemy import select

from tests.test_screens3_pages import _login, _page, _text


def _load_tasks(demo, login: str, n: int):
    """`n` open tasks for `login`, through the service that opens every task."""
    from app.auth.models import User
    from app.core.timeutil import today_in
    from app.followup.models import Measure
    from app.tasks.services import open_task

    user = demo.scalars(select(User).where(User.login == login)).one()
    measure = demo.scalars(select(Measure).order_by(Measure.id)).first()
    today = today_in("Europe/Moscow")
    for k in range(n):
        open_task(measure, kind="measure_due", title=f"Отчитаться о мероприятии № {k + 1}", assignee=user,
                  due_date=today + timedelta(days=k % 40 - 10))
    demo.flush()
    return user


def test_three_hundred_tasks_come_in_pages(demo, client):
    """A director with three hundred open tasks got «Мои задачи» as one table of three hundred rows (thirty-two
    screens at 1366×768, no way to the last but scrolling). The list comes in pages of fifty with the count and
    links to the other pages; the filters stay on every page."""
    _load_tasks(demo, "director", 300)
    _login(client, "director")
    page = _page(client, "/tasks/")
    rows = page.xpath("//main//table/tbody/tr")
    assert len(rows) == 50
    assert _text(page.xpath("//p[@id='task-count']")[0]).endswith("показаны 1–50")
    (pager,) = page.xpath("//nav[@id='task-pages']")
    numbers = [_text(a) for a in pager.xpath(".//a[@class='page-link']")]
    assert {"2", "7", "Далее »"} <= set(numbers)
    last = _page(client, "/tasks/?page=7")
    assert 0 < len(last.xpath("//main//table/tbody/tr")) <= 50
    assert last.xpath("//nav[@id='task-pages']//li[contains(@class, 'active')]/a/text()") == ["7"]
    # beyond the last page: the last page, not an empty table or an error
    assert len(_page(client, "/tasks/?page=99").xpath("//main//table/tbody/tr")) == len(
        last.xpath("//main//table/tbody/tr"))
    filtered = _page(client, "/tasks/?closed=1&page=2")
    assert all("closed=1" in href for href in filtered.xpath("//nav[@id='task-pages']//a/@href"))


def test_a_short_task_list_has_no_pager(demo, client):
    _login(client, "director")
    page = _page(client, "/tasks/")
    assert len(page.xpath("//main//table/tbody/tr")) <= 50
    assert not page.xpath("//nav[@id='task-pages']")


def test_long_lists_keep_their_headings_and_the_roadmap_reads_from_the_top(demo, client):
    """Forty recommendations of a school, the roadmap, the decisions and a page of fifty tasks scrolled their column
    headings away after the first screen. And a roadmap row with a long expected result (2,000 characters, its
    indicators listed under it) set its №, title, dates, responsible person and state in the middle of a row three
    screens high: the first screen of «Меры, мероприятия» showed an empty row. The headings stay in sight
    (.table-sticky-head), the roadmap's and the decisions' cells start at the top of their row."""
    from app.cycles.models import Cycle
    from app.followup.models import Decision, Measure

    measure = demo.scalars(select(Measure).order_by(Measure.id)).first()
    decision = demo.scalars(select(Decision).order_by(Decision.id)).first()
    _login(client, "official")
    for path, table_id in ((f"/followup/cycles/{measure.cycle_id}/measures", "roadmap"),
                           (f"/stages/{measure.stage_id}", "roadmap"),
                           (f"/followup/cycles/{decision.cycle_id}/decisions", "decisions"),
                           (f"/stages/{decision.stage_id}", "decisions")):
        (table,) = _page(client, path).xpath(f"//table[@id='{table_id}']")
        classes = table.get("class").split()
        assert "table-sticky-head" in classes and "align-top" in classes and "align-middle" not in classes, path
        assert not table.xpath("ancestor::div[contains(@class, 'table-responsive')]"), path
    cycle = demo.get(Cycle, measure.cycle_id)
    (table,) = _page(client, f"/followup/cycles/{cycle.id}/recommendations").xpath("//table[@id='recommendations']")
    assert "table-sticky-head" in table.get("class").split()
    _load_tasks(demo, "director", 60)
    _login(client, "director")
    (table,) = _page(client, "/followup/my").xpath("//table[@id='my-items']")
    assert "table-sticky-head" in table.get("class").split()
    (table,) = _page(client, "/tasks/").xpath("//table[@id='task-table']")
    assert "table-sticky-head" in table.get("class").split()
    assert "thead" in [c.tag for c in table]


def test_the_sticky_headings_are_styled():
    """The class the lists carry is the stylesheet's: a sticky heading with the page's background (a transparent
    one let the rows scroll through it)."""
    import re
    from pathlib import Path

    css = (Path(__file__).parents[1] / "app/static/css/app.css").read_text(encoding="utf-8")
    (rule,) = re.findall(r"\.table-sticky-head > thead > tr > th \{([^}]*)\}", css)
    assert "position: sticky" in rule and "top: 0" in rule and "background: var(--bs-body-bg)" in rule


def test_the_content_stages_keep_their_headings_in_sight(demo, client):
    """Goals, indicators and methods with texts of 2,000 characters run ten screens and more (the indicators of the
    loaded M2.3 cycle: 9,700 px at 1366×768): «Цель», «База», «Ответственный» were gone after the first."""
    from app.cycles.models import Stage

    _login(client, "official")
    seen = set()
    for stage in demo.scalars(select(Stage).where(Stage.code.in_(("GOAL", "IND", "METH"))).order_by(Stage.id)):
        if stage.code in seen or stage.cycle.owner.code != "MUN01":
            continue
        table_id = {"GOAL": "goals", "IND": "indicators", "METH": "methods"}[stage.code]
        tables = _page(client, f"/stages/{stage.id}").xpath(f"//table[@id='{table_id}']")
        if tables:
            assert "table-sticky-head" in tables[0].get("class").split(), stage.code
            seen.add(stage.code)
    assert seen == {"GOAL", "IND", "METH"}


def test_a_school_sees_first_the_recommendations_waiting_for_it(demo, client):
    """Forty recommendations of a school came by date only: the few waiting for the director («направлена, ожидает
    ознакомления», «исполняется», «отчёт возвращён») stood among reports the official was checking and accepted
    ones, on the second and third screen. What the school owes comes first now, then the reports under review, then
    the accepted; a line above the table counts them."""
    from app.followup.models import RecommendationItem
    from app.orgs.models import Organisation
    from workflows.recommendation_item import OWED_STATES

    school = demo.scalars(select(Organisation).where(Organisation.code == "MUN01-S01")).one()
    items = demo.scalars(select(RecommendationItem).where(RecommendationItem.organisation_id == school.id,
                                                          RecommendationItem.state != "draft")).all()
    assert {i.state for i in items} & set(OWED_STATES) and {i.state for i in items} - set(OWED_STATES)
    earliest = min(i.due_date for i in items)
    for item in items:  # the checked and accepted ones fall due first: a date order puts them on top
        if item.state not in OWED_STATES:
            item.due_date = earliest - timedelta(days=30)
    demo.flush()
    _login(client, "director")
    page = _page(client, "/followup/my")
    rows = page.xpath("//table[@id='my-items']/tbody/tr")
    states = {str(i.id): i.state for i in items}
    order = [states[r.get("data-item")] for r in rows]
    owed = [s in OWED_STATES for s in order]
    assert owed == sorted(owed, reverse=True), order
    assert order.index("reported") < order.index("accepted")
    summary = _text(page.xpath("//p[@id='items-summary']")[0])
    assert f"ждут действий организации: {sum(owed)}" in summary
    assert "отчёт на проверке: 1" in summary


def test_a_long_name_cut_in_the_navigation_bar_is_whole_in_its_menu(demo, client):
    """A name of 120 characters («Смирнов Андрей Владимирович Константинопольская-Преображенская-…») came out as
    «Смирнов Андрей Владимирович Конс…» on the navigation bar's button, and nowhere whole: the menu under it listed
    the roles only. The menu starts with the whole name now."""
    from app.auth.models import User

    user = demo.scalars(select(User).where(User.login == "director")).one()
    user.full_name = user.full_name + " Константинопольская-Преображенская-Рождественская-Воздвиженская-Благовещенская"
    demo.flush()
    _login(client, "director")
    page = _page(client, "/")
    assert "navbar-user" in page.xpath("//button[@id='user-menu-toggle']")[0].get("class")
    (name,) = page.xpath("//ul[@aria-labelledby='user-menu-toggle']//*[@id='user-full-name']")
    assert _text(name) == user.full_name


def test_the_administrator_finds_a_user_among_two_hundred(demo, client):
    """With two hundred directors «Пользователи» was one table of 221 rows (12,800 px at 1366×768) with nothing to
    search by: the administrator scrolled. A search by a part of the name or the login narrows it, with the count;
    the headings of the users' and the organisations' lists stay in sight."""
    from app.auth.services import create_user
    from app.orgs.models import Organisation
    from app.orgs.services import create_organisation

    municipality = demo.scalars(select(Organisation).where(Organisation.code == "MUN02")).one()
    for i in range(200):
        school = create_organisation(code=f"MUN02-X{i:03d}", kind="school", parent=municipality,
                                     name=f"МБОУ «Средняя общеобразовательная школа № {i + 20}»",
                                     short_name=f"СОШ № {i + 20}")
        create_user(login=f"dir{i:03d}", full_name=f"Директоров{i:03d} Иван Петрович", password="uko-demo-2026",
                    roles=[("director", school)], password_policy=False)
    demo.flush()
    _login(client, "admin")
    everyone = _page(client, "/admin/users")
    assert len(everyone.xpath("//table[@id='users']/tbody/tr")) > 200
    assert "table-sticky-head" in everyone.xpath("//table[@id='users']")[0].get("class").split()
    assert everyone.xpath("//form[@id='user-search']//input[@name='q']")
    found = _page(client, "/admin/users?q=Директоров017")
    assert [_text(td) for td in found.xpath("//table[@id='users']/tbody/tr/td[2]")] == ["dir017"]
    assert _text(found.xpath("//*[@id='user-count']")[0]) == "Найдено: 1 пользователь"
    assert found.xpath("//input[@name='q']/@value") == ["Директоров017"]
    by_login = _page(client, "/admin/users?q=dir1")
    assert len(by_login.xpath("//table[@id='users']/tbody/tr")) == 100
    nobody = _page(client, "/admin/users?q=100%25_")  # LIKE's wildcards are letters here
    assert "Никого не нашлось" in _text(nobody.xpath("//table[@id='users']/tbody")[0])
    (orgs,) = _page(client, "/orgs/").xpath("//table[@id='organisations']")
    assert len(orgs.xpath("./tbody/tr")) > 200 and "table-sticky-head" in orgs.get("class").split()


def test_the_situation_centre_folds_the_organisations_without_cycles(demo, client):
    """«Циклы управления» of a municipality with two hundred schools ran 209 rows, 208 of them «нет открытых
    циклов»: the municipality's own cycle was the first row, the schools' few further down were lost. The cycles
    come first, the organisations without one are counted in a closing line that opens to their names."""
    from app.orgs.models import Organisation
    from app.orgs.services import create_organisation

    municipality = demo.scalars(select(Organisation).where(Organisation.code == "MUN02")).one()
    for i in range(60):
        create_organisation(code=f"MUN02-X{i:03d}", kind="school", parent=municipality,
                            name=f"МБОУ «Средняя общеобразовательная школа № {i + 20}»", short_name=f"СОШ № {i + 20}")
    demo.flush()
    _login(client, "official2")
    page = _page(client, f"/situation/orgs/{municipality.id}")
    (section,) = page.xpath("//section[@aria-labelledby='cycles-title']")
    rows = section.xpath(".//tbody/tr")
    assert not [r for r in rows if "нет открытых циклов" in _text(r)]
    assert section.xpath(".//tbody/tr/td/a[starts-with(@href, '/cycles/')]")
    (idle,) = section.xpath(".//tr[@id='idle-organisations']")
    assert rows[-1] is idle and len(rows) < 20
    summary = _text(idle.xpath(".//summary")[0])
    assert summary.startswith("Без открытых циклов: ") and int(summary.split(": ")[1].split()[0]) >= 60
    assert "СОШ № 79" in _text(idle)


def test_the_effectiveness_tables_keep_their_headings_in_sight(demo, client):
    """«Показатели: до и после мер» with indicators named at length ran 11,000 px: «Базовое», «После мер», «Цель
    достигнута» scrolled away with the first row. The indicators' and the measures' tables keep their headings."""
    from app.cycles.models import Stage

    stage = demo.scalars(select(Stage).where(Stage.code == "EFF", Stage.state == "approved")
                         .order_by(Stage.id)).first()
    _login(client, "official")
    page = _page(client, f"/effectiveness/cycles/{stage.cycle_id}")
    for table_id in ("indicator-rows", "measure-assessments"):
        (table,) = page.xpath(f"//table[@id='{table_id}']")
        assert "table-sticky-head" in table.get("class").split(), table_id
        assert not table.xpath("ancestor::div[contains(@class, 'table-responsive')]"), table_id

"""Screens, fifth review: one way back on every page (the shared breadcrumb, its last step the page itself), and
what a user meets on error and empty pages."""

import io
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
    # a document of the official's own (the demo's first ones are the region's R1.1, not hers to open)
    doc = next(d for d in demo.scalars(select(Document).where(Document.stage_id.is_not(None)).order_by(Document.id))
               if d.organisation.code == "MUN01")
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


# --- error pages: in Russian, in the reader's layout, with a way on -------------------------------------------------

def _error_page(response, status):
    import lxml.html

    assert response.status_code == status
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    assert doc.get("lang") == "ru"
    return doc, [(_text(a), a.get("href")) for a in doc.xpath("//main//a[contains(@class, 'btn')]")]


def test_a_public_visitor_is_led_back_to_the_public_pages(client):
    """A mistyped public address showed the staff layout and «На главную», which led to the log-in form."""
    doc, ways = _error_page(client.get("/public/orgs/NO-SUCH-ORG"), 404)
    assert ways == [("К открытым данным", "/public/")]
    assert "Вход для сотрудников" in _text(doc)  # the public header, not the staff navigation
    assert _text(doc.get_element_by_id("error-advice")).startswith("Проверьте адрес")


def test_an_anonymous_reader_is_offered_the_log_in_form_by_its_name(client):
    _doc, ways = _error_page(client.get("/no-such-page"), 404)
    assert ways == [("Войти в систему", "/login")]


def test_a_refusal_says_what_the_reader_can_do(demo, client):
    _login(client, "teacher")
    doc, ways = _error_page(client.get("/admin/users"), 403)
    assert ways == [("На главную", "/")]
    assert "обратитесь к администратору" in _text(doc.get_element_by_id("error-advice"))


def test_a_too_large_upload_says_what_to_do(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    # A file: a form without one past its own limit is told «Форма слишком велика» (test_attack13_oversized_fields)
    upload = {"login": "x", "file": (io.BytesIO(b"x" * 4096), "scan.pdf")}
    doc, _ways = _error_page(client.post("/login", data=upload, content_type="multipart/form-data"), 413)
    assert "Файл слишком большой." in _text(doc)
    assert "загрузите файл меньшего размера" in _text(doc.get_element_by_id("error-advice"))


# --- empty lists say what to do next --------------------------------------------------------------------------------

def _newcomer(demo, role, kind="school"):
    """A user of a new organisation under ГО Северный: no cycles, tasks, recommendations or imports of its own."""
    from tests.conftest import org_factory, user_factory

    org = org_factory(kind, parent=_school(demo).parent if kind == "school" else _school(demo).parent.parent)
    user = user_factory(role, org, login=f"newcomer-{role}")
    demo.commit()
    return user


def test_an_empty_cycles_list_says_who_opens_cycles_or_how(demo, client):
    from tests.conftest import PASSWORD

    director = _newcomer(demo, "director")
    client.post("/login", data={"login": director.login, "password": PASSWORD})
    empty = _text(_page(client, "/cycles").get_element_by_id("cycles-empty"))
    assert empty.startswith("Циклов пока нет. Откройте первый кнопкой «Открыть цикл»"), empty
    assert _page(client, "/").xpath("//*[@id='dashboard-cycles-empty']/a/@href") == ["/cycles/new"]
    items = _text(_page(client, "/followup/my").get_element_by_id("items-empty"))
    assert "ознакомиться и отчитаться" in items
    # a filter that finds nothing offers to drop it
    doc = _page(client, "/cycles?state=closed")
    assert doc.xpath("//*[@id='cycles-empty']/a/@href") == ["/cycles"]


def test_a_reader_who_opens_no_cycles_is_told_who_does(demo, client):
    _login(client, "auditor")
    empty = _text(_page(client, "/cycles?mechanism=NONE").get_element_by_id("cycles-empty"))
    assert empty.startswith("Циклов с такими условиями нет")
    from tests.conftest import PASSWORD

    teacher = _newcomer(demo, "staff")
    client.post("/logout")
    client.post("/login", data={"login": teacher.login, "password": PASSWORD})
    empty = _text(_page(client, "/cycles").get_element_by_id("cycles-empty"))
    assert empty.startswith("Циклов в вашей зоне ответственности пока нет. Их открывают"), empty


def test_an_empty_import_list_names_the_button_to_press(demo, client):
    from tests.conftest import PASSWORD

    official = _newcomer(demo, "official", kind="municipality")
    client.post("/login", data={"login": official.login, "password": PASSWORD})
    assert "Загрузите файл кнопкой «Загрузить результаты»" in _text(_page(client, "/imports/").get_element_by_id(
        "imports-empty"))


# --- the home page counts what waits ----------------------------------------------------------------------------------

def test_the_home_page_says_how_many_tasks_wait_and_how_many_are_late(demo, client, app):
    """The home page showed the first ten tasks and no count: seventeen waiting read like ten."""
    from app.auth.models import User
    from app.core.russian import plural
    from app.core.timeutil import today_in
    from app.tasks.services import inbox_query

    official = demo.scalars(select(User).where(User.login == "official")).one()
    org = official.home_organisation
    while org is not None and not org.timezone:
        org = org.parent
    today = today_in(org.timezone if org is not None else app.config["APP_TIMEZONE"])
    tasks = demo.scalars(inbox_query(official, today=today)).all()
    late = sum(1 for t in tasks if t.due_date and t.due_date < today)
    assert len(tasks) > 10 and late, "the demo gives the official more than a page of tasks, some overdue"
    _login(client, "official")
    count = _text(_page(client, "/").get_element_by_id("task-count"))
    assert count == f"{plural(len(tasks), 'задача')}, просроченных: {late}; показаны 10 с ближайшим сроком"
    client.post("/logout")
    _login(client, "teacher")
    assert _text(_page(client, "/").get_element_by_id("task-count")) == "1 задача"


def test_a_closed_cycles_document_shows_no_empty_action_box(demo, client):
    """Its editor saw an empty bordered box under the title: the card of actions stood for «may edit» while the
    cycle was closed and nothing was left to do."""
    from app.cycles.models import Cycle
    from app.documents.models import Document

    doc = demo.scalars(select(Document).join(Cycle, Document.cycle_id == Cycle.id)
                       .where(Cycle.state == "closed", Document.state == "published").order_by(Document.id)).first()
    _login(client, "head")
    page = _page(client, f"/documents/{doc.id}")
    assert [_text(c) for c in page.xpath("//main//div[contains(@class, 'card-body')]") if not _text(c)] == []


def test_a_redirect_says_in_russian_where_the_page_is(client):
    """Werkzeug's «Redirecting... You should be redirected automatically» stood under every redirect: the router's
    added slash, the log-in redirect, a view's own."""
    for url in ("/situation", "/cycles", "/situation/"):
        response = client.get(url)
        assert 300 <= response.status_code < 400, url
        body = response.get_data(as_text=True)
        assert "Redirecting" not in body and "redirected" not in body, url
        assert 'lang="ru"' in body and "Страница находится по другому адресу" in body, url
        assert f'href="{response.location}"' in body.replace("&amp;", "&"), url

"""Walk 13 (error and edge pages, and the empty pages of a new installation, as each role at 1366 px): what the pages
found wanting.

A form refused after its session had expired (401), with a stale token (400) or a file too large, left the reader
with «На главную» or a bare «Войти в систему» that led to the home page — the page they were filling in was lost; now
the way back is the page the form was sent from (after the log-in, for the 401). A new official's «Сбор сведений»
said «Запросов сведений нет.» and nothing more; an expert not yet assigned got the organisation list's header over
nothing; «Кампаний, доступных вам, нет.» did not say who opens one."""

from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest

from tests.conftest import PASSWORD
from tests.security.test_session_timeouts import clock, sign_in  # noqa: F401 (the fixture)


def _doc(response, status: int):
    assert response.status_code == status, response.status_code
    return lxml.html.fromstring(response.get_data(as_text=True))


def _words(node) -> str:
    return " ".join(node.text_content().split())


def _ways(doc) -> list[tuple[str, str]]:
    return [(_words(a), a.get("href")) for a in doc.xpath("//main//a[contains(@class, 'btn')]")]


# --- error pages: the way back to the refused form -----------------------------------------------------------------

def test_a_form_sent_after_the_session_expired_leads_back_to_its_page_after_the_log_in(app, world, db_session,
                                                                                       clock):  # noqa: F811
    client = sign_in(app, world["official"])
    clock.advance(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    sent = client.post("/password", data={"current": "x"}, headers={"Referer": "http://localhost/password"})
    doc = _doc(sent, 401)
    assert "Сеанс завершён из-за отсутствия активности" in _words(doc)
    assert _words(doc.get_element_by_id("error-advice")).startswith("Войдите в систему и повторите действие")
    ((label, href),) = _ways(doc)
    assert label == "Войти в систему"
    assert urlsplit(href).path == "/login" and parse_qs(urlsplit(href).query) == {"next": ["/password"]}
    back = client.post(href, data={"login": world["official"].login, "password": PASSWORD})
    assert back.status_code == 302 and back.headers["Location"] == "/password"


def test_a_stale_form_token_offers_the_page_the_form_came_from(app, client, login, world, monkeypatch):
    login(world["official"])
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    doc = _doc(client.post("/password", data={"current": "x"}, headers={"Referer": "http://localhost/password"}), 400)
    assert "Форма устарела" in _words(doc)
    assert _ways(doc) == [("Вернуться на страницу", "/password"), ("На главную", "/")]
    # another site's page is no way back
    doc = _doc(client.post("/password", data={"current": "x"}, headers={"Referer": "https://evil.example/password"}),
               400)
    assert _ways(doc) == [("На главную", "/")]


# --- empty pages: what is empty and what to do next ----------------------------------------------------------------

@pytest.mark.parametrize("who, says, link", [
    ("official", "Запрос сведений направляют из цикла: на этапе «Мониторинг показателей»", "/cycles"),
    ("staff_a", "Здесь появятся запросы органа управления образованием к вашей организации", None),
    ("auditor", "Здесь появятся запросы сведений циклов в вашей зоне ответственности", None),
], ids=["official", "staff", "auditor"])
def test_an_empty_data_collection_page_says_where_requests_come_from(client, login, world, who, says, link):
    login(world[who])
    empty = _doc(client.get("/monitoring/"), 200).get_element_by_id("requests-empty")
    assert _words(empty).startswith("Запросов сведений нет.") and says in _words(empty)
    assert [a.get("href") for a in empty.xpath(".//a")] == ([link] if link else [])


def test_an_expert_not_yet_assigned_is_told_why_no_organisation_is_listed(client, login, world):
    login(world["expert"])
    doc = _doc(client.get("/orgs/"), 200)
    (row,) = doc.xpath("//table[@id='organisations']/tbody/tr")
    assert _words(row).startswith("Организаций, доступных вам, нет.") and "назначение экспертом" in _words(row)
    assert row.xpath("./td")[0].get("colspan") == "4"


@pytest.mark.parametrize("who, says", [
    ("region_official", "Откройте первую кнопкой «Новая кампания»"),
    ("expert", "назначит вас экспертом по муниципалитету"),
    ("official", "Кампании оценки открывает региональный орган управления образованием"),
], ids=["region_official", "expert", "official"])
def test_an_empty_campaign_list_says_who_opens_a_campaign(client, login, world, make_user, db_session, who, says):
    if who == "region_official":
        world[who] = make_user("official", world["region"], login="walk13_region")
        db_session.commit()
    login(world[who])
    empty = _doc(client.get("/assessment/"), 200).get_element_by_id("campaigns-empty")
    assert _words(empty).startswith("Кампаний, доступных вам, нет.") and says in _words(empty)

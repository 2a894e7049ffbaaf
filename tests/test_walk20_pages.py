# ruff: noqa: F811
"""Walk 20 (the region's people — minister, region official and head, РЦОКО — through the situational centre, the
roll-up and the analysis tabs at 1366 px): what they stumbled on.

The roll-up marked a municipality that had not answered «не ответил» in Bootstrap's red on the row's yellow: 3,9:1,
under the 4.5:1 axe asks of small text. A region's cycle «Показатели» tab said «Принятых значений показателей пока нет
(или анализ ещё не выполнялся)» — what to do, and where the municipalities' answers were (the roll-up beside it showed
them), it did not say. And the roll-up of R1.1 (ВПР, ОГЭ) expected an answer of the ДДТ — «не ответил», «по данным
3 из 12 ОО» — which takes no ВПР and which the cycle's data request never asks (Mechanism.audience: the schools)."""

import lxml.html

from app.analysis.report import SIGN_TITLES
from tests.test_analysis_views import _clear, _fake_run
from tests.test_imports import import_results, run_file, uploads  # noqa: F401  (the fixtures)
from tests.test_situation import loaded  # noqa: F401  (the fixture)
from tests.test_vertical import region_people, regional, rolled  # noqa: F401  (the fixtures)


def _doc(response):
    assert response.status_code == 200
    return lxml.html.fromstring(response.get_data(as_text=True))


def test_a_municipality_that_did_not_answer_is_marked_in_a_red_readable_on_its_yellow_row(world, rolled, client,
                                                                                          login):
    login(rolled["r_official"])
    doc = _doc(client.get(f"/cycles/{rolled['cycle'].id}/rollup"))
    rows = doc.xpath("//tr[@data-organisation='MUN3']")
    assert rows and all("table-warning" in r.get("class") for r in rows)
    for row in rows:
        mark = row.xpath(".//span[normalize-space()='не ответил']")
        assert mark, lxml.html.tostring(row, encoding="unicode")
        # text-danger (#dc3545) on table-warning (#fff3cd) is 3,9:1; the emphasis shade is well above 4,5:1
        assert mark[0].get("class") == "text-danger-emphasis"


def test_an_empty_indicators_tab_says_when_it_fills_and_points_to_the_municipalities_answers(world, rolled, client,
                                                                                             login):
    cycle = rolled["cycle"]
    login(rolled["r_official"])
    doc = _doc(client.get(f"/analysis/cycles/{cycle.id}/dashboard"))
    empty = doc.get_element_by_id("dashboard-empty")
    said = " ".join(empty.text_content().split())
    assert "или анализ ещё не выполнялся" not in said
    assert said.startswith("Принятых значений показателей пока нет: таблица строится после анализа"), said
    assert "после импорта значений показателей" in said
    assert "Ответы нижестоящих организаций по обязательным показателям — в своде показателей." in said, said
    links = {a.text_content(): a.get("href") for a in empty.xpath(".//a")}
    assert links["своде показателей"] == f"/cycles/{cycle.id}/rollup"
    assert client.get(links["своде показателей"]).status_code == 200


def test_an_auditor_is_told_who_runs_the_analysis_and_offered_no_button(world, rolled, client, login, make_user,
                                                                        db_session):
    auditor = make_user("auditor", world["region"], login="r_auditor")
    db_session.commit()
    login(auditor)
    doc = _doc(client.get(f"/analysis/cycles/{rolled['cycle'].id}/dashboard"))
    said = " ".join(doc.get_element_by_id("dashboard-empty").text_content().split())
    assert "после анализа, который запускают ответственные за цикл, и после импорта" in said, said
    assert "запустить анализ" not in said


def test_a_school_mechanisms_rollup_does_not_expect_the_institution_of_additional_education(world, rolled, make_org,
                                                                                              client, login,
                                                                                              db_session):
    make_org("additional", parent=world["mun"], code="DDT-1", name="Дом детского творчества")
    db_session.commit()
    login(rolled["r_official"])
    region = _doc(client.get(f"/cycles/{rolled['cycle'].id}/rollup"))
    [mun_row] = region.xpath("//section[@data-indicator='R-01']//tr[@data-organisation='MUN']")
    assert "по данным 2 из 2 ОО" in " ".join(mun_row.text_content().split())
    drill = _doc(client.get(f"/cycles/{rolled['cycle'].id}/rollup?unit={world['mun'].id}"))
    assert not drill.xpath("//tr[@data-organisation='DDT-1']")
    assert "Дом детского творчества" not in drill.text_content()


def test_a_municipality_without_results_says_in_russian_what_brings_them_and_where(world, region_people, make_org,
                                                                                  client, login, db_session):
    lake = make_org("municipality", parent=world["region"], code="MUN-L", name="Озёрный МР")
    db_session.commit()
    login(region_people["r_official"])
    doc = _doc(client.get(f"/situation/orgs/{lake.id}"))
    said = " ".join(doc.get_element_by_id("no-results").text_content().split())
    assert said == ("Результатов оценочных процедур по организациям муниципалитета «Озёрный МР» пока нет: они появятся "
                    "после импорта результатов ВПР, ОГЭ, ЕГЭ (меню «Данные» → «Импорт данных»)."), said
    menu = " ".join(doc.xpath("//nav")[0].text_content().split())
    assert "Данные" in menu and "Импорт данных" in menu


def test_the_objectivity_history_says_what_its_codes_are_and_that_a_sign_is_not_the_verdict(
        world, anl_cycle, more_schools, db_session, client, login):
    # a stably objective school with one threshold sign of 2026: «K1» under 2026 and the school in the stable list
    _clear(_fake_run(anl_cycle, more_schools[:1], db_session), more_schools[0], db_session)
    login(world["official"])
    doc = _doc(client.get(f"/analysis/cycles/{anl_cycle.id}/objectivity"))
    [cell] = doc.xpath("//table[@id='history']/tbody/tr[1]/td[last()]")
    [code] = cell.xpath("abbr")
    assert (code.text, code.get("title")) == ("K1", SIGN_TITLES["K1"])
    note = " ".join(doc.get_element_by_id("history-note").text_content().split())
    assert note.startswith("Сработавший признак — сигнал по одной работе, а не вердикт"), note
    assert "K1 — высокие результаты, не подтверждённые профилем и экзаменами;" in note
    assert note.endswith("K5 — результаты не подтверждены в следующем году."), note


def test_every_crumb_of_a_works_page_leads_straight_to_a_page(loaded, client, login):
    login(loaded["auditor"])
    school = loaded["school_a"]
    doc = _doc(client.get(f"/situation/schools/{school.id}/work?year=2025&procedure=ВПР&subject=Математика&grade=5"))
    crumbs = doc.xpath("//ol[contains(@class, 'breadcrumb')]//a")
    assert crumbs[-1].text_content() == school.display_name
    assert crumbs[-1].get("href").startswith(f"/situation/schools/{school.id}?year=2025&procedure=")
    for crumb in crumbs[1:]:  # the first, «Ситуационный центр», opens the user's top organisation by design
        assert client.get(crumb.get("href")).status_code == 200, crumb.get("href")


def test_an_institution_outside_the_audience_that_answered_keeps_its_row(world, rolled, make_org, client, login,
                                                                         db_session):
    """The audience decides who is expected, not whose answers count: a ДДТ asked one by one (a data request may name
    any institution) and answering keeps its row and its value in the roll-up (review of walk 20)."""
    from tests.test_vertical import _value

    ddt = make_org("additional", parent=world["mun"], code="DDT-1", name="Дом детского творчества", students=100)
    _value({i.code: i for i in rolled["municipal"].indicators}["R-01"], ddt, 75)
    db_session.commit()
    login(rolled["r_official"])
    drill = _doc(client.get(f"/cycles/{rolled['cycle'].id}/rollup?unit={world['mun'].id}"))
    [row] = drill.xpath("//section[@data-indicator='R-01']//tr[@data-organisation='DDT-1']")
    assert "75" in row.text_content()

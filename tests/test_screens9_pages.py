"""Screens, ninth walk (regional experts, the region's head and minister, auditors, the administrator and the public
pages at 1366 px): numbers that stood left in the analysis tables, the 08-70 sheet's refusals and totals, codes no
reader has seen in an export."""

import io
import re

from sqlalchemy import select

from tests.test_screens3_pages import _login, _page, _text

NUMBER = re.compile(r"[−+-]?\d[\d\s\u00a0]*(,\d+)?\s*%?")
LABELS = {"Год", "Класс", "Кластер", "№"}  # numbers that name something (a year, a grade): they stand as text


def _numbers_stand_right(table) -> list[str]:
    """The headings of the columns whose every filled cell is a number, where the heading or a cell is not set right
    (a number column reads down its last digits only when they stand one under another, with their heading)."""
    heads = table.xpath("./thead/tr[last()]/th")
    rows = [r.xpath("./th|./td") for r in table.xpath("./tbody/tr")]
    rows = [r for r in rows if len(r) == len(heads)]
    wrong = []
    for n, th in enumerate(heads):
        cells = [r[n] for r in rows if _text(r[n]) not in ("", "—")]
        if _text(th) in LABELS or not cells or not all(NUMBER.fullmatch(_text(c)) for c in cells):
            continue
        if "text-end" not in th.get("class", "") or not all("text-end" in c.get("class", "") for c in cells):
            wrong.append(_text(th))
    return wrong


def _analysed_cycle(demo):
    from app.cycles.models import Cycle

    return next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id))
                if c.track.mechanism.code == "M2.1" and c.owner.code == "MUN01")


def test_the_analysis_tables_set_their_numbers_right(demo, client):
    """The minister drilling down from the situational centre read «3,90», «−0,16», «−2,00» flush left under
    «Индекс» (ШНОР и ШНСУ), «0,58» under «Статистика» and «Порог» (объективность), «70,81», «−0,09» under
    «Результат» and «z» (кластеры): the minus signs broke the column. The index's schools are links now, as the
    schools above them are."""
    cycle = _analysed_cycle(demo)
    _login(client, "minister")
    checked = 0
    for path, ids in ((f"/analysis/cycles/{cycle.id}/low-results", ("shnsu", "low-index")),
                      (f"/analysis/cycles/{cycle.id}/objectivity", ("markers", "shares")),
                      (f"/analysis/cycles/{cycle.id}/clusters", ("positions",))):
        page = _page(client, path)
        for table_id in ids:
            (table,) = page.xpath(f"//table[@id='{table_id}']")
            assert table.xpath("./tbody/tr/td"), (path, table_id)
            assert _numbers_stand_right(table) == [], (path, table_id)
            checked += 1
        if path.endswith("low-results"):
            (index,) = page.xpath("//table[@id='low-index']")
            named = [r.xpath("./td")[0] for r in index.xpath("./tbody/tr")]
            assert named and all(td.xpath("./a[starts-with(@href, '/analysis/schools/')]") for td in named)
    assert checked == 5


def test_an_empty_sheet_sent_for_approval_is_refused_in_one_message(demo, client):
    """«Направить на утверждение» on an empty 08-70 sheet put one red box per criterion — sixteen of them — above the
    sheet, pushing it off the screen; one message names the criteria now, with a 4xx and nothing changed."""
    from app.assessment.models import Assignment

    assignment = demo.scalars(select(Assignment).where(Assignment.state == "draft",
                                                       Assignment.mechanism_code == "M1.2")
                              .order_by(Assignment.id)).first()
    login = assignment.expert_user.login
    _login(client, login)
    page = _page(client, f"/assessment/evaluations/{assignment.id}")
    (version,) = page.xpath("//form[@id='evaluation-actions']//input[@name='version']/@value")
    (token,) = page.xpath("//form[@id='evaluation-actions']//input[@name='csrf_token']/@value") or [""]
    response = client.post(f"/assessment/evaluations/{assignment.id}/transition",
                           data={"trigger": "submit", "version": version, "csrf_token": token})
    assert 400 <= response.status_code < 500
    import lxml.html

    alerts = [_text(a) for a in lxml.html.fromstring(response.get_data(as_text=True)).xpath(
        "//div[contains(@class, 'alert-danger')]")]
    missing = [a for a in alerts if "балл" in a and "критери" in a]
    assert len(missing) == 1, alerts
    assert "Не выставлены баллы по критериям: 1.1, 1.2, 1.3, 2.1" in missing[0]
    demo.refresh(assignment)
    assert assignment.state == "draft"


def test_the_comment_rule_names_every_uncommented_criterion_once():
    from types import SimpleNamespace

    from workflows.expert_evaluation import comments_where_different
    from workflows.self_assessment import all_scored

    obj = SimpleNamespace()
    assert all_scored(obj, {"unscored": ["1.1"]}) == ["Не выставлен балл по критерию 1.1."]
    assert all_scored(obj, {"unscored": []}) == []
    assert comments_where_different(obj, {"uncommented": ["1.2", "3.1"]}) == [
        "Критерии 1.2, 3.1: балл эксперта отличается от самооценки — нужен комментарий к каждому."]


def test_the_evaluation_says_its_totals_and_the_way_to_the_decision_above_the_sheet(demo, client):
    """The sheet runs four screens: the head found «Итого» and «Утвердить оценку» / «Вернуть эксперту» only after the
    last criterion. The totals and a link to the decision now stand above the sheet."""
    from app.assessment.models import Assignment

    returned = demo.scalars(select(Assignment).where(Assignment.state == "returned").order_by(Assignment.id)).first()
    _login(client, returned.expert_user.login)
    page = _page(client, f"/assessment/evaluations/{returned.id}")
    (summary,) = page.xpath("//p[@id='evaluation-summary']")
    assert _text(summary).startswith("Итого из ")
    (link,) = summary.xpath(".//a[@href='#evaluation-actions']")
    assert "Направить повторно" in _text(link)
    assert page.xpath("//form[@id='evaluation-actions']")
    everything = list(page.iter())
    assert everything.index(summary) < everything.index(page.xpath("//table[@id='sheet']")[0])


def test_the_scores_workbook_names_blocks_and_criteria_as_the_sheet_does(demo, client):
    """«Оценка механизмов — ….xlsx» listed «GOAL» under «Блок» and «GOAL.1» under «Критерий»: codes of the data
    that no page shows (the sheet says «1. Цели» and «1.1»)."""
    from openpyxl import load_workbook

    from app.assessment.models import Campaign

    campaign = demo.scalars(select(Campaign).order_by(Campaign.id)).first()
    _login(client, "region_official")
    response = client.get(f"/assessment/campaigns/{campaign.id}/picture.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data))["Баллы"].iter_rows(min_row=3, values_only=True))
    assert rows
    assert {r[3] for r in rows if r[4] == "1.1"} == {"1. Цели"}
    assert all(re.fullmatch(r"\d\.\d+", r[4]) for r in rows), {r[4] for r in rows}
    assert not [r[3] for r in rows if re.search(r"[A-Z]{3}", r[3])]


def test_the_public_pages_keep_to_a_readable_width_on_a_wide_screen(demo, client):
    """At 1920 px a school's public results table ran the full width of the screen: «Доля «4» и «5»» stood a metre of
    white away from «Математика, 4 класс». The header, the page and the footer keep to Bootstrap's widest container
    (1320 px); under it they are as wide as the screen, as before."""
    for path in ("/public/", "/public/orgs/MUN01", "/public/orgs/MUN01-S03"):
        page = _page(client, path)
        (main,) = page.xpath("//main[@id='content']")
        assert "container-xxl" in main.get("class").split(), path
        assert "container-fluid" not in page.xpath("//footer")[0].get("class"), path
        assert page.xpath("//header/div[contains(@class, 'container-xxl')]"), path


def test_a_refused_new_campaign_comes_back_with_what_was_typed(demo, client):
    """«Создать кампанию» with the end of the window before its start redirected (303) to an empty form: the title,
    the period, the dates and the mechanisms left out had to be typed again. The form now comes back filled, with
    the Russian reason and a 4xx, and no campaign is made."""
    from app.assessment.models import Campaign

    before = len(demo.scalars(select(Campaign)).all())
    _login(client, "region_official")
    form = _page(client, "/assessment/campaigns/new")
    municipalities = form.xpath("//input[@name='municipality_ids']/@value")
    response = client.post("/assessment/campaigns", data={
        "title": "Оценка механизмов весной", "period": "2026/27", "window_start": "2027-03-10",
        "window_end": "2027-03-01", "criteria_set_id": form.xpath("//select[@name='criteria_set_id']/option/@value")[0],
        "mechanisms": ["M1.1", "M2.3"], "municipality_ids": municipalities[:1]})
    assert 400 <= response.status_code < 500
    import lxml.html

    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert [_text(a) for a in page.xpath("//div[contains(@class, 'alert-danger')]")]
    assert page.xpath("//input[@name='title']/@value") == ["Оценка механизмов весной"]
    assert page.xpath("//input[@name='period']/@value") == ["2026/27"]
    assert page.xpath("//input[@name='window_end']/@value") == ["2027-03-01"]
    assert page.xpath("//input[@name='mechanisms'][@checked]/@value") == ["M1.1", "M2.3"]
    assert page.xpath("//input[@name='municipality_ids'][@checked]/@value") == municipalities[:1]
    assert len(demo.scalars(select(Campaign)).all()) == before


def test_the_counts_of_the_criteria_sets_and_the_templates_stand_right(demo, client):
    """«Критериев» 144 (the criteria sets) and «Загружено версий» 0 (the administrator's document templates) stood left
    under left headings, as text."""
    _login(client, "admin")
    for path, table_id in (("/assessment/criteria", "criteria-sets"), ("/documents/templates", "template-types")):
        (table,) = _page(client, path).xpath(f"//table[@id='{table_id}']")
        assert table.xpath("./tbody/tr/td"), path
        assert _numbers_stand_right(table) == [], path


def test_the_regions_distribution_by_mechanism_sets_its_counts_right(demo, client):
    """«Картина региона» → «Распределение по механизмам»: the counts of municipalities per level and «Средний %» stood
    left under left headings."""
    from app.assessment.models import Campaign

    campaign = demo.scalars(select(Campaign).order_by(Campaign.id)).first()
    _login(client, "region_official")
    (table,) = _page(client, f"/assessment/campaigns/{campaign.id}/picture").xpath("//table[@id='distribution']")
    heads = [_text(th) for th in table.xpath("./thead/tr/th")]
    assert "Средний %" in heads and "высокий" in heads
    assert _numbers_stand_right(table) == []
    assert "text-end" in table.xpath("./thead/tr/th")[heads.index("Мин.–макс. %")].get("class", "")


def test_a_new_edition_of_a_registered_campaign_document_is_asked_for_first(demo, client):
    """One click on «Новая редакция» beside the registered order «№ 1-од» put it back to «проект» (the table then read
    «проект № 1-од от …»), without a word. The button asks first when the document is past its draft; «Сформировать»
    of a document not yet made does not."""
    from app.assessment.models import Campaign

    campaign = demo.scalars(select(Campaign).order_by(Campaign.id)).first()
    _login(client, "region_official")
    (table,) = _page(client, f"/assessment/campaigns/{campaign.id}").xpath("//table[@id='campaign-documents-table']")
    rows = {_text(r.xpath("./td")[0]): r for r in table.xpath("./tbody/tr")}
    order = next(r for name, r in rows.items() if name.startswith("Приказ о проведении мониторинга"))
    assert "зарегистрирован" in _text(order.xpath("./td")[1])
    (button,) = order.xpath(".//button[@type='submit']")
    assert _text(button) == "Новая редакция"
    assert "вернётся в проект" in button.get("data-confirm", "")
    fresh = [b for r in rows.values() for b in r.xpath(".//button[@type='submit']") if _text(b) == "Сформировать"]
    assert fresh and all(b.get("data-confirm") is None for b in fresh)


def test_a_campaign_documents_registration_keeps_to_one_line(demo, client):
    """«№ 1-од от / 06.12.2026»: the registration broke in the «Состояние» column of «Документы кампании» at 1366 px
    (the stage pages keep theirs on one line since walk 8)."""
    from app.assessment.models import Campaign

    campaign = demo.scalars(select(Campaign).order_by(Campaign.id)).first()
    _login(client, "region_official")
    (table,) = _page(client, f"/assessment/campaigns/{campaign.id}").xpath("//table[@id='campaign-documents-table']")
    numbers = [n for n in table.xpath(".//td//*[contains(text(), '№')]") if re.search(r"№ \S+ от \d\d\.\d\d\.\d{4}",
                                                                                         _text(n))]
    assert numbers and all("text-nowrap" in n.get("class", "") for n in numbers)


def test_a_refused_expert_comes_back_with_what_was_typed(demo, client):
    """«Включить» in the register with no user chosen redirected to the register: the position, the competences, the
    date and the order typed were gone. The register now answers with its form filled, the reason and a 4xx."""
    from sqlalchemy import func

    from app.assessment.models import Expert

    before = demo.scalar(select(func.count()).select_from(Expert))
    _login(client, "region_official")
    register = _page(client, "/assessment/experts")
    workplace = register.xpath("//select[@name='organisation_id']/option/@value")[-1]
    response = client.post("/assessment/experts/add", data={
        "user_id": "", "organisation_id": workplace, "position": "методист ИМЦ", "competences": ["M1.2", "M2.1"],
        "included_on": "2026-11-02", "basis": "приказ от 02.11.2026 № 140-од"})
    assert 400 <= response.status_code < 500
    import lxml.html

    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert any("Пользователь: Обязательное поле." in _text(a) for a in page.xpath("//div[contains(@class, 'alert')]"))
    form = page.xpath("//form[@id='expert-form']")[0]
    assert form.xpath(".//select[@name='organisation_id']/option[@selected]/@value") == [workplace]
    assert form.xpath(".//input[@name='position']/@value") == ["методист ИМЦ"]
    assert form.xpath(".//input[@name='competences'][@checked]/@value") == ["M1.2", "M2.1"]
    assert form.xpath(".//input[@name='included_on']/@value") == ["2026-11-02"]
    assert form.xpath(".//input[@name='basis']/@value") == ["приказ от 02.11.2026 № 140-од"]
    assert demo.scalar(select(func.count()).select_from(Expert)) == before

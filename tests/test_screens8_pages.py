"""Screens, eighth walk (officials, heads, directors and the municipal level at 1366 px): forms that open on a choice
the service then refuses, and the pages a user reaches after an action."""

from sqlalchemy import select

from tests.test_screens3_pages import _page, _text


def test_a_new_organisation_has_no_type_until_the_administrator_picks_one(world, client, login):
    """«Тип» opened on «Регион» (its first entry) under «Тестовая область»: sent as it opened, the form came back with
    «Организация типа «Регион» не может входить в «Регион»»; it now asks for a type."""
    login(world["admin"])
    (kind,) = _page(client, "/orgs/new").xpath("//select[@name='kind']")
    chosen = kind.xpath("./option[@selected]") or kind.xpath("./option[1]")
    assert chosen[0].get("value") == "" and _text(chosen[0]) == "— выберите тип —"
    response = client.post("/orgs/new", data={"code": "SCH-N", "name": "МОУ «Новая школа»", "kind": "",
                                              "parent_id": str(world["mun"].id)})
    assert response.status_code == 422 and "Обязательное поле." in response.get_data(as_text=True)


def test_only_a_schools_form_offers_preschool_groups(world, client, login, make_org):
    """The municipality's and a kindergarten's forms offered «Есть дошкольные группы (школа …)»; ticking it was refused
    on saving («Дошкольные группы отмечаются только у школы»). A school's form and a new organisation's keep it."""
    garden = make_org("preschool", parent=world["mun"], code="DOU-1", name="МДОУ «Детский сад № 1»")
    login(world["admin"])
    forms = {"municipality": f"/orgs/{world['mun'].id}/edit", "kindergarten": f"/orgs/{garden.id}/edit",
             "school": f"/orgs/{world['school_a'].id}/edit", "new": "/orgs/new"}
    offered = {name: bool(_page(client, url).xpath("//input[@name='preschool_groups']")) for name, url in forms.items()}
    assert offered == {"municipality": False, "kindergarten": False, "school": True, "new": True}


def test_the_roadmap_chart_dates_its_axis_with_the_full_year():
    """The roadmap's chart under the table of dates «27.10.2026 – 06.11.2026» labelled its axis «03.11.26»."""
    import re
    from datetime import date
    from types import SimpleNamespace

    from app.followup.timeline import roadmap_svg

    measures = [SimpleNamespace(id=n, title=f"Мероприятие {n}", state="planned", start_date=date(2026, 10, 27 + n),
                                end_date=date(2027, 1, 10 + n)) for n in range(3)]
    ticks = re.findall(r">\s*(\d\d\.\d\d\.\d+)\s*<", roadmap_svg(measures, date(2026, 12, 6)))
    assert ticks and all(re.fullmatch(r"\d\d\.\d\d\.20\d\d", t) for t in ticks), ticks


def test_the_indicator_dashboard_sets_the_headings_of_its_numbers_over_them(demo, client):
    """«Значение» and «Изменение к базовому» stood left while their numbers stood right, a column apart on an office
    monitor (the M2.1 cycle's dashboard, where the demo's analysis filled every row)."""
    from app.cycles.models import Cycle
    from tests.test_screens3_pages import _login

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id))
                 if c.track.mechanism.code == "M2.1" and c.owner.code == "MUN01")
    _login(client, "official")
    (table,) = _page(client, f"/analysis/cycles/{cycle.id}/dashboard").xpath("//table[@id='dashboard']")
    heads = table.xpath("./thead/tr/th")
    rows = [r.xpath("./td") for r in table.xpath("./tbody/tr")]
    assert len(rows) > 3
    numeric = [th for n, th in enumerate(heads) if all("text-end" in r[n].get("class", "") for r in rows)]
    assert len(numeric) >= 3  # value, change to the previous period, change to the baseline
    assert [_text(th) for th in numeric if "text-end" not in th.get("class", "")] == []


def test_a_sent_submission_sets_its_values_right_under_a_right_heading(demo, client):
    """The director's accepted answer listed «69,8», «5», «42,2» flush left under «Значение», as if they were text;
    the numbers stand right, with their heading, as on the analysis and situation pages."""
    from app.monitoring.models import Submission
    from tests.test_screens3_pages import _login

    _login(client, "director")
    sub = next(s for s in demo.scalars(select(Submission).order_by(Submission.id))
               if s.state == "accepted" and s.organisation.code == "MUN01-S01")
    (table,) = _page(client, f"/monitoring/submissions/{sub.id}").xpath("//table[@id='values']")
    heads = [_text(th) for th in table.xpath("./thead/tr/th")]
    column = heads.index("Значение")
    assert "text-end" in table.xpath("./thead/tr/th")[column].get("class", "")
    cells = [r.xpath("./td")[column] for r in table.xpath("./tbody/tr")]
    assert len(cells) >= 3 and all("text-end" in td.get("class", "") for td in cells)


def test_the_indicators_stage_prints_its_baselines_and_targets_with_a_decimal_comma(demo, client):
    """The head reviewing «Показатели» read «54.7», «30.0» in «База» and «Цель» (the analysis pages say «54,7»), and
    «документы ОО» twice in «Источник / метод» when the method is the source."""
    import re

    from app.cycles.models import Cycle, Stage
    from tests.test_screens3_pages import _login

    _login(client, "head")
    on_review = select(Stage).join(Cycle).where(Stage.code == "IND", Stage.state == "on_review").order_by(Stage.id)
    stage = next(s for s in demo.scalars(on_review) if s.cycle.indicators)
    (table,) = _page(client, f"/stages/{stage.id}").xpath("//table[@id='indicators']")
    heads = [_text(th) for th in table.xpath("./thead/tr/th")]
    rows = [r.xpath("./td") for r in table.xpath("./tbody/tr")]
    for name in ("База", "Цель"):
        n = heads.index(name)
        values = [_text(r[n]) for r in rows]
        assert all(re.fullmatch(r"-?\d+(,\d+)?|—", v) for v in values), values
        assert all("text-end" in r[n].get("class", "") for r in rows)
    source = heads.index("Источник / метод")
    for r in rows:
        lines = [t.strip() for t in r[source].itertext() if t.strip()]
        assert len(lines) == len(set(lines)), lines


def test_the_calendar_names_a_tasks_kind_once(demo, client):
    """«Подтвердить исполнение мероприятия «Методическое сопровождение …» — М.И. Петрова · Подтвердить исполнение
    мероприятия, ГО Северный»: the kind repeated the title's first words in every entry of the official's month, in a
    seventh of the screen's width."""
    from datetime import date

    from tests.test_screens3_pages import _login

    _login(client, "official")
    entries = _page(client, f"/deadlines/?view=month&date={date.today().replace(day=1).isoformat()}").xpath(
        "//div[contains(@class, 'cal-item')]")
    tasks = [e for e in entries if e.get("data-kind") == "task"]
    assert tasks
    for entry in tasks:
        title = _text(entry.xpath("./a")[0])
        note = _text(entry.xpath("./span[@class='text-muted']")[0])
        kind = note.removeprefix("· ").rsplit(", ", 1)[0]
        assert not title.startswith(kind), (title, note)


def test_the_rec_stage_sets_its_counts_right_and_keeps_a_registration_on_one_line(demo, client):
    """Walk 8 left these: «Адресатов» (a count) stood left under a left heading, and «Рег. №» wrapped onto two lines
    over «№ 1-р от 06.12.2026» broken anyhow (the closed M2.3 cycle's recommendations stage, registered letters)."""
    from app.cycles.models import Cycle
    from tests.test_screens3_pages import _login

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id))
                 if c.track.mechanism.code == "M2.3" and c.owner.code == "MUN01" and c.stage("REC") is not None)
    _login(client, "official")
    page = _page(client, f"/stages/{cycle.stage('REC').id}")
    (recs,) = page.xpath("//table[@id='recommendations']")
    column = [_text(th) for th in recs.xpath("./thead/tr/th")].index("Адресатов")
    cells = [r.xpath("./td")[column] for r in recs.xpath("./tbody/tr")]
    assert cells and all("text-end" in c.get("class", "") for c in cells)
    assert "text-end" in recs.xpath("./thead/tr/th")[column].get("class", "")
    (docs,) = page.xpath("//table[@id='stage-documents-table']")
    column = [_text(th) for th in docs.xpath("./thead/tr/th")].index("Рег. №")
    assert "text-nowrap" in docs.xpath("./thead/tr/th")[column].get("class", "")
    registered = [r.xpath("./td")[-1] for r in docs.xpath("./tbody/tr") if _text(r.xpath("./td")[-1]).startswith("№")]
    assert registered and all("text-nowrap" in c.get("class", "") for c in registered)

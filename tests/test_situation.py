# ruff: noqa: F811
"""The situational centre (issue 15 §2): results summed per organisation from every import, drill-down region →
municipality → school → work, verdict and cycle tables, XLSX exports, scope."""

import io

import lxml.html
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.test_imports import import_results, result_row, results_csv, run_file, uploads  # noqa: F401

pytestmark = pytest.mark.usefixtures("uploads")


def _rows():
    """Two years of ВПР Математика 5: school A 2024 (2 students), 2025 (3); school B 2025 (2)."""
    rows = []
    for n, (year, school, score, mark) in enumerate([
            ("2024", "SCH-A", 4, 3), ("2024", "SCH-A", 6, 4),
            ("2025", "SCH-A", 5, 3), ("2025", "SCH-A", 7, 4), ("2025", "SCH-A", 10, 5),
            ("2025", "SCH-B", 2, 2), ("2025", "SCH-B", 8, 4)], 1):
        rows.append(result_row(n, year=year, school_code=school, task_1=str(score // 2),
                               task_2=str(score - score // 2), primary_score=str(score), mark=str(mark),
                               term_mark=str(mark)))
    return results_csv(rows)


@pytest.fixture
def loaded(import_results, world):
    run = import_results(_rows())
    assert run.status == "done", run.message
    return world


def _summary(org, year):
    from app.extensions import db
    from app.imports.models import ResultSummary

    return db.session.scalar(select(ResultSummary).where(ResultSummary.organisation_id == org.id,
                                                         ResultSummary.year == year))


def test_imports_keep_summaries_per_school_and_every_level_above(loaded):
    a, region, mun = _summary(loaded["school_a"], 2025), _summary(loaded["region"], 2025), _summary(loaded["mun"], 2025)
    assert (a.level, a.participants, a.marked, a.mark_3, a.mark_4, a.mark_5) == ("school", 3, 3, 1, 1, 1)
    assert a.percent_sum == pytest.approx(50 + 70 + 100)  # max_score 10
    assert (mun.level, mun.participants, mun.mark_2) == ("group", 5, 1)
    assert region.participants == 5 and region.percent_sum == pytest.approx(mun.percent_sum)


def test_a_reimport_with_changed_scores_updates_the_summaries_and_a_full_rebuild_agrees(loaded, import_results):
    from app.extensions import db
    from app.imports import summaries
    from app.imports.models import ResultSummary

    changed = _rows().replace(b"SCH-B,5\xd0\x90,S-0006,1,1,2,10,2", b"SCH-B,5\xd0\x90,S-0006,5,5,10,10,5")
    assert changed != _rows()
    assert import_results(changed).status == "done"
    assert _summary(loaded["mun"], 2025).mark_2 == 0 and _summary(loaded["mun"], 2025).mark_5 == 2

    def snapshot():
        return sorted((r.organisation_id, r.year, r.participants, round(r.percent_sum, 6), r.mark_2, r.mark_5)
                      for r in db.session.scalars(select(ResultSummary)))
    before = snapshot()
    summaries.refresh_all()
    assert snapshot() == before


def test_the_region_page_lists_municipalities_and_drills_down_to_a_work(loaded, client, login):
    login(loaded["auditor"])
    page = client.get("/situation/", follow_redirects=True)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Тестовая область: ситуационный центр" in text
    assert "Тестовый муниципалитет" in text and "ВПР, 2025 г." in text
    assert "64,0 %" in text  # (50 + 70 + 100 + 20 + 80) / 5
    mun = client.get(f"/situation/orgs/{loaded['mun'].id}?year=2025&procedure=ВПР").get_data(as_text=True)
    assert "Школа А" in mun and "Школа Б" in mun and "73,3 %" in mun and "50,0 %" in mun
    assert "+23,3" in mun  # school A: 73,3 against 50,0 in 2024
    school = client.get(f"/situation/schools/{loaded['school_a'].id}?year=2025&procedure=ВПР")
    body = school.get_data(as_text=True)
    assert school.status_code == 200 and "Математика, 5 класс" in body
    work = client.get(f"/situation/schools/{loaded['school_a'].id}/work?procedure=ВПР&subject=Математика&grade=5")
    body = work.get_data(as_text=True)
    assert work.status_code == 200 and "2024" in body and "2025" in body and "64,0" in body


# participants: a row without results has 0 of them, and came first ascending
@pytest.mark.parametrize("column", ["mean", "participants"])
def test_sorting_puts_the_lowest_school_first_and_rows_without_results_last(loaded, client, login, make_org, column):
    from app.extensions import db

    make_org("school", parent=loaded["mun"], code="SCH-C", name="Школа В")
    db.session.commit()
    login(loaded["official"])
    text = client.get(f"/situation/orgs/{loaded['mun'].id}?year=2025&procedure=ВПР&sort={column}&dir=asc"
                      ).get_data(as_text=True)
    body = text[text.index("results-title"):text.index("objectivity-title")]
    assert body.index("Школа Б") < body.index("Школа А") < body.index("Школа В")
    assert "нет результатов за 2025 г." in body


def test_a_school_without_results_is_exported_as_the_page_says_it_not_as_zero_participants(loaded, client, login,
                                                                                          make_org):
    from app.extensions import db

    make_org("school", parent=loaded["mun"], code="SCH-C", name="Школа В")
    db.session.commit()
    login(loaded["official"])
    sheet = load_workbook(io.BytesIO(client.get(
        f"/situation/orgs/{loaded['mun'].id}/results.xlsx?year=2025&procedure=ВПР").data)).active
    rows = {row[0]: row[2:] for row in sheet.iter_rows(min_row=3, values_only=True) if row[0]}
    assert rows["Школа В"] == ("нет результатов за 2025 г.", None, None, None, None)
    assert rows["Школа А"][0] == 3


def test_each_table_exports_to_xlsx_with_the_rows_of_the_page(loaded, client, login):
    login(loaded["official"])
    mun = loaded["mun"].id
    for table, expected in (("results", ["Итого: Тестовый муниципалитет", "Школа А", "Школа Б"]),
                            ("objectivity", ["Школа А", "Школа Б"]), ("cycles", ["Школа А", "Школа Б"])):
        response = client.get(f"/situation/orgs/{mun}/{table}.xlsx?year=2025&procedure=ВПР")
        assert response.status_code == 200, table
        sheet = load_workbook(io.BytesIO(response.data)).active
        names = [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)]
        assert names == expected, (table, names)
    results = load_workbook(io.BytesIO(client.get(f"/situation/orgs/{mun}/results.xlsx?year=2025").data)).active
    assert list(results.iter_rows(min_row=4, max_row=4, values_only=True))[0][2:5] == (3, 73.3, 0)
    works = client.get(f"/situation/schools/{loaded['school_a'].id}/works.xlsx?year=2025")
    assert works.status_code == 200
    assert list(load_workbook(io.BytesIO(works.data)).active.iter_rows(min_row=3, values_only=True))[0][:4] == (
        "ВПР", "Математика", 5, 3)


def test_cycles_table_shows_the_block_and_overdue_stages(loaded, client, login, make_cycle):
    from datetime import date, timedelta

    from app.extensions import db

    make_cycle(loaded["school_a"], loaded["director_a"], mechanism="I1.1",
               deadlines={"GOAL": date.today() - timedelta(days=3)})
    db.session.commit()
    login(loaded["official"])
    text = client.get(f"/situation/orgs/{loaded['mun'].id}").get_data(as_text=True)
    body = text[text.index("cycles-title"):]
    assert "1 просрочено" in body and "Школа Б" in body and "Без открытых циклов: 1 организация" in body


def test_cycles_of_two_tracks_of_one_mechanism_are_told_apart(loaded, client, login, make_cycle):
    # M2.4 has five tracks: its cycles were listed as five identical rows «Система мониторинга качества …».
    import lxml.html

    from app.extensions import db

    for track in ("teachers", "op-do"):
        make_cycle(loaded["mun"], loaded["official"], mechanism="M2.4", track=track)
    make_cycle(loaded["mun"], loaded["official"], mechanism="M1.1")
    db.session.commit()
    login(loaded["auditor"])
    page = lxml.html.fromstring(client.get(f"/situation/orgs/{loaded['region'].id}").data)
    shown = [" ".join(a.text_content().split()) for a in page.xpath("//section[@aria-labelledby='cycles-title']//a"
                                                                    "[contains(@href, '/cycles/')]")]
    m24 = "Система мониторинга качества дошкольного образования"
    assert sorted(shown) == sorted([
        "Система оценки качества подготовки обучающихся",  # the main track: the mechanism's own words, once
        f"{m24} — Профессиональное развитие педагогов",
        f"{m24} — Повышение качества образовательных программ дошкольного образования"]), shown
    sheet = load_workbook(io.BytesIO(client.get(f"/situation/orgs/{loaded['region'].id}/cycles.xlsx").data)).active
    assert f"{m24} — Профессиональное развитие педагогов" in [c for row in sheet.iter_rows(values_only=True)
                                                             for c in row]


def test_the_municipality_page_lists_its_own_cycles_first(loaded, client, login, make_cycle):
    # They were listed on the region's page only: the ИМЦ, whose centre opens at the municipality, never saw them.
    import lxml.html

    from app.extensions import db

    own = make_cycle(loaded["mun"], loaded["official"], mechanism="M1.1")
    make_cycle(loaded["school_a"], loaded["director_a"], mechanism="I1.1")
    db.session.commit()
    login(loaded["methodologist"])
    page = lxml.html.fromstring(client.get(f"/situation/orgs/{loaded['mun'].id}").data)
    rows = [" ".join(r.text_content().split())
            for r in page.xpath("//section[@aria-labelledby='cycles-title']//tbody/tr")]
    assert rows[0].startswith("Тестовый муниципалитет (собственные циклы) Система оценки качества подготовки"), rows
    assert page.xpath(f"//section[@aria-labelledby='cycles-title']//a[@href='/cycles/{own.id}']")
    # the organisations without a cycle close the table, counted and named in one line
    assert rows[1].startswith("Школа А Оценка качества"), rows
    assert rows[2].startswith("Без открытых циклов: 1 организация Школа Б"), rows
    sheet = load_workbook(io.BytesIO(client.get(f"/situation/orgs/{loaded['mun'].id}/cycles.xlsx").data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)] == [
        "Тестовый муниципалитет", "Школа А", "Школа Б"]


def test_schools_and_other_municipalities_cannot_see_it(loaded, client, login, make_org, make_user):
    from app.extensions import db

    other = make_org("municipality", parent=loaded["region"], code="MUN2", name="Другой муниципалитет")
    stranger = make_user("official", other, login="stranger")
    db.session.commit()
    login(loaded["director_a"])
    # a school's director sees their own school's page, not the municipality's nor another school's
    landing = client.get("/situation/", follow_redirects=True)
    assert landing.request.path == f"/situation/schools/{loaded['school_a'].id}"
    assert client.get(f"/situation/orgs/{loaded['mun'].id}").status_code == 404
    assert client.get(f"/situation/schools/{loaded['school_b'].id}").status_code == 404
    client.post("/logout")
    login(stranger)
    assert client.get(f"/situation/orgs/{loaded['mun'].id}").status_code == 404
    assert client.get(f"/situation/schools/{loaded['school_a'].id}").status_code == 404
    assert client.get(f"/situation/orgs/{loaded['mun'].id}/results.xlsx").status_code == 404
    assert client.get("/situation/", follow_redirects=True).status_code == 200  # its own municipality


def test_the_region_and_municipality_pages_take_a_constant_number_of_statements(loaded, client, login, make_org,
                                                                              make_user, make_cycle):
    from app.extensions import db

    from tests.conftest import counted_statements

    def measure(org="region"):
        url = f"/situation/orgs/{loaded[org].id}?year=2025&procedure=ВПР"
        db.session.commit()
        login(loaded["auditor"])
        with counted_statements() as statements:
            assert client.get(url).status_code == 200
        client.post("/logout")
        return len(statements)

    make_cycle(loaded["mun"], loaded["official"])
    few, municipal = measure(), measure("mun")
    for n in range(4):
        mun = make_org("municipality", parent=loaded["region"], code=f"MX{n}", name=f"Муниципалитет {n}")
        official = make_user("official", mun, login=f"official_mx{n}")
        make_cycle(mun, official, mechanism="M1.1")
        make_cycle(mun, official, mechanism="M1.2")
        # the municipality's page lists its own cycles and its schools': as many more, no more statements
        make_cycle(loaded["mun"], loaded["official"], mechanism="M1.2", period=f"203{n}/3{n + 1}")
        make_cycle(loaded["school_a"], loaded["director_a"], mechanism="I1.1", period=f"203{n}/3{n + 1}")
    assert measure() == few
    assert measure("mun") == municipal


def test_verdicts_and_low_result_lists_come_from_the_latest_analysis(world, anl_cycle, seeded_results, client, login,
                                                                    db_session):
    """The demo's synthetic results (written straight to the table) have summaries too, and a finished analysis
    of the municipality fills the objectivity table: the counts equal the run's own verdict rows."""
    from app.analysis.models import AnalysisResult, AnalysisRun

    login(world["official"])
    assert client.post(f"/analysis/cycles/{anl_cycle.id}/runs", data={}).status_code == 302
    run = db_session.scalar(select(AnalysisRun).where(AnalysisRun.cycle_id == anl_cycle.id))
    assert run.status == "done", run.message
    verdicts = db_session.scalars(select(AnalysisResult).where(AnalysisResult.run_id == run.id,
                                                               AnalysisResult.kind == "verdict")).all()
    flagged = sum(v.payload["verdict"] == "flagged" for v in verdicts)
    shnor = len(db_session.scalars(select(AnalysisResult).where(AnalysisResult.run_id == run.id,
                                                                AnalysisResult.kind == "shnor")).all())
    year = max(run.years)
    client.post("/logout")
    login(world["auditor"])
    page = client.get(f"/situation/orgs/{world['region'].id}?year={year}&procedure=ВПР").get_data(as_text=True)
    body = page[page.index("objectivity-title"):page.index("cycles-title")]
    assert f"анализ № {run.id}" in body
    cells = [c.strip() for c in body.split("<td")]
    assert any(f">{len(verdicts)}</td>" in c for c in cells), body
    assert (f">{flagged}</span>" in body) if flagged else True
    assert f">{shnor}</td>" in body
    assert "нет результатов" not in page[page.index("results-title"):page.index("objectivity-title")]
    # the municipality's page lists its schools: each row says the school's own verdict, not «1» school with one
    municipal = client.get(f"/situation/orgs/{anl_cycle.owner.id}?year={year}&procedure=ВПР").get_data(as_text=True)
    body = municipal[municipal.index("objectivity-title"):municipal.index("cycles-title")]
    said = [c.split(">", 1)[1].split("</td>", 1)[0] for c in body.split('<td colspan="3" class="school-verdict"')[1:]]
    labels = {v.payload["verdict_label"] for v in verdicts}
    assert len(said) == len({v.school_id for v in verdicts}) and all(
        any(label in cell for label in labels) for cell in said), said
    # ... under a header that says so: «Школ с вердиктом» / «Признаки … выявлены» stood over each school's verdict
    head = body[body.index("<thead>"):body.index("</thead>")]
    assert ">Вердикт</th>" in head and "Школ с вердиктом" not in head and "Наблюдение" not in head, head
    region_head = page[page.index("objectivity-title"):page.index("cycles-title")]
    assert "Школ с вердиктом" in region_head  # the region's page lists municipalities: counts of schools


def test_a_centres_analyst_opens_the_centre_at_the_organisation_it_supports(loaded, client, login, make_org,
                                                                            make_user):
    """An РЦОКО analyst's role is held at the centre, which has no schools: the centre opens at the organisation
    the centre supports (the region), with its municipalities, not at the centre's own empty page."""
    from app.extensions import db
    from app.orgs.services import add_support

    centre = make_org("assessment_centre", parent=loaded["region"], code="RCOKO", name="РЦОКО")
    analyst = make_user("analyst", centre, login="analyst")
    lonely_centre = make_org("assessment_centre", parent=loaded["region"], code="RCOKO2", name="Второй центр")
    lonely = make_user("analyst", lonely_centre, login="lonely")
    add_support(centre, loaded["region"], actor=loaded["admin"])
    db.session.commit()
    login(analyst)
    landing = client.get("/situation/", follow_redirects=True)
    assert landing.request.path == f"/situation/orgs/{loaded['region'].id}"
    assert loaded["mun"].display_name in landing.get_data(as_text=True)
    client.post("/logout")
    login(lonely)  # a centre that supports no one yet: its own page, which says there is nothing to show
    landing = client.get("/situation/", follow_redirects=True)
    assert landing.request.path == f"/situation/orgs/{lonely_centre.id}"
    assert "Подведомственных организаций с циклами управления нет." in landing.get_data(as_text=True)


def test_a_director_sees_the_verdict_without_a_link_to_the_municipalitys_analysis(world, anl_cycle, seeded_results,
                                                                                 client, login, db_session):
    """A director's school page said «анализ № N» as a link to the municipality's analysis, which answered 404 for
    her: the run is named (with whose it is), not linked; the official who may open it keeps the link."""
    from app.analysis.models import AnalysisRun

    login(world["official"])
    assert client.post(f"/analysis/cycles/{anl_cycle.id}/runs", data={}).status_code == 302
    run = db_session.scalar(select(AnalysisRun).where(AnalysisRun.cycle_id == anl_cycle.id))
    year = max(run.years)
    link = f'href="/analysis/cycles/{anl_cycle.id}"'
    assert link in client.get(f"/situation/orgs/{anl_cycle.owner.id}?year={year}&procedure=ВПР").get_data(as_text=True)
    client.post("/logout")
    login(world["director_a"])
    assert client.get(f"/analysis/cycles/{anl_cycle.id}").status_code == 404
    html = client.get(f"/situation/schools/{world['school_a'].id}?year={year}&procedure=ВПР").get_data(as_text=True)
    assert f"анализ № {run.id}" in html and link not in html
    # whose run it is, after a comma: «(2026 г., анализ № 2 (ГО Северный)):» closed two brackets at once
    assert f"анализ № {run.id}, {run.organisation.display_name}):" in html


def test_the_head_of_a_kindergarten_is_not_offered_the_centre(world, client, login, make_org, make_user, db_session):
    """The centre lists no kindergarten, so it opens nowhere for a kindergarten's head: «Ситуационный центр» stood in
    her menu and answered 404. A school's director keeps the entry (it opens at her school)."""
    kindergarten = make_org("preschool", parent=world["mun"], code="KG-7", name="Детский сад № 7")
    head = make_user("director", kindergarten, login="kg_head")
    db_session.commit()
    login(head)
    page = client.get("/tasks/").get_data(as_text=True)
    assert "Ситуационный центр" not in page
    assert client.get("/situation/").status_code == 404
    client.post("/logout")
    login(world["director_a"])
    assert 'href="/situation/">Ситуационный центр' in client.get("/tasks/").get_data(as_text=True)


def test_a_schools_verdict_links_to_its_reasons(world, anl_cycle, seeded_results, client, login, db_session):
    """The drill-down ended at the verdict's words, its reasons (works, signs, how unlikely) one page away with no
    link there but to the municipality's whole analysis (walk 9): the verdict now links to the school's analysis
    page, which the school's director may open too."""
    from app.analysis.models import AnalysisRun

    login(world["official"])
    assert client.post(f"/analysis/cycles/{anl_cycle.id}/runs", data={}).status_code == 302
    run = db_session.scalar(select(AnalysisRun).where(AnalysisRun.cycle_id == anl_cycle.id))
    school = world["school_a"]
    for user in (world["official"], world["director_a"]):
        client.post("/logout")
        login(user)
        html = client.get(f"/situation/schools/{school.id}?year={max(run.years)}&procedure=ВПР").get_data(as_text=True)
        reasons = lxml.html.fromstring(html).get_element_by_id("verdict-reasons")
        assert reasons.get("href") == f"/analysis/schools/{school.id}"
        assert client.get(reasons.get("href")).status_code == 200


# --- walk 15: what the ministry's reader trips over ---------------------------------------------------------------

def test_the_crumbs_and_the_work_lead_back_up_in_the_year_chosen(loaded, client, login):
    """Down in 2024, the crumbs back to the municipality and the region kept 2024: they opened the newest year."""
    login(loaded["official"])
    school = client.get(f"/situation/schools/{loaded['school_a'].id}?year=2024&procedure=ВПР").get_data(as_text=True)
    crumbs = lxml.html.fromstring(school).xpath("//nav[@aria-label='Уровни']//a")[1:]
    assert crumbs and all("year=2024" in a.get("href") and "procedure=" in a.get("href") for a in crumbs), [
        a.get("href") for a in crumbs]
    work_href = lxml.html.fromstring(school).xpath("//a[contains(@href, '/work?')]")[0].get("href")
    work = client.get(work_href).get_data(as_text=True)
    up = lxml.html.fromstring(work).xpath("//nav[@aria-label='Уровни']//a")[1:]
    assert len(up) == len(crumbs) + 1 and all("year=2024" in a.get("href") for a in up), [a.get("href") for a in up]
    region = client.get(f"/situation/orgs/{loaded['mun'].id}?year=2024&procedure=ВПР").get_data(as_text=True)
    assert all("year=2024" in a.get("href")
               for a in lxml.html.fromstring(region).xpath("//nav[@aria-label='Уровни']//a")[1:])


def test_the_results_export_keeps_the_order_the_table_was_sorted_in(loaded, client, login):
    login(loaded["official"])
    page = client.get(f"/situation/orgs/{loaded['mun'].id}?year=2025&procedure=ВПР&sort=mean&dir=asc")
    html = lxml.html.fromstring(page.get_data(as_text=True))
    link = html.xpath("//a[contains(@href, 'results.xlsx')]")[0].get("href")
    sheet = load_workbook(io.BytesIO(client.get(link).data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=4, values_only=True)] == ["Школа Б", "Школа А"]


def test_a_run_answers_for_its_own_year_and_a_row_without_one_is_not_exported_as_zeros(loaded, client, login):
    """A run over 2024–2026 stores its verdicts and lists for 2026: for 2025 the page mixed «вердикта нет, ШНСУ: да»
    with «анализ не проводился», and the export wrote zeros («no school in ШНОР») where nothing was analysed."""
    from types import SimpleNamespace

    from app.situation import services

    mun = loaded["mun"]
    run = SimpleNamespace(organisation=loaded["region"], years=[2024, 2025, 2026])
    assert services._covering([run], mun, 2026) is run
    assert services._covering([run], mun, 2025) is None and services._covering([run], mun, 2024) is None
    login(loaded["official"])
    sheet = load_workbook(io.BytesIO(client.get(f"/situation/orgs/{mun.id}/objectivity.xlsx?year=2025").data)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert rows and all(row[2] == "анализ за 2025 г. не проводился" and row[3:] == (None,) * 5 for row in rows), rows


def _finished_run(world, make_cycle, years, verdicts, shnor=(), shnsu=()):
    """A finished analysis of the municipality written straight to the tables: {school: verdict} for the last year."""
    from datetime import UTC, datetime

    from app.analysis.models import AnalysisResult, AnalysisRun
    from app.extensions import db

    cycle = make_cycle(world["mun"], world["official"], mechanism="M2.1")
    run = AnalysisRun(cycle_id=cycle.id, organisation_id=world["mun"].id, years=years, status="done", progress=100,
                      finished_at=datetime.now(UTC))
    db.session.add(run)
    db.session.flush()
    labels = {"flagged": "признаки необъективности выявлены", "objective": "признаки не выявлены"}
    db.session.add_all([AnalysisResult(run_id=run.id, kind="verdict", school_id=school.id, year=max(years),
                                       payload={"verdict": v, "verdict_label": labels[v]})
                        for school, v in verdicts.items()])
    db.session.add_all([AnalysisResult(run_id=run.id, kind=kind, school_id=school.id)
                        for kind, schools in (("shnor", shnor), ("shnsu", shnsu)) for school in schools])
    db.session.commit()
    return run


def test_the_objectivity_table_has_the_regions_total_and_only_the_runs_year(loaded, client, login, make_cycle):
    """The results table had «Итого», the objectivity table none (the region's count of flagged schools was the
    reader's sum); and the run over 2024–2025 answered for 2024 with «ШНОР» counts of a list made for 2025."""
    w = loaded
    _finished_run(w, make_cycle, [2024, 2025], {w["school_a"]: "flagged", w["school_b"]: "objective"},
                  shnor=[w["school_b"]], shnsu=[w["school_a"]])
    login(w["auditor"])
    page = client.get(f"/situation/orgs/{w['region'].id}?year=2025&procedure=ВПР").get_data(as_text=True)
    total = lxml.html.fromstring(page).xpath("//tr[@id='objectivity-total']/td")
    assert [td.text_content().strip() for td in total] == ["Итого: Тестовая область", "2", "1", "0", "1", "1", ""]
    sheet = load_workbook(io.BytesIO(client.get(f"/situation/orgs/{w['region'].id}/objectivity.xlsx?year=2025")
                                     .data)).active
    assert list(sheet.iter_rows(min_row=3, max_row=3, values_only=True))[0] == (
        "Итого: Тестовая область", "REG", 2, 1, 0, 1, 1, None)
    earlier = client.get(f"/situation/orgs/{w['region'].id}?year=2024&procedure=ВПР").get_data(as_text=True)
    body = earlier[earlier.index("objectivity-title"):earlier.index("cycles-title")]
    assert "анализ за 2024 г. не проводился" in body and "objectivity-total" not in body


def test_choosing_another_year_keeps_the_tables_sort(loaded, client, login):
    login(loaded["official"])
    page = client.get(f"/situation/orgs/{loaded['mun'].id}?year=2025&procedure=ВПР&sort=mean&dir=desc")
    form = lxml.html.fromstring(page.get_data(as_text=True)).xpath("//form[@id='filters-form']")[0]
    assert dict(form.form_values()) | {"year": "2024"} == {"year": "2024", "procedure": "ВПР", "subject": "",
                                                           "sort": "mean", "dir": "desc"}
    plain = client.get(f"/situation/orgs/{loaded['mun'].id}?year=2025&procedure=ВПР").get_data(as_text=True)
    assert not lxml.html.fromstring(plain).xpath("//form[@id='filters-form']//input[@type='hidden']")

"""The region picture and the factors of an assessment campaign (issue 16 items 7–8): levels and percent per
cell with the counted score (approved expert, else self-assessment), problem zones ranked, dynamics against the
previous campaign, the over-assessment flag, the XLSX of all scores, Spearman's ρ on a dataset with a known answer,
the linkage with the region's own cycle, a statement count independent of the number of municipalities, access."""

import io
import json
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from tests.access_cases.assessment import make_campaign
from tests.conftest import PASSWORD, counted_statements, fill_goal
from tests import services as svc

THRESHOLDS = {"high": 80, "medium": 50, "low": 20}


# --- pure computation over plain rows ----------------------------------------------------------------------------

def _mun(mid, name):
    return SimpleNamespace(id=mid, display_name=name, name=name, code=f"M{mid}")


def _rows(mid, mechanism, blocks_points, *, self_points=None, expert=None):
    """Criterion rows of one municipality × mechanism: blocks_points = [(block, max, self)], expert = [points]."""
    from app.assessment.picture import CriterionRow

    out = []
    for n, (block, maximum, own) in enumerate(blocks_points):
        out.append(CriterionRow(mid, mechanism, block, f"{block}.{n}", f"Критерий {n}", maximum, n, own, own,
                                expert[n] if expert is not None else None))
    return out


def _data(municipalities, mechanisms, rows, expert_states=None, campaign=None, self_states=None):
    """Every self-assessment submitted unless `self_states` says otherwise."""
    from app.assessment.picture import CampaignData

    submitted = {(r.municipality_id, r.mechanism): "submitted" for r in rows}
    return CampaignData(campaign=campaign or SimpleNamespace(title="Кампания"), municipalities=municipalities,
                        mechanisms=mechanisms, rows=rows, self_states={**submitted, **(self_states or {})},
                        expert_states=expert_states or {}, thresholds=THRESHOLDS)


def test_cells_count_the_approved_expert_score_else_the_self_assessment():
    from app.assessment.picture import compute

    a, b = _mun(1, "Альфа"), _mun(2, "Бета")
    rows = (_rows(1, "M1.1", [("GOAL", 1, 1), ("IND", 4, 4), ("MON", 5, 3)], expert=[1, 2, 1])  # self 8/10
            + _rows(1, "M1.2", [("GOAL", 1, 1), ("IND", 4, 1)], expert=[0, 0])  # self 2/5, expert not approved
            + _rows(2, "M1.1", [("GOAL", 1, 0), ("IND", 4, 0), ("MON", 5, 1)])  # self 1/10
            + _rows(2, "M1.2", [("GOAL", 1, None), ("IND", 4, 2)]))  # self incomplete: no score
    pic = compute(_data([a, b], ["M1.1", "M1.2"], rows, {(1, "M1.1"): "approved", (1, "M1.2"): "submitted"}))
    first, second = pic.rows
    c = first.cells["M1.1"]
    assert (c.source, c.points, c.max_points, c.percent, c.level) == ("expert", 4, 10, 40.0, "low")
    assert (c.self_percent, c.expert_percent) == (80.0, 40.0)
    assert "Самооценка: 80 %" in c.title and "эксперт: 40 % (утверждена)" in c.title
    c = first.cells["M1.2"]
    assert (c.source, c.percent, c.level) == ("self", 40.0, "low")  # the submitted expert score does not count
    assert "не утверждена" in c.title
    assert (second.cells["M1.1"].percent, second.cells["M1.1"].level) == (10.0, "none")
    assert (second.cells["M1.2"].source, second.cells["M1.2"].percent, second.cells["M1.2"].level) == \
        (None, None, None)
    assert first.percent == pytest.approx(100 * (4 + 2) / 15, abs=0.05) and first.level == "low"
    # a complete self-assessment still in draft does not count; one returned by the expert still does
    drafts = compute(_data([a, b], ["M1.1", "M1.2"], rows, self_states={(2, "M1.1"): "draft",
                                                                        (1, "M1.2"): "returned"}))
    cell = drafts.rows[1].cells["M1.1"]
    assert (cell.source, cell.percent, cell.self_percent) == (None, None, 10.0) and "(черновик)" in cell.title
    assert drafts.rows[0].cells["M1.2"].source == "self"
    dist = {d["mechanism"]: d for d in pic.distribution}
    assert dist["M1.1"]["counts"] == {"high": 0, "medium": 0, "low": 1, "none": 1, None: 0}
    assert dist["M1.2"]["counts"][None] == 1 and dist["M1.2"]["n"] == 1
    assert dist["M1.1"]["mean"] == 25.0


def test_problem_zones_are_the_blocks_below_the_line_lowest_first():
    from app.assessment.picture import compute, sort_rows

    a, b = _mun(1, "Альфа"), _mun(2, "Бета")
    rows = (_rows(1, "M1.1", [("GOAL", 2, 2), ("IND", 4, 1), ("MON", 2, 0), ("ANL", 2, 1), ("EFF", 2, 0)])
            + _rows(1, "M1.2", [("GOAL", 2, 0), ("IND", 4, 2), ("MON", 2, 2), ("ANL", 2, 0), ("EFF", 2, 2)])
            + _rows(2, "M1.1", [("GOAL", 2, 2), ("IND", 4, 4), ("MON", 2, 2), ("ANL", 2, 2), ("EFF", 2, 2)]))
    pic = compute(_data([a, b], ["M1.1", "M1.2"], rows))
    first = pic.rows[0]
    # across both mechanisms: GOAL 2/4, IND 3/8, MON 2/4, ANL 1/4, EFF 2/4
    assert [(z["block"], z["percent"]) for z in first.problem_zones] == [("ANL", 25.0), ("IND", 37.5)]
    assert first.profile["GOAL"]["percent"] == 50.0  # on the line: not a problem zone
    assert first.profile["DEC"]["percent"] is None  # no criterion of the block: neither zone nor zero
    assert pic.rows[1].problem_zones == []
    # over the region: ANL (1+0+2)/6 = 50 % is on the line, IND 7/12 = 58 %: no region-wide zone, while
    # one municipality is below the line in ANL and in IND
    assert pic.region_zones == []
    assert pic.region_profile["ANL"]["percent"] == 50.0 and pic.region_profile["ANL"]["below"] == 1
    assert pic.region_profile["IND"]["below"] == 1 and pic.region_profile["GOAL"]["below"] == 0
    # sorting by a mechanism: highest first when descending, unscored last either way
    assert [r.name for r in sort_rows(pic.rows, "M1.2", True)] == ["Альфа", "Бета"]
    assert [r.name for r in sort_rows(pic.rows, "M1.1", False)] == ["Альфа", "Бета"]
    assert [r.name for r in sort_rows(pic.rows, "M1.1", True)] == ["Бета", "Альфа"]
    assert [r.name for r in sort_rows(pic.rows, "name", True)] == ["Бета", "Альфа"]


def test_dynamics_against_the_previous_campaign():
    from app.assessment.picture import compute

    a, b = _mun(1, "Альфа"), _mun(2, "Бета")
    now = _rows(1, "M1.1", [("GOAL", 10, 6)]) + _rows(2, "M1.1", [("GOAL", 10, 9)])
    before = _rows(1, "M1.1", [("GOAL", 10, 2)]) + _rows(2, "M1.1", [("GOAL", 10, 9)])
    old = SimpleNamespace(title="Прошлая")
    pic = compute(_data([a, b], ["M1.1"], now), _data([a], ["M1.1"], before[:1], campaign=old))
    assert pic.previous is old
    assert [r.delta for r in pic.rows] == [40.0, None]  # Бета was not assessed before
    (d,) = pic.dynamics
    assert (d["before"], d["now"], d["delta"]) == (20.0, 75.0, 55.0)
    assert compute(_data([a], ["M1.1"], now[:1])).dynamics == []


def test_over_assessment_is_flagged_from_the_gap():
    from app.assessment.picture import OVER_ASSESSMENT_GAP, compute

    a, b, c = _mun(1, "Альфа"), _mun(2, "Бета"), _mun(3, "Гамма")
    rows = (_rows(1, "M1.1", [("GOAL", 10, 9)], expert=[5])  # +40 п. п.
            + _rows(2, "M1.1", [("GOAL", 10, 6)], expert=[6 - OVER_ASSESSMENT_GAP // 10 + 1])  # just below
            + _rows(3, "M1.1", [("GOAL", 10, 6)], expert=[2]))  # expert's draft: not compared
    states = {(1, "M1.1"): "submitted", (2, "M1.1"): "approved", (3, "M1.1"): "draft"}
    pic = compute(_data([a, b, c], ["M1.1"], rows, states))
    gaps = {r.name: r.gap for r in pic.rows}
    assert gaps["Альфа"]["gap"] == 40.0 and gaps["Альфа"]["over"] is True
    assert gaps["Бета"]["over"] is False
    assert gaps["Гамма"] == {"mechanisms": 0, "self_percent": None, "expert_percent": None, "gap": None,
                             "over": False, "unapproved": 0}
    # Альфа's expert score is submitted, not yet approved; Бета's approved (the report's note says so only then)
    assert (gaps["Альфа"]["unapproved"], gaps["Бета"]["unapproved"]) == (1, 0)
    assert [r.name for r in pic.over_assessed] == ["Альфа"]


# --- factors -----------------------------------------------------------------------------------------------------

def test_spearman_on_a_dataset_with_a_known_answer():
    from app.assessment.factors import correlate, ranks, spearman, strength

    assert ranks([10, 20, 20, 5]) == [2, 3.5, 3.5, 1]
    assert spearman([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]) == pytest.approx(-1.0)
    # textbook: d = (0, -1, 1, 0, 0, 0) → ρ = 1 − 6·2 / (6·35) = 0.942857…
    assert spearman([1, 2, 3, 4, 5, 6], [1, 3, 2, 4, 5, 6]) == pytest.approx(1 - 12 / 210)
    assert spearman([1, 2, 3], [7, 7, 7]) is None
    assert strength(0.5, 4) == "недостаточно данных"
    assert strength(0.2, 12) == "слабая прямая связь"
    assert strength(-0.5, 12) == "умеренная обратная связь"
    assert strength(0.85, 12) == "сильная прямая связь"
    levels = {1: 10.0, 2: 30.0, 3: 50.0, 4: 70.0, 5: 90.0, 6: None}
    context = {i: {"rural_share": 100 - 10 * i, "schools": i, "pupils": None, "shnor_share": 5.0,
                   "shnsu_share": None, "flagged_share": None} for i in range(1, 7)}
    context[4]["schools"] = None
    rows = {r.key: r for r in correlate(levels, context)}
    assert (rows["rural_share"].rho, rows["rural_share"].n, rows["rural_share"].words) == \
        (-1.0, 5, "сильная обратная связь")
    assert rows["schools"].n == 4 and rows["schools"].rho is None and rows["schools"].words == "недостаточно данных"
    assert rows["schools"].rho_shown == "—"
    assert rows["pupils"].n == 0
    assert rows["shnor_share"].rho is None and "не определяется" in rows["shnor_share"].words


# --- from the database ---------------------------------------------------------------------------------------------

def _campaign_over(db_session, region, municipalities, *, mechanisms=("M1.1", "M1.2"), share=None, start=None,
                   title="Мониторинг механизмов"):
    """A published campaign with scores written directly: municipality i submits a self-assessment in which
    `share(i, mechanism)` of its criteria (in order) get the maximum and the rest 0."""
    from app.assessment.criteria import load_criteria, published_sets
    from app.assessment.models import Campaign, CampaignMunicipality, Score, SelfAssessment
    from app.core.timeutil import utcnow

    load_criteria()
    cset = published_sets()[0]
    start = start or date.today() - timedelta(days=5)
    campaign = Campaign(organisation=region, title=title, period="2025/26", window_start=start,
                        window_end=start + timedelta(days=60), criteria_set=cset, mechanisms=list(mechanisms),
                        state="published", published_at=utcnow())
    campaign.municipalities = [CampaignMunicipality(municipality=m) for m in municipalities]
    db_session.add(campaign)
    db_session.flush()
    for i, m in enumerate(municipalities):
        for code in mechanisms:
            db_session.add(SelfAssessment(campaign_id=campaign.id, municipality_id=m.id, mechanism_code=code,
                                          state="submitted", submitted_at=utcnow()))
            crit = [c for c in cset.criteria if c.mechanism_code == code]
            full = round(len(crit) * (share(i, code) if share else 0.5))
            for n, c in enumerate(crit):
                db_session.add(Score(campaign_id=campaign.id, municipality_id=m.id, mechanism_code=code,
                                     criterion_id=c.id, proposed_points=0,
                                     self_points=c.max_points if n < full else 0))
    db_session.flush()
    return campaign


def test_statement_count_does_not_depend_on_the_number_of_municipalities(world, make_org, db_session):
    from app.assessment.picture import region_picture

    region = world["region"]
    muns = [world["mun"]]
    for n in range(5):
        mun = make_org("municipality", parent=region, code=f"PM{n}", name=f"Район {n}")
        make_org("school", parent=mun, code=f"PS{n}", name=f"Школа {n}", settlement="village", students=100 + n)
        muns.append(mun)
    _campaign_over(db_session, region, muns[:2], start=date(2025, 9, 1), title="Позапрошлая")
    small = _campaign_over(db_session, region, muns[:2], start=date.today() - timedelta(days=30), title="Прошлая")
    big = _campaign_over(db_session, region, muns, share=lambda i, code: i / 6)
    counts = []
    for campaign in (small, big):
        db_session.expire_all()
        with counted_statements() as seen:
            pic = region_picture(campaign)
        counts.append(len(seen))
        assert len(pic.rows) == len(campaign.municipalities)
    assert counts[0] == counts[1] <= 40
    assert pic.previous.id == small.id  # the region's earlier campaign is the one compared with
    # the factors' context: schools, pupils and the rural share from the organisations
    ctx = pic.factors.context
    assert ctx[world["mun"].id]["schools"] == 2 and ctx[world["mun"].id]["rural_share"] == 50.0
    assert ctx[world["mun"].id]["pupils"] == 620
    assert ctx[muns[3].id] | {} == {"schools": 1, "pupils": 102, "rural_share": 100.0, "shnor_share": None,
                                     "shnsu_share": None, "flagged_share": None}
    assert {r.key: r.n for r in pic.factors.rows}["schools"] == 6
    # what the analytical report takes: plain values only
    plain = json.loads(json.dumps(pic.plain()))
    assert len(plain["heatmap"]) == 6 and plain["dynamics"]["previous"] == "Прошлая"
    # 13 of the 16 criteria at their maximum: only three 1-point criteria (DEC.2, EFF.1, EFF.2) are 0
    cell = plain["heatmap"][5]["cells"][0]
    assert cell["level"] == "high" and 80 <= cell["percent"] < 100
    assert {r["label"] for r in plain["factors"]["rows"]} >= {"Доля сельских школ, %", "Доля ШНОР, %"}


def test_factor_shares_come_from_the_latest_finished_analysis(world, make_org, make_cycle, db_session):
    from app.analysis.models import AnalysisResult, AnalysisRun
    from app.assessment.picture import region_picture
    from app.core.timeutil import utcnow

    region, mun = world["region"], world["mun"]
    campaign = _campaign_over(db_session, region, [mun])
    cycle = make_cycle(mun, world["official"])
    old = AnalysisRun(cycle_id=cycle.id, organisation_id=mun.id, years=[2025], status="done", progress=100,
                      finished_at=utcnow() - timedelta(days=3))
    new = AnalysisRun(cycle_id=cycle.id, organisation_id=mun.id, years=[2025], status="done", progress=100,
                      finished_at=utcnow())
    db_session.add_all([old, new])
    db_session.flush()
    a, b = world["school_a"].id, world["school_b"].id
    db_session.add_all([
        AnalysisResult(run_id=old.id, kind="shnor", school_id=a, payload={}),
        AnalysisResult(run_id=old.id, kind="shnor", school_id=b, payload={}),
        AnalysisResult(run_id=new.id, kind="shnor", school_id=b, payload={}),
        AnalysisResult(run_id=new.id, kind="shnor", school_id=b, year=2024, payload={}),  # the same school again
        AnalysisResult(run_id=new.id, kind="shnsu", school_id=a, payload={}),
        AnalysisResult(run_id=new.id, kind="shnsu", school_id=b, payload={}),
        AnalysisResult(run_id=new.id, kind="verdict", school_id=a, payload={"verdict": "flagged"}),
        AnalysisResult(run_id=new.id, kind="verdict", school_id=b, payload={"verdict": "clear"}),
    ])
    db_session.flush()
    ctx = region_picture(campaign).factors.context[mun.id]
    assert (ctx["shnor_share"], ctx["shnsu_share"], ctx["flagged_share"]) == (50.0, 100.0, 50.0)
    assert ctx["run_id"] == new.id


def test_linkage_scores_the_regions_own_cycle_with_the_same_criteria(world, make_user, make_cycle, db_session):
    from app.assessment.picture import region_picture

    region, mun = world["region"], world["mun"]
    # the municipality: M1.1 all at the maximum, M1.2 all 0
    campaign = _campaign_over(db_session, region, [mun], share=lambda i, code: 1.0 if code == "M1.1" else 0.0)
    pic = region_picture(campaign)
    assert not pic.linkage.has_region and pic.linkage.compared == []
    assert [m["regional"] for m in pic.linkage.mechanisms] == ["R1.1", "R1.2"]
    assert next(b for b in pic.linkage.blocks if b["block"] == "GOAL")["municipal_mean"] == 50.0  # both mechanisms
    official = make_user("official", region, login="reg_off_link")
    cycle = make_cycle(region, official, mechanism="R1.1")
    fill_goal(cycle, official)  # one goal with its justification and realism
    db_session.flush()
    pic = region_picture(campaign)
    assert pic.linkage.has_region and pic.linkage.compared == ["M1.1"]
    goal = next(b for b in pic.linkage.blocks if b["block"] == "GOAL")
    # GOAL.2 and GOAL.3 (justified, realistic) are met by the goal; GOAL.1 needs a registered order
    assert goal["region_percent"] == pytest.approx(66.7)
    # compared over the same mechanism (M1.1 only, where the municipality is at 100 %), not over M1.1 and M1.2
    assert (goal["municipal_mean"], goal["difference"]) == (100.0, pytest.approx(-33.3))
    assert next(b for b in pic.linkage.blocks if b["block"] == "EFF")["region_percent"] == 0.0
    by_code = {m["mechanism"]: m for m in pic.linkage.mechanisms}
    assert by_code["M1.2"]["region_percent"] is None and by_code["M1.1"]["region_percent"] > 0


def _login(client, user):
    client.post("/login", data={"login": user.login, "password": PASSWORD})


def test_xlsx_has_one_row_per_municipality_mechanism_and_criterion(world, make_org, make_user, client, db_session):
    from app.assessment.models import Criterion
    from app.extensions import db

    region = world["region"]
    other = make_org("municipality", parent=region, code="XM", name="=HYPERLINK(\"http://x\")")
    campaign = _campaign_over(db_session, region, [world["mun"], other])
    official = make_user("official", region, login="reg_off_xlsx")
    db_session.commit()
    _login(client, official)
    response = client.get(f"/assessment/campaigns/{campaign.id}/picture.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    rows = list(wb["Баллы"].iter_rows(values_only=True))[1:]  # row 1: what, whose, as of when
    assert rows[0] == ("Код муниципалитета", "Муниципалитет", "Механизм", "Блок", "Критерий", "Формулировка",
                       "Максимум", "Предложено", "Самооценка", "Эксперт", "Учитывается",
                       "Источник учитываемого балла", "Состояние самооценки", "Состояние экспертной оценки")
    n_criteria = len(db.session.scalars(db.select(Criterion).where(
        Criterion.set_id == campaign.criteria_set_id, Criterion.mechanism_code.in_(["M1.1", "M1.2"]))).all())
    assert len(rows) - 1 == 2 * n_criteria
    assert {(r[0], r[2]) for r in rows[1:]} == {(c, m) for c in ("MUN", "XM") for m in ("M1.1", "M1.2")}
    names = {r[1] for r in rows[1:]}
    assert "'=HYPERLINK(\"http://x\")" in names  # the formula guard
    first = rows[1]
    assert first[8] == first[10] and first[11] == "самооценка"
    assert wb["Тепловая карта"].max_row == 4
    assert wb["Баллы"]["A2"].font.bold and wb["Баллы"].freeze_panes == "A3"
    for sheet in wb.worksheets:
        svc.assert_printable(sheet, header_row=2)
    assert wb["Тепловая карта"]["B3"].number_format == "0.0"
    # the criterion's wording wraps in a row high enough for it (it was cut at the column on paper)
    assert wb["Баллы"]["F3"].alignment.wrap_text and wb["Баллы"]["B2"].alignment.wrap_text


def test_page_sorts_and_shows_the_levels(world, make_org, make_user, client, db_session):
    region = world["region"]
    second = make_org("municipality", parent=region, code="SM", name="Второй район")
    campaign = _campaign_over(db_session, region, [world["mun"], second],
                              share=lambda i, code: 0.9 if i == 1 else 0.1)
    official = make_user("official", region, login="reg_off_page")
    db_session.commit()
    _login(client, official)
    page = client.get(f"/assessment/campaigns/{campaign.id}/picture?sort=total&order=desc")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index("Второй район") < html.index("Тестовый муниципалитет")
    assert 'data-level="high"' in html and 'data-level="none"' in html
    assert "Учитывается балл эксперта по утверждённой экспертной оценке" in html
    assert "<svg" in html  # the charts inline
    # Each chart's title once, inside the picture; percentages with one decimal throughout («40» stood by «45,8»).
    import lxml.html

    tree = lxml.html.fromstring(html)
    assert tree.xpath("//figure[contains(@class, 'picture-chart')]") and not tree.xpath("//figure//figcaption")
    cells = [c.text_content().strip() for c in tree.xpath("//table[@id='heatmap']//td[@data-source]")]
    assert cells and all(re.match(r"\d+,\d(\D|$)", c) for c in cells if c != "—"), cells
    # Blocks by their numbers and Russian titles, never by their codes (GOAL, MON …), in the tables and the charts.
    text = " ".join(tree.xpath("//main//text()"))
    assert "Проблемные зоны" in text
    assert not re.search(r"\b(GOAL|IND|METH|MON|ANL|REC|MEAS|DEC|EFF)\b", text), re.findall(r"\b[A-Z]{3,4}\b", text)
    html = client.get(f"/assessment/campaigns/{campaign.id}/picture?sort=total").get_data(as_text=True)
    assert html.index("Второй район") > html.index("Тестовый муниципалитет")
    png = client.get(f"/assessment/campaigns/{campaign.id}/picture/heatmap.png")
    assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    again = client.get(f"/assessment/campaigns/{campaign.id}/picture/heatmap.png",
                       headers={"If-None-Match": png.headers["ETag"]})
    assert again.status_code == 304
    assert client.get(f"/assessment/campaigns/{campaign.id}/picture/other.png").status_code == 404
    detail = client.get(f"/assessment/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="picture-link"' in detail


def test_access_expert_sees_only_assigned_coordinator_and_school_nothing(world, make_org, make_user, client,
                                                                          db_session):
    """The expert assigned to the test municipality sees its row only; the coordinator and a school see nothing;
    the auditor sees the whole picture."""
    from app.assessment import services
    from app.assessment.models import CampaignMunicipality

    campaign, manager, expert = make_campaign(world, db_session)
    other = make_org("municipality", parent=world["region"], code="OM", name="Другой район")
    campaign.municipalities.append(CampaignMunicipality(municipality=other))
    db_session.flush()
    services.refresh_proposals(campaign)
    db_session.commit()
    url = f"/assessment/campaigns/{campaign.id}/picture"
    _login(client, world["auditor"])
    html = client.get(url).get_data(as_text=True)
    assert "Другой район" in html and "Тестовый муниципалитет" in html
    client.post("/logout")
    _login(client, world["expert"])
    response = client.get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Тестовый муниципалитет" in html and "Другой район" not in html
    assert "Показаны муниципалитеты, назначенные вам" in html
    xlsx = load_workbook(io.BytesIO(client.get(url + ".xlsx").data))
    assert {r[0] for r in list(xlsx["Баллы"].iter_rows(values_only=True))[2:]} == {"MUN"}
    for user in (world["official"], world["director_b"]):  # the coordinator; a school
        client.post("/logout")
        _login(client, user)
        assert client.get(url).status_code in (403, 404)
        assert client.get(url + ".xlsx").status_code in (403, 404)
        assert client.get(url + "/heatmap.png").status_code in (403, 404)

"""The sixteenth review of the 08-70 assessment report: its heat table (and the heat map under it, the problem zones,
the dynamics) printed whole percents («96 %») where the region picture page and the expert conclusion show tenths
(«95,5 %»): one score read as two. The report prints the page's tenths."""

import io
import re

from docx import Document as Docx
from sqlalchemy import select

TENTHS = re.compile(r"\d{1,3},\d\u00a0%")


def test_the_report_prints_the_pages_tenths_in_its_tables_and_on_its_heat_map(demo, monkeypatch):
    from app.assessment import picture, picture_charts
    from app.assessment.models import Campaign
    from app.documents import rendering
    from app.documents.owned import build_owned_context

    campaign = demo.scalars(select(Campaign).order_by(Campaign.id)).first()
    pic = picture.region_picture(campaign)
    counted = [c for r in pic.rows for c in r.cells.values() if c.percent is not None]
    assert counted
    drawn = {}
    real_png = picture_charts.png

    def recording(name, data):
        drawn[name] = data
        return real_png(name, data)

    monkeypatch.setattr(picture_charts, "png", recording)
    ctx = build_owned_context("assessment_report", campaign)
    shown = [h["self"] for h in ctx["heat"] if h["self"] != "—"]
    assert shown and all(TENTHS.fullmatch(v.replace(" ", "\u00a0")) for v in shown), shown
    # the same number as the page's cell («95,5»), not its whole rounding
    cell = counted[0]
    assert f"{cell.self_percent:.1f}".replace(".", ",") + "\u00a0%" in [v.replace(" ", "\u00a0") for v in shown]
    for zone in ctx["zones"]:
        assert TENTHS.fullmatch(zone["percent"].replace(" ", "\u00a0")), zone
    # the heat map's cells carry the picture's own percents, labelled with their tenth as the table prints them
    cells = [p for row in drawn["heatmap"]["cells"] for p, _level in row if p is not None]
    assert cells == [p for row in picture_charts.chart_data(pic)["heatmap"]["cells"] for p, _level in row
                     if p is not None]
    assert drawn["heatmap"]["fixed"] is True
    assert picture_charts._pct(45.0, True) == "45,0" and picture_charts._pct(95.5, True) == "95,5"
    assert picture_charts._pct(45.0) == "45"  # the page's chart, as before
    doc = Docx(io.BytesIO(rendering.render("assessment_report", ctx)))
    heat = next(t for t in doc.tables if [c.text for c in t.rows[0].cells] == ["Механизм", "Самооценка", "Эксперт",
                                                                                   "Уровень"])
    # (a municipality's heading row is one merged cell: its name in every column)
    printed = [row.cells[1].text for row in heat.rows[1:]
               if row.cells[1].text not in ("—", "", row.cells[0].text)]
    assert printed and all(TENTHS.fullmatch(v.replace(" ", "\u00a0")) for v in printed), printed

"""Records-office review of 7 December 2026 (ГОСТ Р 7.0.97-2016), the documents earlier rounds had not read as
LibreOffice prints them: the campaign's analytical report (08-70), the data request letter and the published
documents of the public portal (the analytic report, the regulation, the roadmap, the effectiveness report)."""

import re

from sqlalchemy import select

from tests.test_assessment_documents import approve_a, camp  # noqa: F401  (camp: the fixture)


def test_a_number_keeps_its_percentage_points_on_its_line_in_the_campaign_report(camp, world, db_session):  # noqa: F811
    """The campaign report's note to its table of self-assessment against the expert's printed «завышение
    самооценки — разница 10» at the end of a line and «п. п. и более.» at the start of the next (LibreOffice, page
    2): a number and its «п. п.» are glued by no-break spaces, as a number and its «%» are."""
    from app.assessment import documents
    from app.documents import rendering
    from app.documents.owned import build_owned_context
    from tests.test_documents_registered import text_of

    approve_a(camp, world, db_session)
    ctx = build_owned_context(documents.REPORT, camp["campaign"])
    text = text_of(rendering.render(documents.REPORT, ctx))
    assert "разница 10\u00a0п.\u00a0п. и более" in text, text
    assert re.search(r"[+−]\d+,\d\u00a0п\.\u00a0п\.", text), text  # the table's «+4,5 п. п.»
    # «п.» alone is a clause, not a unit: «п. 3» keeps its ordinary space
    assert rendering._clean("согласно п. 3 и п. 4") == "согласно п. 3 и п. 4"


def test_the_analytic_reports_conclusions_are_findings_not_a_description_of_the_report(demo):
    """The demo's published analytic report concluded «4. Выводы / 4.1. Аналитическая справка: значения показателей
    за 2026/27, сравнение с региональными значениями …» — the справка describing itself (and «за 2026/27» without
    «учебный год»), as the effectiveness report once did (tests/test_docs2_demo.py)."""
    from app.cycles.models import Stage
    from app.documents import contexts

    stages = list(demo.scalars(select(Stage).where(Stage.code == "ANL", Stage.summary.is_not(None))))
    # every summary the demo wrote, and the report built from one (the published one: its conclusions are those)
    assert stages and not [s.summary for s in stages if re.match(r"(Аналитическая )?[Сс]правка", s.summary)]
    assert not [s.summary for s in stages if re.search(r"за \d{4}/\d{2}(?! учебн)", s.summary)]
    stage = next(s for s in stages if s.cycle.state == "closed")
    conclusions = contexts.build_context("analytic_report", stage)["conclusions"]
    assert conclusions and conclusions[0].startswith("Значения показателей за "), conclusions


def test_the_analytic_reports_charts_print_the_total_as_its_table_does(demo, monkeypatch):
    """The published analytic report's table said «Итоговое 43,0» and the chart under it «в целом 43» (its legend
    dropped the table's decimal): every chart's «в целом» is the number of the table's «Итоговое» column."""
    from app.analysis import charts, report
    from app.cycles.models import Stage
    from app.documents import contexts

    legends, original = [], charts.indicator_chart

    def spy(*args, **kwargs):
        # the same chart as SVG, whose text elements are readable (svg.fonttype «none»)
        legends.append(original(*args, **{**kwargs, "fmt": "svg"}).decode("utf-8"))
        return original(*args, **kwargs)

    monkeypatch.setattr(report.charts, "indicator_chart", spy)
    stage = next(s for s in demo.scalars(select(Stage).where(Stage.code == "ANL", Stage.summary.is_not(None)))
                 if s.cycle.state == "closed")
    rows = contexts.build_context("analytic_report", stage)["indicator_rows"]
    assert len(legends) == len(rows) and any("," in r["mean"] for r in rows)
    for row, svg in zip(rows, legends):
        assert re.search(rf"в целом (\(сумма\) )?{re.escape(row['mean'])}\b(?!,)", svg), (row["mean"], row["name"])


def test_the_demo_goals_cite_their_legal_basis_in_full():
    """The published regulation's «Обоснование» said «Основание: ФЗ «Об образовании в РФ», Стратегия развития
    воспитания в РФ до 2025 года» — abbreviations a normative act does not use (its 1.2 cites the same law in full),
    and a strategy whose term had ended before the 2026/27 period."""
    from app import demo

    texts = [goal[2] for goal in [*demo.GOAL_EXAMPLES.values(), demo.DEFAULT_GOAL]]
    assert not [t for t in texts if re.search(r"(?<![-\w])ФЗ «|\bв РФ\b|до 2025 года", t)], texts

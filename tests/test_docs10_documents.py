"""What the tenth records-office review (ГОСТ Р 7.0.97-2016) of the generated documents left: the analytic report's
count of organisations, «№» columns that broke three-digit numbers, and intro paragraphs touching the table under
them."""

import copy
import re
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from PIL import ImageFont
from sqlalchemy import select

TEMPLATES = sorted((Path(__file__).resolve().parents[1] / "document_templates").glob("*.docx"))
# Liberation Serif has Times New Roman's metrics; it is the face LibreOffice prints Times New Roman with here.
SERIF = "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf"
TWIPS_PER_CM = 1440 / 2.54


def _m21_cycle(db):
    from app.cycles.models import Cycle

    return next(c for c in db.scalars(select(Cycle).order_by(Cycle.id)) if c.title.startswith("M2.1"))


def test_the_analytic_report_counts_the_organisations_of_its_table_and_names_the_schools_read_apart(demo):
    """The demo's M2.1 report said «Число организаций, представивших сведения: 11» above a table of 3 organisations
    per indicator: it counted the 11 schools of the cluster table too, whose assessment results the analysis read
    but which submitted nothing. The count is now the organisations whose values the table shows (its «Число ОО»),
    and the schools whose results were read are a second number, said as such."""
    from app.documents import contexts, rendering
    from tests.test_document_templates import document_text

    ctx = contexts.build_context("analytic_report", _m21_cycle(demo).stage("ANL"))
    with_values = {o["name"] for i in ctx["indicators"] for o in i["organisations"] if o["value"] is not None}
    assert ctx["report"]["organisations"] == len(with_values) == max(int(r["count"]) for r in ctx["indicator_rows"])
    assert ctx["report"]["schools_read"] == len({c["school"] for c in ctx["clusters"]}) > len(with_values)
    _doc, text = document_text(rendering.render("analytic_report", ctx))
    text = re.sub(r"\s+", " ", text)
    assert (f"Число организаций, представивших сведения мониторинга показателей: {len(with_values)}; число школ, "
            f"результаты оценочных процедур которых рассмотрены: {ctx['report']['schools_read']}.") in text, text


def test_a_report_reading_no_results_says_only_the_organisations_count(demo):
    """Without any school's results read (the upbringing report), the sentence stops after the first count."""
    from app.documents import contexts, rendering
    from tests.test_docs3_hard_letters import _closed_cycle
    from tests.test_document_templates import document_text

    ctx = contexts.build_context("analytic_report", _closed_cycle(demo).stage("ANL"))
    assert ctx["report"]["schools_read"] == 0
    _doc, text = document_text(rendering.render("analytic_report", ctx))
    assert re.search(r"представивших сведения мониторинга показателей: \d+\.", re.sub(r"\s+", " ", text))
    assert "результаты оценочных процедур которых" not in text


def _data_tables(path: Path):
    """(table element, document) of every bordered table (the Table Grid style) of a template."""
    doc = Document(str(path))
    for tbl in doc.element.body.iter(qn("w:tbl")):
        style = tbl.find(f"{qn('w:tblPr')}/{qn('w:tblStyle')}")
        if style is not None and style.get(qn("w:val")) == doc.styles["Table Grid"].style_id:
            yield tbl, doc


def _cell_margins_twips(doc) -> int:
    margins = doc.styles["Table Grid"].element.find(f"{qn('w:tblPr')}/{qn('w:tblCellMar')}")
    return sum(int(margins.find(qn(f"w:{side}")).get(qn("w:w"))) for side in ("left", "right"))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_every_number_column_holds_three_digits_and_a_full_stop(path):
    """A «№» column of 0.8–1.0 cm broke «100» as «10» / «0» (the analytic report's flagged schools and ШНОР / ШНСУ,
    the measures, the decisions): every «№» column of a shipped template is as wide as «999.» at the size its rows
    print in, measured in the face LibreOffice prints with, plus the cell margins."""
    narrow, checked = [], 0
    for tbl, doc in _data_tables(path):
        header = tbl.findall(qn("w:tr"))[0]
        if "".join(t.text or "" for t in header.findall(qn("w:tc"))[0].iter(qn("w:t"))) != "№":
            continue
        checked += 1
        width = int(tbl.find(f"{qn('w:tblGrid')}/{qn('w:gridCol')}").get(qn("w:w")))
        sizes = {int(sz.get(qn("w:val"))) / 2 for row in tbl.findall(qn("w:tr"))[1:]
                 for sz in row.findall(qn("w:tc"))[0].iter(qn("w:sz"))}
        size = max(sizes or {14})
        needed = ImageFont.truetype(SERIF, 1000).getlength("999.") / 1000 * size * 20 + _cell_margins_twips(doc)
        if width < needed:
            narrow.append(f"{width / TWIPS_PER_CM:.2f} cm < {needed / TWIPS_PER_CM:.2f} cm at {size:g} pt")
    assert checked or path.stem == "event_order", "no «№» column found"
    assert not narrow, narrow


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_the_paragraph_above_a_table_stands_off_it(path):
    """The letters' intro («… направляет адресные рекомендации для …») touched the top border of the table under
    it: a text paragraph right above a table (tag paragraphs disappear when rendered) has 6 pt after it, as a
    table's title has."""
    touching = []
    for tbl, doc in _data_tables(path):
        above = tbl.getprevious()
        while above is not None and above.tag == qn("w:p") and Paragraph(above, doc).text.startswith("{%p") \
                and not Paragraph(above, doc).text.startswith("{%p endfor"):
            above = above.getprevious()
        if above is None or above.tag != qn("w:p"):
            continue
        paragraph = Paragraph(above, doc)
        if paragraph.text and not paragraph.text.startswith("{%") \
                and (paragraph.paragraph_format.space_after or 0) < 6 * 12700:
            touching.append(paragraph.text[:60])
    assert not touching, touching


def test_a_hundred_numbered_rows_print_each_number_on_one_line(demo, tmp_path):
    """The analytic report's flagged schools, ШНОР and ШНСУ and the decision order's decisions, 120 rows each,
    converted by LibreOffice: every row's number prints whole (the old 0.8 cm column printed «10» / «0»)."""
    from app.documents import contexts, rendering
    from tests import services as svc
    from tests.test_docs3_hard_letters import _closed_cycle
    from tests.test_documents_pdf import _convert_all

    soffice = svc.require_soffice()
    rows = range(1, 121)
    report = contexts.build_context("analytic_report", _m21_cycle(demo).stage("ANL"))
    report["sections"] = {name: True for name in report["sections"]}
    report["flagged_share"], report["stably_objective"], report["resilient"] = [], [], []
    report["flagged_schools"] = [{"school": "Школа Альфа", "year": 2026, "sign_title": "повышенные баллы",
                                  "p_text": "менее 1 %"} for _ in rows]
    report["shnor"] = [{"school": "Школа Бета", "reasons": "низкие результаты", "years": "2025, 2026"} for _ in rows]
    report["shnsu"] = [{"school": "Школа Гамма", "social_index_text": "0,8", "factors": "доля малоимущих"}
                       for _ in rows]
    order = contexts.build_context("decision_order", _closed_cycle(demo).stage("DEC"))
    order["decisions"] = [dict(copy.deepcopy(order["decisions"][0]), number=n, text="Решение Дельта") for n in rows]
    pages = _convert_all(soffice, {"report": rendering.render("analytic_report", report),
                                   "order": rendering.render("decision_order", order)}, tmp_path)
    for name, marker in [("report", "Школа Альфа"), ("report", "Школа Бета"), ("report", "Школа Гамма"),
                         ("order", "Решение Дельта")]:
        numbers = [int(m) for m in re.findall(rf"^\s*(\d+)\.?\s+{marker}", "\n".join(pages[name]), re.MULTILINE)]
        assert sorted(numbers) == list(rows), (marker, sorted(set(rows) - set(numbers)))

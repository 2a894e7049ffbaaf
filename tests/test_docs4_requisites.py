"""Requisites of the documents read as a records office reads them before signing (fourth PDF review, 6 December
2026): the date in a form ГОСТ Р 7.0.97-2016 knows, a deadline that stays on the line of its label, an order's
signature page with more than its control item, an empty section that says so instead of printing a table header
over no rows."""

import io
import re
from pathlib import Path

from docx import Document

from app.core import russian as ru, timeutil

TEMPLATES = Path(__file__).resolve().parent.parent / "document_templates"


def test_a_document_date_is_in_words_without_quotes_nor_a_leading_zero():
    # The registered orders printed «06» декабря 2026 г. (a hand-filled blank's form) above annex marks dated
    # 06.12.2026; ГОСТ Р 7.0.97-2016 (5.11) knows 06.12.2026 and 6 декабря 2026 г.
    from datetime import date

    from app.documents.contexts import fmt_date_long

    assert fmt_date_long(date(2026, 12, 6)) == "6 декабря 2026 г."
    assert not hasattr(ru, "date_long") and not hasattr(timeutil, "format_date_long")  # one form, no second to pick


def _paragraphs(doc):
    for paragraph in doc.paragraphs:
        yield paragraph.text
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                yield from (p.text for p in cell.paragraphs)


def _template_paragraphs(path: Path):
    yield from _paragraphs(Document(io.BytesIO(path.read_bytes())))


def test_a_deadline_is_glued_to_its_label_in_every_template():
    # LibreOffice ended a line of the orders' items with «Срок:» and put the date on the next (the monitoring
    # order, the event order, the decision order, the 08-70 order).
    loose = [f"{path.name}: «{text.strip()[:80]}»" for path in sorted(TEMPLATES.glob("*.docx"))
             for text in _template_paragraphs(path) if re.search(r"Срок: ", text)]
    assert not loose, "\n".join(loose)
    glued = [path.name for path in TEMPLATES.glob("*.docx")
             if any("Срок:\u00a0" in text for text in _template_paragraphs(path))]
    assert {"monitoring_order.docx", "event_order.docx", "decision_order.docx", "protocol.docx",
            "assessment_order.docx"} <= set(glued)


def test_an_orders_last_item_keeps_with_the_control_item_and_the_signature():
    # The 08-70 order's page 2 held «5. Контроль …» alone above the minister's signature: an item now keeps with its
    # executor line, and the last item's executor line with the closing cell (the control item and the signature).
    orders = 0
    for path in sorted(TEMPLATES.glob("*.docx")):
        doc = Document(io.BytesIO(path.read_bytes()))
        if not any(p.text == "ПРИКАЗЫВАЮ:" for p in doc.paragraphs):
            continue
        orders += 1
        texts = [p for p in doc.paragraphs if p.text == "{{ loop.index }}. {{ item.text }}"]
        executors = [p for p in doc.paragraphs if p.text.startswith("{{ item.label")]
        assert texts and all(p.paragraph_format.keep_with_next for p in texts), path.name
        # the loop's last item is a copy of the executor line that keeps with what follows
        assert [bool(p.paragraph_format.keep_with_next) for p in executors] == [False, True], path.name
    assert orders == 4  # the monitoring, event, decision and 08-70 orders


def test_an_effectiveness_report_of_a_cycle_without_measures_says_so(app):
    # «2. Исполнение принятых мер» printed the table's header over no rows for a cycle with no measures.
    from app.documents import rendering, template_admin

    def text(data: bytes) -> str:
        return "\n".join(_paragraphs(Document(io.BytesIO(data))))

    context = template_admin.synthetic_context("effectiveness_report")
    with_measures = text(rendering.render("effectiveness_report", context))
    assert "Ответственный" in with_measures and "Мероприятия в цикле не проводились." not in with_measures
    context["measures"] = []
    without = text(rendering.render("effectiveness_report", context))
    assert "Мероприятия в цикле не проводились." in without and "Ответственный" not in without


def test_a_stamps_signature_line_and_a_long_name_fit_on_one_line():
    # The УТВЕРЖДАЮ stamp (7.5 cm) broke «____________ А.-М.С. Римская-Корсакова» after the line: the name stood
    # under it on a line of its own. The line and the longest name a signature block is made for must fit the
    # stamp's column in the font it is printed with (Liberation Serif has Times New Roman's metrics).
    from docx.shared import Emu

    from tests.test_documents_pdf import CELL_MARGINS_CM, _liberation

    font = _liberation(False, 14)
    name = "А.-М.С.\u00a0Римская\u2011Корсакова"  # as rendering writes it: no-break space and hyphen
    stamped = 0
    for path in sorted(TEMPLATES.glob("*.docx")):
        doc = Document(io.BytesIO(path.read_bytes()))
        # (a table-ending document's СОГЛАСОВАНО stands in its table's last row, over the table's width, right-indented
        # to the stamp's; the перечень has it twice: after the methods and, without them, after the indicators)
        cells = {c._tc: c for table in doc.tables for row in table.rows for c in row.cells}
        for cell in cells.values():
            stamps = [p for p in cell.paragraphs if re.match(r"_+ \{\{ (a|approval)\.name \}\}", p.text)]
            if not stamps:
                continue
            stamped += 1
            indent = stamps[0].paragraph_format.right_indent or 0
            room = Emu(cell.width - indent).pt - CELL_MARGINS_CM / 2.54 * 72
            needed = font.getlength(stamps[0].text.split("{{")[0] + name) / 10
            assert needed <= room, f"{path.name}: «{stamps[0].text}» needs {needed:.0f} pt, the stamp has {room:.0f}"
    assert stamped == 2 * 4 + 1  # СОГЛАСОВАНО and УТВЕРЖДАЮ: положение, перечень (twice), дорожная карта, план

"""Requisites of the documents read as a records office reads them before signing (fourth PDF review, 6 December
2026): the date in a form ГОСТ Р 7.0.97-2016 knows, a deadline that stays on the line of its label."""

import io
import re
from pathlib import Path

from docx import Document

from app.core import russian as ru
from app.core.timeutil import format_date_long

TEMPLATES = Path(__file__).resolve().parent.parent / "document_templates"


def test_a_document_date_is_in_words_without_quotes_nor_a_leading_zero():
    # The registered orders printed «06» декабря 2026 г. (a hand-filled blank's form) above annex marks dated
    # 06.12.2026; ГОСТ Р 7.0.97-2016 (5.11) knows 06.12.2026 and 6 декабря 2026 г.
    from datetime import date

    from app.documents.contexts import fmt_date_long

    assert fmt_date_long(date(2026, 12, 6)) == "6 декабря 2026 г."
    assert format_date_long(date(2026, 12, 6)) == "6 декабря 2026 г."
    assert not hasattr(ru, "date_long")  # one form for documents, no second helper to pick by mistake


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

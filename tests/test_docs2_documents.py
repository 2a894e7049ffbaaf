"""Documents as a records office reads them (review of 7 December 2026, second helper): each appendix of an order
on a page of its own under its own mark, the items' executor lines justified as the items, «Присутствовали: …»
ending with its full stop, the best practices' «Рекомендуется:» kept with its first recommendation."""

import io
import re

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH

from app.documents import rendering
from app.documents.catalogue import document_types
from tests.test_assessment_documents import camp, generated  # noqa: F401
from tests.test_document_templates import context_for, cycle, document_text, plain  # noqa: F401


def _paragraphs(data: bytes):
    return Document(io.BytesIO(data)).paragraphs


def _appendix_marks_start_pages(data: bytes, count: int) -> None:
    marks = [p for p in _paragraphs(data) if plain(p.text).startswith("Приложение № ")]
    assert [plain(p.text).splitlines()[0] for p in marks] == [f"Приложение № {n}" for n in range(1, count + 1)]
    # a new page by the mark's own paragraph, each with its own mark (ГОСТ Р 7.0.97, п. 5.23)
    assert all(p.paragraph_format.page_break_before for p in marks)


def _executor_lines_justified(data: bytes) -> None:
    lines = [p for p in _paragraphs(data) if p.text.startswith(("Ответственный:", "Ответственные:"))]
    assert lines
    # left-aligned under justified items, «Ответственный: С.А. Громова, консультант отдела оценки качества»
    # stopped short of the margin and read as wrapped early
    assert all(p.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY for p in lines)


def test_the_assessment_order_puts_each_appendix_on_a_page_of_its_own(camp, db_session):  # noqa: F811
    from app.assessment import documents
    from app.documents import storage

    doc = generated(documents.generate_campaign_document(camp["campaign"], documents.ORDER, actor=camp["manager"]),
                    db_session)
    data = storage.version_path(doc.current).read_bytes()
    # appendix 3 (the experts) shared a page with appendix 2 (the coordinators)
    _appendix_marks_start_pages(data, 3)
    _executor_lines_justified(data)


def test_the_monitoring_order_puts_each_appendix_on_a_page_of_its_own(cycle, world):  # noqa: F811
    ctx = context_for(document_types()["monitoring_order"], cycle, world)
    data = rendering.render("monitoring_order", ctx)
    # appendix 2 (the participants) ran on under appendix 1's table
    _appendix_marks_start_pages(data, 2)
    _executor_lines_justified(data)


def test_those_present_end_with_a_full_stop_whatever_their_names(cycle, world):  # noqa: F811
    ctx = context_for(document_types()["protocol"], cycle, world)
    # a one-word full name («Администратор») left the sentence without its full stop; initials keep their one
    for present, line in (([{"number": 1, "name": "Иванов С.П.", "position": "начальник"},
                            {"number": 2, "name": "Администратор", "position": "—"}],
                           "Присутствовали: Иванов С.П., Администратор."),
                          ([{"number": 1, "name": "Администратор", "position": "—"},
                            {"number": 2, "name": "Петрова М.И.", "position": "методист"}],
                           "Присутствовали: Администратор, Петрова М.И.")):
        _, text = document_text(rendering.render("protocol", {**ctx, "present": present}))
        assert f"{line}\n" in plain(text)


def test_the_best_practices_lead_in_keeps_with_its_first_recommendation(cycle, world):  # noqa: F811
    ctx = context_for(document_types()["best_practices"], cycle, world)
    paragraphs = _paragraphs(rendering.render("best_practices", ctx))
    at = next(n for n, p in enumerate(paragraphs) if p.text == "Рекомендуется:")
    # «Рекомендуется:» stood alone at the foot of page 1 with its items on page 2
    assert paragraphs[at].paragraph_format.keep_with_next
    assert re.match(r"1\. \S", paragraphs[at + 1].text)

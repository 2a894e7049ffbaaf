"""What the eleventh records-office review (ГОСТ Р 7.0.97-2016) of the generated documents found: initials parted from
the surname and a year from its «г.» at the end of a line."""

import copy
import re

from sqlalchemy import select

# «С.П.» / «Иванов» or «2027» / «г.» on two lines of the PDF's text
PARTED = re.compile(r"(?:(?<![А-Яа-яЁё])[А-ЯЁ]\.[ \t]*\n[ \t]*[А-ЯЁ][а-яё]|\d[ \t]*\n[ \t]*г\.|[а-яё][ \t]*\n[ \t]*"
                    r"[А-ЯЁ]\.[А-ЯЁ]\.)")


def _closed_cycle(db):
    from app.cycles.models import Cycle

    return next(c for c in db.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")


def _text(data: bytes) -> str:
    from tests.test_document_templates import document_text

    return document_text(data)[1]


def test_a_protocols_decision_never_ends_a_line_with_the_initials_of_its_responsible(demo, tmp_path):
    """The protocol's «РЕШИЛИ» items run on «… Срок: 26.12.2026. Ответственный: С.П. Иванов, начальник …» in a
    justified paragraph: with some lengths of the decision LibreOffice ended a line with «Ответственный: С.П.» and
    began the next with «Иванов, начальник управления образования» (initials and surname are one requisite,
    ГОСТ Р 7.0.97, 5.19 / 5.26). Forty decisions of growing length, converted: no line ends with initials whose
    surname begins the next one."""
    from app.documents import contexts, rendering
    from tests import services as svc
    from tests.test_documents_pdf import _convert_all

    soffice = svc.require_soffice()
    ctx = contexts.build_context("protocol", _closed_cycle(demo).stage("DEC"))
    question = copy.deepcopy(ctx["agenda"][0])
    first = question["decided"][0]
    assert re.match(r"[А-ЯЁ]\.[А-ЯЁ]\. [А-ЯЁ]", first["responsible"])  # the demo's «С.П. Иванов, начальник …»
    words = "провести анализ выполнения мероприятий и обсудить итоги на совещании руководителей".split()
    question["decided"] = [dict(first, number=f"1.{n + 1}",
                                text="Утвердить " + " ".join(words[:n % len(words) + 1]) + "а" * (n // len(words)))
                           for n in range(40)]
    ctx["agenda"] = [question]
    pages = _convert_all(soffice, {"protocol": rendering.render("protocol", ctx)}, tmp_path)["protocol"]
    text = "\n".join(re.sub(r"[ \t]{2,}", " ", page) for page in pages)
    assert text.count("Ответственный:") >= 40
    assert not PARTED.findall(text), PARTED.findall(text)


def test_initials_keep_to_the_surname_and_a_year_to_its_g_in_the_documents_text(demo):
    """In the body of every document, not only in the signature: «С.П.\u00a0Иванов» in an order's item and a
    protocol's decision, «Иванов\u00a0С.П.» in the protocol's list of those present, «1 февраля 2027\u00a0г.» in the
    letter's deadline — a no-break space, so no line ends with «С.П.» or «2027»."""
    from app.documents import contexts, rendering

    cycle = _closed_cycle(demo)
    protocol = _text(rendering.render("protocol", contexts.build_context("protocol", cycle.stage("DEC"))))
    assert "Ответственный: С.П.\u00a0Иванов" in protocol and "Иванов\u00a0С.П." in protocol
    order = _text(rendering.render("decision_order", contexts.build_context("decision_order", cycle.stage("DEC"))))
    assert "Ответственный: С.П.\u00a0Иванов" in order
    letter_ctx = contexts.build_context("data_request_letter", cycle.stage("MON"))
    letter = _text(rendering.render("data_request_letter", letter_ctx))
    assert letter_ctx["request"]["deadline_long"].endswith(" г.")
    assert letter_ctx["request"]["deadline_long"].replace(" г.", "\u00a0г.") in letter
    for text in (protocol, order, letter):
        assert not re.search(r"\d г\.|(?<![А-Яа-яЁё])[А-ЯЁ]\. [А-ЯЁ][а-яё]", text), text

"""What the eleventh records-office review (ГОСТ Р 7.0.97-2016) of the generated documents found: initials parted from
the surname and a year from its «г.» at the end of a line."""

import copy
import re
import subprocess

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


# a line of the PDF's text that begins with a dash whose line before is not the end of a list's lead or item
DASH_FIRST = re.compile(r"^(?P<before>.*[^:;\s])[ \t]*\n[ \t]*[—–] ", re.MULTILINE)


def test_no_line_begins_with_a_dash(demo, tmp_path):
    """A dash keeps to the word before it (Russian typography; a records office sends back a page whose line begins
    with «—»). The demo's documents began lines with «— эффект не оценивается» (the effectiveness report's
    «Результат» column, a value), «— участников …» (the best practices' indicator, a value) and «— уровень
    сформированности)» (the assessment report's caption under the heat map, the template's own text). Converted:
    no line begins with a dash but a list's item."""
    from app.documents import contexts, owners, rendering
    from app.documents.catalogue import document_types
    from app.documents.owned import build_owned_context
    from tests import services as svc
    from tests.test_documents_pdf import _convert_all

    soffice = svc.require_soffice()
    cycle = _closed_cycle(demo)
    files = {key: rendering.render(key, contexts.build_context(key, cycle.stage(stage)))
             for key, stage in (("effectiveness_report", "EFF"), ("best_practices", "REC"))}
    dtype = document_types()["assessment_report"]
    files["assessment_report"] = rendering.render(
        "assessment_report", build_owned_context("assessment_report", owners.kind_of(dtype.owner).sample()))
    _convert_all(soffice, files, tmp_path)
    # the plain reading order (not -layout): a table cell's lines follow one another
    texts = {key: subprocess.run(["pdftotext", str(tmp_path / f"{key}.pdf"), "-"], check=True, capture_output=True,
                                 text=True).stdout for key in files}
    flat = {key: re.sub(r"\s+", " ", text) for key, text in texts.items()}
    assert "эффект не оценивается" in flat["effectiveness_report"]
    assert "уровень сформированности" in flat["assessment_report"]
    problems = {key: [m.group(0) for m in DASH_FIRST.finditer(text)] for key, text in texts.items()}
    assert not any(problems.values()), problems

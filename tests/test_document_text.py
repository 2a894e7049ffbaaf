"""The document linter (app/documents/lint.py) on every document type of the demo, and on a bad document.

The demo's closed cycle (M2.3) carries its documents through approval, signature and registration; every other
cycle has drafts. Every stored file (the registered copy where there is one) and a draft of every type rendered
from the closed cycle must be one a records office would sign: no machine output, no codes in running text, no
truncation, the addressee in the dative, page numbers from page 2.
"""

import io
import re
import zipfile

import pytest
from docx import Document as Docx
from sqlalchemy import select

from app.documents import lint


def test_every_document_type_of_the_demo_passes_the_linter(app, demo):
    from app.documents.catalogue import document_types

    checked, registered, failures = [], 0, {}
    for label, data, is_registered in lint.demo_documents():
        checked.append(label)
        registered += is_registered
        problems = lint.lint(data, registered=is_registered)
        if problems:
            failures[label] = problems
    assert not failures, "\n".join(f"{label}:\n  " + "\n  ".join(p) for label, p in failures.items())
    # a draft of every type, and the registered copies of the closed cycle's documents
    drafts = [label for label in checked if "(проект," in label]
    assert len(drafts) == len(document_types())
    assert registered >= 9

    # the same through `flask documents lint`
    result = app.test_cli_runner().invoke(lint.documents_cli, ["lint"])
    assert result.exit_code == 0, result.output
    assert "Замечаний нет." in result.output


def test_the_registered_copy_carries_the_visas_the_stamp_date_and_a_last_page_without_the_time_zone(demo):
    from app.documents import storage
    from app.documents.models import Document

    docs = [d for d in demo.scalars(select(Document).order_by(Document.id))
            if d.current is not None and d.current.registered_path and d.current.approvals]
    assert docs, "the demo registers documents that went through an approval route"
    version = docs[0].current
    data = storage.registered_path(version).read_bytes()
    doc = Docx(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    body, _, last_page = text.partition("Лист согласования")
    assert last_page, "the визы follow the body on a last page"
    # the approval that happened: position, name, decision and date, in the лист согласования
    approval = version.approvals[0]
    table = doc.tables[-1]
    row = [c.text for c in table.rows[1].cells]
    assert row[0] == approval.approver_position and row[2] == "согласовано"
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", row[3])
    # the hash and the edition are on the лист удостоверения, not in the body; no time-zone identifier anywhere
    assert version.sha256 not in body and f"SHA-256 подписанного файла: {version.sha256}" in last_page
    assert "Europe/" not in text
    # the last page starts on a new page: its heading's «page break before» (a page-break paragraph after a full
    # body page left a blank page, docs7)
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    assert re.search(r'<w:pageBreakBefore/>(?:(?!</w:p>).)*Лист согласования', xml, re.S), "no page break before"
    assert not lint.lint(data, registered=True)


def test_the_agreement_stamp_of_a_registered_document_is_dated(demo):
    from app.documents import storage
    from app.documents.models import Document
    from tests.test_document_templates import document_text

    dated = 0
    for doc in demo.scalars(select(Document).order_by(Document.id)):
        version = doc.current
        if version is None or not version.registered_path or not version.approvals:
            continue
        _, text = document_text(storage.registered_path(version).read_bytes())
        if "СОГЛАСОВАНО" in text:
            block = text.split("СОГЛАСОВАНО", 1)[1].split("\n")[:4]
            assert re.match(r"\d{1,2} [а-я]+ \d{4}\u00a0г\.$", block[3]), block  # ГОСТ Р 7.0.97: 6 декабря 2026 г.
            dated += 1
    assert dated


def _docx(*paragraphs: str, addressee: list[str] | None = None, page_field: bool = False) -> bytes:
    doc = Docx()
    if addressee:
        table = doc.add_table(rows=1, cols=2)
        cell = table.rows[0].cells[1]
        cell.paragraphs[0].text = addressee[0]
        for line in addressee[1:]:
            cell.add_paragraph(line)
    for text in paragraphs:
        doc.add_paragraph(text)
    if page_field:
        paragraph = doc.sections[0].header.paragraphs[0]
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), " PAGE ")
        paragraph._p.append(field)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@pytest.mark.parametrize("text, rule", [
    ("Основания: ['индекс низких результатов', 'доля «2»']; годы: [2025, 2026].", "служебный вывод"),
    ("Ответственный: None.", "служебный вывод"),
    ("Средний процент выполнения 34,664951989026065.", "более чем двумя знаками"),
    ("Среднее по кластеру 56.76 при z = -1.92.", "десятичная точка"),
    ("По направлению M2.3 «Система организации воспитания».", "латинский код"),
    ("Признак K3 выявлен в двух работах.", "латинский код"),
    ("Статус: awaiting_signature.", "внутренний код"),
    ("Подписано 2026-12-04.", "ГГГГ-ММ-ДД"),
    ("Подписано: 04.12.2026 11:14 (Europe/Moscow).", "часового пояса"),
    ("Основание: В школе «Гимназия № 3» выявлены признаки необъективности результатов (трудные задания в… .",
     "обрезанный текст"),
    ("Направить в МОУ «Гимназия «Лицей № 3»» до срока.", "вложенные одинаковые кавычки"),
    ("Провести совещание..", "две точки"),
    ("Ответственный: С.П. Иванов, Начальник управления образования.", "с прописной буквы"),
])
def test_the_linter_fails_a_deliberately_bad_document(text, rule):
    problems = lint.lint(_docx("Хороший абзац с числом 72,5 % и датой 04.12.2026.", text, page_field=True))
    assert any(rule in p for p in problems), problems


def test_the_linter_passes_clean_text_and_wants_a_page_number():
    clean = _docx("Провести мониторинг показателей по направлению «Организация воспитания обучающихся» "
                  "в 2026/27 учебном году; средний процент 34,66 %, 6.1. раздел, срок 04.12.2026.",
                  addressee=["Директору МОУ «Гимназия № 3»", "Н.И. Ковалёвой"], page_field=True)
    assert lint.lint(clean, registered=True) == []
    problems = lint.lint(_docx("Текст."))
    assert any("нет номера страницы" in p for p in problems)


def test_the_linter_checks_the_addressee_block_and_blank_requisites():
    bad = _docx("«___» ____________ 20___ г.", "№ ______",
                addressee=["Директор МОУ «Гимназия № 3»", "Н.И. Ковалёва"], page_field=True)
    problems = lint.lint(bad, registered=True)
    assert any("Должность адресата не в дательном падеже" in p for p in problems), problems
    assert any("Адресат не в дательном падеже" in p for p in problems), problems
    assert sum("незаполненный реквизит" in p for p in problems) == 2
    # a draft may keep the blanks for the hand
    assert not any("незаполненный реквизит" in p for p in lint.lint(bad, registered=False))


# --- dates that make sense (app/core/dating.py) -------------------------------------------------------------

def test_dating_rules_in_russian():
    from datetime import date

    from app.core import dating

    ctx: dict = {}
    dating.not_before(ctx, date(2026, 12, 4), "расчёт анализа результатов")
    dating.not_after(ctx, date(2026, 12, 10), "мероприятие «Семинар»")
    dating.deadline(ctx, date(2026, 12, 20), "предоставление сведений")
    assert dating.problems(ctx["dating"], date(2026, 12, 4)) == []
    assert dating.problems(ctx["dating"], date(2026, 12, 10)) == []
    early = dating.problems(ctx["dating"], date(2026, 12, 3))
    assert early == ["Документ не может быть датирован 03.12.2026: он основан на данных от 04.12.2026 "
                     "(расчёт анализа результатов)."]
    late = dating.problems(ctx["dating"], date(2026, 12, 20))
    assert any("не может быть исполнен: мероприятие «Семинар» начинается 10.12.2026" in p for p in late)
    assert any("предоставление сведений (20.12.2026) — не позже даты документа (20.12.2026)" in p for p in late)


def test_signature_and_registration_recheck_the_dates_on_their_own_day(world, goal_stage, db_session):
    from datetime import date, timedelta

    from app.documents.models import Document, DocumentVersion
    from workflows.document import dated_sensibly

    doc = Document(cycle_id=goal_stage.cycle_id, stage_id=goal_stage.id, type_key="regulation", title="Положение",
                   state="awaiting_signature", created_by_id=world["official"].id)
    version = DocumentVersion(number=1, status="done", created_by_id=world["official"].id, sha256="0" * 64,
                              stored_path="documents/x.docx", size=1)
    doc.versions.append(version)
    db_session.add(doc)
    db_session.flush()
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    # The snapshot as app.documents.snapshot.dump writes it: the context under «context».
    version.context_snapshot = {"context": {"dating": {"deadlines": [[yesterday, "ответ на письмо"]]}}}
    assert any("ответ на письмо" in p for p in dated_sensibly(doc))
    version.context_snapshot = {"context": {"dating": {"not_before": [[yesterday, "расчёт"]]}}}
    assert dated_sensibly(doc) == []
    db_session.rollback()


def test_the_assessment_campaigns_documents_are_linted_too(demo):
    """The demo's campaign: the registered order and expert's conclusion, and a draft of each of its three types."""
    checked = [(label, registered) for label, _, registered in lint.demo_documents()]
    for title in ("Приказ о проведении мониторинга механизмов", "Экспертное заключение",
                  "Аналитический отчёт по результатам оценки"):
        assert any(label.startswith(title) and "(проект," in label for label, _ in checked), title
    for title in ("Приказ о проведении мониторинга механизмов", "Экспертное заключение"):
        assert any(label.startswith(title) and registered for label, registered in checked), title
    # an e-mail address in the executor mark is not an internal code; a code still is
    assert lint.RAW_CODE.search("тел. +7 (999) 263-42-04, region_official@demo.example") is None
    assert lint.RAW_CODE.search("вид документа assessment_order") is not None

"""PDF copies of registered documents: converted once by LibreOffice from the registered copy, stored with their
SHA-256 and served from storage; refused in Russian for an unregistered version; the page says when LibreOffice
is missing; a failed conversion is recorded; outsiders get 404."""

import hashlib
import itertools
import re
import shutil
import stat
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.errors import ValidationFailed
from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
from app.documents import lint
from tests import services as svc
from tests.test_documents_registered import register, signed_regulation


PAGE = re.compile(rb"/Type\s*/Page\b")
MISSING = "Для выгрузки в PDF на сервере должен быть установлен LibreOffice"


def pdf_rows(db_session, version_id=None) -> int:
    from app.documents.pdf import DocumentPdf

    query = select(func.count()).select_from(DocumentPdf)
    if version_id is not None:
        query = query.where(DocumentPdf.version_id == version_id)
    return db_session.scalar(query)


def registered_version(stage, director, db_session, text="Перечень показателей"):
    """A signed, registered version of the stage's indicator list with a real small registered copy on disk
    (written directly: these tests are about the PDF, not the templates)."""
    from app.core.timeutil import utcnow
    from app.documents.models import DocumentVersion
    from app.documents.services import find_document, storage_root
    from tests.fixtures_documents import stage_document_drafts, tiny_docx

    stage_document_drafts(stage, director)
    doc = find_document(stage, "indicators_approval")
    files = {}
    for name, content in (("original", text), ("registered", text + " — рег. № 0007")):
        data = tiny_docx(content)
        relative = f"documents/{doc.id}/pdf-test-{name}-{doc.id}.docx"
        (storage_root() / relative).parent.mkdir(parents=True, exist_ok=True)
        (storage_root() / relative).write_bytes(data)
        files[name] = (relative, data)
    (original, data), (copy, copy_data) = files["original"], files["registered"]
    version = DocumentVersion(number=1, status="done", progress=100, stored_path=original,
                              sha256=hashlib.sha256(data).hexdigest(), size=len(data), created_by_id=director.id,
                              signed=True, signed_at=utcnow(), registration_seq=7, registration_number="0007",
                              registration_year=date.today().year, registration_org_id=stage.organisation.id,
                              registration_date=date.today(), registered_status="done", registered_path=copy,
                              registered_sha256=hashlib.sha256(copy_data).hexdigest(), registered_size=len(copy_data))
    doc.versions.append(version)
    db_session.commit()
    return version


@pytest.fixture
def school_stage(world, make_cycle):
    cycle = make_cycle(world["school_b"], world["director_b"], mechanism="I1.1")
    return cycle.stage("IND")


def fake_soffice(tmp_path, body: str) -> str:
    script = tmp_path / "soffice"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


# --- the real conversion -------------------------------------------------------------------------------------

def test_registered_document_converts_once_to_a_pdf_with_pages(world, goal_stage, db_session, login, client,
                                                                monkeypatch):
    from app.documents import pdf
    from app.documents.pdf import DocumentPdf

    svc.require_soffice()
    doc = signed_regulation(world, goal_stage, db_session)
    version = register(doc, world, db_session)
    assert version.registered_status == "done", version.registered_error
    conversions = []
    real = pdf.convert_docx
    monkeypatch.setattr(pdf, "convert_docx", lambda data, **kw: conversions.append(len(data)) or real(data, **kw))
    login(world["official"])
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert f"/documents/versions/{version.id}/pdf/convert" in page and MISSING not in page
    assert client.get(f"/documents/versions/{version.id}/pdf").status_code == 404  # nothing converted yet

    response = client.post(f"/documents/versions/{version.id}/pdf/convert")
    assert response.status_code == 302
    db_session.expire_all()
    row = db_session.scalars(select(DocumentPdf).where(DocumentPdf.version_id == version.id)).one()
    assert row.status == "done", row.error
    assert conversions == [version.registered_size]  # converted from the registered copy
    stored = pdf.pdf_path(row).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == row.sha256 and len(stored) == row.size
    download = client.get(f"/documents/versions/{version.id}/pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data == stored and download.data.startswith(b"%PDF") and len(PAGE.findall(download.data)) > 0
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert f"/documents/versions/{version.id}/pdf\"" in page and "Скачать PDF" in page

    # A second request and a second download: no new conversion, the same stored file, still one row.
    path = row.path
    assert client.post(f"/documents/versions/{version.id}/pdf/convert").status_code == 302
    again = client.get(f"/documents/versions/{version.id}/pdf")
    db_session.expire_all()
    assert again.data == stored and conversions == [version.registered_size]
    assert pdf_rows(db_session, version.id) == 1 and db_session.get(DocumentPdf, row.id).path == path


def test_concurrent_conversions_use_private_profiles_and_do_not_collide(app):
    from app.documents import pdf
    from tests.fixtures_documents import tiny_docx

    svc.require_soffice()
    results, errors = {}, []

    def run(n):
        try:
            with app.app_context():
                results[n] = pdf.convert_docx(tiny_docx(f"Документ {n}"))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(results) == [0, 1, 2]
    assert all(data.startswith(b"%PDF") and PAGE.search(data) for data in results.values())


# --- refusals and failures -----------------------------------------------------------------------------------

def test_an_unregistered_version_is_refused_in_russian(world, goal_stage, db_session, login, client):
    from app.documents import pdf

    doc = signed_regulation(world, goal_stage, db_session)  # signed, not registered
    with pytest.raises(ValidationFailed, match="только зарегистрированная редакция"):
        pdf.request_pdf(doc.current, actor=world["official"])
    db_session.rollback()
    login(world["official"])
    response = client.post(f"/documents/versions/{doc.current.id}/pdf/convert", follow_redirects=True)
    assert "В PDF выгружается только зарегистрированная редакция документа." in response.get_data(as_text=True)
    assert pdf_rows(db_session) == 0
    assert client.get(f"/documents/versions/{doc.current.id}/pdf").status_code == 404


def test_the_page_says_libreoffice_is_missing(world, school_stage, db_session, login, client, monkeypatch):
    from app.documents import pdf

    version = registered_version(school_stage, world["director_b"], db_session)
    monkeypatch.setattr(pdf, "find_soffice", lambda: None)
    login(world["director_b"])
    page = client.get(f"/documents/{version.document_id}").get_data(as_text=True)
    assert MISSING in page and f"/documents/versions/{version.id}/pdf/convert" not in page
    response = client.post(f"/documents/versions/{version.id}/pdf/convert", follow_redirects=True)
    assert MISSING in response.get_data(as_text=True)
    assert pdf_rows(db_session) == 0


def test_a_failing_conversion_is_recorded_and_can_be_retried(world, school_stage, db_session, login, client,
                                                             monkeypatch, tmp_path):
    from app.documents import pdf
    from app.documents.pdf import DocumentPdf

    version = registered_version(school_stage, world["director_b"], db_session)
    monkeypatch.setattr(pdf, "find_soffice", lambda: fake_soffice(tmp_path, "exit 3"))
    login(world["director_b"])
    assert client.post(f"/documents/versions/{version.id}/pdf/convert").status_code == 302
    db_session.expire_all()
    row = db_session.scalars(select(DocumentPdf).where(DocumentPdf.version_id == version.id)).one()
    assert row.status == "failed" and row.sha256 is None and row.path is None
    assert row.error == "Не удалось преобразовать документ в PDF: LibreOffice завершился с ошибкой (код 3)."
    page = client.get(f"/documents/{version.document_id}").get_data(as_text=True)
    assert row.error in page and "Повторить выгрузку в PDF" in page
    assert client.get(f"/documents/versions/{version.id}/pdf").status_code == 404

    # A hanging LibreOffice is stopped by the timeout; the retry reuses the same row.
    app = client.application
    monkeypatch.setitem(app.config, "PDF_TIMEOUT", 1)
    monkeypatch.setattr(pdf, "find_soffice", lambda: fake_soffice(tmp_path, "sleep 5"))
    assert client.post(f"/documents/versions/{version.id}/pdf/convert").status_code == 302
    db_session.expire_all()
    row = db_session.get(DocumentPdf, row.id)
    assert row.status == "failed"
    assert row.error == "Не удалось преобразовать документ в PDF: LibreOffice не уложился в 1 с."
    assert pdf_rows(db_session) == 1


def test_an_altered_registered_copy_is_not_converted(world, school_stage, db_session, monkeypatch, tmp_path):
    from app.documents import pdf
    from app.documents.pdf import DocumentPdf
    from app.documents.services import registered_path
    from app.jobs.queue import dispatch_ready

    version = registered_version(school_stage, world["director_b"], db_session)
    monkeypatch.setattr(pdf, "find_soffice", lambda: fake_soffice(tmp_path, "exit 0"))
    registered_path(version).write_bytes(b"changed on disk")
    row = pdf.request_pdf(version, actor=world["director_b"])
    db_session.commit()
    dispatch_ready()
    db_session.expire_all()
    row = db_session.get(DocumentPdf, row.id)
    assert row.status == "failed" and row.error.startswith("PDF не сформирован: Зарегистрированный экземпляр")


# --- scope ---------------------------------------------------------------------------------------------------

def test_school_a_gets_404_on_school_b_pdf(world, school_stage, db_session, login, client):
    from app.documents.pdf import DocumentPdf
    from app.documents.services import storage_root

    version = registered_version(school_stage, world["director_b"], db_session)
    data = b"%PDF-1.4 school B"
    relative = f"documents/{version.document_id}/school-b-{version.id}.pdf"
    (storage_root() / relative).write_bytes(data)
    db_session.add(DocumentPdf(version_id=version.id, status="done", path=relative, size=len(data),
                               sha256=hashlib.sha256(data).hexdigest()))
    db_session.commit()
    login(world["director_a"])
    assert client.get(f"/documents/versions/{version.id}/pdf").status_code == 404
    assert client.post(f"/documents/versions/{version.id}/pdf/convert").status_code == 404
    assert pdf_rows(db_session) == 1
    client.post("/logout")
    login(world["director_b"])
    response = client.get(f"/documents/versions/{version.id}/pdf")
    assert response.status_code == 200 and response.data == data


def test_the_page_follows_a_pdf_being_made_and_stops_when_it_is_done(world, school_stage, db_session, login, client,
                                                                      monkeypatch):
    """Issue 13: «PDF в очереди» no longer needs a reload — the page refreshes itself until the job ends."""
    from app.documents import pdf

    version = registered_version(school_stage, world["director_b"], db_session)
    monkeypatch.setattr(pdf, "find_soffice", lambda: "/usr/bin/soffice")
    row = pdf.DocumentPdf(version_id=version.id, status="queued", requested_by_id=world["director_b"].id)
    db_session.add(row)
    db_session.commit()
    login(world["director_b"])
    response = client.get(f"/documents/{version.document_id}")
    assert response.headers.get("Refresh") == "2"
    assert "страница обновляется сама" in response.get_data(as_text=True)
    row.status, row.path, row.size, row.sha256 = "done", "documents/x.pdf", 1, "0" * 64
    db_session.commit()
    assert "Refresh" not in client.get(f"/documents/{version.document_id}").headers


def test_actions_are_not_offered_while_the_document_is_being_generated(world, school_stage, db_session, login,
                                                                        client):
    from app.documents.models import DocumentVersion
    from app.documents.services import find_document
    from tests.fixtures_documents import stage_document_drafts

    stage_document_drafts(school_stage, world["director_b"])
    doc = find_document(school_stage, "indicators_approval")
    doc.versions.append(DocumentVersion(number=1, status="queued", progress=0, created_by_id=world["director_b"].id))
    db_session.commit()
    login(world["director_b"])
    response = client.get(f"/documents/{doc.id}")
    html = response.get_data(as_text=True)
    assert response.headers.get("Refresh") == "2"
    assert 'id="actions-wait"' in html and f"/documents/{doc.id}/transition/" not in html
    doc.versions[0].status = "failed"
    doc.versions[0].error = "Ошибка шаблона"
    db_session.commit()
    html = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert 'id="actions-wait"' not in html


# --- the layout of every document type (page-by-page PDF review, issue 12) -------------------------------------
#
# What the review found on paper, checked so it cannot come back: a word broken inside a table's header cell
# («Периодичност-ь», «Класте-р»), a table row split over two pages, a heading alone at the foot of a page, the
# «СОГЛАСОВАНО» stamp or the signature alone on the last page with the executor mark, «None» or a tag in print.

TEMPLATES = Path(__file__).resolve().parent.parent / "document_templates"
FONTS = ("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
         "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf")
CELL_MARGINS_CM = 2 * 0.19  # the default left and right cell margins of Word and LibreOffice


def _liberation(bold: bool, points: float):
    from PIL import ImageFont

    path = FONTS[bool(bold)]
    if not Path(path).exists():  # the metrics LibreOffice prints Times New Roman with (fonts-liberation)
        if svc.in_ci():
            pytest.fail(f"{path} is missing (CI=true: .ci/run installs fonts-liberation)")
        pytest.skip(f"{path} is missing")
    return ImageFont.truetype(path, size=int(points * 10))  # tenths of a point: measured to 0.1 pt


def _template_tables():
    from docx import Document as Docx

    for path in sorted(TEMPLATES.glob("*.docx")):
        doc = Docx(str(path))
        section = doc.sections[0]
        yield path.stem, doc, (section.page_width - section.left_margin - section.right_margin)


def _tables_with_text_width(doc):
    """(table, the text width of the section it stands in): an appendix may be on a landscape page."""
    from docx.oxml.ns import qn
    from docx.table import Table

    sections, index = list(doc.sections), 0
    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:tbl"):
            section = sections[index]
            yield Table(child, doc._body), section.page_width - section.left_margin - section.right_margin
        elif child.tag == qn("w:p") and child.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None:
            index += 1  # a paragraph carrying sectPr ends its section


def test_no_word_of_a_table_header_is_broken_across_lines():
    """Every word of every header cell fits its column in the font it is printed with (Liberation Serif, the
    metrics of Times New Roman), so LibreOffice never breaks it in the middle."""
    from docx.shared import Emu

    narrow = []
    for key, doc, _width in _template_tables():
        for table in doc.tables:
            header = table.rows[0]
            for cell in header.cells:
                if cell.width is None:
                    continue
                room_pt = Emu(cell.width).pt - CELL_MARGINS_CM / 2.54 * 72
                for paragraph in cell.paragraphs:
                    for run in paragraph.runs:
                        points = run.font.size.pt if run.font.size else 14
                        font = _liberation(run.bold, points)
                        for word in run.text.split():
                            if "{" in word:
                                continue
                            needed = font.getlength(word) / 10
                            if needed > room_pt:
                                narrow.append(f"{key}: «{word}» needs {needed:.0f} pt, the column has "
                                              f"{room_pt:.0f} pt")
    assert not narrow, "\n".join(narrow)


def test_tables_fit_the_text_area_and_their_rows_never_split_over_pages():
    from docx.oxml.ns import qn

    problems = []
    for key, doc, _width in _template_tables():
        for n, (table, text_width) in enumerate(_tables_with_text_width(doc), 1):
            widths = [int(col.get(qn("w:w"))) * 635 for col in table._tbl.tblGrid.findall(qn("w:gridCol"))]
            if sum(widths) > text_width * 1.001:
                problems.append(f"{key}, table {n}: {sum(widths) / 360000:.1f} cm wide, the text area "
                                f"{text_width / 360000:.1f} cm")
            for row in table.rows:
                props = row._tr.trPr
                if props is None or props.find(qn("w:cantSplit")) is None:
                    problems.append(f"{key}, table {n}: a row may split over two pages")
                    break
    assert not problems, "\n".join(problems)


def test_headings_keep_with_the_text_that_follows():
    problems = []
    for key, doc, _width in _template_tables():
        for paragraph in doc.paragraphs:
            text = paragraph.text.strip()
            bold = paragraph.runs and all(run.bold for run in paragraph.runs)
            if bold and re.match(r"^(\d+\. [А-ЯЁ]|[А-ЯЁ ]+:$)", text) and not paragraph.paragraph_format.keep_with_next:
                problems.append(f"{key}: «{text}»")
    assert not problems, "headings that may stay alone at the foot of a page:\n" + "\n".join(problems)


def _pdf_pages(pdf_path: Path) -> list[str]:
    import subprocess

    if not shutil.which("pdftotext"):
        if svc.in_ci():
            pytest.fail("pdftotext is missing (CI=true: .ci/run installs poppler-utils)")
        pytest.skip("pdftotext is missing")
    text = subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"], check=True, capture_output=True,
                          text=True).stdout
    pages = text.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def _convert_all(soffice: str, files: dict[str, bytes], work: Path) -> dict[str, list[str]]:
    """Every file converted by one LibreOffice run (one start-up for all): name → the text of each page."""
    import subprocess

    for name, data in files.items():
        (work / f"{name}.docx").write_bytes(data)
    subprocess.run([soffice, f"-env:UserInstallation=file://{work / 'profile'}", "--headless", "--convert-to",
                    "pdf", "--outdir", str(work), *[str(work / f"{n}.docx") for n in files]],
                   check=True, capture_output=True, timeout=600)
    return {name: _pdf_pages(work / f"{name}.pdf") for name in files}


SIGNATURE = re.compile(r"[А-ЯЁ]\.[А-ЯЁ]\. [А-ЯЁ][а-яё]+$")  # «Начальник управления образования   С.П. Иванов»


def _requisite_line(line: str, executor: str) -> bool:
    """A line that is not text of the document: page number, draft mark, executor mark, signature, stamp."""
    line = line.strip()
    return (not line or line.isdigit() or line == "ПРОЕКТ" or line.startswith(("+7", executor))
            or bool(SIGNATURE.search(line)) or line == "СОГЛАСОВАНО"
            or bool(re.match(r"^(«___»|\d{1,2} [а-я]+ \d{4} г\.)", line)))


def test_every_document_type_of_the_demo_prints_as_a_signable_document(app, demo, tmp_path):
    """The demo's closed cycle: a draft of every type and every registered copy (with its лист согласования and
    лист удостоверения), converted by LibreOffice. Page 1 carries the issuer and the document's kind; no page
    prints «None» or a template tag; the page with the executor mark carries text of the document besides the
    signature, the stamps and the executor mark (never one of them alone on the last page); the page count stays
    sane; every type of the catalogue is among them."""
    soffice = svc.require_soffice()
    files, labels = {}, {}
    for n, (label, data, registered) in enumerate(lint.demo_documents()):
        if "(проект" in label or registered:
            files[f"d{n:02d}"], labels[f"d{n:02d}"] = data, label
    assert len(files) >= 13 + 8
    # every document type of the catalogue, as a draft
    from app.documents.catalogue import document_types

    drafted = {label.split(" (проект")[0] for label in labels.values() if "(проект" in label}
    assert drafted == {dtype.title for dtype in document_types().values()}
    pages = _convert_all(soffice, files, tmp_path)
    problems = []
    for name, texts in pages.items():
        label, everything = labels[name], "\f".join(texts)
        if not 1 <= len(texts) <= 12:
            problems.append(f"{label}: {len(texts)} pages")
        first = " ".join(texts[0].split())
        # the issuer: a municipal authority (the cycles) or the region's ministry (the assessment campaign's)
        if "Управление образования" not in first and "Министерство образования" not in first:
            problems.append(f"{label}: no issuer on page 1")
        for bad in ("None", "{{", "{%", "}}"):
            if bad in everything:
                problems.append(f"{label}: «{bad}» printed")
        # ГОСТ Р 7.0.97 dates (06.12.2026, 6 декабря 2026 г.), never a hand-filled blank's «06» декабря 2026 г.
        for match in re.finditer(r"«\d\d» [а-я]+ \d{4}", everything):
            problems.append(f"{label}: date «{match.group()}»")
        # a label ends no line with its value on the next («Срок:» / «01.02.2027.»)
        for line in everything.splitlines():
            if re.search(r"Срок:\s*$", line):
                problems.append(f"{label}: «{line.strip()[-60:]}» ends a line")
        # the appendix's mark (ГОСТ Р 7.0.97, п. 5.23) never leaves the issuer's last word alone on a line (the
        # decision order's landscape appendix printed «… администрации городского округа» / «Северный»)
        lines = [line.strip() for line in everything.splitlines()]
        for i, line in enumerate(lines):
            if line.startswith(("к приказу", "к письму")):
                for issuer_line in itertools.takewhile(lambda x: not x.startswith("от "), lines[i:i + 4]):
                    if len(issuer_line.split()) < 2:
                        problems.append(f"{label}: the appendix's mark wraps «{issuer_line}» alone")
        # the executor mark: the demo's executor is a user of the issuer (an official; an expert for a conclusion)
        marked = [t for t in texts if "@demo.example" in t]
        if not marked:
            problems.append(f"{label}: no executor mark")
            continue
        # an order's signature page carries an item with its executor and deadline, not the control item alone (the
        # 08-70 order's page 2: «5. Контроль …» and the minister's signature)
        if label.startswith("Приказ") and "Срок:" not in marked[-1]:
            problems.append(f"{label}: the control item alone with the signature")
        executor = "Петрова Мария"  # the demo's executor: her mark is not text of the document
        lines = [line.strip() for line in marked[-1].splitlines() if line.strip()]
        body = [line for line in lines if not _requisite_line(line, executor)]
        # Neither a signature, a stamp nor the executor mark ever stands alone on a page (ГОСТ Р 7.0.97): the page
        # with the executor mark carries at least two lines of the document's own text or table (every type).
        if len(body) < 2:
            problems.append(f"{label}: a signature, stamp or executor mark without text on its page: "
                            + " | ".join(lines))
    assert not problems, "\n".join(problems)

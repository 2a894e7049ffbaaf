"""PDF copies of registered documents: converted once by LibreOffice from the registered copy, stored with their
SHA-256 and served from storage; refused in Russian for an unregistered version; the page says when LibreOffice
is missing; a failed conversion is recorded; outsiders get 404."""

import hashlib
import re
import stat
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from app.core.errors import ValidationFailed
from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
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

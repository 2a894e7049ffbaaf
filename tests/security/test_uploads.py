"""Issue 17 item 10: every upload of the system accepts the types of its purpose, told by content, not by name.

The finding: an `.exe` was accepted as «Подтверждающие документы» of a recommendation report. Here a program
renamed to the extension each upload expects is refused with a Russian message, one test per upload purpose,
and nothing is stored."""

import io
import os
import zipfile
from datetime import date

import pytest
from sqlalchemy import func, select

from app.core import uploads
from app.core.errors import ValidationFailed
from tests.conftest import PASSWORD

# The start of a Windows program: "MZ", the DOS stub, the PE header.
EXE = (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8" + b"\x00" * 43 + b"\x80\x00\x00\x00"
       + b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 64 + b"PE\x00\x00L\x01")
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
CMS = b"\x30\x82\x05\x00\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02\xa0\x82\x04\xf1"
REFUSED = "по содержимому это исполняемая программа"


def _zip(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for name in names:
            archive.writestr(name, "<x/>")
    return out.getvalue()


def _count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("data, kind", [
    (PDF, "pdf"), (PNG, "png"), (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"), (b"II*\x00\x08\x00", "tiff"),
    (_zip("word/document.xml"), "docx"), (_zip("xl/workbook.xml"), "xlsx"), (_zip("ppt/presentation.xml"), "pptx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "ole"), (CMS, "cms"),
    (b"-----BEGIN PKCS7-----\nMIIF\n", "cms"), ("код;балл\nP-1;5\n".encode("cp1251"), "text"),
    (EXE, "exe"), (b"\x7fELF\x02\x01", "elf"), (_zip("payload.bin"), "zip"), (b"PK\x03\x04 broken", "zip_damaged"),
    (b"<!DOCTYPE html><script>", "html"), (bytes(range(256)) * 4, "unknown"),
])
def test_the_type_is_told_by_content(data, kind):
    assert uploads.sniff(data) == kind


def test_an_odf_document_is_told_by_its_mimetype_part():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<x/>")
    assert uploads.sniff(out.getvalue()) == "odt"


def test_every_purpose_refuses_a_renamed_program_in_russian():
    for purpose in uploads.PURPOSES:
        with pytest.raises(ValidationFailed) as caught:
            uploads.check(purpose, EXE, "файл.pdf")
        assert REFUSED in caught.value.message and "«файл.pdf»" in caught.value.message, purpose


# --- each upload of the system, through its own entry point -------------------------------------------

@pytest.fixture
def reporting_item(world, rec_cycle, make_recommendation, db_session):
    from app.followup import services

    rec = make_recommendation(rec_cycle, issue=True)
    item = next(i for i in rec.items if i.organisation_id == world["school_a"].id)
    services.acknowledge_item(item, actor=world["director_a"], password=PASSWORD, expected_version=item.version)
    services.start_item(item, actor=world["director_a"], action_plan="План", planned_completion=item.due_date)
    db_session.commit()
    return item


def test_recommendation_report_evidence_refuses_an_exe_named_pdf(app, world, reporting_item, client, login,
                                                                  db_session, tmp_path, monkeypatch):
    """The issue's case, over HTTP: the report with «Подтверждающие документы» = an .exe renamed .pdf."""
    from app.documents.models import Attachment

    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))
    login(world["director_a"])
    response = client.post(f"/followup/items/{reporting_item.id}/report",
                           data={"report": "Сделано", "version": reporting_item.version,
                                 "files": [(io.BytesIO(EXE), "otchet.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert REFUSED in response.get_data(as_text=True)
    db_session.expire_all()
    assert reporting_item.state == "in_progress" and _count(db_session, Attachment) == 0
    mixed = client.post(f"/followup/items/{reporting_item.id}/report",
                        data={"report": "Сделано", "version": reporting_item.version,
                              "files": [(io.BytesIO(PDF), "good.pdf"), (io.BytesIO(EXE), "bad.pdf")]},
                        content_type="multipart/form-data")
    assert mixed.status_code == 422 and "«bad.pdf»" in mixed.get_data(as_text=True)
    stored = app.config["STORAGE_DIR"] + "/attachments"
    assert not os.path.isdir(stored) or os.listdir(stored) == []  # the good file was not stored either
    accepted = client.post(f"/followup/items/{reporting_item.id}/report",
                           data={"report": "Сделано", "version": reporting_item.version,
                                 "files": [(io.BytesIO(PDF), "otchet.pdf"), (io.BytesIO(PNG), "foto")]},
                           content_type="multipart/form-data")
    assert accepted.status_code == 302
    types = sorted(db_session.scalars(select(Attachment.content_type)))
    assert types == ["application/pdf", "image/png"]  # served as what they are, not as their names say


@pytest.fixture
def school_cycle(world, make_cycle, db_session):
    cycle = make_cycle(world["school_b"], world["director_b"], mechanism="I1.1")
    db_session.commit()
    return cycle


@pytest.mark.parametrize("kind, good", [("scan", PDF), ("signature", CMS), ("protocol", PDF), ("evidence", PNG)])
def test_attachments_of_each_kind_refuse_an_exe(world, school_cycle, db_session, kind, good):
    from app.documents.attachments import attach
    from app.documents.models import Attachment

    stage = school_cycle.stage("GOAL")
    with pytest.raises(ValidationFailed, match=REFUSED):
        attach(stage, stream=io.BytesIO(EXE), filename="doc.pdf", kind=kind, actor=world["director_b"])
    if kind in ("scan", "signature"):  # a PDF is no signature, a picture no scan
        with pytest.raises(ValidationFailed, match="по содержимому это"):
            attach(stage, stream=io.BytesIO(PNG if kind == "scan" else PDF), filename="x.p7s", kind=kind,
                   actor=world["director_b"])
    assert _count(db_session, Attachment) == 0
    assert attach(stage, stream=io.BytesIO(good), filename="no-extension", kind=kind, actor=world["director_b"])


@pytest.mark.parametrize("filename, stored", [
    ("invoice\u202efdp.exe", "invoicefdp.exe.pdf"),  # the right-to-left mark dropped, the name then said .exe
    ("../../etc/passwd", "passwd.pdf"), ("..\\..\\win.ini", "win.ini.pdf"), ("...", "file.pdf"),
    ("отчёт.PDF", "отчёт.PDF"), ("я" * 400 + ".pdf", "я" * 196 + ".pdf"), ("scan.pdf.exe", "scan.pdf.exe.pdf"),
])
def test_an_attachment_is_named_with_the_extension_of_its_content(world, school_cycle, db_session, filename, stored):
    """Attack 2026-12: a PDF uploaded as «invoice‮fdp.exe» was downloaded as «invoicefdp.exe», and a 400-character
    name was cut to 200 characters, losing «.pdf»: the download name now ends in the extension of what the file
    is, and a long name keeps it."""
    from app.documents.attachments import attach

    attachment = attach(school_cycle.stage("GOAL"), stream=io.BytesIO(PDF), filename=filename, kind="evidence",
                        actor=world["director_b"])
    assert attachment.original_name == stored and attachment.content_type == "application/pdf"


def test_results_import_refuses_an_exe_named_csv_on_the_web_and_in_the_api(world, client, login, db_session,
                                                                            app, tmp_path, monkeypatch):
    from app.imports.models import ImportRun
    from app.imports.services import start_import

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    login(world["official"])
    response = client.post("/imports/results/new", data={"organisation_id": str(world["mun"].id),
                                                         "file": (io.BytesIO(EXE), "results.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and REFUSED in response.get_data(as_text=True)
    for data, name in ((EXE, "r.xlsx"), (PNG, "picture.csv"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 99,
                                                               "old.xls")):
        with pytest.raises(ValidationFailed, match="по содержимому это"):
            start_import("results", filename=name, stream=io.BytesIO(data), actor=world["official"],
                         organisation=world["mun"])
    assert _count(db_session, ImportRun) == 0
    assert not list((tmp_path / "uploads").glob("*-*"))  # nothing stored


def test_results_import_over_the_api_refuses_an_exe(world, client, db_session, app, tmp_path, monkeypatch):
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    from app.imports.models import ImportRun
    from tests.test_api_tokens import bearer

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    from app.api.services import issue_token

    secret = issue_token(world["official"], name="тест", actor=world["official"]).secret
    db_session.commit()
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(EXE), filename="results.csv",
                                                           content_type="text/csv")})
    response = client.post("/api/v1/imports/results", data=body, headers=bearer(secret),
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 422 and REFUSED in response.get_data(as_text=True)
    assert _count(db_session, ImportRun) == 0


def test_monitoring_values_upload_refuses_an_exe_named_xlsx(world, sent, client, login, db_session, app,
                                                            tmp_path, monkeypatch):
    from app.monitoring.models import IndicatorValue
    from tests.test_monitoring import submission_of

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    sub = submission_of(sent, world["school_a"])
    login(world["director_a"])
    response = client.post(f"/monitoring/submissions/{sub.id}/upload",
                           data={"file": (io.BytesIO(EXE), "svedeniya.xlsx"), "version": sub.version},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and REFUSED in response.get_data(as_text=True)
    assert _count(db_session, IndicatorValue) == 0


def test_risk_questionnaire_upload_refuses_an_exe_named_csv(world, client, login, db_session):
    from app.analysis.models import RiskProfile

    login(world["director_a"])
    response = client.post(f"/analysis/schools/{world['school_a'].id}/risk-profile/import",
                           data={"year": str(date.today().year), "file": (io.BytesIO(EXE), "anketa.csv")},
                           follow_redirects=True)
    assert REFUSED in response.get_data(as_text=True)
    assert _count(db_session, RiskProfile) == 0


def test_risk_questionnaire_over_the_limit_is_refused_not_cut(world, client, login, db_session):
    """The view read the first megabyte only: a larger file was loaded from its head and its tail dropped
    without a word (here the tail changes every score: the last row of a factor wins)."""
    from app.analysis.models import RiskProfile
    from app.analysis.risk_profile import risk_factors

    login(world["director_a"])
    rows = "".join(f"{f.key};1\n" for f in risk_factors())
    body = "factor;score\n" + rows * (1024 * 1024 // len(rows) + 1)  # just over 1 MB
    tail = "".join(f"{f.key};9\n" for f in risk_factors())
    response = client.post(f"/analysis/schools/{world['school_a'].id}/risk-profile/import",
                           data={"year": str(date.today().year), "file": (io.BytesIO((body + tail).encode()), "a.csv")},
                           follow_redirects=True)
    assert "Файл больше 1 МБ" in response.get_data(as_text=True)
    assert _count(db_session, RiskProfile) == 0


def test_document_template_upload_refuses_an_exe_named_docx(world, client, login, db_session):
    from app.documents.template_admin import TemplateVersion

    login(world["admin"])
    response = client.post("/documents/templates/regulation/upload",
                           data={"file": (io.BytesIO(EXE), "regulation.docx")}, content_type="multipart/form-data")
    assert response.status_code == 422 and REFUSED in response.get_data(as_text=True)
    assert _count(db_session, TemplateVersion) == 0

"""PDF copies (PDF-экземпляры) of registered documents, converted once by LibreOffice and stored.

A registered version's PDF is made from its registered copy (зарегистрированный экземпляр: the file that carries
the registration number and date and the signature requisites), by a background job (queue `documents`; inline
without Redis) that runs `soffice --headless --convert-to pdf` with a private LibreOffice profile directory
(`-env:UserInstallation=…`, so concurrent conversions never share a profile lock) and a timeout. The PDF is stored
under STORAGE_DIR with its SHA-256 in a `DocumentPdf` row (one per version): later downloads serve that file and
never convert again. A failed conversion is recorded with a Russian message and can be requested again.

    find_soffice() -> str | None                     # the LibreOffice executable, or None
    pdf_of(version) -> DocumentPdf | None
    request_pdf(version, *, actor) -> DocumentPdf     # flushes, enqueues after commit; never commits
    convert_pdf(pdf_id)                               # the job
"""

import hashlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.errors import DomainError, PermissionDenied, ValidationFailed
from app.core.timeutil import utcnow
from app.documents import bp
from app.documents.models import DocumentVersion
from app.documents.storage import download_name as docx_name
from app.documents.storage import registered_path, storage_root, verify_registered
from app.extensions import db
from app.jobs import registry
from app.jobs.queue import job
from app.jobs.tracked import enqueue_tracked, run_tracked

log = logging.getLogger(__name__)
_BIG = BigInteger().with_variant(Integer(), "sqlite")
PDF_STATUSES = {"queued": "в очереди", "running": "преобразуется", "done": "готов", "failed": "ошибка"}
NOT_INSTALLED = "Для выгрузки в PDF на сервере должен быть установлен LibreOffice."
INTERNAL_ERROR = "Внутренняя ошибка при преобразовании в PDF; сообщите администратору номер документа."
DEFAULT_TIMEOUT = 120  # seconds one conversion may take (config PDF_TIMEOUT)
JOB_TIMEOUT = 600


class DocumentPdf(db.Model):
    """The PDF of one registered version: converted once from its registered copy, stored with its SHA-256."""

    __tablename__ = "document_pdfs"
    __table_args__ = (
        CheckConstraint("status IN ('queued','running','done','failed')", name="status"),
        CheckConstraint("(status = 'done') = (sha256 IS NOT NULL)", name="sha256_iff_done"),
        CheckConstraint("size IS NULL OR size > 0", name="size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id", ondelete="CASCADE"), unique=True)
    path: Mapped[str | None] = mapped_column(String(500))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(_BIG)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    error: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    converted_at: Mapped[datetime | None]

    doc_version: Mapped[DocumentVersion] = relationship()

    @property
    def organisation(self):
        return self.doc_version.organisation


registry.register(registry.TrackedKind(
    name="document_pdf", model=DocumentPdf, job="app.documents.pdf.convert_pdf", label="PDF-экземпляр",
    message="error", job_id_column=None, internal_error=INTERNAL_ERROR,
    lost="Преобразование в PDF прервано: фоновый процесс был остановлен. Запросите PDF снова."))


class ConversionFailed(DomainError):
    """LibreOffice did not produce a PDF (exit code, timeout, empty output): the message is shown to users."""

    status_code = 422


# --- LibreOffice ---------------------------------------------------------------------------------------

def find_soffice() -> str | None:
    """The LibreOffice executable: config SOFFICE_PATH when set, else `soffice` or `libreoffice` on PATH."""
    configured = current_app.config.get("SOFFICE_PATH")
    if configured:
        return configured if Path(configured).is_file() else shutil.which(configured)
    return shutil.which("soffice") or shutil.which("libreoffice")


def _run(command: list[str], *, timeout: int, cwd: Path) -> subprocess.CompletedProcess:
    """subprocess.run in a process group of its own, all of which is killed on timeout. `soffice` is a launcher
    (a script, then oosplash) whose child soffice.bin does the work: run()'s own timeout killed only the launcher,
    and soffice.bin went on for minutes with a gigabyte of memory, once per retried job, writing into a deleted
    directory (attack 7: a document with a picture of 30,000 × 30,000 pixels)."""
    # S603: an argument list (no shell); the program is the configured soffice, the paths our temp files.
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,  # noqa: S603
                          start_new_session=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # the group ended by itself meanwhile
            process.communicate()
            raise
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def convert_docx(data: bytes, *, soffice: str | None = None, timeout: int | None = None) -> bytes:
    """The PDF bytes of a .docx, converted by LibreOffice in a private temporary directory (its own user
    profile, input and output), so conversions running at the same time never collide. Raises
    ConversionFailed with a Russian message."""
    soffice = soffice or find_soffice()
    if not soffice:
        raise ConversionFailed(NOT_INSTALLED)
    timeout = timeout or int(current_app.config.get("PDF_TIMEOUT", DEFAULT_TIMEOUT))
    with tempfile.TemporaryDirectory(prefix="uko-pdf-") as work:
        work = Path(work)
        source = work / "document.docx"
        source.write_bytes(data)
        out = work / "out"
        command = [soffice, "--headless", "--norestore", "--nolockcheck",
                   f"-env:UserInstallation={(work / 'profile').as_uri()}",
                   "--convert-to", "pdf", "--outdir", str(out), str(source)]
        try:
            result = _run(command, timeout=timeout, cwd=work)
        except subprocess.TimeoutExpired:
            raise ConversionFailed(f"Не удалось преобразовать документ в PDF: LibreOffice не уложился в {timeout} с."
                                   ) from None
        except OSError as exc:
            raise ConversionFailed(f"Не удалось запустить LibreOffice для преобразования в PDF ({exc.strerror}).") \
                from None
        target = out / "document.pdf"
        if result.returncode != 0 or not target.is_file():
            log.warning("soffice exit %s: %s", result.returncode, result.stderr.decode(errors="replace")[-2000:])
            raise ConversionFailed(f"Не удалось преобразовать документ в PDF: LibreOffice завершился с ошибкой "
                                   f"(код {result.returncode}).")
        pdf = target.read_bytes()
    if not pdf.startswith(b"%PDF"):
        raise ConversionFailed("Не удалось преобразовать документ в PDF: LibreOffice вернул не PDF-файл.")
    return pdf


# --- reading -------------------------------------------------------------------------------------------

def pdf_of(version: DocumentVersion) -> DocumentPdf | None:
    return db.session.scalars(select(DocumentPdf).where(DocumentPdf.version_id == version.id)).first()


def pdf_path(pdf: DocumentPdf) -> Path | None:
    return storage_root() / pdf.path if pdf.path else None


def download_name(version: DocumentVersion, *, published: bool = False) -> str:
    return docx_name(version, published=published).removesuffix(".docx") + ".pdf"


@bp.app_template_global()
def document_pdf(version) -> dict:
    """What the document page shows for a version's PDF: whether LibreOffice is there, the row if any."""
    return {"available": find_soffice() is not None, "pdf": pdf_of(version), "statuses": PDF_STATUSES,
            "not_installed": NOT_INSTALLED}


# --- requesting ----------------------------------------------------------------------------------------

def request_pdf(version: DocumentVersion, *, actor) -> DocumentPdf:
    """Queue the PDF of a registered version (after commit). A PDF already made or being made is returned as it
    is (never converted twice); a failed one is queued again. Refused in Russian when the version is not
    registered, its registered copy is not made yet, or LibreOffice is not installed. Flushes, never commits."""
    if not actor.roles_over(version.organisation):
        raise PermissionDenied("Недостаточно прав для выгрузки документа.")
    if not version.registration_number or not version.signed:
        raise ValidationFailed("В PDF выгружается только зарегистрированная редакция документа.")
    if version.registered_status != "done" or not version.registered_path:
        raise ValidationFailed("Зарегистрированный экземпляр ещё не изготовлен: PDF можно будет получить после "
                               "его изготовления.")
    existing = pdf_of(version)
    if existing is not None and existing.status != "failed":
        return existing
    if find_soffice() is None:
        raise ValidationFailed(NOT_INSTALLED)
    if existing is None:
        pdf = DocumentPdf(version_id=version.id, status="queued", requested_by_id=actor.id)
        try:
            with db.session.begin_nested():  # one row per version, even for two requests at the same moment
                db.session.add(pdf)
                db.session.flush()
        except IntegrityError:
            return pdf_of(version)
    else:
        pdf = existing
        pdf.status, pdf.error, pdf.requested_by_id = "queued", None, actor.id
        db.session.flush()
    enqueue_tracked("document_pdf", pdf.id)
    return pdf


def _store(doc, data: bytes) -> str:
    """Write the PDF atomically under STORAGE_DIR/documents/<doc id>/ with a random name; the relative path."""
    relative = f"documents/{doc.id}/{uuid.uuid4().hex}.pdf"
    target = storage_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=".pdf-", dir=target.parent)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(temp_name, target)
    return relative


# --- the job -------------------------------------------------------------------------------------------

def produce_pdf(pdf: DocumentPdf) -> None:
    """Convert the version's registered copy (checked against its SHA-256 first) and store the PDF. No commit."""
    version = pdf.doc_version
    check = verify_registered(version)
    if check is None or not check.ok:
        reason = check.message if check is not None else "зарегистрированный экземпляр не изготовлен."
        raise ConversionFailed(f"PDF не сформирован: {reason}")
    data = convert_docx(registered_path(version).read_bytes())
    final = _store(version.document, data)
    pdf.path, pdf.sha256, pdf.size = final, hashlib.sha256(data).hexdigest(), len(data)
    pdf.status, pdf.error, pdf.converted_at = "done", None, utcnow()


@job(queue="documents", timeout=JOB_TIMEOUT)
def convert_pdf(pdf_id: int) -> None:
    """The job: convert one queued PDF through app.jobs.tracked.run_tracked; a row no longer queued is left
    alone (idempotent)."""
    run_tracked("document_pdf", [pdf_id], lambda _ids: produce_pdf(db.session.get(DocumentPdf, pdf_id)))

"""What each upload of the system accepts, decided by the file's content (its magic bytes), never by its name.

One table, PURPOSES: every place that takes a file from a user names its purpose and calls `check` (or
`check_stream`) before storing or parsing anything. A purpose lists the types it accepts; `sniff` tells a
file's type from its first bytes (and, for ZIP containers, from the names of their parts, read from the
central directory without unpacking anything). A renamed program (`.exe` → `.pdf`) is therefore refused with
a Russian message saying what the file really is.

Upload purposes and their call sites:
    evidence         app/documents/attachments.py attach()  (recommendation reports, measures, decisions, …)
    signed_scan      app/documents/attachments.py attach(kind="scan")   (via documents.attach_signed_copy)
    signature        app/documents/attachments.py attach(kind="signature")
    import           app/imports/services.py start_import()  (web form, API /imports, `flask import`)
    monitoring_xlsx  app/monitoring/views.py upload_values   (a school's answer to a data request)
    risk_csv         app/analysis/views.py import_risk_profile
    template         app/documents/template_admin.py upload()
"""

import codecs
import io
import unicodedata
import zipfile
from dataclasses import dataclass

from app.core.errors import ValidationFailed
import base64
import binascii

HEAD_BYTES = 8192

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# type → (Russian description, MIME type served on download)
TYPES = {
    "pdf": ("документ PDF", "application/pdf"),
    "docx": ("документ Word (DOCX)", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("книга Excel (XLSX)", XLSX_MIME),
    "pptx": ("презентация PowerPoint (PPTX)",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "odt": ("документ OpenDocument (ODT)", "application/vnd.oasis.opendocument.text"),
    "ods": ("таблица OpenDocument (ODS)", "application/vnd.oasis.opendocument.spreadsheet"),
    "ole": ("документ Microsoft Office 97–2003 (DOC, XLS)", "application/octet-stream"),
    "jpeg": ("изображение JPEG", "image/jpeg"),
    "png": ("изображение PNG", "image/png"),
    "tiff": ("изображение TIFF", "image/tiff"),
    "cms": ("файл электронной подписи (CMS/PKCS#7)", "application/pkcs7-signature"),
    "text": ("текстовый файл (CSV)", "text/csv"),
    "text_utf16": ("текст в кодировке UTF-16", None),
    # Never accepted; named so that the refusal says what the file is.
    "exe": ("исполняемая программа (EXE, DLL)", None),
    "elf": ("исполняемая программа (ELF)", None),
    "zip": ("архив ZIP", None),
    "zip_damaged": ("повреждённый архив ZIP", None),
    "rar": ("архив RAR", None),
    "7z": ("архив 7-Zip", None),
    "gzip": ("архив GZIP", None),
    "gif": ("изображение GIF", None),
    "html": ("веб-страница (HTML)", None),
    "unknown": ("файл неизвестного или двоичного формата", None),
}
ZIP_TYPES = frozenset({"docx", "xlsx", "pptx", "odt", "ods"})
# Near misses a parsing purpose lets through to its parser, whose message says exactly what is wrong.
_DEFERRED = {"zip_damaged": ZIP_TYPES, "text_utf16": frozenset({"text"})}


@dataclass(frozen=True)
class Purpose:
    label: str  # Russian: what the upload is for
    types: tuple[str, ...]
    # The content is parsed right after the check (workbook, template): a broken container is left to the
    # parser, whose message is more precise than «повреждённый архив».
    parsed: bool = False
    hint: str = ""
    # For a ZIP package parsed in the web process or kept as evidence: the most its parts may unpack to, in bytes
    # (None: not checked here; the import and the school's workbook have their own, stricter readers).
    max_unpacked: int | None = None


EVIDENCE_TYPES = ("pdf", "docx", "xlsx", "pptx", "odt", "ods", "ole", "jpeg", "png", "tiff")
PURPOSES = {
    # Stored, not parsed here, but opened by whoever downloads it (and packed into evidence packages): a 200 KB
    # «.docx» whose one part unpacked to 200 MB was kept as evidence (attack 12). A real package of the 25 MB
    # attachment limit (a workbook of XML packed 20:1) unpacks to under this.
    "evidence": Purpose("подтверждающие документы", EVIDENCE_TYPES, max_unpacked=512 * 1024 * 1024),
    "signed_scan": Purpose("скан подписанного экземпляра", ("pdf",)),
    "signature": Purpose("файл электронной подписи", ("cms",)),
    "import": Purpose("импорт данных", ("text", "xlsx"), parsed=True,
                      hint="Сохраните таблицу как CSV (UTF-8 или Windows-1251) или XLSX."),
    "monitoring_xlsx": Purpose("значения показателей", ("xlsx",), parsed=True,
                               hint="Файл не является книгой Excel (.xlsx). Скачайте форму из системы и заполните её."),
    "risk_csv": Purpose("результаты анкетирования", ("text",), hint="Нужен файл CSV."),
    "template": Purpose("шаблон документа", ("docx",), parsed=True,
                        hint="Загрузите шаблон в формате Word .docx: откройте его в Word или LibreOffice и сохраните "
                             "как .docx.",
                        # the shipped templates unpack to under 1 MB; a 158 KB upload that unpacked to 100 MB of
                        # text took the web worker to 6 GB before gunicorn killed it (attack 7)
                        max_unpacked=32 * 1024 * 1024),
}
# A part over PACKING_FLOOR that unpacks to more than MAX_PACKING_RATIO times its packed size is a zip bomb, not a
# document (real XML packs at most about 30:1; a small part may pack better, and cannot hurt). The one rule of the
# template upload here, the monitoring form's workbook and the results import.
MAX_PACKING_RATIO = 100
PACKING_FLOOR = 1024 * 1024


def overpacked(members) -> zipfile.ZipInfo | None:
    """The first part of a ZIP package's directory (`ZipFile.infolist()`) that packs like a zip bomb, or None:
    judged from the sizes the directory declares, before anything is unpacked."""
    return next((info for info in members if info.file_size > PACKING_FLOOR
                 and info.file_size > MAX_PACKING_RATIO * max(info.compress_size, 1)), None)

_MAGIC = (
    (b"%PDF", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"MZ", "exe"),
    (b"\x7fELF", "elf"),
    (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
# OID 1.2.840.113549.1.7.2 (PKCS#7 signedData), DER-encoded
_SIGNED_DATA_OID = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02"
_ODF = {b"application/vnd.oasis.opendocument.text": "odt",
        b"application/vnd.oasis.opendocument.spreadsheet": "ods"}


def sniff(data: bytes, whole=None) -> str:
    """The type of a file from its first bytes (`data`); `whole`: a seekable file object or the whole bytes,
    used only to read a ZIP's directory."""
    if not data:
        return "unknown"
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(whole if whole is not None else data)
    if b"%PDF" in data[:1024]:  # the PDF header may follow a few bytes of junk (some scanners)
        return "pdf"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "text_utf16"
    if _is_cms(data):
        return "cms"
    if _is_text(data):
        lowered = data[:512].lstrip().lower()
        if lowered.startswith((b"<!doctype html", b"<html", b"<script")):
            return "html"
        return "text"
    return "unknown"


def _zip_kind(source) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as fh:
                    kind = _ODF.get(fh.read(100).strip())
                if kind:
                    return kind
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return "zip_damaged"
    finally:
        if not isinstance(source, bytes):
            source.seek(0)
    # The main part names the format; whether the package is complete is the parser's question.
    for folder, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
        if any(name.startswith(folder) for name in names):
            return kind
    return "zip"


def _is_cms(data: bytes) -> bool:
    if data[:1] == b"\x30" and _SIGNED_DATA_OID in data[:64]:
        return True
    text = data[:4096].lstrip()
    if text.startswith((b"-----BEGIN PKCS7", b"-----BEGIN CMS", b"-----BEGIN SIGNED")):
        return True
    if text.startswith(b"MI"):  # base64 of DER (CryptoPro saves .sig files so)

        chunk = b"".join(text[:88].split())[:64]
        try:
            return _SIGNED_DATA_OID in base64.b64decode(chunk[: len(chunk) // 4 * 4])
        except (binascii.Error, ValueError):
            return False
    return False


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    # Which 8-bit encoding it is (UTF-8, Windows-1251) is the parser's question, with its own message.
    controls = sum(1 for b in data if b < 32 and b not in (9, 10, 12, 13))
    return controls <= len(data) // 100


# The extensions a file of each accepted type may carry; the first is given to a name that has none of them.
# Not for "ole": a 97–2003 file may be a DOC or an XLS, and a wrong extension would open it in the wrong program.
SUFFIXES = {"pdf": (".pdf",), "docx": (".docx",), "xlsx": (".xlsx",), "pptx": (".pptx",), "odt": (".odt",),
            "ods": (".ods",), "jpeg": (".jpg", ".jpeg", ".jpe"), "png": (".png",), "tiff": (".tif", ".tiff"),
            "cms": (".sig", ".p7s", ".p7m", ".p7b"), "text": (".csv", ".txt")}


def printable_name(filename: str | None, limit: int | None = 255) -> str:
    """A user's file name as a page lists it: NFC, without the characters that print as nothing or steer the text
    (control and format characters — a right-to-left override made «отчёт\u202exslx.exe» read «отчётexe.xlsx» and
    reversed the rest of its line), at most `limit` characters (None: all). Only for showing: no stored file is named
    by it."""
    name = unicodedata.normalize("NFC", str(filename or ""))
    return "".join(ch for ch in name if ch.isprintable()).strip()[:limit]


def named_as(kind: str, name: str, limit: int = 200) -> str:
    """`name` (already cleaned) ending in an extension of the type the content is, at most `limit` characters: a
    PDF uploaded as «отчёт.exe» (or as «…‮fdp.exe», whose right-to-left mark the cleaning drops) is downloaded as
    «отчёт.exe.pdf», and a long name keeps its extension when it is shortened."""
    suffixes = SUFFIXES.get(kind, ())
    dot = name.rfind(".")
    if dot > 0 and name[dot:].lower() in suffixes:
        stem, suffix = name[:dot], name[dot:]
    else:
        stem, suffix = name, (suffixes[0] if suffixes else "")
    return stem[:limit - len(suffix)] + suffix


def describe(kind: str) -> str:
    return TYPES.get(kind, TYPES["unknown"])[0]


def content_type(kind: str) -> str:
    return TYPES.get(kind, TYPES["unknown"])[1] or "application/octet-stream"


# Parts of any ZIP package accepted (a document, a workbook, a presentation has tens to a few thousand). Python's
# zipfile reads the whole directory before anything else — 2 s for 60,000 parts, a minute for the two million empty
# parts a 200 MB upload can hold — so the count is taken from the directory's end record first (attack 13).
ZIP_MAX_PARTS = 20_000
_EOCD = b"PK\x05\x06"


def zip_part_count(source) -> int | None:
    """The number of parts a ZIP's end-of-central-directory record declares (65,535 for a ZIP64 package, which
    declares more elsewhere), or None when there is no such record (a damaged archive: the parser's to report)."""
    if isinstance(source, bytes):
        tail = source[-(65_535 + 22):]
    else:
        start = source.tell()
        source.seek(0, io.SEEK_END)
        size = source.tell()
        source.seek(max(0, size - (65_535 + 22)))
        tail = source.read()
        source.seek(start)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) < at + 12:
        return None
    return int.from_bytes(tail[at + 10:at + 12], "little")


def _quoted(filename: str | None) -> str:
    """The file's name as a refusal quotes it (before «не принят»): printable, and short enough to read."""
    name = printable_name(filename, limit=120)
    return f"«{name}» " if name else ""


def check(purpose: str, data: bytes, filename: str | None, whole=None) -> str:
    """The file's type if `purpose` accepts it; ValidationFailed (Russian, names what the file is) otherwise."""
    spec = PURPOSES[purpose]
    if not data:
        raise ValidationFailed("Файл пуст.")
    if data.startswith(b"PK") and (parts := zip_part_count(whole if whole is not None else data) or 0) > ZIP_MAX_PARTS:
        name = _quoted(filename)
        parts, limit = (f"{n:,}".replace(",", "\u00a0") for n in (parts, ZIP_MAX_PARTS))
        raise ValidationFailed(f"Файл {name}не принят ({spec.label}): это архив ZIP из {parts} частей, а ни документ, "
                               f"ни книга Excel столько не содержат (допустимо не более {limit}). Загрузите сам "
                               "файл, не архив.")
    kind = sniff(data[:HEAD_BYTES], whole if whole is not None else data)
    if kind in spec.types:
        if kind in ZIP_TYPES and spec.max_unpacked is not None:
            _check_unpacked(whole if whole is not None else data, spec.max_unpacked)
        return kind
    if spec.parsed and _DEFERRED.get(kind, frozenset()) & set(spec.types):
        return kind
    allowed = ", ".join(describe(t) for t in spec.types)
    name = _quoted(filename)
    message = (f"Файл {name}не принят ({spec.label}): по содержимому это {describe(kind)}, а принимается "
               f"{allowed}. Расширение в имени файла значения не имеет.")
    if spec.hint:
        message += " " + spec.hint
    raise ValidationFailed(message)


def _check_unpacked(source, limit: int) -> None:
    """Refuse a ZIP package whose parts would unpack past `limit` bytes or pack suspiciously well, judged from
    its central directory before anything is unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return  # a broken package is the parser's to report (Purpose.parsed)
    finally:
        if not isinstance(source, bytes):
            source.seek(0)
    info = overpacked(members)
    if info is not None:
        part = printable_name(info.filename, limit=80)  # a part's name is the sender's too
        raise ValidationFailed(f"Файл отклонён: часть «{part}» сжата подозрительно сильно "
                               f"(в {info.file_size // max(info.compress_size, 1)} раз) — это «zip-бомба», а не "
                               "документ.")
    if sum(info.file_size for info in members) > limit:
        raise ValidationFailed(f"Файл отклонён: в распакованном виде он больше {limit // 1024 // 1024} МБ; "
                               "документ такого объёма не бывает.")


def check_stream(purpose: str, stream, filename: str | None):
    """`check` for a file object: returns (type, a stream that still yields the whole file)."""
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        start = stream.tell()
        head = stream.read(HEAD_BYTES)
        stream.seek(start)
        kind = check(purpose, head, filename, whole=stream if head.startswith(b"PK") else None)
        stream.seek(start)
        return kind, stream
    data = stream.read()  # not seekable (rare): read it whole; callers bound uploads by MAX_CONTENT_LENGTH
    kind = check(purpose, data, filename)
    return kind, io.BytesIO(data)

"""Where the documents feature keeps its files, and the checks of a stored file against its recorded SHA-256.

The bottom of the package: the jobs, the snapshot store, the PDF copies, the registered copy and the services
all read paths from here, so none of them imports the services for a path.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from app.core.timeutil import format_date
from app.documents.models import DocumentVersion


def storage_root() -> Path:
    path = Path(current_app.config["STORAGE_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def version_path(version: DocumentVersion) -> Path | None:
    return storage_root() / version.stored_path if version.stored_path else None


def download_name(version: DocumentVersion, *, published: bool = False) -> str:
    """The file name a version is saved under: its title, edition and registration number — or, `published` (the
    public pages), its title, number and date as the portal lists it («Положение о … № 1-лна от 07.12.2026.docx»):
    the office's «(ред. 2)» told the public of editions it never saw, and a number alone said nothing once saved."""
    doc = version.document
    base = " ".join(doc.title.replace("/", "-").replace("\\", "-").replace('"', "").split())[:150]
    if published:
        name = f"{base} № {version.registration_number} от {format_date(version.registration_date)}"
    else:
        suffix = f" № {version.registration_number}" if version.registration_number else ""
        name = f"{base} (ред. {version.number}){suffix}"
    return f"{name}.docx".replace("/", "-").replace("\\", "-")


# --- verification --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verification:
    ok: bool
    message: str
    actual_sha256: str | None = None
    registered: "Verification | None" = None  # the registered copy's own check, when it has been made


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def verify_signed(version: DocumentVersion) -> Verification:
    """Recompute the stored (signed) file's SHA-256 and compare it with the one recorded at generation and signing."""
    if version.status != "done" or not version.stored_path:
        return Verification(False, "Файл редакции ещё не сформирован.")
    path = version_path(version)
    if not path.is_file():
        return Verification(False, "Файл редакции отсутствует в хранилище.")
    actual = file_sha256(path)
    if actual != version.sha256:
        return Verification(False, "Файл в хранилище изменён: его контрольная сумма не совпадает с записанной "
                                   "при формировании.", actual)
    for signature in version.signatures:
        if signature.file_sha256 != actual:
            return Verification(False, f"Подпись {signature.signer_name} относится к другому содержимому файла.",
                                actual)
    if version.signatures:
        return Verification(True, "Файл не изменялся после подписания: контрольная сумма совпадает.", actual)
    return Verification(True, "Контрольная сумма файла совпадает с записанной при формировании.", actual)


def verify_registered(version: DocumentVersion) -> Verification | None:
    """The registered copy's check (None while it is not made): its file against its own recorded SHA-256."""
    if version.registered_status != "done" or not version.registered_path:
        return None
    path = registered_path(version)
    if not path.is_file():
        return Verification(False, "Файл зарегистрированного экземпляра отсутствует в хранилище.")
    actual = file_sha256(path)
    if actual != version.registered_sha256:
        return Verification(False, "Зарегистрированный экземпляр в хранилище изменён: его контрольная сумма не "
                                   "совпадает с записанной при изготовлении.", actual)
    return Verification(True, "Зарегистрированный экземпляр не изменялся: контрольная сумма совпадает.", actual)


def verify_version(version: DocumentVersion) -> Verification:
    """Both files of a version: the signed original and, once made, its registered copy. `ok` only when both
    match their recorded SHA-256; `actual_sha256` is the signed file's, `registered` the copy's own check."""
    signed = verify_signed(version)
    registered = verify_registered(version)
    if registered is None:
        return signed
    message = f"{signed.message} {registered.message}"
    return Verification(signed.ok and registered.ok, message, signed.actual_sha256, registered)


def registered_path(version: DocumentVersion) -> Path | None:
    return storage_root() / version.registered_path if version.registered_path else None


def registered_download_name(version: DocumentVersion) -> str:
    return download_name(version).removesuffix(".docx") + " — зарегистрированный экземпляр.docx"

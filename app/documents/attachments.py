"""Files attached to any object (evidence, protocols, scanned signed copies, detached signatures).

API used by every feature:

    attach(obj, *, stream, filename, kind, actor) -> Attachment
        `obj` has `.id`, `.audit_type` and `.organisation`. Stores the file under STORAGE_DIR/attachments
        (named by a uuid), records its SHA-256 and size, writes the audit event; flushes, never commits.
    attachments_of(obj, kind=None) -> list[Attachment]
    download: url_for("documents.download_attachment", attachment_id=...) — scoped by organisation (404 outside).
"""

import hashlib
import mimetypes
import os
import tempfile
import uuid
from pathlib import Path

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.audit import chain
from app.core import uploads
from app.core.errors import PermissionDenied, ValidationFailed
from app.documents.models import Attachment
from app.extensions import db
from app.imports.services import clean_filename

KINDS = {
    "evidence": "подтверждающий документ",
    "protocol": "протокол",
    "scan": "скан подписанного экземпляра",
    "signature": "файл электронной подписи",
    "report": "отчёт",
    "programme": "программа мероприятия",
    "other": "другое",
}
# Readers and auditors look; everyone else holding a role over the object's organisation may attach.
_NON_WRITERS = frozenset({"auditor"})
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_CHUNK = 1024 * 1024


class AttachmentTooLarge(ValidationFailed):
    status_code = 413


def max_bytes() -> int:
    config = current_app.config
    return int(config.get("ATTACHMENT_MAX_BYTES") or config.get("MONITORING_UPLOAD_MAX_BYTES") or DEFAULT_MAX_BYTES)


def storage_dir() -> Path:
    path = Path(current_app.config["STORAGE_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def attachment_path(attachment: Attachment) -> Path:
    return storage_dir() / attachment.stored_path


def content_type_of(filename: str) -> str:
    guessed, _ = mimetypes.guess_type(filename)
    if filename.lower().endswith((".sig", ".p7s")):
        return "application/pkcs7-signature"
    return guessed or "application/octet-stream"


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} МБ" if n >= 1024 * 1024 else f"{n} байт"


def store_stream(stream, *, subdir: str, limit: int | None = None) -> tuple[str, str, int]:
    """Copy `stream` to a new file STORAGE_DIR/<subdir>/<uuid>; return (relative path, sha256, size).

    Refuses empty files and files over `limit` (AttachmentTooLarge) without leaving anything behind."""
    directory = storage_dir() / subdir
    directory.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, temp_name = tempfile.mkstemp(prefix=".upload-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if limit is not None and size > limit:
                    raise AttachmentTooLarge(f"Файл слишком большой: допускается не более {_mb(limit)}.")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ValidationFailed("Файл пуст.")
        relative = f"{subdir}/{uuid.uuid4().hex}"
        os.replace(temp_name, storage_dir() / relative)
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise
    _kept_on_commit(db.session(), storage_dir() / relative)
    return relative, digest.hexdigest(), size


# --- a stored file lives as long as the transaction that records it ----------------------------------------------
#
# The file is written before its row, and a refusal after that (a report without its text, a stale version, a race
# lost) rolled the row and its audit event back but left the file: three refused reports of two 2 MB files each left
# six files on the disk that nothing named, so a user could fill the disk unseen, 200 MB a request (attack 18).
# A file stored in a transaction is deleted when that transaction ends without committing.

_STORED = "attachments.stored_files"


def _kept_on_commit(session: Session, path: Path) -> None:
    session.info.setdefault(_STORED, []).append(path)


@event.listens_for(Session, "after_commit")
def _stored_files_committed(session: Session) -> None:
    # Also called when a savepoint is released: the files stay listed until the outermost transaction commits.
    if session.get_nested_transaction() is None:
        session.info.pop(_STORED, None)


@event.listens_for(Session, "after_transaction_end")
def _stored_files_rolled_back(session: Session, transaction) -> None:
    if transaction.parent is None:
        for path in session.info.pop(_STORED, ()):
            path.unlink(missing_ok=True)


def check_upload(purpose: str, stream, filename: str | None):
    """`uploads.check_stream` once the file is known to be within the attachment limit. The content check reads a
    ZIP's directory, and a 130 MB upload of a million and a half empty parts (under the request limit, far over this
    one) held a web worker for 20 seconds and 800 MB before `store_stream` said it was too large (attack 12)."""
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():  # else store_stream counts it as it copies
        start = stream.tell()
        size = stream.seek(0, os.SEEK_END) - start
        stream.seek(start)
        if size > max_bytes():
            raise AttachmentTooLarge(f"Файл слишком большой: допускается не более {_mb(max_bytes())}.")
    return uploads.check_stream(purpose, stream, filename)


def may_attach(actor, org) -> bool:
    """Whether `attach` would accept a file from `actor` for an object of `org` (a page offers its upload form only
    then: the auditor was shown «Прикрепить» and refused after choosing the file)."""
    return bool(actor.roles_over(org) - _NON_WRITERS)


def _writer_role(actor, org) -> str:
    roles = actor.roles_over(org) - _NON_WRITERS
    if not roles:
        raise PermissionDenied("Недостаточно прав, чтобы прикладывать файлы к этому объекту.")
    return sorted(roles)[0]


def snapshot(attachment: Attachment) -> dict:
    return {"attachment_id": attachment.id, "kind": attachment.kind, "original_name": attachment.original_name,
            "sha256": attachment.sha256, "size": attachment.size}


# The upload purpose (app/core/uploads.py) of each kind: what its content may be.
UPLOAD_PURPOSES = {"scan": "signed_scan", "signature": "signature"}


def attach(obj, *, stream, filename: str | None, kind: str, actor) -> Attachment:
    """Store an uploaded file as an attachment of `obj` and audit it; its content must be of a type the kind
    accepts (app/core/uploads.py: evidence documents and images, a PDF scan, a CMS signature), whatever its
    name says. Flushes, never commits."""
    if not kind or len(kind) > 20:
        raise ValueError(f"bad attachment kind {kind!r}")
    org = obj.organisation
    role = _writer_role(actor, org)
    name = clean_filename(filename, limit=10_000)
    detected, stream = check_upload(UPLOAD_PURPOSES.get(kind, "evidence"), stream, name[:200])
    name = uploads.named_as(detected, name)
    relative, sha, size = store_stream(stream, subdir="attachments", limit=max_bytes())
    attachment = Attachment(owner_type=obj.audit_type, owner_id=obj.id, organisation_id=org.id, kind=kind,
                            original_name=name, stored_path=relative, content_type=uploads.content_type(detected),
                            sha256=sha, size=size, uploaded_by_id=actor.id)
    db.session.add(attachment)
    db.session.flush()
    chain.record(action="attach", object_type=obj.audit_type, object_id=obj.id, actor=actor, actor_role=role,
                 cycle_id=getattr(obj, "audit_cycle_id", None), organisation_id=org.id, after=snapshot(attachment))
    return attachment


def attachments_of(obj, kind: str | None = None) -> list[Attachment]:
    query = select(Attachment).where(Attachment.owner_type == obj.audit_type, Attachment.owner_id == obj.id)
    if kind is not None:
        query = query.where(Attachment.kind == kind)
    return list(db.session.scalars(query.order_by(Attachment.uploaded_at, Attachment.id)))


def kind_label(kind: str) -> str:
    return KINDS.get(kind, kind)

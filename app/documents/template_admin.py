"""Template administration (issue 3 item 7): uploaded versions of a document type's Word template.

The shipped file in document_templates/ is the built-in fallback, numbered by its sidecar's `version` (1 unless
raised); a rebuilt template that changed what it prints raises it and keeps the file it replaces in
document_templates/previous/, so a version made from the earlier one is still re-rendered from it. An
administrator uploads a new .docx for a type; it is stored under STORAGE_DIR/document_templates/
(named by a uuid, SHA-256 recorded, never overwritten) and validated at once (rendering.check_template: Word
file, Jinja syntax with the line, variables used but not declared in the sidecar or declared but unused, and a
rendering against sample data). Every upload stays in the history with its validation result; only a valid
one can be activated, and activation checks it again. The active version is what new documents are rendered
with (jobs.produce records its number on the DocumentVersion); the registered copy of a version is rendered
with the template version that version was made from (`template_for`). Upload and activation are audited.

Sample data: the snapshot of the latest generated document of the type (real data, as signed), with any
declared variable it lacks filled from a synthetic sample; with no document of the type yet, the synthetic
sample alone (`_Sample`: any field, two items in any list, a small picture for any chart).
"""

import base64
import hashlib
import io
import os
import re
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_app_context
from markupsafe import Markup, escape
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.audit import chain
from app.auth.models import User
from app.core.errors import GuardFailed, PermissionDenied, ValidationFailed
from app.core.timeutil import utcnow
from app.documents import rendering, snapshot
from app.documents.catalogue import document_types, get_type
from app.documents.models import Document, DocumentVersion
from app.documents.rendering import RenderError, declared_variables
from app.documents.storage import storage_root as root
from app.extensions import db
from app.imports.services import clean_filename
from app.core import uploads

_BIG = BigInteger().with_variant(Integer(), "sqlite")
SUBDIR = "document_templates"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_BYTES = 10 * 1024 * 1024
AUDIT_TYPE = "document_template"


class TemplateVersion(db.Model):
    """One uploaded version of a document type's Word template, with the result of its validation."""

    __tablename__ = "document_template_versions"
    __table_args__ = (
        UniqueConstraint("type_key", "number"),
        # At most one active upload per type (none active: the shipped template is in use).
        Index("uq_document_template_versions_active", "type_key", unique=True,
              sqlite_where=text("active"), postgresql_where=text("active")),
        CheckConstraint("valid OR NOT active", name="active_only_if_valid"),
        CheckConstraint("size > 0", name="size"),
        CheckConstraint("number > 1", name="number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type_key: Mapped[str] = mapped_column(String(60))
    number: Mapped[int] = mapped_column(SmallInteger)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(500), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(_BIG)
    valid: Mapped[bool] = mapped_column(Boolean)
    problems: Mapped[list] = mapped_column(db.JSON, default=list)
    sample_source: Mapped[str | None] = mapped_column(String(300))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    activated_at: Mapped[datetime | None]
    activated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
    activated_by: Mapped[User | None] = relationship(foreign_keys=[activated_by_id])

    audit_type = AUDIT_TYPE

    @property
    def label(self) -> str:
        return upload_label(self.number)


# An uploaded version's label on a document carries a mark the built-in versions' labels never have: numbered alike,
# an upload «3» was taken for the shipped version 3 of a later release (or the other way round).
UPLOAD_MARK = "з"


def upload_label(number: int) -> str:
    return f"{UPLOAD_MARK}{number}"


# --- which template renders ------------------------------------------------------------------------

@dataclass(frozen=True)
class ResolvedTemplate:
    """The template bytes a rendering uses and the version label a document records."""

    number: int
    data: bytes
    upload: TemplateVersion | None = None

    @property
    def label(self) -> str:
        return upload_label(self.number) if self.upload is not None else str(self.number)


def builtin_number(type_key: str) -> int:
    return rendering.template_version(type_key, builtin=True)


def builtin(type_key: str) -> ResolvedTemplate:
    return ResolvedTemplate(builtin_number(type_key), rendering.template_bytes(type_key))


_BYTES_CACHE: dict[tuple, bytes] = {}


def storage_root():
    return root()


def read_version(tv: TemplateVersion) -> bytes:
    """The stored file of an uploaded version, checked against its SHA-256 (files are never rewritten)."""
    path = storage_root() / tv.stored_path
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise RenderError(f"Файл шаблона версии {tv.number} отсутствует в хранилище.") from None
    key = (str(path), tv.sha256, stat.st_mtime_ns, stat.st_size)  # a file changed on disk is read and checked again
    if key in _BYTES_CACHE:
        return _BYTES_CACHE[key]
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != tv.sha256:
        raise RenderError(f"Файл шаблона версии {tv.number} изменён в хранилище (контрольная сумма не совпадает).")
    _BYTES_CACHE[key] = data
    return data


def active_version(type_key: str) -> TemplateVersion | None:
    return db.session.scalar(select(TemplateVersion).where(TemplateVersion.type_key == type_key,
                                                           TemplateVersion.active.is_(True)))


def active_template(type_key: str) -> ResolvedTemplate:
    """The template new documents of the type are rendered with: the active upload, else the shipped file."""
    upload = active_version(type_key) if has_app_context() else None
    if upload is None:
        return builtin(type_key)
    return ResolvedTemplate(upload.number, read_version(upload), upload)


def _upload_numbered(type_key: str, number: int) -> TemplateVersion | None:
    return db.session.scalar(select(TemplateVersion).where(TemplateVersion.type_key == type_key,
                                                           TemplateVersion.number == number))


def template_for(type_key: str, label: str | None) -> bytes:
    """The bytes of the template version `label` (as recorded on a DocumentVersion) of the type. A version made
    before versions were recorded (no label) was made from the shipped template."""
    # a stored label, read as the rest of the code reads numbers: the digits 0–9 only (str.isdigit takes «²»)
    match = re.fullmatch(rf"({UPLOAD_MARK}?)([0-9]{{1,4}})", str(label)) if label is not None else None
    number = int(match[2]) if match else None
    if match and match[1]:  # an uploaded version, and only that
        upload = _upload_numbered(type_key, number)
        if upload is not None:
            return read_version(upload)
    elif label is None or number == builtin_number(type_key):
        return builtin(type_key).data
    elif number is not None:
        previous = rendering.previous_template_bytes(type_key, number)
        if previous is not None:
            return previous
        # A plain number recorded before uploads had their own labels, of no built-in version kept: an upload.
        upload = _upload_numbered(type_key, number)
        if upload is not None:
            return read_version(upload)
    raise RenderError(f"Версия шаблона {label}, с которой сформирован документ, не найдена.")


# --- sample data ---------------------------------------------------------------------------------

# A 1×1 PNG: the picture any chart of the synthetic sample shows.
_PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


class _Sample:
    """A permissive stand-in for any declared value: every field and item is another sample, a list has two
    items, it prints as «[имя]». It checks the template's structure (loops, conditions, filters), not data."""

    def __init__(self, name: str):
        self._name = name

    def __str__(self):
        return f"[{self._name}]"

    def __html__(self):
        return Markup(escape(str(self)))  # noqa: S704 (escaped right here)

    def __format__(self, spec):
        return str(self)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Sample(f"{self._name}.{attr}")

    def __getitem__(self, key):
        return _Sample(f"{self._name}[{key}]")

    def __call__(self, *args, **kwargs):
        return self

    def __iter__(self):
        return iter([_Sample(f"{self._name}[1]"), _Sample(f"{self._name}[2]")])

    def __len__(self):
        return 2

    def __bool__(self):
        return True

    def __contains__(self, item):
        return False

    def __eq__(self, other):
        return isinstance(other, _Sample)

    def __hash__(self):
        return 0

    def __lt__(self, other):
        return False

    __le__ = __gt__ = __ge__ = __lt__

    def __int__(self):
        return 2

    def __float__(self):
        return 2.0

    def __index__(self):
        return 2

    def __round__(self, ndigits=None):
        return 2

    def __neg__(self):
        return self

    __pos__ = __abs__ = __neg__

    def _arith(self, other):
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _arith
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = _arith


def synthetic_context(type_key: str) -> dict:
    """A sample value for every variable the sidecar declares (charts: a small picture under any name)."""
    context = {name: _Sample(name) for name in sorted(declared_variables(type_key))}
    if "charts" in context:
        context["charts"] = {_Sample("charts"): _PIXEL_PNG}
    return context


def sample_context(type_key: str) -> tuple[dict, str]:
    """(context, where it came from): the latest generated document of the type, completed synthetically."""
    synthetic = synthetic_context(type_key)
    latest = db.session.scalars(
        select(DocumentVersion).join(Document).where(Document.type_key == type_key, DocumentVersion.status == "done",
                                                     DocumentVersion.context_snapshot.is_not(None))
        .order_by(DocumentVersion.generated_at.desc(), DocumentVersion.id.desc()).limit(3))
    for version in latest:
        try:
            context = snapshot.load(version.context_snapshot)
        except ValidationFailed:
            continue  # a chart file is gone: try an older document, then the synthetic sample
        source = (f"данные документа «{version.document.title}» (№ {version.document_id}, редакция "
                  f"{version.number})")
        missing = sorted(set(synthetic) - set(context))
        if missing:
            source += "; без данных для " + ", ".join(f"«{n}»" for n in missing) + " — условные значения"
        return {**synthetic, **context}, source
    return synthetic, "условные данные по описанию переменных (документов этого вида ещё нет)"


# --- upload and activation -----------------------------------------------------------------------

def _read_upload(stream) -> bytes:
    limit = max_upload_bytes()
    data = stream.read(limit + 1)
    if not data:
        raise ValidationFailed("Файл пуст.")
    if len(data) > limit:
        raise ValidationFailed(f"Файл слишком большой: допускается не более {limit // 1024 // 1024} МБ.")
    return data


# The check of an upload (docxtpl's parse, the sandboxed rendering with sample data, the search for outside links)
# runs in the web request and grows faster than the markup: 85 000 tags took 2 s, 205 000 6 s, a 4.6 MB template of
# 100 000 short paragraphs (440 000 tags) 50 s — past gunicorn's timeout, the administrator got no answer (attack 15).
# The largest shipped template has 27 000.
TEMPLATE_MAX_TAGS = 200_000


def _markup_tags(data: bytes) -> int:
    """The XML tags of a .docx's parts, each counted by its «<» (the parts unpack to at most 32 MB: uploads.check)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(archive.read(info).count(b"<") for info in archive.infolist()
                   if info.filename.endswith((".xml", ".rels")))


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _store(type_key: str, data: bytes) -> str:
    """Write the file under STORAGE_DIR/document_templates/<type>/ with a fresh name; refuse to overwrite."""
    relative = f"{SUBDIR}/{type_key}/{uuid.uuid4().hex}.docx"
    target = storage_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "xb") as out:  # "x": an existing file is never overwritten
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    return relative


def next_number(type_key: str) -> int:
    top = db.session.scalar(select(func.max(TemplateVersion.number)).where(TemplateVersion.type_key == type_key))
    return max(top or 0, builtin_number(type_key)) + 1


def snapshot_of(tv: TemplateVersion) -> dict:
    return {"type_key": tv.type_key, "number": tv.number, "original_name": tv.original_name, "sha256": tv.sha256,
            "size": tv.size, "valid": tv.valid, "problems": list(tv.problems or [])}


def require_template_admin(actor) -> None:
    """A template renders the documents of every organisation of the region: only a regional administrator
    manages templates (a municipality's administrator activated the region's order template; attack 7)."""
    if not actor.is_regional_admin:
        raise PermissionDenied("Шаблоны документов общие для всего региона: их загружает и меняет только "
                               "администратор регионального уровня.")


def upload(type_key: str, *, stream, filename: str | None, actor) -> TemplateVersion:
    """Store and validate a new version of the type's template; it is not activated. A file that is not a
    Word .docx is refused (ValidationFailed, nothing stored); a .docx with problems is kept in the history as
    not valid, with the problems. Flushes and audits, never commits."""
    require_template_admin(actor)
    get_type(type_key)
    name = clean_filename(filename)
    if not name.lower().endswith(".docx"):
        raise ValidationFailed("Загрузите шаблон в формате Word .docx (файл «.doc», PDF и другие не подходят).")
    data = _read_upload(stream)

    uploads.check("template", data, name)  # a Word .docx by content (app/core/uploads.py)
    if not _is_docx(data):
        raise ValidationFailed("Файл не является документом Word (.docx): откройте шаблон в Word или LibreOffice "
                               "и сохраните его в формате .docx.")
    if (tags := _markup_tags(data)) > TEMPLATE_MAX_TAGS:
        counts = [f"{n:,}".replace(",", "\u00a0") for n in (tags, TEMPLATE_MAX_TAGS)]
        raise ValidationFailed(f"Шаблон слишком велик для проверки: в нём {counts[0]} элементов разметки Word, а "
                               f"допустимо не более {counts[1]} (в самом большом из поставляемых шаблонов около "
                               "27\u00a0000). Уберите лишнее содержимое: шаблон — это образец документа, а не сам "
                               "документ.")
    context, source = sample_context(type_key)
    problems = rendering.check_template(type_key, data, sample_context=context)
    tv = TemplateVersion(type_key=type_key, original_name=name, stored_path=_store(type_key, data),
                         sha256=hashlib.sha256(data).hexdigest(), size=len(data), valid=not problems,
                         problems=problems, sample_source=source[:300], uploaded_by_id=actor.id, active=False)
    for attempt in range(3):  # two uploads at the same moment: the later one takes the next number
        tv.number = next_number(type_key)
        try:
            with db.session.begin_nested():
                db.session.add(tv)
                db.session.flush()
            break
        except IntegrityError:
            if attempt == 2:
                (storage_root() / tv.stored_path).unlink(missing_ok=True)
                raise ValidationFailed("Одновременно загружаются другие версии этого шаблона; повторите загрузку.") \
                    from None
    chain.record(action="template_upload", object_type=AUDIT_TYPE, object_id=tv.id, actor=actor, actor_role="admin",
                 after=snapshot_of(tv))
    return tv


def _lock_type(type_key: str) -> None:
    """Serialise activations of one type (PostgreSQL row locks; SQLite serialises writers anyway)."""
    db.session.execute(select(TemplateVersion.id).where(TemplateVersion.type_key == type_key).with_for_update())


def activate(tv: TemplateVersion, *, actor) -> None:
    """Make `tv` the active template of its type. Only a valid upload, and only if it still passes the check
    against today's sidecar and sample data. Flushes and audits, never commits."""
    require_template_admin(actor)
    if not tv.valid:
        raise GuardFailed(f"Версия {tv.number} не прошла проверку и не может стать действующей.",
                          problems=list(tv.problems or []))
    _lock_type(tv.type_key)
    previous = active_version(tv.type_key)
    if previous is not None and previous.id == tv.id:
        raise ValidationFailed(f"Версия {tv.number} уже действует.")
    context, _source = sample_context(tv.type_key)
    problems = rendering.check_template(tv.type_key, read_version(tv), sample_context=context)
    if problems:
        raise GuardFailed(f"Версия {tv.number} больше не проходит проверку (изменилось описание шаблона или "
                          "данные) и не может стать действующей.", problems=problems)
    before = previous.number if previous is not None else builtin_number(tv.type_key)
    if previous is not None:
        previous.active = False
        db.session.flush()  # the partial unique index allows one active version per type at any moment
    tv.active, tv.activated_at, tv.activated_by_id = True, utcnow(), actor.id
    db.session.flush()
    chain.record(action="template_activate", object_type=AUDIT_TYPE, object_id=tv.id, actor=actor,
                 actor_role="admin", before={"type_key": tv.type_key, "active_version": before},
                 after={"type_key": tv.type_key, "active_version": tv.number, "sha256": tv.sha256})


def activate_builtin(type_key: str, *, actor) -> None:
    """Return the type to its shipped template (its sidecar's version). Flushes and audits, never commits."""
    require_template_admin(actor)
    get_type(type_key)
    _lock_type(type_key)
    previous = active_version(type_key)
    if previous is None:
        raise ValidationFailed("Встроенный шаблон уже действует.")
    previous.active = False
    db.session.flush()
    chain.record(action="template_activate", object_type=AUDIT_TYPE, object_id=None, actor=actor,
                 actor_role="admin", before={"type_key": type_key, "active_version": previous.number},
                 after={"type_key": type_key, "active_version": builtin_number(type_key)})


# --- pages ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TypeRow:
    doc_type: object
    active: TemplateVersion | None
    builtin_number: int
    uploads: int

    @property
    def active_number(self) -> int:
        return self.active.number if self.active is not None else self.builtin_number


def overview() -> list[TypeRow]:
    """Every document type with its active template version and the number of uploads."""
    actives = {tv.type_key: tv for tv in db.session.scalars(select(TemplateVersion).where(
        TemplateVersion.active.is_(True)))}
    counts = dict(db.session.execute(select(TemplateVersion.type_key, func.count()).group_by(
        TemplateVersion.type_key)).all())
    return [TypeRow(t, actives.get(key), builtin_number(key), counts.get(key, 0))
            for key, t in document_types().items()]


def history(type_key: str) -> list[TemplateVersion]:
    return list(db.session.scalars(select(TemplateVersion).where(TemplateVersion.type_key == type_key)
                                   .order_by(TemplateVersion.number.desc())))


def max_upload_bytes() -> int:
    return int(current_app.config.get("TEMPLATE_MAX_BYTES") or MAX_BYTES)

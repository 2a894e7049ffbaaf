"""Documents of a cycle (документы), their versions, approval steps, signatures, the registration journal,
and files attached to any object (attachments)."""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.db import Audited
from app.core.timeutil import utcnow
from app.documents.catalogue import document_types
from app.extensions import db
from app.orgs.models import Organisation

_BIG = BigInteger().with_variant(Integer(), "sqlite")


class Attachment(db.Model):
    """A file attached to any object (owner_type = the object's audit_type, owner_id = its id).

    The file lives under STORAGE_DIR named by a random uuid, never by the user's file name, which is
    kept (cleaned) for display and download only."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_owner", "owner_type", "owner_id"),
        CheckConstraint("size > 0", name="size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(500), unique=True)
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(_BIG)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    uploaded_by: Mapped[User | None] = relationship()

    audit_type = "attachment"


DOCUMENT_STATES = ("draft", "on_approval", "awaiting_signature", "signed", "registered", "published")
GENERATION_STATUSES = ("queued", "running", "done", "failed")
SIGN_MEANINGS = {"утверждаю": "утверждаю", "подписано": "подписано", "согласовано": "согласовано",
                 "ознакомлен": "ознакомлен"}


_NO_SUBJECT = "addressee_id IS NULL AND data_request_id IS NULL AND type_key <> 'data_request_letter'"
# Acts an organisation keeps once per track and period — one per cycle, since a cycle is one (track, owner, period):
# the положение is one document with editions, never a second one made from another stage.
ONE_PER_CYCLE_TYPES = ("regulation",)
_ONE_PER_CYCLE = "type_key IN (" + ", ".join(f"'{key}'" for key in ONE_PER_CYCLE_TYPES) + ")"
REGISTERED_STATUSES = ("queued", "running", "done", "failed")


class Document(Audited, db.Model):
    """Документ цикла of one type for one stage (and, for per-addressee types, one addressee).

    Its state follows workflows/document.py; the content lives in numbered versions (редакции). A version
    is written once by the generation job and never changes: a new edition is a new version."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("state IN ('draft','on_approval','awaiting_signature','signed','registered','published')",
                        name="state"),
        Index("ix_documents_stage_type", "stage_id", "type_key"),
        # One document per (stage, type, addressee | data request): two simultaneous first generations cannot
        # both create it (the loser's INSERT fails; services.generate_document refuses it in Russian). A letter
        # whose data request was deleted keeps data_request_id NULL, so letters stay out of the first index.
        Index("uq_documents_stage_type", "stage_id", "type_key", unique=True,
              sqlite_where=text(_NO_SUBJECT), postgresql_where=text(_NO_SUBJECT)),
        Index("uq_documents_stage_type_addressee", "stage_id", "type_key", "addressee_id", unique=True,
              sqlite_where=text("addressee_id IS NOT NULL"), postgresql_where=text("addressee_id IS NOT NULL")),
        Index("uq_documents_stage_type_data_request", "stage_id", "type_key", "data_request_id", unique=True,
              sqlite_where=text("data_request_id IS NOT NULL"), postgresql_where=text("data_request_id IS NOT NULL")),
        # One положение per cycle even when two stages make it at the same moment (services refuses it in Russian).
        Index("uq_documents_cycle_one_per_cycle", "cycle_id", "type_key", unique=True,
              sqlite_where=text(_ONE_PER_CYCLE), postgresql_where=text(_ONE_PER_CYCLE)),
        # A document owned by an object of a higher feature (an assessment campaign, a municipality of it) instead
        # of a cycle's stage: one per owner and type; the issuing organisation is stored (its journals, its scope).
        CheckConstraint("(stage_id IS NOT NULL AND cycle_id IS NOT NULL AND owner_type IS NULL) OR "
                        "(stage_id IS NULL AND cycle_id IS NULL AND owner_type IS NOT NULL AND owner_id IS NOT NULL "
                        "AND organisation_id IS NOT NULL)", name="owner"),
        Index("uq_documents_owner_type", "owner_type", "owner_id", "type_key", unique=True,
              sqlite_where=text("owner_type IS NOT NULL"), postgresql_where=text("owner_type IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    # The owner when it is not a stage: its audit_type and id (app/documents/owners.py), and the issuer.
    owner_type: Mapped[str | None] = mapped_column(String(40))
    owner_id: Mapped[int | None]
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    type_key: Mapped[str] = mapped_column(String(60))
    addressee_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    data_request_id: Mapped[int | None] = mapped_column(ForeignKey("data_requests.id", ondelete="SET NULL"),
                                                        index=True)
    title: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20), default="draft")
    return_comment: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    cycle = relationship("Cycle")
    stage = relationship("Stage")
    addressee: Mapped[Organisation | None] = relationship(foreign_keys=[addressee_id])
    issuer: Mapped[Organisation | None] = relationship(foreign_keys=[organisation_id])
    data_request = relationship("DataRequest")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    versions: Mapped[list["DocumentVersion"]] = relationship(
        back_populates="document", order_by="DocumentVersion.number", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}
    audit_type = "document"
    audit_fields = ("state", "type_key", "title", "addressee_id", "return_comment", "version")

    @property
    def organisation(self) -> Organisation:
        return self.issuer if self.owner_type is not None else self.cycle.owner

    @property
    def owner(self):
        """The object owning a document that is not a stage's (None for a stage's document)."""
        # Local: owners.py is the registry the higher features fill; the model needs it only for such documents.
        from app.documents.owners import owner_of

        return owner_of(self)

    @property
    def subject_title(self) -> str:
        """What the document belongs to, for task titles and lists: the cycle, or the owner's own words."""
        # Local: as in `owner` above.
        from app.documents.owners import subject_title

        return subject_title(self) if self.owner_type is not None else self.cycle.short_title

    @property
    def due_date(self):
        """The deadline of the tasks about the document: the stage's, or the owner's."""
        # Local: as in `owner` above.
        from app.documents.owners import due_date

        return due_date(self) if self.owner_type is not None else self.stage.deadline

    @property
    def current(self) -> "DocumentVersion | None":
        return self.versions[-1] if self.versions else None

    @property
    def doc_type(self):
        return document_types().get(self.type_key)


class DocumentVersion(db.Model):
    """Редакция документа: one generated file, immutable once written; signatures and registration attach here."""

    __tablename__ = "document_versions"
    __table_args__ = (
        UniqueConstraint("document_id", "number"),
        # Numbers are unique per journal and year (a version registered before journals existed has journal NULL
        # only if its organisation had no counter; the migration put every earlier one into a «general» journal).
        UniqueConstraint("registration_journal_id", "registration_year", "registration_seq"),
        CheckConstraint("status IN ('queued','running','done','failed')", name="status"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        CheckConstraint("(status = 'done') = (sha256 IS NOT NULL)", name="sha256_iff_done"),
        CheckConstraint("(registration_seq IS NULL) = (registration_number IS NULL)", name="registration_complete"),
        CheckConstraint("signed = (signed_at IS NOT NULL)", name="signed_at_iff_signed"),
        CheckConstraint("registered_status IS NULL OR registered_status IN ('queued','running','done','failed')",
                        name="registered_status"),
        CheckConstraint("registered_sha256 IS NULL OR registered_status = 'done'", name="registered_sha256_if_done"),
        CheckConstraint("registered_status IS NULL OR registration_number IS NOT NULL",
                        name="registered_copy_numbered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    progress: Mapped[int] = mapped_column(SmallInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    rq_job_id: Mapped[str | None] = mapped_column(String(64))
    params: Mapped[dict | None] = mapped_column(db.JSON)
    template_version: Mapped[str | None] = mapped_column(String(40))
    stored_path: Mapped[str | None] = mapped_column(String(500))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(_BIG)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    generated_at: Mapped[datetime | None]
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    signed_at: Mapped[datetime | None]
    registration_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    registration_journal_id: Mapped[int | None] = mapped_column(ForeignKey("document_journals.id"))
    registration_year: Mapped[int | None] = mapped_column(SmallInteger)
    registration_seq: Mapped[int | None]
    registration_number: Mapped[str | None] = mapped_column(String(40))
    registration_date: Mapped[date | None] = mapped_column(Date)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    superseded_at: Mapped[datetime | None]
    # The data the file was rendered from (plain JSON; charts stored as files beside it, see snapshot.py), so the
    # registered copy reproduces what was signed even when the cycle's data changed afterwards.
    context_snapshot: Mapped[dict | None] = mapped_column(db.JSON)
    # Зарегистрированный экземпляр: the signed content re-rendered with the registration number and date and the
    # signature requisites (jobs.generate_registered_copy). A separate file with its own SHA-256: the signed
    # file itself is never rewritten.
    registered_status: Mapped[str | None] = mapped_column(String(10))
    registered_error: Mapped[str | None] = mapped_column(Text)
    registered_path: Mapped[str | None] = mapped_column(String(500))
    registered_sha256: Mapped[str | None] = mapped_column(String(64))
    registered_size: Mapped[int | None] = mapped_column(_BIG)
    registered_at: Mapped[datetime | None]

    document: Mapped[Document] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    registered_by: Mapped[User | None] = relationship(foreign_keys=[registered_by_id])
    registration_journal: Mapped["DocumentJournal | None"] = relationship()
    approvals: Mapped[list["DocumentApproval"]] = relationship(
        back_populates="doc_version", order_by="DocumentApproval.round, DocumentApproval.position",
        cascade="all, delete-orphan")
    signatures: Mapped[list["Signature"]] = relationship(
        back_populates="doc_version", order_by="Signature.signed_at", cascade="all, delete-orphan")

    audit_type = "document_version"

    @property
    def organisation(self) -> Organisation:
        return self.document.organisation

    @property
    def audit_cycle_id(self) -> int:
        return self.document.cycle_id


class DocumentApproval(db.Model):
    """One step of a version's approval route (лист согласования): role, who decided, how, when."""

    __tablename__ = "document_approvals"
    __table_args__ = (
        UniqueConstraint("version_id", "round", "position"),
        CheckConstraint("decision IS NULL OR decision IN ('approved','returned')", name="decision"),
        CheckConstraint("(decision IS NULL) = (decided_at IS NULL)", name="decided_at_iff_decided"),
        CheckConstraint("decision IS NULL OR approver_id IS NOT NULL", name="approver_if_decided"),
        CheckConstraint("decision != 'returned' OR comment IS NOT NULL", name="comment_if_returned"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(SmallInteger, default=1)
    position: Mapped[int] = mapped_column(SmallInteger)
    role: Mapped[str] = mapped_column(String(30))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approver_name: Mapped[str | None] = mapped_column(String(200))
    approver_position: Mapped[str | None] = mapped_column(String(200))
    decision: Mapped[str | None] = mapped_column(String(10))
    comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]

    doc_version: Mapped[DocumentVersion] = relationship(back_populates="approvals")
    approver: Mapped[User | None] = relationship()


class Signature(db.Model):
    """A signature on one exact file: who (name and position as they were), meaning, when, the file's SHA-256."""

    __tablename__ = "signatures"
    __table_args__ = (
        CheckConstraint("meaning IN ('утверждаю','подписано','согласовано','ознакомлен','секретарь')", name="meaning"),
        UniqueConstraint("version_id", "signer_id", "meaning"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id", ondelete="CASCADE"), index=True)
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_position: Mapped[str | None] = mapped_column(String(200))
    signer_role: Mapped[str] = mapped_column(String(30))
    meaning: Mapped[str] = mapped_column(String(20))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    file_sha256: Mapped[str] = mapped_column(String(64))

    doc_version: Mapped[DocumentVersion] = relationship(back_populates="signatures")
    signer: Mapped[User] = relationship()


class DocumentJournal(Audited, db.Model):
    """Журнал регистрации of one kind of document at one organisation (приказы по основной деятельности,
    исходящие письма, протоколы …) with its number format: prefix + индекс дела + «/» + sequence + suffix
    («12-од», «01-15/123»). Sequences restart every calendar year (RegistrationJournal counts them)."""

    __tablename__ = "document_journals"
    __table_args__ = (
        UniqueConstraint("organisation_id", "code"),
        CheckConstraint("code <> ''", name="code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(20), default="", server_default="")
    suffix: Mapped[str] = mapped_column(String(20), default="", server_default="")
    file_index: Mapped[str] = mapped_column(String(30), default="", server_default="")
    position: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")

    organisation: Mapped[Organisation] = relationship()

    audit_type = "document_journal"
    audit_fields = ("code", "title", "prefix", "suffix", "file_index")

    def format(self, seq: int) -> str:
        """The registration number of the `seq`-th document of a year: «12-од», «01-15/123»."""
        index = f"{self.file_index}/" if self.file_index else ""
        return f"{self.prefix}{index}{seq}{self.suffix}"


class JournalType(db.Model):
    """Which journal a document type is registered in, per organisation (one journal per type)."""

    __tablename__ = "document_journal_types"
    __table_args__ = (UniqueConstraint("organisation_id", "type_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    type_key: Mapped[str] = mapped_column(String(60))
    journal_id: Mapped[int] = mapped_column(ForeignKey("document_journals.id", ondelete="CASCADE"), index=True)

    journal: Mapped[DocumentJournal] = relationship()


class RegistrationJournal(db.Model):
    """The counter of a journal for one calendar year: the last number given (gap-free, see registration.py).
    Rows from before journals existed were attached to each organisation's «general» journal by the migration."""

    __tablename__ = "registration_journals"
    __table_args__ = (UniqueConstraint("journal_id", "year"), CheckConstraint("last_number >= 0", name="last"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    journal_id: Mapped[int] = mapped_column(ForeignKey("document_journals.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    last_number: Mapped[int] = mapped_column(default=0)

"""The evidence package (пакет доказательств) of one municipality or of the whole campaign: a ZIP an expert or an
auditor downloads and checks without the system.

    manifest.json   {"campaign": {…}, "municipality": {…} | null, "files": [{"path", "sha256", "criterion",
                    "registration", "signer", "kind", "status", "note", …}, …]}
    manifest.csv    the same rows for people (UTF-8 with BOM, «;», like every CSV export of the system)
    scores.csv      the scores of the package's municipalities (the columns of `flask assessment scores`)
    audit.csv       the audit-log extract of the objects involved (app.audit.exports: each row with the hashed
                    content, its hash and the previous hash; `flask audit verify-extract audit.csv`)
    <MUN>/<mechanism>/<block>/…   the evidence documents as recorded at scoring time, their PDF where made, and
                    the approval and signature sheets (лист согласования, лист удостоверения) as CSV
    <MUN>/attachments/…           the files the coordinator attached as evidence

A document that was evidence and was superseded later is packaged as it was scored: the file whose SHA-256 is the
one recorded on the evidence item (EvidenceItem.sha256). When the stored bytes no longer have that hash the file is
left out and its manifest row says so (`status` «mismatch» with the hash found) — other bytes are never packaged
under a recorded hash.

Built by a tracked job (app/assessment/jobs.py) or inline by `flask assessment export`, one municipality at a time
(its evidence, visas and signatures read as plain rows by statements built once, its files written, then forgotten);
the manifest's rows wait in temporary files, the scores are read a few municipalities at a time and the audit extract
names its objects by subqueries, and the ZIP writer (app.core.zipstream) keeps its central directory in a temporary
file — so memory does not grow with the region. The ZIP is written strictly forwards into a temporary file beside
its place, hashed on the way. A newer package of the same scope deletes the older ones' files (prune,
ASSESSMENT_PACKAGES_KEEP); requests and downloads are audited.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import stat
import tempfile
import uuid
from itertools import groupby
from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from functools import cache
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

from flask import current_app, has_request_context
from sqlalchemy import (
    BigInteger, CheckConstraint, ForeignKey, Integer, SmallInteger, String, Text, and_, bindparam, case, literal_column,
    null, or_, select, union_all,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, aliased, joinedload, mapped_column, relationship, selectinload

from app.assessment import services
from app.assessment.criteria import level_of
from app.assessment.models import (
    LEVELS, Assignment, Campaign, CampaignMunicipality, Criterion, EvidenceItem, Score, SelfAssessment,
)
from app.audit import exports as audit_exports
from app.audit import chain
from app.audit.models import AuditEvent
from app.auth.models import User
from app.core.access import acting_roles_over
from app.core.checks import form_int
from app.core.db import in_ids
from app.core.errors import NotFound, ValidationFailed
from app.core.spreadsheets import csv_writer
from app.core.timeutil import format_date, utcnow
from app.core.zipstream import ZipStream
from app.cycles.models import Cycle
from app.documents.catalogue import document_types
from app.documents.models import Attachment, Document, DocumentApproval, DocumentVersion, Signature
from app.documents.pdf import DocumentPdf
from app.documents.registered import approval_rows, main_signature, stamp_lines
from app.documents.storage import storage_root
from app.extensions import db
from app.jobs import registry
from app.jobs.tracked import enqueue_tracked, pending_rows, reconcile_rows
from app.orgs.models import Organisation
from app.orgs.services import org_time_zone

_BIG = BigInteger().with_variant(Integer(), "sqlite")
STATUSES = {"queued": "в очереди", "running": "собирается", "done": "готов", "failed": "ошибка"}
INTERNAL_ERROR = "Внутренняя ошибка при сборке пакета доказательств; сообщите администратору номер пакета."
LOST = "Сборка пакета прервана: фоновый процесс был остановлен. Запросите пакет снова."
SCORE_COLUMNS = ("municipality", "municipality_name", "mechanism", "block", "criterion", "proposed", "self",
                 "expert", "level")
MANIFEST_COLUMNS = ("path", "sha256", "criterion", "registration", "signer", "kind", "status", "note")
FILE_STATUSES = {"ok": "включён, хеш совпадает", "mismatch": "не включён: хранимый файл не совпадает с хешем",
                 "missing": "не включён: файла нет в хранилище"}
CHUNK = 256 * 1024
COMPRESS_LEVEL = 6  # deflate, as zipfile's ZIP_DEFLATED with compresslevel=6 (bench/assessment.py --package)
TEXT_CHUNK = 16 * 1024  # characters of CSV/JSON gathered before one write into the ZIP
SCORE_MUNICIPALITIES = 2  # municipalities whose scores are read per statement (≈ 300 rows of 8 mechanisms)
WHOLE_FILE = 4 * 1024 * 1024  # a stored file up to this size is read once into memory (hashed, then written)


class EvidencePackage(db.Model):
    """One requested package: its job's fate (a tracked row, app.jobs.registry) and, once built, the stored ZIP with
    its SHA-256. `municipality_id` None: the whole campaign."""

    __tablename__ = "assessment_packages"
    __table_args__ = (
        CheckConstraint("status IN ('queued','running','done','failed')", name="status"),
        CheckConstraint("(status = 'done') = (sha256 IS NOT NULL)", name="sha256_iff_done"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("assessment_campaigns.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    progress: Mapped[int] = mapped_column(SmallInteger, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(String(500))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(_BIG)
    files: Mapped[int | None]
    problems: Mapped[int | None]  # files left out (hash mismatch, missing)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    campaign: Mapped[Campaign] = relationship()
    municipality: Mapped[Organisation | None] = relationship()
    requested_by: Mapped[User | None] = relationship()

    audit_type = "assessment_package"

    @property
    def organisation(self) -> Organisation:
        return self.municipality or self.campaign.organisation

    @property
    def pending(self) -> bool:
        return self.status in registry.PENDING

    @property
    def available(self) -> bool:
        """Built and its file kept (a newer package of its scope deletes it: prune)."""
        return self.status == "done" and self.path is not None

    def download_name(self) -> str:
        what = self.municipality.code if self.municipality else "кампания"
        return f"Пакет доказательств {self.campaign_id}-{what} № {self.id}.zip"


registry.register(registry.TrackedKind(
    name="assessment_package", model=EvidencePackage, job="app.assessment.jobs.build_package",
    label="пакет доказательств", lost=LOST, internal_error=INTERNAL_ERROR, job_id_column=None,
    on_fail=lambda: {"finished_at": utcnow()}))


# --- scores ----------------------------------------------------------------------------------------------------

def score_lines(campaign: Campaign, municipality_ids=None, mechanism_code: str | None = None, *,
                hidden=frozenset(), hidden_expert=frozenset()):
    """One tuple per (municipality × criterion) in the order of SCORE_COLUMNS, ordered by municipality code,
    mechanism and criterion. `level`: the level of the mechanism's total by the expert's scores once every
    criterion is scored by the expert, else by the self-assessment's, else empty. A region's scores never sit in
    memory at once: see ordered_score_lines. `hidden`: (municipality id, mechanism) whose self-assessment points the
    reader may not see yet (services.hidden_self), `hidden_expert` those whose expert points (services.hidden_expert):
    blank, and no level from them."""
    ids = list(municipality_ids) if municipality_ids is not None else None
    if ids is None or len(ids) > 1:
        query = (select(Organisation.id)
                 .join(CampaignMunicipality, CampaignMunicipality.municipality_id == Organisation.id)
                 .where(CampaignMunicipality.campaign_id == campaign.id).order_by(Organisation.code, Organisation.id))
        ids = db.session.scalars(query if ids is None else query.where(Organisation.id.in_(ids))).all()
    return ordered_score_lines(campaign, ids, mechanism_code, hidden=hidden, hidden_expert=hidden_expert)


def ordered_score_lines(campaign: Campaign, municipality_ids: list[int], mechanism_code: str | None = None, *,
                        hidden=frozenset(), hidden_expert=frozenset()):
    """score_lines of the municipalities given in the order of their codes: SCORE_MUNICIPALITIES at a time, one
    plain statement each (no server-side cursor: one municipality's package is one round trip), levelled one
    municipality at a time."""
    thresholds = campaign.criteria_set.thresholds
    statement = _score_statement(mechanism_code is not None)
    for start in range(0, len(municipality_ids), SCORE_MUNICIPALITIES):
        chunk = db.session.execute(statement, {
            "campaign": campaign.id, "municipalities": municipality_ids[start:start + SCORE_MUNICIPALITIES],
            "mechanisms": list(campaign.mechanisms), "mechanism": mechanism_code}).all()
        for _mun_id, group in groupby(chunk, key=lambda row: row[0]):
            rows = [(*row[:8], None if (row[0], row[3]) in hidden else row[8],
                     None if (row[0], row[3]) in hidden_expert else row[9]) for row in group]
            yield from _levelled(rows, thresholds)


def _levelled(rows, thresholds):
    """One municipality's score rows with the level of each mechanism (its levels need all of its rows)."""
    sums: dict[str, list] = {}
    for *_head, mechanism, _block, _criterion, maximum, _proposed, own, expert in rows:
        acc = sums.setdefault(mechanism, [0, 0, 0, True, True])
        acc[0] += maximum
        acc[1] += own or 0
        acc[2] += expert or 0
        acc[3] &= own is not None
        acc[4] &= expert is not None
    levels = {}
    for mechanism, (maximum, own, expert, self_done, expert_done) in sums.items():
        total = expert if expert_done else own if self_done else None
        level = level_of(100 * total / maximum, thresholds) if total is not None and maximum else None
        levels[mechanism] = LEVELS[level] if level else ""
    for _id, code, name, mechanism, block, criterion, _max, proposed, own, expert in rows:
        yield code, name, mechanism, block, criterion, proposed, own, expert, levels[mechanism]


@cache
def _score_statement(one_mechanism: bool):
    """The scores of the municipalities bound as `municipalities` (built once: see _evidence_statement)."""
    query = (select(Organisation.id, Organisation.code, Organisation.name, Score.mechanism_code, Criterion.block,
                    Criterion.code, Criterion.max_points, Score.proposed_points, Score.self_points,
                    Score.expert_points)
             .select_from(Score).join(Criterion, Criterion.id == Score.criterion_id)
             .join(Organisation, Organisation.id == Score.municipality_id)
             .where(Score.campaign_id == bindparam("campaign"),
                    in_ids(Score.municipality_id, key="municipalities"),
                    Score.mechanism_code.in_(bindparam("mechanisms", expanding=True)))
             .order_by(Organisation.code, Organisation.id, Score.mechanism_code, Criterion.position, Criterion.id))
    return query.where(Score.mechanism_code == bindparam("mechanism")) if one_mechanism else query


def score_rows(campaign: Campaign, municipality_ids=None, mechanism_code: str | None = None, *, hidden=frozenset(),
               hidden_expert=frozenset()):
    """score_lines as dicts keyed by SCORE_COLUMNS."""
    for line in score_lines(campaign, municipality_ids, mechanism_code, hidden=hidden, hidden_expert=hidden_expert):
        yield dict(zip(SCORE_COLUMNS, line))


# --- what goes in ----------------------------------------------------------------------------------------------

@dataclass
class Entry:
    """One row of the manifest: a file in the ZIP (or left out, with the reason)."""

    path: str | None
    sha256: str | None
    kind: str
    criterion: str | None = None
    registration: str | None = None
    signer: str | None = None
    status: str = "ok"
    note: str | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"path": self.path, "sha256": self.sha256, "criterion": self.criterion,
                "registration": self.registration, "signer": self.signer, "kind": self.kind, "status": self.status,
                "note": self.note, **self.extra}


@dataclass
class _Planned:
    """A stored file to copy into the ZIP, checked against `expected` (the hash recorded for it)."""

    source: Path | None
    path: str
    expected: str | None
    kind: str
    criteria: list[str]
    registration: str | None = None
    signer: str | None = None
    note: str | None = None
    data: bytes | None = None  # made here rather than stored (the sheets)


@dataclass
class Result:
    files: int
    problems: int


_UNSAFE = re.compile(r"[\x00-\x1f<>:\"/\\|?*]+")


# The extensions an attached file's stored name ends in (app.core.uploads.SUFFIXES: «.jpeg», «.docx», «.tiff»).
_SUFFIX_CHARS = 5


def _safe(text: str, limit: int = 80, *, keep_suffix: bool = False) -> str:
    """`text` as one folder or file name of a member: no separators or characters Windows refuses, at most `limit`
    characters and twice as many UTF-8 bytes — all of a Russian name, while eighty emoji or CJK characters (320 bytes)
    would pass the 255 bytes a Linux file system and unzip take for one name, with the document's prefix and suffix
    around it. With `keep_suffix`, a shortened file name keeps its extension (attack 18: «Приказ … о
    му» lost its «.pdf»)."""
    clean = _UNSAFE.sub("_", text or "").strip(" .")
    stem, suffix = clean, ""
    dot = clean.rfind(".")
    if keep_suffix and 0 < dot and len(clean) - dot - 1 <= _SUFFIX_CHARS:
        stem, suffix = clean[:dot], clean[dot:]
    budget = 2 * limit - len(suffix.encode("utf-8"))
    stem = stem[:limit - len(suffix)].encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(" .")
    return stem + suffix if stem else "файл" + suffix


def _csv_line(cells) -> str:
    out = io.StringIO()
    csv_writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL).writerow(cells)
    return out.getvalue()


def municipalities_for(campaign: Campaign, municipality_code: str | None) -> list[Organisation]:
    """The package's municipalities: the one named by its code (Russian refusal when it is not assessed in the
    campaign), or every municipality of the campaign."""
    assessed = {m.municipality.code: m.municipality for m in campaign.municipalities}
    if municipality_code is None:
        return sorted(assessed.values(), key=lambda o: o.code)
    if municipality_code not in assessed:
        raise NotFound(f"Муниципалитет с кодом «{municipality_code[:40]}» не участвует в кампании "
                       f"«{campaign.title}».")
    return [assessed[municipality_code]]


def _registration(item) -> str | None:
    if not item.registration_number:
        return None
    return f"№ {item.registration_number} от {format_date(item.registration_date)}" if item.registration_date \
        else f"№ {item.registration_number}"


def _evidence_rows(campaign: Campaign, municipality_id: int):
    """One municipality's evidence items as plain rows, each with what the package needs of its edition (files,
    hashes, the edition's PDF) or attachment: one query, no object per item."""
    return db.session.execute(_evidence_statement(), {"campaign": campaign.id, "municipality": municipality_id}).all()


@cache
def _evidence_statement():
    """Built once, the campaign and municipality bound at execution: a region's package runs it per municipality,
    and a statement built each time leaves its construction (aliases, column proxies) as garbage that grows with
    the region until a full collection."""
    e, c, v, pdf, a = EvidenceItem, Criterion, DocumentVersion, DocumentPdf, Attachment
    owner, issuer = aliased(Organisation), aliased(Organisation)
    # Document.organisation: its issuer when it is not a stage's, else its cycle's owner (the sheets' time zone).
    organisation_id = case((Document.owner_type.is_not(None), issuer.id), else_=owner.id)
    return (
        select(e.id, e.document_version_id, e.sha256, e.registration_number, e.registration_date, e.signer, e.kind,
               e.title, e.url, e.comment, c.mechanism_code, c.code.label("criterion"), c.block, v.document_id,
               v.number, v.sha256.label("version_sha256"), v.stored_path, v.registered_sha256, v.registered_path,
               v.registration_number.label("version_registration_number"),
               v.registration_date.label("version_registration_date"), Document.type_key,
               Document.title.label("document_title"), organisation_id.label("organisation_id"),
               pdf.path.label("pdf_path"), pdf.sha256.label("pdf_sha256"), a.id.label("attachment_id"), a.original_name,
               a.stored_path.label("attachment_path"))
        .join(c, c.id == e.criterion_id)
        .outerjoin(v, v.id == e.document_version_id).outerjoin(Document, Document.id == v.document_id)
        .outerjoin(Cycle, Cycle.id == Document.cycle_id).outerjoin(owner, owner.id == Cycle.owner_id)
        .outerjoin(issuer, issuer.id == Document.organisation_id)
        .outerjoin(pdf, and_(pdf.version_id == v.id, pdf.status == "done"))
        .outerjoin(a, a.id == e.attachment_id)
        .where(e.campaign_id == bindparam("campaign"), e.municipality_id == bindparam("municipality"))
        .order_by(e.id))


@dataclass
class _Edition:
    """An edition as app.documents.registered reads it to write its sheets (attributes only): the number and
    registration, the visas and signatures as plain rows, the document's type and its organisation's time zone —
    built from rows, since an object per visa and signature would cost more than the rest of the package."""

    number: int
    registration_number: str | None
    registration_date: object
    document: SimpleNamespace
    approvals: list = field(default_factory=list)
    signatures: list = field(default_factory=list)


def _editions_for_sheets(rows) -> dict[int, _Edition]:
    """The editions of the evidence rows with their visas and signatures (one statement for all of them)."""
    # The sheets are dated where the issuer works: its own zone or its nearest ancestor's (org_time_zone), resolved
    # once per organisation — the few issuers of a municipality, their ancestors loaded once by the session.
    zones = {oid: org_time_zone(db.session.get(Organisation, oid)) if oid is not None else org_time_zone(None)
             for oid in {r.organisation_id for r in rows if r.document_id is not None}}
    editions = {r.document_version_id: _Edition(
        r.number, r.version_registration_number, r.version_registration_date,
        SimpleNamespace(doc_type=document_types().get(r.type_key), organisation=SimpleNamespace(
            timezone=zones[r.organisation_id], parent=None)))
        for r in rows if r.document_id is not None}
    if not editions:
        return {}
    for row in db.session.execute(_sheet_statement(), {"versions": list(editions)}):
        edition = editions[row.version_id]
        if row.signature:
            edition.signatures.append(SimpleNamespace(
                meaning=row.meaning, signer_position=row.position_text, signer_name=row.name, signed_at=row.at,
                file_sha256=row.file_sha256))
        else:
            edition.approvals.append(SimpleNamespace(
                id=row.id, round=row.round, position=row.position, decision=row.decision,
                approver_position=row.position_text, approver_name=row.name, decided_at=row.at, comment=row.comment))
    return editions


@cache
def _sheet_statement():
    """The visas (round, position order) and then the signatures (in the order signed) of the editions bound as
    `versions`: one statement for both (a round trip fewer per municipality); built once (see
    _evidence_statement)."""
    a, sig = DocumentApproval, Signature
    zero, blank = literal_column("0"), null()
    visas = select(a.version_id, zero.label("signature"), a.id, a.round, a.position, a.decision,
                   a.approver_position.label("position_text"), a.approver_name.label("name"), a.decided_at.label("at"),
                   a.comment, blank.label("meaning"), blank.label("file_sha256")
                   ).where(in_ids(a.version_id, key="versions"))
    signatures = select(sig.version_id, literal_column("1"), sig.id, zero, zero, blank, sig.signer_position,
                        sig.signer_name, sig.signed_at, blank, sig.meaning, sig.file_sha256
                        ).where(in_ids(sig.version_id, key="versions"))
    both = union_all(visas, signatures)
    columns = both.selected_columns
    return both.order_by(columns.signature, columns.round, columns.position, columns.at)


def _plan(campaign: Campaign, municipality, root: Path) -> list[_Planned]:
    """The files of one municipality (its id and code) to package, in the order of its evidence items."""
    rows = _evidence_rows(campaign, municipality.id)
    # One file per (edition, recorded hash), naming every criterion it stands for.
    grouped: dict[tuple, list] = {}
    for row in rows:
        if row.document_id is not None:
            key = ("version", row.document_version_id, row.sha256)
        elif row.attachment_id is not None:
            key = ("attachment", row.attachment_id, row.sha256)
        else:
            key = ("none", row.id, row.sha256)
        grouped.setdefault(key, []).append(row)
    editions = _editions_for_sheets([group[0] for key, group in grouped.items() if key[0] == "version"])

    planned: list[_Planned] = []
    sheets = _Sheets()
    used: set[str] = set()  # paths start with the municipality's code: unique within one municipality is enough

    def unique(path: str) -> str:
        # Two recorded files of one edition (the signed file and, recorded later, the registered copy) share a stem.
        stem, dot, ext = path.rpartition(".")
        n, candidate = 1, path
        while candidate in used:
            n += 1
            candidate = f"{stem}-{n}{dot}{ext}"
        used.add(candidate)
        return candidate

    mun = _safe(municipality.code, 40)
    for (what, _obj_id, recorded), group in grouped.items():
        first = group[0]
        criteria = sorted({f"{i.mechanism_code} {i.criterion}" for i in group})
        base = f"{mun}/{_safe(first.mechanism_code, 20)}/{_safe(first.block, 10)}"
        registration, signer = _registration(first), first.signer
        if what == "version":
            stem = f"{first.document_id}-ред{first.number}-{_safe(first.document_title)}"
            if recorded and recorded == first.registered_sha256 and first.registered_path:
                source, kind = root / first.registered_path, "registered"
            elif recorded and recorded == first.version_sha256 and first.stored_path:
                source, kind = root / first.stored_path, "document"
            else:
                source, kind = None, "document"
            planned.append(_Planned(source, unique(f"{base}/{stem}.docx"), recorded, kind, criteria, registration,
                                    signer,
                                    note=None if source else "Ни один файл редакции не имеет хеша, записанного "
                                                             "при оценке"))
            if first.pdf_path and first.registered_sha256 and recorded == first.registered_sha256:
                planned.append(_Planned(root / first.pdf_path, unique(f"{base}/{stem}.pdf"), first.pdf_sha256, "pdf",
                                        criteria, registration, signer))
            sheet_path = f"{base}/{stem}-листы согласования и удостоверения.csv"
            sheet = sheets.sheet(editions[first.document_version_id]) if sheet_path not in used else None
            if sheet is not None:
                planned.append(_Planned(None, unique(sheet_path), None, "sheets", criteria, registration, signer,
                                        data=sheet))
        elif what == "attachment":
            # Attachments are stored under the same root (app.documents.attachments.attachment_path).
            name = _safe(first.original_name, 120, keep_suffix=True)
            planned.append(_Planned(root / first.attachment_path, unique(f"{mun}/attachments/{first.id}-{name}"),
                                    recorded, "attachment", criteria, note=first.comment))
        else:
            planned.append(_Planned(None, "", recorded, first.kind, criteria, registration, signer,
                                    note=f"«{first.title}»: файл не сохранён в системе"
                                         + (f" ({first.url})" if first.url else "")))
    return planned


class _Sheets:
    """The лист согласования and лист удостоверения of editions as CSV (app/documents/registered.py's rows), one
    municipality's at a time: one buffer and writer reused, the header line made once — the same text as
    csv_writer gives (every value through safe_cell) for a region's thousands without a new writer each."""

    HEAD = "\ufeff" + _csv_line(("лист", "должность / реквизит", "И.О. Фамилия / значение", "решение", "дата",
                                "замечания"))

    def __init__(self):
        self.buffer = io.StringIO()
        self.writer = csv_writer(self.buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL)

    def sheet(self, version: _Edition) -> bytes | None:
        visas = approval_rows(version)
        signature = main_signature(version) if version.signatures else None
        if not visas and signature is None:
            return None
        self.buffer.seek(0)
        self.buffer.truncate()
        write = self.writer.writerow
        for visa in visas:
            write(("Лист согласования", *visa))
        if signature is not None:
            for label, value in stamp_lines(version, signature):
                write(("Лист удостоверения", label, value or "", "", "", ""))
        return (self.HEAD + self.buffer.getvalue()).encode("utf-8")


# --- writing ---------------------------------------------------------------------------------------------------

class _HashingWriter:
    """What csv.writer writes its lines to: gathered into chunks of about TEXT_CHUNK characters, each UTF-8 encoded,
    hashed and written into the ZIP member at once (a write per line would compress and hash line by line)."""

    def __init__(self, target):
        self.target = target
        self.digest = hashlib.sha256()
        self.pending: list[str] = []
        self.length = 0

    def write(self, text: str) -> None:
        self.pending.append(text)
        self.length += len(text)
        if self.length >= TEXT_CHUNK:
            self.flush()

    def flush(self) -> None:
        data = "".join(self.pending).encode("utf-8")
        self.pending, self.length = [], 0
        self.digest.update(data)
        self.target.write(data)


def _add_stored(archive: ZipStream, planned: _Planned) -> Entry:
    """Copy one stored file into the ZIP if its bytes still have the recorded hash; otherwise say why not."""
    entry = Entry(planned.path, planned.expected, planned.kind, "; ".join(planned.criteria) or None,
                  planned.registration, planned.signer, note=planned.note)
    if not planned.path:  # an evidence item without a stored file (a link, a title only)
        entry.path, entry.status = None, "missing"
        return entry
    if planned.data is not None:
        archive.add(planned.path, planned.data)
        entry.sha256 = hashlib.sha256(planned.data).hexdigest()
        return entry
    source = _open_stored(planned.source)
    if source is None:
        entry.path, entry.status = None, "missing"
        entry.note = planned.note or FILE_STATUSES["missing"]
        return entry
    with source:
        # Hashed before it is copied: a file whose bytes changed is never packaged under the recorded hash. A file
        # up to WHOLE_FILE bytes is read once and hashed in memory; a larger one is hashed, then streamed from the
        # same handle (memory stays flat).
        data = None
        if os.fstat(source.fileno()).st_size <= WHOLE_FILE:
            data = source.read()
            actual = hashlib.sha256(data).hexdigest()
        else:
            digest = hashlib.sha256()
            while chunk := source.read(CHUNK):
                digest.update(chunk)
            actual = digest.hexdigest()
        if planned.expected and actual != planned.expected:
            entry.path, entry.status = None, "mismatch"
            entry.note = (f"Файл в хранилище изменён после оценки: его SHA-256 {actual} не совпадает с записанным "
                          f"{planned.expected}; в пакет не включён.")
            entry.extra = {"stored_sha256": actual}
            return entry
        if data is not None:
            archive.add(planned.path, data)
        else:
            source.seek(0)
            with archive.open(planned.path) as dst:
                while chunk := source.read(CHUNK):
                    dst.write(chunk)
    entry.sha256 = actual
    return entry


def _open_stored(path: Path | None):
    """The stored file open for reading, or None when there is none (one open and one fstat, no stat first)."""
    if path is None:
        return None
    try:
        source = open(path, "rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
        source.close()
        return None
    return source


def _stream_csv(archive: ZipStream, path: str, header, rows) -> str:
    """Write a CSV member (UTF-8 with BOM, «;») row by row; its SHA-256."""
    with archive.open(path) as member:
        sink = _HashingWriter(member)
        sink.write("\ufeff")  # the BOM: Excel opens UTF-8 CSV as UTF-8
        writer = csv_writer(sink, delimiter=";", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
        sink.flush()
    return sink.digest.hexdigest()


def _audit_batches(campaign_id: int, municipality_id: int | None):
    """The audit events of the package's objects with their organisations, oldest first, in batches."""
    statement = _audit_statement(municipality_id is None)
    last = 0
    while True:
        batch = db.session.execute(statement, {"campaign": campaign_id, "municipality": municipality_id,
                                               "last": last}).all()
        if batch:
            yield batch
        if len(batch) < audit_exports.BATCH:  # the last one: no statement to learn there is nothing after it
            return
        last = batch[-1][0].id


def _package_events(whole: bool):
    """The condition on audit events of the objects whose events go into the extract: the campaign, its
    municipalities', self-assessments' and evaluations' rows of the package's scope (the campaign's, or the bound
    municipality's), and the documents whose editions are evidence — named by subqueries, not id lists (a region's
    documents are thousands). Every change of what a package holds (a score, a state, an evidence item, an edition)
    is one of these events."""
    def scoped(query, model):
        query = query.where(model.campaign_id == bindparam("campaign"))
        return query if whole else query.where(model.municipality_id == bindparam("municipality"))
    objects = {kind: scoped(select(model.id), model) for kind, model in (
        ("assessment_municipality", CampaignMunicipality), ("self_assessment", SelfAssessment),
        ("expert_evaluation", Assignment))}
    objects["document"] = scoped(select(DocumentVersion.document_id).join(
        EvidenceItem, EvidenceItem.document_version_id == DocumentVersion.id), EvidenceItem)
    event = AuditEvent
    return or_(and_(event.object_type == "assessment_campaign", event.object_id == bindparam("campaign")),
               *(and_(event.object_type == kind, event.object_id.in_(ids)) for kind, ids in objects.items()))


@cache
def _audit_statement(whole: bool):
    """The events after `last` of the package's objects (_package_events). Built once (see _evidence_statement)."""
    event = AuditEvent
    return (select(event, Organisation).outerjoin(Organisation, Organisation.id == event.organisation_id)
            .where(_package_events(whole), event.id > bindparam("last"))
            .order_by(event.id).limit(audit_exports.BATCH))


@cache
def _changed_statement(whole: bool):
    """One event of the package's objects after `last`, if any (_package_events). Built once."""
    return select(AuditEvent.id).where(_package_events(whole), AuditEvent.id > bindparam("last")).limit(1)


def _campaign_info(campaign: Campaign) -> dict:
    return {"id": campaign.id, "title": campaign.title, "period": campaign.period,
            "region": campaign.organisation.name, "criteria_set": campaign.criteria_set.version,
            "mechanisms": list(campaign.mechanisms), "window_start": campaign.window_start.isoformat(),
            "window_end": campaign.window_closes.isoformat()}


class _Manifest:
    """The manifest's rows as the files are written, not in memory (a region's package has thousands): in two
    temporary files, the body of manifest.json's list of files and manifest.csv's rows, each copied into the ZIP at
    the end as it is (no row is read back and re-encoded)."""

    def __init__(self):
        self.json = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.csv = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
        self.csv_writer = csv_writer(self.csv, delimiter=";", quoting=csv.QUOTE_MINIMAL)
        self.files = self.problems = self.rows = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.json.close()
        self.csv.close()

    def add(self, entry: Entry) -> None:
        self.json.write((", " if self.rows else "") + json.dumps(entry.as_dict(), ensure_ascii=False))
        self.csv_writer.writerow((entry.path or "", entry.sha256 or "", entry.criterion or "",
                                  entry.registration or "", entry.signer or "", entry.kind,
                                  FILE_STATUSES.get(entry.status, entry.status), entry.note or ""))
        self.rows += 1
        self.files += entry.path is not None
        self.problems += entry.status != "ok"

    def write(self, archive: ZipStream, head: dict) -> None:
        with archive.open("manifest.json") as member:
            out = _HashingWriter(member)
            # The head's object with "files" as its last key, the rows copied into that list.
            out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "files": [')
            _copy(self.json, out)
            out.write("]}")
            out.flush()
        with archive.open("manifest.csv") as member:
            out = _HashingWriter(member)
            out.write("\ufeff")  # the BOM: Excel opens UTF-8 CSV as UTF-8
            csv_writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL).writerow(MANIFEST_COLUMNS)
            _copy(self.csv, out)
            out.flush()


def _copy(source, out: _HashingWriter) -> None:
    source.seek(0)
    while text := source.read(TEXT_CHUNK):
        out.write(text)


class _HashingFile:
    """What produce writes the ZIP to: the file, hashed and counted on the way (the ZIP is written strictly
    forwards, app.core.zipstream): the package's SHA-256 without reading it back."""

    def __init__(self, raw):
        self.raw, self.digest, self.size = raw, hashlib.sha256(), 0

    def write(self, data) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self.raw.flush()


def build(campaign: Campaign, municipality: Organisation | None, target, *,
          progress: Callable[[float], None] | None = None, tz_name: str | None = None) -> Result:
    """Write the package of `municipality` (None: the whole campaign) as a ZIP to `target` (a path or a binary
    file object). `progress(fraction)` hears how far it got. One municipality at a time: its evidence is read,
    its files written and forgotten before the next, so memory does not grow with the region."""
    whole = municipality is None
    # The campaign with the region and the criteria set the package names (and whose thresholds level the scores),
    # and the municipality: one statement rather than a lazy load each — every round trip counts on a busy server.
    query = (select(Campaign).options(joinedload(Campaign.organisation), joinedload(Campaign.criteria_set))
             .where(Campaign.id == sa_inspect(campaign).identity[0]))
    if whole:
        campaign = db.session.scalars(query).one()
    else:
        campaign, municipality = db.session.execute(
            query.add_columns(Organisation)
            .join(CampaignMunicipality, CampaignMunicipality.campaign_id == Campaign.id)
            .join(Organisation, Organisation.id == CampaignMunicipality.municipality_id)
            .where(Organisation.id == sa_inspect(municipality).identity[0])).one()
    # A region's municipalities as plain rows (id, code, name), not objects kept for the whole build.
    municipalities = db.session.execute(
        select(Organisation.id, Organisation.code, Organisation.name)
        .join(CampaignMunicipality, CampaignMunicipality.municipality_id == Organisation.id)
        .where(CampaignMunicipality.campaign_id == campaign.id).order_by(Organisation.code)).all() \
        if whole else [municipality]
    tz_name = tz_name or org_time_zone(campaign.organisation)
    root = storage_root()  # once: the helper makes sure the directory exists on every call
    share = 0.95 / max(len(municipalities), 1)  # the scores, the audit extract and the manifests: the last 5 %
    with ExitStack() as stack:
        out = stack.enter_context(open(target, "wb")) if isinstance(target, (str, os.PathLike)) else target
        manifest = stack.enter_context(_Manifest())
        archive = stack.enter_context(ZipStream(out, level=COMPRESS_LEVEL))
        for n, mun in enumerate(municipalities):
            planned = _plan(campaign, mun, root)
            for k, item in enumerate(planned, 1):
                manifest.add(_add_stored(archive, item))
                if progress is not None:
                    progress((n + k / len(planned)) * share)
        scores = (["" if cell is None else cell for cell in line]
                  for line in ordered_score_lines(campaign, [m.id for m in municipalities]))
        manifest.add(Entry("scores.csv", _stream_csv(archive, "scores.csv", SCORE_COLUMNS, scores), "scores",
                           note="Баллы: предложенный, самооценка, эксперт; уровень механизма"))
        # The audit log's presenter names objects with their page addresses, which need a request; a job has none.
        with nullcontext() if has_request_context() else current_app.test_request_context():
            sha = _stream_csv(archive, "audit.csv", audit_exports.HEADER,
                              audit_exports.rows(_audit_batches(campaign.id, None if whole else municipality.id),
                                                 tz_name))
        manifest.add(Entry("audit.csv", sha, "audit",
                           note="Выписка журнала аудита: проверка — flask audit verify-extract audit.csv"))
        if progress is not None:
            progress(0.98)
        manifest.write(archive, {
            "campaign": _campaign_info(campaign),
            "municipality": None if whole else {"code": municipality.code, "name": municipality.name},
            "municipalities": [{"code": m.code, "name": m.name} for m in municipalities],
            "created_at": utcnow().isoformat()})
    if progress is not None:
        progress(1.0)
    return Result(files=manifest.files, problems=manifest.problems)


# --- requesting and storing ------------------------------------------------------------------------------------

def check_may_package(campaign: Campaign, scope: services.Scope, municipality_id: int | None) -> None:
    """Who may request or download: a municipality's package — whoever reads that municipality in the campaign
    (the region's readers and auditors, its assigned expert, its coordinator); the whole campaign's — only those
    who read the whole campaign. Outside that: 404, like every other object of the campaign."""
    if municipality_id is None:
        if not scope.all:
            raise NotFound()
        return
    # The municipality's head reads its results as published, not the working evidence with every score as it stands.
    if not (scope.all or municipality_id in scope.working_ids):
        raise NotFound()


def check_shows_self(campaign: Campaign, scope: services.Scope, municipality_id: int | None) -> None:
    """The package carries the self-assessments' points and their audit trail as they stand when it is built, for
    whoever asked: a reader who sees a self-assessment only once it is submitted (an assigned expert:
    services.Scope.shows_self) asks for a municipality's package only when none of its self-assessments is a draft
    or returned for revision. What a package built earlier holds is `withheld`'s to judge at the download."""
    drafts = sorted(code for mid, code in services.hidden_self(campaign, scope) if mid == municipality_id)
    if drafts:
        raise ValidationFailed(f"Пакет доказательств муниципалитета собирается после того, как координатор представит "
                               f"самооценку: не представлена по механизмам {', '.join(drafts)}.")


def request_package(campaign: Campaign, scope: services.Scope, *, actor,
                    municipality_id) -> tuple[EvidencePackage, bool]:
    """(the package, joined): a queued package row, its job enqueued after commit — or, when a build of the same
    package (campaign and municipality) from the same inputs is queued or running already, that one (joined: True),
    nothing queued: «Сформировать» clicked again, or by a script, built the same ZIP as many times. Flushes, never
    commits."""
    if municipality_id in (None, ""):
        municipality_id = None
    elif form_int(municipality_id) is None:
        raise ValidationFailed("Выберите муниципалитет или всю кампанию.")
    else:
        municipality_id = int(municipality_id)
        if municipality_id not in {m.municipality_id for m in campaign.municipalities}:
            raise ValidationFailed("Муниципалитет не участвует в кампании.")
    check_may_package(campaign, scope, municipality_id)
    check_shows_self(campaign, scope, municipality_id)
    building = _building(campaign, municipality_id)
    if building is not None:
        return building, True
    package = EvidencePackage(campaign_id=campaign.id, municipality_id=municipality_id, requested_by_id=actor.id)
    db.session.add(package)
    db.session.flush()
    _audit("request", package, actor)
    enqueue_tracked("assessment_package", package.id)
    return package, False


def _building(campaign: Campaign, municipality_id: int | None) -> EvidencePackage | None:
    """The package of the same scope queued or being built, from the inputs as they are now (no event of its
    objects since it was requested), or None. A build whose worker died or whose job Redis lost is settled first (the
    reconciler's judgement: failed, or sent again), so it never holds the requests after it."""
    # Two requests at once (two clicks, two tabs) must not both find nothing and both queue: the campaign's row is
    # locked until this request commits; the second one waits and then finds the first one's package.
    db.session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update(key_share=True))
    same = (EvidencePackage.campaign_id == campaign.id,
            EvidencePackage.municipality_id.is_(None) if municipality_id is None
            else EvidencePackage.municipality_id == municipality_id)
    reconcile_rows("assessment_package", pending_rows("assessment_package", *same))
    # The newest pending one only: an event since an older one's request came after the newest one's too, or the
    # newest would not have been requested from other inputs than the older.
    package = db.session.scalar(select(EvidencePackage).where(*same, EvidencePackage.status.in_(registry.PENDING))
                                .order_by(EvidencePackage.id.desc()).limit(1))
    if package is None:
        return None
    requested = db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.object_type == EvidencePackage.audit_type, AuditEvent.object_id == package.id,
        AuditEvent.action == "request").order_by(AuditEvent.id).limit(1))
    unchanged = requested is not None and db.session.scalar(_changed_statement(municipality_id is None), {
        "campaign": campaign.id, "municipality": municipality_id, "last": requested}) is None
    return package if unchanged else None


def building_note(package: EvidencePackage) -> str:
    """What a request that joined `package` (request_package) says: that one is under way, where it stands."""
    # (registry.WAITING's own colon beside the sentence's read as two in a row)
    where = "ожидает запуска, пока очередь недоступна" if package.message == registry.WAITING else \
        "в очереди" if package.status == "queued" else f"собирается, готово {package.progress} %"
    return (f"Пакет доказательств № {package.id} с теми же данными уже формируется ({where}): новая сборка не "
            "запущена. Скачать его можно здесь, когда он будет готов.")


def package_path(package: EvidencePackage) -> Path | None:
    return storage_root() / package.path if package.path else None


def _audit(action: str, package: EvidencePackage, actor) -> None:
    """An event on the package in the caller's transaction: who asked for (or took) which campaign's evidence."""
    chain.record(action=action, object_type=EvidencePackage.audit_type, object_id=package.id, actor=actor,
                 actor_role=sorted(acting_roles_over(actor, package.organisation) or {"expert"})[0],
                 organisation_id=package.organisation.id, to_state=package.status,
                 after={"campaign_id": package.campaign_id, "municipality_id": package.municipality_id,
                        **({"sha256": package.sha256} if package.sha256 else {})})


def withheld(package: EvidencePackage, scope: services.Scope) -> str | None:
    """Why `scope` may not take a municipality's package, or None. The package holds the scores as they stood when
    it was built, whoever asked for it: a reader who sees a side's points only once they are sent on (an expert, the
    self-assessment once the coordinator submitted it; the coordinator, the expert's once sent for approval —
    services.Scope) takes a package built after the latest sending only, not one the coordinator or the region built
    while they were a draft or being revised."""
    if scope.all or package.municipality_id is None:
        return None
    mid = package.municipality_id
    sides = (
        (SelfAssessment, scope.shows_self, mid in scope.coordinated,
         "самооценка по механизму {code} ещё не представлена координатором",
         "самооценку по механизму {code} координатор представил после того, как пакет был запрошен"),
        (Assignment, scope.shows_expert, mid in scope.assigned,
         "экспертная оценка по механизму {code} ещё не направлена на утверждение",
         "экспертную оценку по механизму {code} эксперт направил после того, как пакет был запрошен"),
    )
    for model, shows, own, unsent, later in sides:
        for code, state, submitted_at in db.session.execute(
                select(model.mechanism_code, model.state, model.submitted_at)
                .where(model.campaign_id == package.campaign_id, model.municipality_id == mid)
                .order_by(model.mechanism_code)):
            if not shows(mid, state):
                return unsent.format(code=code)
            if not own and (submitted_at is None or submitted_at > package.created_at):
                return later.format(code=code)
    return None


def downloadable(package_id: int, user) -> tuple[EvidencePackage, Path]:
    """A built package the user may download and its file, the download recorded in the audit log (flushed, the
    caller commits); NotFound with the reason otherwise, ValidationFailed when it holds points the user may not read
    (`withheld`)."""
    package, scope = package_for(package_id, user)
    reason = withheld(package, scope)
    if reason is not None:
        raise ValidationFailed(f"Этот пакет вам недоступен: {reason}, а пакет содержит баллы в том виде, в каком они "
                               "были при его сборке. Соберите новый пакет, когда оценка будет направлена.")
    path = package_path(package)
    if package.status == "done" and path is None:
        raise NotFound("Файл пакета удалён: собран более новый пакет той же кампании и муниципалитета.")
    if not package.available or not path.is_file():
        raise NotFound("Пакет ещё не собран или его файл недоступен.")
    _audit("download", package, user)
    return package, path


def prune(package: EvidencePackage) -> list[Path]:
    """After `package` was built: the older built packages of its scope (its campaign and municipality, or the
    whole campaign) beyond the newest ASSESSMENT_PACKAGES_KEEP lose their file — the row stays, saying which
    package superseded it. Flushes; returns the files the caller deletes once this is committed (a row never
    points to a file deleted before the row knew)."""
    scope = (EvidencePackage.municipality_id.is_(None) if package.municipality_id is None
             else EvidencePackage.municipality_id == package.municipality_id)
    rows = db.session.scalars(select(EvidencePackage).where(
        EvidencePackage.campaign_id == package.campaign_id, scope, EvidencePackage.status == "done",
        EvidencePackage.path.is_not(None), EvidencePackage.id <= package.id)
        .order_by(EvidencePackage.id.desc())).all()
    doomed = []
    for old in rows[current_app.config["ASSESSMENT_PACKAGES_KEEP"]:]:
        doomed.append(package_path(old))
        old.path = None
        old.message = (f"{old.message or ''} Файл удалён: собран более новый пакет № {package.id}.").strip()
    db.session.flush()
    return doomed


def produce(package: EvidencePackage, *, progress: Callable[[float], None] | None = None) -> None:
    """Build the package's ZIP into a temporary file beside its place and move it there; fill the row. The partial
    file is removed whatever happens. No commit."""
    relative = f"assessment/packages/{package.campaign_id}/{uuid.uuid4().hex}.zip"
    target = storage_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=".package-", suffix=".zip", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            sink = _HashingFile(out)
            result = build(package.campaign, package.municipality, sink, progress=progress)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    package.path, package.sha256, package.size = relative, sink.digest.hexdigest(), sink.size
    package.files, package.problems = result.files, result.problems
    package.status, package.progress, package.finished_at = "done", 100, utcnow()
    package.message = (f"Файлов в пакете: {result.files}."
                       + (f" Не включено (хеш не совпал или файла нет): {result.problems}." if result.problems else ""))


def packages_of(campaign: Campaign, scope: services.Scope, limit: int = 50) -> list[EvidencePackage]:
    """The campaign's packages the user may download, newest first."""
    query = select(EvidencePackage).where(EvidencePackage.campaign_id == campaign.id)
    if not scope.all:
        query = query.where(EvidencePackage.municipality_id.in_(list(scope.working_ids)))
    return list(db.session.scalars(query.options(selectinload(EvidencePackage.municipality),
                                                 selectinload(EvidencePackage.requested_by))
                                   .order_by(EvidencePackage.id.desc()).limit(limit)))


def package_for(package_id: int, user) -> tuple[EvidencePackage, services.Scope]:
    package = db.session.get(EvidencePackage, package_id)
    if package is None:
        raise NotFound()
    campaign, scope = services.campaign_for(package.campaign_id, user)
    check_may_package(campaign, scope, package.municipality_id)
    return package, scope

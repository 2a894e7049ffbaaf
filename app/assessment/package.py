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

Built by a tracked job (app/assessment/jobs.py) or inline by `flask assessment export`; the ZIP is written file by
file from streams into a temporary file beside its final place, so memory does not grow with the package.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
import uuid
import zipfile
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app, has_request_context
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, SmallInteger, String, Text, and_, or_, select
from sqlalchemy.orm import Mapped, defer, mapped_column, relationship, selectinload

from app.assessment import services
from app.assessment.criteria import level_of
from app.assessment.models import (
    LEVELS, Assignment, Campaign, CampaignMunicipality, Criterion, EvidenceItem, Score, SelfAssessment,
)
from app.audit import exports as audit_exports
from app.audit.models import AuditEvent
from app.auth.models import User
from app.core.errors import NotFound, ValidationFailed
from app.core.spreadsheets import csv_writer
from app.core.timeutil import format_date, utcnow
from app.documents.attachments import attachment_path
from app.cycles.models import Cycle
from app.documents.models import Attachment, Document, DocumentVersion
from app.documents.pdf import DocumentPdf
from app.documents.registered import approval_rows, main_signature, stamp_lines
from app.documents.storage import storage_root
from app.extensions import db
from app.jobs import registry
from app.orgs.models import Organisation

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

    @property
    def organisation(self) -> Organisation:
        return self.municipality or self.campaign.organisation

    @property
    def pending(self) -> bool:
        return self.status in registry.PENDING

    def download_name(self) -> str:
        what = self.municipality.code if self.municipality else "кампания"
        return f"Пакет доказательств {self.campaign_id}-{what} № {self.id}.zip"


registry.register(registry.TrackedKind(
    name="assessment_package", model=EvidencePackage, job="app.assessment.jobs.build_package",
    label="пакет доказательств", lost=LOST, internal_error=INTERNAL_ERROR, job_id_column=None,
    on_fail=lambda: {"finished_at": utcnow()}))


# --- scores ----------------------------------------------------------------------------------------------------

def score_rows(campaign: Campaign, municipality_ids=None, mechanism_code: str | None = None):
    """One dict per (municipality × criterion) with the columns of SCORE_COLUMNS, ordered by municipality code,
    mechanism and criterion. `level`: the level of the mechanism's total by the expert's scores once every
    criterion is scored by the expert, else by the self-assessment's, else empty. One query (plain rows: a region's
    scores are read without building an object per score)."""
    query = (select(Organisation.id, Organisation.code, Organisation.name, Score.mechanism_code, Criterion.block,
                    Criterion.code, Criterion.max_points, Score.proposed_points, Score.self_points,
                    Score.expert_points)
             .select_from(Score).join(Criterion, Criterion.id == Score.criterion_id)
             .join(Organisation, Organisation.id == Score.municipality_id)
             .where(Score.campaign_id == campaign.id, Score.mechanism_code.in_(campaign.mechanisms))
             .order_by(Organisation.code, Score.mechanism_code, Criterion.position, Criterion.id))
    if municipality_ids is not None:
        query = query.where(Score.municipality_id.in_(list(municipality_ids)))
    if mechanism_code is not None:
        query = query.where(Score.mechanism_code == mechanism_code)
    rows = db.session.execute(query).all()
    sums: dict[tuple[int, str], list] = {}
    for mun_id, _code, _name, mechanism, _block, _criterion, maximum, _proposed, own, expert in rows:
        acc = sums.setdefault((mun_id, mechanism), [0, 0, 0, True, True])
        acc[0] += maximum
        acc[1] += own or 0
        acc[2] += expert or 0
        acc[3] &= own is not None
        acc[4] &= expert is not None
    thresholds = campaign.criteria_set.thresholds
    levels = {}
    for key, (maximum, own, expert, self_done, expert_done) in sums.items():
        total = expert if expert_done else own if self_done else None
        level = level_of(100 * total / maximum, thresholds) if total is not None and maximum else None
        levels[key] = LEVELS[level] if level else ""
    for mun_id, code, name, mechanism, block, criterion, _max, proposed, own, expert in rows:
        yield {"municipality": code, "municipality_name": name, "mechanism": mechanism, "block": block,
               "criterion": criterion, "proposed": proposed, "self": own, "expert": expert,
               "level": levels[(mun_id, mechanism)]}


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
    entries: list[Entry]


_UNSAFE = re.compile(r"[\x00-\x1f<>:\"/\\|?*]+")


def _safe(text: str, limit: int = 80) -> str:
    return _UNSAFE.sub("_", text or "").strip(" .")[:limit] or "файл"


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


def _registration(item: EvidenceItem) -> str | None:
    if not item.registration_number:
        return None
    return f"№ {item.registration_number} от {format_date(item.registration_date)}" if item.registration_date \
        else f"№ {item.registration_number}"


def _plan(campaign: Campaign, municipalities: list[Organisation]) -> tuple[list[_Planned], dict]:
    """The stored files to package and the ids of the objects whose audit events go into the extract."""
    mun_ids = [m.id for m in municipalities]
    code_of = {m.id: m.code for m in municipalities}
    items = db.session.scalars(
        select(EvidenceItem).where(EvidenceItem.campaign_id == campaign.id,
                                   EvidenceItem.municipality_id.in_(mun_ids))
        .options(selectinload(EvidenceItem.criterion)).order_by(EvidenceItem.id)).all()
    version_ids = {i.document_version_id for i in items if i.document_version_id}
    versions = {v.id: v for v in db.session.scalars(
        select(DocumentVersion).where(DocumentVersion.id.in_(version_ids))
        # The sheets' dates are in the document's organisation's time zone: document → cycle → owner, loaded here.
        .options(defer(DocumentVersion.context_snapshot), defer(DocumentVersion.params),  # large, never read here
                 selectinload(DocumentVersion.document).selectinload(Document.cycle).selectinload(Cycle.owner),
                 selectinload(DocumentVersion.approvals), selectinload(DocumentVersion.signatures)))} \
        if version_ids else {}
    pdfs = {p.version_id: p for p in db.session.scalars(
        select(DocumentPdf).where(DocumentPdf.version_id.in_(version_ids), DocumentPdf.status == "done"))} \
        if version_ids else {}
    attachment_ids = {i.attachment_id for i in items if i.attachment_id}
    attachments = {a.id: a for a in db.session.scalars(select(Attachment).where(Attachment.id.in_(attachment_ids)))} \
        if attachment_ids else {}

    root = storage_root()  # once: the helper makes sure the directory exists on every call
    # One file per (edition, recorded hash), naming every criterion it stands for.
    grouped: dict[tuple, list[EvidenceItem]] = {}
    for item in items:
        if item.document_version_id and item.document_version_id in versions:
            key = ("version", item.municipality_id, item.document_version_id, item.sha256)
        elif item.attachment_id and item.attachment_id in attachments:
            key = ("attachment", item.municipality_id, item.attachment_id, item.sha256)
        else:
            key = ("none", item.municipality_id, item.id, item.sha256)
        grouped.setdefault(key, []).append(item)

    planned: list[_Planned] = []
    used: set[str] = set()

    def unique(path: str) -> str:
        # Two recorded files of one edition (the signed file and, recorded later, the registered copy) share a stem.
        stem, dot, ext = path.rpartition(".")
        n, candidate = 1, path
        while candidate in used:
            n += 1
            candidate = f"{stem}-{n}{dot}{ext}"
        used.add(candidate)
        return candidate

    for (what, mun_id, obj_id, recorded), group in grouped.items():
        first = group[0]
        criteria = sorted({f"{i.criterion.mechanism_code} {i.criterion.code}" for i in group})
        mechanism = first.criterion.mechanism_code
        block = first.criterion.block
        base = f"{_safe(code_of[mun_id], 40)}/{_safe(mechanism, 20)}/{_safe(block, 10)}"
        registration, signer = _registration(first), first.signer
        if what == "version":
            version = versions[obj_id]
            stem = f"{version.document_id}-ред{version.number}-{_safe(version.document.title)}"
            if recorded and recorded == version.registered_sha256 and version.registered_path:
                source, kind = root / version.registered_path, "registered"
            elif recorded and recorded == version.sha256 and version.stored_path:
                source, kind = root / version.stored_path, "document"
            else:
                source, kind = None, "document"
            planned.append(_Planned(source, unique(f"{base}/{stem}.docx"), recorded, kind, criteria, registration,
                                    signer,
                                    note=None if source else "Ни один файл редакции не имеет хеша, записанного "
                                                             "при оценке"))
            pdf = pdfs.get(version.id)
            if pdf is not None and version.registered_sha256 and recorded == version.registered_sha256:
                planned.append(_Planned(root / pdf.path, unique(f"{base}/{stem}.pdf"), pdf.sha256, "pdf", criteria,
                                        registration, signer))
            sheet_path = f"{base}/{stem}-листы согласования и удостоверения.csv"
            sheet = _sheet(version) if sheet_path not in used else None
            if sheet is not None:
                planned.append(_Planned(None, unique(sheet_path), None, "sheets", criteria, registration, signer,
                                        data=sheet))
        elif what == "attachment":
            attachment = attachments[obj_id]
            planned.append(_Planned(attachment_path(attachment), unique(f"{_safe(code_of[mun_id], 40)}/attachments/"
                                    f"{first.id}-{_safe(attachment.original_name, 120)}"), recorded, "attachment",
                                    criteria, note=first.comment))
        else:
            planned.append(_Planned(None, "", recorded, first.kind, criteria, registration, signer,
                                    note=f"«{first.title}»: файл не сохранён в системе"
                                         + (f" ({first.url})" if first.url else "")))

    objects = {
        "assessment_campaign": [campaign.id],
        "assessment_municipality": list(db.session.scalars(select(CampaignMunicipality.id).where(
            CampaignMunicipality.campaign_id == campaign.id, CampaignMunicipality.municipality_id.in_(mun_ids)))),
        "self_assessment": list(db.session.scalars(select(SelfAssessment.id).where(
            SelfAssessment.campaign_id == campaign.id, SelfAssessment.municipality_id.in_(mun_ids)))),
        "expert_evaluation": list(db.session.scalars(select(Assignment.id).where(
            Assignment.campaign_id == campaign.id, Assignment.municipality_id.in_(mun_ids)))),
        "document": sorted({v.document_id for v in versions.values()}),
    }
    return planned, objects


def _sheet(version: DocumentVersion) -> bytes | None:
    """The лист согласования and лист удостоверения of an edition as CSV (app/documents/registered.py's rows)."""
    visas = approval_rows(version)
    signature = main_signature(version) if version.signatures else None
    if not visas and signature is None:
        return None
    out = io.StringIO()
    writer = csv_writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(("лист", "должность / реквизит", "И.О. Фамилия / значение", "решение", "дата", "замечания"))
    for visa in visas:
        writer.writerow(("Лист согласования", *visa))
    if signature is not None:
        for label, value in stamp_lines(version, signature):
            writer.writerow(("Лист удостоверения", label, value or "", "", "", ""))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- writing ---------------------------------------------------------------------------------------------------

class _HashingWriter:
    """What csv.writer writes its lines to: UTF-8 into the ZIP member, hashed on the way."""

    def __init__(self, target):
        self.target = target
        self.digest = hashlib.sha256()

    def write(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.digest.update(data)
        return self.target.write(data)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _add_stored(archive: zipfile.ZipFile, planned: _Planned) -> Entry:
    """Copy one stored file into the ZIP if its bytes still have the recorded hash; otherwise say why not."""
    entry = Entry(planned.path, planned.expected, planned.kind, "; ".join(planned.criteria) or None,
                  planned.registration, planned.signer, note=planned.note)
    if planned.data is not None:
        archive.writestr(planned.path, planned.data)
        entry.sha256 = hashlib.sha256(planned.data).hexdigest()
        return entry
    if planned.source is None or not planned.source.is_file():
        entry.path, entry.status = None, "missing"
        entry.note = planned.note or FILE_STATUSES["missing"]
        return entry
    # Hashed before it is copied: a file whose bytes changed is never packaged under the recorded hash. A file up to
    # WHOLE_FILE bytes is read once and hashed in memory; a larger one is hashed, then streamed (memory stays flat).
    data = None
    if planned.source.stat().st_size <= WHOLE_FILE:
        data = planned.source.read_bytes()
        actual = hashlib.sha256(data).hexdigest()
    else:
        actual = _file_sha256(planned.source)
    if planned.expected and actual != planned.expected:
        entry.path, entry.status = None, "mismatch"
        entry.note = (f"Файл в хранилище изменён после оценки: его SHA-256 {actual} не совпадает с записанным "
                      f"{planned.expected}; в пакет не включён.")
        entry.extra = {"stored_sha256": actual}
        return entry
    if data is not None:
        archive.writestr(planned.path, data)
    else:
        with open(planned.source, "rb") as src, archive.open(planned.path, "w", force_zip64=True) as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
    entry.sha256 = actual
    return entry


def _stream_csv(archive: zipfile.ZipFile, path: str, header, rows) -> str:
    """Write a CSV member (UTF-8 with BOM, «;») row by row; its SHA-256."""
    with archive.open(path, "w", force_zip64=True) as member:
        sink = _HashingWriter(member)
        sink.write("\ufeff")  # the BOM: Excel opens UTF-8 CSV as UTF-8
        writer = csv_writer(sink, delimiter=";", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
    return sink.digest.hexdigest()


def _audit_batches(objects: dict):
    conditions = [and_(AuditEvent.object_type == kind, AuditEvent.object_id.in_(ids))
                  for kind, ids in objects.items() if ids]
    if not conditions:
        return
    last = 0
    while True:
        batch = db.session.execute(
            select(AuditEvent, Organisation).outerjoin(Organisation, Organisation.id == AuditEvent.organisation_id)
            .where(or_(*conditions), AuditEvent.id > last).order_by(AuditEvent.id)
            .limit(audit_exports.BATCH)).all()
        if not batch:
            return
        yield batch
        last = batch[-1][0].id


def _campaign_info(campaign: Campaign) -> dict:
    return {"id": campaign.id, "title": campaign.title, "period": campaign.period,
            "region": campaign.organisation.name, "criteria_set": campaign.criteria_set.version,
            "mechanisms": list(campaign.mechanisms), "window_start": campaign.window_start.isoformat(),
            "window_end": campaign.window_closes.isoformat()}


def build(campaign: Campaign, municipality: Organisation | None, target, *,
          progress: Callable[[float], None] | None = None, tz_name: str | None = None) -> Result:
    """Write the package of `municipality` (None: the whole campaign) as a ZIP to `target` (a path or a binary
    file object). `progress(fraction)` hears how far it got."""
    whole = municipality is None
    municipalities = municipalities_for(campaign, None) if whole else [municipality]
    tz_name = tz_name or campaign.organisation.timezone or current_app.config["APP_TIMEZONE"]
    planned, objects = _plan(campaign, municipalities)
    total = len(planned) + 2
    done = 0

    def step():
        nonlocal done
        done += 1
        if progress is not None:
            progress(done / total)

    entries: list[Entry] = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for item in planned:
            if not item.path:
                entries.append(Entry(None, item.expected, item.kind, "; ".join(item.criteria) or None,
                                     item.registration, item.signer, status="missing", note=item.note))
            else:
                entries.append(_add_stored(archive, item))
            step()
        mun_ids = [m.id for m in municipalities]
        scores = ([row[c] if row[c] is not None else "" for c in SCORE_COLUMNS]
                  for row in score_rows(campaign, mun_ids))
        entries.append(Entry("scores.csv", _stream_csv(archive, "scores.csv", SCORE_COLUMNS, scores), "scores",
                             note="Баллы: предложенный, самооценка, эксперт; уровень механизма"))
        step()
        # The audit log's presenter names objects with their page addresses, which need a request; a job has none.
        with nullcontext() if has_request_context() else current_app.test_request_context():
            sha = _stream_csv(archive, "audit.csv", audit_exports.HEADER,
                              audit_exports.rows(_audit_batches(objects), tz_name))
        entries.append(Entry("audit.csv", sha, "audit",
                             note="Выписка журнала аудита: проверка — flask audit verify-extract audit.csv"))
        step()
        municipality = None if whole else municipalities[0]
        manifest = {"campaign": _campaign_info(campaign),
                    "municipality": ({"code": municipality.code, "name": municipality.name}
                                     if municipality is not None else None),
                    "municipalities": [{"code": m.code, "name": m.name} for m in municipalities],
                    "created_at": utcnow().isoformat(), "files": [e.as_dict() for e in entries]}
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False))
        archive.writestr("manifest.csv", _manifest_csv(entries))
    return Result(files=sum(1 for e in entries if e.path), problems=sum(1 for e in entries if e.status != "ok"),
                  entries=entries)


def _manifest_csv(entries: list[Entry]) -> bytes:
    out = io.StringIO()
    writer = csv_writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(MANIFEST_COLUMNS)
    for e in entries:
        writer.writerow([e.path or "", e.sha256 or "", e.criterion or "", e.registration or "", e.signer or "",
                         e.kind, FILE_STATUSES.get(e.status, e.status), e.note or ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- requesting and storing ------------------------------------------------------------------------------------

def check_may_package(campaign: Campaign, scope: services.Scope, municipality_id: int | None) -> None:
    """Who may request or download: a municipality's package — whoever reads that municipality in the campaign
    (the region's readers and auditors, its assigned expert, its coordinator); the whole campaign's — only those
    who read the whole campaign. Outside that: 404, like every other object of the campaign."""
    if municipality_id is None:
        if not scope.all:
            raise NotFound()
        return
    services.require_sees(campaign, scope, municipality_id)


def request_package(campaign: Campaign, scope: services.Scope, *, actor, municipality_id) -> EvidencePackage:
    """A queued package row; its job is enqueued after commit. Flushes, never commits."""
    if municipality_id in (None, ""):
        municipality_id = None
    elif not str(municipality_id).isdigit():
        raise ValidationFailed("Выберите муниципалитет или всю кампанию.")
    else:
        municipality_id = int(municipality_id)
        if municipality_id not in {m.municipality_id for m in campaign.municipalities}:
            raise ValidationFailed("Муниципалитет не участвует в кампании.")
    check_may_package(campaign, scope, municipality_id)
    package = EvidencePackage(campaign_id=campaign.id, municipality_id=municipality_id, requested_by_id=actor.id)
    db.session.add(package)
    db.session.flush()
    # Local: the job module imports this one (the tracked kind names it by its dotted path).
    from app.jobs.tracked import enqueue_tracked

    enqueue_tracked("assessment_package", package.id)
    return package


def package_path(package: EvidencePackage) -> Path | None:
    return storage_root() / package.path if package.path else None


def produce(package: EvidencePackage, *, progress: Callable[[float], None] | None = None) -> None:
    """Build the package's ZIP into a temporary file beside its place and move it there; fill the row. The partial
    file is removed whatever happens. No commit."""
    relative = f"assessment/packages/{package.campaign_id}/{uuid.uuid4().hex}.zip"
    target = storage_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=".package-", suffix=".zip", dir=target.parent)
    try:
        with os.fdopen(fd, "w+b") as out:
            result = build(package.campaign, package.municipality, out, progress=progress)
            out.flush()
            os.fsync(out.fileno())
        sha = _file_sha256(Path(temp_name))
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    package.path, package.sha256, package.size = relative, sha, target.stat().st_size
    package.files, package.problems = result.files, result.problems
    package.status, package.progress, package.finished_at = "done", 100, utcnow()
    package.message = (f"Файлов в пакете: {result.files}."
                       + (f" Не включено (хеш не совпал или файла нет): {result.problems}." if result.problems else ""))


def packages_of(campaign: Campaign, scope: services.Scope, limit: int = 50) -> list[EvidencePackage]:
    """The campaign's packages the user may download, newest first."""
    query = select(EvidencePackage).where(EvidencePackage.campaign_id == campaign.id)
    if not scope.all:
        query = query.where(EvidencePackage.municipality_id.in_(list(scope.municipality_ids)))
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

"""The generation job: build the context from the data, render the Word template, store the file with its
SHA-256 on the version row.

Runs in an RQ worker (queue `documents`) or inline after the request's commit when Redis is absent. It takes
the ids of the versions (one, or a batch of the letters of one click) and reloads everything; a version that is
no longer queued is left alone (idempotent). A refusal (missing data, template error) marks the version failed
with the Russian reason; an unexpected error marks it failed with a generic message. In a worker the failure is
re-raised after the commit, so RQ records it too.
"""

import hashlib
import logging
import os
import tempfile
import uuid

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from app.audit import chain
from app.catalogue.models import Track
from app.core.errors import DomainError
from app.core.timeutil import utcnow
from app.cycles.models import Cycle, Stage
from app.documents import contexts, rendering, snapshot
from app.documents.models import Document, DocumentVersion
from app.documents.owned import build_owned_context
from app.documents.registered import registered_copy
from app.documents.storage import storage_root
from app.documents.template_admin import active_template
from app.extensions import db
from app.jobs.queue import job
from app.jobs.tracked import domain_message as _message
from app.jobs.tracked import in_worker, run_tracked

log = logging.getLogger(__name__)
INTERNAL_ERROR = "Внутренняя ошибка при формировании документа; сообщите администратору номер документа."
STALLED_REASON = ("Формирование прервано: задание не завершилось (фоновый процесс был остановлен). "
                  "Сформируйте документ заново.")
# Seconds a generation job may run: a batch renders up to services.GENERATION_BATCH letters.
JOB_TIMEOUT = 1200


def produce(version: DocumentVersion, template=None) -> None:
    """Build the context, render and store the file; fill the version's file columns. No commit; raises a
    DomainError (missing data, template error) with the Russian reason. `template`: the type's active template
    (template_admin.ResolvedTemplate) when the caller has resolved it already."""
    doc = version.document
    if doc.owner_type is not None:
        context = build_owned_context(doc.type_key, doc.owner, params=dict(version.params or {}), version=version)
    else:
        context = contexts.build_context(doc.type_key, doc.stage, addressee=doc.addressee,
                                         params=dict(version.params or {}), version=version)
    # Resolved once: the version records the template it was made with.
    template = template or active_template(doc.type_key)
    data = rendering.render(doc.type_key, context, template=template.data)
    relative = _store(doc, data)
    # The data this file was rendered from: the registered copy is rendered from it, not from today's data.
    version.context_snapshot = snapshot.dump(context, f"documents/{doc.id}")
    version.stored_path = relative
    version.sha256 = hashlib.sha256(data).hexdigest()
    version.size = len(data)
    version.template_version = template.label
    version.status, version.progress, version.generated_at, version.error = "done", 100, utcnow(), None


def _store(doc, data: bytes) -> str:
    """Write `data` atomically under STORAGE_DIR/documents/<doc id>/ with a random name; the relative path."""
    relative = f"documents/{doc.id}/{uuid.uuid4().hex}.docx"
    target = storage_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=".render-", dir=target.parent)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(temp_name, target)
    return relative


def produce_inline(version: DocumentVersion) -> None:
    """Generate within the caller's transaction (demo data): a refusal marks the version failed, never raises."""
    try:
        with db.session.begin_nested():
            produce(version)
    except DomainError as exc:
        version.status, version.progress, version.error = "failed", 100, _message(exc)[:2000]
    db.session.flush()


def _load(version_ids: list[int]) -> list[DocumentVersion]:
    """The versions with everything the context's requisites read (document → stage → cycle → track →
    mechanism, owner, responsible; the addressee; approvals and signatures) in one joined query."""
    stage = joinedload(DocumentVersion.document).joinedload(Document.stage)
    cycle = stage.joinedload(Stage.cycle)
    return list(db.session.scalars(select(DocumentVersion).where(DocumentVersion.id.in_(version_ids)).options(
        joinedload(DocumentVersion.document).joinedload(Document.addressee),
        stage.joinedload(Stage.responsible),
        cycle.joinedload(Cycle.owner),
        cycle.joinedload(Cycle.track).joinedload(Track.mechanism),
        joinedload(DocumentVersion.approvals), joinedload(DocumentVersion.signatures),
    ).order_by(DocumentVersion.id)).unique())


def _prepare(versions: list[DocumentVersion]) -> None:
    """The per-addressee letters of the batch, by type and stage: what they read per addressee, read at once."""
    groups: dict[tuple[str, int], list[DocumentVersion]] = {}
    for version in versions:
        doc = version.document
        if doc.owner_type is None and doc.addressee is not None:
            groups.setdefault((doc.type_key, doc.stage_id), []).append(version)
    for (type_key, _stage_id), group in groups.items():
        contexts.prepare_addressees(type_key, group[0].document.stage, [v.document.addressee for v in group])


def warm_up() -> None:
    """Compile the statements every generation job runs — its claim, its joined load, the batch's reads — in the
    worker's parent, with no rows. SQLAlchemy keeps compiled SQL per process and RQ forks a fresh process for each
    job: without this each job compiles them again (≈ 0.1–0.4 s a job, the joined load most of it)."""
    run_tracked("document_version", [], lambda _ids: None)
    _load([])
    contexts.prime_batch_reads()
    db.session.rollback()


class GenerationFailed(Exception):
    """Raised in an RQ worker after the batch is committed when some of its versions failed, so RQ keeps the
    job as failed too (each version already shows its own reason)."""


def generate_version(version_id: int, job_id: str | None = None) -> None:
    """One version's generation (older queued jobs name it); see generate_versions."""
    generate_versions([version_id])


@job(queue="documents", timeout=JOB_TIMEOUT)
def generate_versions(version_ids: list[int], job_id: str | None = None) -> None:
    """The job: render a batch of queued versions and store them (see the module docstring). `job_id` is accepted
    for older queued jobs that still pass it; the versions record it already.

    The letters of one click (one per addressee) come in batches of services.GENERATION_BATCH: one claim, one
    joined load, one template look-up per type, the people of the requisites and what the letters read per
    addressee read once for the batch (contexts.prepare_addressees), the versions' updates flushed together, one
    commit (app.jobs.tracked.run_tracked owns the claim, the commit and the failure of the whole batch): no
    statement per letter.
    A letter writes nothing to the database until it is made (produce sets its version's columns last), so a
    refusal or an error fails that letter alone, with its reason, without a savepoint per letter. A database error
    leaves the transaction unusable: it fails the whole batch, as does a batch that cannot be committed — every
    version of it is then marked failed, none is left «формируется»."""
    failed: list[str] = []

    def work(claimed):
        templates = {}
        with contexts.shared_lookups():
            versions = _load(claimed)
            _prepare(versions)
            for version in versions:
                type_key = version.document.type_key
                if type_key not in templates:
                    templates[type_key] = active_template(type_key)
                try:
                    produce(version, templates[type_key])
                except DomainError as exc:
                    log.info("document version %s refused: %s", version.id, exc.message)
                    _mark_failed(version, _message(exc))
                    failed.append(f"{version.id}: {exc.message}")
                except SQLAlchemyError:
                    raise  # the transaction is unusable: run_tracked fails the batch
                except Exception:
                    log.exception("document version %s failed", version.id)
                    _mark_failed(version, INTERNAL_ERROR)
                    failed.append(f"{version.id}: {INTERNAL_ERROR}")

    run_tracked("document_version", version_ids, work)
    if failed and in_worker():
        raise GenerationFailed("; ".join(failed))


def _mark_failed(version: DocumentVersion, message: str) -> None:
    version.status, version.progress, version.error = "failed", 100, message[:2000]


# --- the registered copy (зарегистрированный экземпляр) ------------------------------------------------

def produce_registered(version: DocumentVersion) -> None:
    """Render the registered copy of a signed, registered version from the snapshot of its signed rendering
    (see app/documents/registered.py) and store it beside the signed file with its own SHA-256. No commit;
    raises a DomainError with the Russian reason."""
    data = registered_copy(version)
    version.registered_path = _store(version.document, data)
    version.registered_sha256 = hashlib.sha256(data).hexdigest()
    version.registered_size = len(data)
    version.registered_status, version.registered_error, version.registered_at = "done", None, utcnow()
    _audit_registered_copy(version)


def _audit_registered_copy(version: DocumentVersion) -> None:
    doc, actor = version.document, version.registered_by
    roles = sorted(actor.roles_over(doc.organisation)) if actor is not None else []
    chain.record(action="registered_copy", object_type="document", object_id=doc.id, actor=actor,
                 actor_role=roles[0] if roles else None, cycle_id=doc.cycle_id, organisation_id=doc.organisation.id,
                 after={"edition": version.number, "registration_number": version.registration_number,
                        "file_sha256": version.sha256, "registered_sha256": version.registered_sha256})


def produce_registered_inline(version: DocumentVersion) -> None:
    """The registered copy within the caller's transaction (demo data): a refusal is recorded, never raised."""
    try:
        with db.session.begin_nested():
            produce_registered(version)
    except DomainError as exc:
        version.registered_status, version.registered_error = "failed", _message(exc)[:2000]
    db.session.flush()


@job(queue="documents", timeout=600)
def generate_registered_copy(version_id: int) -> None:
    """The job: make the registered copy of one version through app.jobs.tracked.run_tracked (a version whose copy
    is not queued is left alone)."""
    run_tracked("registered_copy", [version_id],
                lambda _ids: produce_registered(db.session.get(DocumentVersion, version_id)))

"""Import operations. Interface used by the UI, the CLI and the API (app/api):

    start_import(kind, *, filename, stream, actor, organisation, options=None) -> ImportRun
        Store the original file (kept whatever happens), create the ImportRun status row and enqueue
        the job after commit; never commits itself.
    run_import(import_id) -> None
        The job (defined in app.imports.jobs): stream, validate, load all rows or none, record counts /
        message / error report. Commits itself: it is a unit of work of its own.
"""

import hashlib
import os
import re
import tempfile
import uuid
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app.audit import chain
from app.auth.models import User
from app.core.access import acting_role_organisations, acting_roles_over
from app.core.checks import acting_for, require_role
from app.core import hooks
from app.core import russian as ru
from app.core.errors import DomainError, PermissionDenied, ValidationFailed
from app.core.timeutil import utcnow
from app.extensions import db
from app.imports.models import ImportRun
from app.jobs import registry
from app.jobs.tracked import enqueue_tracked, synchronous_job_id
from app.orgs.models import Organisation
from app.core import uploads

KINDS = {"organisations": "организации", "results": "результаты оценочных процедур"}
# Who may start an import of each kind, over the organisation whose subtree it touches.
IMPORT_ROLES = {
    "organisations": frozenset({"admin"}),
    # РЦОКО analysts load assessment results for the whole region they support (orgs.OrganisationSupport).
    "results": frozenset({"admin", "official", "head", "methodologist", "analyst"}),
}
STATUSES = {"queued": "в очереди", "running": "выполняется", "done": "загружен", "unchanged": "без изменений",
            "rejected": "отклонён", "failed": "ошибка"}
FINISHED = frozenset({"done", "unchanged", "rejected", "failed"})
# Imports one user may have waiting or running at once. Results imports run one at a time (an advisory lock), so a
# user who queued hundreds (the API has no form to slow them down) kept everyone else's imports waiting behind hers
# and filled UPLOAD_DIR with their originals. Five covers loading a procedure's subjects one file after another.
MAX_UNFINISHED_PER_USER = 5
ALLOWED_SUFFIXES = (".csv", ".xlsx", ".txt")
INTERNAL_ERROR = "Внутренняя ошибка при импорте; ничего не сохранено. Сообщите администратору системы номер импорта."

registry.register(registry.TrackedKind(
    name="import", model=ImportRun, job="app.imports.jobs.run_import", label="импорт",
    lost="Импорт прерван: фоновый процесс был остановлен; ничего не сохранено. Загрузите файл снова.",
    lost_by_command="Импорт прерван: команда импорта была остановлена, не завершив его; ничего не сохранено. "
                    "Запустите импорт снова.",
    internal_error=INTERNAL_ERROR, raise_inline=True,
    on_claim=lambda: {"started_at": utcnow(), "progress": 0}, on_fail=lambda: {"finished_at": utcnow()}))


class ImportQueueFull(DomainError):
    """The user already has MAX_UNFINISHED_PER_USER imports queued or running: 429, nothing stored."""

    status_code = 429


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def stored_file(run: ImportRun) -> Path:
    return upload_dir() / run.stored_path


def report_file(run: ImportRun) -> Path | None:
    return upload_dir() / run.error_report_path if run.error_report_path else None


def may_take_files(user, run: ImportRun) -> bool:
    """Whether `user` may download the import's original file and error report. The rows as uploaded carry the
    participants' codes and marks: those who may load such data for the organisation take them back, and a
    school's director her own school's; a reader of the import's outcome (an expert, an auditor) sees its counts
    and messages only."""
    return can_import(user, run.kind, run.organisation) or (
        run.organisation.kind == "school" and "director" in user.roles_over(run.organisation))


def record_file_access(run: ImportRun, actor, *, what: str) -> None:
    """Refuse `actor` the import's file unless `may_take_files`, else log who took a results import's file
    (domain.md §10, 152-ФЗ: pupils' results are personal data of minors, and access to personalised results is
    logged): `what` is «original» (the rows as uploaded, with the participants' codes) or «report» (the error report:
    each refused row's values, codes hidden). An organisations import holds no personal data and is not logged.
    Flushes, never commits."""
    if not may_take_files(actor, run):
        raise PermissionDenied("Файлы импорта (исходный файл и отчёт об ошибках) выгружают только те, кто "
                               "загружает такие данные в этой организации.")
    if run.kind != "results":
        return
    held = sorted(acting_roles_over(actor, run.organisation))
    chain.record(action=f"download_{what}", object_type="import_run", object_id=run.id, actor=actor,
                 actor_role=held[0] if held else None, organisation_id=run.organisation_id,
                 after={"file": run.original_filename, "sha256": run.file_sha256})


def clean_filename(filename: str | None, limit: int = 200) -> str:
    """The user's file name for display and download only: no directories, no control characters, at most
    `limit` characters. It never becomes part of a path on disk (stored files are named by import id and SHA-256)."""
    name = uploads.printable_name(re.split(r"[\\/]", str(filename or ""))[-1], limit=None).lstrip(".")
    return name[:limit] or "file"


def _suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    return suffix if suffix in ALLOWED_SUFFIXES else ".bin"


def upload_organisations(user, kind: str) -> list[Organisation]:
    """The organisations an upload of `kind` may be made for, as `can_import` admits them: where the user (or whom
    she stands in for today) holds an importing role, and those her centre supports — a РЦОКО analyst loads the
    results of the region, an ИМЦ methodologist those of its municipality; the centre itself has no schools, so
    offered alone it refused every row. The widest first: the form preselects it."""
    roles = IMPORT_ROLES[kind]
    orgs = set(acting_role_organisations(user, roles))
    supported = {org_id for person in (user, *hooks.covered_people(user))
                 for role, _, org_id in person.support_grants() if role in roles}
    if supported:
        orgs |= set(db.session.scalars(select(Organisation).where(Organisation.id.in_(supported))))
    return sorted(orgs, key=lambda o: (o.path.count("/"), o.path))


def can_import(user, kind: str, organisation) -> bool:
    """A deputy (заместитель) imports where the person she stands in for today could, as on every role-gated page."""
    return kind in IMPORT_ROLES and bool(acting_roles_over(user, organisation) & IMPORT_ROLES[kind])


def start_import(kind: str, *, filename: str, stream, actor, organisation, options: dict | None = None,
                 enqueue: bool = True) -> ImportRun:
    """Store the uploaded file, create its ImportRun (queued) and enqueue the job after commit.

    `stream` is a binary file object (an upload, an open file); `actor` None means the system (CLI run
    without --as), whose scope is `organisation`'s subtree. `enqueue=False` leaves running the job to
    the caller (the CLI runs it synchronously). Flushes, never commits.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    if actor is not None:
        require_role(actor, organisation, IMPORT_ROLES[kind], "Недостаточно прав для импорта в эту организацию.")
        if (absent := acting_for(actor)) is not None:
            # The job writes the audit event in its own unit of work: it reads whom the deputy acted for here.
            options = {**(options or {}), "on_behalf_of_id": absent.id}
    if actor is not None and enqueue:
        _refuse_past_queue_cap(actor)
    name = clean_filename(filename)

    uploads.check_stream("import", stream, name)  # CSV or XLSX by content (app/core/uploads.py)
    directory = upload_dir()
    digest = hashlib.sha256()
    size = 0
    fd, temp_name = tempfile.mkstemp(prefix=".upload-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(1024 * 1024):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        if size == 0:
            raise ValidationFailed("Файл пуст.")
        sha = digest.hexdigest()
        run = ImportRun(kind=kind, status="queued", original_filename=name, stored_path="", file_sha256=sha,
                        file_size=size, organisation=organisation, created_by=actor, options=options or {},
                        rq_job_id=uuid.uuid4().hex, progress=0)
        db.session.add(run)
        db.session.flush()
        stored = f"{run.id}-{sha}{_suffix(name)}"
        target = directory / stored
        # The name holds the content's hash, so an existing file of that name has the same bytes:
        # keep it (never overwrite what a user uploaded).
        if target.exists():
            os.unlink(temp_name)
        else:
            os.replace(temp_name, target)
        run.stored_path = stored
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise
    if enqueue:
        enqueue_tracked("import", run.id, job_id=run.rq_job_id)
    else:
        # The caller (the CLI) runs the job in this process: the id names it, so a run killed mid-way is failed by
        # the reconciler instead of showing «выполняется» forever.
        run.rq_job_id = synchronous_job_id()
    return run


def _refuse_past_queue_cap(actor) -> None:
    """Refuse a new queued import while `actor` has MAX_UNFINISHED_PER_USER unfinished ones. Uploads sent at the
    same moment would each count the others' absence: the user's row is locked first (PostgreSQL; SQLite serialises
    writers), as for API tokens (app/api/services.py: issue_token), so the second waits and counts the first."""
    db.session.execute(select(User.id).where(User.id == actor.id).with_for_update(key_share=True))
    unfinished = db.session.scalar(select(func.count()).select_from(ImportRun).where(
        ImportRun.created_by_id == actor.id, ImportRun.status.notin_(FINISHED)))
    if unfinished >= MAX_UNFINISHED_PER_USER:
        raise ImportQueueFull(
            f"У вас уже {ru.plural(unfinished, ('импорт', 'импорта', 'импортов'))} в очереди или в работе (не более "
            f"{MAX_UNFINISHED_PER_USER} "
            "одновременно): дождитесь, пока они завершатся, и загрузите файл снова; ничего не сохранено.")


def previous_success(run: ImportRun) -> ImportRun | None:
    """An earlier import of the very same file (same SHA-256) into the same scope that succeeded."""
    return db.session.scalar(
        select(ImportRun).where(ImportRun.kind == run.kind, ImportRun.file_sha256 == run.file_sha256,
                                ImportRun.organisation_id == run.organisation_id, ImportRun.id != run.id,
                                ImportRun.status.in_(("done", "unchanged")))
        .order_by(ImportRun.id).limit(1))


def root_organisation():
    """The single top-level organisation, the scope of a system import (CLI without --as)."""
    roots = db.session.scalars(select(Organisation).where(Organisation.parent_id.is_(None)).limit(2)).all()
    return roots[0] if len(roots) == 1 else None

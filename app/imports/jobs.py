"""The import job: stream, validate, load all rows or none, record the outcome on the ImportRun row.

Runs in an RQ worker (queue `imports`), inline after the request's commit when Redis is absent, or
synchronously from `flask import …`. It takes the import's id and reloads everything; a job that is
run again for an import that is not queued does nothing (the claim is one conditional UPDATE).
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from app.audit import chain
from app.auth.models import User
from app.core.timeutil import format_datetime, utcnow
from app.extensions import db
from app.imports import organisations, results
from app.imports.formats import ORGANISATION_SPEC, RESULTS_SPEC
from app.imports.models import ImportRun
from app.imports.readers import FileRejected, open_table
from app.imports.report import ErrorReport
from app.imports.services import IMPORT_ROLES, previous_success, stored_file, upload_dir
from app.jobs.progress import Progress
from app.jobs.queue import enqueue_after_commit, job
from app.jobs.tracked import run_tracked

# Jobs to enqueue after a successful import, fn(organisation_id): filled by the features that depend on imported
# data (the analysis feature's descriptor setup), which this package must not import.
AFTER_IMPORT: list = []

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: str
    message: str
    total: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    file_info: dict = field(default_factory=dict)  # detected format, encoding, delimiter (ImportRun.options)


def _n(value: int) -> str:
    return f"{value:,}".replace(",", "\u00a0")


@job(queue="imports", timeout=3 * 3600)
def run_import(import_id: int, job_id: str | None = None, *, listener=None) -> None:
    """Import one uploaded file; the outcome (done, unchanged, rejected, failed) lands on its ImportRun.

    Runs through app.jobs.tracked.run_tracked (claim → work → one commit, or failed with the reason); `job_id`
    is accepted for older queued jobs that still pass it; `listener(percent)` is called as progress moves.
    Unexpected errors mark the row failed with a readable message and are re-raised, so RQ (or the CLI)
    records the failure too."""
    run_tracked("import", [import_id], lambda _ids: _work(import_id, listener))


def _work(import_id: int, listener) -> None:
    run = db.session.get(ImportRun, import_id)
    progress = Progress("import", run.id, listener)
    report = ErrorReport(upload_dir() / f"{run.id}-{run.file_sha256}.errors.csv")
    try:
        outcome = _execute(run, progress, report)
    finally:
        report.close()
        progress.close()
    run = db.session.get(ImportRun, import_id)
    run.status, run.message, run.finished_at = outcome.status, outcome.message, utcnow()
    run.progress = 100
    run.rows_total, run.rows_inserted, run.rows_updated = outcome.total, outcome.inserted, outcome.updated
    run.rows_unchanged, run.rows_rejected = outcome.unchanged, outcome.rejected
    if outcome.file_info:
        run.options = {**(run.options or {}), **outcome.file_info}
    if outcome.status == "rejected" and report:
        run.error_report_path = report.path.name
    else:
        report.discard()
    if outcome.status == "done":
        _audit(run, outcome)
        # New results change what other features computed from them (the analysis dashboards of the cycles that
        # cover this organisation): their jobs, registered at start-up, run once this commits.
        for follow_up in AFTER_IMPORT:
            enqueue_after_commit(follow_up, run.organisation_id)


def _execute(run: ImportRun, progress: Progress, report: ErrorReport) -> Outcome:
    """Everything between 'running' and the outcome. On rejection the import's transaction is rolled
    back here; on success it is left open for run_import to add the status and commit at once."""
    if run.kind == "organisations":
        organisations.serialise()  # before looking for an earlier import of the file: it may be finishing now
    earlier = previous_success(run)
    if earlier is not None:
        when = earlier.finished_at or earlier.created_at
        zone = run.organisation.timezone or current_app.config["APP_TIMEZONE"]
        return Outcome("unchanged", f"Файл уже был загружен (импорт № {earlier.id} от "
                                    f"{format_datetime(when, zone)}); изменений нет.")
    path = stored_file(run)
    if run.kind == "results":
        outcome = _results(run, path, progress, report)
    elif run.kind == "organisations":
        outcome = _organisations(run, path, progress, report)
    else:
        raise ValueError(f"import kind {run.kind} is not handled here")
    if outcome.status == "rejected":
        db.session.rollback()
    return outcome


def _rows_word(n: int) -> str:
    return "строке" if n % 10 == 1 and n % 100 != 11 else "строках"  # в 1, 21 строке; в 2, 11 строках


def _rejected(report: ErrorReport, total: int) -> Outcome:
    message = (f"Файл отклонён: ошибок — {_n(report.count)} в {_n(report.rows_with_errors)} "
               f"{_rows_word(report.rows_with_errors)}; ничего не сохранено. "
               "Скачайте отчёт об ошибках, исправьте файл и загрузите его снова.")
    first = report.first[0] if report.first else None
    if first is not None and first[0] == "":
        message = f"Файл отклонён. {first[3]} Ничего не сохранено."
    else:
        common = report.most_common()
        if common is not None and common[2] > 1:
            column, problem, count = common
            where = f"в столбце «{column}»: " if column else ""
            # A (column, message) comes at most once per row, so `count` is also the number of rows that have it:
            # «во всех строках» only when that is every data row of the file, not merely every bad one.
            if count == total:
                said = "Во всех строках одна и та же ошибка"
            elif count == report.count:
                said = f"В {_n(count)} {_rows_word(count)} из {_n(total)} одна и та же ошибка"
            else:
                said = f"Чаще всего ({_n(count)} раз)"
            message += f" {said} — {where}{problem.rstrip('.')}."
    return Outcome("rejected", message, total=total, rejected=report.rows_with_errors)


def _file_error(report: ErrorReport, exc: FileRejected) -> Outcome:
    report.add(None, exc.column, exc.value, exc.message)
    return _rejected(report, 0)


def _results(run: ImportRun, path: Path, progress: Progress, report: ErrorReport) -> Outcome:
    try:
        table = open_table(path, RESULTS_SPEC)
    except FileRejected as exc:
        return _file_error(report, exc)
    info = {**table.describe(), "tasks": len(table.header.numbered), "task_labels": table.header.labels,
            "shape": "rcoi" if {"part1", "part2"} & set(table.columns) else "tasks" if table.header.labels else "v1"}
    with table, results.Spool() as spool:
        try:
            state = results.validate(table, scope=run.organisation, report=report, spool=spool, import_id=run.id,
                                     on_progress=progress.phase(0, 60))
        except FileRejected as exc:
            return _with(_file_error(report, exc), info)
        if state.rows == 0:
            report.add(None, "", "", "В файле нет строк с данными (только заголовок).")
            return _with(_rejected(report, 0), info)
        if report:
            return _with(_rejected(report, state.rows), info)
        progress.loading = True
        progress.set(60, force=True)
        loaded = results.load(spool, state, import_id=run.id, report=report, on_progress=progress.phase(60, 99),
                              titles=table.header.titles)
    if loaded.duplicates:
        return _with(_rejected(report, state.rows), info)
    removed = (f" Удалено повторных записей тех же участников, оставшихся от прежнего правила сравнения кодов: "
               f"{_n(loaded.removed)}." if loaded.removed else "")
    return _with(_summary(state.rows, loaded.inserted, loaded.updated, loaded.unchanged, removed=loaded.removed,
                          extra=removed + (f" Границы отметок: обновлено {_n(loaded.boundaries)}."
                                           if loaded.boundaries else "")), info)


def _organisations(run: ImportRun, path: Path, progress: Progress, report: ErrorReport) -> Outcome:
    try:
        table = open_table(path, ORGANISATION_SPEC)
    except FileRejected as exc:
        return _file_error(report, exc)
    info = table.describe()
    with table:
        try:
            rows, existing, total = organisations.validate(table, scope=run.organisation, report=report,
                                                    on_progress=progress.phase(0, 40))
        except FileRejected as exc:
            return _with(_file_error(report, exc), info)
    if total == 0 and not report:
        report.add(None, "", "", "В файле нет строк с данными (только заголовок).")
    if report:
        return _with(_rejected(report, total), info)
    progress.loading = True
    progress.set(40, force=True)
    loaded = organisations.load(rows, existing, actor=run.created_by, on_progress=progress.phase(40, 99))
    return _with(_summary(len(rows), loaded.inserted, loaded.updated, loaded.unchanged), info)


def _with(outcome: Outcome, info: dict) -> Outcome:
    outcome.file_info = info
    return outcome


def _summary(total: int, inserted: int, updated: int, unchanged: int, *, extra: str = "", removed: int = 0
             ) -> Outcome:
    if inserted == 0 and updated == 0 and removed == 0:
        return Outcome("unchanged", f"Изменений нет: все строки файла ({_n(total)}) уже были загружены ранее.",
                       total=total, unchanged=unchanged)
    return Outcome("done", f"Загружено строк: {_n(total)} — добавлено {_n(inserted)}, обновлено {_n(updated)}, "
                           f"без изменений {_n(unchanged)}.{extra}",
                   total=total, inserted=inserted, updated=updated, unchanged=unchanged)


def _audit(run: ImportRun, outcome: Outcome) -> None:
    actor = run.created_by
    absent_id = (run.options or {}).get("on_behalf_of_id")  # a deputy's upload (start_import)
    absent = db.session.get(User, absent_id) if absent_id else None
    role = "system"
    if actor is not None:
        held = sorted((absent or actor).roles_over(run.organisation) & IMPORT_ROLES[run.kind])
        role = held[0] if held else None
    chain.record(action="import", object_type="import_run", object_id=run.id, actor=actor, actor_role=role,
                 organisation_id=run.organisation_id, on_behalf_of=absent,
                 after={"kind": run.kind, "file": run.original_filename, "sha256": run.file_sha256,
                        "rows": outcome.total, "inserted": outcome.inserted, "updated": outcome.updated,
                        "unchanged": outcome.unchanged})

"""`flask import organisations FILE` and `flask import results FILE`: the same import as the UI, run
synchronously for administrators loading a region's data."""

import csv
import sys
from pathlib import Path

import click
from app.core.cli import CommandGroup
from sqlalchemy import select

from app.core.spreadsheets import unescape_cell
from app.extensions import db
from app.imports.services import IMPORT_ROLES, can_import, root_organisation
from app.orgs.models import Organisation
from app.auth.models import User
from app.core.errors import DomainError
from app.imports.jobs import run_import
from app.imports.models import ImportRun
from app.imports.services import report_file, start_import
from app.imports import summaries

import_cli = CommandGroup("import", help="Импорт файлов: организации, результаты оценочных процедур.")

_AS_HELP = "Логин пользователя, от имени которого идёт импорт (его роли задают зону ответственности)."
_ORG_HELP = ("Код организации, в пределах которой идёт импорт (по умолчанию — организация роли пользователя, "
             "а без --as — корневая организация).")


@import_cli.command("organisations",
    help="Импорт организаций с атрибутами контекста из файла CSV или XLSX (FILE).")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--as", "login", help=_AS_HELP)
@click.option("--org", "org_code", help=_ORG_HELP)
def import_organisations(file, login, org_code):
    """Import organisations with their context attributes from a CSV or XLSX FILE."""
    _run("organisations", file, login, org_code)


@import_cli.command("results",
    help="Импорт результатов оценочных процедур (ВПР, ОГЭ, ЕГЭ, НИКО, РДР) из файла CSV или XLSX (FILE).")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--as", "login", help=_AS_HELP)
@click.option("--org", "org_code", help=_ORG_HELP)
def import_results(file, login, org_code):
    """Import assessment results (ВПР, ОГЭ, ЕГЭ, НИКО, РДР) from a CSV or XLSX FILE."""
    _run("results", file, login, org_code)


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _scope(kind: str, actor, org_code: str | None):
    if org_code:
        org = db.session.scalar(select(Organisation).where(Organisation.code == org_code))
        if org is None:
            _fail(f"Организация с кодом «{org_code}» не найдена.")
        if actor is not None and not can_import(actor, kind, org):
            _fail(f"У пользователя {actor.login} нет прав на этот импорт в организации «{org_code}».")
        return org
    if actor is not None:
        orgs = sorted((r.organisation for r in actor.roles if r.role in IMPORT_ROLES[kind]), key=lambda o: o.path)
        if not orgs:
            roles = ", ".join(sorted(IMPORT_ROLES[kind]))
            _fail(f"У пользователя {actor.login} нет роли, позволяющей этот импорт (нужна одна из: {roles}).")
        return orgs[0]
    org = root_organisation()
    if org is None:
        _fail("Не удалось определить организацию верхнего уровня: укажите --org КОД или --as ЛОГИН.")
    return org


def _run(kind: str, file: Path, login: str | None, org_code: str | None) -> None:
    # Checked here rather than by click.Path(exists=True), whose refusal is in English.
    if not file.is_file():
        _fail(f"Файл «{file}» не найден (или это каталог, а не файл).")
    actor = None
    if login:
        actor = db.session.scalar(select(User).where(User.login == login))
        if actor is None or not actor.active:
            _fail(f"Пользователь «{login}» не найден или отключён.")
    organisation = _scope(kind, actor, org_code)
    try:
        with open(file, "rb") as stream:
            run = start_import(kind, filename=file.name, stream=stream, actor=actor, organisation=organisation,
                               enqueue=False)
    except DomainError as exc:
        db.session.rollback()
        _fail(exc.message)
    db.session.commit()
    import_id = run.id
    click.echo(f"Импорт № {import_id}: {file.name} → {organisation.code}")
    shown = [-10]

    def echo_progress(percent: int) -> None:
        if percent >= shown[0] + 10:
            shown[0] = percent - percent % 10
            click.echo(f"  … {shown[0]} %")

    try:
        run_import(import_id, listener=echo_progress)
    except Exception as exc:  # noqa: BLE001 - reported to the operator, already recorded on the row
        _fail(f"Импорт № {import_id} завершился ошибкой: {exc.__class__.__name__}: {exc}")
    # Follow-up jobs the import committed (dashboard refresh): to RQ, or run here when Redis is absent.
    from app.jobs.queue import dispatch_ready

    dispatch_ready()
    db.session.expire_all()
    run = db.session.get(ImportRun, import_id)
    if run.status in ("done", "unchanged"):
        click.echo(run.message or "")
        click.echo(f"Строк: {run.rows_total}; добавлено {run.rows_inserted}, обновлено {run.rows_updated}, "
                   f"без изменений {run.rows_unchanged}.")
        return
    report = report_file(run)
    lines = [run.message or "Импорт отклонён."]
    if report is not None and report.exists():
        lines.append(f"Отчёт об ошибках: {report.resolve()}")
        with open(report, encoding="utf-8-sig", newline="") as fh:
            rows = list(zip(range(11), csv.reader(fh, delimiter=";")))[1:]
        for _, fields in rows:
            row_no, column, value, message = (unescape_cell(field) for field in fields)
            where = f"строка {row_no}" if row_no else "файл"
            if column:
                where += f", «{column}»"
            lines.append(f"  {where}: {message}" + (f" (значение «{value}»)" if value else ""))
    _fail("\n".join(lines))


@import_cli.command("summaries",
    help=("Пересчитать сводки результатов (по школам и организациям, по работам) из сохранённых результатов — после "
          "восстановления из копии или правки в обход импорта; импорт обновляет их сам."))
def rebuild_summaries():
    """Rebuild the result summaries (per school and organisation, per work) from the stored results — after a
    restore or a change made outside the imports; imports keep them current themselves."""

    works = summaries.refresh_all()
    db.session.commit()
    click.echo(f"Сводки результатов пересчитаны: работ — {works}.")

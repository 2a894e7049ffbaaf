"""`flask audit verify [--checkpoints DIR]` and `flask audit checkpoint`: check the audit hash chain, anchor it;
`flask audit verify-extract FILE`: check a CSV extract of the log (e.g. the evidence package's audit.csv)."""

import sys
from pathlib import Path

import click
from app.core.cli import CommandGroup

from app.audit.chain import verify
from app.audit.checkpoints import CheckpointError, verify_with, write
from app.audit.exports import verify_extract
from app.audit.models import AuditEvent
from app.extensions import db

audit_cli = CommandGroup("audit", help="Журнал аудита: проверка цепочки, контрольные точки, выписки.")


@audit_cli.command("verify",
    help=("Проверить цепочку хешей журнала аудита (и подписанные контрольные точки, если указаны); при разрыве — код 1 "
          "и первая неверная запись."))
@click.option("--checkpoints", "checkpoints_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=("Каталог подписанных контрольных точек (flask audit checkpoint): цепочка должна проходить через "
                    "каждую."))
def audit_verify(checkpoints_dir):
    """Check the audit hash chain (against signed checkpoints when given); exit 1 naming the first broken row."""
    problems, anchors = [], []
    if checkpoints_dir is None:
        result = verify()
    else:
        try:
            result, anchors, problems = verify_with(checkpoints_dir)
        except CheckpointError as exc:
            raise click.ClickException(exc.message) from None
        if not anchors and not problems:
            click.echo(f"В каталоге {checkpoints_dir} нет контрольных точек: проверена только цепочка.", err=True)
    for problem in problems:
        click.echo(f"Контрольная точка отвергнута: {problem}", err=True)
    if result.ok and not problems:
        suffix = f"; совпадает с контрольными точками: {result.anchors_checked}" if checkpoints_dir else ""
        click.echo(f"Журнал аудита цел: проверено записей {result.checked}{suffix}.")
        return
    if not result.ok:
        click.echo(f"Журнал аудита нарушен: запись id={result.broken_id}: {result.reason} "
                   f"(до неё проверено записей: {result.checked}).", err=True)
    sys.exit(1)


@audit_cli.command("checkpoint",
    help=("Подписать вершину цепочки (число записей, последний id, хеш) ключом AUDIT_CHECKPOINT_KEY в новый файл "
          "контрольной точки."))
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Куда записать контрольную точку (по умолчанию — AUDIT_CHECKPOINT_DIR).")
def audit_checkpoint(directory):
    """Sign the chain's head (count, last id, hash) with AUDIT_CHECKPOINT_KEY into a new checkpoint file."""
    try:
        path, anchor = write(directory)
    except CheckpointError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Контрольная точка записана: {path} (записей {anchor.count}, последняя id={anchor.last_event_id}).")


@audit_cli.command("verify-extract",
    help=("Пересчитать хеши выписки журнала аудита (CSV) и связи её соседних записей; вывести ok или первую неверную "
          "запись (код 1). База данных нужна только с --database."))
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--database", "against_database", is_flag=True,
              help="Сверить каждую запись выписки и с журналом аудита в базе данных.")
def audit_verify_extract(path, against_database):
    """Recompute the hashes of a CSV extract of the audit log and the links between its consecutive rows; print ok
    or the first broken row, exit 1 on failure. Needs no database unless --database is given."""
    # Checked here rather than by click.Path(exists=True), whose refusal is in English.
    if not path.is_file():
        click.echo(f"Файл «{path}» не найден (или это каталог, а не файл).", err=True)
        sys.exit(1)
    stored_hash = None
    if against_database:
        def stored_hash(event_id: int):
            event = db.session.get(AuditEvent, event_id) if event_id < 2**31 else None
            return event.hash if event is not None else None
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            result = verify_extract(fh, stored_hash)
    except UnicodeDecodeError:
        click.echo(f"Файл {path} не в кодировке UTF-8: это не выписка журнала аудита.", err=True)
        sys.exit(1)
    if result.ok:
        click.echo(f"Выписка цела: проверено записей {result.checked}; связано с предыдущей записью цепочки "
                   f"{result.linked}, пропусков (записи других объектов) {result.gaps}"
                   + (f"; без содержания (вне области доступа выгрузившего, хеш не пересчитан) {result.withheld}"
                      if result.withheld else "") + ".")
        return
    where = f"строка {result.line}" + (f" (запись № {result.event_id})" if result.event_id else "")
    click.echo(f"Выписка нарушена: {where}: {result.reason} (до неё проверено записей: {result.checked}).", err=True)
    sys.exit(1)

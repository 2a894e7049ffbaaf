"""`flask reminders run` (the periodic job's logic, once) and `flask reminders cron` (RQ's cron scheduler)."""

from datetime import datetime, timezone

import click
from app.core.cli import CommandGroup
from app.core.timeutil import utcnow
from app.deadlines.reminders import run_reminders
from app.extensions import db
from app.jobs.queue import dispatch_ready
from app.jobs.queue import cron_scheduler

reminders_cli = CommandGroup("reminders", help="Напоминания о сроках и эскалация просрочек.")


@reminders_cli.command("run",
    help="Отправить напоминания, срок которых наступил (каждое не более одного раза), и вывести «sent: N».")
@click.option("--at", "at", default=None, metavar="ISO",
              help="Считать, что сейчас этот момент (ISO 8601, UTC, если зона не указана); для проверки.")
def run(at):
    """Send the reminders owed now (never one twice) and print `sent: N`."""
    now = utcnow()
    if at:
        try:
            now = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter("ожидается дата и время ISO 8601, например 2026-11-22T09:00",
                                     param_hint="--at") from None
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
    sent = run_reminders(now)
    db.session.commit()
    dispatch_ready()  # e-mails, after the commit
    click.echo(f"sent: {sent}")


@reminders_cli.command("cron",
    help=("Планировщик RQ: ставит периодические задания (app/jobs/queue.py, PERIODIC_JOBS) в очередь в срок. Выполняет "
          "их обработчик (flask jobs worker); запускайте оба рядом с веб-сервером."))
def cron():
    """Run RQ's cron scheduler: enqueue every periodic job of app/jobs/queue.py (PERIODIC_JOBS) on time.
    A worker (`flask jobs worker`) runs them; start both beside the web server."""
    cron_scheduler().start()


cli = [reminders_cli]

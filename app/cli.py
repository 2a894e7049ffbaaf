"""Application-wide Flask commands: demo seeding and the job worker. Each feature brings its own groups in its
descriptor (`Feature.cli`), which app.core.features registers."""

import logging
import sys

import click
import redis
from flask import Flask, current_app
from app.core.cli import CommandGroup
from rq import Worker
from sqlalchemy import select

from app.assessment.criteria import load_criteria
from app.catalogue.services import load_all
from app.core import russian
from app.demo import DEMO_PASSWORD, seed_demo
from app.documents.jobs import warm_up as generation_warm_up
from app.documents.rendering import warm_up
from app.extensions import db
from app.jobs.queue import QUEUES, redis_reachable
from app.jobs.registry import get
from app.jobs.tracked import reconcile_all
from app.orgs.models import Organisation

log = logging.getLogger(__name__)
seed_cli = CommandGroup("seed", help="Демонстрационные и справочные данные.")
jobs_cli = CommandGroup("jobs", help="Фоновые задания (RQ): обработчик, проверка Redis, сверка.")


@seed_cli.command("demo",
    help="Создать демонстрационный регион, пользователей и циклы (повторный запуск ничего не дублирует).")
def seed_demo_command():
    """Create the demo region, users and cycles (idempotent)."""
    if seed_demo():
        db.session.commit()
        click.echo(f"Демо-данные созданы. Пароль всех демо-пользователей: {DEMO_PASSWORD}")
    else:
        click.echo("Демо-данные уже есть, ничего не изменено.")


@seed_cli.command("demo-if-empty",
    help="Заполнить демонстрационные данные, только если в базе данных ещё нет организаций (так делает make run).")
def seed_demo_if_empty():
    """Seed the demo only when the database has no organisations yet (used by `make run`)."""
    if db.session.scalar(select(Organisation.id).limit(1)) is None:
        seed_demo()
        db.session.commit()
        click.echo("База пуста: загружены демо-данные.")
    else:
        load_all()
        load_criteria()
        db.session.commit()


@jobs_cli.command("ping",
    help="Код 0, если Redis по адресу REDIS_URL отвечает, иначе 1.")
def ping():
    """Exit 0 when Redis at REDIS_URL answers, 1 otherwise."""
    ok = redis_reachable(current_app.config["REDIS_URL"])
    click.echo("Redis доступен." if ok else "Redis недоступен.")
    sys.exit(0 if ok else 1)


@jobs_cli.command("reconcile",
    help=("Заново поставить в очередь отслеживаемые записи, задания которых Redis не знает; отметить ошибкой "
          "оставленные остановившимся обработчиком."))
def reconcile():
    """Re-enqueue tracked rows whose job Redis does not know; fail those a dead worker left (app.jobs.tracked)."""
    for name, outcome in reconcile_all().items():
        if not outcome.judged:
            click.echo(f"{get(name).label}: Redis недоступен, ничего не проверено.")
        elif outcome.requeued or outcome.failed:
            click.echo(f"{get(name).label}: снова в очереди {len(outcome.requeued)}, прервано {len(outcome.failed)}.")


@jobs_cli.command("worker",
    help="Запустить обработчик RQ для всех очередей.")
@click.option("--burst", is_flag=True, help="Завершиться, когда очереди опустеют.")
def worker(burst):
    """Run an RQ worker on all queues."""
    # Jobs run in processes forked from this one: what is compiled here is compiled for all of them. The
    # connections used for it are closed first, so no forked job shares a database connection with another.
    try:
        russian.warm_up()  # the morphology dictionaries, loaded once for every job
        generation_warm_up()  # the generation job's SQL, compiled once for every job
        click.echo(f"Шаблоны документов подготовлены: {warm_up()}.")
    except Exception:  # an optimisation only: the jobs compile what they need themselves
        log.warning("document templates not compiled ahead", exc_info=True)
    db.session.remove()
    db.engine.dispose()
    connection = redis.Redis.from_url(current_app.config["REDIS_URL"])
    Worker(list(QUEUES), connection=connection).work(burst=burst)


def init_app(app: Flask) -> None:
    for group in (seed_cli, jobs_cli):
        app.cli.add_command(group)

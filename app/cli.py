"""Flask commands: seed, catalogue, audit verification, users, job worker."""

import logging
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db

log = logging.getLogger(__name__)
seed_cli = AppGroup("seed", help="Demo and reference data.")
catalogue_cli = AppGroup("catalogue", help="Mechanism catalogue, stage definitions, indicator library.")
audit_cli = AppGroup("audit", help="Audit log.")
users_cli = AppGroup("users", help="User accounts.")
jobs_cli = AppGroup("jobs", help="Background jobs (RQ).")
orgs_cli = AppGroup("orgs", help="Organisations.")


@orgs_cli.command("create-region")
@click.argument("code")
@click.argument("name")
@click.option("--timezone", default=None, help="Time zone of the region, e.g. Asia/Yekaterinburg.")
def create_region(code, name, timezone):
    """Create the top-level organisation of a new installation (the rest comes by `flask import organisations`)."""
    from app.core.errors import DomainError
    from app.orgs.services import create_organisation

    try:
        create_organisation(code=code, name=name, kind="region", timezone=timezone)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Регион {code} создан.")


@seed_cli.command("demo")
def seed_demo_command():
    """Create the demo region, users and cycles (idempotent)."""
    from app.demo import DEMO_PASSWORD, seed_demo

    if seed_demo():
        db.session.commit()
        click.echo(f"Демо-данные созданы. Пароль всех демо-пользователей: {DEMO_PASSWORD}")
    else:
        click.echo("Демо-данные уже есть, ничего не изменено.")


@seed_cli.command("demo-if-empty")
def seed_demo_if_empty():
    """Seed the demo only when the database has no organisations yet (used by `make run`)."""
    from app.demo import seed_demo
    from app.orgs.models import Organisation

    if db.session.scalar(select(Organisation.id).limit(1)) is None:
        seed_demo()
        db.session.commit()
        click.echo("База пуста: загружены демо-данные.")
    else:
        from app.catalogue.services import load_all

        load_all()
        db.session.commit()


@catalogue_cli.command("load")
def catalogue_load():
    """Load stage definitions, the indicator library and new mechanism-set versions from YAML."""
    from app.catalogue.services import load_indicator_library, load_mechanism_catalogue, load_stage_definitions

    stages = load_stage_definitions()
    library = load_indicator_library()
    sets = load_mechanism_catalogue()
    db.session.commit()
    click.echo(f"Этапы: изменено {stages}; библиотека показателей: изменено {library}; "
               f"новых версий перечня механизмов: {len(sets)}")


@audit_cli.command("verify")
@click.option("--checkpoints", "checkpoints_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory of signed checkpoints (`flask audit checkpoint`): the chain must pass through each.")
def audit_verify(checkpoints_dir):
    """Check the audit hash chain (against signed checkpoints when given); exit 1 naming the first broken row."""
    from app.audit.chain import verify
    from app.audit.checkpoints import CheckpointError, verify_with

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


@audit_cli.command("checkpoint")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the checkpoint (default: AUDIT_CHECKPOINT_DIR).")
def audit_checkpoint(directory):
    """Sign the chain's head (count, last id, hash) with AUDIT_CHECKPOINT_KEY into a new checkpoint file."""
    from app.audit.checkpoints import CheckpointError, write

    try:
        path, anchor = write(directory)
    except CheckpointError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Контрольная точка записана: {path} (записей {anchor.count}, последняя id={anchor.last_event_id}).")


@users_cli.command("create-admin")
@click.argument("login")
@click.argument("organisation_code")
@click.option("--full-name", default="Администратор", show_default=True)
@click.password_option()
def create_admin(login, organisation_code, full_name, password):
    """Create an administrator in the organisation with ORGANISATION_CODE."""
    from app.auth.services import create_user
    from app.core.errors import DomainError
    from app.orgs.models import Organisation

    org = db.session.scalar(select(Organisation).where(Organisation.code == organisation_code))
    if org is None:
        raise click.ClickException(f"Организация с кодом «{organisation_code}» не найдена.")
    try:
        create_user(login=login, full_name=full_name, password=password, roles=[("admin", org)])
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Администратор {login} создан.")


@jobs_cli.command("ping")
def ping():
    """Exit 0 when Redis at REDIS_URL answers, 1 otherwise."""
    from app.jobs.queue import redis_reachable

    ok = redis_reachable(current_app.config["REDIS_URL"])
    click.echo("Redis доступен." if ok else "Redis недоступен.")
    sys.exit(0 if ok else 1)


@jobs_cli.command("reconcile")
def reconcile():
    """Re-enqueue tracked rows whose job Redis does not know; fail those a dead worker left (app.jobs.tracked)."""
    from app.jobs.registry import get
    from app.jobs.tracked import reconcile_all

    for name, outcome in reconcile_all().items():
        if not outcome.judged:
            click.echo(f"{get(name).label}: Redis недоступен, ничего не проверено.")
        elif outcome.requeued or outcome.failed:
            click.echo(f"{get(name).label}: снова в очереди {len(outcome.requeued)}, прервано {len(outcome.failed)}.")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
def worker(burst):
    """Run an RQ worker on all queues."""
    import redis
    from rq import Worker

    from app.documents.rendering import warm_up
    from app.jobs.queue import QUEUES

    # Jobs run in processes forked from this one: what is compiled here is compiled for all of them. The
    # connections used for it are closed first, so no forked job shares a database connection with another.
    try:
        click.echo(f"Шаблоны документов подготовлены: {warm_up()}.")
    except Exception:  # an optimisation only: the jobs compile what they need themselves
        log.warning("document templates not compiled ahead", exc_info=True)
    db.session.remove()
    db.engine.dispose()
    connection = redis.Redis.from_url(current_app.config["REDIS_URL"])
    Worker(list(QUEUES), connection=connection).work(burst=burst)


def init_app(app: Flask) -> None:
    from app.imports.cli import import_cli

    for group in (seed_cli, catalogue_cli, audit_cli, users_cli, jobs_cli, orgs_cli, import_cli):
        app.cli.add_command(group)
    import importlib

    from app import FEATURES

    for name in FEATURES:
        groups = importlib.import_module(f"app.{name}.cli").cli
        for group in groups if isinstance(groups, (list, tuple)) else [groups] if groups else []:
            app.cli.add_command(group)



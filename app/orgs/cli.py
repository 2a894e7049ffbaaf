"""`flask orgs create-region CODE NAME`: the top-level organisation of a new installation."""

import click
from app.core.cli import CommandGroup

from app.core.errors import DomainError
from app.extensions import db
from app.orgs.services import create_organisation

orgs_cli = CommandGroup("orgs", help="Организации.")


@orgs_cli.command("create-region",
    help="Создать организацию верхнего уровня новой установки (остальные — командой flask import organisations).")
@click.argument("code")
@click.argument("name")
@click.option("--timezone", default=None, help="Часовой пояс региона, например Asia/Yekaterinburg.")
def create_region(code, name, timezone):
    """Create the top-level organisation of a new installation (the rest comes by `flask import organisations`)."""
    try:
        create_organisation(code=code, name=name, kind="region", timezone=timezone)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Регион {code} создан.")

"""`flask users create-admin LOGIN ORGANISATION_CODE`."""

import click
from app.core.cli import CommandGroup
from sqlalchemy import select

from app.auth.services import create_user
from app.core.errors import DomainError
from app.extensions import db
from app.orgs.models import Organisation

users_cli = CommandGroup("users", help="Учётные записи пользователей.")


@users_cli.command("create-admin",
    help="Создать администратора в организации с кодом ORGANISATION_CODE.")
@click.argument("login")
@click.argument("organisation_code")
@click.option("--full-name", default="Администратор", show_default=True, help="ФИО администратора.")
@click.password_option(prompt="Пароль", confirmation_prompt="Повторите пароль", help=("Пароль администратора (без "
                                                                                      "параметра — будет запрошен)."))
def create_admin(login, organisation_code, full_name, password):
    """Create an administrator in the organisation with ORGANISATION_CODE."""
    org = db.session.scalar(select(Organisation).where(Organisation.code == organisation_code))
    if org is None:
        raise click.ClickException(f"Организация с кодом «{organisation_code}» не найдена.")
    try:
        create_user(login=login, full_name=full_name, password=password, roles=[("admin", org)])
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Администратор {login} создан.")

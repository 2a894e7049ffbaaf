"""`flask audit verify`: check the audit hash chain."""

import sys

import click
from flask.cli import AppGroup

from app.audit.chain import verify

audit_cli = AppGroup("audit", help="Audit log.")


@audit_cli.command("verify")
def audit_verify():
    """Check the audit hash chain; exit 1 naming the first broken row."""
    result = verify()
    if result.ok:
        click.echo(f"Журнал аудита цел: проверено записей {result.checked}.")
        return
    click.echo(f"Журнал аудита нарушен: запись id={result.broken_id}: {result.reason} "
               f"(до неё проверено записей: {result.checked}).", err=True)
    sys.exit(1)

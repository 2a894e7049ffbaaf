"""`flask assessment load-criteria`: the default criteria set (and new versions) from data/criteria.yaml."""

import click
from flask.cli import AppGroup

from app.assessment.criteria import load_criteria
from app.extensions import db

assessment_cli = AppGroup("assessment", help="Оценка муниципальных механизмов (письмо 08-70).")


@assessment_cli.command("load-criteria")
def load_criteria_command():
    """Load the criteria set versions of data/criteria.yaml that are not in the database yet."""
    created = load_criteria()
    db.session.commit()
    click.echo(f"Новых версий наборов критериев: {len(created)}")

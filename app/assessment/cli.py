"""`flask assessment load-criteria`: the default criteria set (and new versions) from data/criteria.yaml;
`flask assessment export CAMPAIGN_ID [--municipality CODE] --out FILE.zip`: the evidence package, inline;
`flask assessment scores CAMPAIGN_ID`: every score of the campaign as CSV on stdout."""

import sys
from pathlib import Path

import click
from app.core.cli import CommandGroup

from app.assessment import package
from app.assessment.criteria import load_criteria
from app.assessment.models import Campaign
from app.core.checks import form_int
from app.core.errors import DomainError
from app.core.spreadsheets import csv_writer
from app.extensions import db

assessment_cli = CommandGroup("assessment", help="Оценка муниципальных механизмов (письмо 08-70).")


@assessment_cli.command("load-criteria",
    help="Загрузить версии наборов критериев из data/criteria.yaml, которых ещё нет в базе данных.")
def load_criteria_command():
    """Load the criteria set versions of data/criteria.yaml that are not in the database yet."""
    created = load_criteria()
    db.session.commit()
    click.echo(f"Новых версий наборов критериев: {len(created)}")


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _campaign(raw: str) -> Campaign:
    campaign_id = form_int(raw)  # `str.isdigit` let «²» through, on which int() raised (a traceback)
    campaign = db.session.get(Campaign, campaign_id) if campaign_id else None
    if campaign is None:
        _fail(f"Кампания оценки механизмов № {raw[:20]} не найдена.")
    return campaign


@assessment_cli.command("export",
    help=("Пакет доказательств одного муниципалитета (или всей кампании) в ZIP-файле; собирается сразу, тем же "
          "построителем, что и фоновое задание."))
@click.argument("campaign_id")
@click.option("--municipality", "municipality_code", help="Код муниципалитета; без него — вся кампания.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Куда записать ZIP-файл пакета доказательств.")
def export_command(campaign_id, municipality_code, out):
    """The evidence package of one municipality (or the whole campaign) as a ZIP, built inline by the same builder
    as the background job."""
    campaign = _campaign(campaign_id)
    try:
        municipalities = package.municipalities_for(campaign, municipality_code)
    except DomainError as exc:
        _fail(exc.message)
    if not out.parent.is_dir():
        _fail(f"Каталог {out.parent} не существует.")
    municipality = municipalities[0] if municipality_code is not None else None
    temp = out.with_name(f".{out.name}.part")
    try:
        result = package.build(campaign, municipality, temp)
        temp.replace(out)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        _fail(f"Не удалось записать {out}: {exc.strerror}.")
    finally:
        db.session.rollback()
    click.echo(f"Пакет доказательств записан: {out} (файлов {result.files}"
               + (f"; не включено из-за несовпадения хеша или отсутствия файла: {result.problems}"
                  if result.problems else "") + ").")


@assessment_cli.command("scores",
    help=("Все оценки кампании в CSV (stdout): municipality (код), municipality_name, mechanism (код), block, criterion"
          " (код), proposed, self, expert, level."))
@click.argument("campaign_id")
def scores_command(campaign_id):
    """All the campaign's scores as CSV on stdout: municipality (code), municipality_name, mechanism (code), block,
    criterion (code), proposed, self, expert, level."""
    campaign = _campaign(campaign_id)
    out = csv_writer(sys.stdout, lineterminator="\n")
    out.writerow(package.SCORE_COLUMNS)
    for row in package.score_rows(campaign):
        out.writerow(["" if row[c] is None else row[c] for c in package.SCORE_COLUMNS])
    sys.stdout.flush()

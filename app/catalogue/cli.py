"""`flask catalogue load`: stage definitions, the indicator library and mechanism sets from YAML."""

import click
from app.core.cli import CommandGroup

from app.catalogue.services import load_indicator_library, load_mechanism_catalogue, load_stage_definitions
from app.extensions import db

catalogue_cli = CommandGroup("catalogue", help="Каталог механизмов, описания этапов, библиотека показателей.")


@catalogue_cli.command("load",
    help="Загрузить из YAML описания этапов, библиотеку показателей и новые версии наборов механизмов.")
def catalogue_load():
    """Load stage definitions, the indicator library and new mechanism-set versions from YAML."""
    stages = load_stage_definitions()
    library = load_indicator_library()
    sets = load_mechanism_catalogue()
    db.session.commit()
    click.echo(f"Этапы: изменено {stages}; библиотека показателей: изменено {library}; "
               f"новых версий перечня механизмов: {len(sets)}")

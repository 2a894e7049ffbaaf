"""`flask import organisations FILE` and `flask import results FILE`: the same import as the UI, run
synchronously for administrators loading a region's data."""

from flask.cli import AppGroup

import_cli = AppGroup("import", help="Импорт файлов: организации, результаты оценочных процедур.")

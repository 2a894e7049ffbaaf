"""File imports (организации, результаты оценочных процедур): streamed, validated, all-or-nothing, idempotent."""

from flask import Blueprint

bp = Blueprint("imports", __name__, template_folder="templates")

# Below the blueprint: the modules that register routes on it, and what the descriptor names.
from app.core.features import Feature, Mount, NavEntry  # noqa: E402
from app.imports import models, views  # noqa: E402, F401
from app.imports.cli import import_cli  # noqa: E402


FEATURE = Feature(
    name="imports", order=60, blueprints=(Mount(bp, "/imports"),), cli=(import_cli,),
    navigation=(NavEntry(20, "Импорт данных", "imports.import_list", group="Данные"),),
)

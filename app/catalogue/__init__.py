from flask import Blueprint

bp = Blueprint("catalogue", __name__, template_folder="templates")

# Below the blueprint: the modules that register routes on it, and what the descriptor names.
from app.catalogue import views  # noqa: E402, F401
from app.catalogue.cli import catalogue_cli  # noqa: E402
from app.core.features import Feature, Mount, NavEntry  # noqa: E402


FEATURE = Feature(
    name="catalogue", order=60, blueprints=(Mount(bp, "/catalogue"),), cli=(catalogue_cli,),
    navigation=(NavEntry(20, "Механизмы и направления", "catalogue.index", group="Циклы"),),
)

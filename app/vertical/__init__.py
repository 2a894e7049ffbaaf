"""The vertical РУМ – МУМ – ВСОКО, read side: the roll-up of a cycle's invariant indicators over the levels below
(school → municipality → region) and the cascade of goals from the region down to the schools. The write side
lives where the data does: invariant indicators in app/cycles, two-step data requests in app/monitoring."""

from flask import Blueprint

bp = Blueprint("vertical", __name__, template_folder="templates")

from app.core.features import Feature, Mount  # noqa: E402
from app.vertical import views  # noqa: E402,F401

FEATURE = Feature(
    name="vertical", order=65, blueprints=(Mount(bp),), cycle_partials=("vertical/_cycle.html",),
)

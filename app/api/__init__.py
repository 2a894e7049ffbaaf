"""Machine-to-machine API (/api/v1) with personal tokens, described by an OpenAPI 3 document."""

from flask import Blueprint

bp = Blueprint("api", __name__)

# Below the blueprint: the modules that register routes on it, and what the descriptor names.
from app.api import models, views  # noqa: E402, F401
from app.api.ui import bp_ui  # noqa: E402
from app.core.features import Feature, Mount  # noqa: E402


FEATURE = Feature(
    name="api", order=60,
    # The API authenticates with bearer tokens, not cookies, so CSRF does not apply to it; the token pages do.
    blueprints=(Mount(bp, "/api/v1", csrf_exempt=True), Mount(bp_ui, "/tokens")),
)

"""Machine-to-machine API (/api/v1) with personal tokens, described by an OpenAPI 3 document."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from app.api import models, views  # noqa: E402,F401

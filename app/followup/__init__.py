"""Follow-up (адресные рекомендации, меры, управленческие решения): closing the loop after the analysis."""

from flask import Blueprint

bp = Blueprint("followup", __name__, template_folder="templates")

from app.followup import models, views  # noqa: E402,F401

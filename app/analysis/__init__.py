"""Analysis (анализ результатов мониторинга): objectivity signs, low-result schools, clusters, dashboards, findings."""

from flask import Blueprint

bp = Blueprint("analysis", __name__, template_folder="templates")

from app.analysis import models, views  # noqa: E402,F401

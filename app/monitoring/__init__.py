"""Monitoring (мониторинг): data requests to organisations and their submissions of indicator values."""

from flask import Blueprint

bp = Blueprint("monitoring", __name__, template_folder="templates")

from app.monitoring import models, views  # noqa: E402,F401

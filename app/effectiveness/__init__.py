"""Effectiveness evaluation (анализ эффективности принятых мер) and the cycle integrity panel."""

from flask import Blueprint

bp = Blueprint("effectiveness", __name__, template_folder="templates")

from app.effectiveness import models, views  # noqa: E402,F401

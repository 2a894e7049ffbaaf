"""File imports (организации, результаты оценочных процедур): streamed, validated, all-or-nothing, idempotent."""

from flask import Blueprint

bp = Blueprint("imports", __name__, template_folder="templates")

from app.imports import models, views  # noqa: E402,F401

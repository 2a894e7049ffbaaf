"""Документы (документы цикла): document types, Word templates, generation, approval, signing, registration."""

from flask import Blueprint

bp = Blueprint("documents", __name__, template_folder="templates")

from app.documents import models, views  # noqa: E402,F401

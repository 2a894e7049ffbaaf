"""Hash-chained, append-only audit log (журнал аудита)."""

from flask import Blueprint

# The pages (app/audit/views.py) are imported by create_app, not here: services import app.audit.chain,
# and loading the views at that point would import half the application in a cycle.
bp = Blueprint("audit", __name__, template_folder="templates")

from app.audit import models  # noqa: E402,F401

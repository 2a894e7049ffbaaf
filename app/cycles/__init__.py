from flask import Blueprint

bp = Blueprint("cycles", __name__, template_folder="templates")

from app.cycles import views  # noqa: E402,F401

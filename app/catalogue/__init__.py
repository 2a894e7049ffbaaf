from flask import Blueprint

bp = Blueprint("catalogue", __name__, template_folder="templates")

from app.catalogue import views  # noqa: E402,F401

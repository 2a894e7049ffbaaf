from flask import Blueprint

bp = Blueprint("orgs", __name__, template_folder="templates")

from app.orgs import views  # noqa: E402,F401

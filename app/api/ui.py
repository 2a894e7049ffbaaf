"""Pages where a user issues and revokes personal API tokens (CSRF-protected, unlike the API itself)."""

from flask import Blueprint

bp_ui = Blueprint("tokens", __name__, template_folder="templates")

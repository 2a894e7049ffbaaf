"""Situational centre (ситуационно-информационный центр): the region's view across municipalities and schools —
results, objectivity verdicts and lists of schools with low results, the state of the management cycles — with
drill-down region → municipality → school → work and an XLSX export of every table."""

from flask import Blueprint

bp = Blueprint("situation", __name__, template_folder="templates")

from app.situation import views  # noqa: E402,F401

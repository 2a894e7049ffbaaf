"""Situational centre (ситуационно-информационный центр): the region's view across municipalities and schools —
results, objectivity verdicts and lists of schools with low results, the state of the management cycles — with
drill-down region → municipality → school → work and an XLSX export of every table."""

from flask import Blueprint

bp = Blueprint("situation", __name__, template_folder="templates")

from app.core.features import Feature, Mount, NavEntry  # noqa: E402
from app.situation import views  # noqa: E402,F401

FEATURE = Feature(
    name="situation", order=70, blueprints=(Mount(bp, "/situation"),),
    navigation=(NavEntry(10, "Ситуационный центр", "situation.index", group="Аналитика"),),
)

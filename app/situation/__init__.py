"""Situational centre (ситуационно-информационный центр): the region's view across municipalities and schools —
results, objectivity verdicts and lists of schools with low results, the state of the management cycles — with
drill-down region → municipality → school → work and an XLSX export of every table."""

from flask import Blueprint

bp = Blueprint("situation", __name__, template_folder="templates")

from app.core.features import Feature, Mount, NavEntry  # noqa: E402
from app.situation import services, views  # noqa: E402,F401


def _opens_for(user):
    """The entry's URL arguments, or None (no entry) for someone the centre opens nowhere for: a kindergarten's head
    reads no results (the centre lists no kindergarten) and followed the entry to a 404."""
    return {} if services.root_for(user) is not None else None


FEATURE = Feature(
    name="situation", order=70, blueprints=(Mount(bp, "/situation"),),
    navigation=(NavEntry(10, "Ситуационный центр", "situation.index", group="Аналитика", args=_opens_for),),
)

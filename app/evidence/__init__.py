"""A cycle's evidence (доказательная база цикла): every document of the cycle with its requisites, approvals and
signatures, the integrity check and the history on one printable page, and its XLSX export — what an expert or
an auditor checks a municipality's management cycle by (letter 08-70)."""

from flask import Blueprint

bp = Blueprint("evidence", __name__, template_folder="templates")

from app.core.features import Feature, Mount  # noqa: E402
from app.evidence import views  # noqa: E402,F401

FEATURE = Feature(
    name="evidence", order=70, blueprints=(Mount(bp, "/evidence"),),
)

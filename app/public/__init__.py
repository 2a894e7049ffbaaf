"""Open public pages (раздел-интегратор): what authorities publish about their mechanisms, without log-in —
region → municipality → mechanism → cycle, published documents, an Atom feed and a sitemap. Aggregates only."""

from flask import Blueprint

bp = Blueprint("public", __name__, template_folder="templates")
# What lives at the site's root for crawlers (robots.txt): a search engine looks for it there, not under /public.
bp_root = Blueprint("public_root", __name__)

from app.core.features import Feature, Mount  # noqa: E402
from app.public import views  # noqa: E402,F401

FEATURE = Feature(
    name="public", order=70, blueprints=(Mount(bp, "/public"), Mount(bp_root)),
)

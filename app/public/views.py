"""URL table of the public section: read-only, no log-in, cached by ETag (the newest audit event id: every change
of the system writes one) and Cache-Control public. `?embed=1` gives the page without the site's frame, for a
municipal site's <iframe>, with its own CSP frame-ancestors (PUBLIC_FRAME_ANCESTORS)."""

import hashlib
from datetime import datetime, timezone
from functools import wraps

from flask import Response, abort, current_app, make_response, render_template, request, send_file, url_for

from sqlalchemy import select

from app.core.access import public
from app.core.web import absolute_url, content_disposition
from app.documents import pdf
from app.documents.services import registered_path
from app.documents.storage import download_name
from app.extensions import db
from app.followup.labels import STATES as MEASURE_STATES
from app.orgs.models import Organisation
from app.public import bp, bp_root, services

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors {ancestors}")


def _embedded() -> bool:
    return request.args.get("embed") == "1"


def cached(view):
    """Answer 304 when nothing changed since the client's copy; otherwise render and mark the answer public."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        marker = services.change_marker()
        tag = hashlib.sha256(f"{request.full_path}|{marker}|{current_app.config['PUBLIC_MIN_GROUP']}".encode()
                             ).hexdigest()[:32]
        matches = tag in request.if_none_match
        if matches and not request.if_none_match.star_tag:
            response = Response(status=304)
        else:
            # «If-None-Match: *» matches any tag, so it answered 304 for a cycle or organisation that does not exist
            # (attack 21): a missing page is not «unchanged» (RFC 9110 §13.2.1), so the view decides (404) first.
            response = make_response(view(*args, **kwargs))
            if matches:
                response.close()
                response = Response(status=304)
        response.set_etag(tag)
        response.headers["Cache-Control"] = f"public, max-age={current_app.config['PUBLIC_MAX_AGE']}"
        ancestors = current_app.config["PUBLIC_FRAME_ANCESTORS"] if _embedded() else "'none'"
        response.headers["Content-Security-Policy"] = CSP.format(ancestors=ancestors)
        return response
    return wrapper


def _render(template: str, **context):
    return render_template(template, embedded=_embedded(), **context)


@bp.route("/")
@public
@cached
def index():
    return _render("public/index.html", roots=services.roots(), recent=services.published(limit=20))


@bp.route("/orgs/<code>")
@public
@cached
def organisation_page(code: str):
    org = services.organisation(code)
    if org is None:
        abort(404)
    year, results = services.results(org)
    return _render("public/organisation.html", org=org, trail=_trail(org), children=services.children(org),
                   mechanisms=services.mechanisms_of(org), documents=services.published(within=org, limit=30),
                   year=year, results=results, minimum=current_app.config["PUBLIC_MIN_GROUP"])


@bp.route("/cycles/<int:cycle_id>")
@public
@cached
def cycle_page(cycle_id: int):
    cycle = services.public_cycle(cycle_id)
    if cycle is None:
        abort(404)
    return _render("public/cycle.html", cycle=cycle, trail=_trail(cycle.owner) + [cycle.owner],
                   goals=cycle.goals if services.approved(cycle, "GOAL") else [],
                   indicators=services.indicator_lines(cycle), measures=services.measures(cycle),
                   measure_states=MEASURE_STATES,
                   conclusions=services.conclusions(cycle), documents=services.published(cycle=cycle))


@bp.route("/documents/<int:version_id>")
@public
@cached
def document_file(version_id: int):
    """A published document: the PDF of its registered copy when converted, else the registered copy itself."""
    version = services.published_version(version_id)
    if version is None:
        abort(404)
    row = pdf.pdf_of(version)
    if row is not None and row.status == "done":
        path, name, mimetype = pdf.pdf_path(row), pdf.download_name(version, published=True), "application/pdf"
    else:
        path = registered_path(version)
        name = download_name(version, published=True)
        mimetype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if path is None or not path.exists():
        abort(404)
    response = send_file(path, mimetype=mimetype, as_attachment=False, max_age=0)
    # The application's own header: Werkzeug's ASCII fallback of a Russian name is a row of spaces (attack 21).
    response.headers["Content-Disposition"] = content_disposition(name, inline=True)
    return response


@bp.route("/orgs/<code>/feed.atom")
@public
@cached
def feed(code: str):
    org = services.organisation(code)
    if org is None:
        abort(404)
    documents = services.published(within=org, limit=50)
    updated = max((d.document.published_at for d in documents if d.document.published_at), default=None)
    body = render_template("public/feed.atom.xml", org=org, documents=documents,
                           updated=_iso(updated or datetime(2000, 1, 1, tzinfo=timezone.utc)), iso=_iso)
    return Response(body, mimetype="application/atom+xml")


@bp.route("/sitemap.xml")
@public
@cached
def sitemap():
    urls = [absolute_url(endpoint, **args) for endpoint, args in services.sitemap_entries()]
    return Response(render_template("public/sitemap.xml", urls=urls), mimetype="application/xml")


@bp_root.route("/robots.txt")
@public
def robots():
    """Crawlers index the public section only. Without this file (a 404) a search engine walked everything it found
    a link to — the log-in page, the personal pages' addresses (each answering with the log-in page) — and did not
    learn of the sitemap; an embedded copy (?embed=1) of each public page is the same page again."""
    body = (f"User-agent: *\nAllow: {url_for('public.index')}\nAllow: {url_for('static', filename='')}\n"
            f"Disallow: /*embed=\nDisallow: /\n\nSitemap: {absolute_url('public.sitemap')}\n")
    response = Response(body, mimetype="text/plain")
    response.headers["Cache-Control"] = f"public, max-age={current_app.config['PUBLIC_MAX_AGE']}"
    return response


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _trail(org):
    """The public organisations above `org`, top first."""
    ids = org.ancestor_ids()[:-1]
    found = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found and found[i].kind in services.PUBLIC_KINDS]

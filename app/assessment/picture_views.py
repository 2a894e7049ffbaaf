"""Pages of the region picture (issue 16 items 7–8): the picture itself, the XLSX of all scores and the charts as
PNG. Who sees it: whoever reads the whole campaign (the region's officials, head, administrators, auditors) sees
every municipality; an expert sees the municipalities assigned to them; a coordinator, a school or anyone else
gets 404 (`services.campaign_for` and the scope). Sorting is by links (no script needed)."""

from __future__ import annotations

import io

from flask import g, render_template, request, send_file
from flask_login import current_user
from sqlalchemy import select

from app.analysis import chart_cache
from app.assessment import bp, evidence, picture, picture_charts, services
from app.assessment.models import LEVEL_STYLES, LEVELS
from app.catalogue.models import StageDefinition
from app.core.access import signed_in
from app.core.errors import NotFound
from app.core.web import send_download
from app.extensions import db


def _picture_for(campaign_id: int):
    campaign, scope = services.campaign_for(campaign_id, current_user)
    if scope.all:
        ids = None
    elif scope.assigned:
        ids = scope.assigned  # an expert: the municipalities assigned to them
    else:
        raise NotFound()
    return campaign, picture.region_picture(campaign, ids, hidden=services.hidden_self(campaign, scope)), ids is None


def _sort_args() -> tuple[str, bool]:
    key = request.args.get("sort") or "name"
    descending = request.args.get("order") == "desc"
    return key, descending


@bp.route("/campaigns/<int:campaign_id>/picture")
@signed_in
def picture_page(campaign_id: int):
    campaign, pic, full = _picture_for(campaign_id)
    key, descending = _sort_args()
    if key not in picture.SORTS and key not in pic.mechanisms:
        key = "name"
    rows = picture.sort_rows(pic.rows, key, descending)
    data = picture_charts.chart_data(pic)
    # The heat map is the page's table (its chart is the PNG export); the linkage chart only when the region has a
    # cycle to compare (else its bars would all be the region's zeros).
    shown = [name for name in data if name != "heatmap" and (name != "linkage" or pic.linkage.compared)]
    charts = {name: picture_charts.svg_inline(name, data[name]) for name in shown} if pic.rows else {}
    titles = dict(db.session.execute(select(StageDefinition.code, StageDefinition.title)).all())
    return render_template("assessment/picture.html", campaign=campaign, pic=pic, rows=rows, sort=key,
                           descending=descending, full=full, charts=charts, chart_titles=picture_charts.CHARTS,
                           block_titles=titles, block_positions=evidence.block_positions(), levels=LEVELS,
                           level_styles=LEVEL_STYLES,
                           over_gap=picture.OVER_ASSESSMENT_GAP)


@bp.route("/campaigns/<int:campaign_id>/picture.xlsx")
@signed_in
def picture_xlsx(campaign_id: int):
    campaign, pic, _ = _picture_for(campaign_id)
    return send_download(picture.scores_xlsx(pic), f"Оценка механизмов — {campaign.title}.xlsx")


@bp.route("/campaigns/<int:campaign_id>/picture/<any(heatmap, levels, blocks, linkage):chart>.png")
@signed_in
def picture_chart(campaign_id: int, chart: str):
    campaign, pic, _ = _picture_for(campaign_id)
    data = picture_charts.chart_data(pic).get(chart)
    if data is None:
        raise NotFound()
    key, body = picture_charts.png(chart, data)
    response = send_file(io.BytesIO(body), mimetype="image/png", as_attachment="download" in request.args,
                         download_name=f"{chart}-{campaign.id}.png", etag=False)
    response.set_etag(key)
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)


@bp.after_request
def _store_picture_charts(response):
    """Charts drawn while building a picture page are committed once it is built (the pages write nothing else)."""
    if g.pop("analysis_charts_drawn", False) and response.status_code < 400:
        chart_cache.commit_stored()
    return response

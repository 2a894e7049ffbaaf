"""Pages of the evidence package: the campaign's packages with the request form, one package's progress, the
download (streamed from storage). Scope as everywhere in the campaign (package.check_may_package): a municipality's
package for whoever reads that municipality, the whole campaign's for those who read all of it; otherwise 404."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.assessment import bp, package, services
from app.core.access import signed_in
from app.core.boundary import keep_access_record, on_refusal
from app.core.checks import form_int
from app.core.errors import NotFound
from app.core.web import send_stored_file


@bp.route("/campaigns/<int:campaign_id>/packages")
@signed_in
def packages(campaign_id: int):
    return _packages_page(campaign_id)


def _packages_page(campaign_id: int, status: int = 200):
    """The packages; after a refused request, with the municipality that was chosen and the refusal's 4xx."""
    campaign, scope = services.campaign_for(campaign_id, current_user)
    if not (scope.all or scope.working_ids):
        raise NotFound()  # the municipality's head reads the published results, not the working evidence
    rows = package.packages_of(campaign, scope)
    choices = [m.municipality for m in campaign.municipalities if scope.all or m.municipality_id in scope.working_ids]
    return render_template("assessment/packages.html", campaign=campaign, scope=scope, packages=rows,
                           choices=sorted(choices, key=lambda o: o.name), statuses=package.STATUSES,
                           running=any(p.pending for p in rows),
                           chosen=request.form.get("municipality_id") if request.method == "POST" else None), status


@bp.route("/campaigns/<int:campaign_id>/packages/request", methods=["POST"])
@signed_in
def request_package(campaign_id: int):
    campaign, scope = services.campaign_for(campaign_id, current_user)
    raw = (request.form.get("municipality_id") or "").strip()
    if raw == "" or form_int(raw) is not None:
        # Outside the user's scope is 404 like any object of the campaign, not a refusal shown on the page.
        package.check_may_package(campaign, scope, int(raw) if raw else None)
    on_refusal(lambda exc: _packages_page(campaign_id, exc.status_code))
    row, joined = package.request_package(campaign, scope, actor=current_user, municipality_id=raw)
    if joined:
        flash(package.building_note(row), "info")
    else:
        flash("Пакет доказательств поставлен в очередь на сборку.", "success")
    return redirect(url_for("assessment.package_detail", package_id=row.id), code=303)


@bp.route("/packages/<int:package_id>")
@signed_in
def package_detail(package_id: int):
    row, _scope = package.package_for(package_id, current_user)
    return render_template("assessment/package.html", package=row, statuses=package.STATUSES)


@bp.route("/packages/<int:package_id>/download")
@signed_in
def package_download(package_id: int):
    row, path = package.downloadable(package_id, current_user)
    # A GET keeps nothing by itself (app.core.boundary): the download's audit event is committed here, before the
    # file goes out — who took a campaign's evidence is on record even if the transfer breaks off.
    keep_access_record()
    return send_stored_file(path, row.download_name(), "application/zip")

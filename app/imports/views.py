"""URL table of imports: upload pages per kind, the list of imports in scope, one import's page and
its files (the original upload and the error report)."""

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.auth.submissions import submit_once
from app.core.access import (acting_has_role, acting_scope_paths, get_in_scope,
                             roles_required, scope_condition, signed_in)
from app.core.boundary import keep_access_record, on_refusal
from app.core.forms import as_choices
from app.core.web import reading, send_stored_file
from app.extensions import db
from app.imports import bp, structures, summaries
from app.imports.formats import ORGANISATION_SPEC, RESULTS_SPEC
from app.imports.forms import UploadForm
from app.imports.models import ImportRun
from app.imports.services import (FINISHED, IMPORT_ROLES, KINDS, STATUSES, can_import, may_take_files,
                                  record_file_access, report_file, start_import, stored_file,
                                  upload_organisations)
from app.jobs.registry import WAITING
from app.orgs.models import Organisation

LIST_LIMIT = 200
# Who may take an import's files at all (services.may_take_files decides for the import's organisation).
FILE_TAKERS = sorted(set().union(*IMPORT_ROLES.values()) | {"director"})


@bp.route("/")
@signed_in
def import_list():
    runs = db.session.scalars(
        select(ImportRun).join(ImportRun.organisation).where(scope_condition(Organisation.path))
        .options(joinedload(ImportRun.organisation), joinedload(ImportRun.created_by))
        .order_by(ImportRun.id.desc()).limit(LIST_LIMIT)
    ).all()
    running = any(_moving(run) for run in runs)
    loaded = None if runs else summaries.loaded_results(acting_scope_paths(current_user))
    page = render_template("imports/list.html", runs=runs, running=running, STATUSES=STATUSES, KINDS=KINDS,
                           loaded=loaded,
                           can_import={kind: acting_has_role(current_user, *roles)
                                       for kind, roles in IMPORT_ROLES.items()})
    return _refreshing(page, running)


def _moving(run: ImportRun) -> bool:
    """The import is on its way: queued for a worker or running. Not a failed one, nor one whose job waits for
    an unavailable queue (its page says so; reloading would not change it)."""
    return run.status not in FINISHED and run.message != WAITING


def _refreshing(page: str, running: bool):
    """While an import runs, the page reloads itself (Refresh header and meta tag): no JavaScript."""
    response = make_response(page)
    if running:
        response.headers["Refresh"] = "2"
    return response


def _upload(kind: str):
    orgs = upload_organisations(current_user, kind)
    form = UploadForm()
    form.organisation_id.choices = as_choices([(o.id, f"{o.display_name} ({o.code})") for o in orgs])
    if reading() and orgs:
        form.organisation_id.data = orgs[0].id

    def page(status: int):
        spec = RESULTS_SPEC if kind == "results" else ORGANISATION_SPEC
        return render_template("imports/new.html", form=form, kind=kind, title=KINDS[kind], spec=spec,
                               declared_works=structures.declared_works()), status

    if form.validate_on_submit():
        organisation = get_in_scope(Organisation, form.organisation_id.data, roles=IMPORT_ROLES[kind])
        upload = form.file.data
        on_refusal(lambda exc: page(422))
        # The job is sent once the request boundary has committed the queued row (enqueue_after_commit).
        run = start_import(kind, filename=upload.filename, stream=upload.stream, actor=current_user,
                           organisation=organisation)
        return redirect(url_for("imports.import_detail", import_id=run.id))
    return page(422 if request.method == "POST" else 200)


@bp.route("/organisations/new", methods=["GET", "POST"])
@roles_required(*IMPORT_ROLES["organisations"])
@submit_once
def new_organisations():
    return _upload("organisations")


@bp.route("/results/new", methods=["GET", "POST"])
@roles_required(*IMPORT_ROLES["results"])
@submit_once
def new_results():
    return _upload("results")


@bp.route("/<int:import_id>")
@signed_in
def import_detail(import_id: int):
    run = get_in_scope(ImportRun, import_id)
    report = report_file(run)
    running = _moving(run)
    page = render_template("imports/detail.html", run=run, STATUSES=STATUSES, KINDS=KINDS, running=running,
                           has_report=bool(report and report.exists()),
                           can_import=can_import(current_user, run.kind, run.organisation),
                           may_take_files=may_take_files(current_user, run))
    return _refreshing(page, running)


@bp.route("/<int:import_id>/report")
@roles_required(*FILE_TAKERS)
def error_report(import_id: int):
    run = get_in_scope(ImportRun, import_id)
    path = report_file(run)
    if path is None or not path.exists():
        abort(404)
    _take_file(run, "report")
    # Werkzeug adds «; charset=utf-8» to a text type: given here too, the header named it twice (attack 12)
    return send_stored_file(path, f"Ошибки загрузки № {run.id}.csv", "text/csv")


def _take_file(run: ImportRun, what: str) -> None:
    record_file_access(run, current_user, what=what)
    # A GET is never committed by the boundary; this access-log entry is kept by its own commit (152-ФЗ: who read
    # pupils' results is logged whether or not the download completes).
    keep_access_record()


@bp.route("/<int:import_id>/original")
@roles_required(*FILE_TAKERS)
def original_file(import_id: int):
    run = get_in_scope(ImportRun, import_id)
    path = stored_file(run)
    if not run.stored_path or not path.is_file():
        abort(404)
    _take_file(run, "original")
    return send_stored_file(path, run.original_filename, "application/octet-stream")

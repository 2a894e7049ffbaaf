"""Pages of template administration (administrators only): the types with their active template version, a
type's history of uploads with validation results, upload, activation, download of any version."""

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import SubmitField

from app.auth.submissions import submit_once
from app.core.access import roles_required
from app.core.boundary import on_refusal
from app.core.errors import ValidationFailed
from app.core.forms import Form, flash_form_errors
from app.core.web import send_stored_file
from app.documents import bp, template_admin
from app.documents.catalogue import get_type
from app.documents.template_admin import DOCX_MIME, TemplateVersion
from app.extensions import db


class TemplateUploadForm(Form):
    file = FileField("Файл шаблона (.docx)")
    submit = SubmitField("Загрузить и проверить")


class TemplateActionForm(Form):
    submit = SubmitField("Сделать действующей")


def _type_or_404(type_key: str):
    try:
        return get_type(type_key)
    except ValidationFailed:
        abort(404)


def _version_or_404(template_version_id: int) -> TemplateVersion:
    tv = db.session.get(TemplateVersion, template_version_id)
    if tv is None:
        abort(404)
    return tv


def _type_page(doc_type, status: int = 200, form: TemplateUploadForm | None = None):
    rows = {row.doc_type.key: row for row in template_admin.overview()}
    page = render_template("documents/templates_type.html", doc_type=doc_type, row=rows[doc_type.key],
                           versions=template_admin.history(doc_type.key), form=form or TemplateUploadForm(),
                           action_form=TemplateActionForm(), max_mb=template_admin.max_upload_bytes() // 1024 // 1024)
    return page, status


def _back(type_key: str):
    return redirect(url_for("documents.templates_type", template_type=type_key))


@bp.route("/templates")
@roles_required("admin")
def templates_list():
    template_admin.require_template_admin(current_user)
    return render_template("documents/templates_list.html", rows=template_admin.overview())


@bp.route("/templates/<template_type>")
@roles_required("admin")
def templates_type(template_type: str):
    template_admin.require_template_admin(current_user)
    return _type_page(_type_or_404(template_type))


@bp.route("/templates/<template_type>/upload", methods=["POST"])
@roles_required("admin")
@submit_once
def templates_upload(template_type: str):
    template_admin.require_template_admin(current_user)
    doc_type = _type_or_404(template_type)
    form = TemplateUploadForm()
    upload = request.files.get("file")
    if not form.validate_on_submit() or upload is None or not upload.filename:
        flash_form_errors(form)
        if upload is None or not upload.filename:
            flash("Выберите файл шаблона (.docx).", "danger")
        return _type_page(doc_type, 422, form)
    on_refusal(lambda exc: _type_page(doc_type, exc.status_code, form))
    tv = template_admin.upload(doc_type.key, stream=upload.stream, filename=upload.filename, actor=current_user)
    if tv.valid:
        flash(f"Версия {tv.number} загружена и прошла проверку; чтобы по ней формировались документы, сделайте её "
              "действующей.", "success")
    else:
        flash(f"Версия {tv.number} загружена, но не прошла проверку и не может стать действующей:", "danger")
        for problem in tv.problems:
            flash(problem, "danger")
    return _back(doc_type.key)


@bp.route("/templates/versions/<int:template_version_id>/activate", methods=["POST"])
@roles_required("admin")
def templates_activate(template_version_id: int):
    template_admin.require_template_admin(current_user)
    tv = _version_or_404(template_version_id)
    type_key = tv.type_key
    form = TemplateActionForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _type_page(get_type(type_key), 422)
    on_refusal(lambda exc: _type_page(get_type(type_key), exc.status_code))
    template_admin.activate(tv, actor=current_user)
    flash(f"Действует версия {tv.number}: новые документы формируются по ней.", "success")
    return _back(type_key)


@bp.route("/templates/<template_type>/builtin/activate", methods=["POST"])
@roles_required("admin")
def templates_activate_builtin(template_type: str):
    template_admin.require_template_admin(current_user)
    doc_type = _type_or_404(template_type)
    form = TemplateActionForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _type_page(doc_type, 422)
    on_refusal(lambda exc: _type_page(doc_type, exc.status_code))
    template_admin.activate_builtin(doc_type.key, actor=current_user)
    # the shipped template's number is its sidecar's version (3 for the analytic report), not always 1
    flash(f"Действует встроенный шаблон (версия {template_admin.builtin_number(doc_type.key)}).", "success")
    return _back(doc_type.key)


@bp.route("/templates/versions/<int:template_version_id>/download")
@roles_required("admin")
def templates_download(template_version_id: int):
    template_admin.require_template_admin(current_user)
    tv = _version_or_404(template_version_id)
    path = template_admin.storage_root() / tv.stored_path
    if not path.is_file():
        abort(404)
    return send_stored_file(path, f"{tv.type_key} v{tv.number}.docx", DOCX_MIME)


@bp.route("/templates/<template_type>/builtin/download")
@roles_required("admin")
def templates_download_builtin(template_type: str):
    template_admin.require_template_admin(current_user)
    doc_type = _type_or_404(template_type)
    builtin = template_admin.builtin(doc_type.key)
    return send_file(io.BytesIO(builtin.data), mimetype=DOCX_MIME, as_attachment=True,
                     download_name=f"{doc_type.key} v{builtin.number}.docx")

"""Pages for PDF copies of registered documents: request the conversion (POST), download the stored PDF (GET)."""

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from app.core.access import signed_in
from app.core.boundary import on_refusal
from app.core.forms import Form, flash_form_errors
from app.documents import bp, pdf
from app.documents.models import DocumentVersion
from app.documents.views import _send_stored, document_in_scope


@bp.route("/versions/<int:docversion_id>/pdf/convert", methods=["POST"])
@signed_in
def request_pdf(docversion_id: int):
    version = document_in_scope(DocumentVersion, docversion_id)
    doc_id = version.document_id
    back = redirect(url_for("documents.document_detail", document_id=doc_id) + f"#version-{version.number}")
    form = Form()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return back
    on_refusal(lambda exc: back)
    row = pdf.request_pdf(version, actor=current_user)
    if row.status == "done":
        flash("PDF уже готов: скачайте его на странице документа.", "info")
    else:
        flash("Документ преобразуется в PDF; обновите страницу, чтобы скачать его.", "success")
    return back


@bp.route("/versions/<int:docversion_id>/pdf")
@signed_in
def download_pdf(docversion_id: int):
    """The stored PDF of a registered version (converted once; served from storage afterwards)."""
    version = document_in_scope(DocumentVersion, docversion_id)
    row = pdf.pdf_of(version)
    if row is None or row.status != "done":
        abort(404)
    return _send_stored(pdf.pdf_path(row), pdf.download_name(version), "application/pdf")

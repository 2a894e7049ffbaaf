"""Pages of the documents feature: the URL table (thin: form → service → redirect; the request boundary commits)."""

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.roles import ROLES
from app.auth.submissions import refuse_untokened, submit_once
from app.core.access import acting_roles_over, get_in_scope, roles_required, signed_in
from app.core.boundary import on_refusal
from app.core.checks import check_version, form_int
from app.core.errors import DomainError
from app.core.forms import flash_form_errors
from app.core.web import flash_problems, send_stored_file
from app.cycles.models import Stage
from app.cycles.views import stage_detail
from app.documents import bp, invited, journals, services
from app.documents.attachments import attachment_path, attachments_of, kind_label
from app.documents.catalogue import document_types
from app.documents.forms import (AcknowledgeForm, ActionForm, GenerateForm, JournalForm, JournalTypesForm,
                                 RegenerateForm, SignedCopyForm, SignForm)
from app.documents.models import Attachment, Document, DocumentJournal, DocumentVersion
from app.documents.owners import outdated, owner_url, subject_of
from app.extensions import db
from app.jobs.registry import WAITING
from app.monitoring.models import DataRequest
from app.orgs.models import Organisation
from app.orgs.services import visible_ancestors
from workflows import engine
from workflows.document import STATES, pending_step
from workflows.stage import documents_frozen


def document_in_scope(model, object_id):
    """A document (or one of its versions) in the user's scope: its issuer's subtree and, for a document about
    another organisation than its issuer (owners.subject_of), a role over that organisation too; else 404."""
    obj = get_in_scope(model, object_id)
    subject = subject_of(obj if isinstance(obj, Document) else obj.document)
    if subject is not None and not acting_roles_over(current_user, subject):
        abort(404)
    return obj


def _send_stored(path, name: str, mimetype: str):
    if path is None or not path.is_file():
        abort(404)
    return send_stored_file(path, name, mimetype)


def page_actions(doc: Document, user) -> list:
    """The workflow buttons of the page: what the engine allows `user` now (a deputy included), less the
    actions the page offers elsewhere or that cannot succeed for this document type."""
    allowed = []
    has_route = bool(doc.doc_type and doc.doc_type.approval_route)
    for spec in engine.available_transitions(doc, user):
        if spec.trigger in ("revise", "sign", "cosign"):
            continue  # a new edition is made by generating anew; signing has its own form
        if spec.trigger == "to_approval" and not has_route or spec.trigger == "to_signature" and has_route:
            continue
        if spec.trigger in ("register", "publish") and engine.check_guards(doc, spec.trigger):
            continue
        allowed.append(spec)
    return allowed


def _document_page(doc: Document, status: int = 200, *, action_form=None, sent: str | None = None,
                   regenerate_form=None, **_forms):
    """The document's page; `action_form` and `sent`: a refused action's form and trigger, so its comment box shows
    what was typed; `regenerate_form`: a refused new edition's, so its «Приглашённые» box does."""
    user = current_user
    versions = list(reversed(doc.versions))
    # A version whose job waits for Redis says so (JOB_WAITING) instead of reloading the page forever.
    generating = any((v.status in ("queued", "running") and v.error != WAITING)
                     or (v.registered_status in ("queued", "running") and v.registered_error != WAITING)
                     for v in versions)
    # A PDF being made is followed too (the page reloads itself until it is done), without hiding actions.
    from app.documents.pdf import pdf_of

    pdf_pending = any((p := pdf_of(v)) is not None and p.status in ("queued", "running") and p.error != WAITING
                      for v in versions if v.registered_status == "done")
    verifications = {v.id: services.verify_signed(v) for v in versions if v.status == "done"}
    registered_checks = {v.id: services.verify_registered(v) for v in versions if v.status == "done"}
    attachments = {v.id: attachments_of(v) for v in versions}
    # the stage on review freezes its documents: no «Сформировать заново», and an editor is told why
    frozen = documents_frozen(doc.stage) if doc.stage is not None else []
    editor = services.can_edit(user, doc)
    page = render_template(
        "documents/detail.html", doc=doc, versions=versions, current=doc.current, generating=generating,
        state_label=STATES.get(doc.state, doc.state), statuses=services.GENERATION_STATUSES,
        verifications=verifications, registered_checks=registered_checks, attachments=attachments,
        kind_label=kind_label, ROLES=ROLES, owner_url=owner_url(doc) if doc.owner_type is not None else None,
        outdated=outdated(doc),
        actions=page_actions(doc, user), withheld=engine.withheld_transitions(doc, user),
        can_edit=editor,
        # a closed cycle's documents get no new edition (services refuse it); an owner's documents have no cycle
        can_regenerate=editor and (doc.cycle is None or doc.cycle.state == "open") and not frozen,
        frozen=frozen[0] if frozen and editor else None,
        can_acknowledge=bool(services.acknowledging_roles(user, doc)),
        can_sign=engine.can(doc, "sign", user) or engine.can(doc, "cosign", user),
        step=pending_step(doc.current) if doc.state == "on_approval" else None,
        typed=action_form.comment.data or "" if action_form is not None else "", sent=sent,
        # the box of those invited: what a refused request typed, else the current edition's (a new edition keeps them)
        invited_box=(regenerate_form.invited.data or "" if regenerate_form is not None
                     else invited.invited_text(doc.current.params if doc.current else None))
        if invited.asks_invited(doc.type_key) else None)
    response = make_response(page, status)
    if (generating or pdf_pending) and status == 200:
        response.headers["Refresh"] = "2"  # the page follows the generation job without JavaScript
    return response


def _back_to(doc: Document):
    return redirect(url_for("documents.document_detail", document_id=doc.id))


@bp.route("/<int:document_id>")
@signed_in
def document_detail(document_id: int):
    return _document_page(document_in_scope(Document, document_id))


@bp.route("/stages/<int:stage_id>/generate", methods=["POST"])
@signed_in
@submit_once
def generate(stage_id: int):
    stage = get_in_scope(Stage, stage_id)
    form = GenerateForm()
    back = redirect(url_for("cycles.stage_detail", stage_id=stage.id) + "#stage-documents")
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _stage_page(stage.id, form, 422)
    addressee = data_request = None
    if form.addressee_id.data:
        addressee = db.session.get(Organisation, form.addressee_id.data)
        if addressee is None or not current_user.can_see(addressee):
            abort(404)
    if form.data_request_id.data:
        data_request = db.session.get(DataRequest, form.data_request_id.data)
        if data_request is None or data_request.cycle_id != stage.cycle_id:
            abort(404)
    on_refusal(lambda exc: _stage_page(stage_id, form, exc.status_code))
    if form.all_addressees.data:
        made = services.generate_for_addressees(stage, form.type_key.data, actor=current_user,
                                                addressees=services.recommendation_addressees(stage))
    else:
        refuse_untokened(lambda: services.find_document(stage, form.type_key.data, addressee=addressee,
                                                        data_request=data_request))
        doc = services.generate_document(stage, form.type_key.data, actor=current_user, addressee=addressee,
                                         data_request=data_request, params=_typed_params(form.type_key.data, form))
    if form.all_addressees.data:
        flash(f"Формируются документы для адресатов: {len(made)}.", "success")
        return back
    flash(f"Документ «{doc.title}» формируется (редакция {doc.current.number}).", "success")
    return _back_to(doc)


def _typed_params(type_key: str, form) -> dict | None:
    """The choices typed in the form for the new edition: those invited, where the type prints them and the form sent
    the box (a form without it, the service carries the current edition's over)."""
    if "invited" not in request.form or not invited.asks_invited(type_key):
        return None
    return {invited.PARAM: invited.parse_invited(form.invited.data)}


def _stage_page(stage_id: int, form, status: int):
    """A refused «Сформировать»: the stage's page again, rendered (not a redirect), its «Приглашённые» box with what
    was typed. It waited in the session cookie for the redirected page before, and a long list (a cookie holds 4 KB)
    was lost without a word."""
    if "invited" in request.form:
        g.typed_invited = {"stage": stage_id, "type": form.type_key.data, "text": form.invited.data or ""}
    page, _ = stage_detail(stage_id)
    return page, status


@bp.route("/<int:document_id>/regenerate", methods=["POST"])
@signed_in
@submit_once
def regenerate(document_id: int):
    doc = document_in_scope(Document, document_id)
    form = RegenerateForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _document_page(doc, 422, regenerate_form=form)
    on_refusal(lambda exc: _document_page(db.session.get(Document, document_id), exc.status_code,
                                          regenerate_form=form))
    check_version(doc, form.version.data)
    params = dict(doc.current.params or {}) if doc.current else {}
    params.pop("data_request_id", None)
    params.update(_typed_params(doc.type_key, form) or {})
    # the version check lets a replay through (a new edition leaves the document's row as it was): the page's token
    refuse_untokened(lambda: doc)
    services.regenerate(doc, actor=current_user, params=params or None)
    flash(f"Формируется редакция {doc.current.number}.", "success")
    return _back_to(doc)


@bp.route("/<int:document_id>/transition/<doc_trigger>", methods=["POST"])
@signed_in
def transition(document_id: int, doc_trigger: str):
    doc = document_in_scope(Document, document_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _document_page(doc, 422, action_form=form, sent=doc_trigger)
    on_refusal(lambda exc: _document_page(db.session.get(Document, document_id), exc.status_code, action_form=form,
                                          sent=doc_trigger))
    services.transition(doc, doc_trigger, actor=current_user, comment=form.comment.data,
                        expected_version=form.version.data)
    flash(f"Документ «{doc.title}»: {STATES.get(doc.state, doc.state)}.", "success")
    return _back_to(doc)


@bp.route("/<int:document_id>/sign", methods=["POST"])
@signed_in
def sign(document_id: int):
    doc = document_in_scope(Document, document_id)
    form = SignForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _document_page(doc, 422, sign_form=form)
    on_refusal(lambda exc: _document_page(db.session.get(Document, document_id), exc.status_code, sign_form=form))
    try:
        services.sign_document(doc, actor=current_user, password=form.password.data,
                               expected_version=form.version.data)
    except services.SigningRefused as exc:
        db.session.commit()  # kept although refused: the audit record of the failed password re-entry
        flash_problems(exc)
        return _document_page(db.session.get(Document, document_id), exc.status_code, sign_form=form)
    flash(f"Документ «{doc.title}» подписан.", "success")
    return _back_to(doc)


@bp.route("/versions/<int:docversion_id>/download")
@signed_in
def download_version(docversion_id: int):
    version = document_in_scope(DocumentVersion, docversion_id)
    if version.status != "done":
        abort(404)
    return _send_stored(services.version_path(version), services.download_name(version),
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


@bp.route("/versions/<int:docversion_id>/registered")
@signed_in
def download_registered(docversion_id: int):
    """Зарегистрированный экземпляр: the signed content with the registration number and date and the signature
    requisites (a separate file; the signed original stays downloadable as it was signed)."""
    version = document_in_scope(DocumentVersion, docversion_id)
    if version.registered_status != "done":
        abort(404)
    return _send_stored(services.registered_path(version), services.registered_download_name(version),
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


@bp.route("/versions/<int:docversion_id>/attach", methods=["POST"])
@signed_in
@submit_once
def attach_copy(docversion_id: int):
    version = document_in_scope(DocumentVersion, docversion_id)
    doc = version.document
    form = SignedCopyForm()
    upload = request.files.get("file")
    if not form.validate_on_submit() or upload is None or not upload.filename:
        flash_form_errors(form)
        if upload is None or not upload.filename:
            flash("Выберите файл.", "danger")
        return _document_page(doc, 422, copy_form=form)
    on_refusal(lambda exc: _document_page(db.session.get(Document, doc.id), exc.status_code, copy_form=form))
    services.attach_signed_copy(version, stream=upload.stream, filename=upload.filename, kind=form.kind.data,
                                actor=current_user)
    flash("Файл приложен к редакции.", "success")
    return _back_to(doc)


@bp.route("/versions/<int:docversion_id>/acknowledge", methods=["POST"])
@signed_in
def acknowledge(docversion_id: int):
    version = document_in_scope(DocumentVersion, docversion_id)
    doc = version.document
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _document_page(doc, 422, ack_form=form)
    on_refusal(lambda exc: _document_page(db.session.get(Document, doc.id), exc.status_code, ack_form=form))
    try:
        services.acknowledge(version, actor=current_user, password=form.password.data)
    except services.SigningRefused as exc:
        db.session.commit()  # kept although refused: the refused attempt is audited
        flash_problems(exc)
        return _document_page(db.session.get(Document, doc.id), exc.status_code, ack_form=form)
    flash("Ознакомление отмечено.", "success")
    return _back_to(doc)


@bp.route("/attachments/<int:attachment_id>")
@signed_in
def download_attachment(attachment_id: int):
    attachment = get_in_scope(Attachment, attachment_id)
    return _send_stored(attachment_path(attachment), attachment.original_name, attachment.content_type)


# --- registration journals of an organisation (administrators) ------------------------------------------------

def _journals_page(org: Organisation, status: int = 200, new_form: JournalForm | None = None):
    return render_template(
        "documents/journals.html", org=org, set_up=journals.is_set_up(org), journals=journals.journals_of(org),
        mapping=journals.mapping_of(org), types=list(document_types().values()), defaults=journals.default_journals(),
        default_format=lambda spec: DocumentJournal(**{k: spec[k] for k in ("prefix", "suffix", "file_index")}),
        new_form=new_form or JournalForm(formdata=None), types_form=JournalTypesForm(formdata=None),
        trail=visible_ancestors(org, current_user)), status


def _to_journals(org: Organisation):
    return redirect(url_for("documents.journals_page", org_id=org.id))


@bp.route("/journals/<int:org_id>")
@roles_required("admin")
def journals_page(org_id: int):
    return _journals_page(get_in_scope(Organisation, org_id, roles={"admin"}))


@bp.route("/journals/<int:org_id>/setup", methods=["POST"])
@roles_required("admin")
def journals_setup(org_id: int):
    org = get_in_scope(Organisation, org_id, roles={"admin"})
    if not JournalTypesForm().validate_on_submit():  # the CSRF token only
        abort(400)
    journals.ensure_journals(org)
    flash("Журналы регистрации созданы по умолчанию; их можно изменить.", "success")
    return _to_journals(org)


@bp.route("/journals/<int:org_id>/new", methods=["POST"])
@roles_required("admin")
def journal_new(org_id: int):
    org = get_in_scope(Organisation, org_id, roles={"admin"})
    form = JournalForm()
    if not form.validate_on_submit():
        return _journals_page(org, 422, new_form=form)
    on_refusal(lambda exc: _journals_page(org, 422, new_form=form), field=form.code)
    journal = journals.create_journal(org, code=form.code.data, data=form.format_data(), actor=current_user)
    flash(f"Журнал «{journal.title}» добавлен.", "success")
    return _to_journals(org)


@bp.route("/journals/edit/<int:journal_id>", methods=["POST"])
@roles_required("admin")
def journal_edit(journal_id: int):
    journal = db.session.get(DocumentJournal, journal_id)
    if journal is None:
        abort(404)
    org = get_in_scope(Organisation, journal.organisation_id, roles={"admin"})
    form = JournalForm()
    on_refusal(lambda exc: _journals_page(org, 422))
    if not form.validate_on_submit():
        raise DomainError("Журнал регистрации не сохранён.",
                          problems=[m for errors in form.errors.values() for m in errors])
    journals.update_journal(journal, data=form.format_data(), actor=current_user)
    flash(f"Журнал «{journal.title}» сохранён.", "success")
    return _to_journals(org)


@bp.route("/journals/<int:org_id>/types", methods=["POST"])
@roles_required("admin")
def journal_types(org_id: int):
    org = get_in_scope(Organisation, org_id, roles={"admin"})
    if not JournalTypesForm().validate_on_submit():
        abort(400)
    choices = {}
    for name, value in request.form.items():
        if name.startswith("type-"):
            if form_int(value) is None:
                flash("Выберите журнал для каждого вида документа.", "danger")
                return _journals_page(org, 422)
            choices[name[5:]] = int(value)
    on_refusal(lambda exc: _journals_page(org, 422))
    moved = journals.set_type_journals(org, choices, actor=current_user)
    flash(f"Распределение по журналам сохранено (изменено видов документов: {moved}).", "success")
    return _to_journals(org)

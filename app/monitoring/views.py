"""URL table of data requests and submissions. Views are thin: form → service → redirect (the request boundary
commits)."""


from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.models import User
from app.auth.submissions import submit_once
from app.core import uploads
from app.core.access import acting_has_role, get_in_scope, roles_required, signed_in
from app.core.boundary import on_refusal
from app.core.checks import check_version
from app.core.forms import as_choices, flash_form_errors
from app.core.web import reading, send_download, user_today
from app.cycles.models import Cycle
from app.extensions import db
from app.monitoring import bp, services, xlsx
from app.monitoring.forms import ActionForm, DelegateForm, RemindForm, RequestForm, UploadForm, ValuesForm, VersionForm
from app.monitoring.models import DataRequest, Submission
from app.monitoring.values import COLUMNS, can_fill, display_value, require_fillable, save_values, unit_rule
from workflows import engine
from workflows.data_request import REQUESTER, REQUESTERS
from workflows.submission import FILLERS, OPEN_STATES

REQUEST_TRIGGERS = ("send", "close")
SUBMISSION_TRIGGERS = ("submit", "resubmit", "accept", "return", "mark_not_provided")
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
MAX_FLASHED_ERRORS = 100


def _today():
    return user_today()


def _load_request(request_id: int, *, roles=None) -> DataRequest:
    return get_in_scope(DataRequest, request_id, roles=roles)


def _load_submission(submission_id: int) -> Submission:
    submission = get_in_scope(Submission, submission_id)
    if not services.visible_submission(submission, current_user):
        abort(404)
    return submission


# --- lists ---

@bp.route("/")
@signed_in
def index():
    today = _today()
    reqs = services.requests_in_scope(current_user)
    return render_template("monitoring/index.html", requests=reqs, counts=services.state_counts([r.id for r in reqs]),
                           submissions=services.my_submissions(current_user), today=today,
                           # what an empty page tells the reader to do: send a request, or wait for one
                           can_request=acting_has_role(current_user, *REQUESTERS),
                           answers=acting_has_role(current_user, *FILLERS),
                           is_overdue=services.is_overdue, states=engine.registry()["submission"].states,
                           request_states=engine.registry()["data_request"].states)


@bp.route("/cycles/<int:cycle_id>/requests")
@signed_in
def cycle_requests(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id)
    reqs = services.requests_of_cycle(cycle)
    stage = cycle.stage("MON")
    # the stage whose requests are open now: the monitoring, or the effectiveness stage's repeat measurement
    open_code = services.requesting_stage(cycle)
    can_create = engine.permits(REQUESTER, cycle, current_user) and open_code is not None
    return render_template("monitoring/cycle_requests.html", cycle=cycle, stage=stage, requests=reqs,
                           counts=services.state_counts([r.id for r in reqs]), can_create=can_create,
                           open_code=open_code, closed_reason=services.closed_reason(cycle),
                           states=engine.registry()["submission"].states,
                           request_states=engine.registry()["data_request"].states, today=_today())


# --- creating and editing a request ---

def _request_form(cycle: Cycle, obj: DataRequest | None = None, formdata=True) -> RequestForm:
    form = RequestForm() if formdata else RequestForm(formdata=None)
    stage_code = obj.stage_code if obj is not None else services.requesting_stage(cycle) or "MON"
    form.indicator_ids.choices = as_choices([(i.id, f"{i.code} {i.name}")
                                             for i in services.request_indicators(cycle, stage_code)])
    orgs = services.addressee_choices(cycle)
    form.organisation_ids.choices = as_choices([(o.id, o.display_name) for o in orgs])
    # «Все» means the mechanism's audience (the schools, or the kindergartens of the preschool mechanism), not every
    # institution of the owner: the checkboxes below still offer the others one by one.
    audience = services.audience_addressees(cycle)
    who = f" ({services.audience_words(cycle)})" if len(audience) < len(orgs) else ""
    form.all_organisations.label.text = (f"Все образовательные организации{who}: {cycle.owner.display_name} "
                                         f"({len(audience)})")
    form.orgs = audience
    if reading():
        if obj is None and services.requesting_stage(cycle) == "EFF":
            # a repeat measurement: after the measures, of the indicators they were expected to move
            form.title.data = "Повторное измерение показателей после принятых мер"
            form.period.data = services.repeat_period(cycle)
            form.indicator_ids.data = services.repeat_indicator_ids(cycle)
        elif obj is None:
            form.period.data = cycle.period
            form.indicator_ids.data = [i.id for i in cycle.indicators]
        else:
            form.title.data, form.period.data, form.deadline.data = obj.title, obj.period, obj.deadline
            form.indicator_ids.data = [item.indicator_id for item in obj.items]
            form.organisation_ids.data = [s.organisation_id for s in obj.submissions]
            form.version.data = obj.version
    return form


def _request_form_page(cycle, form, obj=None, status=200):
    code = obj.stage_code if obj is not None else services.requesting_stage(cycle) or "MON"
    return render_template("monitoring/request_form.html", cycle=cycle, form=form, obj=obj,
                           stage=cycle.stage(code), repeat=code == "EFF"), status


def _save_request(cycle: Cycle, obj: DataRequest | None):
    form = _request_form(cycle, obj)
    if request.method == "POST" and form.validate_on_submit():
        org_ids = [o.id for o in form.orgs] if form.all_organisations.data else form.organisation_ids.data
        data = dict(title=form.title.data, period=form.period.data, deadline=form.deadline.data,
                    indicator_ids=form.indicator_ids.data, organisation_ids=org_ids, actor=current_user,
                    today=_today())
        on_refusal(lambda exc: _request_form_page(db.session.get(Cycle, cycle.id), form, obj, exc.status_code))
        if obj is None:
            obj = services.create_request(cycle, **data)
        else:
            services.update_request(obj, expected_version=form.version.data, **data)
        flash("Черновик запроса сохранён. Проверьте его и направьте адресатам.", "success")
        return redirect(url_for("monitoring.request_detail", request_id=obj.id))
    return _request_form_page(cycle, form, obj, 422 if request.method == "POST" else 200)


@bp.route("/cycles/<int:cycle_id>/requests/new", methods=["GET", "POST"])
@roles_required(*REQUESTERS)
@submit_once
def new_request(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id, roles=REQUESTERS)
    if reading() and services.requesting_stage(cycle) is None:
        flash(services.closed_reason(cycle), "warning")
        return redirect(url_for("monitoring.cycle_requests", cycle_id=cycle.id))
    return _save_request(cycle, None)


@bp.route("/requests/<int:request_id>/edit", methods=["GET", "POST"])
@roles_required(*REQUESTERS)
def edit_request(request_id: int):
    obj = _load_request(request_id, roles=REQUESTERS)
    if reading() and obj.state != "draft":
        flash("Запрос уже направлен адресатам: изменить его нельзя.", "warning")
        return redirect(url_for("monitoring.request_detail", request_id=obj.id))
    return _save_request(obj.cycle, obj)


@bp.route("/requests/<int:request_id>/delete", methods=["POST"])
@roles_required(*REQUESTERS)
def delete_request(request_id: int):
    obj = _load_request(request_id, roles=REQUESTERS)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    cycle_id = obj.cycle_id
    services.delete_request(obj, actor=current_user, expected_version=form.version.data)
    flash("Черновик запроса удалён.", "success")
    return redirect(url_for("monitoring.cycle_requests", cycle_id=cycle_id))


# --- a request: its grid and actions ---

def _request_page(obj: DataRequest, status: int = 200):
    today = _today()
    wf = engine.registry()["data_request"]
    can = services.can_manage(current_user, obj)
    problems = engine.check_guards(obj, "close") if obj.state == "sent" and can else []
    return render_template(
        "monitoring/request_detail.html", req=obj, grid=services.grid(obj, today), today=today, can_manage=can,
        states=engine.registry()["submission"].states, request_state=wf.state_label(obj.state),
        close_problems=problems, send_problems=engine.check_guards(obj, "send") if obj.state == "draft" else [],
        confirm=VersionForm(version=obj.version), open_states=OPEN_STATES,
    ), status


@bp.route("/requests/<int:request_id>")
@signed_in
def request_detail(request_id: int):
    return _request_page(_load_request(request_id))


@bp.route("/requests/<int:request_id>/transition", methods=["POST"])
@roles_required(*REQUESTERS)
def request_transition(request_id: int):
    obj = _load_request(request_id, roles=REQUESTERS)
    form = ActionForm()
    if not form.validate_on_submit() or form.trigger.data not in REQUEST_TRIGGERS:
        flash_form_errors(form)
        return _request_page(obj, 422 if form.errors else 400)
    on_refusal(lambda exc: _request_page(db.session.get(DataRequest, request_id), exc.status_code))
    services.transition_request(obj, form.trigger.data, actor=current_user, today=_today(),
                                expected_version=form.version.data)
    if form.trigger.data == "send":
        flash(*services.sent_message(obj))
    else:
        flash("Запрос закрыт.", "success")
    return redirect(url_for("monitoring.request_detail", request_id=obj.id))


@bp.route("/requests/<int:request_id>/remind", methods=["POST"])
@roles_required(*REQUESTERS)
def remind(request_id: int):
    obj = _load_request(request_id, roles=REQUESTERS)
    form = RemindForm()
    if not form.validate_on_submit():
        abort(400)
    on_refusal(lambda exc: _request_page(db.session.get(DataRequest, request_id), exc.status_code))
    reminded = services.remind(obj, actor=current_user, submission_ids=form.submission_ids.data or None)
    flash(reminded.message, "success")
    return redirect(url_for("monitoring.request_detail", request_id=obj.id))


# --- a submission ---

def _submission_page(sub: Submission, status: int = 200, *, report=None, posted=None, upload_report=None,
                     upload_form=None):
    services.preload(sub.request)
    today = _today()
    wf = engine.registry()["submission"]
    fillable = can_fill(current_user, sub) and sub.state in OPEN_STATES and sub.request.state == "sent"
    reviewer = services.can_manage(current_user, sub.request)
    # The buttons are what the engine allows (a deputy included); the page shows only its own actions.
    actions = [spec for spec in engine.available_transitions(sub, current_user)
               if spec.trigger in SUBMISSION_TRIGGERS and sub.request.state == "sent"]
    submit_problems = engine.check_guards(sub, "resubmit" if sub.state == "returned" else "submit") \
        if fillable else []
    values = services.current_values(sub)
    delegate_form = None
    if sub.state in OPEN_STATES and sub.request.state == "sent" and engine.can(sub, "delegate", current_user):
        delegate_form = DelegateForm(delegate_id=sub.delegate_id or 0, version=sub.version)
        delegate_form.delegate_id.choices = as_choices(
            [(0, "— руководитель (сам) —")] + [(u.id, f"{u.full_name}, {u.position or ''}")
                                              for u in services.delegate_choices(sub)])
    return render_template(
        "monitoring/submission.html", sub=sub, req=sub.request, today=today, state_label=wf.state_label,
        overdue=services.is_overdue(sub, today), fillable=fillable, reviewer=reviewer, actions=actions,
        submit_problems=submit_problems, values=values, display_value=display_value, unit_rule=unit_rule,
        report=report, posted=posted or {}, upload_report=upload_report, columns=COLUMNS,
        values_form=ValuesForm(version=sub.version), upload_form=upload_form or UploadForm(version=sub.version),
        action_form=ActionForm(version=sub.version), delegate_form=delegate_form,
        uploads=xlsx.list_uploads(sub.id) if (fillable or reviewer or can_fill(current_user, sub)) else [],
        history=services.history_rows(sub),
        passed_down=services.passed_down(sub) if sub.organisation.kind == "municipality" else None,
        can_pass_down=fillable and sub.organisation.kind == "municipality",
    ), status


@bp.route("/submissions/<int:submission_id>")
@signed_in
def submission_detail(submission_id: int):
    return _submission_page(_load_submission(submission_id))


@bp.route("/submissions/<int:submission_id>/values", methods=["POST"])
@signed_in
def save_form_values(submission_id: int):
    sub = _load_submission(submission_id)
    form = ValuesForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _submission_page(sub, 422)
    posted, rows = {}, []
    for n, item in enumerate(sub.request.items, 1):
        value = request.form.get(f"value-{item.indicator_id}", "")
        comment = request.form.get(f"comment-{item.indicator_id}", "")
        posted[item.indicator_id] = {"value": value, "comment": comment, "row": n}
        rows.append({"_row": n, "indicator_code": item.indicator.code, "organisation_code": sub.organisation.code,
                     "period": sub.request.period, "value": value, "comment": comment})
    on_refusal(lambda exc: _submission_page(db.session.get(Submission, submission_id), exc.status_code, posted=posted))
    check_version(sub, form.version.data)
    report = save_values(rows, actor=current_user, source="form", submission=sub)
    if not report.ok:
        db.session.rollback()  # the page shows the values as they were, with the errors of the rows sent
        flash("Значения не сохранены: исправьте ошибки в отмеченных строках.", "danger")
        return _submission_page(db.session.get(Submission, submission_id), 422, report=report, posted=posted)
    flash(report.summary(), "success")
    return redirect(url_for("monitoring.submission_detail", submission_id=sub.id))


@bp.route("/submissions/<int:submission_id>/xlsx")
@signed_in
def submission_xlsx(submission_id: int):
    sub = _load_submission(submission_id)
    data = xlsx.build_workbook(sub, services.current_values(sub))
    return send_download(data, xlsx.download_name(sub))


@bp.route("/submissions/<int:submission_id>/upload", methods=["POST"])
@signed_in
def upload_values(submission_id: int):
    sub = _load_submission(submission_id)
    form = UploadForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _submission_page(sub, 422)
    on_refusal(lambda exc: _submission_page(sub, exc.status_code))
    check_version(sub, form.version.data)
    require_fillable(current_user, sub)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Выберите файл XLSX для загрузки.", "danger")
        return _submission_page(sub, 422)
    limit = current_app.config.get("MONITORING_UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_LIMIT)
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        abort(413)
    stored = xlsx.store_upload(sub.id, data, original_name=upload.filename, actor=current_user)

    def rejected(exc):
        xlsx.note(stored, outcome="отклонён", message=exc.message)
        return _submission_page(db.session.get(Submission, submission_id), exc.status_code, upload_form=form)

    on_refusal(rejected)
    uploads.check("monitoring_xlsx", data, upload.filename)  # an XLSX by content (app/core/uploads.py)
    rows = xlsx.read_rows(data)
    report = save_values(rows, actor=current_user, source="xlsx", submission=sub,
                         save_valid_rows=bool(form.save_valid_rows.data))
    if report.saved == 0 and not report.ok:
        db.session.rollback()  # the page shows the values as they were, with the file's errors
        xlsx.note(stored, outcome="отклонён", errors=len(report.errors))
        flash("Файл не загружен: в нём есть ошибки, ничего не сохранено. Исправьте их или отметьте "
              "«сохранить корректные строки».", "danger")
        return _submission_page(db.session.get(Submission, submission_id), 422, upload_report=report,
                                upload_form=form)
    db.session.commit()  # before the upload's log says «загружен»: it must not say so of values not kept
    xlsx.note(stored, outcome="загружен с ошибками" if report.errors else "загружен", saved=report.saved,
              errors=len(report.errors))
    flash(f"Файл загружен. {report.summary()}", "warning" if report.errors else "success")
    for line in report.lines()[:MAX_FLASHED_ERRORS]:
        flash(f"Не сохранено — {line}", "warning")
    return redirect(url_for("monitoring.submission_detail", submission_id=sub.id))


@bp.route("/submissions/<int:submission_id>/transition", methods=["POST"])
@signed_in
def submission_transition(submission_id: int):
    sub = _load_submission(submission_id)
    form = ActionForm()
    if not form.validate_on_submit() or form.trigger.data not in SUBMISSION_TRIGGERS:
        flash_form_errors(form)
        if not form.errors:
            flash("Неизвестное действие.", "danger")
        return _submission_page(sub, 422 if form.errors else 400)
    on_refusal(lambda exc: _submission_page(db.session.get(Submission, submission_id), exc.status_code))
    services.transition_submission(sub, form.trigger.data, actor=current_user, comment=form.comment.data,
                                   expected_version=form.version.data)
    flash(f"{sub.organisation.display_name}: {engine.workflow_for(sub).state_label(sub.state)}.", "success")
    return redirect(url_for("monitoring.submission_detail", submission_id=sub.id))


@bp.route("/submissions/<int:submission_id>/delegate", methods=["POST"])
@signed_in
def delegate(submission_id: int):
    sub = _load_submission(submission_id)
    form = DelegateForm()
    form.delegate_id.choices = as_choices([(0, "")] + [(u.id, u.full_name) for u in services.delegate_choices(sub)])
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _submission_page(sub, 422)
    person = db.session.get(User, form.delegate_id.data) if form.delegate_id.data else None
    on_refusal(lambda exc: _submission_page(db.session.get(Submission, submission_id), exc.status_code))
    services.delegate_submission(sub, delegate=person, actor=current_user, expected_version=form.version.data)
    flash(f"Подготовка сведений поручена: {person.full_name}." if person else
          "Подготовку сведений ведёт руководитель.", "success")
    return redirect(url_for("monitoring.submission_detail", submission_id=sub.id))


# --- two-step requests (README, «The vertical») ---

def _two_step_action(submission_id: int, act):
    """Run `act(submission)` → (flash message, redirect URL) for a municipality's answer, in one transaction
    (the request boundary's)."""
    sub = _load_submission(submission_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    on_refusal(lambda exc: _submission_page(db.session.get(Submission, submission_id), exc.status_code))
    message, target = act(sub)
    flash(message, "success")
    return redirect(target)


@bp.route("/submissions/<int:submission_id>/pass-down", methods=["POST"])
@roles_required(*REQUESTERS)
@submit_once
def pass_down(submission_id: int):
    """A municipality passes the region's request down to its institutions, in one click."""
    def act(sub):
        child = services.pass_down(sub, actor=current_user, today=_today())
        return (f"Запрос передан в подведомственные организации: {len(child.submissions)}. Им поставлены задачи.",
                url_for("monitoring.request_detail", request_id=child.id))
    return _two_step_action(submission_id, act)


@bp.route("/submissions/<int:submission_id>/from-lower", methods=["POST"])
@roles_required(*REQUESTERS)
def answer_from_lower(submission_id: int):
    """The municipality's values computed from its institutions' accepted answers."""
    def act(sub):
        n = services.answer_from_lower(sub, actor=current_user)
        return (f"Значения рассчитаны по данным подведомственных организаций: {n}. Проверьте и отправьте сведения.",
                url_for("monitoring.submission_detail", submission_id=sub.id))
    return _two_step_action(submission_id, act)

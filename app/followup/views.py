"""URL table of recommendations, measures (the roadmap) and decisions. Views are thin: form → service → redirect
(the request boundary commits); a refused action re-renders the page with the reasons and changes nothing."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.services import ReauthRefused
from app.auth.submissions import submit_once
from app.core.hardening import query_id
from app.core.access import acting_roles_over, get_in_scope, roles_required, signed_in
from app.core.boundary import on_refusal
from app.core.errors import StaleObject
from app.core.forms import as_choices, flash_form_errors, stored_beside
from app.core.timeutil import format_date
from app.core.web import flash_problems, reading, user_today
from app.cycles.basis import basis_indicators, indicator_label
from app.cycles.models import Cycle
from app.extensions import db
from app.followup import bp, services
from app.followup.letters import letter_of, problems_of_items
from app.followup.forms import (
    AcknowledgeForm, ActionForm, AttachForm, DecisionForm, MeasureForm, RecommendationForm, ReportForm,
    RescheduleForm, StartForm, VersionForm,
)
from app.followup.models import (
    ADDRESSEE_GROUPS, DECISION_KINDS, MEASURE_KINDS, Decision, Measure, Recommendation, RecommendationItem,
)
from app.followup.timeline import roadmap_svg
from workflows import engine
from workflows.recommendation_item import OWED_STATES
from app.documents.attachments import attachments_of
from app.documents.attachments import kind_label
from app.documents.attachments import may_attach

AUTHORS = tuple(services.AUTHORS)
MEASURE_FIELDS = ("title", "kind", "responsible_id", "participants", "start_date", "end_date", "expected_result")
DECISION_FIELDS = ("text", "kind", "deadline", "responsible_id", "participants", "basis")
PROOF_KINDS = ("programme", "protocol", "report", "evidence", "other")


def _attachments(obj):
    return attachments_of(obj)


def _kind_choices():
    return as_choices([(k, kind_label(k)) for k in PROOF_KINDS])


# --- recommendations ---------------------------------------------------------------------------------------

@bp.route("/cycles/<int:cycle_id>/recommendations")
@signed_in
def cycle_recommendations(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id)
    can_write = bool(acting_roles_over(current_user, cycle.owner) & services.AUTHORS)
    return render_template("followup/recommendations.html", cycle=cycle, recs=services.recommendations_of_cycle(cycle),
                           rollup=services.rollup(cycle), can_write=can_write, groups=ADDRESSEE_GROUPS)


def _recommendation_form(cycle: Cycle) -> RecommendationForm:
    form = RecommendationForm()
    form.addressee_group.choices = as_choices(list(ADDRESSEE_GROUPS.items()))
    form.organisation_ids.choices = as_choices([(o.id, o.display_name) for o in services.institutions(cycle)])
    clusters = services.clusters(cycle)
    form.cluster.choices = as_choices([("", "—")] + [(str(n), f"Кластер {n} ({len(ids)} ОО)")
                                                       for n, ids in clusters.items()])
    form.finding_ids.choices = as_choices([(f.id, f.title) for f in services.cycle_findings(cycle)])
    return form


def _recommendation_page(cycle, form, rec=None, status=200, exc=None):
    """The recommendation's form; refused as stale (`exc`), with what the other person saved and its version."""
    changed = []
    if isinstance(exc, StaleObject) and rec is not None:
        now = db.session.get(Recommendation, rec.id)
        if now is not None:
            changed = stored_beside(form, {
                "text": now.text, "addressee_group": now.addressee_group, "addressee_note": now.addressee_note,
                "basis": now.basis, "response_deadline": now.response_deadline,
                "organisation_ids": [i.organisation_id for i in now.items],
                "finding_ids": [f.id for f in now.findings]}, now.version)
    return render_template("followup/recommendation_form.html", cycle=cycle, form=form, rec=rec,
                           has_findings=bool(form.finding_ids.choices), stored_now=changed,
                           has_clusters=len(form.cluster.choices) > 1), status


def _save_recommendation(cycle: Cycle, rec: Recommendation | None):
    form = _recommendation_form(cycle)
    if reading():
        # From the integrity panel: «Исправить» on a finding with no recommendation preselects that finding.
        finding = request.args.get("finding", type=query_id)
        if rec is None and finding in {choice.value for choice in form.finding_ids.choices}:
            form.finding_ids.data = [finding]
        if rec is not None:
            form.text.data, form.addressee_group.data = rec.text, rec.addressee_group
            form.addressee_note.data, form.basis.data = rec.addressee_note, rec.basis
            form.response_deadline.data = rec.response_deadline
            form.organisation_ids.data = [i.organisation_id for i in rec.items]
            form.finding_ids.data = [f.id for f in rec.findings]
            form.version.data = rec.version
        return _recommendation_page(cycle, form, rec)
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _recommendation_page(cycle, form, rec, 422)
    data = dict(text=form.text.data, addressee_group=form.addressee_group.data,
                addressee_note=form.addressee_note.data, organisation_ids=form.organisation_ids.data,
                cluster=form.cluster.data or None, finding_ids=form.finding_ids.data, basis=form.basis.data,
                response_deadline=form.response_deadline.data, actor=current_user, today=user_today())
    on_refusal(lambda exc: _recommendation_page(db.session.get(Cycle, cycle.id), form, rec, exc.status_code, exc))
    if rec is None:
        rec = services.create_recommendation(cycle, **data)
    else:
        services.update_recommendation(rec, expected_version=form.version.data, **data)
    flash(f"Рекомендация сохранена (черновик), адресатов: {len(rec.items)}. Руководитель направляет её адресатам.",
          "success")
    return redirect(url_for("followup.recommendation_detail", recommendation_id=rec.id))


@bp.route("/cycles/<int:cycle_id>/recommendations/new", methods=["GET", "POST"])
@roles_required(*AUTHORS)
@submit_once
def new_recommendation(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id, roles=services.AUTHORS)
    return _refused_new(cycle, "REC") or _save_recommendation(cycle, None)


@bp.route("/recommendations/<int:recommendation_id>/edit", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def edit_recommendation(recommendation_id: int):
    rec = get_in_scope(Recommendation, recommendation_id, roles=services.AUTHORS)
    refusal = services.recommendation_edit_refusal(rec)
    if reading() and refusal:
        flash(refusal, "warning")
        return redirect(url_for("followup.recommendation_detail", recommendation_id=rec.id))
    return _save_recommendation(rec.cycle, rec)


def _refused_new(cycle: Cycle, code: str):
    """A new recommendation's, measure's or decision's form is not opened where its save would be refused (a stage
    on review or approved, a closed cycle): the stage's page, with the reason. None: the form applies."""
    refusal = services.stage_content_refusal(cycle, code)
    if not (reading() and refusal):
        return None
    flash(refusal, "warning")
    stage = cycle.stage(code)
    return redirect(url_for("cycles.stage_detail", stage_id=stage.id) if stage is not None
                    else url_for("cycles.cycle_detail", cycle_id=cycle.id))


def _recommendation_detail_page(rec: Recommendation, status: int = 200, said=()):
    """The recommendation's page; `said`: the problems a refused «Направить адресатам» has just put above the page,
    not repeated in the note of what the sending waits for (the head read each letter's reason twice)."""
    items = services.rollup(rec.cycle).by_recommendation.get(rec.id, [])
    # Who issues is the items' `dispatch` permission, asked of the engine (a deputy of the head included).
    can_issue = rec.is_draft and bool(rec.items) and engine.can(rec.items[0], "dispatch", current_user)
    can_write = bool(acting_roles_over(current_user, rec.organisation) & services.AUTHORS)
    # The addressees' letters the engine's guard asks for: the button waits for them, and the page says why — to the
    # head who sends and to the official who prepares the letters alike.
    issue_problems = services.issue_problems(rec) if rec.is_draft and rec.items and (can_issue or can_write) else []
    return render_template("followup/recommendation.html", rec=rec, items=items, can_issue=can_issue,
                           issue_problems=issue_problems, can_write=can_write,
                           issue_note=[p for p in issue_problems if p not in said],
                           states=engine.registry()["recommendation_item"].states,
                           overdue=services.is_item_overdue, confirm=VersionForm(version=rec.version)), status


def _load_recommendation(recommendation_id: int, roles=None) -> Recommendation:
    return get_in_scope(Recommendation, recommendation_id, roles=roles)


@bp.route("/recommendations/<int:recommendation_id>")
@signed_in
def recommendation_detail(recommendation_id: int):
    return _recommendation_detail_page(_load_recommendation(recommendation_id))


@bp.route("/recommendations/<int:recommendation_id>/issue", methods=["POST"])
@signed_in
def issue_recommendation(recommendation_id: int):
    rec = _load_recommendation(recommendation_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    on_refusal(lambda exc: _recommendation_detail_page(_load_recommendation(recommendation_id), status=exc.status_code,
                                                       said=exc.problems))
    services.issue_recommendation(rec, actor=current_user, today=user_today(), expected_version=form.version.data)
    flash(*services.issued_message(rec))
    return redirect(url_for("followup.recommendation_detail", recommendation_id=rec.id))


@bp.route("/recommendations/<int:recommendation_id>/delete", methods=["POST"])
@roles_required(*AUTHORS)
def delete_recommendation(recommendation_id: int):
    rec = _load_recommendation(recommendation_id, roles=services.AUTHORS)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    cycle_id = rec.cycle_id
    on_refusal(lambda exc: _recommendation_detail_page(_load_recommendation(recommendation_id), status=exc.status_code))
    services.delete_recommendation(rec, actor=current_user, expected_version=form.version.data)
    flash("Черновик рекомендации удалён.", "success")
    return redirect(url_for("followup.cycle_recommendations", cycle_id=cycle_id))


# --- one addressee's item ----------------------------------------------------------------------------------

def _load_item(rec_item_id: int) -> RecommendationItem:
    item = get_in_scope(RecommendationItem, rec_item_id)
    if not services.can_see_item(item, current_user):
        abort(404)
    return item


def _item_page(item: RecommendationItem, status: int = 200):
    available = {t.trigger for t in engine.available_transitions(item, current_user)}
    letter = letter_of(item) if item.state != "draft" else None
    # An item sent with no registered letter (data from before the dispatch guard, its stage perhaps approved since):
    # the issuing authority's official or head reads how to mend it — the letter made, signed and registered on the
    # stage's «Документы этапа», as for any letter (the integrity panel's «Исправить» opens this page).
    mend = problems_of_items([item]) if item.state != "draft" and letter is None and (
        acting_roles_over(current_user, item.recommendation.cycle.owner) & services.AUTHORS) else []
    reviewer = bool(available & {"accept", "return"})
    findings, open_findings = services.cited_findings(item, current_user)
    return render_template(
        "followup/item.html", item=item, rec=item.recommendation, available=available, reviewer=reviewer,
        findings=findings, open_findings=open_findings,
        # cited findings about other organisations are not shown, but they are the basis: «—» read as «no basis»
        withheld=len(item.recommendation.findings) - len(findings),
        # The way back: the recommendation itself for whoever sees the issuing cycle (the municipality), the
        # institution's own list otherwise (a director opening the cycle's pages would get a 404).
        sees_recommendation=bool(acting_roles_over(current_user, item.recommendation.cycle.owner)),
        state_label=engine.registry()["recommendation_item"].state_label(item.state),
        overdue=services.is_item_overdue(item), attachments=_attachments(item),
        ack_form=AcknowledgeForm(version=item.version), start_form=StartForm(version=item.version),
        report_form=ReportForm(version=item.version), action_form=ActionForm(version=item.version),
        today=services.org_today(item.organisation), acknowledged_for=services.acknowledged_for(item),
        # the proof of sending the director reads with the recommendation: the letter's outgoing number and date
        letter=letter, mend=mend), status


@bp.route("/items/<int:rec_item_id>")
@signed_in
def item_detail(rec_item_id: int):
    return _item_page(_load_item(rec_item_id))


def _item_action(rec_item_id: int, form_class, call, message: str):
    item = _load_item(rec_item_id)
    form = form_class()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _item_page(item, 422)
    on_refusal(lambda exc: _item_page(_load_item(rec_item_id), status=exc.status_code))
    try:
        call(item, form)
    except ReauthRefused as exc:
        db.session.commit()  # kept although refused: throttling counts the failed password re-entry, the audit shows it
        flash_problems(exc)
        return _item_page(_load_item(rec_item_id), exc.status_code)
    flash(message(item) if callable(message) else message, "success")
    return redirect(url_for("followup.item_detail", rec_item_id=item.id))


@bp.route("/items/<int:rec_item_id>/acknowledge", methods=["POST"])
@signed_in
def acknowledge_item(rec_item_id: int):
    return _item_action(rec_item_id, AcknowledgeForm, lambda item, form: services.acknowledge_item(
        item, actor=current_user, password=form.password.data, expected_version=form.version.data),
        "Ознакомление подтверждено.")


@bp.route("/items/<int:rec_item_id>/start", methods=["POST"])
@signed_in
def start_item(rec_item_id: int):
    return _item_action(rec_item_id, StartForm, lambda item, form: services.start_item(
        item, actor=current_user, action_plan=form.action_plan.data, planned_completion=form.planned_completion.data,
        expected_version=form.version.data), _plan_saved)


def _plan_saved(item) -> str:
    """A plan later than the item's deadline is the school's to make (it may honestly need longer), but the director
    is told at once what it means instead of learning it from an overdue mark (walk 23)."""
    if not item.plan_is_late:
        return "План исполнения сохранён."
    return (f"План исполнения сохранён. Планируемый срок {format_date(item.planned_completion)} позже срока "
            f"исполнения рекомендации {format_date(item.due_date)}: не исполненная к этому сроку рекомендация "
            "станет просроченной.")


@bp.route("/items/<int:rec_item_id>/report", methods=["POST"])
@signed_in
def report_item(rec_item_id: int):
    def call(item, form):
        files = [(f.stream, f.filename) for f in request.files.getlist("files") if f and f.filename]
        services.report_item(item, actor=current_user, report=form.report.data, files=files,
                             expected_version=form.version.data)
    return _item_action(rec_item_id, ReportForm, call, "Отчёт об исполнении направлен на проверку.")


@bp.route("/items/<int:rec_item_id>/review", methods=["POST"])
@signed_in
def review_item(rec_item_id: int):
    def call(item, form):
        services.review_item(item, form.trigger.data, actor=current_user, comment=form.comment.data,
                             expected_version=form.version.data)
    # what was decided: «Решение по отчёту сохранено» read the same for «принять» and «вернуть»
    return _item_action(rec_item_id, ActionForm, call, lambda item: "Рекомендация: {}.".format(
        engine.registry()["recommendation_item"].state_label(item.state)))


@bp.route("/my")
@signed_in
def my_items():
    items = services.items_of_school(current_user)
    return render_template("followup/my_items.html", items=items, overdue=services.is_item_overdue,
                           states=engine.registry()["recommendation_item"].states, owed_states=OWED_STATES)


# --- measures and the roadmap ------------------------------------------------------------------------------

@bp.route("/cycles/<int:cycle_id>/measures")
@signed_in
def roadmap(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id)
    measures = services.measures_of_cycle(cycle)
    today = services.org_today(cycle.owner)
    overdue = {m.id for m in measures if services.is_measure_overdue(m, today)}
    return render_template("followup/roadmap.html", cycle=cycle, measures=measures, overdue=overdue, today=today,
                           svg=roadmap_svg(measures, today, overdue_ids=overdue),
                           can_write=bool(acting_roles_over(current_user, cycle.owner) & services.AUTHORS),
                           states=engine.registry()["measure"].states)


def _measure_form(cycle: Cycle, measure: Measure | None = None) -> MeasureForm:
    form = MeasureForm()
    form.kind.choices = as_choices(list(MEASURE_KINDS.items()))
    form.responsible_id.choices = as_choices([(0, "—")] + [(u.id, f"{u.full_name}, {u.position or ''}")
                                                          for u in services.responsible_choices(cycle)])
    form.recommendation_ids.choices = as_choices([(r.id, r.title) for r in services.recommendations_of_cycle(cycle)])
    form.finding_ids.choices = as_choices([(f.id, f.title) for f in services.cycle_findings(cycle)])
    # A partial cycle's measures name the indicators of the full cycle it belongs to (app/cycles/basis.py).
    form.indicator_ids.choices = as_choices([(i.id, indicator_label(i, cycle)) for i in basis_indicators(cycle)])
    if reading() and measure is not None:
        for name in MEASURE_FIELDS:
            getattr(form, name).data = getattr(measure, name)
        form.recommendation_ids.data = [r.id for r in measure.recommendations]
        form.finding_ids.data = [f.id for f in measure.findings]
        form.indicator_ids.data = [i.id for i in measure.indicators]
        form.version.data = measure.version
    return form


def _measure_data(form: MeasureForm) -> dict:
    return dict(title=form.title.data, kind=form.kind.data, responsible_id=form.responsible_id.data or None,
                participants=form.participants.data, start_date=form.start_date.data, end_date=form.end_date.data,
                expected_result=form.expected_result.data, recommendation_ids=form.recommendation_ids.data,
                finding_ids=form.finding_ids.data, indicator_ids=form.indicator_ids.data)


def _save_form(cycle: Cycle, obj, form, *, name: str, create, update, message: str, stored=None):
    """GET renders the form; a valid POST creates or updates through the service; a refusal (rolled back by
    the request boundary) shows the form again with the reasons (the user's input kept). Refused as stale, it also
    lists what the other person saved (`stored(obj)`: field name → stored value) and carries the stored version."""
    shown = obj  # the row the form edits (None for a new one), as it was when the request came

    def page(status: int, exc=None):
        changed = []
        if isinstance(exc, StaleObject) and shown is not None and stored is not None:
            now = db.session.get(type(shown), shown.id)
            if now is not None:
                changed = stored_beside(form, stored(now), now.version)
        return render_template(f"followup/{name}_form.html", cycle=db.session.get(Cycle, cycle.id), form=form,
                               stored_now=changed, **{name: shown}), status

    if request.method != "POST":
        return page(200)
    if not form.validate_on_submit():
        flash_form_errors(form)
        return page(422)
    on_refusal(lambda exc: page(exc.status_code, exc))
    if obj is None:
        obj = create()
    else:
        update(obj)
    flash(message, "success")
    return redirect(url_for(f"followup.{name}_detail", **{f"{name}_id": obj.id}))


def _save_measure(cycle: Cycle, measure: Measure | None):
    form = _measure_form(cycle, measure)
    return _save_form(
        cycle, measure, form, name="measure",
        create=lambda: services.create_measure(cycle, actor=current_user, **_measure_data(form)),
        update=lambda m: services.update_measure(m, actor=current_user, expected_version=form.version.data,
                                                 **_measure_data(form)),
        message="Мероприятие сохранено; ответственному поставлена задача.",
        stored=lambda m: {**{name: getattr(m, name) for name in MEASURE_FIELDS},
                          "recommendation_ids": [r.id for r in m.recommendations],
                          "finding_ids": [f.id for f in m.findings], "indicator_ids": [i.id for i in m.indicators]})


@bp.route("/cycles/<int:cycle_id>/measures/new", methods=["GET", "POST"])
@roles_required(*AUTHORS)
@submit_once
def new_measure(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id, roles=services.AUTHORS)
    return _refused_new(cycle, "MEAS") or _save_measure(cycle, None)


@bp.route("/measures/<int:measure_id>/edit", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def edit_measure(measure_id: int):
    measure = get_in_scope(Measure, measure_id, roles=services.AUTHORS)
    refusal = services.measure_edit_refusal(measure)
    if reading() and refusal:
        # No form that its save would refuse: the measure's page, read-only, with the reason and what the engine
        # offers instead (an approved roadmap's «Перенести сроки», to its approver).
        flash(refusal, "warning")
        return redirect(url_for("followup.measure_detail", measure_id=measure.id))
    return _save_measure(measure.cycle, measure)


def _measure_page(measure: Measure, status: int = 200, sent=None, exc=None):
    """The measure's page with its three forms. `sent`: the form of a refused POST, shown again as typed (the stored
    dates stay beside it in «Сроки»); the others are drawn from the measure as it stands, not bound to that POST —
    bound, a refused attachment (whose form has no version) left the action forms without one, and the next click
    was refused as an incomplete form. Refused as stale (`exc`), the sent form carries the stored version, and a
    «Перенести сроки» says which dates the other person saved."""
    def fresh(form_class, **data):
        return sent if isinstance(sent, form_class) else form_class(formdata=None, **data)

    stored_now = []
    if isinstance(exc, StaleObject) and isinstance(sent, (RescheduleForm, ActionForm)):
        stored = {"start_date": measure.start_date, "end_date": measure.end_date} \
            if isinstance(sent, RescheduleForm) else {}
        stored_now = stored_beside(sent, stored, measure.version)

    form = fresh(AttachForm)
    form.kind.choices = _kind_choices()
    available = engine.available_transitions(measure, current_user)
    reschedule = None
    if any(t.trigger == "reschedule" for t in available):
        reschedule = fresh(RescheduleForm, version=measure.version, start_date=measure.start_date,
                           end_date=measure.end_date)
    return render_template(
        "followup/measure.html", measure=measure, reschedule_form=reschedule, stored_now=stored_now,
        # «Перенести сроки» carries new dates: its own form below, not a button of the plain actions
        available=[t for t in available if t.trigger != "reschedule"],
        # what «Отметить выполненным» still needs, said before the click (the proof's form is below the button)
        complete_problems=engine.check_guards(measure, "complete")
        if any(t.trigger == "complete" for t in available) else [],
        state_label=engine.registry()["measure"].state_label(measure.state),
        overdue=services.is_measure_overdue(measure), attachments=_attachments(measure),
        attach_form=form if may_attach(current_user, measure.organisation) else None,
        action_form=fresh(ActionForm, version=measure.version),
        can_edit=services.measure_editable(measure)
        and bool(acting_roles_over(current_user, measure.organisation) & services.AUTHORS)), status


@bp.route("/measures/<int:measure_id>")
@signed_in
def measure_detail(measure_id: int):
    return _measure_page(get_in_scope(Measure, measure_id))


@bp.route("/measures/<int:measure_id>/transition", methods=["POST"])
@signed_in
def measure_transition(measure_id: int):
    measure = get_in_scope(Measure, measure_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _measure_page(measure, 422, sent=form)
    on_refusal(lambda exc: _measure_page(get_in_scope(Measure, measure_id), status=exc.status_code, sent=form,
                                         exc=exc))
    services.transition_measure(measure, form.trigger.data, actor=current_user, comment=form.comment.data,
                                expected_version=form.version.data)
    # what it is now, not that it changed: the reader could not tell «выполнено» from «исполнение подтверждено»
    flash(f"Мероприятие: {engine.registry()['measure'].state_label(measure.state)}.", "success")
    return redirect(url_for("followup.measure_detail", measure_id=measure.id))


@bp.route("/measures/<int:measure_id>/reschedule", methods=["POST"])
@signed_in
def measure_reschedule(measure_id: int):
    measure = get_in_scope(Measure, measure_id)
    form = RescheduleForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _measure_page(measure, 422, sent=form)
    on_refusal(lambda exc: _measure_page(get_in_scope(Measure, measure_id), status=exc.status_code, sent=form,
                                         exc=exc))
    services.reschedule_measure(measure, actor=current_user, start_date=form.start_date.data,
                                end_date=form.end_date.data, comment=form.comment.data,
                                expected_version=form.version.data)
    flash(f"Сроки мероприятия перенесены: {format_date(measure.start_date)} – {format_date(measure.end_date)}.",
          "success")
    return redirect(url_for("followup.measure_detail", measure_id=measure.id))


@bp.route("/measures/<int:measure_id>/attach", methods=["POST"])
@signed_in
@submit_once
def measure_attach(measure_id: int):
    measure = get_in_scope(Measure, measure_id)
    form = AttachForm()
    form.kind.choices = _kind_choices()
    upload = request.files.get("file")
    if not form.validate_on_submit() or upload is None or not upload.filename:
        flash("Выберите файл.", "danger")
        return _measure_page(measure, 422, sent=form)
    on_refusal(lambda exc: _measure_page(get_in_scope(Measure, measure_id), status=exc.status_code, sent=form))
    services.attach_to(measure, stream=upload.stream, filename=upload.filename, kind=form.kind.data,
                       actor=current_user)
    flash("Документ прикреплён.", "success")
    return redirect(url_for("followup.measure_detail", measure_id=measure.id))


# --- decisions ---------------------------------------------------------------------------------------------

@bp.route("/cycles/<int:cycle_id>/decisions")
@signed_in
def cycle_decisions(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id)
    decisions, today = services.decisions_of_cycle(cycle), services.org_today(cycle.owner)
    return render_template("followup/decisions.html", cycle=cycle, decisions=decisions,
                           overdue={d.id for d in decisions if services.is_decision_overdue(d, today)},
                           can_write=bool(acting_roles_over(current_user, cycle.owner) & services.AUTHORS),
                           states=engine.registry()["decision"].states)


def _decision_form(cycle: Cycle, decision: Decision | None = None) -> DecisionForm:
    form = DecisionForm()
    form.kind.choices = as_choices(list(DECISION_KINDS.items()))
    form.responsible_id.choices = as_choices([(0, "—")] + [(u.id, f"{u.full_name}, {u.position or ''}")
                                                          for u in services.responsible_choices(cycle)])
    form.finding_ids.choices = as_choices([(f.id, f.title) for f in services.cycle_findings(cycle)])
    form.measure_ids.choices = as_choices([(m.id, m.title) for m in services.measures_of_cycle(cycle)])
    if reading() and decision is not None:
        for name in DECISION_FIELDS:
            getattr(form, name).data = getattr(decision, name)
        form.finding_ids.data = [f.id for f in decision.findings]
        form.measure_ids.data = [m.id for m in decision.measures]
        form.version.data = decision.version
    return form


def _decision_data(form: DecisionForm) -> dict:
    return dict(text=form.text.data, kind=form.kind.data, deadline=form.deadline.data,
                responsible_id=form.responsible_id.data or None, participants=form.participants.data,
                basis=form.basis.data, finding_ids=form.finding_ids.data, measure_ids=form.measure_ids.data)


def _save_decision(cycle: Cycle, decision: Decision | None):
    form = _decision_form(cycle, decision)
    return _save_form(
        cycle, decision, form, name="decision",
        create=lambda: services.create_decision(cycle, actor=current_user, today=user_today(),
                                                **_decision_data(form)),
        update=lambda d: services.update_decision(d, actor=current_user, today=user_today(),
                                                  expected_version=form.version.data, **_decision_data(form)),
        message="Проект решения сохранён.",
        stored=lambda d: {**{name: getattr(d, name) for name in DECISION_FIELDS},
                          "finding_ids": [f.id for f in d.findings], "measure_ids": [m.id for m in d.measures]})


@bp.route("/cycles/<int:cycle_id>/decisions/new", methods=["GET", "POST"])
@roles_required(*AUTHORS)
@submit_once
def new_decision(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id, roles=services.AUTHORS)
    return _refused_new(cycle, "DEC") or _save_decision(cycle, None)


@bp.route("/decisions/<int:decision_id>/edit", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def edit_decision(decision_id: int):
    decision = get_in_scope(Decision, decision_id, roles=services.AUTHORS)
    refusal = services.decision_edit_refusal(decision)
    if reading() and refusal:
        flash(refusal, "warning")
        return redirect(url_for("followup.decision_detail", decision_id=decision.id))
    return _save_decision(decision.cycle, decision)


def _decision_page(decision: Decision, status: int = 200):
    return render_template(
        "followup/decision.html", decision=decision, available=engine.available_transitions(decision, current_user),
        state_label=engine.registry()["decision"].state_label(decision.state),
        overdue=services.is_decision_overdue(decision), action_form=ActionForm(version=decision.version),
        can_edit=services.decision_edit_refusal(decision) is None
        and bool(acting_roles_over(current_user, decision.organisation) & services.AUTHORS)), status


@bp.route("/decisions/<int:decision_id>")
@signed_in
def decision_detail(decision_id: int):
    return _decision_page(get_in_scope(Decision, decision_id))


@bp.route("/decisions/<int:decision_id>/transition", methods=["POST"])
@signed_in
def decision_transition(decision_id: int):
    decision = get_in_scope(Decision, decision_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _decision_page(decision, 422)
    on_refusal(lambda exc: _decision_page(get_in_scope(Decision, decision_id), status=exc.status_code))
    services.transition_decision(decision, form.trigger.data, actor=current_user, comment=form.comment.data,
                                 expected_version=form.version.data)
    flash(f"Решение: {engine.registry()['decision'].state_label(decision.state)}.", "success")
    return redirect(url_for("followup.decision_detail", decision_id=decision.id))

"""URL table of the effectiveness evaluation and the cycle integrity panel. Views are thin: form → service →
redirect; the request boundary commits (app.core.boundary), and refused input re-renders the page with the
Russian reason and changes nothing."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from markupsafe import Markup

from app.auth.roles import EDITORS
from app.auth.submissions import submit_once
from app.core.access import acting_roles_over, get_in_scope, roles_required, signed_in
from app.core.boundary import on_refusal
from app.core.errors import DomainError
from app.core.forms import as_choices, flash_form_errors
from app.core.web import user_today
from app.cycles.basis import basis_indicators, indicator_label
from app.cycles.models import Cycle
from app.effectiveness import bp, services
from app.effectiveness.forms import AssessmentForm, ConclusionsForm, DeleteForm, ProposalForm
from app.effectiveness.integrity import LABELS, check_cycle, defects_by_stage
from app.effectiveness.models import RESULT_SHORT, RESULTS, EffectivenessProposal
from app.extensions import db


def _proposal_form(cycle: Cycle, form: ProposalForm | None = None) -> ProposalForm:
    form = form or ProposalForm()
    form.indicator_id.choices = as_choices([(0, "—")] + [(i.id, indicator_label(i, cycle)[:120])
                                                           for i in basis_indicators(cycle)])
    return form


def _page(cycle: Cycle, status: int = 200, **forms):
    stage = cycle.stage("EFF")
    today = user_today()
    evaluation = services.evaluation_of(cycle)
    rows = services.indicator_rows(cycle)
    measures = services.assess_measures(cycle, rows, today=today) if stage is not None else []
    stored = {a.measure_id: a for a in evaluation.assessments} if evaluation else {}
    chart = services.before_after_chart(rows)
    can_edit = (stage is not None and stage.state == "draft" and cycle.state == "open"
                and bool(acting_roles_over(current_user, cycle.owner) & EDITORS))
    conclusions = forms.get("conclusions") or ConclusionsForm(
        conclusions=evaluation.conclusions if evaluation else "", version=evaluation.version if evaluation else None)
    return render_template(
        "effectiveness/evaluation.html", cycle=cycle, stage=stage, evaluation=evaluation, rows=rows,
        shown=services.shown_numbers(rows),
        measures=measures, stored=stored, chart=Markup(chart.decode()) if chart else None, can_edit=can_edit,  # noqa: S704 (our SVG)
        conclusions=conclusions, proposal_form=_proposal_form(cycle, forms.get("proposal")),
        results=RESULTS, result_short=RESULT_SHORT, fmt=services._fmt, delete_form=DeleteForm(),
    ), status


@bp.route("/cycles/<int:cycle_id>")
@signed_in
def evaluation(cycle_id: int):
    return _page(get_in_scope(Cycle, cycle_id))


@bp.route("/cycles/<int:cycle_id>/conclusions", methods=["POST"])
@roles_required(*EDITORS)
def save_conclusions(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id, roles=EDITORS)
    form = ConclusionsForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _page(cycle, 422, conclusions=form)
    on_refusal(lambda exc: _page(db.session.get(Cycle, cycle_id), exc.status_code, conclusions=form))
    services.save_evaluation(cycle, conclusions=form.conclusions.data, actor=current_user,
                             expected_version=form.version.data, today=user_today())
    flash("Выводы сохранены, оценки мер пересчитаны.", "success")
    return redirect(url_for("effectiveness.evaluation", cycle_id=cycle_id))


@bp.route("/cycles/<int:cycle_id>/assessments", methods=["POST"])
@roles_required(*EDITORS)
def override_assessment(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id, roles=EDITORS)
    form = AssessmentForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _page(cycle, 422)
    evaluation = services.evaluation_of(cycle)
    on_refusal(lambda exc: _page(db.session.get(Cycle, cycle_id), exc.status_code if exc.status_code != 400 else 422))
    if evaluation is None:
        raise DomainError("Сначала сохраните выводы: оценки мер рассчитываются вместе с ними.")
    services.override_assessment(evaluation, measure_id=form.measure_id.data, result=form.result.data or "",
                                 note=form.note.data or "", actor=current_user, expected_version=form.version.data)
    flash("Оценка меры сохранена.", "success")
    return redirect(url_for("effectiveness.evaluation", cycle_id=cycle_id))


@bp.route("/cycles/<int:cycle_id>/proposals", methods=["POST"])
@roles_required(*EDITORS)
@submit_once
def new_proposal(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id, roles=EDITORS)
    form = _proposal_form(cycle)
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _page(cycle, 422, proposal=form)
    on_refusal(lambda exc: _page(db.session.get(Cycle, cycle_id), exc.status_code, proposal=form))
    services.add_proposal(cycle, kind=form.kind.data, text=form.text.data, actor=current_user,
                          indicator_id=form.indicator_id.data or None, new_target=form.new_target.data)
    flash("Предложение для следующего цикла добавлено.", "success")
    return redirect(url_for("effectiveness.evaluation", cycle_id=cycle_id))


@bp.route("/proposals/<int:proposal_id>/delete", methods=["POST"])
@roles_required(*EDITORS)
def delete_proposal(proposal_id: int):
    proposal = get_in_scope(EffectivenessProposal, proposal_id, roles=EDITORS)
    cycle_id = proposal.evaluation.cycle_id
    form = DeleteForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _page(proposal.evaluation.cycle, 422)
    on_refusal(lambda exc: _page(db.session.get(Cycle, cycle_id), exc.status_code))
    services.delete_proposal(proposal, actor=current_user, expected_version=form.version.data)
    flash("Предложение удалено.", "success")
    return redirect(url_for("effectiveness.evaluation", cycle_id=cycle_id))


@bp.route("/cycles/<int:cycle_id>/integrity")
@signed_in
def integrity(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id)
    defects = check_cycle(cycle, today=user_today())
    return render_template("effectiveness/integrity.html", cycle=cycle, defects=defects,
                           groups=defects_by_stage(cycle, defects), labels=LABELS)

"""URL table of management cycles, stages and their content. Views are thin: form → service → redirect; the
request boundary (app.core.boundary) commits, or rolls back and answers a refusal as the view declared."""



from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.audit.present import present
from app.audit.models import AuditEvent
from app.auth.models import User
from app.auth.roles import CYCLE_MANAGERS, EDITORS
from app.auth.submissions import submit_once
from app.catalogue.models import LEVEL_ORDER, Mechanism, MechanismSet, Track
from app.core.access import acting_roles_over, get_in_scope, roles_required, scope_condition, signed_in
from app.core.boundary import on_refusal
from app.core.hardening import query_id
from app.core.timeutil import academic_year_of
from app.core.web import reading, user_today
from app.cycles import bp, services
from app.cycles.forms import (CollectionMethodForm, ConfirmForm, CycleForm, GoalForm, IndicatorForm, StageSettingsForm,
                              SummaryForm, TransitionForm)
from app.cycles.models import CollectionMethod, Cycle, Goal, Indicator, Stage
from app.core.forms import as_choices, flash_form_errors
from app.extensions import db
from app.orgs.models import Organisation
from app.tasks.services import inbox_counts, inbox_query, urgency
from workflows import engine
from workflows.stage import unsigned_documents
from app.catalogue.models import LibraryIndicator

# Content kinds edited on the first three stages: URL segment → (model, form, stage code, titles).
CONTENT_KINDS = {
    "goals": (Goal, GoalForm, "GOAL", "Цель"),
    "indicators": (Indicator, IndicatorForm, "IND", "Показатель"),
    "methods": (CollectionMethod, CollectionMethodForm, "METH", "Метод сбора информации"),
}


def _today():
    return user_today()


@bp.route("/")
@signed_in
def dashboard():
    today = _today()
    tasks = db.session.scalars(inbox_query(current_user, today=today).limit(10)).all()
    total, overdue = inbox_counts(current_user, today=today)
    cycles = db.session.scalars(services.cycles_in_scope(current_user, state="open").limit(200)).all()
    return render_template("cycles/dashboard.html", tasks=tasks, cycles=cycles, today=today, urgency=urgency,
                           task_total=total, task_overdue=overdue)


@bp.route("/cycles")
@signed_in
def cycle_list():
    mechanism = request.args.get("mechanism") or None
    org_id = request.args.get("organisation", type=query_id)
    state = request.args.get("state") or None
    cycles = db.session.scalars(
        services.cycles_in_scope(current_user, mechanism_code=mechanism, organisation_id=org_id, state=state)
        .limit(500)
    ).all()
    mechanisms = db.session.scalars(select(Mechanism.code).distinct().order_by(Mechanism.code)).all()
    orgs = db.session.scalars(select(Organisation).where(scope_condition(Organisation.path))
                              .where(Organisation.kind.in_(("region", "municipality", "school", "preschool",
                                                            "additional")))
                              .order_by(Organisation.path).limit(2000)).all()
    return render_template("cycles/list.html", cycles=cycles, mechanisms=mechanisms, orgs=orgs,
                           selected={"mechanism": mechanism, "organisation": org_id, "state": state})


def _manageable_orgs():
    return db.session.scalars(
        select(Organisation).where(scope_condition(Organisation.path, roles=CYCLE_MANAGERS))
        .where(Organisation.kind.in_(("region", "municipality", "school", "preschool", "additional")))
        .order_by(Organisation.path).limit(2000)
    ).all()


@bp.route("/cycles/new", methods=["GET", "POST"])
@roles_required(*CYCLE_MANAGERS)
@submit_once
def new_cycle():
    form = CycleForm()
    orgs = _manageable_orgs()
    levels = {o.level for o in orgs}
    tracks = db.session.scalars(
        select(Track).join(Track.mechanism).join(Mechanism.mechanism_set)
        .where(MechanismSet.active.is_(True), MechanismSet.level.in_(levels))
        .order_by(MechanismSet.level, Mechanism.position, Track.position)
    ).all()
    # Region above municipality above school, as the vertical reads (the level's name sorts municipal first).
    tracks = sorted(tracks, key=lambda t: LEVEL_ORDER.index(t.mechanism.level))
    # Only the mechanisms one of the organisations runs: a kindergarten the preschool ones, a school the others
    # (and the preschool ones too where it has preschool groups).
    tracks = [t for t in tracks if any(o.level == t.mechanism.level and t.mechanism.concerns(o) for o in orgs)]
    period = academic_year_of(_today())
    opened = services.tracks_opened_for_all(tracks, orgs, period)
    # A track every organisation that could own it already runs this year says so in the list: the form refused
    # it only after «Открыть цикл» (walk 19).
    form.track_id.choices = as_choices(
        [(t.id, f"{t.mechanism.code} {t.title}" + ("" if t.full_cycle else " (неполный цикл)")
          + (f" — цикл на {period} уже открыт" if t.id in opened else "")) for t in tracks])
    # A region's official chooses among 30 tracks of three levels: the list is drawn in groups (_choices.html).
    form.track_id.groups = {t.id: t.choice_heading for t in tracks}
    form.owner_id.choices = as_choices([(o.id, f"{o.display_name} ({o.kind_label})") for o in orgs])
    home = current_user.home_organisation
    people = services.eligible_responsibles(home) if home else []
    # A person without a position read «Иванова Анна Петровна, » with a comma trailing into nothing.
    form.responsible_id.choices = as_choices([(0, "— не назначен —")] + [
        (u.id, ", ".join(part for part in (u.full_name, u.position) if part)) for u in people])
    if reading():
        form.period.data = period
        # A kindergarten's head has one mechanism to choose from: it is chosen already, not left for a refusal.
        choosable = [t.id for t in tracks if t.id not in opened]
        if len(tracks) == 1 and choosable:
            form.track_id.data = choosable[0]
    if form.validate_on_submit():
        owner = get_in_scope(Organisation, form.owner_id.data, roles=CYCLE_MANAGERS)
        track = db.session.get(Track, form.track_id.data)
        responsible = db.session.get(User, form.responsible_id.data) if form.responsible_id.data else None
        first = track.blocks[0] if track.blocks else "GOAL"
        deadlines = {first: form.first_deadline.data} if form.first_deadline.data else None
        on_refusal(lambda exc: (render_template("cycles/new.html", form=form), 422), field=form.period)
        cycle = services.create_cycle(track=track, owner=owner, period=form.period.data, actor=current_user,
                                      responsible=responsible, deadlines=deadlines)
        flash("Цикл открыт.", "success")
        return redirect(url_for("cycles.cycle_detail", cycle_id=cycle.id))
    status = 422 if request.method == "POST" else 200
    return render_template("cycles/new.html", form=form), status


@bp.route("/cycles/<int:cycle_id>")
@signed_in
def cycle_detail(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id)
    can_manage = bool(acting_roles_over(current_user, cycle.owner) & CYCLE_MANAGERS)
    return render_template("cycles/detail.html", cycle=cycle, workflow=engine.workflow_for(cycle.stages[0]),
                           can_manage=can_manage, confirm=ConfirmForm(version=cycle.version), today=_today())


HISTORY_PAGE = 50


@bp.route("/cycles/<int:cycle_id>/history")
@signed_in
def cycle_history(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id)
    # Pages of HISTORY_PAGE, newest first, like the audit log: a finished cycle's whole history (some two hundred
    # events, a page 40 000 px tall) no longer comes at once.
    before = request.args.get("before", type=query_id)
    query = select(AuditEvent).where(AuditEvent.cycle_id == cycle.id)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    events = db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(HISTORY_PAGE + 1)).all()
    older = events[HISTORY_PAGE - 1].id if len(events) > HISTORY_PAGE else None
    rows = present(events[:HISTORY_PAGE])
    return render_template("cycles/history.html", cycle=cycle, rows=rows, older=older, paged=before is not None)


@bp.route("/cycles/<int:cycle_id>/next", methods=["POST"])
@roles_required(*CYCLE_MANAGERS)
@submit_once
def start_next_period(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id, roles=CYCLE_MANAGERS)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    new = services.start_next_period(cycle, actor=current_user)
    flash(f"Открыт цикл на {new.period}: цели, показатели и методы перенесены для корректировки.", "success")
    return redirect(url_for("cycles.cycle_detail", cycle_id=new.id))


def _stage_page(stage: Stage, status: int = 200, sent: str | None = None, **forms):
    """The stage's page; `sent`: the transition whose form was refused, so its comment box shows what was typed."""
    cycle = stage.cycle
    held = acting_roles_over(current_user, cycle.owner)
    can_edit = stage.state == "draft" and bool(held & EDITORS)
    transitions = engine.available_transitions(stage, current_user)
    submit_problems = engine.check_guards(stage, "submit") if stage.state == "draft" else []
    unsigned = unsigned_documents(stage) if any(t.trigger == "approve" for t in transitions) else []
    kind = next((k for k, v in CONTENT_KINDS.items() if v[2] == stage.code), None)
    settings = forms.get("settings") or StageSettingsForm(
        responsible_id=stage.responsible_id or 0, deadline=stage.deadline, version=stage.version)
    settings.responsible_id.choices = as_choices([(0, "— не назначен —")] + [
        (u.id, f"{u.full_name}, {u.position or ''}") for u in services.eligible_responsibles(cycle.owner)])
    summary = forms.get("summary") or SummaryForm(summary=stage.summary, version=stage.version)
    groups = cycle.track.mechanism.indicator_groups
    covered = {i.group_name for i in cycle.indicators}
    missing = services.missing_invariants(cycle) if stage.code == "IND" else []
    return render_template(
        "cycles/stage.html", stage=stage, cycle=cycle, can_edit=can_edit, transitions=transitions,
        submit_problems=submit_problems, unsigned=unsigned, kind=kind, settings=settings, summary=summary,
        can_manage=bool(held & CYCLE_MANAGERS) and stage.state != "approved",
        transition_form=forms.get("transition") or TransitionForm(version=stage.version), sent=sent,
        confirm=ConfirmForm(), groups=groups, covered=covered, missing_invariants=missing,
        state_label=engine.workflow_for(stage).state_label,
    ), status


@bp.route("/stages/<int:stage_id>")
@signed_in
def stage_detail(stage_id: int):
    return _stage_page(get_in_scope(Stage, stage_id))


@bp.route("/stages/<int:stage_id>/transition/<trigger>", methods=["POST"])
@roles_required(*EDITORS)
def stage_transition(stage_id: int, trigger: str):
    stage = get_in_scope(Stage, stage_id)
    form = TransitionForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _stage_page(stage, 422, trigger, transition=form)
    on_refusal(lambda exc: _stage_page(db.session.get(Stage, stage_id), exc.status_code, trigger, transition=form))
    services.transition_stage(stage, trigger, actor=current_user, comment=form.comment.data,
                              expected_version=form.version.data)
    if trigger == "return":  # «…: черновик» did not say that it went back, nor to whom
        who = f" ответственному ({stage.responsible.short_name})" if stage.responsible else ""
        flash(f"Этап «{stage.title}» возвращён на доработку{who}.", "success")
    else:
        flash(f"Этап «{stage.title}»: {engine.workflow_for(stage).state_label(stage.state)}.", "success")
    return redirect(url_for("cycles.stage_detail", stage_id=stage.id))


@bp.route("/stages/<int:stage_id>/settings", methods=["POST"])
@roles_required(*CYCLE_MANAGERS)
def stage_settings(stage_id: int):
    stage = get_in_scope(Stage, stage_id)
    form = StageSettingsForm()
    form.responsible_id.choices = as_choices(
        [(0, "")] + [(u.id, u.full_name) for u in services.eligible_responsibles(stage.organisation)])
    if not form.validate_on_submit():
        return _stage_page(stage, 422, settings=form)
    responsible = db.session.get(User, form.responsible_id.data) if form.responsible_id.data else None
    on_refusal(lambda exc: _stage_page(db.session.get(Stage, stage_id), exc.status_code, settings=form))
    services.update_stage_settings(stage, responsible=responsible, deadline=form.deadline.data,
                                   actor=current_user, expected_version=form.version.data)
    flash("Ответственный и срок сохранены.", "success")
    return redirect(url_for("cycles.stage_detail", stage_id=stage.id))


@bp.route("/stages/<int:stage_id>/summary", methods=["POST"])
@roles_required(*EDITORS)
def stage_summary(stage_id: int):
    stage = get_in_scope(Stage, stage_id)
    form = SummaryForm()
    if not form.validate_on_submit():
        return _stage_page(stage, 422, summary=form)
    on_refusal(lambda exc: _stage_page(db.session.get(Stage, stage_id), exc.status_code, summary=form))
    services.save_summary(stage, text=form.summary.data.strip(), actor=current_user,
                          expected_version=form.version.data)
    flash("Содержание этапа сохранено.", "success")
    return redirect(url_for("cycles.stage_detail", stage_id=stage.id))


def _content_form(kind: str, cycle: Cycle, obj=None, formdata=True):
    model, form_cls, _code, _title = CONTENT_KINDS[kind]
    form = form_cls(obj=obj) if formdata else form_cls(formdata=None, obj=obj)
    if kind == "goals":
        # Whole statements (the radio list wraps them: goals that begin alike differ only further on), each with
        # its cycle's mechanism: the same wording recurs in the cycles of several mechanisms.
        form.parent_goal_id.choices = as_choices([(0, "нет связи")] + [
            (g.id, f"{g.cycle.track_label}, {g.cycle.owner.display_name}: {g.statement}")
            for g in services.higher_level_goals(cycle)])
        if obj is not None and form.parent_goal_id.data is None:
            form.parent_goal_id.data = 0
    if kind == "indicators":
        form.group_name.choices = as_choices([(g.name, g.name) for g in cycle.track.mechanism.indicator_groups] or [
            ("прочие показатели", "прочие показатели")])
    return form


def _content_page(kind: str, cycle: Cycle, form, obj=None, status: int = 200):
    _model, _form, code, title = CONTENT_KINDS[kind]
    library = []
    if kind == "indicators" and obj is None:
        existing = {i.code for i in cycle.indicators}
        library = [li for li in db.session.scalars(
            select(LibraryIndicator).where(LibraryIndicator.mechanism_code == cycle.track.mechanism.code)
            .order_by(LibraryIndicator.code)) if li.code not in existing]
    return render_template("cycles/content_form.html", kind=kind, cycle=cycle, form=form, obj=obj,
                           title=title, stage=cycle.stage(code), library=library), status


def _save_content(kind: str, cycle: Cycle, obj=None):
    model = CONTENT_KINDS[kind][0]
    stage = cycle.stage(CONTENT_KINDS[kind][2])
    refusal = stage is not None and services.content_refusal(stage)
    if reading() and refusal:
        # No form that its save would refuse (a stage on review or approved): the stage's page, with the reason.
        flash(refusal, "warning")
        return redirect(url_for("cycles.stage_detail", stage_id=stage.id))
    form = _content_form(kind, cycle, obj)
    if request.method == "POST" and form.validate_on_submit():
        on_refusal(lambda exc: _content_page(kind, cycle, form, obj, exc.status_code))
        services.save_content(model, cycle, data=form.domain_data(), actor=current_user, obj=obj,
                              expected_version=form.version.data if obj is not None else None)
        flash("Сохранено.", "success")
        return redirect(url_for("cycles.stage_detail", stage_id=cycle.stage(CONTENT_KINDS[kind][2]).id))
    if reading() and obj is not None:
        form.version.data = obj.version
    return _content_page(kind, cycle, form, obj, 422 if request.method == "POST" else 200)


@bp.route("/cycles/<int:cycle_id>/<any(goals, indicators, methods):kind>/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
@submit_once
def content_new(cycle_id: int, kind: str):
    return _save_content(kind, get_in_scope(Cycle, cycle_id, roles=EDITORS))


def _content_item(kind: str, item_id: int):
    return get_in_scope(CONTENT_KINDS[kind][0], item_id)


@bp.route("/<any(goals, indicators, methods):kind>/<int:item_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def content_edit(kind: str, item_id: int):
    obj = _content_item(kind, item_id)
    return _save_content(kind, obj.cycle, obj)


@bp.route("/<any(goals, indicators, methods):kind>/<int:item_id>/delete", methods=["POST"])
@roles_required(*EDITORS)
def content_delete(kind: str, item_id: int):
    obj = _content_item(kind, item_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    stage_id = obj.cycle.stage(CONTENT_KINDS[kind][2]).id
    services.delete_content(obj, actor=current_user, expected_version=form.version.data)
    flash("Удалено.", "success")
    return redirect(url_for("cycles.stage_detail", stage_id=stage_id))


@bp.route("/cycles/<int:cycle_id>/indicators/from-library", methods=["POST"])
@roles_required(*EDITORS)
@submit_once
def indicators_from_library(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id, roles=EDITORS)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    codes = request.form.getlist("codes")
    added = services.add_library_indicators(cycle, codes, actor=current_user)
    flash(f"Добавлено показателей из библиотеки: {added}. Укажите базовые и целевые значения и ответственных.",
          "success")
    return redirect(url_for("cycles.stage_detail", stage_id=cycle.stage("IND").id))


@bp.route("/cycles/<int:cycle_id>/indicators/inherit", methods=["POST"])
@roles_required(*EDITORS)
@submit_once
def indicators_inherit(cycle_id: int):
    """Add the upper level's invariant indicators the cycle lacks (README, «The vertical»)."""
    cycle = get_in_scope(Cycle, cycle_id, roles=EDITORS)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    added = services.inherit_invariants(cycle, actor=current_user)
    flash(f"Добавлено обязательных показателей вышестоящего уровня: {added}. Целевые значения взяты с "
          f"вышестоящего уровня; укажите базовые значения.", "success")
    return redirect(url_for("cycles.stage_detail", stage_id=cycle.stage("IND").id))

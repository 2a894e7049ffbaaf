"""URL table of the assessment of municipal mechanisms. Thin: parse → service → commit → redirect; a refusal
rolls back and answers the form's page again with the Russian reasons, what was typed and the error's status.
Reading scope is the campaign's (`services.campaign_for`, `services.require_sees`): outside it, 404."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.assessment import bp, criteria, evidence, services
from app.assessment import documents as campaign_documents
from app.assessment.models import (
    EVIDENCE_KINDS, EXPERT_STATUSES, LEVEL_STYLES, LEVELS, Assignment, CriteriaSet, EvidenceItem, Expert,
    SelfAssessment,
)
from app.audit.labels import action_label
from app.auth.submissions import refuse_untokened, submit_once
from app.audit.present import present
from app.core.access import acting_roles_over, roles_required, signed_in
from app.core.boundary import on_refusal
from app.core.checks import MISSING_VERSION, form_int
from app.core.errors import NotFound, ValidationFailed
from app.core.forms import implausible_date, parse_day
from app.core.hardening import query_id
from app.core.timeutil import academic_year_of, format_date, format_datetime
from app.core.web import send_download, send_stored_file, user_time_zone, user_today
from app.documents.attachments import attachment_path
from app.documents.storage import registered_download_name, registered_path
from app.documents.models import Attachment
from app.extensions import db
from app.orgs.models import Organisation
from workflows import engine
from workflows.assessment_campaign import MANAGERS

REGISTER_READERS = ("official", "head", "admin", "auditor")


def _date(name: str) -> date | None:
    """A date field of the hand-written forms (ISO as the date picker sends it, or ДД.ММ.ГГГГ typed); a malformed
    or implausible one is refused with the reason (it read as «not given» before, and «31.12.9999» was kept)."""
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    day = parse_day(raw)
    if day is None:
        raise ValidationFailed(f"«{raw[:20]}» не является датой (ожидается ДД.ММ.ГГГГ).")
    reason = implausible_date(day)
    if reason:
        raise ValidationFailed(reason)
    return day


def _int(raw) -> int | None:
    return form_int(raw) if isinstance(raw, str) else None


def _form_version() -> int:
    """The version the form was rendered with. A form that sends none (absent or blank) is refused as incomplete, as
    VersionField's MISSING_VERSION is (app/core/checks.py: check_seen), and so is a value that is not a version: read
    as «none» either skipped the staleness check altogether."""
    raw = request.form.get("version")
    if raw is None or not raw.strip():
        return MISSING_VERSION
    version = form_int(raw)
    if version is None:
        raise ValidationFailed("Некорректная версия формы. Обновите страницу.")
    return version


def _act(where: str, action, message, page):
    """Run one service call (the request boundary commits it): flash `message` (or message(result)) and go to `where`.
    A refusal answers `page(status)` instead: the form's own page with the Russian reason and the refusal's status,
    what the user typed (scores, comments, dates, the choice) back in the form that was sent — a redirect lost it."""
    on_refusal(lambda exc: page(exc.status_code))
    result = action()
    flash(message(result) if callable(message) else message, "success")
    return redirect(where, code=303)


def _done(obj, trigger: str) -> str:
    """What was done, in the words of the history («Оценка направлена на утверждение.»): «Готово.» after «Вернуть»
    or «Утвердить» did not say which object moved where."""
    text = action_label(trigger, obj.audit_type)
    return text[:1].upper() + text[1:] + "."


def _region_for(user) -> Organisation | None:
    """The region whose register and campaigns the user manages or reads (their first such role)."""
    for r in user.roles:
        if r.role in REGISTER_READERS and r.organisation.kind == "region":
            return r.organisation
    return None


# --- campaigns -------------------------------------------------------------------------------------------------

@bp.route("/")
@signed_in
def index():
    return render_template("assessment/index.html", campaigns=services.campaigns_of(current_user),
                           regions=services.manager_regions(current_user),
                           criteria_sets=criteria.published_sets(), region=_region_for(current_user))


def _managed_region() -> Organisation:
    regions = services.manager_regions(current_user)
    if not regions:
        abort(403)
    return regions[0]


def _new_campaign_page(region: Organisation, status: int = 200):
    """The form; after a refusal, with what was typed (the redirect to an empty form lost the title, the period, the
    dates and the mechanisms left out) and the refusal's 4xx."""
    return render_template("assessment/campaign_new.html", region=region, sets=criteria.published_sets(),
                           municipalities=services.municipalities_of(region),
                           period_example=academic_year_of(user_today()), **_typed()), status


@bp.route("/campaigns/new")
@roles_required(*MANAGERS)
def new_campaign():
    return _new_campaign_page(_managed_region())


@bp.route("/campaigns", methods=["POST"])
@roles_required(*MANAGERS)
@submit_once
def create_campaign():
    region = _managed_region()
    on_refusal(lambda exc: _new_campaign_page(region, exc.status_code))
    campaign = services.create_campaign(
        region, actor=current_user, title=request.form.get("title"), period=request.form.get("period"),
        window_start=_date("window_start"), window_end=_date("window_end"),
        criteria_set_id=request.form.get("criteria_set_id"), mechanisms=request.form.getlist("mechanisms"),
        municipality_ids=request.form.getlist("municipality_ids"))
    flash("Кампания создана. Назначьте координаторов и экспертов, затем опубликуйте её.", "success")
    return redirect(url_for("assessment.campaign_detail", campaign_id=campaign.id))


@bp.route("/campaigns/<int:campaign_id>")
@signed_in
def campaign_detail(campaign_id: int):
    return _campaign_page(campaign_id)


def _campaign_page(campaign_id: int, status: int = 200):
    """The campaign; after a refused form of it (продлить, назначить, условия), with what was typed in that form and
    the refusal's 4xx (the redirect lost the date, the reason, the choice)."""
    campaign, scope = services.campaign_for(campaign_id, current_user)
    manage = scope.manager and campaign.state != "closed"
    transitions = engine.available_transitions(campaign, current_user)
    problems = []
    if manage:
        problems = engine.check_guards(campaign, "publish" if campaign.state == "draft" else "close")
    # «Завершить кампанию» is not offered while its guard refuses (the analytical report is not registered): the
    # page says why instead of a button that can only fail.
    if problems:
        transitions = [t for t in transitions if t.trigger != "close"]
    choices = services.overview_municipalities(campaign, scope)
    shown, unknown = _municipality_filter(choices)
    return render_template(
        "assessment/campaign.html", campaign=campaign, scope=scope,
        groups=services.overview_groups(services.overview(campaign, scope, shown)),
        municipality_choices=choices, municipality_shown=shown, municipality_unknown=unknown, manage=manage,
        transitions=transitions, problems=problems,
        experts=services.experts_for_assignment(campaign) if manage else [],
        fixed=services.fixed_assignments(campaign) if manage else set(),
        coordinator_choices={m.municipality_id: services.coordinator_choices(m.municipality)
                             for m in campaign.municipalities} if manage else {},
        sets=criteria.published_sets() if manage and campaign.state == "draft" else [],
        region_municipalities=services.municipalities_of(campaign.organisation)
        if manage and campaign.state == "draft" else [],
        levels=LEVELS, level_styles=LEVEL_STYLES, today=user_today(),
        documents=campaign_documents.campaign_documents(campaign),
        documents_reader=bool(acting_roles_over(current_user, campaign.organisation)),
        edit_stored=_campaign_stored(campaign), assign_stored=_assignment_stored(campaign),
        appoint_stored=_coordinator_stored(campaign), **_typed()), status


def _municipality_filter(choices) -> tuple[int | None, bool]:
    """The overview's `municipality` (GET): the id of one of `choices`, else all of them — with `True` when a value
    was given that is none of them (a mistyped or foreign id is said, not silently widened)."""
    raw = request.args.get("municipality", "")
    if not raw:
        return None, False
    chosen = request.args.get("municipality", type=query_id)
    return (chosen, False) if chosen in {m.id for m in choices} else (None, True)


def _stale(endpoint: str, stored_version: int) -> bool:
    """This request is a POST of `endpoint` refused because its form was opened at another version than the stored
    one (someone else saved in between): its page shows what is stored beside what was typed."""
    return request.method == "POST" and request.endpoint == endpoint \
        and form_int(request.form.get("version")) != stored_version


def _campaign_stored(campaign) -> list[tuple[str, str]]:
    """After an edit of the campaign's terms refused because someone else saved the campaign since the form was
    opened: (field, what is stored now) for each term where the typed value differs, listed above the typed form
    (which carries the stored version: sending it again replaces those terms, knowingly). Empty otherwise."""
    if not _stale("assessment.edit_campaign", campaign.version):
        return []
    form = request.form
    stored = [
        ("Название", campaign.title, form.get("title", "").strip()),
        ("Период", campaign.period, form.get("period", "").strip()),
        ("Начало оценки", campaign.window_start.isoformat(), form.get("window_start", "")),
        ("Окончание оценки", campaign.window_end.isoformat(), form.get("window_end", "")),
        ("Версия критериев", str(campaign.criteria_set_id), form.get("criteria_set_id", "")),
        ("Механизмы", sorted(campaign.mechanisms), sorted(form.getlist("mechanisms"))),
        ("Муниципалитеты", sorted(str(m.municipality_id) for m in campaign.municipalities),
         sorted(form.getlist("municipality_ids"))),
    ]
    words = {"Начало оценки": format_date(campaign.window_start), "Окончание оценки": format_date(campaign.window_end),
             "Версия критериев": campaign.criteria_set.version, "Механизмы": ", ".join(campaign.mechanisms),
             "Муниципалитеты": ", ".join(m.municipality.display_name for m in campaign.municipalities)}
    return [(label, words.get(label, now)) for label, now, typed in stored if now != typed]


def _assignment_stored(campaign) -> list[tuple[str, str]]:
    """After «Назначить» (an expert) refused because someone else assigned that municipality's mechanism since the
    form was opened: the expert assigned now, named with the cell, above the table whose cell keeps the typed choice
    (and now the stored version: sending it again replaces that expert, knowingly). Empty otherwise."""
    if request.method != "POST" or request.endpoint != "assessment.assign_expert":
        return []
    municipality_id, code = _int(request.form.get("municipality_id")), request.form.get("mechanism_code") or ""
    row = next((m for m in campaign.municipalities if m.municipality_id == municipality_id), None)
    if row is None:
        return []
    now = services.assignment_for(campaign, municipality_id, code)
    if not _stale("assessment.assign_expert", now.version if now is not None else 0):
        return []
    if now is not None and str(now.expert_id) == (request.form.get("expert_id") or "").strip():
        return []
    return [(f"Эксперт ({row.municipality.display_name}, {code})",
             now.expert_user.full_name if now is not None else "не назначен")]


def _coordinator_stored(campaign) -> list[tuple[str, str]]:
    """After «Назначить» (a coordinator) refused because someone else appointed the municipality's coordinator since
    the form was opened: that coordinator, who appointed them and when, above the table whose form keeps the typed
    choice (and now the row's stored version: sending it again replaces that coordinator, knowingly). Empty
    otherwise."""
    municipality_id = _int(request.form.get("municipality_id"))
    row = next((m for m in campaign.municipalities if m.municipality_id == municipality_id), None)
    if row is None or not _stale("assessment.appoint_coordinator", row.version):
        return []
    if str(row.coordinator_id or "") == (request.form.get("user_id") or "").strip():
        return []  # they chose the same coordinator: nothing differs from what was typed
    if row.coordinator is None:
        return [(f"Координатор ({row.municipality.display_name})", "не назначен")]
    event = services.appointment_of(row)
    by = f" — назначил(а) {event.actor_name}, {format_datetime(event.occurred_at, user_time_zone())}" \
        if event is not None else ""
    return [(f"Координатор ({row.municipality.display_name})", row.coordinator.full_name + by)]


def _campaign_action(campaign_id: int, action, anchor: str = ""):
    campaign, _ = services.campaign_for(campaign_id, current_user)
    return _act(url_for("assessment.campaign_detail", campaign_id=campaign.id) + anchor, lambda: action(campaign),
                lambda message: message, lambda status: _campaign_page(campaign_id, status))


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["POST"])
@signed_in
def edit_campaign(campaign_id: int):
    def act(campaign):
        services.update_campaign(
            campaign, actor=current_user, title=request.form.get("title"), period=request.form.get("period"),
            window_start=_date("window_start"), window_end=_date("window_end"),
            criteria_set_id=request.form.get("criteria_set_id"), mechanisms=request.form.getlist("mechanisms"),
            municipality_ids=request.form.getlist("municipality_ids"),
            expected_version=_form_version())
        return "Условия кампании сохранены."
    return _campaign_action(campaign_id, act)


@bp.route("/campaigns/<int:campaign_id>/coordinator", methods=["POST"])
@signed_in
def appoint_coordinator(campaign_id: int):
    def act(campaign):
        services.appoint_coordinator(campaign, municipality_id=_int(request.form.get("municipality_id")) or 0,
                                     user_id=request.form.get("user_id"), actor=current_user,
                                     expected_version=_form_version())
        return "Координатор назначен."
    return _campaign_action(campaign_id, act)


@bp.route("/campaigns/<int:campaign_id>/assign", methods=["POST"])
@signed_in
def assign_expert(campaign_id: int):
    def act(campaign):
        services.assign_expert(campaign, municipality_id=_int(request.form.get("municipality_id")) or 0,
                               mechanism_code=request.form.get("mechanism_code") or "",
                               expert_id=request.form.get("expert_id"), actor=current_user,
                               expected_version=_form_version())
        return "Эксперт назначен."
    return _campaign_action(campaign_id, act)


@bp.route("/campaigns/<int:campaign_id>/transition", methods=["POST"])
@signed_in
def campaign_transition(campaign_id: int):
    def act(campaign):
        trigger = request.form.get("trigger") or ""
        version = _form_version()
        if trigger == "publish":
            services.publish_campaign(campaign, actor=current_user, expected_version=version)
            return "Кампания опубликована: координаторы и эксперты получили задачи."
        if trigger == "close":
            services.close_campaign(campaign, actor=current_user, comment=request.form.get("comment"),
                                    expected_version=version)
            return _done(campaign, trigger)
        engine.fire(campaign, trigger, actor=current_user, comment=request.form.get("comment"),
                    expected_version=version)
        return _done(campaign, trigger)
    return _campaign_action(campaign_id, act)


@bp.route("/campaigns/<int:campaign_id>/extend", methods=["POST"])
@signed_in
def extend_campaign(campaign_id: int):
    def act(campaign):
        services.extend_campaign(campaign, actor=current_user, until=_date("until"),
                                 reason=request.form.get("reason") or "",
                                 expected_version=_form_version())
        return "Срок оценки продлён."
    return _campaign_action(campaign_id, act)


@bp.route("/campaigns/<int:campaign_id>/refresh", methods=["POST"])
@signed_in
def refresh_proposals(campaign_id: int):
    campaign, _ = services.campaign_for(campaign_id, current_user)
    if not services.scope_of(campaign, current_user).manager:
        raise NotFound()  # before the refusal is declared: the error page, not the campaign's page with a 404

    def act(campaign):
        n = services.refresh_proposals(campaign)
        return f"Предложенные баллы пересчитаны (изменено: {n})."
    return _campaign_action(campaign_id, act)


# --- self-assessment and expert evaluation ---------------------------------------------------------------------

def _sheet(obj, scope, sa, assignment):
    """The side-by-side sheet; the self-assessment's and the expert's points only where `scope` may see them
    (Scope.shows_self, Scope.shows_expert)."""
    campaign = obj.campaign
    scores = services.scores_of(campaign, obj.municipality_id, obj.mechanism_code)
    facts = services.live_facts(campaign, obj.municipality_id, obj.mechanism_code)
    show_self = scope.shows_self(obj.municipality_id, sa.state if sa is not None else None)
    expert_state = assignment.state if assignment is not None else None
    show_expert = scope.shows_expert(obj.municipality_id, expert_state)
    sums = services.totals(scores, campaign.criteria_set.thresholds)
    sums = sums if show_self else services.without_self(sums)
    found, live = services.sheet_evidence(campaign, obj.municipality_id, obj.mechanism_code, scores, facts)
    cycles = services.source_cycles(facts)
    return dict(campaign=campaign, scope=scope, scores=scores, show_self=show_self, show_expert=show_expert,
                mechanism_code=obj.mechanism_code, source_cycles=cycles,
                block_stages=services.stages_by_block(cycles),
                unsupported=services.unsupported_claims(scores, found, live) if show_self else set(),
                unsupported_expert=services.unsupported_claims(scores, found, live, "expert"),
                expert_note=services.expert_withheld(scope, obj.municipality_id, expert_state, self_shown=show_self),
                expert_hidden=services.expert_hidden_word(expert_state),
                overwritten=_overwritten(scores, "self" if obj is sa else "expert"),
                totals=sums if show_expert else services.without_expert(sums),
                evidence=found, live=live,
                levels=LEVELS, level_styles=LEVEL_STYLES, evidence_kinds=EVIDENCE_KINDS,
                block_titles=evidence.block_titles(), block_positions=evidence.block_positions())


def _overwritten(scores, side: str) -> dict[int, tuple]:
    """The scores a refused save of the sheet found changed since its form was opened (the version it sent is not
    the stored one: someone else saved them in between): score id → (points, comment) as stored now. The page shows
    them beside what was typed, under the stored versions: sent again, the form replaces them knowingly."""
    if request.method != "POST":
        return {}
    out = {}
    for s in scores:
        sent = request.form.get(f"version-{s.id}")
        if sent is not None and form_int(sent) != s.version:
            out[s.id] = (s.self_points, s.self_comment) if side == "self" else (s.expert_points, s.expert_comment)
    return out


def _self_assessment(self_assessment_id: int) -> tuple[SelfAssessment, services.Scope]:
    sa = db.session.get(SelfAssessment, self_assessment_id)
    if sa is None:
        raise NotFound()
    campaign, scope = services.campaign_for(sa.campaign_id, current_user)
    services.require_sees(campaign, scope, sa.municipality_id)
    return sa, scope


@bp.route("/self/<int:self_assessment_id>")
@signed_in
def self_assessment(self_assessment_id: int):
    return _self_page(self_assessment_id)


def _typed() -> dict:
    """A refused POST's fields, which its page shows again in the form that was sent (`sent`: its endpoint)."""
    return {"typed": request.form if request.method == "POST" else {}, "sent": request.endpoint}


def _self_page(self_assessment_id: int, status: int = 200):
    sa, scope = _self_assessment(self_assessment_id)
    editable = sa.state in ("draft", "returned") and engine.permits(
        engine.registry()["self_assessment"].find("submit")[0].allowed, sa, current_user)
    assignment = services.assignment_for(sa.campaign, sa.municipality_id, sa.mechanism_code)
    sheet = _sheet(sa, scope, sa, assignment)
    return render_template("assessment/self.html", sa=sa, editable=editable, assignment=assignment,
                           transitions=engine.available_transitions(sa, current_user),
                           documents=services.municipality_documents(sa) if editable else [], **sheet,
                           history=present(services.history(sa)) if sheet["show_self"] else [],
                           **_typed()), status


def _seen(raw: str | None):
    """A score's version as the form sent it; none (absent or blank) is refused as incomplete (MISSING_VERSION)."""
    return raw if raw is not None and raw.strip() else MISSING_VERSION


def _entries() -> dict:
    entries = {}
    for key in request.form:
        if key.startswith("points-"):
            score_id = _int(key.removeprefix("points-"))
            if score_id is None:
                continue
            entries[score_id] = (request.form.get(key), request.form.get(f"comment-{score_id}"),
                                 _seen(request.form.get(f"version-{score_id}")))
    return entries


@bp.route("/self/<int:self_assessment_id>/scores", methods=["POST"])
@signed_in
def save_self_scores(self_assessment_id: int):
    sa, _ = _self_assessment(self_assessment_id)
    return _act(url_for("assessment.self_assessment", self_assessment_id=sa.id),
                lambda: services.save_self_scores(sa, actor=current_user, entries=_entries(), today=user_today(),
                                                  expected_version=_form_version()),
                lambda n: f"Самооценка сохранена (изменено критериев: {n}).",
                lambda status: _self_page(self_assessment_id, status))


@bp.route("/self/<int:self_assessment_id>/transition", methods=["POST"])
@signed_in
def self_transition(self_assessment_id: int):
    sa, _ = _self_assessment(self_assessment_id)
    where = url_for("assessment.self_assessment", self_assessment_id=sa.id)
    # The expert returns the self-assessment from their evaluation page: back there, where their own work goes on
    # (they landed on the coordinator's page, with no link back to the evaluation).
    # A refused return is drawn there too, with the comment as typed.
    assignment = services.assignment_for(sa.campaign, sa.municipality_id, sa.mechanism_code)
    refused = lambda status: _self_page(self_assessment_id, status)  # noqa: E731
    if request.form.get("back") == "evaluation" and assignment is not None:
        where = url_for("assessment.evaluation", assignment_id=assignment.id)
        refused = lambda status: _evaluation_page(assignment.id, status)  # noqa: E731
    return _act(where,
                lambda: services.transition_self(sa, request.form.get("trigger") or "", actor=current_user,
                                                 today=user_today(), comment=request.form.get("comment"),
                                                 expected_version=_form_version()),
                lambda _: _done(sa, request.form.get("trigger") or ""), refused)


@bp.route("/self/<int:self_assessment_id>/evidence", methods=["POST"])
@signed_in
@submit_once
def add_evidence(self_assessment_id: int):
    sa, _ = _self_assessment(self_assessment_id)
    upload = request.files.get("file")
    return _act(url_for("assessment.self_assessment", self_assessment_id=sa.id),
                lambda: services.add_evidence(sa, actor=current_user, criterion_id=request.form.get("criterion_id"),
                                              comment=request.form.get("comment") or "",
                                              document_id=_int(request.form.get("document_id")),
                                              stream=upload.stream if upload and upload.filename else None,
                                              filename=upload.filename if upload else None),
                "Доказательство добавлено.", lambda status: _self_page(self_assessment_id, status))


def _assignment(assignment_id: int) -> tuple[Assignment, services.Scope]:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound()
    campaign, scope = services.campaign_for(assignment.campaign_id, current_user)
    if campaign.state == "draft" and not scope.all:
        raise NotFound()
    services.require_sees(campaign, scope, assignment.municipality_id)
    return assignment, scope


@bp.route("/evaluations/<int:assignment_id>")
@signed_in
def evaluation(assignment_id: int):
    return _evaluation_page(assignment_id)


def _evaluation_page(assignment_id: int, status: int = 200):
    assignment, scope = _assignment(assignment_id)
    editable = assignment.state in ("draft", "returned") and assignment.campaign.state == "published" and \
        engine.permits(engine.registry()["expert_evaluation"].find("submit")[0].allowed, assignment, current_user)
    sa = services.self_assessment_for(assignment.campaign, assignment.municipality_id, assignment.mechanism_code)
    sheet = _sheet(assignment, scope, sa, assignment)
    # «Направить на утверждение» is not offered while its guards refuse (criteria unscored, a differing score without
    # its comment, the window closed): the page says what is missing instead of a button that can only fail.
    transitions, problems = [], []
    for t in engine.available_transitions(assignment, current_user):
        refused = services.evaluation_problems(assignment, t.trigger, user_today()) \
            if t.trigger in ("submit", "resubmit") else []
        if refused:
            problems += [p for p in refused if p not in problems]
        else:
            transitions.append(t)
    return render_template("assessment/evaluation.html", assignment=assignment, editable=editable, sa=sa,
                           self_transitions=engine.available_transitions(sa, current_user) if sa else [],
                           transitions=transitions, problems=problems,
                           history=present(services.history(assignment if sheet["show_expert"] else None,
                                                            sa if sheet["show_self"] else None)),
                           **sheet, **_typed()), status


@bp.route("/evaluations/<int:assignment_id>/scores", methods=["POST"])
@signed_in
def save_expert_scores(assignment_id: int):
    assignment, _ = _assignment(assignment_id)
    return _act(url_for("assessment.evaluation", assignment_id=assignment.id),
                lambda: services.save_expert_scores(assignment, actor=current_user, entries=_entries(),
                                                    today=user_today(),
                                                    expected_version=_form_version()),
                lambda n: f"Оценка сохранена (изменено критериев: {n}).",
                lambda status: _evaluation_page(assignment_id, status))


@bp.route("/evaluations/<int:assignment_id>/transition", methods=["POST"])
@signed_in
def evaluation_transition(assignment_id: int):
    assignment, _ = _assignment(assignment_id)
    return _act(url_for("assessment.evaluation", assignment_id=assignment.id),
                lambda: services.transition_evaluation(assignment, request.form.get("trigger") or "",
                                                       actor=current_user, today=user_today(),
                                                       comment=request.form.get("comment"),
                                                       expected_version=_form_version()),
                lambda _: _done(assignment, request.form.get("trigger") or ""),
                lambda status: _evaluation_page(assignment_id, status))


@bp.route("/evidence/<int:evidence_id>")
@signed_in
def evidence_file(evidence_id: int):
    """An evidence item: the attached file, or the system's document it links to."""
    item = db.session.get(EvidenceItem, evidence_id)
    if item is None:
        raise NotFound()
    campaign, scope = services.campaign_for(item.campaign_id, current_user)
    services.require_sees(campaign, scope, item.municipality_id)
    if item.kind == "attachment" and item.attachment_id:
        attachment = db.session.get(Attachment, item.attachment_id)
        if attachment is None:
            raise NotFound()
        return send_stored_file(attachment_path(attachment), attachment.original_name, attachment.content_type)
    if item.document_id:
        return redirect(url_for("documents.document_detail", document_id=item.document_id))
    raise NotFound()


# --- criteria sets ---------------------------------------------------------------------------------------------

@bp.route("/criteria")
@roles_required("admin", "official", "head", "auditor", "expert")
def criteria_sets():
    return render_template("assessment/criteria_sets.html", sets=criteria.all_sets(),
                           is_admin=bool(current_user.has_role("admin")))


def _criteria_set(criteria_set_id: int) -> CriteriaSet:
    cset = db.session.get(CriteriaSet, criteria_set_id)
    if cset is None:
        raise NotFound()
    # A region's own version is seen by the people of that region; the shipped set by everyone allowed here.
    if not services.reads_criteria(current_user, cset):
        raise NotFound()
    return cset


@bp.route("/criteria/<int:criteria_set_id>")
@roles_required("admin", "official", "head", "auditor", "expert")
def criteria_set(criteria_set_id: int):
    return _criteria_page(criteria_set_id)


def _criteria_page(criteria_set_id: int, status: int = 200):
    """The set; after a refused edit or new version, with what was typed in that form and the refusal's 4xx."""
    cset = _criteria_set(criteria_set_id)
    editable = cset.state == "draft" and cset.organisation is not None and \
        "admin" in acting_roles_over(current_user, cset.organisation)
    by_mechanism: dict[str, list] = {}
    for c in cset.criteria:
        by_mechanism.setdefault(c.mechanism_code, []).append(c)
    return render_template("assessment/criteria_set.html", cset=cset, by_mechanism=by_mechanism, editable=editable,
                           transitions=engine.available_transitions(cset, current_user), levels=LEVELS,
                           titles=evidence.block_titles(), block_positions=evidence.block_positions(),
                           describe_rule=evidence.describe_rule,
                           mechanism_titles=campaign_documents.mechanism_titles(by_mechanism),
                           can_copy=cset.state == "published" and current_user.has_role("admin"),
                           stale=_stale("assessment.criteria_edit", cset.version_counter), **_typed()), status


@bp.route("/criteria/<int:criteria_set_id>/new-version", methods=["POST"])
@roles_required("admin")
def criteria_new_version(criteria_set_id: int):
    base = _criteria_set(criteria_set_id)
    region = next((r.organisation for r in current_user.roles if r.role == "admin"
                   and r.organisation.kind == "region"), None)
    if region is None:
        raise NotFound()
    on_refusal(lambda exc: _criteria_page(criteria_set_id, exc.status_code))
    draft = criteria.new_version(base, version=request.form.get("version") or "",
                                 title=request.form.get("title") or base.title, actor=current_user, region=region)
    flash("Создан проект новой версии: измените баллы и формулировки и опубликуйте её.", "success")
    return redirect(url_for("assessment.criteria_set", criteria_set_id=draft.id), code=303)


@bp.route("/criteria/<int:criteria_set_id>/edit", methods=["POST"])
@roles_required("admin")
def criteria_edit(criteria_set_id: int):
    cset = _criteria_set(criteria_set_id)
    where = url_for("assessment.criteria_set", criteria_set_id=cset.id)
    changes = {}
    for c in cset.criteria:
        if f"points-{c.id}" in request.form:
            changes[c.id] = (request.form.get(f"text-{c.id}", c.text), request.form.get(f"points-{c.id}"))
    for key in request.form:
        if key.startswith("points-") and _int(key.removeprefix("points-")) not in {c.id for c in cset.criteria}:
            changes[-1] = ("", "")  # a criterion of another set: refused by the service
    thresholds = {k: request.form.get(f"threshold-{k}", "") for k in ("high", "medium", "low")}
    return _act(where, lambda: criteria.edit_draft(cset, actor=current_user, criteria=changes, thresholds=thresholds,
                                                   expected_version=_form_version()),
                "Изменения сохранены.", lambda status: _criteria_page(criteria_set_id, status))


@bp.route("/criteria/<int:criteria_set_id>/publish", methods=["POST"])
@roles_required("admin")
def criteria_publish(criteria_set_id: int):
    cset = _criteria_set(criteria_set_id)
    return _act(url_for("assessment.criteria_set", criteria_set_id=cset.id),
                lambda: criteria.publish(cset, actor=current_user, expected_version=_form_version()),
                "Версия опубликована: её можно выбрать для новой кампании.",
                lambda status: _criteria_page(criteria_set_id, status))


# --- register of experts ---------------------------------------------------------------------------------------

@bp.route("/experts")
@roles_required(*REGISTER_READERS)
def experts():
    region = _region_for(current_user)
    if region is None:
        abort(403)
    return _experts_page(region)


def _experts_page(region, status: int = 200, excluded_stored=([], "")):
    """The register; after a refused «Включить» or «Исключить», with what was typed in its form (the redirect lost
    it) and a 4xx; `excluded_stored`: what another manager recorded excluding the same expert meanwhile."""
    sets = criteria.published_sets()
    manage = bool(acting_roles_over(current_user, region) & MANAGERS)
    experts = services.experts_of(region)
    return render_template("assessment/experts.html", region=region, experts=experts,
                           exclusion_reasons=services.exclusion_reasons(experts), statuses=EXPERT_STATUSES,
                           manage=manage,
                           users=services.find_users(region) if manage else [],
                           orgs=db.session.scalars(select(Organisation).where(
                               Organisation.path.like(region.path + "%")).order_by(Organisation.path).limit(3000)
                           ).all() if manage else [],
                           mechanisms=sets[0].mechanism_codes() if sets else [], excluded_stored=excluded_stored[0],
                           excluded_typed=excluded_stored[1], **_typed()), status


@bp.route("/experts/add", methods=["POST"])
@roles_required(*MANAGERS)
def add_expert():
    region = _region_for(current_user)
    if region is None:
        abort(403)
    sets = criteria.published_sets()
    return _act(url_for("assessment.experts"), lambda: services.add_expert(
        region, actor=current_user, user_id=request.form.get("user_id"),
        organisation_id=request.form.get("organisation_id"), position=request.form.get("position") or "",
        competences=request.form.getlist("competences"), included_on=_date("included_on"),
        basis=request.form.get("basis") or "", mechanism_codes=sets[0].mechanism_codes() if sets else []),
        "Эксперт включён в реестр.", lambda status: _experts_page(region, status))


@bp.route("/experts/<int:expert_id>/exclude", methods=["POST"])
@roles_required(*MANAGERS)
def exclude_expert(expert_id: int):
    expert = db.session.get(Expert, expert_id)
    if expert is None or not acting_roles_over(current_user, expert.register_org) & set(MANAGERS):
        raise NotFound()
    region = expert.register_org
    return _act(url_for("assessment.experts"), lambda: services.exclude_expert(
        expert, actor=current_user, on=_date("excluded_on"), reason=request.form.get("reason") or "",
        expected_version=_form_version()), "Эксперт исключён из реестра.",
        lambda status: _experts_page(region, status, excluded_stored=_exclusion_stored(expert_id)))


def _exclusion_stored(expert_id: int) -> tuple[list[tuple[str, str]], str]:
    """After «Исключить» refused because someone else excluded the expert since the register was opened: the date and
    basis they recorded, shown in the expert's row beside what was typed (no form is left there to send again)."""
    expert = db.session.get(Expert, expert_id)
    if expert is None or not _stale("assessment.exclude_expert", expert.version) or expert.status == "active":
        return [], ""
    on, reason = services.exclusion_of(expert)
    typed_on = parse_day(request.form.get("excluded_on") or "")
    typed = (f"Эксперт уже исключён(а); вы ввели: дата {format_date(typed_on) if typed_on else '—'}, "
             f"основание «{(request.form.get('reason') or '').strip() or '—'}».")
    return [("Дата исключения", format_date(on)), ("Основание", reason or "—")], typed


@bp.route("/experts.xlsx")
@roles_required(*REGISTER_READERS)
def experts_xlsx():
    region = _region_for(current_user)
    if region is None:
        abort(403)
    return send_download(services.register_xlsx(region), "Реестр региональных экспертов.xlsx")


# --- documents of the campaign (issue 16, item 9; app/assessment/documents.py) ---------------------------------

@bp.route("/campaigns/<int:campaign_id>/documents", methods=["POST"])
@signed_in
@submit_once
def campaign_document(campaign_id: int):
    def act(campaign):
        type_key = request.form.get("type_key") or ""
        refuse_untokened(lambda: campaign_documents.campaign_document_of(campaign, type_key))
        doc = campaign_documents.generate_campaign_document(campaign, type_key, actor=current_user)
        return f"Документ «{doc.title}» формируется."
    return _campaign_action(campaign_id, act, "#campaign-documents")


@bp.route("/campaigns/<int:campaign_id>/municipalities/<int:municipality_id>/conclusion/generate", methods=["POST"])
@signed_in
@submit_once
def generate_conclusion(campaign_id: int, municipality_id: int):
    campaign, scope = services.campaign_for(campaign_id, current_user)
    # Before the refusal is declared: a municipality out of sight is the 404 page, not the campaign's page.
    services.require_sees(campaign, scope, municipality_id)

    def act(campaign):
        refuse_untokened(lambda: campaign_documents.conclusion_of(campaign, municipality_id))
        doc = campaign_documents.generate_conclusion(campaign, municipality_id, actor=current_user)
        return f"Документ «{doc.title}» формируется."
    return _campaign_action(campaign_id, act, "#campaign-documents")


@bp.route("/campaigns/<int:campaign_id>/municipalities/<int:municipality_id>/conclusion")
@signed_in
def conclusion(campaign_id: int, municipality_id: int):
    """The expert's conclusion on one municipality, for whoever reads that municipality in the campaign (its
    coordinator included, who has no role at the region issuing it): its state, and the registered copy."""
    campaign, scope = services.campaign_for(campaign_id, current_user)
    services.require_sees(campaign, scope, municipality_id)
    row = campaign_documents.municipality_row(campaign, municipality_id)
    doc = campaign_documents.conclusion_of(campaign, municipality_id)
    registered = next((v for v in reversed(doc.versions) if v.registered_status == "done"), None) if doc else None
    if request.args.get("download"):
        if registered is None:
            abort(404)
        return send_stored_file(registered_path(registered), registered_download_name(registered),
                                "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    return render_template("assessment/conclusion.html", campaign=campaign, row=row, doc=doc, registered=registered,
                           issuer_reader=bool(acting_roles_over(current_user, campaign.organisation)))

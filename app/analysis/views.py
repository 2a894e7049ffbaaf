"""URL table of the analysis feature. Views are thin: form → service → redirect (the request boundary commits);
result pages read the stored results of the cycle's latest finished run, limited to the user's subtree."""

from collections import defaultdict
from numbers import Number

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.analysis import bp, chart_cache, dashboard, finding_text, services
from app.analysis.report import SIGN_TITLES
from app.analysis.forms import FindingForm, RiskCsvForm, RiskProfileForm, RunForm, VersionForm
from app.analysis.models import AnalysisRun, Finding
from app.analysis.risk_profile import MAX_PRIORITIES, parse_csv, profile_view, risk_factors
from app.auth.submissions import submit_once
from app.core import uploads
from app.core.access import acting_roles_over, get_in_scope, roles_required, signed_in
from app.core.boundary import on_refusal
from app.core.errors import ValidationFailed
from app.core.forms import as_choices, flash_form_errors
from app.core.hardening import query_id
from app.core.russian import sort_key
from app.core.web import send_download
from app.cycles.models import Cycle
from app.extensions import db
from app.jobs.registry import WAITING
from app.orgs.models import Organisation
from app.orgs.services import visible_ancestors
from sqlalchemy import select



@bp.app_template_global()
def analysis_number(value, digits: int = 2) -> str:
    """`num` of the analysis templates: a number with a decimal comma, «—» for none, anything else as it is."""
    if value is None:
        return "—"
    if isinstance(value, Number):
        text = f"{abs(value):.{digits}f}".replace(".", ",")
        # a real minus (style: deviations), and no «−0,00» for a tiny negative rounded away
        return "\u2212" + text if value < 0 and text.strip("0,") else text
    return str(value)


def _cycle(cycle_id: int) -> Cycle:
    return get_in_scope(Cycle, cycle_id)


def _can_analyse(cycle: Cycle) -> bool:
    return bool(acting_roles_over(current_user, cycle.owner) & services.ANALYSTS)


def _can_run(cycle: Cycle) -> bool:
    """Whether the user may start an analysis run of the cycle (the «Запустить анализ» button)."""
    return _can_analyse(cycle) and services.may_start_run(cycle)


def _can_edit_findings(cycle: Cycle) -> bool:
    stage = cycle.stage("ANL")
    return (_can_analyse(cycle) and stage is not None and stage.state == "draft" and cycle.state == "open")


# --- the cycle's analysis: runs --------------------------------------------------------------

@bp.route("/cycles/<int:cycle_id>")
@signed_in
def cycle_analysis(cycle_id: int):
    return _analysis_page(cycle_id)


def _analysis_page(cycle_id: int, status: int = 200):
    """The cycle's analysis; after a refused «Запустить анализ», with the reason and its 4xx (not a 303)."""
    cycle = _cycle(cycle_id)
    runs = services.runs_of_cycle(cycle)
    run = next((r for r in runs if r.status == "done"), None)
    active = next((r for r in runs if r.status in ("queued", "running") and r.message != WAITING), None)
    counts, chart = {}, None
    if run is not None:
        markers = services.results(run, "marker", user=current_user)
        for m in markers:
            counts[m.sign] = counts.get(m.sign, 0) + 1
        # each sign named in words beside its code: «K2» alone told the reader nothing
        chart = chart_cache.inline("signs", {"counts": dict(sorted(counts.items())), "labels": {
            code: f"{code} — {title}" for code, title in SIGN_TITLES.items()}}, cycle_id=cycle.id) if markers else None
    return render_template("analysis/cycle.html", cycle=cycle, runs=runs, run=run, active=active,
                           can_run=_can_run(cycle), form=RunForm(),
                           findings=services.findings_of_cycle(cycle), sign_counts=counts, chart=chart,
                           can_edit=_can_edit_findings(cycle), stage=cycle.stage("ANL"),
                           reads_results=services.reads_results(cycle)), status


@bp.route("/cycles/<int:cycle_id>/runs", methods=["POST"])
@roles_required(*services.ANALYSTS)
@submit_once
def start_run(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id, roles=services.ANALYSTS)
    form = RunForm()
    if not form.validate_on_submit():
        abort(400)
    on_refusal(lambda exc: _analysis_page(cycle_id, exc.status_code))
    run = services.start_run(cycle, actor=current_user)
    flash("Анализ запущен. Ход расчёта виден на этой странице.", "success")
    return redirect(url_for("analysis.run_detail", analysis_run_id=run.id))


@bp.route("/runs/<int:analysis_run_id>")
@signed_in
def run_detail(analysis_run_id: int):
    run = get_in_scope(AnalysisRun, analysis_run_id)
    return render_template("analysis/run.html", run=run, cycle=run.cycle,
                           running=run.status in ("queued", "running") and run.message != WAITING)


# --- dashboard -------------------------------------------------------------------------------

def _sort_args():
    sort = request.args.get("sort", "org")
    if sort not in dashboard.SORTS:
        sort = "org"
    return sort, request.args.get("dir") == "desc"


@bp.route("/cycles/<int:cycle_id>/dashboard")
@signed_in
def dashboard_page(cycle_id: int):
    cycle = _cycle(cycle_id)
    sort, descending = _sort_args()
    indicator_id = request.args.get("indicator", type=query_id)
    rows = dashboard.dashboard_rows(cycle, user=current_user, indicator_id=indicator_id, sort=sort,
                                    descending=descending)
    charts = [(ind, url_for("analysis.dashboard_chart", cycle_id=cycle.id, indicator_id=ind.id, sort=sort,
                            dir="desc" if descending else "asc", v=chart_cache.key_of("indicator", data)))
              for ind, data in chart_cache.by_indicator(cycle, rows)]
    computed_at = max((r.computed_at for r in rows), default=None)
    return render_template("analysis/dashboard.html", cycle=cycle, rows=rows, sort=sort, descending=descending,
                           indicator_id=indicator_id, sort_labels=dashboard.SORT_LABELS, charts=charts,
                           position_label=dashboard.position_label, computed_at=computed_at,
                           shown=dashboard.shown_numbers(rows), can_run=not rows and _can_run(cycle))


@bp.route("/cycles/<int:cycle_id>/dashboard/charts/<int:indicator_id>.svg")
@signed_in
def dashboard_chart(cycle_id: int, indicator_id: int):
    """One indicator's chart as the user sees it (their subtree, the table's order), drawn once per data change:
    ETag = the data's hash (a repeat view gets 304), cached by the browser for as long as the URL's `v` names the
    current data."""
    cycle = _cycle(cycle_id)
    sort, descending = _sort_args()
    rows = dashboard.dashboard_rows(cycle, user=current_user, indicator_id=indicator_id, sort=sort,
                                    descending=descending)
    found = chart_cache.by_indicator(cycle, rows)
    if not found:
        abort(404)
    data = found[0][1]
    key = chart_cache.key_of("indicator", data)
    current = request.args.get("v") == key
    if key in request.if_none_match:
        response = current_app.response_class(status=304)
    else:
        body = chart_cache.svg("indicator", data, cycle_id=cycle.id, key=key)[1]
        response = current_app.response_class(body, mimetype="image/svg+xml")
    response.set_etag(key)
    # Private: the chart shows the user's part of the cycle. The URL changes with the data, so a current one
    # may be kept for long; an old URL (a page open before the data changed) is revalidated every time.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable" if current else "private, no-cache"
    response.vary.add("Cookie")
    return response


@bp.after_request
def _store_drawn_charts(response):
    """Charts drawn while building a page are committed once the page is built (GET pages write nothing else)."""
    if g.pop("analysis_charts_drawn", False) and response.status_code < 400:
        chart_cache.commit_stored()
    return response


@bp.route("/cycles/<int:cycle_id>/dashboard.xlsx")
@signed_in
def dashboard_xlsx(cycle_id: int):
    cycle = _cycle(cycle_id)
    sort, descending = _sort_args()
    rows = dashboard.dashboard_rows(cycle, user=current_user, indicator_id=request.args.get("indicator", type=query_id),
                                    sort=sort, descending=descending)

    return send_download(dashboard.xlsx_bytes(cycle, rows), f"Показатели — {cycle.title}.xlsx")


# --- objectivity, low results, clusters ------------------------------------------------------

def _shown(school) -> tuple:
    """A school's place in a list: by the name the page shows, numbers by value («СОШ № 4» before «СОШ № 10»); the
    full names ordered «…школа № 10»» before «…школа № 1»»."""
    return sort_key(school.display_name) if school is not None else ()


MARKER_SORTS = {"school": lambda r: (_shown(r.school), -(r.year or 0), r.sign or ""),
                "sign": lambda r: (r.sign or "", _shown(r.school)),
                "year": lambda r: (-(r.year or 0), _shown(r.school)),
                "statistic": lambda r: (-(r.value or 0),)}


@bp.route("/cycles/<int:cycle_id>/objectivity")
@signed_in
def objectivity(cycle_id: int):
    cycle = _cycle(cycle_id)
    run = services.latest_run(cycle)
    context = {"cycle": cycle, "run": run, "sign_titles": SIGN_TITLES, "sort": "school", "can_run": _can_run(cycle)}
    if run is not None:
        rows = services.results(run, ("marker", "verdict", "not_computable", "skipped", "stably_objective",
                                      "municipality_share", "note"), user=current_user)
        kinds = defaultdict(list)
        for r in rows:
            kinds[r.kind].append(r)
        sort = request.args.get("sort", "school")
        sort = sort if sort in MARKER_SORTS else "school"
        markers = sorted(kinds["marker"], key=MARKER_SORTS[sort])
        history = defaultdict(lambda: defaultdict(list))
        for m in kinds["marker"]:
            history[m.school][m.year].append(m.sign)
        shares = sorted(kinds["municipality_share"], key=lambda r: -(r.value or 0))
        names = _municipality_names(shares)
        _share_name = lambda r: names.get((r.payload or {}).get("municipality_id")) or str(  # noqa: E731
            (r.payload or {}).get("municipality_code") or "—")
        share_chart = chart_cache.inline("shares", {
            "rows": [[_share_name(r), _share_percent(r)] for r in shares],
            "title": "Доля школ с признаками необъективности, %"}, cycle_id=cycle.id) if shares else None
        # schools with a verdict other than «не выявлены», the flagged ones first, the least likely by chance first
        verdicts = sorted((r for r in kinds["verdict"] if (r.payload or {}).get("verdict") != "clear"),
                          key=lambda r: ((r.payload or {}).get("verdict") != "flagged",
                                         r.value if r.value is not None else 1.0))
        context.update(markers=markers, sort=sort, years=list(run.years), can_edit=_can_edit_findings(cycle),
                       verdicts=verdicts,
                       history=sorted(history.items(), key=lambda kv: _shown(kv[0])),
                       not_computable=kinds["not_computable"], skipped=kinds["skipped"],
                       stable=sorted(kinds["stably_objective"], key=lambda r: _shown(r.school)),
                       shares=shares, share_chart=share_chart, share_name=_share_name, share_percent=_share_percent,
                       notes=kinds["note"])
    return render_template("analysis/objectivity.html", **context)


def _municipality_names(shares) -> dict:
    ids = {int(i) for i in ((r.payload or {}).get("municipality_id") for r in shares) if i is not None}
    if not ids:
        return {}
    return {o.id: o.display_name for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)))}


def _share_percent(row) -> float | None:
    p = row.payload or {}
    value = p.get("share", row.value)
    if value is None:
        return None
    value = float(value)
    return value * 100 if value <= 1 else value


@bp.route("/cycles/<int:cycle_id>/low-results")
@signed_in
def low_results(cycle_id: int):
    cycle = _cycle(cycle_id)
    run = services.latest_run(cycle)
    context = {"cycle": cycle, "run": run, "can_run": _can_run(cycle)}
    if run is not None:
        rows = services.results(run, ("shnor", "shnsu", "resilient", "low_index", "note"), user=current_user)
        kinds = defaultdict(list)
        for r in rows:
            kinds[r.kind].append(r)
        by_name = lambda r: _shown(r.school)  # noqa: E731
        latest = max(run.years)
        index = [r for r in kinds["low_index"] if r.year in (None, latest)]
        context.update(shnor=sorted(kinds["shnor"], key=by_name), shnsu=sorted(kinds["shnsu"], key=by_name),
                       resilient=sorted(kinds["resilient"], key=by_name), notes=kinds["note"],
                       index=sorted(index, key=lambda r: -(r.value or 0)), can_edit=_can_edit_findings(cycle))
    return render_template("analysis/low_results.html", **context)


@bp.route("/cycles/<int:cycle_id>/clusters")
@signed_in
def clusters(cycle_id: int):
    cycle = _cycle(cycle_id)
    run = services.latest_run(cycle)
    context = {"cycle": cycle, "run": run, "position_label": dashboard.position_label, "can_run": _can_run(cycle)}
    if run is not None:
        rows = services.results(run, ("cluster", "cluster_position", "cluster_profile"), user=current_user)
        labels = {r.school_id: int(r.value) for r in rows if r.kind == "cluster" and r.value is not None}
        positions = sorted((r for r in rows if r.kind == "cluster_position"),
                           key=lambda r: (labels.get(r.school_id, 0), -(r.value or 0)))
        points = [(labels.get(r.school_id, 0), r.value, (r.payload or {}).get("position"))
                  for r in positions if r.value is not None]
        context.update(positions=positions, labels=labels, can_edit=_can_edit_findings(cycle),
                       profiles=[r for r in rows if r.kind == "cluster_profile"],
                       chart=chart_cache.inline("clusters", {"points": [list(p) for p in points]},
                                                cycle_id=cycle.id) if points else None,
                       summary=run.summary or {})
    return render_template("analysis/clusters.html", **context)


# --- a school: history of signs, cluster position, risk profile ------------------------------

def _school_crumbs(school: Organisation, run: AnalysisRun | None) -> list[tuple[str, str | None]]:
    """The way back from a school's analysis: through the analysis of the cycle whose run the page shows, when the
    reader may open that cycle; otherwise through the organisations above the school that the reader sees."""
    if run is not None and acting_roles_over(current_user, run.cycle.organisation):
        return [("Циклы", url_for("cycles.cycle_list")),
                (run.cycle.short_title, url_for("cycles.cycle_detail", cycle_id=run.cycle_id)),
                ("Анализ", url_for("analysis.cycle_analysis", cycle_id=run.cycle_id)), (school.display_name, None)]
    above = [(o.display_name, url_for("orgs.org_detail", org_id=o.id)) for o in visible_ancestors(school, current_user)]
    return [("Организации", url_for("orgs.org_list")), *above,
            (school.display_name, url_for("orgs.org_detail", org_id=school.id)), ("Результаты анализа", None)]


@bp.route("/schools/<int:org_id>")
@signed_in
def school(org_id: int):
    org = get_in_scope(Organisation, org_id)
    if org.kind != "school":
        abort(404)
    run = services.latest_run_for_school(org)
    context = {"school": org, "run": run, "sign_titles": SIGN_TITLES, "position_label": dashboard.position_label,
               "crumbs": _school_crumbs(org, run)}
    if run is not None:
        rows = services.results(run, ("marker", "verdict", "aggregate", "cluster_position", "shnor", "shnsu",
                                      "resilient", "stably_objective", "not_computable"), school_id=org.id)
        kinds = defaultdict(list)
        for r in rows:
            kinds[r.kind].append(r)
        context.update(markers=sorted(kinds["marker"], key=lambda r: (-(r.year or 0), r.subject or "", r.sign)),
                       aggregates=sorted(kinds["aggregate"], key=lambda r: (-(r.year or 0), r.subject or "",
                                                                            r.grade or 0)),
                       position=next(iter(kinds["cluster_position"]), None), shnor=kinds["shnor"],
                       shnsu=kinds["shnsu"], resilient=bool(kinds["resilient"]),
                       stable=bool(kinds["stably_objective"]), not_computable=kinds["not_computable"],
                       verdict=next(iter(kinds["verdict"]), None), years=list(run.years))
    profiles = services.risk_profiles_of(org)
    can_edit_risk = bool(acting_roles_over(current_user, org) & services.RISK_EDITORS)
    form = RiskProfileForm(formdata=None, year=profiles[0].year if profiles else None,
                           version=profiles[0].version if profiles else None)
    return render_template("analysis/school.html", profile=profile_view(profiles[0]) if profiles else None,
                           profile_obj=profiles[0] if profiles else None, profiles=profiles, factors=risk_factors(),
                           can_edit_risk=can_edit_risk, form=form, csv_form=RiskCsvForm(formdata=None),
                           max_priorities=MAX_PRIORITIES, **context)


def _risk_input():
    scores = {f.key: request.form.get(f"score-{f.key}", "") for f in risk_factors()}
    priorities = [{"factor": request.form.get(f"priority-{n}", ""), "programme": request.form.get(f"programme-{n}", "")}
                  for n in range(1, MAX_PRIORITIES + 1)]
    return scores, priorities


@bp.route("/schools/<int:org_id>/risk-profile", methods=["POST"])
@roles_required(*services.RISK_EDITORS)
def save_risk_profile(org_id: int):
    org = get_in_scope(Organisation, org_id, roles=services.RISK_EDITORS)
    form = RiskProfileForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("analysis.school", org_id=org.id)), 303
    scores, priorities = _risk_input()
    on_refusal(lambda exc: (redirect(url_for("analysis.school", org_id=org_id)), 303))
    services.save_risk_profile(org, year=form.year.data, scores=scores, priorities=priorities,
                               actor=current_user, expected_version=form.version.data)
    flash("Профиль рисков сохранён.", "success")
    return redirect(url_for("analysis.school", org_id=org.id))


RISK_CSV_MAX_BYTES = 1024 * 1024


@bp.route("/schools/<int:org_id>/risk-profile/import", methods=["POST"])
@roles_required(*services.RISK_EDITORS)
def import_risk_profile(org_id: int):
    org = get_in_scope(Organisation, org_id, roles=services.RISK_EDITORS)
    form = RiskCsvForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("analysis.school", org_id=org.id)), 303
    upload = request.files.get("file")
    on_refusal(lambda exc: (redirect(url_for("analysis.school", org_id=org_id)), 303))
    if upload is None or not upload.filename:
        raise ValidationFailed("Выберите файл CSV с результатами анкетирования.")
    content = upload.read(RISK_CSV_MAX_BYTES + 1)
    if len(content) > RISK_CSV_MAX_BYTES:  # a cut-off read would load the file's head and drop its tail unsaid
        raise ValidationFailed("Файл больше 1 МБ: результаты анкетирования не загружены. Проверьте, тот ли это "
                               "файл (строки factor;score;priority по одной на фактор).")
    uploads.check("risk_csv", content, upload.filename)
    scores, priorities = parse_csv(content)
    services.save_risk_profile(org, year=form.year.data, scores=scores, priorities=priorities,
                               actor=current_user, source="csv")
    flash("Результаты анкетирования загружены, профиль рисков обновлён.", "success")
    return redirect(url_for("analysis.school", org_id=org.id))


# --- findings --------------------------------------------------------------------------------

def _finding_form(cycle: Cycle, formdata=True) -> FindingForm:
    form = FindingForm() if formdata else FindingForm(formdata=None)
    orgs = [cycle.owner] + [o for o in services.scope_schools(cycle.owner) if o.id != cycle.owner_id]
    form.organisation_ids.choices = as_choices([(o.id, o.display_name) for o in orgs])
    return form


def _evidence_of(result) -> tuple[str, str, list[int]]:
    """A prefilled problem and evidence text and the affected school from a computed result."""
    return finding_text.prefill(result)


def _finding_page(cycle, form, finding=None, status=200, result=None):
    return render_template("analysis/finding_form.html", cycle=cycle, form=form, finding=finding, result=result,
                           can_edit=_can_edit_findings(cycle), confirm=VersionForm(
                               formdata=None, version=finding.version) if finding else None), status


@bp.route("/cycles/<int:cycle_id>/findings/new")
@roles_required(*services.ANALYSTS)
def new_finding(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id, roles=services.ANALYSTS)
    if not _can_edit_findings(cycle):
        flash("Выводы можно формулировать, пока этап «Анализ результатов мониторинга» в работе.", "warning")
        return redirect(url_for("analysis.cycle_analysis", cycle_id=cycle.id))
    form = _finding_form(cycle, formdata=False)
    run = services.latest_run(cycle)
    result = services.result_in_run(run, request.args.get("result", type=query_id)) if run else None
    if result is not None and result.school_id and not current_user.roles_over(result.school):
        result = None
    if result is not None and not services.of_own_mechanism(cycle, result):
        result = None  # another mechanism's analysis: saving it would be refused, so nothing is prefilled
    if run is not None:
        form.analysis_run_id.data = run.id
    if result is not None:
        form.problem.data, form.evidence.data, form.organisation_ids.data = _evidence_of(result)
        form.source_result_id.data = result.id
    return _finding_page(cycle, form, result=result)


def _data(form) -> services.FindingData:
    return services.FindingData(problem=form.problem.data, causes=form.causes.data, evidence=form.evidence.data,
                                organisation_ids=form.organisation_ids.data or [],
                                analysis_run_id=form.analysis_run_id.data,
                                source_result_id=form.source_result_id.data)


@bp.route("/cycles/<int:cycle_id>/findings", methods=["POST"])
@roles_required(*services.ANALYSTS)
@submit_once
def create_finding(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id, roles=services.ANALYSTS)
    form = _finding_form(cycle)
    if not form.validate_on_submit():
        return _finding_page(cycle, form, status=422)
    on_refusal(lambda exc: _finding_page(db.session.get(Cycle, cycle_id), form, status=exc.status_code))
    finding = services.create_finding(cycle, _data(form), actor=current_user)
    flash("Вывод сохранён.", "success")
    return redirect(url_for("analysis.finding_detail", finding_id=finding.id))


@bp.route("/findings/<int:finding_id>")
@signed_in
def finding_detail(finding_id: int):
    return _finding_detail_page(finding_id)


def _finding_detail_page(finding_id: int, status: int = 200):
    """The finding as stored; after a refused deletion (changed meanwhile), with the reason and its 4xx."""
    finding = get_in_scope(Finding, finding_id)
    form = _finding_form(finding.cycle, formdata=False)
    form.problem.data, form.causes.data, form.evidence.data = finding.problem, finding.causes, finding.evidence
    form.organisation_ids.data = [o.id for o in finding.organisations]
    form.analysis_run_id.data, form.source_result_id.data = finding.analysis_run_id, finding.source_result_id
    form.version.data = finding.version
    return _finding_page(finding.cycle, form, finding, status)


@bp.route("/findings/<int:finding_id>/edit", methods=["POST"])
@roles_required(*services.ANALYSTS)
def edit_finding(finding_id: int):
    finding = get_in_scope(Finding, finding_id, roles=services.ANALYSTS)
    cycle = finding.cycle
    form = _finding_form(cycle)
    if not form.validate_on_submit():
        return _finding_page(cycle, form, finding, status=422)
    on_refusal(lambda exc: _finding_page(cycle, form, db.session.get(Finding, finding_id), status=exc.status_code))
    services.update_finding(finding, _data(form), actor=current_user, expected_version=form.version.data)
    flash("Вывод изменён.", "success")
    return redirect(url_for("analysis.finding_detail", finding_id=finding.id))


@bp.route("/findings/<int:finding_id>/delete", methods=["POST"])
@roles_required(*services.ANALYSTS)
def delete_finding(finding_id: int):
    finding = get_in_scope(Finding, finding_id, roles=services.ANALYSTS)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    cycle_id = finding.cycle_id
    on_refusal(lambda exc: _finding_detail_page(finding_id, exc.status_code))
    services.delete_finding(finding, actor=current_user, expected_version=form.version.data)
    flash("Вывод удалён.", "success")
    return redirect(url_for("analysis.cycle_analysis", cycle_id=cycle_id))

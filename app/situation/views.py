"""URL table of the situational centre: read-only pages and their XLSX exports, limited to the user's subtree."""


from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.core.access import acting_roles_over, signed_in
from app.core.hardening import query_id
from app.core.timeutil import today_in
from app.core.web import send_download
from app.extensions import db
from app.orgs.models import Organisation
from app.situation import bp, exports, present, services


def _organisation(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None or not services.may_view(current_user, org):
        abort(404)
    return org


# The query arguments `_filters` reads: what a link or redirect to another page of the centre carries over.
FILTER_ARGS = ("year", "procedure", "subject")


def _filters(org: Organisation):
    years, procedures, subjects = services.choices(org)
    year = request.args.get("year", type=query_id)
    year = year if year in years else (years[0] if years else None)
    procedure = request.args.get("procedure")
    procedure = procedure if procedure in procedures else ("ВПР" if "ВПР" in procedures else
                                                           (procedures[0] if procedures else None))
    subject = request.args.get("subject") or None
    subject = subject if subject in subjects else None
    return {"years": years, "procedures": procedures, "subjects": subjects, "year": year, "procedure": procedure,
            "subject": subject}


def _trail(org: Organisation) -> list[Organisation]:
    """The way down from the user's top organisation to `org` (breadcrumbs), only through what the user sees."""
    ids = org.ancestor_ids()
    found = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)))}
    return [found[i] for i in ids if i in found and services.may_view(current_user, found[i])]


def _today(org: Organisation):
    return today_in(org.timezone or current_app.config["APP_TIMEZONE"])


@bp.route("/")
@signed_in
def index():
    roots = services.roots_for(current_user)
    if not roots:
        abort(404)
    if len(roots) > 1:
        # Side by side (a regional expert's assigned municipalities): the list to choose from, not the first alone.
        return render_template("situation/index.html", roots=roots)
    return redirect(url_for("situation.organisation", org_id=roots[0].id))


def _openable(standings) -> set[int]:
    """Ids of the runs whose analysis page the user may open: a school's director sees the verdict the
    municipality's run gave the school, but that run's page is the municipality's (a link to it answered 404)."""
    runs = {s.run.id: s.run for s in (standings or {}).values() if s.run is not None}
    return {run_id for run_id, run in runs.items() if acting_roles_over(current_user, run.organisation)}


@bp.route("/orgs/<int:org_id>")
@signed_in
def organisation(org_id: int):
    org = _organisation(org_id)
    if org.kind == "school":
        # The filters only: the whole query string passed to url_for could name `org_id` or its `_method` (a 500)
        # or `_external` (attack 9).
        kept = {name: request.args[name] for name in FILTER_ARGS if request.args.get(name)}
        return redirect(url_for("situation.school", org_id=org.id, **kept))
    f = _filters(org)
    kids = services.children(org)
    sort, descending = request.args.get("sort", "name"), request.args.get("dir") == "desc"
    total = lines = standings = None
    if f["year"] is not None:
        total, lines = services.result_lines(org, kids, year=f["year"], procedure=f["procedure"],
                                             subject=f["subject"])
        lines = present.sorted_lines(lines, sort, descending)
        standings = services.standings(org, kids, year=f["year"])
    cycles = services.cycle_lines(org, kids, today=_today(org))
    return render_template("situation/organisation.html", org=org, trail=_trail(org), f=f, total=total,
                           lines=lines, standings=standings, cycles=cycles, sort=sort, descending=descending,
                           by_name=present.sorted_lines(lines, "name", False) if lines else [],
                           p=present, openable=_openable(standings),
                           standing_total=services.standings_total(standings) if standings else None)


# The download's name says what the table is (the titles of its sheet's first line).
XLSX_TITLES = {"results": "Результаты", "objectivity": "Объективность и низкие результаты",
               "cycles": "Циклы управления"}


@bp.route("/orgs/<int:org_id>/<any(results, objectivity, cycles):table>.xlsx")
@signed_in
def organisation_xlsx(org_id: int, table: str):
    org = _organisation(org_id)
    f = _filters(org)
    kids = services.children(org)
    if table == "cycles":
        data = exports.cycles_xlsx(org, services.cycle_lines(org, kids, today=_today(org)))
    elif f["year"] is None:  # no results yet: the table's header and nothing under it
        data = exports.empty_xlsx(org, table)
    elif table == "results":
        total, lines = services.result_lines(org, kids, year=f["year"], procedure=f["procedure"],
                                             subject=f["subject"])
        # in the page's order: the export of a table sorted by mean came out alphabetical
        lines = present.sorted_lines(lines, request.args.get("sort", "name"), request.args.get("dir") == "desc")
        data = exports.results_xlsx(org, f, total, lines)
    else:
        data = exports.objectivity_xlsx(org, f, kids, services.standings(org, kids, year=f["year"]))
    return send_download(data, f"{XLSX_TITLES[table]} — {org.display_name}.xlsx")


@bp.route("/schools/<int:org_id>")
@signed_in
def school(org_id: int):
    org = _organisation(org_id)
    if org.kind != "school":
        return redirect(url_for("situation.organisation", org_id=org.id))
    f = _filters(org)
    works = services.work_lines(org, year=f["year"], procedure=f["procedure"]) if f["year"] else []
    standing = services.school_standing(org, year=f["year"]) if f["year"] else None
    return render_template("situation/school.html", org=org, trail=_trail(org), f=f, works=works,
                           standing=standing, p=present, openable=_openable({org.id: standing} if standing else None))


@bp.route("/schools/<int:org_id>/works.xlsx")
@signed_in
def school_xlsx(org_id: int):
    org = _organisation(org_id)
    f = _filters(org)
    if org.kind != "school":
        abort(404)
    works = services.work_lines(org, year=f["year"], procedure=f["procedure"]) if f["year"] else []
    data = exports.works_xlsx(org, f, works)
    return send_download(data, f"Результаты по работам — {org.display_name}.xlsx")


@bp.route("/schools/<int:org_id>/work")
@signed_in
def work(org_id: int):
    org = _organisation(org_id)
    procedure, subject = request.args.get("procedure", ""), request.args.get("subject", "")
    grade = request.args.get("grade", type=query_id)
    if org.kind != "school" or not procedure or not subject or grade is None:
        return redirect(url_for("situation.school", org_id=org.id))  # no work named: the school's list of works
    history = services.work_history(org, procedure=procedure, subject=subject, grade=grade)
    # the year the school's page was showing: the crumbs lead back up to it
    return render_template("situation/work.html", org=org, trail=_trail(org), procedure=procedure,
                           subject=subject, grade=grade, history=history, p=present,
                           year=request.args.get("year", type=query_id))

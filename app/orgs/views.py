from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app.auth.submissions import submit_once
from app.core.access import acting_has_role, get_in_scope, roles_required, scope_condition, signed_in
from app.core.boundary import on_refusal
from app.core.hardening import query_id
from app.core.forms import as_choices
from app.core.russian import sort_key
from app.core.web import reading
from app.extensions import db
from app.orgs import bp, services
from app.orgs.forms import OrganisationForm, SupportForm
from app.orgs.models import CENTRE_KINDS, PROFILES, SETTLEMENTS, SUPPORTED_KINDS, Organisation
from app.orgs.requisites import requisites_lines


@bp.route("/")
@signed_in
def org_list():
    orgs = db.session.scalars(
        select(Organisation).where(scope_condition(Organisation.path)).order_by(Organisation.path).limit(5000)
    ).all()
    # A tree, siblings by code with numbers by value. The path («/1/3/17/») alone ordered them by the text of their
    # ids: «MUN01-S06» … «MUN01-D01» came before «MUN01-S01».
    codes = {o.id: sort_key(o.code) for o in orgs}
    orgs = sorted(orgs, key=lambda o: tuple(codes.get(i, ((0, i, ""),)) for i in o.ancestor_ids()))
    can_add = acting_has_role(current_user, "admin")  # as the page it leads to admits (a deputy included)
    return render_template("orgs/list.html", orgs=orgs, can_add=can_add)


@bp.route("/<int:org_id>")
@signed_in
def org_detail(org_id: int):
    return _detail_page(org_id)


def _detail_page(org_id: int, status: int = 200):
    """The organisation; after a refused «сопровождает» form, with the choice that was sent (SupportForm reads the
    posted form) and the refusal's 4xx — the redirect lost it."""
    org = get_in_scope(Organisation, org_id)
    # In the order of the names shown, numbers by value (the full names put «…школа № 10»» before «…№ 1»»).
    children = sorted(db.session.scalars(select(Organisation).where(Organisation.parent_id == org.id)),
                      key=lambda o: sort_key(o.display_name))
    subtree_size = db.session.scalar(
        select(func.count()).select_from(Organisation).where(Organisation.in_subtree_of(org)))
    can_edit = "admin" in current_user.roles_over(org)
    # The way back up: the ancestors the user may open (a director's school page leads to the list, not to the
    # municipality's page that would answer 404).
    trail = services.visible_ancestors(org, current_user)
    support_form = None
    supports = services.supports_of(org) if org.kind in CENTRE_KINDS else []
    removable = {s.supported_id for s in supports if can_edit and services.administers(current_user, s.supported)}
    if can_edit and org.kind in CENTRE_KINDS:
        support_form = SupportForm()
        support_form.supported_id.choices = as_choices([(o.id, f"{o.display_name} ({o.kind_label})")
                                                        for o in services.support_choices(org)])
    return render_template("orgs/detail.html", org=org, children=children, subtree_size=subtree_size, trail=trail,
                           SETTLEMENTS=SETTLEMENTS, PROFILES=PROFILES, requisites_lines=requisites_lines,
                           can_edit=can_edit, support_form=support_form,
                           supports=supports, removable=removable,
                           supporters=services.supporting_centres(org) if org.kind in SUPPORTED_KINDS else []), status


@bp.route("/<int:org_id>/supports", methods=["POST"])
@roles_required("admin")
def add_support(org_id: int):
    """The centre (ИМЦ, РЦОКО) starts supporting a municipality or the region of the administrator's subtree."""
    centre = get_in_scope(Organisation, org_id, roles={"admin"})
    form = SupportForm()
    supported = db.session.get(Organisation, form.supported_id.data) if form.supported_id.data else None
    if supported is not None and not services.administers(current_user, supported):
        supported = None  # outside the administrator's subtree: treated as not chosen, its existence not shown
    on_refusal(lambda exc: _detail_page(org_id, exc.status_code))
    services.add_support(centre, supported, actor=current_user)
    flash(f"«{centre.display_name}» сопровождает «{supported.display_name}».", "success")
    return redirect(url_for("orgs.org_detail", org_id=centre.id))


@bp.route("/<int:org_id>/supports/<int:supported_id>/remove", methods=["POST"])
@roles_required("admin")
def remove_support(org_id: int, supported_id: int):
    centre = get_in_scope(Organisation, org_id, roles={"admin"})
    on_refusal(lambda exc: _detail_page(org_id, exc.status_code))
    services.remove_support(centre, supported_id, actor=current_user)
    flash("Сопровождение снято.", "success")
    return redirect(url_for("orgs.org_detail", org_id=centre.id))


def _parents_in_admin_scope():
    return db.session.scalars(
        select(Organisation).where(scope_condition(Organisation.path, roles={"admin"}))
        .where(Organisation.kind.in_(("region", "municipality"))).order_by(Organisation.path)
    ).all()


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
@submit_once
def new_org():
    form = OrganisationForm()
    form.parent_id.choices = as_choices([(o.id, o.display_name) for o in _parents_in_admin_scope()])
    if reading() and request.args.get("parent", type=query_id):
        form.parent_id.data = request.args.get("parent", type=query_id)
    if form.validate_on_submit():
        parent = get_in_scope(Organisation, form.parent_id.data, roles={"admin"})
        on_refusal(lambda exc: (render_template("orgs/form.html", form=form, org=None), 422), field=form.code)
        org = services.create_organisation(code=form.code.data, name=form.name.data, kind=form.kind.data,
                                           parent=parent, short_name=form.short_name.data or None,
                                           actor=current_user, **form.context_data(), **form.requisites_data())
        flash("Организация добавлена.", "success")
        return redirect(url_for("orgs.org_detail", org_id=org.id))
    status = 422 if request.method == "POST" else 200
    return render_template("orgs/form.html", form=form, org=None), status


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_org(org_id: int):
    org = get_in_scope(Organisation, org_id, roles={"admin"})
    form = OrganisationForm(obj=org)
    # Code, type and parent are fixed once created; the form shows them but they are not taken from it.
    form.parent_id.choices = as_choices([(org.parent_id or 0, org.parent.display_name if org.parent else "—")])
    if reading():
        form.remote.data = {True: "1", False: "0"}.get(org.remote, "")
        form.parent_id.data = org.parent_id or 0
    else:
        form.code.data, form.kind.data, form.parent_id.data = org.code, org.kind, org.parent_id or 0
    if form.validate_on_submit():
        on_refusal(lambda exc: (render_template("orgs/form.html", form=form, org=org), 422), field=form.name)
        services.update_organisation(org, actor=current_user, data={
            "name": form.name.data, "short_name": form.short_name.data or None, **form.context_data(),
            **form.requisites_data()})
        flash("Сведения об организации сохранены.", "success")
        return redirect(url_for("orgs.org_detail", org_id=org.id))
    status = 422 if request.method == "POST" else 200
    return render_template("orgs/form.html", form=form, org=org), status

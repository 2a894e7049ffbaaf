from flask import render_template
from sqlalchemy import func, select

from app.core.access import get_in_scope, scope_condition, signed_in
from app.extensions import db
from app.orgs import bp
from app.orgs.models import PROFILES, SETTLEMENTS, Organisation


@bp.route("/")
@signed_in
def org_list():
    orgs = db.session.scalars(
        select(Organisation).where(scope_condition(Organisation.path)).order_by(Organisation.path).limit(5000)
    ).all()
    return render_template("orgs/list.html", orgs=orgs)


@bp.route("/<int:org_id>")
@signed_in
def org_detail(org_id: int):
    org = get_in_scope(Organisation, org_id)
    children = db.session.scalars(
        select(Organisation).where(Organisation.parent_id == org.id).order_by(Organisation.name)
    ).all()
    subtree_size = db.session.scalar(
        select(func.count()).select_from(Organisation).where(Organisation.path.like(org.path + "%")))
    return render_template("orgs/detail.html", org=org, children=children, subtree_size=subtree_size,
                           SETTLEMENTS=SETTLEMENTS, PROFILES=PROFILES)

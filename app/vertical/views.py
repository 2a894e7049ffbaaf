"""Pages of the vertical: the roll-up of a cycle's invariant indicators and the goals cascade. Read-only; access is
the cycle's (anyone whose scope holds the cycle's owner), and a drill-down stays inside the owner's subtree."""

from flask import abort, render_template, request

from app.core.access import get_in_scope, signed_in
from app.core.hardening import query_id
from app.cycles.models import Cycle
from app.extensions import db
from app.orgs.models import Organisation
from app.vertical import bp, services


@bp.route("/cycles/<int:cycle_id>/rollup")
@signed_in
def rollup(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id)
    within = None
    # query_id, not int: int() read «٣» as 3 and «1_0» as 10, a drill-down the link never asked for
    unit_id = request.args.get("unit", type=query_id)
    if unit_id is not None:
        within = db.session.get(Organisation, unit_id)
        if within is None or within.id == cycle.owner_id or not within.is_within(cycle.owner):
            abort(404)
    data = services.rollup(cycle, within)
    return render_template("vertical/rollup.html", cycle=cycle, data=data)


@bp.route("/cycles/<int:cycle_id>/cascade")
@signed_in
def cascade(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id)
    return render_template("vertical/cascade.html", cycle=cycle, data=services.cascade(cycle))

"""URL table of a cycle's evidence: the page and its XLSX export, for everyone who may read the cycle."""


from flask import render_template

from app.core.access import get_in_scope, signed_in
from app.core.web import send_download, user_today
from app.cycles.models import Cycle
from app.effectiveness.integrity import check_cycle
from app.evidence import bp, exports, services


@bp.route("/cycles/<int:cycle_id>")
@signed_in
def cycle_evidence(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id)
    return render_template("evidence/cycle.html", cycle=cycle, lines=services.lines(cycle),
                           defects=check_cycle(cycle, today=user_today()), stage_names=services.stage_names(cycle))


@bp.route("/cycles/<int:cycle_id>/evidence.xlsx")
@signed_in
def cycle_evidence_xlsx(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id)
    data = exports.evidence_xlsx(cycle, services.lines(cycle), check_cycle(cycle, today=user_today()))
    return send_download(data, f"Доказательная база — {cycle.title}.xlsx")

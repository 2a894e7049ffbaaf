"""Follow-up (адресные рекомендации, меры, управленческие решения): closing the loop after the analysis."""

from flask import Blueprint

bp = Blueprint("followup", __name__, template_folder="templates")


@bp.app_template_global()
def followup_recommendations(cycle) -> dict:
    """The REC stage's part: the cycle's recommendations and the addressees × status roll-up."""
    from flask_login import current_user

    from app.followup import services

    return {"recs": services.recommendations_of_cycle(cycle), "rollup": services.rollup(cycle),
            "can_write": bool(current_user.roles_over(cycle.owner) & services.AUTHORS)}


@bp.app_template_global()
def followup_measures(cycle) -> dict:
    """The MEAS stage's part: the roadmap rows with their overdue marks."""
    from flask_login import current_user

    from app.followup import services

    measures = services.measures_of_cycle(cycle)
    today = services.org_today(cycle.owner)
    return {"measures": measures, "overdue": {m.id for m in measures if services.is_measure_overdue(m, today)},
            "can_write": bool(current_user.roles_over(cycle.owner) & services.AUTHORS)}


@bp.app_template_global()
def followup_decisions(cycle) -> dict:
    """The DEC stage's part: the decisions and, when the documents pipeline has one, the order document."""
    from flask_login import current_user

    from app.followup import services

    today = services.org_today(cycle.owner)
    decisions = services.decisions_of_cycle(cycle)
    return {"decisions": decisions, "overdue": {d.id for d in decisions if services.is_decision_overdue(d, today)},
            "can_write": bool(current_user.roles_over(cycle.owner) & services.AUTHORS)}


from app.followup import models, views  # noqa: E402,F401

"""Follow-up (адресные рекомендации, меры, управленческие решения): closing the loop after the analysis."""

from flask import Blueprint

bp = Blueprint("followup", __name__, template_folder="templates")

# Below the blueprint: the modules that register routes on it, and what the descriptor names.
from flask_login import current_user  # noqa: E402

from app.core.features import AuditVocabulary, Feature, Mount, NavEntry  # noqa: E402
from app.followup import demo, documents, labels, models, services, views  # noqa: E402, F401

from workflows import decision, measure, recommendation_item  # noqa: E402


@bp.app_template_global()
def followup_recommendations(cycle) -> dict:
    """The REC stage's part: the cycle's recommendations and the addressees × status roll-up."""
    return {"recs": services.recommendations_of_cycle(cycle), "rollup": services.rollup(cycle),
            "can_write": bool(current_user.roles_over(cycle.owner) & services.AUTHORS)}


@bp.app_template_global()
def followup_measures(cycle) -> dict:
    """The MEAS stage's part: the roadmap rows with their overdue marks."""
    measures = services.measures_of_cycle(cycle)
    today = services.org_today(cycle.owner)
    return {"measures": measures, "overdue": {m.id for m in measures if services.is_measure_overdue(m, today)},
            "can_write": bool(current_user.roles_over(cycle.owner) & services.AUTHORS)}


@bp.app_template_global()
def followup_decisions(cycle) -> dict:
    """The DEC stage's part: the decisions and, when the documents pipeline has one, the order document."""
    today = services.org_today(cycle.owner)
    decisions = services.decisions_of_cycle(cycle)
    return {"decisions": decisions, "overdue": {d.id for d in decisions if services.is_decision_overdue(d, today)},
            "can_write": bool(current_user.roles_over(cycle.owner) & services.AUTHORS)}


FEATURE = Feature(
    name="followup", order=30, blueprints=(Mount(bp, "/followup"),), audit=AuditVocabulary.of(labels),
    stage_partials=("followup/_stage_REC.html", "followup/_stage_MEAS.html", "followup/_stage_DEC.html"),
    demo=demo.STAGE_FILLERS, setup=lambda app: documents.register(),
    task_kinds={**recommendation_item.TASK_KINDS, **measure.TASK_KINDS, **decision.TASK_KINDS},
    access_cases="tests.access_cases.followup",
    navigation=(NavEntry(30, "Рекомендации", "followup.my_items", roles=frozenset({"director", "staff"}),
                         group="Работа"),),
)

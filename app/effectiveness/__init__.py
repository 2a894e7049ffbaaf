"""Effectiveness evaluation (анализ эффективности принятых мер) and the cycle integrity panel."""

from flask import Blueprint
from flask_login import current_user

bp = Blueprint("effectiveness", __name__, template_folder="templates")

# Below the blueprint: the modules that register routes on it, and what the descriptor names.
from app.auth.roles import EDITORS  # noqa: E402
from app.core.access import acting_roles_over  # noqa: E402
from app.core.features import AuditVocabulary, Feature, Mount  # noqa: E402
from app.cycles.services import CARRY_OVER_HOOKS  # noqa: E402
from app.effectiveness import demo, documents, labels, models, views  # noqa: E402, F401
from app.effectiveness.integrity import check_cycle, defects_by_stage, fix_refusals  # noqa: E402
from app.effectiveness.services import carry_proposals, evaluation_of, measured_indicator_ids  # noqa: E402
from app.monitoring.services import REPEAT_INDICATORS  # noqa: E402


@bp.app_template_global()
def cycle_integrity(cycle) -> dict:
    """The integrity summary for the cycle page: defect count per stage and the first few defects."""
    defects = check_cycle(cycle)
    return {"count": len(defects), "groups": defects_by_stage(cycle, defects)}


@bp.app_template_global()
def stage_integrity(stage) -> list:
    """The integrity defects of one stage, for its page."""
    return [d for d in check_cycle(stage.cycle) if d.stage == stage.code]


@bp.app_template_global()
def fixes_integrity(cycle) -> bool:
    """Whether the signed-in user may change the cycle's content, i.e. follow an integrity gap's «Исправить» (an
    analyst, an expert or an auditor was offered the link and got «Доступ запрещён»)."""
    return bool(acting_roles_over(current_user, cycle.owner) & EDITORS)


@bp.app_template_global()
def integrity_fix_refusals(cycle, defects) -> dict:
    """{defect: why its «Исправить» would be refused} for a user who may change the cycle's content ({} for one who
    may not: they are offered no link at all)."""
    return fix_refusals(cycle, defects) if fixes_integrity(cycle) else {}


@bp.app_template_global()
def effectiveness_summary(cycle) -> dict:
    """What the EFF stage page shows of the evaluation: its state and the counts of measure assessments."""
    evaluation = evaluation_of(cycle)
    results = [a.result for a in evaluation.assessments] if evaluation else []
    return {"evaluation": evaluation, "moved": results.count("moved"), "not_moved": results.count("not_moved"),
            "not_measurable": results.count("not_measurable"),
            "proposals": len(evaluation.proposals) if evaluation else 0}


def _setup(app) -> None:
    documents.register()
    if carry_proposals not in CARRY_OVER_HOOKS:  # EFF proposals → draft goals and targets of the next cycle
        CARRY_OVER_HOOKS.append(carry_proposals)
    if measured_indicator_ids not in REPEAT_INDICATORS:  # what a repeat measurement of the EFF stage asks
        REPEAT_INDICATORS.append(measured_indicator_ids)


FEATURE = Feature(
    name="effectiveness", order=50, blueprints=(Mount(bp, "/effectiveness"),), audit=AuditVocabulary.of(labels),
    stage_partials=("effectiveness/_stage_EFF.html", "effectiveness/_stage.html"),
    cycle_partials=("effectiveness/_cycle.html",), demo=demo.STAGE_FILLERS, setup=_setup,
    access_cases="tests.access_cases.effectiveness",
)

"""Effectiveness evaluation (анализ эффективности принятых мер) and the cycle integrity panel."""

from flask import Blueprint

bp = Blueprint("effectiveness", __name__, template_folder="templates")


@bp.app_template_global()
def cycle_integrity(cycle) -> dict:
    """The integrity summary for the cycle page: defect count per stage and the first few defects."""
    from app.effectiveness.integrity import check_cycle, defects_by_stage

    defects = check_cycle(cycle)
    return {"count": len(defects), "groups": defects_by_stage(cycle, defects)}


@bp.app_template_global()
def stage_integrity(stage) -> list:
    """The integrity defects of one stage, for its page."""
    from app.effectiveness.integrity import check_cycle

    return [d for d in check_cycle(stage.cycle) if d.stage == stage.code]


@bp.app_template_global()
def effectiveness_summary(cycle) -> dict:
    """What the EFF stage page shows of the evaluation: its state and the counts of measure assessments."""
    from app.effectiveness.services import evaluation_of

    evaluation = evaluation_of(cycle)
    results = [a.result for a in evaluation.assessments] if evaluation else []
    return {"evaluation": evaluation, "moved": results.count("moved"), "not_moved": results.count("not_moved"),
            "not_measurable": results.count("not_measurable"),
            "proposals": len(evaluation.proposals) if evaluation else 0}


from app.effectiveness import models, views  # noqa: E402,F401

"""Analysis (анализ результатов мониторинга): objectivity signs, low-result schools, clusters, dashboards, findings."""

from flask import Blueprint

bp = Blueprint("analysis", __name__, template_folder="templates")


@bp.app_template_global()
def analysis_stage(stage) -> dict:
    """What the ANL stage page shows: the latest run, the findings and whether the user may add them."""
    from flask_login import current_user

    from app.analysis import services

    cycle = stage.cycle
    runs = services.runs_of_cycle(cycle, limit=1)
    can_analyse = bool(current_user.roles_over(cycle.owner) & services.ANALYSTS)
    return {"run": runs[0] if runs else None, "findings": services.findings_of_cycle(cycle),
            "can_run": can_analyse and cycle.state == "open",
            "can_edit": can_analyse and stage.state == "draft" and cycle.state == "open"}


from app.analysis import models, views  # noqa: E402,F401

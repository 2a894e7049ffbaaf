"""Monitoring (мониторинг): data requests to organisations and their submissions of indicator values."""

from flask import Blueprint

bp = Blueprint("monitoring", __name__, template_folder="templates")


@bp.app_template_global()
def monitoring_requests(cycle) -> dict:
    """The cycle's data requests with their answer counts, for the monitoring stage page."""
    from flask_login import current_user

    from app.monitoring import services
    from workflows import engine
    from workflows.data_request import REQUESTER

    requests = services.requests_of_cycle(cycle)
    counts = services.state_counts([r.id for r in requests])
    stage = cycle.stage("MON")
    can_create = (stage is not None and stage.state == "draft" and cycle.state == "open"
                  and engine.permits(REQUESTER, cycle, current_user))
    return {"rows": [(r, counts.get(r.id, {})) for r in requests], "can_create": can_create}


from app.monitoring import models, views  # noqa: E402,F401

"""Monitoring (мониторинг): data requests to organisations and their submissions of indicator values."""

from flask import Blueprint

bp = Blueprint("monitoring", __name__, template_folder="templates")

# Below the blueprint: the modules that register routes on it, and what the descriptor names.
from flask_login import current_user  # noqa: E402

from app.core.features import AuditVocabulary, Feature, Mount, NavEntry  # noqa: E402
from app.monitoring import labels, models, services, views  # noqa: E402, F401
from app.monitoring.demo import complete_monitoring, demo_addressees  # noqa: E402

from workflows import engine, submission  # noqa: E402
from workflows.data_request import REQUESTER  # noqa: E402


@bp.app_template_global()
def monitoring_requests(cycle) -> dict:
    """The cycle's data requests with their answer counts, for the monitoring and effectiveness stage pages, and
    whether the user may create one now (the stage whose requests are open: open_code)."""
    requests = services.requests_of_cycle(cycle)
    counts = services.state_counts([r.id for r in requests])
    open_code = services.requesting_stage(cycle)
    can_create = open_code is not None and engine.permits(REQUESTER, cycle, current_user)
    return {"rows": [(r, counts.get(r.id, {})) for r in requests], "can_create": can_create, "open_code": open_code,
            "closed_reason": services.closed_reason(cycle)}


def _fill_monitoring(stage, *, official, head, rng, today) -> None:
    complete_monitoring(stage, official=official, today=today, rng=rng, organisations=demo_addressees(stage.cycle))


FEATURE = Feature(
    name="monitoring", order=60, blueprints=(Mount(bp, "/monitoring"),), demo={"MON": _fill_monitoring},
    audit=AuditVocabulary.of(labels),
    demo_order=10, task_kinds=submission.TASK_KINDS,
    navigation=(NavEntry(10, "Сбор сведений", "monitoring.index", group="Данные"),),
)

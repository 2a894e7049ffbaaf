"""Cycles (циклы): a mechanism's track run by an organisation for a period, stage by stage."""

from flask import Blueprint

from app.core import features

bp = Blueprint("cycles", __name__, template_folder="templates")

# Below the blueprint: the modules that register routes on it, and what the descriptor names.
from sqlalchemy import select  # noqa: E402

from app.audit import labels  # noqa: E402
from app.catalogue.models import Mechanism, StageDefinition, Track  # noqa: E402
from app.core.features import Feature, Mount, NavEntry  # noqa: E402
from app.cycles import views  # noqa: E402, F401
from app.cycles.models import Cycle, Stage  # noqa: E402
from app.extensions import db  # noqa: E402

from workflows import stage as stage_workflow  # noqa: E402


@bp.app_template_global()
def stage_partials(stage) -> list[str]:
    """Each feature's part of a stage page (its descriptor's `stage_partials`)."""
    return features.stage_partials(stage.code)


@bp.app_template_global()
def cycle_partials(cycle) -> list[str]:
    """Each feature's part of a cycle page (its descriptor's `cycle_partials`)."""
    return features.cycle_partials()


def _stage_titles(events) -> dict[int, str]:
    ids = {e.object_id for e in events if e.object_type == "stage" and e.object_id}
    if not ids:
        return {}
    rows = db.session.execute(
        select(Stage.id, Stage.position, StageDefinition.title)
        .join(StageDefinition, StageDefinition.code == Stage.code).where(Stage.id.in_(ids)))
    return {sid: f"{position}. {title}" for sid, position, title in rows}


def _cycle_labels(events) -> dict[int, str]:
    ids = {e.cycle_id for e in events if e.cycle_id}
    if not ids:
        return {}
    rows = db.session.execute(
        select(Cycle.id, Mechanism.code, Cycle.period)
        .join(Track, Track.id == Cycle.track_id).join(Mechanism, Mechanism.id == Track.mechanism_id)
        .where(Cycle.id.in_(ids)))
    return {cid: f"{code}, {period}" for cid, code, period in rows}


def _setup(app) -> None:
    labels.LOOKUPS.update(stage_titles=_stage_titles, cycle_labels=_cycle_labels)


FEATURE = Feature(
    name="cycles", order=60, blueprints=(Mount(bp),), setup=_setup, task_kinds=stage_workflow.TASK_KINDS,
    navigation=(NavEntry(10, "Все циклы", "cycles.cycle_list", group="Циклы",
                         also=("cycles.cycle_detail", "cycles.stage_detail")),),
)

"""Cycles (циклы): a mechanism's track run by an organisation for a period, stage by stage."""

from flask import Blueprint

from app.core import features

bp = Blueprint("cycles", __name__, template_folder="templates")

# Below the blueprint: the modules that register routes on it, and what the descriptor names.
from flask import has_request_context, url_for  # noqa: E402
from flask_login import current_user  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app.audit import labels  # noqa: E402
from app.catalogue.models import Mechanism, StageDefinition, Track  # noqa: E402
from app.core.access import acting_scope_paths  # noqa: E402
from app.core.features import Feature, Mount, NavEntry  # noqa: E402
from app.cycles import views  # noqa: E402, F401
from app.cycles.models import AGGREGATIONS, CollectionMethod, Cycle, Goal, Indicator, Stage  # noqa: E402
from app.extensions import db  # noqa: E402
from app.orgs.models import Organisation  # noqa: E402

from workflows import stage as stage_workflow  # noqa: E402


@bp.app_template_global()
def stage_partials(stage) -> list[str]:
    """Each feature's part of a stage page (its descriptor's `stage_partials`)."""
    return features.stage_partials(stage.code)


@bp.app_template_global()
def cycle_partials(cycle) -> list[str]:
    """Each feature's part of a cycle page (its descriptor's `cycle_partials`)."""
    return features.cycle_partials()


def _readable_paths() -> list[str] | None:
    """The organisation paths the reader may open cycles under (None outside a signed-in request: an export names,
    it does not link)."""
    if not has_request_context() or not current_user.is_authenticated:
        return None
    return acting_scope_paths(current_user)


def _link(paths: list[str] | None, owner_path: str, url: str) -> str | None:
    # A cycle of an organisation above the reader's (the region's cycle a municipality's data request belongs to) is
    # named in the audit log and the history, but not linked: its page is 404 to them (get_in_scope).
    return url if paths is not None and any(owner_path.startswith(p) for p in paths) else None


def _stage_names(ids) -> dict:
    rows = db.session.execute(
        select(Stage.id, Stage.cycle_id, Stage.position, StageDefinition.title, Organisation.path)
        .join(StageDefinition, StageDefinition.code == Stage.code).join(Cycle, Cycle.id == Stage.cycle_id)
        .join(Organisation, Organisation.id == Cycle.owner_id).where(Stage.id.in_(ids)))
    paths = _readable_paths()
    return {sid: (f"{position}. {title}", _link(paths, path, url_for("cycles.stage_detail", stage_id=sid)))
            for sid, _cid, position, title, path in rows}


def _cycle_names(ids) -> dict:
    rows = db.session.execute(
        select(Cycle.id, Mechanism.code, Cycle.period, Organisation.path)
        .join(Track, Track.id == Cycle.track_id).join(Mechanism, Mechanism.id == Track.mechanism_id)
        .join(Organisation, Organisation.id == Cycle.owner_id).where(Cycle.id.in_(ids)))
    paths = _readable_paths()
    return {cid: (f"{code}, {period}", _link(paths, path, url_for("cycles.cycle_detail", cycle_id=cid)))
            for cid, code, period, path in rows}


def _text(text: str, limit: int = 80) -> str:
    return f"«{text[:limit]}{'…' if len(text) > limit else ''}»"


def _goal_names(ids) -> dict:
    rows = db.session.execute(select(Goal.id, Goal.statement).where(Goal.id.in_(ids)))
    return {gid: (_text(statement), None) for gid, statement in rows}


def _indicator_names(ids) -> dict:
    rows = db.session.execute(select(Indicator.id, Indicator.code, Indicator.name).where(Indicator.id.in_(ids)))
    return {iid: (f"{code} {_text(name, 60)}", None) for iid, code, name in rows}


def _indicator_codes(codes) -> dict:
    """Indicators named by code (data requests and measures store codes): the code and its name."""
    rows = db.session.execute(select(Indicator.code, Indicator.name).where(Indicator.code.in_([str(c) for c in codes])))
    return {code: (f"{code} {_text(name, 60)}", None) for code, name in rows}


def _method_names(ids) -> dict:
    rows = db.session.execute(select(CollectionMethod.id, CollectionMethod.source)
                              .where(CollectionMethod.id.in_(ids)))
    return {mid: (_text(source), None) for mid, source in rows}


def _setup(app) -> None:
    # The audit pages name stages, cycles and their content by these (app.audit.present).
    labels.NAMERS.update(stage=_stage_names, cycle=_cycle_names, goal=_goal_names, indicator=_indicator_names,
                         collection_method=_method_names, indicator_code=_indicator_codes)
    # The vertical's fields of an indicator (README, «The vertical»).
    labels.FIELDS.update({"indicator.invariant": "обязателен для нижестоящего уровня",
                          "indicator.aggregation": "свод значений нижестоящего уровня",
                          "indicator.upper_indicator_id": "показатель вышестоящего уровня"})
    labels.VALUES["indicator.aggregation"] = dict(AGGREGATIONS)
    labels.REFERENCES["indicator.upper_indicator_id"] = "indicator"


FEATURE = Feature(
    name="cycles", order=60, blueprints=(Mount(bp),), setup=_setup, task_kinds=stage_workflow.TASK_KINDS,
    navigation=(NavEntry(10, "Все циклы", "cycles.cycle_list", group="Циклы",
                         also=("cycles.cycle_detail", "cycles.stage_detail")),),
)

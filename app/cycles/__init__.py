"""Cycles (циклы): a mechanism's track run by an organisation for a period, stage by stage."""

from flask import Blueprint

from app.core import features

bp = Blueprint("cycles", __name__, template_folder="templates")

# Below the blueprint: the modules that register routes on it, and what the descriptor names.
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import selectinload  # noqa: E402

from app.audit import labels  # noqa: E402
from app.audit.present import namer  # noqa: E402
from app.catalogue.models import Track  # noqa: E402
from app.core.access import can_open  # noqa: E402
from app.core.features import Feature, Mount, NavEntry  # noqa: E402
from app.cycles import views  # noqa: E402, F401
from app.cycles.models import AGGREGATIONS, CollectionMethod, Cycle, Goal, Indicator, Stage  # noqa: E402
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


@bp.app_template_global()
def can_open_cycle(cycle) -> bool:
    """Whether the reader may open the cycle's page (breadcrumbs and lists name a cycle above the reader's
    organisation, the region's cycle of a request passed down to a municipality, without a link that answers 404)."""
    return can_open(cycle.owner)


# A stage or cycle of an organisation above the reader's is named in the audit log, not linked (its page is 404):
# its name is the mechanism, the period and the stage's title, words of the catalogue rather than the owner's.
_stage_names = namer(Stage, lambda s: f"{s.position}. {s.definition.title}", "cycles.stage_detail", "stage_id",
                     options=(selectinload(Stage.cycle).selectinload(Cycle.owner),), public=True)
_cycle_names = namer(Cycle, lambda c: f"{c.track.mechanism.code}, {c.period}", "cycles.cycle_detail", "cycle_id",
                     options=(selectinload(Cycle.owner), selectinload(Cycle.track).selectinload(Track.mechanism)),
                     public=True)


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

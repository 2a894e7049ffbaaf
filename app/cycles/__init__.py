from flask import Blueprint, current_app

bp = Blueprint("cycles", __name__, template_folder="templates")


def _feature_templates() -> frozenset[str]:
    cached = current_app.extensions.get("uko_feature_partials")
    if cached is None:
        cached = frozenset(current_app.jinja_env.list_templates())
        current_app.extensions["uko_feature_partials"] = cached
    return cached


@bp.app_template_global()
def stage_partials(stage) -> list[str]:
    """Each feature's part of a stage page: `<feature>/_stage_<CODE>.html`, then `<feature>/_stage.html`."""
    from app import FEATURES

    found = _feature_templates()
    names = [f"{f}/_stage_{stage.code}.html" for f in FEATURES] + [f"{f}/_stage.html" for f in FEATURES]
    return [name for name in names if name in found]


@bp.app_template_global()
def cycle_partials(cycle) -> list[str]:
    """Each feature's part of a cycle page: `<feature>/_cycle.html`."""
    from app import FEATURES

    found = _feature_templates()
    return [name for name in (f"{f}/_cycle.html" for f in FEATURES) if name in found]


from app.cycles import views  # noqa: E402,F401

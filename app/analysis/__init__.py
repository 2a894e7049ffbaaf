"""Analysis (анализ результатов мониторинга): objectivity signs, low-result schools, clusters, dashboards, findings."""

from flask import Blueprint

bp = Blueprint("analysis", __name__, template_folder="templates")

# Below the blueprint: the view modules register their routes on it.
from flask_login import current_user  # noqa: E402

from app.analysis import demo, labels, models, report, services, views  # noqa: E402,F401
from app.analysis.cli import cli  # noqa: E402
from app.analysis.dashboard import refresh_after_import, refresh_cycle_dashboard  # noqa: E402
from app.core.features import AuditVocabulary, Feature, Mount, NavEntry  # noqa: E402
from app.imports.jobs import AFTER_IMPORT  # noqa: E402
from app.monitoring.services import AFTER_ACCEPT  # noqa: E402


@bp.app_template_global()
def analysis_reads_results(cycle) -> bool:
    """Whether a section of the calculation belongs to the cycle's mechanism (its pages link the sections)."""
    return services.reads_results(cycle)


@bp.app_template_global()
def analysis_stage(stage) -> dict:
    """What the ANL stage page shows: the latest run, the findings and whether the user may add them."""
    cycle = stage.cycle
    runs = services.runs_of_cycle(cycle, limit=1)
    can_analyse = bool(current_user.roles_over(cycle.owner) & services.ANALYSTS)
    return {"run": runs[0] if runs else None, "findings": services.findings_of_cycle(cycle),
            "reads_results": services.reads_results(cycle),
            "can_run": can_analyse and services.may_start_run(cycle),
            "can_edit": can_analyse and stage.state == "draft" and cycle.state == "open"}


def _own_school(user):
    """The URL arguments of the user's own school's analysis page, or None for someone not at a school."""
    org = user.home_organisation
    return {"org_id": org.id} if org is not None and org.kind == "school" else None


def _setup(app) -> None:
    report.register()  # the analytic report's context builder (documents feature)
    for hooks, job in ((AFTER_IMPORT, refresh_after_import), (AFTER_ACCEPT, refresh_cycle_dashboard)):
        if job not in hooks:  # new results or accepted values change the dashboards
            hooks.append(job)


FEATURE = Feature(
    name="analysis", order=20, blueprints=(Mount(bp, "/analysis"),), cli=(cli,), setup=_setup,
    audit=AuditVocabulary.of(labels), stage_partials=("analysis/_stage_ANL.html",),
    cycle_partials=("analysis/_cycle.html",), demo=demo.STAGE_FILLERS, access_cases="tests.access_cases.analysis",
    navigation=(NavEntry(20, "Профиль моей организации", "analysis.school", roles=frozenset({"director", "staff"}),
                         group="Аналитика", args=_own_school),),
)

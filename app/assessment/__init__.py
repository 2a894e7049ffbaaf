"""Assessment of municipal mechanisms (оценка муниципальных механизмов управления качеством образования,
Rosobrnadzor letter 08-70; domain.md §2 and §7): versioned criteria sets, campaigns with their window,
municipal coordinators and the register of regional experts, evidence found automatically with a proposed score,
self-assessment and expert evaluation through the workflow engine.

Later parts of the issue have their places here: the region picture and factors (`picture.py`), the documents
(`documents.py`, through the documents feature), the evidence package (`package.py`, a tracked job) and the API.
"""

from flask import Blueprint

bp = Blueprint("assessment", __name__, template_folder="templates")

from app.assessment import api, documents, labels, models, package_views, picture_views, views  # noqa: E402, F401
from app.assessment import evidence  # noqa: E402
from app.assessment.cli import assessment_cli  # noqa: E402
from app.core.features import AuditVocabulary, Feature, Mount, NavEntry  # noqa: E402
from workflows import expert_evaluation, self_assessment  # noqa: E402


@bp.app_template_global()
def criterion_number_of(criterion, positions):
    """Templates name a criterion as messages do: «1.2» (assessment/_macros.html)."""
    return evidence.criterion_number(criterion, positions)

FEATURE = Feature(
    name="assessment", order=75, blueprints=(Mount(bp, "/assessment"),), cli=(assessment_cli,),
    audit=AuditVocabulary.of(labels), access_cases="tests.access_cases.assessment",
    setup=lambda app: documents.register(),
    task_kinds={**self_assessment.TASK_KINDS, **expert_evaluation.TASK_KINDS},
    navigation=(NavEntry(60, "Оценка механизмов", "assessment.index", group="Аналитика",
                         roles=frozenset({"admin", "official", "head", "methodologist", "expert", "auditor"}),
                         also=("assessment.campaign_detail", "assessment.self_assessment", "assessment.evaluation",
                               "assessment.criteria_sets", "assessment.criteria_set", "assessment.experts",
                               "assessment.picture_page", "assessment.packages", "assessment.package_detail")),),
)

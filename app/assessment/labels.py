"""Russian audit-history labels of the assessment of municipal mechanisms, merged into app.audit.labels."""

from flask import g
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.assessment.models import EXPERT_STATUSES, Assignment, Campaign, SelfAssessment
from app.assessment.services import scope_of, withheld_evaluations, withheld_self_assessments
from app.audit.present import namer, quoted
from app.effectiveness.integrity import STAGE_ORDER

ACTIONS: dict[str, str] = {
    "appoint_coordinator": "назначен муниципальный координатор", "assign_expert": "назначен эксперт",
    "extend": "срок оценки продлён", "exclude": "исключён из реестра", "score_self": "баллы самооценки",
    "score_expert": "баллы эксперта", "add_evidence": "добавлено доказательство",
}
# The general actions (create, publish, submit, return …) in this feature's own words, per object type.
OBJECT_ACTIONS: dict[str, dict[str, str]] = {
    "assessment_campaign": {"create": "кампания создана", "update": "условия кампании изменены",
                            "publish": "кампания опубликована",
                            "close": "кампания завершена"},
    "criteria_set": {"create": "создана новая версия критериев", "update": "критерии изменены",
                     "publish": "версия критериев опубликована"},
    "assessment_expert": {"create": "эксперт включён в реестр"},
    "self_assessment": {"submit": "самооценка представлена", "resubmit": "самооценка представлена повторно",
                        "return": "самооценка возвращена на доработку"},
    "assessment_package": {"request": "запрошен пакет доказательств", "download": "пакет доказательств скачан"},
    "expert_evaluation": {"submit": "оценка направлена на утверждение", "resubmit": "оценка направлена повторно",
                          "return": "оценка возвращена эксперту", "approve": "экспертная оценка утверждена"},
}
OBJECTS: dict[str, str] = {
    "assessment_campaign": "кампания оценки механизмов", "assessment_municipality": "муниципалитет кампании",
    "assessment_expert": "эксперт реестра", "self_assessment": "самооценка механизма",
    "expert_evaluation": "экспертная оценка механизма", "criteria_set": "набор критериев",
    "assessment_score": "балл по критерию", "assessment_package": "пакет доказательств",
}
STATES: dict[str, str] = {}
FIELDS: dict[str, str] = {
    "title": "название", "period": "период", "window_start": "начало оценки", "window_end": "окончание оценки",
    "extended_until": "срок продлён до", "criteria_set_id": "версия критериев", "mechanisms": "механизмы",
    "municipality_id": "муниципалитет", "coordinator_id": "координатор", "expert_id": "эксперт",
    "expert_user_id": "эксперт", "competences": "компетенции", "status": "статус", "included_on": "дата включения",
    "basis": "основание", "excluded_on": "дата исключения", "position": "должность",
    "assessment_expert.organisation_id": "место работы", "thresholds": "пороги уровней", "version": "версия",
    "return_comment": "комментарий при возврате", "criteria": "критерии", "level": "уровень",
    "user_id": "пользователь", "municipalities": "муниципалитеты", "assignments": "назначения экспертов",
    "assessment_package.campaign_id": "кампания (№)", "assessment_package.sha256": "SHA-256 пакета",
}
# A score change is recorded by criterion code ({"GOAL.1": [2, "…"]}): the history names it as the sheet numbers it,
# «критерий 1.1» (the block's place in the cycle, the criterion's number in the block; evidence.criterion_number).
FIELDS.update({f"{kind}.{block}.{n}": f"критерий {place}.{n}" for kind in ("self_assessment", "expert_evaluation")
               for place, block in enumerate(STAGE_ORDER, 1) for n in range(1, 21)})
# The values and references the history names (app.audit.present): people and organisations by name.
VALUES: dict[str, dict[str, str]] = {"assessment_expert.status": EXPERT_STATUSES}
REFERENCES: dict[str, str] = {"user_id": "user", "coordinator_id": "user", "expert_user_id": "user",
                              "municipality_id": "organisation"}
# The audit log names which self-assessment or evaluation an event is about, with a link to its page (the page
# checks the reader's scope): «экспертная оценка механизма» alone left an auditor guessing among eight mechanisms.
def _scope(campaign):
    """The reader's scope in a campaign (services.scope_of: the region's people, coordinators, assigned experts, the
    municipality's head), asked once a campaign in a request: a page of fifty evaluations asks one campaign."""
    scopes = g.setdefault("audit_campaign_scopes", {})
    if campaign.id not in scopes:
        scopes[campaign.id] = scope_of(campaign, current_user)
    return scopes[campaign.id]


def _reads_self(sa, _by_organisation) -> bool:
    # A campaign's pages are read by its scope, not by the campaign's organisation; as views._self_assessment.
    return _scope(sa.campaign).sees(sa.municipality_id)


def _reads_evaluation(assignment, _by_organisation) -> bool:
    # as views._assignment: a draft campaign's evaluations only for the readers of the whole campaign
    scope = _scope(assignment.campaign)
    return (assignment.campaign.state != "draft" or scope.all) and scope.sees(assignment.municipality_id)


NAMERS = {
    "assessment_campaign": namer(Campaign, lambda c: quoted(c.title), "assessment.campaign_detail", "campaign_id",
                                 opens=lambda c, _by_organisation: bool(_scope(c))),
    "self_assessment": namer(SelfAssessment, lambda s: f"{s.mechanism_code}, {s.municipality.display_name}",
                             "assessment.self_assessment", "self_assessment_id",
                             options=(selectinload(SelfAssessment.municipality),), opens=_reads_self),
    "expert_evaluation": namer(Assignment, lambda a: f"{a.mechanism_code}, {a.municipality.display_name}",
                               "assessment.evaluation", "assignment_id",
                               options=(selectinload(Assignment.municipality),), opens=_reads_evaluation),
}
# The audit log withholds a self-assessment's events from whoever sees its points only once submitted (its expert,
# the municipality's head) and an evaluation's from whoever sees them only once approved (the head), as the pages do.
WITHHELD = {"self_assessment": withheld_self_assessments, "expert_evaluation": withheld_evaluations}

"""Lifecycle of an assessment campaign of municipal mechanisms (letter 08-70).

draft → published (publish: the regional official or head; every coordinator gets the self-assessment task and
every assigned expert the evaluation task, due at the end of the window) → closed (close: only once the region's
analytical report on the campaign is registered — its mandatory closing document).
The tasks belong to the self-assessment and evaluation rows, which the publishing service creates and starts
(engine.start) in the same transaction; this workflow only checks the campaign is complete.
"""

from app.core.timeutil import format_date, utcnow
from app.orgs.services import org_today
from workflows import hooks
from workflows.permissions import has_role

NAME = "assessment_campaign"
OBJECT_TYPE = "assessment_campaign"
INITIAL = "draft"
STATE_LABELS = {"draft": "подготовка", "published": "идёт оценка", "closed": "завершена"}
STATES = STATE_LABELS
STATE_STYLES = {"draft": "secondary", "published": "primary", "closed": "success"}
# The region's official or head manage the campaign (приказ о проведении мониторинга).
MANAGERS = frozenset({"official", "head"})
MANAGER = has_role(MANAGERS, describe="специалист или руководитель регионального органа")
TASK_LINKS = {"assessment_campaign": ("assessment.campaign_detail", "campaign_id")}


def complete(campaign) -> list[str]:
    problems = []
    if not campaign.municipalities:
        problems.append("Не выбраны оцениваемые муниципалитеты.")
    if not campaign.mechanisms:
        problems.append("Не выбраны оцениваемые механизмы.")
    for row in campaign.municipalities:
        if row.coordinator_id is None:
            problems.append(f"Не назначен муниципальный координатор: {row.municipality.display_name}.")
    assigned = {(a.municipality_id, a.mechanism_code) for a in campaign.assignments}
    for row in campaign.municipalities:
        missing = [code for code in campaign.mechanisms if (row.municipality_id, code) not in assigned]
        if missing:
            problems.append(f"{row.municipality.display_name}: не назначены эксперты по механизмам "
                            f"{', '.join(missing)}.")
    if campaign.criteria_set.state != "published":
        problems.append("Набор критериев не опубликован.")
    return problems


def past_end(region, end) -> str | None:
    """A window's end (or its extension's) already over in the region's day made a campaign nobody could score in
    (the sheets close with it): the refusal, or None. The campaign's form and extension (services) and publishing
    (window_open) say it alike."""
    today = org_today(region)
    if end >= today:
        return None
    return (f"Окончание периода оценки ({format_date(end)}) уже прошло: эксперты и координаторы не смогут выставить "
            f"баллы. Укажите окончание не раньше {format_date(today)}.")


def window_open(campaign) -> list[str]:
    """A draft left until its window's end passed (its title may still be corrected) is not published as it is:
    every task would be overdue at once and every sheet closed."""
    problem = past_end(campaign.organisation, campaign.window_closes)
    return [problem] if problem else []


# The region's analytical report is the mandatory document of the closing: a campaign closes only once the report is
# signed and registered (through the documents feature; the hook answers whether it is).
CLOSING_DOCUMENT = "assessment_report"


def report_registered(campaign) -> list[str]:
    problems = hooks.registered_document(campaign, CLOSING_DOCUMENT)
    return [f"Кампанию нельзя завершить: {p[0].lower()}{p[1:]}" for p in problems]


TRANSITIONS = [
    {"trigger": "publish", "source": "draft", "dest": "published", "label": "Опубликовать кампанию",
     "allowed": MANAGER, "guards": [complete, window_open], "style": "success"},
    {"trigger": "close", "source": "published", "dest": "closed", "label": "Завершить кампанию",
     "allowed": MANAGER, "guards": [report_registered], "requires_comment": False, "style": "secondary"},
]


def _enter_published(ctx) -> None:
    ctx.obj.published_at = utcnow()


def _enter_closed(ctx) -> None:
    ctx.obj.closed_at = utcnow()


ON_ENTER = {"published": _enter_published, "closed": _enter_closed}

"""Access-walk knowledge of the assessment of municipal mechanisms (merged by tests/test_access.py).

Its objects are region-level (REGION_SCOPED): a campaign of the test region assessing the test municipality, with
the municipal official as coordinator and the regional expert assigned to M1.1. School B's director and the official
of another municipality see nothing of it (403 by role or 404 by scope); the region's administrator reads it all.
"""

import io
from datetime import date, timedelta

REGION_SCOPED = "region"

ROUTE_ARGUMENTS: dict = {
    "campaign_id": (REGION_SCOPED, lambda o, v, r: [o.extra["campaign_id"]]),
    "criteria_set_id": (REGION_SCOPED, lambda o, v, r: [o.extra["criteria_set_id"]]),
    "self_assessment_id": (REGION_SCOPED, lambda o, v, r: [o.extra["self_assessment_id"]]),
    "assignment_id": (REGION_SCOPED, lambda o, v, r: [o.extra["assignment_id"]]),
    "evidence_id": (REGION_SCOPED, lambda o, v, r: [o.extra["evidence_id"]]),
    "expert_id": (REGION_SCOPED, lambda o, v, r: [o.extra["expert_id"]]),
    # the campaign's municipality (its expert conclusion, app/assessment/documents.py)
    "municipality_id": (REGION_SCOPED, lambda o, v, r: [o.extra["municipality_id"]]),
    "package_id": (REGION_SCOPED, lambda o, v, r: [o.extra["package_id"]]),
    # The region picture's charts (picture_views.py): a fixed set of names, not objects.
    "chart": ("selector", lambda o, v, r: ["blocks", "heatmap", "levels", "linkage"]),
}
ENDPOINT_SCOPES: dict = {}
# Forms are shown by GET pages and saved by POST-only routes.
FORM_ROUTES: dict = {}


def make_campaign(world, db_session, *, mechanisms=("M1.1",), start=None, end=None):
    """A published campaign of world["region"] over world["mun"]: coordinator world["official"], the regional
    expert world["expert"] in the register and assigned to every mechanism; the region's official who made it."""
    from app.assessment import services
    from app.assessment.criteria import load_criteria, published_sets
    from app.auth.services import create_user
    from tests.conftest import PASSWORD

    load_criteria()
    cset = published_sets()[0]
    region, mun = world["region"], world["mun"]
    manager = create_user(login="reg_official", full_name="Регионова Ольга Петровна", password=PASSWORD,
                          position="консультант", roles=[("official", region)])
    today = date.today()
    campaign = services.create_campaign(
        region, actor=manager, title="Мониторинг механизмов 2026", period="2025/26",
        window_start=start or today - timedelta(days=1), window_end=end or today + timedelta(days=30),
        criteria_set_id=cset.id, mechanisms=list(mechanisms), municipality_ids=[mun.id])
    services.appoint_coordinator(campaign, municipality_id=mun.id, user_id=world["official"].id, actor=manager)
    expert = services.add_expert(region, actor=manager, user_id=world["expert"].id, organisation_id=region.id,
                                 position="эксперт", competences=list(cset.mechanism_codes()), included_on=today,
                                 basis="приказ от 01.06.2026 № 1", mechanism_codes=cset.mechanism_codes())
    for code in mechanisms:
        services.assign_expert(campaign, municipality_id=mun.id, mechanism_code=code, expert_id=expert.id,
                               actor=manager)
    services.publish_campaign(campaign, actor=manager)
    db_session.flush()
    return campaign, manager, expert


def school_b_objects(world, make_cycle, db_session, objs) -> dict:
    from app.assessment import services

    campaign, manager, expert = make_campaign(world, db_session)
    mun = world["mun"]
    sa = services.self_assessment_for(campaign, mun.id, "M1.1")
    criterion_id = services.scores_of(campaign, mun.id, "M1.1")[0].criterion_id
    item = services.add_evidence(sa, actor=world["official"], criterion_id=criterion_id, comment="протокол",
                                 stream=io.BytesIO(b"%PDF evidence"), filename="protokol.pdf")
    # The region's own draft version of the criteria (the shipped set is read by every official of any level).
    from app.assessment.criteria import new_version

    draft = new_version(campaign.criteria_set, version="walk-1", title="Региональная версия", actor=world["admin"],
                        region=world["region"])
    db_session.flush()
    # A built evidence package of the municipality (its page and its download exist).
    from app.assessment.package import EvidencePackage, produce

    built = EvidencePackage(campaign_id=campaign.id, municipality_id=mun.id, status="running")
    db_session.add(built)
    db_session.flush()
    produce(built)
    db_session.flush()
    return {"campaign_id": campaign.id, "criteria_set_id": draft.id, "self_assessment_id": sa.id,
            "assignment_id": services.assignment_for(campaign, mun.id, "M1.1").id, "evidence_id": item.id,
            "expert_id": expert.id, "municipality_id": mun.id, "package_id": built.id}

"""The demo's assessment campaign (`flask seed demo`, issue 16 item 12): in its window, both demo municipalities
self-assessed by their coordinators, one expert evaluation approved by the regional head and one returned with a
comment; the regional order on the campaign signed and registered, and the expert's conclusion on the first
municipality (its approved evaluation) signed by the expert and registered. Everything goes through the same
services and workflows as the pages.

The window opens today: the order is dated when it is signed, and an order dated after the start of what it orders
could not be executed (app/core/dating.py).
"""

from datetime import timedelta

from sqlalchemy import select

from app.assessment import documents as campaign_documents
from app.assessment import services
from app.assessment.criteria import load_criteria, published_sets
from app.catalogue.models import Mechanism, MechanismSet, Track
from app.cycles import services as cycles
from app.cycles.models import Cycle, Goal
from app.documents import services as document_services
from app.documents.demo import complete_document
from app.extensions import db


def seed_campaign(region, municipalities, *, manager, head, coordinators, experts, today, period, signer):
    """municipalities: [Organisation]; coordinators: {municipality id: User}; experts: [User] (one per
    municipality, in the same order); `head` prepares the regional order and approves the expert evaluations,
    `signer` (the head of the authority) signs the order. Returns the campaign."""
    load_criteria()
    cset = published_sets()[0]
    mechanisms = [c for c in cset.mechanism_codes() if c != "MX.1"]
    campaign = services.create_campaign(
        region, actor=manager, title=f"Мониторинг муниципальных механизмов управления качеством образования, {period}",
        period=period, window_start=today, window_end=today + timedelta(days=60),
        criteria_set_id=cset.id, mechanisms=mechanisms, municipality_ids=[m.id for m in municipalities])
    entries = []
    for n, user in enumerate(experts, start=1):
        entries.append(services.add_expert(
            region, actor=manager, user_id=user.id, organisation_id=region.id, position="Региональный эксперт",
            competences=cset.mechanism_codes(), included_on=today - timedelta(days=60),
            basis=f"приказ министерства от {today - timedelta(days=60):%d.%m.%Y} № {100 + n}-од",
            mechanism_codes=cset.mechanism_codes()))
    for municipality, entry in zip(municipalities, entries):
        services.appoint_coordinator(campaign, municipality_id=municipality.id,
                                     user_id=coordinators[municipality.id].id, actor=manager)
        for code in mechanisms:
            services.assign_expert(campaign, municipality_id=municipality.id, mechanism_code=code,
                                   expert_id=entry.id, actor=manager)
    services.publish_campaign(campaign, actor=manager)
    regional_cycle(region, manager, today, period)
    # The department's head prepares the order for the authority's head to sign; the manager, an official, agrees it
    # on its route (whoever prepared it neither agrees nor signs it: separation of duties).
    order = document_services.generate_for_owner(campaign, campaign_documents.ORDER, actor=head, inline=True)
    complete_document(order, official=manager, head=signer, sender=head)
    # Both municipalities assess themselves from the proposed scores (one point more where they disagree).
    for municipality in municipalities:
        coordinator = coordinators[municipality.id]
        for code in mechanisms:
            sa = services.self_assessment_for(campaign, municipality.id, code)
            scores = services.scores_of(campaign, municipality.id, code)
            chosen = {}
            for s in scores:
                points = s.proposed_points or 0
                if s.criterion.code == "GOAL.2" and points < s.criterion.max_points:
                    chosen[s.id] = (points + 1, "Обоснование целей приведено в пояснительной записке", s.version)
                else:
                    chosen[s.id] = (points, None, s.version)
            services.save_self_scores(sa, actor=coordinator, entries=chosen, today=today)
            services.transition_self(sa, "submit", actor=coordinator, today=today)
    first, expert = municipalities[0], experts[0]
    # M2.3 of the first municipality (its complete cycle): scored, one score differs with a comment, approved.
    _evaluate(campaign, first.id, "M2.3", expert, today)
    services.transition_evaluation(services.assignment_for(campaign, first.id, "M2.3"), "approve", actor=head,
                                   today=today)
    # M1.1: scored and returned by the head with a comment.
    row = campaign_documents.municipality_row(campaign, first.id)
    conclusion = document_services.generate_for_owner(row, campaign_documents.CONCLUSION, actor=manager, inline=True)
    complete_document(conclusion, official=manager, head=expert)
    _evaluate(campaign, first.id, "M1.1", expert, today)
    services.transition_evaluation(services.assignment_for(campaign, first.id, "M1.1"), "return", actor=head,
                                   today=today, comment="Обоснуйте оценку блока «Показатели»: какие группы "
                                                        "показателей не охвачены.")
    return campaign


def _evaluate(campaign, municipality_id, code, expert, today):
    assignment = services.assignment_for(campaign, municipality_id, code)
    entries = {}
    for s in services.scores_of(campaign, municipality_id, code):
        points = s.proposed_points or 0
        comment = None
        if s.self_points is not None and s.self_points != points:
            comment = "Обоснование целей в представленных документах не найдено; балл по предложенному системой."
        entries[s.id] = (points, comment, s.version)
    services.save_expert_scores(assignment, actor=expert, entries=entries, today=today)
    services.transition_evaluation(assignment, "submit", actor=expert, today=today)


def regional_cycle(region, manager, today, period):
    """The region's own cycle of R1.1 with its goal set: the picture's linkage (issue 16 item 8) scores it with the
    campaign's criteria of M1.1 and compares it with the municipalities block by block. The demo seeds it first (its
    invariants come into the municipal cycles as they open: app/demo.py), so an existing one is returned as it is."""
    track = db.session.scalar(
        select(Track).join(Mechanism, Mechanism.id == Track.mechanism_id)
        .join(MechanismSet, MechanismSet.id == Mechanism.set_id)
        .where(MechanismSet.level == "regional", MechanismSet.active.is_(True), Mechanism.code == "R1.1")
        .order_by(Track.position).limit(1))
    if track is None:
        return None
    existing = db.session.scalar(select(Cycle).where(Cycle.track_id == track.id, Cycle.owner_id == region.id,
                                                     Cycle.period == period))
    if existing is not None:
        return existing
    cycle = cycles.create_cycle(track=track, owner=region, period=period, actor=manager, responsible=manager,
                                deadlines={"GOAL": today + timedelta(days=14)})
    cycles.save_content(Goal, cycle, actor=manager, data={
        "direction": "Повышение объективности оценки качества подготовки обучающихся",
        "statement": "Обеспечить объективность проведения оценочных процедур во всех общеобразовательных "
                     "организациях области",
        "justification": f"По итогам ВПР {period[:4]} года у 12 % школ области выявлены признаки необъективности "
                         "результатов; основание: письмо Рособрнадзора от 20.04.2021 № 08-70.",
        "realism": "Ресурсы РЦОКО, общественное наблюдение, опыт муниципальных систем оценки качества."})
    return cycle

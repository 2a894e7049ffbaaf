"""Shared pytest fixtures of the effectiveness feature (loaded through pytest_plugins in conftest).

`chain` builds a municipal cycle whose whole traceability chain is intact, row by row (no demo fillers), with
every stage opened as a draft so each link is checked: two goals, three indicators (one 'down'), a collection
method, accepted values from schools A and B, a finding, a recommendation issued to both schools, measures
that implement it and move the indicators, a decision, and an evaluation with conclusions and a proposal.
Tests then break one link at a time and watch the integrity check and the stage guards react.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest



def today() -> date:
    """Today when the test runs, not when the module was collected (a suite started before midnight in the
    region's zone, which conftest sets, ran these tests after it, and a «today» taken at collection was
    yesterday for the code under test)."""
    return date.today()


@dataclass
class Chain:
    cycle: object
    indicators: dict
    finding: object
    recommendation: object
    items: list
    measures: dict
    decision: object
    evaluation: object = None
    proposal: object = None
    extra: dict = field(default_factory=dict)


def open_all_stages(cycle):
    """Every stage a draft (reached), without going through the workflow: the checks look at state only."""
    for stage in cycle.stages:
        stage.state = "draft"


def add_indicator(cycle, actor, code, *, baseline, target, direction="up", unit="%"):
    from app.cycles.models import Indicator
    from app.cycles.services import save_content

    return save_content(Indicator, cycle, actor=actor, data={
        "code": code, "name": f"Показатель {code}", "unit": unit, "definition": "формула",
        "group_name": cycle.track.mechanism.indicator_groups[0].name, "source": "ФИС ОКО",
        "collection_method": "выгрузка", "periodicity": "ежегодно", "baseline": baseline, "target": target,
        "direction": direction, "responsible": "Петрова М.И."})


def accepted_values(cycle, actor, values: dict, *, period=None):
    """{(indicator, organisation): value} stored as accepted answers to one data request (rows, not workflow)."""
    from app.core.timeutil import utcnow
    from app.extensions import db
    from app.monitoring.models import DataRequest, DataRequestIndicator, IndicatorValue, Submission

    period = period or cycle.period
    request = DataRequest(cycle=cycle, title=f"Сведения {period}", period=period, deadline=today(),
                          created_by_id=actor.id, state="closed", sent_at=utcnow(), closed_at=utcnow())
    indicators = list(dict.fromkeys(ind for ind, _org in values))
    orgs = list(dict.fromkeys(org for _ind, org in values))
    request.items = [DataRequestIndicator(indicator=ind, position=n) for n, ind in enumerate(indicators)]
    subs = {org.id: Submission(organisation=org, state="accepted", accepted_at=utcnow()) for org in orgs}
    request.submissions = list(subs.values())
    db.session.add(request)
    db.session.flush()
    rows = []
    for (ind, org), value in values.items():
        row = IndicatorValue(indicator=ind, organisation_id=org.id, period=period, value=Decimal(str(value)),
                             submission_id=subs[org.id].id, source="form", entered_by_id=actor.id)
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    return rows


def repeat_values(cycle, actor, values: dict):
    """Accepted answers to a repeat measurement («после мер»): a request of the EFF stage for the next calendar year."""
    from sqlalchemy import select

    from app.extensions import db
    from app.monitoring.models import DataRequest, Submission

    rows = accepted_values(cycle, actor, values, period=str(int(cycle.period[:4]) + 1))
    db.session.scalar(select(DataRequest).join(Submission, Submission.request_id == DataRequest.id)
                      .where(Submission.id == rows[0].submission_id)).stage_code = "EFF"
    db.session.flush()
    return rows


def make_measure(cycle, actor, title, *, indicators=(), recommendations=(), start=None, end=None, **kw):
    from app.extensions import db
    from app.followup.models import Measure

    # A measure whose effect is assessed has been carried out (an unfinished one is «не оценивается»).
    kw.setdefault("state", "done")
    if kw["state"] in ("done", "verified"):
        from app.core.timeutil import utcnow

        kw.setdefault("done_at", utcnow())
    measure = Measure(cycle_id=cycle.id, stage_id=cycle.stage("MEAS").id, title=title, kind="event",
                      responsible_id=actor.id, participants="руководители ОО", start_date=start or today(),
                      end_date=end or today() + timedelta(days=30), expected_result="рост показателя",
                      created_by_id=actor.id, **kw)
    measure.indicators = list(indicators)
    measure.recommendations = list(recommendations)
    db.session.add(measure)
    db.session.flush()
    return measure


def make_finding(cycle, actor, problem="Доля «2» по математике выше региональной"):
    from app.analysis.models import Finding
    from app.extensions import db

    finding = Finding(cycle_id=cycle.id, stage_id=cycle.stage("ANL").id, problem=problem,
                      evidence="9,4 % против 6,1 %", created_by_id=actor.id)
    db.session.add(finding)
    db.session.flush()
    return finding


def make_recommendation(cycle, actor, orgs, *, findings=(), issued=True, due=None):
    from app.core.timeutil import utcnow
    from app.extensions import db
    from app.followup.models import Recommendation, RecommendationItem

    rec = Recommendation(cycle_id=cycle.id, stage_id=cycle.stage("REC").id, text="Организовать наставничество "
                         "для учителей математики", addressee_group="organisations",
                         response_deadline=due or today() + timedelta(days=20), created_by_id=actor.id)
    rec.findings = list(findings)
    if issued:
        rec.issued_at, rec.issued_by_id = utcnow(), actor.id
    rec.items = [RecommendationItem(organisation_id=org.id, due_date=due or today() + timedelta(days=20),
                                    state="issued" if issued else "draft", issued_at=utcnow() if issued else None)
                 for org in orgs]
    db.session.add(rec)
    db.session.flush()
    if issued:
        for org in orgs:
            registered_letter(cycle, org, actor)
    return rec


def registered_letter(cycle, org, actor):
    """The addressee's letter «Адресные рекомендации», registered (rows, as the chain's other rows here): what an
    issued recommendation is sent with — without it the chain has the defect «Рекомендация направлена без письма».
    Its edition's data snapshot lists the texts of the cycle's recommendations to the addressee, as a generated letter
    does: a registered letter that does not carry a recommendation is no proof of sending it
    (app/followup/letters.py)."""
    from sqlalchemy import select

    from app.core.timeutil import utcnow
    from app.documents.models import Document, DocumentVersion
    from app.extensions import db
    from app.followup.models import Recommendation, RecommendationItem

    texts = db.session.scalars(select(Recommendation.text).join(RecommendationItem).where(
        Recommendation.cycle_id == cycle.id, RecommendationItem.organisation_id == org.id)
        .order_by(Recommendation.id)).all()
    snapshot = {"format": 1, "context": {"recommendations": [{"text": text} for text in texts]}, "charts": {},
                "has_charts": False}
    doc = db.session.scalar(select(Document).where(Document.cycle_id == cycle.id, Document.addressee_id == org.id,
                                                   Document.type_key == "addressed_recommendations"))
    if doc is not None:
        # the registered edition made again with the recommendation added since (one edition is enough here)
        doc.versions[-1].context_snapshot = snapshot
        db.session.flush()
        return doc
    doc = Document(cycle_id=cycle.id, stage_id=cycle.stage("REC").id, type_key="addressed_recommendations",
                   addressee_id=org.id, title="Адресные рекомендации", state="registered", created_by_id=actor.id)
    doc.versions = [DocumentVersion(number=1, status="done", progress=100, sha256="0" * 64, signed=True,
                                    signed_at=utcnow(), registration_seq=org.id,
                                    registration_number=f"01-12/{org.id}", registration_date=today(),
                                    registration_year=today().year, created_by_id=actor.id,
                                    context_snapshot=snapshot)]
    db.session.add(doc)
    db.session.flush()
    return doc


def make_decision(cycle, actor, *, findings=(), measures=(), **kw):
    from app.extensions import db
    from app.followup.models import Decision

    data = {"text": "Утвердить дорожную карту по повышению качества подготовки", "kind": "organisational",
            "deadline": today() + timedelta(days=60), "responsible_id": actor.id,
            "participants": "руководители ОО, ИМЦ", "basis": "Аналитическая справка по итогам мониторинга", **kw}
    decision = Decision(cycle_id=cycle.id, stage_id=cycle.stage("DEC").id, created_by_id=actor.id, **data)
    decision.findings = list(findings)
    decision.measures = list(measures)
    db.session.add(decision)
    db.session.flush()
    return decision


@pytest.fixture
def chain(world, make_cycle, db_session):
    from app.cycles.models import CollectionMethod, Goal
    from app.cycles.services import save_content
    from app.effectiveness import services

    official = world["official"]
    cycle = make_cycle(world["mun"], official)
    open_all_stages(cycle)
    for n in (1, 2):
        save_content(Goal, cycle, actor=official, data={
            "direction": f"Направление {n}", "statement": f"Создание условий № {n}", "justification": "данные",
            "realism": "ресурсы"})
    save_content(CollectionMethod, cycle, actor=official, data={"source": "ФИС ОКО", "method": "статистика",
                                                                "tool": "шаблон", "schedule": "май"})
    up = add_indicator(cycle, official, "E-01", baseline=50, target=60)
    down = add_indicator(cycle, official, "E-02", baseline=10, target=6, direction="down")
    worse = add_indicator(cycle, official, "E-03", baseline=10, target=8, direction="down")
    a, b = world["school_a"], world["school_b"]
    accepted_values(cycle, official, {(up, a): 56, (up, b): 64, (down, a): 9, (down, b): 8,
                                      (worse, a): 12, (worse, b): 11})
    finding = make_finding(cycle, official)
    rec = make_recommendation(cycle, official, [a, b], findings=[finding])
    measures = {
        "moves": make_measure(cycle, official, "Наставничество", indicators=[up], recommendations=[rec]),
        "stalls": make_measure(cycle, official, "Семинар", indicators=[worse]),
    }
    decision = make_decision(cycle, official, findings=[finding], measures=list(measures.values()))
    evaluation = services.save_evaluation(cycle, conclusions="Наставничество дало эффект.", actor=official)
    proposal = services.add_proposal(cycle, kind="goal", text="Снизить долю «2» по математике", actor=official)
    db_session.commit()
    return Chain(cycle, {"up": up, "down": down, "worse": worse}, finding, rec, rec.items, measures, decision,
                 evaluation, proposal)

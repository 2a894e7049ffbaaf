"""The workflow engine is the only authority on who may act.

Walks every workflow's objects in their states × every role × a deputy (заместитель) of each role holder and
checks that what a page is offered (`available_transitions`, `can`) is exactly what `fire` accepts; that a deputy
is admitted exactly when the absent person is, by transitions and by role-gated pages, and that the audit event
says «за …»; separation of duties (approve a route step, then sign the same edition: refused, also as a deputy;
accept one's own report: refused); one user action writes one audit event.
"""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.core.errors import DomainError, PermissionDenied
from tests.conftest import PASSWORD, fill_goal
from tests.fixtures_followup import evidence, register_letters
from tests.snapshots import measure_dates
from workflows import engine



def today() -> date:
    """Today when the test runs, not when the module was collected (a suite started before midnight in the
    region's zone, which conftest sets, ran these tests after it, and a «today» taken at collection was
    yesterday for the code under test)."""
    return date.today()
HOLDERS = ("official", "head", "methodologist", "director_a", "staff_a", "director_b")
DATA = {"comment": "комментарий", "action_plan": "План действий", "planned_completion": None,
        "report": "Отчёт об исполнении"}


@pytest.fixture
def deputies(world, make_user, db_session):
    """Each role holder is away today; a deputy holding no workflow role (an auditor of the same organisation)
    stands in for them. Returns {holder name: deputy}."""
    from app.deadlines.standins import create_stand_in

    out = {}
    for name in HOLDERS:
        absent = world[name]
        deputy = make_user("auditor", absent.home_organisation, login=f"deputy_{name}")
        create_stand_in(absent=absent, deputy=deputy, start=today(), end=today() + timedelta(days=3), actor=absent,
                        today=today())
        out[name] = deputy
    db_session.commit()
    return out


def _audit_count(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(AuditEvent))


def _accepted(obj, trigger, person, db_session, *, on_behalf_of=None) -> bool:
    """Whether `fire` lets `person` act (other refusals — a guard, a missing comment — are not about authority).
    Fired inside a savepoint that is rolled back: the object stays as it was for the next person."""
    savepoint = db_session.begin_nested()
    try:
        engine.fire(obj, trigger, actor=person, **DATA)
    except PermissionDenied:
        return False
    except DomainError:
        return True
    else:
        event = db_session.scalar(select(AuditEvent).where(
            AuditEvent.object_type == obj.audit_type, AuditEvent.object_id == obj.id, AuditEvent.action == trigger)
            .order_by(AuditEvent.id.desc()).limit(1))
        assert event is not None and event.actor_id == person.id
        assert event.on_behalf_of_id == (on_behalf_of.id if on_behalf_of is not None else None), \
            f"{trigger} by {person.login}: «за» not recorded"
        return True
    finally:
        savepoint.rollback()
        db_session.expire_all()


def walk(obj, world, deputies, db_session) -> int:
    """Compare offer and acceptance for every person (and their deputy) and every transition of the object's state.
    Returns how many (person, transition) pairs were accepted, so a test can tell the walk was not vacuous."""
    wf = engine.workflow_for(obj)
    state = obj.state
    specs = [t for t in wf.transitions if state in t.source and not t.internal]
    assert specs, f"{wf.name} in {state}: nothing to walk"
    accepted_pairs = 0
    for name in HOLDERS:
        absent, deputy = world[name], deputies[name]
        for person, acting_for in ((absent, None), (deputy, absent)):
            offered = {t.trigger for t in engine.available_transitions(obj, person)}
            for spec in specs:
                accepted = _accepted(obj, spec.trigger, person, db_session, on_behalf_of=acting_for)
                assert obj.state == state
                assert (spec.trigger in offered) == accepted, \
                    f"{wf.name}/{state}/{spec.trigger}: {person.login} offered={spec.trigger in offered} " \
                    f"accepted={accepted}"
                assert engine.can(obj, spec.trigger, person) == accepted
                accepted_pairs += accepted
        # The deputy is admitted exactly when the absent person is (they hold no workflow role of their own).
        assert {t.trigger for t in engine.available_transitions(obj, deputies[name])} == \
            {t.trigger for t in engine.available_transitions(obj, absent)}, f"{wf.name}/{state}: deputy of {name}"
    return accepted_pairs


# --- every workflow × role × deputy ----------------------------------------------------------------------

def test_stage_offer_equals_acceptance(world, deputies, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    stage = cycle.stage("GOAL")
    fill_goal(cycle, world["official"])
    db_session.commit()
    assert walk(stage, world, deputies, db_session)  # draft: submit
    engine.fire(stage, "submit", actor=world["official"])
    db_session.commit()
    assert walk(stage, world, deputies, db_session)  # on_review: approve, return (the nearest head only)
    assert not engine.can(stage, "approve", world["director_a"])


def test_follow_up_offer_equals_acceptance(world, deputies, rec_cycle, make_recommendation, db_session):
    from app.followup import services
    from app.followup.models import MEASURE_KINDS

    rec = make_recommendation(rec_cycle, [world["school_a"]])
    (item,) = rec.items
    assert walk(item, world, deputies, db_session)  # draft: dispatch (the owner's nearest head)
    register_letters(rec, world)
    services.issue_recommendation(rec, actor=world["head"], today=today())
    db_session.commit()
    for step in ("acknowledge", "start", "report", None):
        assert walk(item, world, deputies, db_session)
        if step == "acknowledge":
            services.acknowledge_item(item, actor=world["director_a"], password=PASSWORD)
        elif step == "start":
            services.start_item(item, actor=world["staff_a"], action_plan="Провести педсовет")
        elif step == "report":
            services.report_item(item, actor=world["staff_a"], report="Проведено", files=[evidence()])
        db_session.commit()
    assert item.state == "reported"

    measure = services.create_measure(
        rec_cycle, actor=world["official"], title="Семинар", kind=next(iter(MEASURE_KINDS)),
        responsible_id=world["methodologist"].id, **measure_dates(0, 20))
    db_session.commit()
    assert walk(measure, world, deputies, db_session)  # planned: start (responsible or managers), cancel
    # The responsible methodologist runs the measure; another methodologist does not.
    assert engine.can(measure, "start", world["methodologist"])
    assert engine.can(measure, "start", deputies["methodologist"])
    engine.fire(measure, "start", actor=world["methodologist"])
    db_session.commit()
    assert walk(measure, world, deputies, db_session)  # in_progress: complete, cancel

    from app.followup.models import DECISION_KINDS

    decision = services.create_decision(rec_cycle, actor=world["official"], today=today(), text="Решение",
                                        kind=next(iter(DECISION_KINDS)), deadline=today() + timedelta(days=10),
                                        responsible_id=world["methodologist"].id, basis="Справка")
    db_session.commit()
    assert walk(decision, world, deputies, db_session)  # draft: adopt (the nearest head)
    engine.fire(decision, "adopt", actor=world["head"])
    db_session.commit()
    assert walk(decision, world, deputies, db_session)  # adopted: execute (responsible or managers)


def test_monitoring_offer_equals_acceptance(world, deputies, sent, db_session):
    submission = next(s for s in sent.submissions if s.organisation_id == world["school_a"].id)
    assert walk(sent, world, deputies, db_session)  # sent: close (guard fails, authority admits)
    assert walk(submission, world, deputies, db_session)  # pending: submit, delegate, remind, not provided
    assert engine.can(submission, "submit", deputies["director_a"])
    assert not engine.can(submission, "submit", world["director_b"])


def test_document_offer_equals_acceptance(world, deputies, goal_stage, db_session, fake_generation):
    from tests.test_documents import generate

    doc = generate(goal_stage, "regulation", world["official"], db_session)
    assert walk(doc, world, deputies, db_session)  # draft: to_approval
    engine.fire(doc, "to_approval", actor=world["official"])
    db_session.commit()
    assert walk(doc, world, deputies, db_session)  # on_approval: agree/return by the step's methodologist only
    engine.fire(doc, "agree", actor=world["methodologist"])
    db_session.commit()
    assert doc.state == "awaiting_signature"
    assert walk(doc, world, deputies, db_session)  # awaiting_signature: sign/return by the head


# --- pages gated by role -----------------------------------------------------------------------------------

def test_every_role_gated_page_admits_the_deputy_when_it_admits_the_absent_person(app, world, deputies):
    from app.core.access import acting_has_role, rule_of

    gated = {endpoint: rule_of(view).roles for endpoint, view in app.view_functions.items()
             if rule_of(view) is not None and rule_of(view).roles}
    assert gated
    for endpoint, roles in gated.items():
        for name in HOLDERS:
            if world[name].has_role(*roles):
                assert acting_has_role(deputies[name], *roles), f"{endpoint}: deputy of {name} refused"


def test_deputy_reaches_a_requesters_page_and_acts_with_za_in_the_audit(client, login, world, deputies, sent,
                                                                       db_session):
    deputy = deputies["official"]
    login(deputy)
    page = client.get(f"/monitoring/cycles/{sent.cycle_id}/requests/new")
    assert page.status_code == 200
    submission = next(s for s in sent.submissions if s.organisation_id == world["school_a"].id)
    # The deputy of the official reminds the addressee: the event records the deputy «за» the official.
    from app.monitoring import services

    services.remind(sent, actor=deputy, submission_ids=[submission.id])
    db_session.commit()
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "remind").order_by(AuditEvent.id.desc()))
    assert event.actor_id == deputy.id and event.on_behalf_of_id == world["official"].id
    # Without the stand-in, the same auditor is refused.
    stranger = deputies["director_b"]
    assert not engine.can(submission, "remind", stranger)


def test_head_deputy_issues_a_recommendation(world, deputies, rec_cycle, make_recommendation, db_session):
    from app.followup import services

    rec = make_recommendation(rec_cycle, [world["school_a"]])
    register_letters(rec, world)
    services.issue_recommendation(rec, actor=deputies["head"], today=today())
    db_session.commit()
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "dispatch"))
    assert event.actor_id == deputies["head"].id and event.on_behalf_of_id == world["head"].id


# --- separation of duties --------------------------------------------------------------------------------

def _refused_to_sign(doc, person, words: str, db_session) -> None:
    """The edition awaiting signature is not offered to `person` to sign, and signing it is refused with `words`,
    nothing recorded."""
    from app.documents import services

    assert doc.state == "awaiting_signature"
    assert not engine.can(doc, "sign", person)
    assert "sign" not in {t.trigger for t in engine.available_transitions(doc, person)}
    before = _audit_count(db_session)
    with pytest.raises(PermissionDenied, match=words):
        services.sign_document(doc, actor=person, password=PASSWORD)
    db_session.rollback()
    assert _audit_count(db_session) == before and doc.state == "awaiting_signature"


def test_who_approved_a_route_step_does_not_sign_the_same_edition_even_as_deputy(world, make_user, goal_stage,
                                                                                 db_session, fake_generation):
    from app.deadlines.standins import create_stand_in
    from app.documents import services
    from tests.test_documents import generate

    methodologist, head = world["methodologist"], world["head"]
    create_stand_in(absent=head, deputy=methodologist, start=today(), end=today() + timedelta(days=3), actor=head,
                    today=today())
    doc = generate(goal_stage, "regulation", world["official"], db_session)
    services.transition(doc, "to_approval", actor=world["official"])
    services.decide_step(doc, "approved", actor=methodologist)
    db_session.commit()
    # Standing in for the head would make the methodologist a signer: the engine refuses, and never offers it.
    _refused_to_sign(doc, methodologist, "разделение обязанностей", db_session)
    # The head, who did not approve the step, signs.
    assert engine.can(doc, "sign", head)
    services.sign_document(doc, actor=head, password=PASSWORD)
    db_session.commit()
    assert doc.state == "signed"


def _refused_to_agree(doc, person, db_session) -> None:
    """The route step is not offered to `person`, and agreeing it is refused by separation of duties, nothing
    recorded."""
    from app.documents import services

    assert doc.state == "on_approval"
    assert not engine.can(doc, "agree", person)
    assert "agree" not in {t.trigger for t in engine.available_transitions(doc, person)}
    before = _audit_count(db_session)
    with pytest.raises(PermissionDenied, match="подготовил или отправил на согласование"):
        services.decide_step(doc, "approved", actor=person)
    db_session.rollback()
    assert _audit_count(db_session) == before and doc.state == "on_approval"


def test_who_prepared_an_edition_does_not_agree_its_route_step(world, make_user, goal_stage, db_session,
                                                               fake_generation):
    from app.deadlines.standins import create_stand_in
    from app.documents import services
    from tests.test_documents import generate

    methodologist = world["methodologist"]
    colleague = make_user("methodologist", world["mun"], login="methodologist2", full_name="Второва Ольга Петровна")
    # The methodologist drafts the положение and sends it for approval: the visa on the methodologist's step would be
    # their own (the route of the положение is one methodologist's step).
    doc = generate(goal_stage, "regulation", methodologist, db_session)
    services.transition(doc, "to_approval", actor=methodologist)
    db_session.commit()
    _refused_to_agree(doc, methodologist, db_session)
    # Another methodologist agrees it.
    services.decide_step(doc, "approved", actor=colleague)
    db_session.commit()
    assert doc.state == "awaiting_signature"

    # A new edition made by the official, sent for approval by the methodologist: sending it on is preparing it too.
    services.transition(doc, "return", actor=world["head"], comment="Уточнить сроки")
    db_session.commit()
    doc = generate(goal_stage, "regulation", world["official"], db_session)
    services.transition(doc, "to_approval", actor=methodologist)
    db_session.commit()
    _refused_to_agree(doc, methodologist, db_session)
    # Nor does the official who made it agree it standing in for the absent colleague.
    create_stand_in(absent=colleague, deputy=world["official"], start=today(), end=today() + timedelta(days=3),
                    actor=colleague, today=today())
    db_session.commit()
    _refused_to_agree(doc, world["official"], db_session)
    services.decide_step(doc, "approved", actor=colleague)
    db_session.commit()
    assert doc.state == "awaiting_signature"


def test_an_edition_whose_maker_is_the_only_one_to_agree_it_is_not_sent_for_approval(world, goal_stage, db_session,
                                                                                   fake_generation):
    """The municipality's only methodologist made the положение: sent for approval it would wait on a step nobody may
    agree, so sending it is refused with the reason, nothing changed."""
    from app.core.errors import GuardFailed
    from app.documents import services
    from tests.test_documents import generate

    doc = generate(goal_stage, "regulation", world["methodologist"], db_session)
    before = _audit_count(db_session)
    with pytest.raises(GuardFailed) as refused:
        services.transition(doc, "to_approval", actor=world["official"])
    assert any("единственный пользователь с ролью «Методист» подготовил эту редакцию" in p
               for p in refused.value.problems), refused.value.problems
    db_session.rollback()
    assert doc.state == "draft" and _audit_count(db_session) == before


def test_who_prepared_an_edition_does_not_sign_it_neither_as_themselves_nor_as_the_acting_head(
        world, goal_stage, deputy_of_head, head_on_leave, db_session, fake_generation):
    from app.documents import services
    from tests.test_documents import generate

    # The deputy head (an official) drafts the положение and sends it on its way; the head is on leave and the deputy
    # stands in: signing it as «исполняющий обязанности» would approve her own work.
    deputy = deputy_of_head
    doc = generate(goal_stage, "regulation", deputy, db_session)
    services.transition(doc, "to_approval", actor=deputy)
    services.decide_step(doc, "approved", actor=world["methodologist"])
    db_session.commit()
    _refused_to_sign(doc, deputy, "подготовил или передал на подпись", db_session)
    # The head, who prepared nothing of it, signs it on return.
    assert engine.can(doc, "sign", world["head"])

    # The principal is held to the same rule: an edition the head sent on its way is not the head's to sign, nor
    # anybody's standing in for the head.
    services.transition(doc, "return", actor=world["head"], comment="Доработать")
    services.transition(doc, "to_approval", actor=world["head"])
    services.decide_step(doc, "approved", actor=world["methodologist"])
    db_session.commit()
    for person in (world["head"], deputy):
        assert not engine.can(doc, "sign", person)


def test_nobody_accepts_their_own_report(world, rec_cycle, make_recommendation, db_session):
    from app.auth.services import grant_role
    from app.followup import services

    official = world["official"]
    # The official also works at school A (staff): they may report for the school and review for the owner.
    grant_role(official, "staff", world["school_a"], actor=world["admin"])
    rec = make_recommendation(rec_cycle, [world["school_a"]], issue=True)
    (item,) = rec.items
    services.acknowledge_item(item, actor=world["director_a"], password=PASSWORD)
    services.start_item(item, actor=official, action_plan="План")
    services.report_item(item, actor=official, report="Сделано", files=[evidence()])
    db_session.commit()
    assert not engine.can(item, "accept", official)
    with pytest.raises(PermissionDenied, match="разделение обязанностей"):
        services.review_item(item, "accept", actor=official)
    db_session.rollback()
    services.review_item(item, "accept", actor=world["head"])
    db_session.commit()
    assert item.state == "accepted"


# --- one user action, one audit event --------------------------------------------------------------------

def test_editing_a_measure_or_a_decision_writes_one_audit_event_and_moves_the_task(world, rec_cycle, db_session):
    from app.followup import services
    from app.followup.models import DECISION_KINDS, MEASURE_KINDS
    from app.tasks.models import Task

    kind = next(iter(MEASURE_KINDS))
    measure = services.create_measure(rec_cycle, actor=world["official"], title="Семинар", kind=kind,
                                      responsible_id=world["methodologist"].id, **measure_dates(0, 20))
    db_session.commit()
    before = _audit_count(db_session)
    edited = measure_dates(0, 40)
    services.update_measure(measure, actor=world["official"], title="Семинар для учителей", kind=kind,
                            responsible_id=world["official"].id, participants=None, **edited, expected_result=None,
                            recommendation_ids=(), finding_ids=(), indicator_ids=())
    db_session.commit()
    assert _audit_count(db_session) == before + 1
    (task,) = db_session.scalars(select(Task).where(Task.object_type == "measure", Task.object_id == measure.id,
                                                    Task.state == "open")).all()
    assert task.due_date == edited["end_date"] and task.assignee_id == world["official"].id
    assert "Семинар для учителей" in task.title

    findings = services.cycle_findings(rec_cycle)
    decision = services.create_decision(rec_cycle, actor=world["official"], today=today(), text="Решение",
                                        kind=next(iter(DECISION_KINDS)), deadline=today() + timedelta(days=10),
                                        responsible_id=world["official"].id, basis="Справка",
                                        finding_ids=[f.id for f in findings[:1]])
    db_session.commit()
    before = _audit_count(db_session)
    services.update_decision(decision, actor=world["official"], today=today(), text="Решение (ред.)",
                             kind=decision.kind, deadline=today() + timedelta(days=15),
                             responsible_id=world["official"].id, participants=None, basis="Справка",
                             finding_ids=(), measure_ids=())
    db_session.commit()
    assert _audit_count(db_session) == before + 1
    tasks = db_session.scalars(select(Task).where(Task.object_type == "decision", Task.object_id == decision.id,
                                                  Task.state == "open")).all()
    assert tasks and all(t.due_date == today() + timedelta(days=15) for t in tasks)


def test_internal_transitions_are_fired_only_by_the_system(world, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    waiting = cycle.stage("IND")
    with pytest.raises(PermissionDenied):
        engine.fire(waiting, "open", actor=world["head"])
    assert "open" not in {t.trigger for t in engine.available_transitions(waiting, world["head"])}
    with pytest.raises(PermissionDenied):
        engine.fire_system(cycle.stage("GOAL"), "submit", actor=world["official"])


def test_a_deputy_edits_content_and_the_audit_says_za(world, deputies, rec_cycle, db_session):
    from app.followup import services
    from app.followup.models import MEASURE_KINDS

    deputy = deputies["official"]
    measure = services.create_measure(rec_cycle, actor=deputy, title="Семинар", kind=next(iter(MEASURE_KINDS)),
                                      responsible_id=world["methodologist"].id, **measure_dates(0, 20))
    db_session.commit()
    event = db_session.scalar(select(AuditEvent).where(
        AuditEvent.object_type == "measure", AuditEvent.object_id == measure.id, AuditEvent.action == "create"))
    assert event.actor_id == deputy.id and event.on_behalf_of_id == world["official"].id
    # Someone who stands in for nobody with that role is refused, nothing saved.
    with pytest.raises(PermissionDenied):
        services.create_measure(rec_cycle, actor=deputies["director_b"], title="Чужое", kind=next(iter(MEASURE_KINDS)),
                                responsible_id=world["methodologist"].id, **measure_dates(0, 20))
    db_session.rollback()


def test_the_same_person_approving_a_step_may_not_sign_that_edition(world, goal_stage, db_session, fake_generation):
    from app.auth.services import grant_role
    from app.documents import services
    from tests.test_documents import generate

    head = world["head"]
    grant_role(head, "methodologist", world["mun"], actor=world["admin"])  # the head also approves route steps
    doc = generate(goal_stage, "regulation", world["official"], db_session)
    services.transition(doc, "to_approval", actor=world["official"])
    services.decide_step(doc, "approved", actor=head)
    db_session.commit()
    assert doc.state == "awaiting_signature"
    assert not engine.can(doc, "sign", head)
    with pytest.raises(PermissionDenied, match="разделение обязанностей"):
        services.sign_document(doc, actor=head, password=PASSWORD)
    db_session.rollback()
    # Another round on the same edition, approved by the methodologist this time: the head still approved this
    # edition once, so the head still may not sign it (a new edition is made by generating the document anew).
    services.transition(doc, "return", actor=head, comment="Подпишу после согласования методистом")
    services.transition(doc, "to_approval", actor=world["official"])
    services.decide_step(doc, "approved", actor=world["methodologist"])
    db_session.commit()
    assert doc.state == "awaiting_signature" and not engine.can(doc, "sign", head)


def test_nobody_approves_the_stage_they_submitted_nor_their_deputy_for_them(world, deputies, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    stage = cycle.stage("GOAL")
    head = world["head"]
    engine.fire(stage, "submit", actor=deputies["head"])  # the head's deputy submits «за» the head
    db_session.commit()
    for person in (head, deputies["head"]):
        assert "approve" not in {t.trigger for t in engine.available_transitions(stage, person)}
        with pytest.raises(PermissionDenied, match="разделение обязанностей"):
            engine.fire(stage, "approve", actor=person)
    # Returning it is still the head's to do; once resubmitted by the official, the head approves.
    engine.fire(stage, "return", actor=head, comment="Отправит специалист")
    engine.fire(stage, "submit", actor=world["official"])
    engine.fire(stage, "approve", actor=head)
    assert stage.state == "approved"


def test_a_deputys_sign_off_names_the_director_it_was_for(world, make_user, rec_cycle, make_recommendation, client,
                                                          login, db_session):
    """The item's page said «Ознакомлен: Белов И.О.» for a deputy's sign-off, as if he were the addressee's head;
    the audit log knew he signed for the director on leave (walk 7)."""
    from app.deadlines.standins import create_stand_in
    from app.followup import services

    deputy = make_user("staff", world["school_a"], login="deputy_a", full_name="Белов Иван Олегович")
    create_stand_in(absent=world["director_a"], deputy=deputy, start=today(), end=today() + timedelta(days=3),
                    actor=world["director_a"], today=today())
    rec = make_recommendation(rec_cycle, [world["school_a"], world["school_b"]])
    register_letters(rec, world)
    services.issue_recommendation(rec, actor=world["head"], today=today())
    db_session.commit()
    item_a, item_b = sorted(rec.items, key=lambda i: i.organisation.code)
    services.acknowledge_item(item_a, actor=deputy, password=PASSWORD)
    services.acknowledge_item(item_b, actor=world["director_b"], password=PASSWORD)
    db_session.commit()
    assert services.acknowledged_for(item_a) == world["director_a"] and services.acknowledged_for(item_b) is None

    login(world["head"])
    shown = client.get(f"/followup/items/{item_a.id}").get_data(as_text=True)
    from app.core.russian import deputy_for

    assert f"Белов Иван Олегович {deputy_for(world['director_a'])}, " in shown
    own = client.get(f"/followup/items/{item_b.id}").get_data(as_text=True)
    assert f"{world['director_b'].full_name}, " in own


def test_the_deputy_is_shown_the_links_and_buttons_of_the_pages_that_admit_them(client, login, world, deputies,
                                                                               make_user, db_session):
    """What a page admits and what the menus and buttons offer agree for a deputy: the director's deputy (an auditor
    of the school) may open a cycle and read the school's recommendations, so «Открыть цикл» and «Рекомендации»
    are shown to them — they were shown only to holders of the role themselves."""
    login(deputies["director_a"])
    assert client.get("/cycles/new").status_code == 200
    listing = client.get("/cycles").get_data(as_text=True)
    assert 'href="/cycles/new"' in listing
    assert 'href="/followup/my"' in listing
    # Without a stand-in the same kind of user (an auditor of the school) is offered neither.
    auditor = make_user("auditor", world["school_a"], login="auditor_without_stand_in")
    db_session.commit()
    client.post("/logout")
    login(auditor)
    stranger = client.get("/cycles").get_data(as_text=True)
    assert 'href="/cycles/new"' not in stranger and 'href="/followup/my"' not in stranger

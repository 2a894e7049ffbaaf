"""Addressed recommendations, measures (roadmap) and decisions: workflows, tasks, scoping, bad input, overdue."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.fixtures_followup import evidence, register_letters
from tests.snapshots import PERIOD_LAST_DAY, measure_dates
from tests.conftest import counted_statements

FOLLOWUP_TABLES = ("recommendations", "recommendation_items", "recommendation_findings", "measures",
                   "measure_recommendations", "measure_findings", "measure_indicators", "decisions",
                   "decision_findings", "decision_measures", "tasks", "audit_events", "attachments")


def snapshot(session) -> dict:
    """Every row of the follow-up tables, tasks, attachments and audit events: 'nothing changed' is exact."""
    from app.extensions import db

    session.expire_all()
    out = {}
    for name in FOLLOWUP_TABLES:
        table = db.metadata.tables[name]
        out[name] = [tuple(r) for r in session.execute(select(table).order_by(*table.primary_key.columns))]
    return out


def open_tasks(session, obj, assignee=None):
    from app.tasks.models import Task

    query = select(Task).where(Task.object_type == obj.audit_type, Task.object_id == obj.id, Task.state == "open")
    if assignee is not None:
        query = query.where(Task.assignee_id == assignee.id)
    return list(session.scalars(query.order_by(Task.id)))


def item_of(rec, org):
    return next(i for i in rec.items if i.organisation_id == org.id)


# --- recommendations: expansion and basis -------------------------------------------------------------------

def test_group_recommendation_expands_into_one_item_per_addressee(rec_cycle, world, db_session, make_org):
    from app.followup import services

    make_org("methodical_centre", parent=world["mun"], code="IMC", name="ИМЦ")
    finding = services.cycle_findings(rec_cycle)[0]
    common = dict(actor=world["official"], today=date.today(), response_deadline=date.today() + timedelta(days=20),
                  finding_ids=[finding.id])
    directors = services.create_recommendation(rec_cycle, text="Руководителям: план ВСОКО",
                                               addressee_group="directors", **common)
    assert sorted(i.organisation.code for i in directors.items) == ["SCH-A", "SCH-B"]
    assert all(i.state == "draft" and i.due_date == directors.response_deadline for i in directors.items)
    teachers = services.create_recommendation(rec_cycle, text="Учителям математики", addressee_note="математика",
                                              addressee_group="subject_teachers",
                                              organisation_ids=[world["school_b"].id], **common)
    assert [i.organisation.code for i in teachers.items] == ["SCH-B"]
    assert teachers.addressee_label == "Учителя-предметники: математика"
    centre = services.create_recommendation(rec_cycle, text="ИМЦ: курсы", addressee_group="methodical_centre",
                                            **common)
    assert [i.organisation.code for i in centre.items] == ["IMC"]
    assert directors.findings == [finding]


def test_the_heads_of_chosen_kindergartens_are_addressees(rec_cycle, world, db_session, make_org):
    """«Руководители образовательных организаций» with a kindergarten ticked (the preschool mechanism's addressees)
    was refused: «Не выбран ни один адресат» — the group took only schools."""
    from app.followup import services

    garden = make_org("preschool", parent=world["mun"], code="DOO-1", name="МДОУ «Детский сад № 1»")
    finding = services.cycle_findings(rec_cycle)[0]
    rec = services.create_recommendation(
        rec_cycle, text="Заведующим: план ВСОКО ДОО", addressee_group="directors", actor=world["official"],
        today=date.today(), response_deadline=date.today() + timedelta(days=20), finding_ids=[finding.id],
        organisation_ids=[garden.id, world["school_a"].id])
    assert sorted(i.organisation.code for i in rec.items) == ["DOO-1", "SCH-A"]
    # none ticked: all the schools, as before (not the kindergartens)
    assert sorted(o.code for o in services.expand_addressees(rec_cycle, "directors")) == ["SCH-A", "SCH-B"]
    # the subject teachers are a school's: a ticked kindergarten has none
    assert services.expand_addressees(rec_cycle, "subject_teachers", organisation_ids=[garden.id]) == []


def test_cluster_group_takes_the_schools_of_the_analysis_cluster(rec_cycle, world, db_session):
    from app.analysis.models import AnalysisResult, AnalysisRun
    from app.followup import services

    run = AnalysisRun(cycle_id=rec_cycle.id, organisation_id=world["mun"].id, years=[2025], status="done",
                      progress=100, created_by_id=world["official"].id, finished_at=func.now())
    db_session.add(run)
    db_session.flush()
    db_session.add_all([AnalysisResult(run_id=run.id, kind="cluster", school_id=world["school_a"].id, value=1),
                        AnalysisResult(run_id=run.id, kind="cluster", school_id=world["school_b"].id, value=2)])
    db_session.flush()
    assert services.clusters(rec_cycle) == {1: [world["school_a"].id], 2: [world["school_b"].id]}
    rec = services.create_recommendation(
        rec_cycle, text="Школам кластера 2", addressee_group="cluster", cluster="2", actor=world["official"],
        today=date.today(), response_deadline=date.today() + timedelta(days=20),
        finding_ids=[services.cycle_findings(rec_cycle)[0].id])
    assert [i.organisation.code for i in rec.items] == ["SCH-B"] and rec.addressee_note == "кластер 2"


def test_free_text_basis_is_required_only_when_the_cycle_has_no_findings(world, make_cycle, db_session):
    from app.core.errors import ValidationFailed
    from app.followup import services

    cycle = make_cycle(world["mun"], world["official"])  # no analysis yet: no findings, REC waiting
    data = dict(text="Текст", addressee_group="organisations", organisation_ids=[world["school_a"].id],
                actor=world["official"], today=date.today(), response_deadline=date.today() + timedelta(days=9))
    with pytest.raises(ValidationFailed) as exc:
        services.create_recommendation(cycle, **data)
    assert "опишите основание текстом" in " ".join(exc.value.problems)
    rec = services.create_recommendation(cycle, basis="Справка по итогам ВПР-2025", **data)
    assert rec.basis == "Справка по итогам ВПР-2025" and rec.findings == []


# --- the item workflow ---------------------------------------------------------------------------------------

def test_full_item_workflow_with_return_and_tasks(rec_cycle, world, make_recommendation, db_session):
    from app.followup import services

    rec = make_recommendation(rec_cycle, days=25)
    item = item_of(rec, world["school_a"])
    assert open_tasks(db_session, item) == []  # a draft owes nothing yet

    register_letters(rec, world)
    services.issue_recommendation(rec, actor=world["head"], today=date.today())
    db_session.commit()
    assert [i.state for i in rec.items] == ["issued", "issued"] and rec.issued_by_id == world["head"].id
    (task,) = open_tasks(db_session, item)
    assert (task.kind, task.assignee_id, task.due_date) == ("acknowledge_recommendation", world["director_a"].id,
                                                            item.due_date)
    # the deadline is the task's due date, shown beside the title, not repeated in it
    assert task.title == f"Ознакомиться с рекомендацией: «{rec.title}»"
    assert [t.assignee_id for t in open_tasks(db_session, item_of(rec, world["school_b"]))] == [world["director_b"].id]

    services.acknowledge_item(item, actor=world["director_a"], password=PASSWORD, expected_version=item.version)
    db_session.commit()
    assert item.state == "acknowledged" and item.acknowledged_by_id == world["director_a"].id
    assert item.acknowledged_at is not None
    assert [(t.kind, t.due_date) for t in open_tasks(db_session, item)] == [("execute_recommendation", item.due_date)]

    services.start_item(item, actor=world["director_a"], action_plan="Педсовет до 01.12; план до 15.12",
                        planned_completion=item.due_date)
    services.report_item(item, actor=world["staff_a"], report="Проведён педсовет", files=[evidence()])
    db_session.commit()
    assert item.state == "reported" and item.reported_by_id == world["staff_a"].id
    (review,) = open_tasks(db_session, item)
    assert (review.kind, review.assignee_id) == ("review_recommendation", world["official"].id)

    services.review_item(item, "return", actor=world["official"], comment="Приложите протокол педсовета")
    db_session.commit()
    assert item.state == "returned" and item.return_comment == "Приложите протокол педсовета"
    assert [t.kind for t in open_tasks(db_session, item, world["director_a"])] == ["rework_recommendation"]

    services.report_item(item, actor=world["director_a"], report="Протокол приложен",
                         files=[evidence("protokol.pdf")])
    services.review_item(item, "accept", actor=world["official"])
    db_session.commit()
    assert item.state == "accepted" and item.accepted_by_id == world["official"].id
    assert open_tasks(db_session, item) == []
    from app.audit.models import AuditEvent

    actions = list(db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "recommendation_item", AuditEvent.object_id == item.id).order_by(AuditEvent.id)))
    assert actions == ["dispatch", "acknowledge", "start", "attach", "report", "return", "attach", "report", "accept"]


def test_return_needs_a_comment(rec_cycle, world, make_recommendation, db_session):
    from app.core.errors import ValidationFailed
    from app.followup import services

    rec = make_recommendation(rec_cycle, [world["school_a"]], issue=True)
    item = rec.items[0]
    services.acknowledge_item(item, actor=world["director_a"], password=PASSWORD)
    services.start_item(item, actor=world["director_a"], action_plan="План")
    services.report_item(item, actor=world["director_a"], report="Сделано", files=[evidence()])
    db_session.commit()
    before = snapshot(db_session)
    with pytest.raises(ValidationFailed, match="обязателен комментарий"):
        services.review_item(item, "return", actor=world["official"], comment="  ")
    db_session.rollback()
    assert snapshot(db_session) == before


def test_only_the_head_issues_and_all_items_at_once(rec_cycle, world, make_recommendation, db_session):
    from app.core.errors import PermissionDenied
    from app.followup import services

    rec = make_recommendation(rec_cycle)
    register_letters(rec, world)
    db_session.commit()
    before = snapshot(db_session)
    with pytest.raises(PermissionDenied, match="руководитель органа управления"):
        services.issue_recommendation(rec, actor=world["official"], today=date.today())
    db_session.rollback()
    assert snapshot(db_session) == before
    services.issue_recommendation(rec, actor=world["head"], today=date.today())
    assert {i.state for i in rec.items} == {"issued"}


# --- bad input: refused with a Russian message, nothing changed ---------------------------------------------

def test_bad_recommendations_are_refused_and_change_nothing(rec_cycle, world, db_session):
    from app.core.errors import ValidationFailed
    from app.followup import services

    finding = services.cycle_findings(rec_cycle)[0]
    good = dict(text="Текст", addressee_group="organisations", organisation_ids=[world["school_a"].id],
                actor=world["official"], today=date.today(), response_deadline=date.today() + timedelta(days=9),
                finding_ids=[finding.id])
    before = snapshot(db_session)
    cases = [
        ({"organisation_ids": []}, "Не выбран ни один адресат"),
        ({"addressee_group": ""}, "Выберите адресата"),
        ({"finding_ids": []}, "Укажите вывод анализа"),
        ({"addressee_group": "subject_teachers", "organisation_ids": []}, "Укажите предмет"),
        ({"response_deadline": date.today() - timedelta(days=1)}, "в прошлом"),
        ({"text": "   "}, "Укажите текст рекомендации"),
    ]
    for change, message in cases:
        with pytest.raises(ValidationFailed) as exc:
            services.create_recommendation(rec_cycle, **{**good, **change})
        assert message in " ".join(exc.value.problems), change
        db_session.rollback()
    assert snapshot(db_session) == before


def test_bad_sign_offs_and_reports_are_refused(rec_cycle, world, make_recommendation, db_session):
    from app.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
    from app.followup import services

    rec = make_recommendation(rec_cycle, issue=True)
    item = item_of(rec, world["school_a"])
    before = snapshot(db_session)
    for actor in ("official", "head", "staff_a", "director_b"):
        with pytest.raises(PermissionDenied, match="только руководитель организации-адресата"):
            services.acknowledge_item(item, actor=world[actor], password=PASSWORD)
        db_session.rollback()
    with pytest.raises(ValidationFailed, match="Неверный пароль"):
        services.acknowledge_item(item, actor=world["director_a"], password="wrong-password")
    db_session.rollback()
    with pytest.raises(InvalidTransition, match="руководитель ознакомлен"):
        services.report_item(item, actor=world["director_a"], report="Всё сделано", files=[evidence()])
    db_session.rollback()
    assert snapshot(db_session) == before
    assert item.state == "issued" and item.acknowledged_at is None


def test_report_without_evidence_is_refused(rec_cycle, world, make_recommendation, db_session):
    from app.core.errors import GuardFailed
    from app.followup import services

    rec = make_recommendation(rec_cycle, [world["school_a"]], issue=True)
    item = rec.items[0]
    services.acknowledge_item(item, actor=world["director_a"], password=PASSWORD)
    services.start_item(item, actor=world["director_a"], action_plan="План")
    db_session.commit()
    before = snapshot(db_session)
    with pytest.raises(GuardFailed) as exc:
        services.report_item(item, actor=world["director_a"], report="Сделано", files=[])
    assert "Прикрепите подтверждение" in " ".join(exc.value.problems)
    db_session.rollback()
    assert snapshot(db_session) == before


def test_bad_measures_are_refused_and_change_nothing(rec_cycle, world, db_session):
    from app.core.errors import ValidationFailed
    from app.followup import services

    from app.core.timeutil import period_bounds

    first, last = period_bounds(rec_cycle.period)
    good = dict(actor=world["official"], title="Семинар", kind="training", responsible_id=world["methodologist"].id,
                **measure_dates(3, 8))
    start = good["start_date"]
    before = snapshot(db_session)
    cases = [
        ({"responsible_id": None}, "Укажите ответственного"),
        ({"responsible_id": world["director_a"].id}, "должен быть сотрудником"),
        ({"start_date": None}, "Укажите даты начала и окончания"),
        ({"end_date": None}, "Укажите даты начала и окончания"),
        ({"end_date": start - timedelta(days=1)}, "Дата окончания мероприятия раньше даты начала"),
        ({"title": ""}, "Укажите название"),
        ({"kind": "party"}, "Выберите вид"),
        # the measures of a roadmap lie within the cycle's period (the school year it is for)
        ({"end_date": last + timedelta(days=1)}, f"выходят за период цикла {rec_cycle.period} "
                                                  f"({first:%d.%m.%Y} – {last:%d.%m.%Y}): укажите даты внутри периода"),
        ({"start_date": first - timedelta(days=1)}, f"выходят за период цикла {rec_cycle.period}"),
    ]
    for change, message in cases:
        with pytest.raises(ValidationFailed) as exc:
            services.create_measure(rec_cycle, **{**good, **change})
        assert message in " ".join(exc.value.problems), change
        db_session.rollback()
    assert snapshot(db_session) == before
    # an edit moving a planned measure out of the period is refused alike, the measure unchanged
    measure = services.create_measure(rec_cycle, **good)
    db_session.commit()
    edit = {k: v for k, v in good.items() if k != "actor"} | {"end_date": last + timedelta(days=30)}
    with pytest.raises(ValidationFailed) as exc:
        services.update_measure(measure, actor=world["official"], participants=None, expected_result=None,
                                recommendation_ids=(), finding_ids=(), indicator_ids=(), **edit)
    assert "выходят за период цикла" in " ".join(exc.value.problems)
    db_session.rollback()
    assert db_session.get(type(measure), measure.id).end_date == good["end_date"]


def test_end_before_start_is_also_a_database_constraint(rec_cycle, world, db_session):
    from sqlalchemy.exc import IntegrityError

    from app.followup.models import Measure

    m = Measure(cycle_id=rec_cycle.id, stage_id=rec_cycle.stage("MEAS").id, title="x", kind="event",
                responsible_id=world["official"].id, start_date=date(2026, 5, 2), end_date=date(2026, 5, 1),
                created_by_id=world["official"].id)
    db_session.add(m)
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


def test_decision_without_basis_responsible_or_deadline_is_refused(rec_cycle, world, db_session):
    from app.core.errors import ValidationFailed
    from app.followup import services

    good = dict(actor=world["official"], today=date.today(), text="Утвердить дорожную карту", kind="organisational",
                deadline=date.today() + timedelta(days=10), responsible_id=world["official"].id,
                participants="ОО", basis="Справка")
    before = snapshot(db_session)
    for change, message in [({"basis": " "}, "Укажите основание решения"),
                            ({"responsible_id": None}, "Укажите ответственного"),
                            ({"deadline": None}, "Укажите срок исполнения"), ({"kind": "x"}, "Выберите вид")]:
        with pytest.raises(ValidationFailed) as exc:
            services.create_decision(rec_cycle, **{**good, **change})
        assert message in " ".join(exc.value.problems)
        db_session.rollback()
    assert snapshot(db_session) == before


# --- overdue in the organisation's time zone ------------------------------------------------------------------

def test_overdue_is_counted_in_the_addressees_time_zone(rec_cycle, world, make_recommendation, db_session):
    from app.core.timeutil import today_in
    from app.followup import services

    world["school_a"].timezone, world["school_b"].timezone = "Pacific/Kiritimati", "Pacific/Pago_Pago"  # +14 / -11
    rec = make_recommendation(rec_cycle, issue=True)
    due = today_in("Pacific/Pago_Pago")  # still today in Pago Pago, already yesterday in Kiritimati
    for item in rec.items:
        item.due_date = due
    db_session.commit()
    a, b = item_of(rec, world["school_a"]), item_of(rec, world["school_b"])
    assert services.is_item_overdue(a) and not services.is_item_overdue(b)
    roll = services.rollup(rec_cycle)
    assert roll.overdue == {world["school_a"].id: 1} and roll.totals["issued"] == 2
    # Reported items are the official's to check: no longer overdue for the school.
    a.due_date = due - timedelta(days=30)
    services.acknowledge_item(a, actor=world["director_a"], password=PASSWORD)
    assert services.is_item_overdue(a)
    services.start_item(a, actor=world["director_a"], action_plan="План")
    services.report_item(a, actor=world["director_a"], report="Сделано", files=[evidence()])
    assert not services.is_item_overdue(a)


# --- scoping over HTTP -------------------------------------------------------------------------------------

def test_a_school_sees_and_acts_only_on_its_own_items(app, rec_cycle, world, make_recommendation, db_session,
                                                       client_for):
    rec = make_recommendation(rec_cycle, issue=True)
    a, b = item_of(rec, world["school_a"]), item_of(rec, world["school_b"])
    director_a = client_for(world["director_a"])
    before = snapshot(db_session)
    assert director_a.get(f"/followup/items/{b.id}").status_code == 404
    assert director_a.post(f"/followup/items/{b.id}/acknowledge",
                           data={"password": PASSWORD, "version": b.version}).status_code == 404
    assert director_a.get(f"/followup/recommendations/{rec.id}").status_code == 404
    assert director_a.get(f"/followup/cycles/{rec_cycle.id}/recommendations").status_code == 404
    assert snapshot(db_session) == before
    page = director_a.get("/followup/my").get_data(as_text=True)
    assert f"/followup/items/{a.id}" in page and f"/followup/items/{b.id}" not in page
    assert director_a.get(f"/followup/items/{a.id}").status_code == 200

    # Wrong password over HTTP: the page says so and nothing changes but the audited failed re-entry.
    response = director_a.post(f"/followup/items/{a.id}/acknowledge", data={"password": "nope", "version": a.version})
    assert response.status_code == 422 and "Неверный пароль" in response.get_data(as_text=True)
    after = snapshot(db_session)
    new_events = after.pop("audit_events")[len(before["audit_events"]):]
    assert [e[5] for e in new_events] == ["reauth_failed"]
    assert after == {k: v for k, v in before.items() if k != "audit_events"}
    response = director_a.post(f"/followup/items/{a.id}/acknowledge", data={"password": PASSWORD, "version": a.version})
    assert response.status_code == 302
    db_session.expire_all()
    assert a.state == "acknowledged" and b.state == "issued"


def test_official_rollup_page_shows_addressees_by_status_in_fixed_queries(rec_cycle, world, make_org, make_user,
                                                                          make_recommendation, db_session, client_for):
    rec = make_recommendation(rec_cycle, issue=True)
    from app.followup import services

    services.acknowledge_item(item_of(rec, world["school_a"]), actor=world["director_a"], password=PASSWORD)
    db_session.commit()
    client = client_for(world["official"])
    url = f"/followup/cycles/{rec_cycle.id}/recommendations"
    client.get(url)
    with counted_statements() as few:
        page = client.get(url).get_data(as_text=True)
    assert 'data-organisation="SCH-A"' in page and 'data-total="issued">1<' in page
    assert 'data-total="acknowledged">1<' in page
    # counts stand right-aligned under their right-aligned headers, as numbers in a table do
    assert '<td class="text-end" data-count="issued">' in page and '<th class="text-end">Просрочено</th>' in page
    for n in range(4):
        school = make_org("school", parent=world["mun"], code=f"SCH-X{n}")
        make_user("director", school)
        make_recommendation(rec_cycle, [school, world["school_a"]], issue=True, text=f"Рекомендация {n}")
    client.get(url)
    # once more: the first page after the letters' registration reloads the signed-in user and the cycle once
    # (seen in the statements); what is measured is that the count does not grow with the recommendations
    client.get(url)
    with counted_statements() as many:
        page = client.get(url).get_data(as_text=True)
    assert 'data-organisation="SCH-X3"' in page
    assert len(many) == len(few)
    with counted_statements() as statements:
        roll = services.rollup(rec_cycle)
    assert len(statements) == 1
    assert roll.matrix[world["school_a"].id]["issued"] == 4 and roll.matrix[world["school_a"].id]["acknowledged"] == 1


# --- measures and the roadmap -------------------------------------------------------------------------------

def _measure(cycle, world, *, title="Семинар для учителей", start=1, end=10, responsible="methodologist", **kw):
    from app.followup import services

    return services.create_measure(cycle, actor=world["official"], title=title, kind="training",
                                   responsible_id=world[responsible].id, **measure_dates(start, end), **kw)


def test_measure_workflow_tasks_and_proof(rec_cycle, world, make_recommendation, db_session):
    from app.core.errors import GuardFailed, ValidationFailed
    from app.followup import services

    rec = make_recommendation(rec_cycle)
    indicator = rec_cycle.indicators[0]
    # starting today: marking it done is refused before its start date (tests/test_followup2.py)
    m = _measure(rec_cycle, world, start=0, recommendation_ids=[rec.id], indicator_ids=[indicator.id])
    db_session.commit()
    assert m.state == "planned" and m.recommendations == [rec] and m.indicators == [indicator]
    assert rec.measures == [m]
    (task,) = open_tasks(db_session, m)
    assert (task.kind, task.assignee_id, task.due_date) == ("execute_measure", world["methodologist"].id, m.end_date)

    # Seven days later, or earlier when that would pass the cycle's 31 August (the window is 9 days long).
    new_end = m.end_date + timedelta(days=7 if m.end_date + timedelta(days=7) <= PERIOD_LAST_DAY else -7)
    services.update_measure(m, actor=world["official"], title=m.title, kind=m.kind, responsible_id=world["head"].id,
                            participants="ИМЦ", start_date=m.start_date, end_date=new_end, expected_result=None,
                            recommendation_ids=[rec.id], finding_ids=(), indicator_ids=[indicator.id])
    db_session.commit()
    (task,) = open_tasks(db_session, m)
    assert (task.assignee_id, task.due_date) == (world["head"].id, new_end) and m.participants == "ИМЦ"

    services.transition_measure(m, "start", actor=world["head"])
    db_session.commit()
    with pytest.raises(GuardFailed):
        services.transition_measure(m, "complete", actor=world["head"])
    db_session.rollback()
    services.attach_to(m, stream=evidence()[0], filename="protokol.pdf", kind="protocol", actor=world["head"])
    services.transition_measure(m, "complete", actor=world["head"], comment="Проведено")
    db_session.commit()
    assert m.state == "done" and m.done_at is not None
    assert {t.kind for t in open_tasks(db_session, m)} == {"verify_measure"}
    assert world["head"].id not in {t.assignee_id for t in open_tasks(db_session, m)}  # not one's own check
    services.transition_measure(m, "verify", actor=world["official"])
    assert m.state == "verified" and open_tasks(db_session, m) == []

    other = _measure(rec_cycle, world, title="Отменяемое")
    with pytest.raises(ValidationFailed, match="обязателен комментарий"):
        services.transition_measure(other, "cancel", actor=world["official"])
    services.transition_measure(other, "cancel", actor=world["official"], comment="Перенесено в план ИМЦ")
    assert other.state == "cancelled" and other.cancel_reason == "Перенесено в план ИМЦ"
    assert open_tasks(db_session, other) == []


def test_roadmap_timeline_svg_and_overdue_marks_in_fixed_queries(rec_cycle, world, db_session, client_for):
    from app.followup import services

    late = _measure(rec_cycle, world, title="Методический десант", start=-20, end=-2)
    services.transition_measure(late, "start", actor=world["official"])
    _measure(rec_cycle, world, title="Конкурс разработок", start=5, end=40)
    db_session.commit()
    client = client_for(world["official"])
    url = f"/followup/cycles/{rec_cycle.id}/measures"
    client.get(url)
    with counted_statements() as few:
        page = client.get(url).get_data(as_text=True)
    timeline = page[page.index('id="roadmap-timeline"'):]
    svg = timeline[timeline.index("<svg"):timeline.index("</svg>")]
    assert "Методический десант (просрочено)" in svg and "Конкурс разработок" in svg
    assert "<script" not in svg and 'href="http' not in svg  # drawn on the server: nothing to fetch or run
    assert f'data-measure="{late.id}" class="table-danger"' in page
    for n in range(4):
        _measure(rec_cycle, world, title=f"Мероприятие {n}", start=n, end=n + 3,
                 indicator_ids=[rec_cycle.indicators[0].id])
    db_session.commit()
    client.get(url)
    with counted_statements() as many:
        page = client.get(url).get_data(as_text=True)
    assert "Мероприятие 3" in page
    assert len(many) == len(few)


# --- decisions ---------------------------------------------------------------------------------------------

def test_decision_workflow_and_tasks(rec_cycle, world, db_session):
    from app.core.errors import PermissionDenied
    from app.followup import services

    finding = services.cycle_findings(rec_cycle)[0]
    m = _measure(rec_cycle, world)
    d = services.create_decision(rec_cycle, actor=world["official"], today=date.today(),
                                 text="Поощрить педагогов с наибольшим приростом результатов", kind="incentive",
                                 deadline=date.today() + timedelta(days=30), responsible_id=world["official"].id,
                                 participants="Педагоги ОО", finding_ids=[finding.id], measure_ids=[m.id])
    db_session.commit()
    assert d.state == "draft" and d.kind_label == "Поощрение" and d.measures == [m] and m.decisions == [d]
    assert [(t.kind, t.assignee_id) for t in open_tasks(db_session, d)] == [("adopt_decision", world["head"].id)]
    with pytest.raises(PermissionDenied):
        services.transition_decision(d, "adopt", actor=world["official"])
    db_session.rollback()
    services.transition_decision(d, "adopt", actor=world["head"])
    db_session.commit()
    assert d.adopted_by_id == world["head"].id
    assert [(t.kind, t.assignee_id, t.due_date, t.title) for t in open_tasks(db_session, d)] == [
        ("execute_decision", world["official"].id, d.deadline, f"Исполнить решение «{d.title}»")]
    services.transition_decision(d, "execute", actor=world["official"], comment="Приказ № 12 от 01.12")
    services.transition_decision(d, "verify", actor=world["head"])
    assert d.state == "verified" and d.execution_note == "Приказ № 12 от 01.12"



def test_reviewing_a_report_over_http_says_what_was_decided(rec_cycle, world, make_recommendation, db_session,
                                                           client_for):
    """«Решение по отчёту сохранено.» read the same after «Вернуть» and after «Принять»."""
    from app.followup import services

    item = item_of(make_recommendation(rec_cycle, [world["school_a"]], issue=True), world["school_a"])
    services.acknowledge_item(item, actor=world["director_a"], password=PASSWORD)
    services.start_item(item, actor=world["director_a"], action_plan="Педсовет", planned_completion=item.due_date)
    services.report_item(item, actor=world["director_a"], report="Проведён педсовет", files=[evidence()])
    db_session.commit()
    official = client_for(world["official"])
    shown = official.post(f"/followup/items/{item.id}/review", follow_redirects=True, data={
        "trigger": "return", "comment": "Приложите протокол", "version": str(item.version)}).get_data(as_text=True)
    assert "Рекомендация: отчёт возвращён на доработку." in shown
    services.report_item(item, actor=world["director_a"], report="Протокол приложен", files=[evidence("p.pdf")])
    db_session.commit()
    shown = official.post(f"/followup/items/{item.id}/review", follow_redirects=True, data={
        "trigger": "accept", "version": str(item.version)}).get_data(as_text=True)
    assert "Рекомендация: исполнение принято." in shown

def test_a_measure_page_says_what_marking_it_done_needs_before_the_click(rec_cycle, world, db_session, client_for):
    """«Отметить выполненным» stood above the form that attaches the proof and was refused after the click: the page
    says first what it needs, and says nothing once the proof is attached."""
    from app.followup import services

    measure = _measure(rec_cycle, world, start=0)  # started today: its date is no reason to wait
    services.transition_measure(measure, "start", actor=world["official"])
    db_session.commit()
    official = client_for(world["official"])
    shown = official.get(f"/followup/measures/{measure.id}").get_data(as_text=True)
    assert 'id="complete-problems"' in shown and "Прикрепите подтверждение проведения" in shown
    services.attach_to(measure, stream=evidence()[0], filename="protokol.pdf", kind="protocol", actor=world["official"])
    db_session.commit()
    assert 'id="complete-problems"' not in official.get(f"/followup/measures/{measure.id}").get_data(as_text=True)

def test_a_decision_adopted_over_http_says_it_is_adopted(rec_cycle, world, db_session, client_for):
    """«Состояние решения изменено.» did not say to what: the head reads «Решение: принято.»"""
    from app.followup import services

    d = services.create_decision(rec_cycle, actor=world["official"], today=date.today(), text="Поощрить педагогов",
                                 kind="incentive", deadline=date.today() + timedelta(days=30),
                                 responsible_id=world["official"].id, participants="Педагоги ОО",
                                 finding_ids=[services.cycle_findings(rec_cycle)[0].id])
    db_session.commit()
    response = client_for(world["head"]).post(f"/followup/decisions/{d.id}/transition",
                                              data={"trigger": "adopt", "version": str(d.version)},
                                              follow_redirects=True)
    assert "Решение: принято." in response.get_data(as_text=True)


# --- the demo fillers -------------------------------------------------------------------------------------

def test_demo_fillers_give_the_stages_real_content(rec_cycle, world, db_session):
    from app.demo import fill_stage
    from app.followup import services

    fill_stage(rec_cycle.stage("REC"), official=world["official"], head=world["head"])
    recs = services.recommendations_of_cycle(rec_cycle)
    findings = services.cycle_findings(rec_cycle)
    assert recs and all(not r.is_draft for r in recs)
    assert {f.id for r in recs for f in r.findings} == {f.id for f in findings}
    states = sorted(i.state for r in recs for i in r.items)
    assert "accepted" in states and "in_progress" in states
    assert any(services.is_item_overdue(i) for r in recs for i in r.items)
    from tests.fixtures_followup import approve

    approve(rec_cycle.stage("REC"), world)
    fill_stage(rec_cycle.stage("MEAS"), official=world["official"], head=world["head"])
    measures = services.measures_of_cycle(rec_cycle)
    assert {m.state for m in measures} == {"planned", "in_progress", "done", "verified"}
    assert all(m.indicators for m in measures)
    assert {r.id for m in measures for r in m.recommendations} == {r.id for r in recs}
    approve(rec_cycle.stage("MEAS"), world)
    fill_stage(rec_cycle.stage("DEC"), official=world["official"], head=world["head"])
    decisions = services.decisions_of_cycle(rec_cycle)
    assert "incentive" in {d.kind for d in decisions} and all(d.participants and d.basis for d in decisions)
    db_session.commit()


def test_stage_pages_show_recommendations_roadmap_and_decisions(rec_cycle, world, db_session, client_for):
    from app.demo import fill_stage
    from tests.fixtures_followup import approve

    for code in ("REC", "MEAS", "DEC"):
        fill_stage(rec_cycle.stage(code), official=world["official"], head=world["head"])
        if code != "DEC":
            approve(rec_cycle.stage(code), world)
    db_session.commit()
    client = client_for(world["official"])
    rec_page = client.get(f"/stages/{rec_cycle.stage('REC').id}").get_data(as_text=True)
    assert 'id="rollup"' in rec_page and 'data-organisation="SCH-A"' in rec_page
    meas_page = client.get(f"/stages/{rec_cycle.stage('MEAS').id}").get_data(as_text=True)
    assert 'id="roadmap"' in meas_page and "Методический десант" in meas_page and "просрочено" in meas_page
    dec_page = client.get(f"/stages/{rec_cycle.stage('DEC').id}").get_data(as_text=True)
    assert 'id="decisions"' in dec_page and "Поощрение" in dec_page and 'id="decision-order-form"' in dec_page


def test_new_recommendation_and_measure_over_http(rec_cycle, world, db_session, client_for):
    from app.followup.models import Measure, Recommendation
    from app.followup import services

    client = client_for(world["official"])
    finding = services.cycle_findings(rec_cycle)[0]
    url = f"/followup/cycles/{rec_cycle.id}/recommendations/new"
    assert client.get(url).status_code == 200
    before = snapshot(db_session)
    response = client.post(url, data={"text": "Текст", "addressee_group": "organisations",
                                      "response_deadline": (date.today() + timedelta(days=5)).isoformat(),
                                      "finding_ids": [str(finding.id)]})
    assert response.status_code == 422 and "Не выбран ни один адресат" in response.get_data(as_text=True)
    assert snapshot(db_session) == before
    response = client.post(url, data={"text": "Текст", "addressee_group": "directors",
                                      "response_deadline": (date.today() + timedelta(days=5)).isoformat(),
                                      "finding_ids": [str(finding.id)]})
    assert response.status_code == 302
    rec = db_session.scalar(select(Recommendation).where(Recommendation.cycle_id == rec_cycle.id))
    assert len(rec.items) == 2

    url = f"/followup/cycles/{rec_cycle.id}/measures/new"
    data = {"title": "Семинар", "kind": "training", "responsible_id": str(world["methodologist"].id),
            "start_date": measure_dates(2, 9)["end_date"].isoformat(),
            "end_date": measure_dates(2, 9)["start_date"].isoformat(), "recommendation_ids": [str(rec.id)]}
    before = snapshot(db_session)
    response = client.post(url, data=data)
    assert response.status_code == 422 and "раньше даты начала" in response.get_data(as_text=True)
    assert snapshot(db_session) == before
    response = client.post(url, data={**data, **{k: v.isoformat() for k, v in measure_dates(9, 19).items()}})
    assert response.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(Measure).where(Measure.cycle_id == rec_cycle.id)) == 1
    # a change of course says what the measure now is («Состояние мероприятия изменено» did not)
    measure = db_session.scalar(select(Measure).where(Measure.cycle_id == rec_cycle.id))
    response = client.post(f"/followup/measures/{measure.id}/transition",
                           data={"trigger": "start", "version": str(measure.version)}, follow_redirects=True)
    assert "Мероприятие: выполняется." in response.get_data(as_text=True)


def test_a_deputy_signs_off_during_the_directors_leave_and_the_audit_says_so(rec_cycle, world, make_recommendation,
                                                                             db_session):
    from app.audit.models import AuditEvent
    from app.core.errors import PermissionDenied
    from app.deadlines.standins import create_stand_in
    from app.followup import services

    rec = make_recommendation(rec_cycle, [world["school_a"]], issue=True)
    item = rec.items[0]
    with pytest.raises(PermissionDenied):
        services.acknowledge_item(item, actor=world["staff_a"], password=PASSWORD)
    db_session.rollback()
    create_stand_in(absent=world["director_a"], deputy=world["staff_a"], start=date.today(),
                    end=date.today() + timedelta(days=7), reason="отпуск", actor=world["director_a"],
                    today=date.today())
    services.acknowledge_item(item, actor=world["staff_a"], password=PASSWORD)
    db_session.commit()
    assert item.state == "acknowledged" and item.acknowledged_by_id == world["staff_a"].id
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.object_type == "recommendation_item",
                                                       AuditEvent.action == "acknowledge"))
    assert event.on_behalf_of_id == world["director_a"].id


def test_a_draft_is_edited_and_re_expanded_an_issued_one_is_frozen(rec_cycle, world, make_recommendation,
                                                                   db_session):
    from app.core.errors import InvalidTransition
    from app.followup import services

    rec = make_recommendation(rec_cycle, [world["school_a"]])
    kept = rec.items[0].id
    new_date = date.today() + timedelta(days=40)
    services.update_recommendation(rec, actor=world["official"], today=date.today(), text="Уточнённый текст",
                                   addressee_group="directors", response_deadline=new_date,
                                   finding_ids=[f.id for f in rec.findings], expected_version=rec.version)
    db_session.commit()
    assert sorted(i.organisation.code for i in rec.items) == ["SCH-A", "SCH-B"]
    assert kept in {i.id for i in rec.items} and {i.due_date for i in rec.items} == {new_date}
    register_letters(rec, world)
    services.issue_recommendation(rec, actor=world["head"], today=date.today())
    db_session.commit()
    before = snapshot(db_session)
    with pytest.raises(InvalidTransition, match="уже направлена"):
        services.update_recommendation(rec, actor=world["official"], today=date.today(), text="Ещё раз",
                                       addressee_group="directors", response_deadline=new_date,
                                       finding_ids=[f.id for f in rec.findings])
    db_session.rollback()
    assert snapshot(db_session) == before


def test_the_directors_inbox_links_to_the_item_with_its_due_date(rec_cycle, world, make_recommendation, db_session,
                                                                 client_for):
    rec = make_recommendation(rec_cycle, [world["school_a"]], issue=True, days=12)
    item = rec.items[0]
    (task,) = open_tasks(db_session, item)
    director_a = client_for(world["director_a"])
    page = director_a.get("/tasks/").get_data(as_text=True)
    assert f"/tasks/{task.id}" in page and "Ознакомиться с рекомендацией" in page
    assert item.due_date.strftime("%d.%m.%Y") in page
    assert director_a.get(f"/tasks/{task.id}").headers["Location"].endswith(f"/followup/items/{item.id}")
    assert f"/tasks/{task.id}" not in client_for(world["director_b"]).get("/tasks/").get_data(as_text=True)


def test_a_directors_list_names_each_items_cycle_and_mechanism(rec_cycle, world, make_recommendation, client_for):
    """Issue 13: identical texts from several cycles are told apart by their cycle and mechanism."""
    rec = make_recommendation(rec_cycle, issue=True)
    page = client_for(world["director_a"]).get("/followup/my").get_data(as_text=True)
    row = page[page.index(f'data-item="{item_of(rec, world["school_a"]).id}"'):]
    row = row[:row.index("</tr>")]
    mechanism = rec_cycle.track.mechanism
    assert f"{mechanism.code}, {rec_cycle.owner.display_name}, {rec_cycle.period}" in row
    assert mechanism.title in row


def test_a_schools_copy_cites_only_the_findings_about_itself(rec_cycle, world, make_recommendation, client_for,
                                                           db_session):
    """Issue 13: another school's problems stay with the owner; the owner's people open every finding."""
    rec = make_recommendation(rec_cycle, issue=True)
    finding = rec.findings[0]
    finding.organisations = [world["school_b"]]
    db_session.commit()
    item_a = item_of(rec, world["school_a"])
    page_a = client_for(world["director_a"]).get(f"/followup/items/{item_a.id}").get_data(as_text=True)
    assert f'data-finding="{finding.id}"' not in page_a and finding.problem not in page_a
    # …but the copy still says it rests on the analysis: «Основание —» read as a recommendation without a basis
    basis = page_a[page_a.index("Основание</dt>"):page_a.index("Ознакомлен</dt>")]
    assert "Выводы анализа о других организациях (не показываются)" in basis and "—" not in basis
    page_b = client_for(world["director_b"]).get(f"/followup/items/{item_of(rec, world['school_b']).id}")
    assert f'data-finding="{finding.id}"' in page_b.get_data(as_text=True)
    owner = client_for(world["official"]).get(f"/followup/items/{item_a.id}").get_data(as_text=True)
    assert f'<a href="/analysis/findings/{finding.id}">{finding.problem}</a>' in owner

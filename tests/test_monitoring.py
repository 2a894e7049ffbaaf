"""Data requests and submissions through the services and the engine: the workflow, tasks, audit,
validation of values and the monitoring stage's guard. HTTP pages are in test_monitoring_views.py."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from app.audit.models import AuditEvent
from app.core.errors import GuardFailed, InvalidTransition, PermissionDenied, StaleObject, ValidationFailed
from app.monitoring import services
from app.monitoring.models import DataRequest, IndicatorValue, Submission
from app.monitoring.values import check_value, parse_number, save_values
from app.tasks.models import Task
from tests.conftest import fill_goal, fill_indicators, fill_method
from workflows import engine

FUTURE = date.today() + timedelta(days=14)


# --- helpers shared with test_monitoring_views.py --------------------------------------------------

def open_monitoring_stage(cycle, editor, approver):
    """Fill and approve GOAL, IND (plus a headcount indicator N-01, unit «чел.») and METH: MON opens."""
    from app.cycles.models import Indicator
    from app.cycles.services import save_content

    fill_goal(cycle, editor)
    _approve(cycle.stage("GOAL"), editor, approver)
    fill_indicators(cycle, editor)
    save_content(Indicator, cycle, actor=editor, data={
        "code": "N-01", "name": "Численность педагогов", "unit": "чел.", "definition": "по штатному расписанию",
        "group_name": cycle.track.mechanism.indicator_groups[0].name, "source": "ОО-1", "collection_method": "отчёт",
        "periodicity": "ежегодно", "baseline": 10, "target": 12, "direction": "up", "responsible": "Петрова М.И."})
    fill_method(cycle, editor)
    _approve(cycle.stage("IND"), editor, approver)
    _approve(cycle.stage("METH"), editor, approver)
    assert cycle.stage("MON").state == "draft"
    return cycle


def _approve(stage, editor, approver):
    engine.fire(stage, "submit", actor=editor)
    engine.fire(stage, "approve", actor=approver)


def make_request(cycle, actor, orgs, *, indicators=None, deadline=FUTURE, title="Сведения о результатах"):
    indicators = indicators if indicators is not None else cycle.indicators[:2] + [cycle_indicator(cycle, "N-01")]
    return services.create_request(cycle, title=title, period=cycle.period, deadline=deadline,
                                   indicator_ids=[i.id for i in indicators], organisation_ids=[o.id for o in orgs],
                                   actor=actor, today=date.today())


def cycle_indicator(cycle, code):
    return next(i for i in cycle.indicators if i.code == code)


def submission_of(request, org):
    return next(s for s in request.submissions if s.organisation_id == org.id)


def value_rows(submission, values: dict, **overrides):
    """v1 rows for the submission: {indicator code: value}."""
    return [{"indicator_code": code, "organisation_code": submission.organisation.code,
             "period": submission.request.period, "value": value, "comment": None, **overrides}
            for code, value in values.items()]


def fill_all(submission, actor, value="50"):
    codes = {item.indicator.code: value for item in submission.request.items}
    report = save_values(value_rows(submission, codes), actor=actor, source="form", submission=submission)
    assert report.ok, report.lines()
    return report


def open_tasks(session, obj):
    return session.scalars(select(Task).where(Task.object_type == obj.audit_type, Task.object_id == obj.id,
                                              Task.state == "open").order_by(Task.id)).all()


def events(session, obj, action=None):
    query = select(AuditEvent).where(AuditEvent.object_type == obj.audit_type, AuditEvent.object_id == obj.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return session.scalars(query.order_by(AuditEvent.id)).all()


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


# --- fixtures --------------------------------------------------------------------------------------

# --- creating a request ----------------------------------------------------------------------------

def test_request_needs_the_monitoring_stage_open(world, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    _approve(cycle.stage("GOAL"), world["official"], world["head"])
    fill_indicators(cycle, world["official"])
    assert cycle.stage("MON").state == "waiting"
    with pytest.raises(ValidationFailed, match="пока этап «Мониторинг показателей»"):
        make_request(cycle, world["official"], [world["school_a"]], indicators=cycle.indicators[:1])
    assert count(db_session, DataRequest) == 0


def test_addressees_are_the_institutions_of_the_owner_subtree(world, mon, make_org):
    kindergarten = make_org("preschool", parent=world["mun"], code="DOU-1", name="Детский сад № 1")
    make_org("methodical_centre", parent=world["mun"], code="IMC", name="ИМЦ")
    other_mun = make_org("municipality", parent=world["region"], code="MUN-X")
    make_org("school", parent=other_mun, code="SCH-X")
    codes = [o.code for o in services.addressee_choices(mon)]
    assert sorted(codes) == sorted(["SCH-A", "SCH-B", kindergarten.code])


@pytest.mark.parametrize("change, problem", [
    ({"indicator_ids": []}, "Выберите хотя бы один показатель."),
    ({"organisation_ids": []}, "Выберите хотя бы одну организацию-адресата."),
    ({"deadline": date.today() - timedelta(days=2)}, "Срок представления сведений не может быть в прошлом."),
    ({"title": "   "}, "Укажите название запроса."),
    ({"organisation_ids": "foreign"}, "Выбрана организация вне подведомственных организаций владельца цикла."),
    ({"organisation_ids": "municipality"}, "Выбрана организация вне подведомственных организаций владельца цикла."),
    ({"indicator_ids": "foreign"}, "Выбран показатель, не относящийся к этому циклу."),
])
def test_bad_request_choices_are_refused_and_nothing_is_written(world, mon, make_org, make_cycle, db_session,
                                                                change, problem):
    data = {"title": "Сведения", "period": mon.period, "deadline": FUTURE,
            "indicator_ids": [mon.indicators[0].id], "organisation_ids": [world["school_a"].id]}
    if change.get("organisation_ids") == "foreign":
        other = make_org("municipality", parent=world["region"])
        change = {"organisation_ids": [make_org("school", parent=other).id]}
    elif change.get("organisation_ids") == "municipality":
        change = {"organisation_ids": [world["mun"].id]}
    elif change.get("indicator_ids") == "foreign":
        other_cycle = make_cycle(world["mun"], world["official"], mechanism="M1.2")
        fill_goal(other_cycle, world["official"])
        _approve(other_cycle.stage("GOAL"), world["official"], world["head"])
        fill_indicators(other_cycle, world["official"])
        change = {"indicator_ids": [other_cycle.indicators[0].id]}
    data.update(change)
    before = (count(db_session, DataRequest), count(db_session, Submission), count(db_session, AuditEvent))
    with pytest.raises(ValidationFailed) as exc:
        services.create_request(mon, actor=world["official"], today=date.today(), **data)
    assert problem in exc.value.problems
    assert (count(db_session, DataRequest), count(db_session, Submission), count(db_session, AuditEvent)) == before


@pytest.mark.parametrize("actor", ["director_a", "methodologist", "auditor", "staff_a"])
def test_only_the_owner_official_or_head_creates_requests(world, mon, actor):
    with pytest.raises(PermissionDenied):
        make_request(mon, world[actor], [world["school_a"]])


def test_draft_has_pending_addressees_without_tasks(world, mon, db_session):
    req = make_request(mon, world["official"], [world["school_a"], world["school_b"]])
    assert req.state == "draft" and req.sent_at is None
    assert sorted(s.organisation.code for s in req.submissions) == ["SCH-A", "SCH-B"]
    assert all(s.state == "pending" and not open_tasks(db_session, s) for s in req.submissions)
    (created,) = events(db_session, req, "create")
    assert '"addressees":["SCH-A","SCH-B"]' in created.after


# --- sending, delegating, tasks ----------------------------------------------------------------------

def test_sending_opens_a_task_for_each_addressee_director(world, sent, db_session):
    assert sent.state == "sent" and sent.sent_at is not None
    for org, director in ((world["school_a"], world["director_a"]), (world["school_b"], world["director_b"])):
        sub = submission_of(sent, org)
        (task,) = open_tasks(db_session, sub)
        assert (task.kind, task.assignee_id, task.due_date) == ("fill_submission", director.id, FUTURE)
        # the deadline is the task's due date, shown beside the title, not repeated in it
        assert task.title == f"Представить сведения по запросу «{sent.title}»"
        (issued,) = events(db_session, sub, "issue")
        assert issued.actor_role == "system" and issued.organisation_id == org.id
    (send,) = events(db_session, sent, "send")
    assert (send.from_state, send.to_state, send.actor_id) == ("draft", "sent", world["official"].id)


def test_a_sent_request_cannot_be_changed_or_deleted(world, sent):
    with pytest.raises(InvalidTransition):
        services.update_request(sent, title="x", period=sent.period, deadline=FUTURE, indicator_ids=[],
                                organisation_ids=[], actor=world["official"], today=date.today())
    with pytest.raises(InvalidTransition):
        services.delete_request(sent, actor=world["official"])
    with pytest.raises(InvalidTransition, match="недоступно"):
        services.transition_request(sent, "send", actor=world["official"], today=date.today())


def test_sending_with_a_deadline_that_has_passed_is_refused(world, mon, db_session):
    req = make_request(mon, world["official"], [world["school_a"]])
    db_session.execute(update(DataRequest).where(DataRequest.id == req.id)
                       .values(deadline=date.today() - timedelta(days=3)))
    db_session.expire_all()
    with pytest.raises(ValidationFailed, match="Срок представления сведений уже прошёл"):
        services.transition_request(req, "send", actor=world["official"], today=date.today())
    assert req.state == "draft"


def test_director_delegates_to_staff_and_the_task_moves(world, sent, db_session):
    sub = submission_of(sent, world["school_a"])
    (director_task,) = open_tasks(db_session, sub)
    services.delegate_submission(sub, delegate=world["staff_a"], actor=world["director_a"])
    assert sub.delegate_id == world["staff_a"].id and sub.state == "pending"
    (task,) = open_tasks(db_session, sub)
    assert task.assignee_id == world["staff_a"].id and task.kind == "fill_submission"
    assert db_session.get(Task, director_task.id).state == "closed"
    (event,) = events(db_session, sub, "delegate")
    assert '"delegate_id":null' in event.before and f'"delegate_id":{world["staff_a"].id}' in event.after
    # The delegate may now fill in and submit; taking it back moves the task to the director again.
    fill_all(sub, world["staff_a"])
    services.delegate_submission(sub, delegate=None, actor=world["director_a"])
    (task,) = open_tasks(db_session, sub)
    assert task.assignee_id == world["director_a"].id
    with pytest.raises(PermissionDenied):
        save_values(value_rows(sub, {"I-01": "1"}), actor=world["staff_a"], source="form", submission=sub)


@pytest.mark.parametrize("actor, delegate, error", [
    ("staff_a", "staff_a", PermissionDenied),       # only the director delegates
    ("director_b", "staff_a", PermissionDenied),    # not their school
    ("official", "staff_a", PermissionDenied),
    ("director_a", "director_b", ValidationFailed),  # not a staff member of school A
])
def test_delegation_rules(world, sent, actor, delegate, error):
    sub = submission_of(sent, world["school_a"])
    with pytest.raises(error):
        services.delegate_submission(sub, delegate=world[delegate], actor=world[actor])
    assert sub.delegate_id is None


def test_staff_without_delegation_cannot_fill_or_submit(world, sent):
    sub = submission_of(sent, world["school_a"])
    with pytest.raises(PermissionDenied):
        save_values(value_rows(sub, {"I-01": "10"}), actor=world["staff_a"], source="form", submission=sub)
    fill_all(sub, world["director_a"])
    with pytest.raises(PermissionDenied):
        services.transition_submission(sub, "submit", actor=world["staff_a"])
    assert sub.state == "pending"


# --- the answer's workflow -------------------------------------------------------------------------------

def test_full_flow_submit_return_resubmit_accept_not_provided_close(world, sent, db_session):
    official, sub_a, sub_b = world["official"], submission_of(sent, world["school_a"]), submission_of(
        sent, world["school_b"])

    # Nothing filled in: the submit guard names every missing indicator.
    with pytest.raises(GuardFailed) as exc:
        services.transition_submission(sub_a, "submit", actor=world["director_a"])
    assert "Не указано значение показателя N-01 «Численность педагогов»." in exc.value.problems
    assert len(exc.value.problems) == 3

    fill_all(sub_a, world["director_a"], value="12")
    services.transition_submission(sub_a, "submit", actor=world["director_a"])
    assert sub_a.state == "submitted" and sub_a.submitted_by_id == world["director_a"].id and sub_a.submitted_at
    (review,) = open_tasks(db_session, sub_a)
    assert (review.kind, review.assignee_id) == ("review_submission", official.id)

    # Values are locked while the answer is under review.
    with pytest.raises(InvalidTransition, match="на проверке"):
        fill_all(sub_a, world["director_a"], value="13")

    with pytest.raises(ValidationFailed, match="обязателен комментарий"):
        services.transition_submission(sub_a, "return", actor=official, comment="  ")
    services.transition_submission(sub_a, "return", actor=official, comment="Проверьте численность педагогов")
    assert sub_a.state == "returned" and sub_a.return_comment == "Проверьте численность педагогов"
    (rework,) = open_tasks(db_session, sub_a)
    assert (rework.kind, rework.assignee_id) == ("rework_submission", world["director_a"].id)
    assert db_session.get(Task, review.id).state == "closed"

    fill_all(sub_a, world["director_a"], value="14")
    services.transition_submission(sub_a, "resubmit", actor=world["director_a"])
    services.transition_submission(sub_a, "accept", actor=official)
    assert sub_a.state == "accepted" and sub_a.accepted_at is not None
    assert open_tasks(db_session, sub_a) == []

    # School B never answers: the official may not close yet, then marks it not provided with a reason.
    with pytest.raises(GuardFailed) as exc:
        services.transition_request(sent, "close", actor=official, today=date.today())
    assert exc.value.problems == ["Не все адресаты ответили: ожидает ответа — 1. Примите сведения или отметьте их "
                                  "как не представленные."]
    with pytest.raises(ValidationFailed, match="обязателен комментарий"):
        services.transition_submission(sub_b, "mark_not_provided", actor=official)
    services.transition_submission(sub_b, "mark_not_provided", actor=official, comment="Школа на ремонте")
    assert sub_b.state == "not_provided" and sub_b.not_provided_reason == "Школа на ремонте"
    assert open_tasks(db_session, sub_b) == []
    (close_task,) = open_tasks(db_session, sent)
    assert close_task.kind == "close_request" and close_task.assignee_id == official.id

    services.transition_request(sent, "close", actor=official, today=date.today())
    assert sent.state == "closed" and sent.closed_at is not None
    assert open_tasks(db_session, sent) == []
    db_session.commit()

    trail = [(e.action, e.from_state, e.to_state) for e in events(db_session, sub_a)]
    assert trail == [("issue", "pending", "pending"), ("submit", "pending", "submitted"),
                     ("return", "submitted", "returned"), ("resubmit", "returned", "submitted"),
                     ("accept", "submitted", "accepted")]
    value = db_session.scalar(select(IndicatorValue).where(IndicatorValue.organisation_id == world["school_a"].id,
                                                           IndicatorValue.indicator_id == cycle_indicator(
                                                               sent.cycle, "N-01").id))
    assert value.value == Decimal("14") and value.submission_id == sub_a.id and value.source == "form"


@pytest.mark.parametrize("trigger, actor", [
    ("accept", "director_a"),      # the addressee's director holds a role over the school, not over the owner
    ("return", "director_a"),
    ("accept", "staff_a"),
    ("accept", "methodologist"),
    ("accept", "auditor"),
])
def test_only_the_owner_official_or_head_reviews(world, sent, trigger, actor):
    sub = submission_of(sent, world["school_a"])
    fill_all(sub, world["director_a"])
    services.transition_submission(sub, "submit", actor=world["director_a"])
    with pytest.raises(PermissionDenied):
        services.transition_submission(sub, trigger, actor=world[actor], comment="комментарий")
    assert sub.state == "submitted"


def test_head_may_accept_too(world, sent):
    sub = submission_of(sent, world["school_a"])
    fill_all(sub, world["director_a"])
    services.transition_submission(sub, "submit", actor=world["director_a"])
    services.transition_submission(sub, "accept", actor=world["head"])
    assert sub.state == "accepted"


def test_official_cannot_submit_for_the_school(world, sent):
    sub = submission_of(sent, world["school_a"])
    with pytest.raises(PermissionDenied):
        fill_all(sub, world["official"])
    with pytest.raises(PermissionDenied):
        services.transition_submission(sub, "submit", actor=world["official"])


def test_stale_version_is_refused(world, sent, db_session):
    sub = submission_of(sent, world["school_a"])
    seen = sub.version
    fill_all(sub, world["director_a"])  # saving values is an edit of the answer: its version moves
    assert sub.version > seen
    with pytest.raises(StaleObject):
        services.transition_submission(sub, "submit", actor=world["director_a"], expected_version=seen)
    assert sub.state == "pending"
    services.transition_submission(sub, "submit", actor=world["director_a"], expected_version=sub.version)
    assert sub.state == "submitted"


def test_overdue_is_computed_from_the_deadline_and_the_state(world, sent, db_session):
    sub_a, sub_b = submission_of(sent, world["school_a"]), submission_of(sent, world["school_b"])
    later = FUTURE + timedelta(days=1)
    assert not services.is_overdue(sub_a, date.today())
    assert services.is_overdue(sub_a, later) and services.is_overdue(sub_b, later)
    fill_all(sub_a, world["director_a"])
    services.transition_submission(sub_a, "submit", actor=world["director_a"])
    assert not services.is_overdue(sub_a, later)
    grid = services.grid(sent, later)
    assert grid.overdue == 1 and [r.overdue for r in grid.rows] == [False, True]
    assert grid.counts["submitted"] == 1 and grid.counts["pending"] == 1


def test_reminder_audits_renews_the_task_and_stamps_the_answer(world, sent, db_session):
    sub_a, sub_b = submission_of(sent, world["school_a"]), submission_of(sent, world["school_b"])
    fill_all(sub_b, world["director_b"])
    services.transition_submission(sub_b, "submit", actor=world["director_b"])
    (old_task,) = open_tasks(db_session, sub_a)
    assert services.remind(sent, actor=world["official"]).sent == 1  # only the one who has not answered
    (new_task,) = open_tasks(db_session, sub_a)
    assert new_task.id != old_task.id and db_session.get(Task, old_task.id).state == "closed"
    assert new_task.assignee_id == world["director_a"].id
    assert sub_a.last_reminded_at is not None and sub_b.last_reminded_at is None
    (event,) = events(db_session, sub_a, "remind")
    assert event.actor_id == world["official"].id and event.actor_role == "official"
    with pytest.raises(PermissionDenied):
        services.remind(sent, actor=world["director_a"])


def test_an_addressee_reminded_within_twelve_hours_is_not_reminded_again(world, sent, db_session):
    """Each «Напомнить» renewed every silent addressee's task and wrote to them: a few clicks flooded a school's list
    with the same request (attack 10). An addressee reminded within 12 hours is skipped; when all are, the click is
    refused in Russian and nothing is written."""
    from datetime import timedelta

    from app.core.errors import ValidationFailed
    from app.core.timeutil import utcnow
    from app.monitoring import services

    assert services.remind(sent, actor=world["official"]) == services.Reminded(sent=2, skipped=0)
    db_session.commit()
    reminded = len(events(db_session, sent.submissions[0], "remind"))
    with pytest.raises(ValidationFailed, match="уже напоминали за последние 12 часов"):
        services.remind(sent, actor=world["official"])
    db_session.rollback()
    assert len(events(db_session, sent.submissions[0], "remind")) == reminded
    sent.submissions[0].last_reminded_at = utcnow() - timedelta(hours=13)
    assert services.remind(sent, actor=world["official"]) == services.Reminded(sent=1, skipped=1)


def test_reminding_when_everyone_answered_is_refused(world, sent):
    for org in ("school_a", "school_b"):
        services.transition_submission(submission_of(sent, world[org]), "mark_not_provided", actor=world["official"],
                                       comment="нет данных")
    with pytest.raises(ValidationFailed, match="все ответили"):
        services.remind(sent, actor=world["official"])


# --- values: validation per cell ------------------------------------------------------------------------

@pytest.mark.parametrize("raw, unit, expected", [
    ("12,5", "%", Decimal("12.5")), ("1 200", "чел.", Decimal("1200")), (7, "ед.", Decimal(7)),
    (12.25, "%", Decimal("12.25")), ("75%", "%", Decimal("75")), ("", "%", None), (None, "%", None),
])
def test_numbers_are_parsed_with_a_comma_or_a_point(raw, unit, expected):
    assert parse_number(raw, unit=unit) == (expected, None)


@pytest.mark.parametrize("value, unit, message", [
    ("101", "%", "Значение в процентах должно быть от 0 до 100."),
    ("-0,5", "%", "Значение в процентах должно быть от 0 до 100."),
    ("1,5", "чел.", "Количество (чел.) должно быть целым неотрицательным числом."),
    ("-3", "ед.", "Количество (ед.) должно быть целым неотрицательным числом."),
    ("-1", "балл", "Значение не может быть отрицательным."),
    ("0,12345", "%", "Допускается не более 4 знаков после запятой."),
    ("99999999999", "руб./чел.", "Слишком большое число."),
])
def test_unit_ranges(value, unit, message):
    parsed, error = parse_number(value, unit=unit)
    assert error is None
    assert check_value(parsed, unit) == message


def test_negative_values_allowed_for_other_units():
    assert check_value(Decimal("-2.5"), "п.п.") is None


@pytest.mark.parametrize("row, column, message", [
    ({"value": "много"}, "value", "Ожидается число (например, 75 или 12,5), указано «много»."),
    ({"value": "=B3*2"}, "value", "Формулы не допускаются: введите значение числом."),
    ({"value": "120"}, "value", "Значение в процентах должно быть от 0 до 100."),
    ({"organisation_code": "SCH-B"}, "organisation_code",
     "Организация «SCH-B» не является адресатом этой формы (ожидается «SCH-A»)."),
    ({"period": "2024/25"}, "period", "Период «2024/25» не совпадает с периодом запроса «2025/26»."),
    ({"indicator_code": "I-99"}, "indicator_code", "Показатель «I-99» не входит в запрос «Сведения о результатах»."),
    ({"indicator_code": ""}, "indicator_code", "Не указан код показателя."),
    ({"value": "", "comment": "уточняется"}, "value", "Указан комментарий, но не указано значение."),
])
def test_invalid_cells_are_reported_by_row_and_column_and_nothing_is_saved(world, sent, db_session, row, column,
                                                                          message):
    sub = submission_of(sent, world["school_a"])
    rows = value_rows(sub, {"I-01": "55", "I-02": "60,5"})
    rows[1].update(row)
    before = (count(db_session, IndicatorValue), count(db_session, AuditEvent), sub.version)
    report = save_values(rows, actor=world["director_a"], source="xlsx", submission=sub)
    assert [(e.row, e.column, e.message) for e in report.errors] == [(2, column, message)]
    assert report.saved == 0
    assert report.lines()[0].startswith("Строка 2, столбец «")
    assert (count(db_session, IndicatorValue), count(db_session, AuditEvent), sub.version) == before


def test_duplicate_indicator_rows_are_reported(world, sent):
    sub = submission_of(sent, world["school_a"])
    rows = value_rows(sub, {"I-01": "55"}) + value_rows(sub, {"i-01": "56"})
    report = save_values(rows, actor=world["director_a"], source="form", submission=sub)
    assert [e.text() for e in report.errors] == [
        "Строка 2, столбец «Код показателя»: Показатель «I-01» уже указан в строке 1."]


def test_save_valid_rows_saves_only_the_valid_ones(world, sent, db_session):
    sub = submission_of(sent, world["school_a"])
    rows = value_rows(sub, {"I-01": "55", "I-02": "много", "N-01": "1,5"})
    report = save_values(rows, actor=world["director_a"], source="xlsx", submission=sub, save_valid_rows=True)
    assert report.created == 1 and report.error_rows == {2, 3} and report.saved_partially
    saved = db_session.scalars(select(IndicatorValue).where(IndicatorValue.organisation_id == world["school_a"].id)
                               ).all()
    assert [(v.indicator.code, v.value, v.source) for v in saved] == [("I-01", Decimal("55"), "xlsx")]


def test_upsert_is_audited_with_before_and_after_and_unchanged_rows_write_nothing(world, sent, db_session):
    sub = submission_of(sent, world["school_a"])
    first = save_values(value_rows(sub, {"I-01": "55"}), actor=world["director_a"], source="form", submission=sub)
    assert (first.created, first.updated) == (1, 0)
    value = db_session.scalar(select(IndicatorValue).where(IndicatorValue.organisation_id == world["school_a"].id))
    (created,) = events(db_session, value)
    assert created.action == "create" and created.before is None and '"value":"55.0000"' in created.after
    audited = count(db_session, AuditEvent)
    again = save_values(value_rows(sub, {"I-01": "55,0"}), actor=world["director_a"], source="form", submission=sub)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert count(db_session, AuditEvent) == audited
    changed = save_values(value_rows(sub, {"I-01": "56"}, comment="уточнено"), actor=world["director_a"],
                          source="form", submission=sub)
    assert changed.updated == 1
    update_event = events(db_session, value)[-1]
    assert update_event.action == "update"
    assert '"value":"55.0000"' in update_event.before and '"value":"56.0000"' in update_event.after
    assert value.comment == "уточнено"
    assert count(db_session, IndicatorValue) == 1


def test_api_mode_matches_rows_to_open_submissions_in_scope(world, sent, mon, db_session):
    sub_a = submission_of(sent, world["school_a"])
    rows = value_rows(sub_a, {"I-01": "40"}) + [
        {"indicator_code": "I-01", "organisation_code": "SCH-B", "period": mon.period, "value": "41"},
        {"indicator_code": "I-01", "organisation_code": "NOPE", "period": mon.period, "value": "42"},
        {"indicator_code": "I-01", "organisation_code": "SCH-A", "period": "2030/31", "value": "43"},
    ]
    report = save_values(rows, actor=world["director_a"], source="api")
    # School B exists but is outside director A's scope: the same message as an unknown code.
    assert [(e.row, e.column) for e in report.errors] == [(2, ""), (3, ""), (4, "")]
    assert all("Нет открытого запроса сведений" in e.message for e in report.errors)
    assert report.saved == 0 and count(db_session, IndicatorValue) == 0
    report = save_values(rows[:1], actor=world["director_a"], source="api")
    assert report.ok and report.created == 1
    value = db_session.scalar(select(IndicatorValue))
    assert (value.source, value.submission_id) == ("api", sub_a.id)


# --- the monitoring stage's guard ---------------------------------------------------------------------------

def _mon_problems(cycle):
    return engine.check_guards(cycle.stage("MON"), "submit")


def test_monitoring_stage_needs_a_closed_request(world, mon, db_session):
    from tests.fixtures_documents import stage_document_drafts

    stage = mon.stage("MON")
    stage_document_drafts(stage, world["official"])  # the monitoring order: the documents guard is not under test
    assert _mon_problems(mon) == ["Не создано ни одного запроса сведений."]
    with pytest.raises(GuardFailed):
        engine.fire(stage, "submit", actor=world["official"])

    req = make_request(mon, world["official"], [world["school_a"], world["school_b"]], title="Кадры")
    assert _mon_problems(mon) == ["Запрос «Кадры» не направлен адресатам (черновик): направьте или удалите его."]

    services.transition_request(req, "send", actor=world["official"], today=date.today())
    sub_a, sub_b = submission_of(req, world["school_a"]), submission_of(req, world["school_b"])
    fill_all(sub_a, world["director_a"])
    services.transition_submission(sub_a, "submit", actor=world["director_a"])
    assert _mon_problems(mon) == ["Запрос «Кадры» не закрыт: ответили 0 из 2 адресатов (ожидает ответа — 1, "
                                  "на проверке — 1)."]
    services.transition_submission(sub_a, "accept", actor=world["official"])
    services.transition_submission(sub_b, "mark_not_provided", actor=world["official"], comment="Нет связи")
    assert _mon_problems(mon) == ["Запрос «Кадры»: все адресаты ответили, закройте запрос."]
    with pytest.raises(GuardFailed):
        engine.fire(stage, "submit", actor=world["official"])
    assert stage.state == "draft"

    services.transition_request(req, "close", actor=world["official"], today=date.today())
    assert _mon_problems(mon) == []
    engine.fire(stage, "submit", actor=world["official"])
    assert stage.state == "on_review"
    # Once the stage is on review, no new request can be made.
    with pytest.raises(ValidationFailed):
        make_request(mon, world["official"], [world["school_a"]])


def test_demo_values_lie_near_the_baseline_and_a_head_count_is_shared_by_the_organisations():
    # a municipality's 23 pupils on the register came back as 73: each school sent a number up to 120
    import random
    from types import SimpleNamespace

    from app.monitoring.demo import sample_value

    rng = random.Random(1)
    count = SimpleNamespace(unit="чел.", baseline=30, direction="down")
    sums = [sum(int(sample_value(count, rng, 3)) for _ in range(3)) for _ in range(200)]
    assert 20 <= min(sums) and max(sums) <= 40
    share = SimpleNamespace(unit="%", baseline=60.5, direction="up")
    values = [float(sample_value(share, rng).replace(",", ".")) for _ in range(200)]
    assert 57.5 <= min(values) and max(values) <= 69.5 and sum(values) / len(values) > 60.5


@pytest.mark.parametrize("sent, skipped, message", [
    (3, 0, "Напоминание отправлено 3 адресатам."),
    (21, 2, "Напоминание отправлено 21 адресату; 2 адресата пропущены: им напоминали менее 12 часов назад."),
    (5, 11, "Напоминание отправлено 5 адресатам; 11 адресатов пропущены: им напоминали менее 12 часов назад."),
])
def test_the_reminder_message_agrees_in_number(sent, skipped, message):
    from app.monitoring.services import Reminded

    assert Reminded(sent=sent, skipped=skipped).message == message

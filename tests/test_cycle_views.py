"""HTTP-level tests of the cycle, stage and stage-content pages: the happy path through the first
stage, refusal of bad input (Russian message, 4xx, nothing written), workflow refusals, stale forms,
role visibility and «начать следующий период»."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, fill_goal, fill_indicators, fill_method, track_of

SUMMARY_STAGES = ("MON", "ANL", "REC", "MEAS", "DEC", "EFF")
STALE = "изменён другим пользователем, обновите страницу"


# --- helpers ---------------------------------------------------------------------------------------

def page(response) -> str:
    """Response body with HTML entities decoded, so quotes in messages compare as typed."""
    return html.unescape(response.get_data(as_text=True))


def hidden_version(response, action: str | None = None) -> int:
    """The optimistic-lock version the page handed to a form: the one posting to `action`, or the first."""
    body = response.get_data(as_text=True)
    if action is not None:
        start = body.index(f'action="{action}"')
        body = body[start:body.index("</form>", start)]
    match = re.search(r'<input[^>]*name="version"[^>]*value="(\d+)"', body)
    assert match, f"no version field in the form posting to {action}"
    return int(match.group(1))


def row_counts(db_session) -> dict[str, int]:
    from app.audit.models import AuditEvent
    from app.cycles.models import CollectionMethod, Cycle, Goal, Indicator, Stage
    from app.tasks.models import Task

    return {m.__tablename__: db_session.scalar(select(func.count()).select_from(m))
            for m in (Cycle, Stage, Goal, Indicator, CollectionMethod, AuditEvent, Task)}


def audit_actions(db_session, cycle_id) -> list[str]:
    from app.audit.models import AuditEvent

    return list(db_session.scalars(select(AuditEvent.action).where(AuditEvent.cycle_id == cycle_id)
                                   .order_by(AuditEvent.id)))


def today(app):
    from app.core.timeutil import today_in

    return today_in(app.config["APP_TIMEZONE"])


def goal_form(**overrides) -> dict:
    data = {"direction": "Развитие добровольчества",
            "statement": "Создание условий для развития добровольчества обучающихся",
            "justification": "Доля вовлечённых обучающихся 12 % при региональной 25 %",
            "realism": "Есть ресурсный центр и опыт проведения акций",
            "parent_goal_id": "0"}
    data.update(overrides)
    return data


def indicator_form(**overrides) -> dict:
    data = {"code": "X-01", "name": "Доля обучающихся 4 классов, достигших базового уровня по ВПР", "unit": "%",
            "definition": "число достигших / число участников × 100", "group_name": "предметные результаты НОО",
            "source": "ВПР (ФИС ОКО)", "collection_method": "выгрузка", "periodicity": "ежегодно",
            "baseline": "50", "target": "60", "direction": "up", "responsible": "Петрова М.И."}
    data.update(overrides)
    return data


def submit_and_approve(stage, world):
    from workflows.engine import fire

    fire(stage, "submit", actor=world["official"])
    fire(stage, "approve", actor=world["head"])


# --- fixtures --------------------------------------------------------------------------------------

@pytest.fixture
def switch_user(client, login):
    """Log the shared test client out and in as another user (/login ignores a signed-in user)."""
    def do(user):
        client.post("/logout")
        return login(user)
    return do


@pytest.fixture
def cycle(world, make_cycle, db_session):
    """A municipal M1.1 cycle, committed so that a request's rollback cannot take it away."""
    made = make_cycle(world["mun"], world["official"])
    db_session.commit()
    return made


@pytest.fixture
def ind_cycle(cycle, world, db_session):
    """The cycle with its goals approved: the indicators (and, in parallel, methods) stage is a draft."""
    fill_goal(cycle, world["official"])
    submit_and_approve(cycle.stage("GOAL"), world)
    db_session.commit()
    assert cycle.stage("IND").state == "draft"
    return cycle


def close_cycle(cycle, world, db_session):
    """Drive every stage to approved through the engine, which closes the cycle."""
    from app.demo import fill_stage

    official = world["official"]
    fill_goal(cycle, official)
    submit_and_approve(cycle.stage("GOAL"), world)
    fill_indicators(cycle, official)
    fill_method(cycle, official)
    submit_and_approve(cycle.stage("IND"), world)
    submit_and_approve(cycle.stage("METH"), world)
    for code in SUMMARY_STAGES:
        stage = cycle.stage(code)
        fill_stage(stage, official=official, head=world["head"])
        submit_and_approve(stage, world)
    db_session.commit()
    assert cycle.state == "closed"


# --- 1. happy path -----------------------------------------------------------------------------------

def test_official_opens_cycle_over_http(app, client, world, login, db_session):
    from app.core.timeutil import academic_year_of
    from app.cycles.models import Cycle
    from app.tasks.models import Task

    official, mun = world["official"], world["mun"]
    login(official)
    period = academic_year_of(today(app))
    track = track_of("M1.1")

    form_page = client.get("/cycles/new")
    assert form_page.status_code == 200
    assert f'value="{period}"' in page(form_page), "the period is prefilled with the current academic year"
    assert f'value="{track.id}"' in page(form_page) and f'value="{official.id}"' in page(form_page)

    deadline = today(app) + timedelta(days=14)
    response = client.post("/cycles/new", data={
        "track_id": track.id, "owner_id": mun.id, "period": period, "responsible_id": official.id,
        "first_deadline": deadline.isoformat()})
    assert response.status_code == 302, page(response)[:2000]
    cycle = db_session.scalar(select(Cycle).where(Cycle.owner_id == mun.id, Cycle.period == period))
    assert cycle is not None and cycle.track_id == track.id and cycle.created_by_id == official.id
    assert response.headers["Location"].endswith(f"/cycles/{cycle.id}")

    assert [s.code for s in cycle.stages] == ["GOAL", "IND", "METH", *SUMMARY_STAGES]
    goal_stage = cycle.stage("GOAL")
    assert goal_stage.state == "draft" and goal_stage.deadline == deadline
    assert {s.state for s in cycle.stages[1:]} == {"waiting"}
    assert all(s.responsible_id == official.id for s in cycle.stages)
    fill_task = db_session.scalar(select(Task).where(
        Task.object_type == "stage", Task.object_id == goal_stage.id, Task.kind == "fill_stage"))
    assert fill_task.assignee_id == official.id and fill_task.state == "open" and fill_task.due_date == deadline

    detail = page(client.get(f"/cycles/{cycle.id}"))
    assert "Цикл открыт." in detail
    assert 'data-stage="GOAL" data-state="draft"' in detail and ">черновик<" in detail
    assert 'data-stage="IND" data-state="waiting"' in detail


def test_goal_is_added_submitted_and_approved_over_http(client, world, login, switch_user, cycle, db_session):
    from app.cycles.models import Goal
    from app.tasks.models import Task

    official, head = world["official"], world["head"]
    goal_stage = cycle.stage("GOAL")
    fill_task = db_session.scalar(select(Task).where(
        Task.object_type == "stage", Task.object_id == goal_stage.id, Task.kind == "fill_stage"))
    assert fill_task.assignee_id == official.id and fill_task.state == "open"
    login(official)

    stage_page = page(client.get(f"/stages/{goal_stage.id}"))
    assert "Не сформулировано ни одной цели." in stage_page, "the page says what is missing before submitting"
    response = client.post(f"/cycles/{cycle.id}/goals/new", data=goal_form())
    assert response.status_code == 302, page(response)[:2000]
    assert response.headers["Location"].endswith(f"/stages/{goal_stage.id}")
    goal = db_session.scalar(select(Goal).where(Goal.cycle_id == cycle.id))
    assert goal.statement == "Создание условий для развития добровольчества обучающихся"

    stage_page = page(client.get(f"/stages/{goal_stage.id}"))
    assert "Создание условий для развития добровольчества обучающихся" in stage_page
    assert 'data-trigger="submit"' in stage_page and 'data-trigger="approve"' not in stage_page
    # The stage's mandatory document (the regulation) is generated from the stage page before submitting.
    assert "Нет документа «Положение о муниципальной системе оценки качества образования»" in stage_page
    response = client.post(f"/documents/stages/{goal_stage.id}/generate", data={"type_key": "regulation"})
    assert response.status_code == 302, page(response)[:2000]
    submit_url = f"/stages/{goal_stage.id}/transition/submit"
    response = client.post(submit_url,
                           data={"version": hidden_version(client.get(f"/stages/{goal_stage.id}"), submit_url)})
    assert response.status_code == 302, page(response)[:2000]
    assert goal_stage.state == "on_review"
    db_session.refresh(fill_task)
    assert fill_task.state == "closed"
    review = db_session.scalar(select(Task).where(
        Task.object_type == "stage", Task.object_id == goal_stage.id, Task.kind == "review_stage"))
    assert review.assignee_id == head.id and review.state == "open"

    switch_user(head)
    stage_page = client.get(f"/stages/{goal_stage.id}")
    assert 'data-trigger="approve"' in page(stage_page) and 'data-trigger="return"' in page(stage_page)
    approve_url = f"/stages/{goal_stage.id}/transition/approve"
    response = client.post(approve_url, data={"version": hidden_version(stage_page, approve_url),
                                              "comment": "Согласовано"})
    assert response.status_code == 302, page(response)[:2000]
    assert goal_stage.state == "approved" and goal_stage.approved_by_id == head.id
    assert cycle.stage("IND").state == "draft" and cycle.stage("METH").state == "draft"
    assert cycle.stage("MON").state == "waiting" and cycle.state == "open"
    db_session.refresh(review)
    assert review.state == "closed"
    assert db_session.scalar(select(func.count()).select_from(Task).where(
        Task.object_type == "stage", Task.object_id == goal_stage.id, Task.state == "open")) == 0
    open_fills = db_session.scalars(select(Task.object_id).where(
        Task.cycle_id == cycle.id, Task.state == "open", Task.kind == "fill_stage")).all()
    assert sorted(open_fills) == sorted([cycle.stage("IND").id, cycle.stage("METH").id])

    history = client.get(f"/cycles/{cycle.id}/history")
    assert history.status_code == 200
    text = page(history)
    for label in ("создание", "этап открыт", "отправлено на утверждение", "утверждено", "Согласовано",
                  head.full_name, official.full_name):
        assert label in text
    assert "черновик → на рассмотрении" in text and "на рассмотрении → утверждён" in text


# --- 2. bad input: 4xx, a Russian message, nothing written ------------------------------------------

BAD_GOALS = [
    pytest.param(goal_form(direction="", statement="", justification="", realism=""), "Обязательное поле.",
                 id="empty"),
    pytest.param(goal_form(statement="   ", realism=" \t\r\n "), "Обязательное поле.", id="whitespace"),
    pytest.param(goal_form(direction="д" * 501), "Не более 500 символов.", id="direction-too-long"),
    pytest.param(goal_form(statement="ц" * 4001), "Не более 4000 символов.", id="statement-too-long"),
]


@pytest.mark.parametrize("data, message", BAD_GOALS)
def test_bad_goal_is_refused_and_nothing_written(client, world, login, cycle, db_session, data, message):
    login(world["official"])
    before = row_counts(db_session)
    stage_version = cycle.stage("GOAL").version

    response = client.post(f"/cycles/{cycle.id}/goals/new", data=data)

    assert response.status_code == 422
    assert message in page(response)
    assert row_counts(db_session) == before
    assert cycle.stage("GOAL").version == stage_version


def test_goal_at_exactly_the_limit_is_accepted(client, world, login, cycle, db_session):
    # Guards the over-long test above: 500 characters is still fine, so the refusal is about length.
    login(world["official"])
    response = client.post(f"/cycles/{cycle.id}/goals/new", data=goal_form(direction="д" * 500))
    assert response.status_code == 302
    assert len(cycle.goals) == 1 and len(cycle.goals[0].direction) == 500


BAD_INDICATORS = [
    pytest.param({"baseline": "много"}, "Введите число", id="non-numeric-baseline"),
    pytest.param({"target": "12..5"}, "Введите число", id="malformed-target"),
    pytest.param({"target": "150"}, "Значение в процентах должно быть от 0 до 100.", id="percent-over-100"),
    pytest.param({"baseline": "-1"}, "Значение в процентах должно быть от 0 до 100.", id="percent-negative"),
    pytest.param({"name": "  "}, "Обязательное поле.", id="blank-name"),
    pytest.param({"code": "К" * 41}, "Не более 40 символов.", id="code-too-long"),
    # The select only offers the mechanism's groups; a forged value must be refused in Russian too.
    pytest.param({"group_name": "посторонняя группа"}, "группу показателей", id="group-not-of-mechanism"),
]


@pytest.mark.parametrize("overrides, message", BAD_INDICATORS)
def test_bad_indicator_is_refused_and_nothing_written(client, world, login, ind_cycle, db_session,
                                                      overrides, message):
    login(world["official"])
    before = row_counts(db_session)

    response = client.post(f"/cycles/{ind_cycle.id}/indicators/new", data=indicator_form(**overrides))

    assert 400 <= response.status_code < 500
    assert message in page(response)
    assert row_counts(db_session) == before


def test_indicator_accepts_decimal_comma(client, world, login, ind_cycle, db_session):
    from decimal import Decimal

    login(world["official"])
    response = client.post(f"/cycles/{ind_cycle.id}/indicators/new",
                           data=indicator_form(baseline="12,5", target=" 99,75 "))
    assert response.status_code == 302, page(response)[:2000]
    (indicator,) = ind_cycle.indicators
    assert Decimal(indicator.baseline) == Decimal("12.5") and Decimal(indicator.target) == Decimal("99.75")


def test_new_indicator_page_offers_groups_directions_and_library(client, world, login, ind_cycle):
    # Also guards against SelectField choices passed as tuples (deprecated in WTForms 3.3): under the
    # suite's filterwarnings=error they turn this page into a 500.
    login(world["official"])
    response = client.get(f"/cycles/{ind_cycle.id}/indicators/new")
    assert response.status_code == 200
    text = page(response)
    assert "чем больше, тем лучше" in text and "обучающиеся с ОВЗ" in text
    assert "M1.1-01" in text, "the mechanism's library indicators are offered"


def test_duplicate_indicator_code_in_cycle_is_refused(client, world, login, ind_cycle, db_session):
    login(world["official"])
    assert client.post(f"/cycles/{ind_cycle.id}/indicators/new", data=indicator_form()).status_code == 302
    before = row_counts(db_session)

    response = client.post(f"/cycles/{ind_cycle.id}/indicators/new",
                           data=indicator_form(name="Другой показатель с тем же кодом"))

    assert response.status_code == 422
    assert "Показатель с кодом «X-01» уже есть в этом цикле." in page(response)
    assert row_counts(db_session) == before


def test_renaming_indicator_onto_another_code_is_refused(client, world, login, ind_cycle, db_session):
    login(world["official"])
    client.post(f"/cycles/{ind_cycle.id}/indicators/new", data=indicator_form(code="X-01"))
    client.post(f"/cycles/{ind_cycle.id}/indicators/new", data=indicator_form(code="X-02"))
    second = next(i for i in ind_cycle.indicators if i.code == "X-02")
    before = row_counts(db_session)

    response = client.post(f"/indicators/{second.id}/edit", data=indicator_form(code="X-01", version=second.version))

    assert response.status_code == 422
    assert "уже есть в этом цикле" in page(response)
    assert row_counts(db_session) == before
    db_session.refresh(second)
    assert second.code == "X-02"


def _new_cycle_form(world, period, **overrides):
    data = {"track_id": track_of("M1.1").id, "owner_id": world["mun"].id, "period": period,
            "responsible_id": 0, "first_deadline": ""}
    data.update(overrides)
    return data


PERIOD_FORMAT = "Период указывается как учебный год, например 2025/26."


@pytest.mark.parametrize("period, message", [
    ("2025-26", PERIOD_FORMAT), ("2025/27", PERIOD_FORMAT), ("25/26", PERIOD_FORMAT), ("2025/2026", PERIOD_FORMAT),
    ("2025", PERIOD_FORMAT), ("٢٠٢٥/٢٦", PERIOD_FORMAT), ("", "Обязательное поле."), ("  ", "Обязательное поле."),
    # a year no cycle runs in: its next period would have five digits (review)
    ("0000/01", "Год периода — от 2000 до 2099."), ("9999/00", "Год периода — от 2000 до 2099.")])
def test_cycle_period_in_wrong_format_is_refused(client, world, login, db_session, period, message):
    login(world["official"])
    before = row_counts(db_session)

    response = client.post("/cycles/new", data=_new_cycle_form(world, period))

    assert response.status_code == 422
    assert message in page(response)
    assert row_counts(db_session) == before


def test_duplicate_cycle_for_same_track_owner_period_is_refused(client, world, login, cycle, db_session):
    login(world["official"])
    before = row_counts(db_session)

    response = client.post("/cycles/new", data=_new_cycle_form(world, cycle.period))

    assert response.status_code == 422
    assert f"Цикл по этому направлению на период {cycle.period} уже существует." in page(response)
    assert row_counts(db_session) == before


def test_the_form_says_which_tracks_already_run_this_year(app, client, world, login, make_cycle, db_session):
    """The municipality runs M1.1 this academic year: the list says so beside that track (the form refused it only
    after «Открыть цикл»), not beside a track it does not run yet."""
    from app.core.timeutil import academic_year_of

    period = academic_year_of(today(app))
    make_cycle(world["mun"], world["official"], period=period)
    db_session.commit()
    login(world["official"])

    form_page = page(client.get("/cycles/new"))

    opened = f"цикл на {period} уже открыт"
    assert form_page.count(opened) == 1
    label = form_page.split(f'value="{track_of("M1.1").id}"', 1)[1].split("</label>", 1)[0]
    assert opened in label
    other = form_page.split(f'value="{track_of("M1.2").id}"', 1)[1].split("</label>", 1)[0]
    assert opened not in other


def test_first_deadline_in_the_past_is_refused(app, client, world, login, db_session):
    login(world["official"])
    before = row_counts(db_session)
    yesterday = today(app) - timedelta(days=1)

    response = client.post("/cycles/new", data=_new_cycle_form(world, "2030/31", first_deadline=yesterday.isoformat()))

    assert response.status_code == 422
    assert "Срок не может быть в прошлом." in page(response)
    assert row_counts(db_session) == before


def test_garbage_deadline_is_refused_in_russian(client, world, login, db_session):
    login(world["official"])
    before = row_counts(db_session)
    response = client.post("/cycles/new", data=_new_cycle_form(world, "2030/31", first_deadline="31.02.2030"))
    assert response.status_code == 422
    assert "Введите корректную дату." in page(response)
    assert row_counts(db_session) == before


def test_stage_deadline_in_the_past_is_refused(app, client, world, login, cycle, db_session):
    login(world["official"])
    stage = cycle.stage("GOAL")
    before, old_deadline, old_version = row_counts(db_session), stage.deadline, stage.version

    response = client.post(f"/stages/{stage.id}/settings", data={
        "responsible_id": world["official"].id, "deadline": (today(app) - timedelta(days=1)).isoformat(),
        "version": stage.version})

    assert response.status_code == 422
    assert "Срок не может быть в прошлом." in page(response)
    assert row_counts(db_session) == before
    assert stage.deadline == old_deadline and stage.version == old_version


def test_stage_deadline_in_year_9999_is_refused(app, client, world, login, cycle, db_session):
    # «31.12.9999» was kept: the stage never fell due, nor was it ever counted overdue.
    login(world["official"])
    stage = cycle.stage("GOAL")
    before, old_deadline, old_version = row_counts(db_session), stage.deadline, stage.version

    response = client.post(f"/stages/{stage.id}/settings", data={
        "responsible_id": world["official"].id, "deadline": "9999-12-31", "version": stage.version})

    assert response.status_code == 422
    assert f"Укажите дату между 01.01.2000 и 31.12.{today(app).year + 10}." in page(response)
    assert row_counts(db_session) == before
    assert stage.deadline == old_deadline and stage.version == old_version


def test_stage_deadline_typed_as_people_write_it_is_taken(app, client, world, login, cycle, db_session):
    # Without a date picker (an older browser, a hand-typed field) the date comes as ДД.ММ.ГГГГ.
    login(world["official"])
    stage = cycle.stage("GOAL")
    day = today(app) + timedelta(days=20)

    response = client.post(f"/stages/{stage.id}/settings", data={
        "responsible_id": world["official"].id, "deadline": day.strftime("%d.%m.%Y"), "version": stage.version})

    assert response.status_code == 302, page(response)[:2000]
    db_session.refresh(stage)
    assert stage.deadline == day


# --- 3. transition errors ------------------------------------------------------------------------------

def test_submit_goal_stage_without_goals_shows_guard_problems(client, world, login, cycle, db_session):
    login(world["official"])
    stage = cycle.stage("GOAL")
    before = row_counts(db_session)

    response = client.post(f"/stages/{stage.id}/transition/submit", data={"version": stage.version})

    assert response.status_code == 409
    text = page(response)
    assert "Действие «Отправить на утверждение» невозможно." in text
    assert "Не сформулировано ни одной цели." in text
    assert stage.state == "draft"
    assert row_counts(db_session) == before


def test_submit_indicators_missing_required_group_names_it(client, world, login, ind_cycle, db_session):
    fill_indicators(ind_cycle, world["official"], skip_groups=("обучающиеся с ОВЗ",))
    db_session.commit()
    login(world["official"])
    stage = ind_cycle.stage("IND")
    before = row_counts(db_session)

    response = client.post(f"/stages/{stage.id}/transition/submit", data={"version": stage.version})

    assert response.status_code == 409
    text = page(response)
    assert "Нет ни одного показателя в обязательной группе «обучающиеся с ОВЗ»." in text
    assert "«функциональная грамотность»." not in text, "only the missing group is named"
    assert stage.state == "draft"
    assert row_counts(db_session) == before


@pytest.fixture
def goal_on_review(cycle, world, db_session):
    from workflows.engine import fire

    fill_goal(cycle, world["official"])
    fire(cycle.stage("GOAL"), "submit", actor=world["official"])
    db_session.commit()
    return cycle.stage("GOAL")


def test_the_return_forms_comment_is_marked_required_and_the_approvals_is_not(client, world, login, goal_on_review):
    """The server refuses a return without a comment: the page says so on the field itself (required, read out by a
    screen reader; the form stays novalidate so the server's Russian message is what the user sees)."""
    import lxml.html

    login(world["head"])
    page_ = lxml.html.fromstring(client.get(f"/stages/{goal_on_review.id}").data)
    assert page_.get_element_by_id("comment-return").get("required") is not None
    assert page_.get_element_by_id("comment-approve").get("required") is None


@pytest.mark.parametrize("comment", ["", "   \n  "])
def test_return_without_comment_is_refused(client, world, login, goal_on_review, db_session, comment):
    login(world["head"])
    stage = goal_on_review
    before = row_counts(db_session)

    response = client.post(f"/stages/{stage.id}/transition/return", data={"version": stage.version,
                                                                          "comment": comment})

    assert response.status_code == 422
    assert "Для действия «Вернуть на доработку» обязателен комментарий." in page(response)
    assert stage.state == "on_review"
    assert row_counts(db_session) == before


def test_return_with_comment_reopens_draft_with_rework_task(client, world, login, goal_on_review, db_session):
    from app.tasks.models import Task

    login(world["head"])
    stage = goal_on_review
    response = client.post(f"/stages/{stage.id}/transition/return",
                           data={"version": stage.version, "comment": "Уточните обоснование"})
    assert response.status_code == 302
    assert stage.state == "draft" and stage.return_comment == "Уточните обоснование"
    rework = db_session.scalar(select(Task).where(Task.object_id == stage.id, Task.object_type == "stage",
                                                  Task.state == "open"))
    assert rework.kind == "rework_stage" and rework.assignee_id == world["official"].id
    # the head reads what happened and to whom it went («Этап «Цели»: черновик.» said neither)
    shown = page(client.get(response.headers["Location"]))
    assert f"Этап «{stage.title}» возвращён на доработку ответственному ({world['official'].short_name})." in shown


def test_approve_by_official_is_forbidden(client, world, login, goal_on_review, db_session):
    login(world["official"])
    stage = goal_on_review
    before = row_counts(db_session)

    assert 'data-trigger="approve"' not in page(client.get(f"/stages/{stage.id}"))
    response = client.post(f"/stages/{stage.id}/transition/approve", data={"version": stage.version})

    assert response.status_code == 403
    assert "Недостаточно прав для действия «Утвердить»." in page(response)
    assert stage.state == "on_review"
    assert row_counts(db_session) == before


def test_approve_from_draft_is_unavailable(client, world, login, cycle, db_session):
    fill_goal(cycle, world["official"])
    db_session.commit()
    login(world["head"])
    stage = cycle.stage("GOAL")
    before = row_counts(db_session)

    response = client.post(f"/stages/{stage.id}/transition/approve", data={"version": stage.version})

    assert response.status_code == 409
    assert ("Действие «Утвердить» недоступно: сейчас состояние — «черновик». Обновите страницу, чтобы увидеть "
            "доступные действия.") in page(response)
    assert stage.state == "draft"
    assert row_counts(db_session) == before


@pytest.mark.parametrize("trigger, status, message", [
    ("frobnicate", 409, "Неизвестное действие «frobnicate»."),
    ("close", 409, "Неизвестное действие «close»."),  # a cycle trigger, not a stage one
    ("open", 403, "Недостаточно прав для этого действия."),  # exists, but only the engine fires it
])
def test_unknown_or_internal_trigger_is_refused(client, world, login, cycle, db_session, trigger, status, message):
    login(world["head"])
    stage = cycle.stage("MON")
    before = row_counts(db_session)

    response = client.post(f"/stages/{stage.id}/transition/{trigger}", data={"version": stage.version})

    assert response.status_code == status
    assert message in page(response)
    assert stage.state == "waiting"
    assert row_counts(db_session) == before


def test_malformed_version_field_is_refused(client, world, login, cycle, db_session):
    fill_goal(cycle, world["official"])
    db_session.commit()
    login(world["official"])
    stage = cycle.stage("GOAL")
    before = row_counts(db_session)
    response = client.post(f"/stages/{stage.id}/transition/submit", data={"version": "abc"})
    assert response.status_code == 422
    assert "Некорректная версия формы. Обновите страницу." in page(response)
    assert stage.state == "draft" and row_counts(db_session) == before


def test_over_long_transition_comment_is_explained(client, world, login, goal_on_review, db_session):
    # A browser's maxlength counts a line break as one character but submits CRLF, so a comment the
    # browser accepted can arrive longer than 2000 characters: the user must be told why it was refused.
    login(world["head"])
    stage = goal_on_review
    before = row_counts(db_session)
    comment = "Уточните обоснование.\r\n" * 90  # 2070 characters as submitted, 1980 as the browser counts
    response = client.post(f"/stages/{stage.id}/transition/return", data={"version": stage.version,
                                                                          "comment": comment})
    assert response.status_code == 422
    assert "Не более 2000 символов." in page(response)
    assert stage.state == "on_review" and row_counts(db_session) == before


# --- 4. stale forms ------------------------------------------------------------------------------------

def _edit_goal_as(client, switch_user, user, goal, **changes):
    switch_user(user)
    form = client.get(f"/goals/{goal.id}/edit")
    assert form.status_code == 200
    data = goal_form(direction=goal.direction, statement=goal.statement, justification=goal.justification,
                     realism=goal.realism, version=hidden_version(form))
    data.update(changes)
    response = client.post(f"/goals/{goal.id}/edit", data=data)
    assert response.status_code == 302, page(response)[:2000]


def _change_settings_as(client, switch_user, user, stage, app):
    switch_user(user)
    form = client.get(f"/stages/{stage.id}")
    response = client.post(f"/stages/{stage.id}/settings", data={
        "responsible_id": stage.responsible_id, "deadline": (today(app) + timedelta(days=30)).isoformat(),
        "version": hidden_version(form, f"/stages/{stage.id}/settings")})
    assert response.status_code == 302, page(response)[:2000]


@pytest.mark.parametrize("interference", ["goal_edited", "settings_changed"])
def test_submit_from_stale_stage_page_is_refused(app, client, world, login, switch_user, cycle, db_session,
                                                 interference):
    goal = fill_goal(cycle, world["official"])
    db_session.commit()
    stage = cycle.stage("GOAL")
    login(world["official"])
    seen = hidden_version(client.get(f"/stages/{stage.id}"), f"/stages/{stage.id}/transition/submit")
    assert seen == stage.version

    if interference == "goal_edited":
        _edit_goal_as(client, switch_user, world["methodologist"], goal, realism="Новая оценка реалистичности")
    else:
        _change_settings_as(client, switch_user, world["head"], stage, app)
    switch_user(world["official"])
    assert stage.version != seen
    before, version_now = row_counts(db_session), stage.version

    response = client.post(f"/stages/{stage.id}/transition/submit", data={"version": seen})

    assert response.status_code == 409
    assert STALE in page(response)
    assert stage.state == "draft" and stage.version == version_now
    assert row_counts(db_session) == before
    assert "submit" not in audit_actions(db_session, cycle.id)


def test_goal_edit_with_outdated_version_is_refused(client, world, login, switch_user, cycle, db_session):
    goal = fill_goal(cycle, world["official"])
    db_session.commit()
    login(world["official"])
    seen = hidden_version(client.get(f"/goals/{goal.id}/edit"))
    assert seen == goal.version

    _edit_goal_as(client, switch_user, world["methodologist"], goal, statement="Формулировка методиста")
    switch_user(world["official"])
    before = row_counts(db_session)

    response = client.post(f"/goals/{goal.id}/edit",
                           data=goal_form(statement="Формулировка специалиста", version=seen))

    assert response.status_code == 409
    assert STALE in page(response)
    db_session.refresh(goal)
    assert goal.statement == "Формулировка методиста"
    assert row_counts(db_session) == before


def test_goal_delete_with_outdated_version_is_refused(client, world, login, switch_user, cycle, db_session):
    goal = fill_goal(cycle, world["official"])
    db_session.commit()
    login(world["official"])
    seen = goal.version
    _edit_goal_as(client, switch_user, world["methodologist"], goal, statement="Формулировка методиста")
    switch_user(world["official"])
    before = row_counts(db_session)

    response = client.post(f"/goals/{goal.id}/delete", data={"version": seen})

    assert response.status_code == 409
    assert STALE in page(response)
    assert row_counts(db_session) == before


@pytest.mark.parametrize("sent", ["absent", "blank"])
def test_a_form_without_its_version_is_refused_as_incomplete(client, world, login, cycle, db_session, sent):
    """A form that does not send the version it was rendered with proves nothing about freshness: it is refused (it
    skipped the check and overwrote whatever had changed meanwhile), and nothing is written — as an incomplete form
    (422), not as a stale one (409, «изменён другим пользователем»: nobody changed it)."""
    goal = fill_goal(cycle, world["official"])
    stage = cycle.stage("GOAL")
    db_session.commit()
    login(world["official"])
    extra = {} if sent == "absent" else {"version": "  "}
    before = row_counts(db_session)
    for url, data in ((f"/goals/{goal.id}/edit", goal_form(statement="Без версии", **extra)),
                      (f"/goals/{goal.id}/delete", extra), (f"/stages/{stage.id}/transition/submit", extra)):
        response = client.post(url, data=data)
        assert response.status_code == 422, url
        assert "Форма отправлена не полностью" in page(response) and STALE not in page(response), url
    assert row_counts(db_session) == before
    db_session.refresh(goal)
    assert goal.statement != "Без версии" and stage.state == "draft"
    # A new goal has no version to send: its form is accepted without one.
    response = client.post(f"/cycles/{cycle.id}/goals/new", data=goal_form(statement="Новая цель"))
    assert response.status_code in (302, 303)


# --- 5. content of a stage on review or approved is read-only --------------------------------------------

@pytest.mark.parametrize("approved", [False, True], ids=["on_review", "approved"])
def test_content_of_closed_stage_cannot_be_changed(client, world, login, goal_on_review, db_session, approved):
    from workflows.engine import fire

    stage = goal_on_review
    if approved:
        fire(stage, "approve", actor=world["head"])
        db_session.commit()
    label = "утверждён" if approved else "на рассмотрении"
    message = f"Этап «Цели» сейчас не редактируется (состояние: {label})."
    (goal,) = stage.cycle.goals
    statement = goal.statement
    login(world["official"])
    assert "Добавить цель" not in page(client.get(f"/stages/{stage.id}"))
    before = row_counts(db_session)

    attempts = [
        client.post(f"/goals/{goal.id}/edit", data=goal_form(statement="Подмена", version=goal.version)),
        client.post(f"/cycles/{stage.cycle_id}/goals/new", data=goal_form()),
        client.post(f"/goals/{goal.id}/delete", data={"version": goal.version}),
    ]

    for response in attempts:
        assert response.status_code == 422
        assert message in page(response)
    assert row_counts(db_session) == before
    db_session.refresh(goal)
    assert goal.statement == statement
    assert stage.state == ("approved" if approved else "on_review")


def test_summary_of_approved_stage_cannot_be_changed(client, world, login, cycle, db_session):
    close_cycle(cycle, world, db_session)
    login(world["official"])
    stage = cycle.stage("EFF")
    before, summary = row_counts(db_session), stage.summary
    assert summary

    response = client.post(f"/stages/{stage.id}/summary", data={"summary": "Переписано", "version": stage.version})

    assert response.status_code == 422
    assert "сейчас не редактируется (состояние: утверждён)" in page(response)
    assert stage.summary == summary
    assert row_counts(db_session) == before


# --- 6. roles ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reader", ["auditor", "expert"])
def test_readers_see_cycle_but_cannot_act(client, world, login, goal_on_review, db_session, reader):
    stage = goal_on_review
    cycle = stage.cycle
    login(world[reader])
    if reader == "expert":
        # A regional expert reads a municipality only once assigned to it in a published campaign.
        from tests.access_cases.assessment import make_campaign

        assert client.get(f"/cycles/{cycle.id}").status_code == 404
        make_campaign(world, db_session)
        db_session.commit()

    assert client.get(f"/cycles/{cycle.id}").status_code == 200
    assert client.get(f"/cycles/{cycle.id}/history").status_code == 200
    stage_page = client.get(f"/stages/{stage.id}")
    assert stage_page.status_code == 200
    assert "data-trigger=" not in page(stage_page)
    draft_page = page(client.get(f"/stages/{cycle.stage('IND').id}"))
    assert "data-trigger=" not in draft_page
    before = row_counts(db_session)

    for trigger in ("approve", "return", "submit"):
        response = client.post(f"/stages/{stage.id}/transition/{trigger}",
                               data={"version": stage.version, "comment": "x"})
        assert response.status_code == 403
        assert "Доступ запрещён." in page(response)
    response = client.post(f"/cycles/{cycle.id}/goals/new", data=goal_form())
    assert response.status_code == 403

    assert stage.state == "on_review"
    assert row_counts(db_session) == before


def test_methodologist_edits_content_and_submits(client, world, login, cycle, db_session):
    login(world["methodologist"])
    stage = cycle.stage("GOAL")
    stage_page = page(client.get(f"/stages/{stage.id}"))
    assert "Добавить цель" in stage_page
    assert 'data-trigger="approve"' not in stage_page

    response = client.post(f"/cycles/{cycle.id}/goals/new", data=goal_form())
    assert response.status_code == 302
    assert len(cycle.goals) == 1
    assert client.post(f"/documents/stages/{stage.id}/generate", data={"type_key": "regulation"}).status_code == 302
    response = client.post(f"/stages/{stage.id}/transition/submit", data={"version": stage.version})
    assert response.status_code == 302
    assert stage.state == "on_review"


def test_school_director_cannot_reach_municipal_cycle(client, world, login, goal_on_review, db_session):
    stage = goal_on_review
    login(world["director_a"])
    before = row_counts(db_session)

    for url in (f"/cycles/{stage.cycle_id}", f"/stages/{stage.id}", f"/cycles/{stage.cycle_id}/history",
                f"/goals/{stage.cycle.goals[0].id}/edit"):
        assert client.get(url).status_code == 404, url
    # The director is an approver, but not over the municipality: the stage simply does not exist for them.
    response = client.post(f"/stages/{stage.id}/transition/approve", data={"version": stage.version})
    assert response.status_code == 404
    assert "Страница или объект не найдены." in page(response)
    assert client.post(f"/cycles/{stage.cycle_id}/goals/new", data=goal_form()).status_code == 404
    assert stage.state == "on_review"
    assert row_counts(db_session) == before


# --- 7. next period -----------------------------------------------------------------------------------------

def test_next_period_of_open_cycle_is_refused(client, world, login, cycle, db_session):
    login(world["official"])
    assert "Начать следующий период" not in page(client.get(f"/cycles/{cycle.id}"))
    before = row_counts(db_session)

    response = client.post(f"/cycles/{cycle.id}/next", data={"version": cycle.version})

    assert response.status_code == 422
    assert "Следующий период можно начать только после завершения текущего цикла." in page(response)
    assert row_counts(db_session) == before


def test_next_period_carries_goals_and_indicators_over(client, world, login, cycle, db_session):
    from app.cycles.models import Cycle

    close_cycle(cycle, world, db_session)
    login(world["official"])
    detail = page(client.get(f"/cycles/{cycle.id}"))
    assert "Начать следующий период" in detail

    response = client.post(f"/cycles/{cycle.id}/next", data={"version": cycle.version})

    assert response.status_code == 302, page(response)[:2000]
    new = db_session.scalar(select(Cycle).where(Cycle.previous_id == cycle.id))
    assert response.headers["Location"].endswith(f"/cycles/{new.id}")
    assert new.period == "2026/27" and new.track_id == cycle.track_id and new.owner_id == cycle.owner_id
    assert new.state == "open"
    assert new.stage("GOAL").state == "draft"
    assert {s.state for s in new.stages[1:]} == {"waiting"}
    assert [(g.carried_from_id, g.statement) for g in new.goals] == [(g.id, g.statement) for g in cycle.goals]
    assert sorted((i.carried_from_id, i.code, i.group_name) for i in new.indicators) == sorted(
        (i.id, i.code, i.group_name) for i in cycle.indicators)
    assert len(new.collection_methods) == len(cycle.collection_methods) == 1
    assert {g.cycle_id for g in cycle.goals} == {cycle.id}, "the closed cycle keeps its own goals"
    text = page(client.get(f"/cycles/{new.id}"))
    assert "2026/27" in text and f'href="/cycles/{cycle.id}"' in text
    assert "перенос целей и показателей из прошлого периода" in page(client.get(f"/cycles/{new.id}/history"))

    before = row_counts(db_session)
    again = client.post(f"/cycles/{cycle.id}/next", data={"version": cycle.version})
    assert again.status_code == 422
    assert "Цикл по этому направлению на период 2026/27 уже существует." in page(again)
    assert row_counts(db_session) == before


def test_a_refused_return_shows_the_comment_that_was_typed(world, make_cycle, db_session, app):
    """The head writes why the stage goes back, but someone changed the stage meanwhile (or the text is too long):
    the refusal's page must show the comment again, in the box of the action that was sent, not an empty box."""
    from workflows import engine

    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    stage = cycle.stage("GOAL")
    engine.fire(stage, "submit", actor=world["official"])
    db_session.commit()
    head = app.test_client()
    assert head.post("/login", data={"login": world["head"].login, "password": PASSWORD}).status_code == 302
    comment = "Цель сформулирована нечётко: уточните, " + "какие показатели и в какие сроки; " * 20
    response = head.post(f"/stages/{stage.id}/transition/return", data={"version": stage.version - 1,
                                                                       "comment": comment})
    assert response.status_code == 409
    text = page(response)
    boxes = dict(re.findall(r'<textarea[^>]*id="comment-(\w+)"[^>]*>([^<]*)</textarea>', text))
    assert html.unescape(boxes["return"]) == comment and boxes["approve"] == ""
    too_long = head.post(f"/stages/{stage.id}/transition/approve", data={"version": stage.version,
                                                                        "comment": comment * 5})
    assert too_long.status_code == 422
    boxes = dict(re.findall(r'<textarea[^>]*id="comment-(\w+)"[^>]*>([^<]*)</textarea>', page(too_long)))
    assert html.unescape(boxes["approve"]) == comment * 5 and boxes["return"] == ""


def test_the_stage_marks_of_a_cycle_agree_with_any_block_title(client, world, login, ind_cycle):
    """The marks of the cycles list read «Цели: утверждён», «Показатели: ожидает»: a masculine singular after
    plural titles. Their words now agree with any title."""
    login(world["official"])
    html = page(client.get("/cycles"))
    assert "Цели: этап утверждён" in html and "Показатели: в работе" in html
    assert "Анализ эффективности принятых мер: в ожидании" in html
    assert "Цели: утверждён" not in html and ": ожидает" not in html

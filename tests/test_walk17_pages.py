"""Walk 17 (a municipality's official and head on their first day: a new cycle of M1.2 in Озёрный МР, whose schools
have no accounts yet, run block by block at 1366 px): what a new cycle and a new municipality found wanting.

A data request sent to schools without a director said «Им поставлены задачи.» — no one had a task; «Напомнить»
said «Напоминание отправлено 2 адресатам.» to no one, and its stamp then kept the director the administrator
appointed from getting the task for 12 hours. The analytic report of a cycle whose analysis had not run drew an
empty cluster plot as «Рисунок 8» beside the words «сравнение не проводилось»."""

from datetime import date

import lxml.html
import pytest
from sqlalchemy import select

from app.core.errors import ValidationFailed
from app.monitoring import services
from tests.test_monitoring import make_request, open_tasks, submission_of
from tests.fixtures_followup import register_letters


def _flash(response) -> str:
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    return " ".join(" ".join(a.text_content().split()) for a in doc.xpath("//div[contains(@class, 'alert')]"))


@pytest.fixture
def no_director(world, make_org, db_session):
    """A school of the municipality with no account: its answer reaches nobody."""
    return make_org("school", parent=world["mun"], code="SCH-N", name="Школа без руководителя")


def test_sending_a_request_names_the_addressees_whose_task_reached_nobody(client, login, world, mon, no_director,
                                                                        db_session):
    req = make_request(mon, world["official"], [world["school_a"], no_director])
    db_session.commit()
    login(world["official"])
    said = _flash(client.post(f"/monitoring/requests/{req.id}/transition",
                              data={"trigger": "send", "version": req.version}, follow_redirects=True))
    assert "Запрос направлен адресатам: 2." in said, said
    assert "Им поставлены задачи" not in said
    assert ("Задача не дошла до исполнителя: в организации «Школа без руководителя» нет руководителя с учётной "
            "записью. Администратор назначает роль «Руководитель образовательной организации» в разделе "
            "«Пользователи»; после этого нажмите «Напомнить» — задача придёт руководителю.") in said, said


def test_a_reminder_skips_an_addressee_nobody_answers_for_and_reaches_the_director_appointed_later(
        world, mon, no_director, make_user, db_session):
    req = make_request(mon, world["official"], [world["school_a"], no_director])
    services.transition_request(req, "send", actor=world["official"], today=date.today())
    orphan = submission_of(req, no_director)

    reminded = services.remind(req, actor=world["official"])
    assert (reminded.sent, reminded.unstaffed) == (1, ("Школа без руководителя",))
    assert reminded.message.startswith("Напоминание отправлено 1 адресату. Задача не дошла до исполнителя: в "
                                       "организации «Школа без руководителя»"), reminded.message
    assert orphan.last_reminded_at is None  # nobody was reminded there: no 12-hour wait

    with pytest.raises(ValidationFailed) as refused:  # the one with a director was reminded just now
        services.remind(req, actor=world["official"], submission_ids=[orphan.id])
    assert refused.value.message == "Напомнить некому."
    assert "нет руководителя с учётной записью" in refused.value.problems[0]

    appointed = make_user("director", no_director, login="director_n")
    assert services.remind(req, actor=world["official"], submission_ids=[orphan.id]).sent == 1
    assert [t.assignee_id for t in open_tasks(db_session, orphan)] == [appointed.id]


def test_the_report_of_a_cycle_whose_analysis_never_ran_draws_no_empty_section_charts(demo):
    """Озёрный МР's demo M1.1 cycle and a new M1.2 one: no analysis run, so neither the objectivity charts nor the
    cluster plot (each a frame without data) is drawn or captioned."""
    from app.analysis.report import report_context
    from app.auth.models import User
    from app.catalogue.models import Mechanism, Track
    from tests.conftest import track_of
    from app.cycles.models import Cycle
    from app.cycles.services import create_cycle
    from app.orgs.models import Organisation

    official = demo.scalar(select(User).where(User.login == "official2"))
    lake = demo.scalar(select(Organisation).where(Organisation.code == "MUN02"))
    m11 = demo.scalar(select(Cycle).join(Track).join(Mechanism).where(Cycle.owner_id == lake.id,
                                                                        Mechanism.code == "M1.1"))
    m12 = create_cycle(track=track_of("M1.2"), owner=lake, period=m11.period, actor=official)
    for cycle in (m11, m12):
        context = report_context(cycle)
        assert context["report"]["intro"]  # the report itself is made
        drawn = set(context["charts"])
        assert not drawn & {"signs", "flagged_share", "clusters"}, (cycle.track.mechanism.code, drawn)
        assert {c["name"] for c in context["chart_list"]} <= drawn


def test_methods_are_not_sent_for_approval_with_the_list_made_before_any_method(world, make_cycle, db_session):
    """The перечень made at «Показатели» lists the indicators only; «Методы сбора» went for approval with it as is,
    the stage's document without a word of the methods just described."""
    from app.cycles.models import CollectionMethod
    from app.cycles.services import save_content
    from app.documents import services as documents
    from app.jobs.queue import dispatch_ready
    from tests.conftest import fill_goal, fill_indicators
    from workflows import engine

    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    for stage in (cycle.stage("GOAL"), cycle.stage("IND")):
        if stage.code == "IND":
            fill_indicators(cycle, world["official"])
            documents.generate_document(stage, "indicators_approval", actor=world["official"])
            db_session.commit()
            dispatch_ready()
        engine.fire(stage, "submit", actor=world["official"])
        engine.fire(stage, "approve", actor=world["head"])
    meth = cycle.stage("METH")
    save_content(CollectionMethod, cycle, actor=world["official"], data={
        "source": "ФИС ОКО", "method": "статистический анализ", "tool": "шаблон", "schedule": "май"})
    stale = ("Документ «Перечень показателей и методов сбора и обработки информации» сформирован до описания методов и "
             "методов не содержит: сформируйте его заново в разделе «Документы этапа».")
    assert stale in engine.check_guards(meth, "submit")

    documents.generate_document(meth, "indicators_approval", actor=world["official"])
    db_session.commit()
    dispatch_ready()
    assert engine.check_guards(meth, "submit") == []


def test_a_document_nobody_may_agree_says_who_appoints_the_missing_role(client, login, world, goal_stage,
                                                                        db_session):
    """Озёрный МР has no methodologist: «Отправить на согласование» of its положение answered «нет пользователя с
    ролью «Методист»» and left the official there, not knowing that the administrator appoints one."""
    from app.documents import services as documents
    from app.jobs.queue import dispatch_ready

    world["methodologist"].active = False
    doc = documents.generate_document(goal_stage, "regulation", actor=world["official"])
    db_session.commit()
    dispatch_ready()
    login(world["official"])
    said = _flash(client.post(f"/documents/{doc.id}/transition/to_approval",
                              data={"version": doc.current.number}, follow_redirects=True))
    assert ("Некому согласовать документ: ни в «Тестовый муниципалитет», ни выше нет пользователя с ролью "
            "«Методист». Администратор назначает эту роль в разделе «Пользователи»; до этого документ можно только "
            "сформировать.") in said, said


def test_an_order_without_any_deadline_says_where_to_set_one(client, login, world, mon, db_session):
    """A new cycle's «Мониторинг показателей» has no deadline until someone sets it: «Сформировать: Приказ о
    проведении мониторинга» was refused with «Не указан срок этапа «Мониторинг»…», a stage name the page does not
    use, and no word of where a deadline is set."""
    stage = mon.stage("MON")
    assert stage.deadline is None
    login(world["official"])
    said = _flash(client.post(f"/documents/stages/{stage.id}/generate", data={"type_key": "monitoring_order"},
                              follow_redirects=True))
    assert ("Не указан срок этапа «Мониторинг показателей» и нет ни одного запроса сведений со сроком: укажите срок "
            "этапа в разделе «Ответственный и срок» или создайте запрос сведений.") in said, said


def test_addressed_recommendations_are_offered_for_the_recommendations_addressees_only(
        client, login, world, rec_cycle, make_org, make_recommendation, db_session):
    """The addressee list held every institution, the first by name preselected: a new cycle's «Сформировать:
    Адресные рекомендации» was refused «Для «Гимназия № 3» в цикле нет адресных рекомендаций». Before any
    recommendation the button says what comes first instead."""
    make_org("school", parent=world["mun"], code="SCH-0", name="Айвазовская школа")  # first by name, no recommendation
    db_session.commit()
    stage = rec_cycle.stage("REC")
    login(world["official"])

    def generate_form():
        doc = lxml.html.fromstring(client.get(f"/stages/{stage.id}").get_data(as_text=True))
        (form,) = [f for f in doc.xpath("//form[contains(@action, '/generate')]")
                   if f.xpath(".//input[@name='type_key' and @value='addressed_recommendations']")
                   and not f.xpath(".//input[@name='all_addressees']")]
        return form

    before = generate_form()
    assert not before.xpath(".//select") and before.xpath(".//button")[0].get("disabled") is not None
    (hint,) = before.getparent().xpath(".//p[starts-with(@id, 'no-addressees-')]")
    assert "сначала составьте рекомендацию" in hint.text_content()

    make_recommendation(rec_cycle, [world["school_b"]])
    db_session.commit()
    after = generate_form()
    assert [o.text for o in after.xpath(".//select[@name='addressee_id']/option")] == ["Школа Б"]
    assert after.xpath(".//button")[0].get("disabled") is None


def test_issuing_a_recommendation_names_the_addressees_whose_task_reached_nobody(
        client, login, world, rec_cycle, no_director, make_recommendation, db_session):
    rec = make_recommendation(rec_cycle, [world["school_a"], no_director])
    register_letters(rec, world)  # what «Направить» requires (tests/test_followup2.py is about it)
    db_session.commit()
    login(world["head"])
    said = _flash(client.post(f"/followup/recommendations/{rec.id}/issue", data={"version": rec.version},
                              follow_redirects=True))
    assert "Рекомендация направлена адресатам: 2." in said, said
    assert "Руководителям поставлены задачи" not in said
    assert ("Задача не дошла до исполнителя: в организации «Школа без руководителя» нет руководителя с учётной "
            "записью. Администратор назначает роль «Руководитель образовательной организации» в разделе "
            "«Пользователи»; после этого рекомендация появится у руководителя в разделе «Рекомендации».") in said, said


def test_a_document_refused_for_want_of_measures_or_decisions_names_the_stage_and_its_button(world, make_cycle):
    """«(этап «Решения»)» named no stage of the cycle — the page says «Управленческие решения» — and not how to add
    one."""
    from app.documents.catalogue import get_type
    from app.followup.documents import _decision_rows, roadmap

    cycle = make_cycle(world["mun"], world["official"])
    with pytest.raises(ValidationFailed) as refused:
        _decision_rows(get_type("decision_order"), cycle.stage("DEC"))
    assert refused.value.problems == ["В цикле нет ни одного управленческого решения: добавьте его кнопкой "
                                      "«Подготовить решение» на этой странице."]
    with pytest.raises(ValidationFailed) as refused:
        roadmap(get_type("roadmap"), cycle.stage("DEC"), {"doc": {}, "cycle": {}})
    assert refused.value.problems == ["В цикле нет ни одного мероприятия: добавьте его кнопкой «Добавить "
                                      "мероприятие» на этапе «Меры, мероприятия»."]

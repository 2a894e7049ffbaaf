"""Walk 19 (a new cycle walked to its end at 1366 px: the official prepares each block, the head reviews and
approves it, the documents go their own way): what a reviewer and the head met on the late blocks.

A stage on review offered its reviewers «Сформировать» — a new draft edition of a document the head was reading, of
one already signed and registered too. An analytic справка made before the analysis stage's conclusions were written
went for approval with conclusions nobody wrote. «Отправить на согласование» was offered where nobody may agree,
and said so only after the click. The head approved a block without a word that its documents were still drafts."""

import lxml.html
import pytest
from sqlalchemy import select

from app.core.errors import ValidationFailed
from tests.test_documents import generate


def _page(response):
    assert response.status_code == 200
    return lxml.html.fromstring(response.get_data(as_text=True))


def _text(node) -> str:
    return " ".join(node.text_content().split())


@pytest.fixture
def goal_on_review(world, goal_stage, db_session):
    """The GOAL stage with its положение made, sent for approval by the official."""
    from workflows import engine

    doc = generate(goal_stage, "regulation", world["official"], db_session)
    engine.fire(goal_stage, "submit", actor=world["official"])
    db_session.commit()
    return goal_stage, doc


def test_a_stage_on_review_offers_no_generation_and_refuses_it(client, login, world, goal_on_review, db_session):
    from app.documents import services as documents

    stage, doc = goal_on_review
    editions = len(doc.versions)
    for who in ("head", "official"):
        client.post("/logout")
        login(world[who])
        page = _page(client.get(f"/stages/{stage.id}"))
        assert not [b for b in page.xpath("//button") if "Сформировать" in _text(b)], who
        doc_page = _page(client.get(f"/documents/{doc.id}"))
        assert not [b for b in doc_page.xpath("//button") if "Сформировать заново" in _text(b)], who

    with pytest.raises(ValidationFailed) as refused:
        documents.generate_document(stage, "regulation", actor=world["head"])
    assert refused.value.message == ("Этап «Цели» на рассмотрении: его документы не формируются и не переиздаются, "
                                     "пока этап не утвердят или не вернут на доработку.")
    client.post(f"/documents/stages/{stage.id}/generate", data={"type_key": "regulation"})
    db_session.expire_all()
    assert len(doc.versions) == editions


def test_a_returned_stage_generates_again(world, goal_on_review, db_session):
    from app.documents import services as documents
    from workflows import engine

    stage, doc = goal_on_review
    engine.fire(stage, "return", actor=world["head"], comment="Уточнить обоснование")
    db_session.commit()
    assert documents.generate_document(stage, "regulation", actor=world["official"]).id == doc.id


def test_the_approver_is_told_which_documents_of_the_stage_are_not_signed(client, login, world, goal_on_review):
    stage, doc = goal_on_review
    login(world["head"])
    page = _page(client.get(f"/stages/{stage.id}"))
    note = page.get_element_by_id("unsigned-documents")
    assert f"«{doc.title}» — проект" in _text(note)
    assert "Утверждая этап, вы принимаете его содержание" in _text(note)
    # the official, who cannot approve, is not told to sign
    client.post("/logout")
    login(world["official"])
    assert not _page(client.get(f"/stages/{stage.id}")).xpath("//*[@id='unsigned-documents']")


def test_sending_for_agreement_is_not_offered_when_nobody_may_agree(client, login, world, goal_stage, db_session):
    world["methodologist"].active = False
    doc = generate(goal_stage, "regulation", world["official"], db_session)
    login(world["official"])
    page = _page(client.get(f"/documents/{doc.id}"))
    assert not [b for b in page.xpath("//button") if _text(b) == "Отправить на согласование"]
    said = _text(page.get_element_by_id("withheld-to_approval"))
    assert said.startswith("«Отправить на согласование» сейчас невозможно: Некому согласовать документ"), said
    assert "Администратор назначает эту роль в разделе «Пользователи»" in said

    world["methodologist"].active = True
    db_session.commit()
    page = _page(client.get(f"/documents/{doc.id}"))
    assert [b for b in page.xpath("//button") if _text(b) == "Отправить на согласование"]
    assert not page.xpath("//*[@id='withheld-to_approval']")


def test_an_analytic_report_made_before_the_conclusions_does_not_go_for_approval(world, anl_cycle, db_session):
    from app.documents.models import Document
    from workflows import engine

    stage = anl_cycle.stage("ANL")
    stage.summary = ""
    doc = generate(stage, "analytic_report", world["official"], db_session)
    assert db_session.scalar(select(Document).where(Document.id == doc.id)).current.status == "done"
    stage.summary = "Доля обучающихся ниже целевой в трёх школах.\nПричина — кадровые дефициты."
    db_session.commit()
    stale = ("Документ «Аналитическая справка по результатам мониторинга» сформирован до того, как были записаны "
             "выводы этапа, и его раздел «Выводы» не совпадает с содержанием этапа: сформируйте его заново в разделе "
             "«Документы этапа».")
    assert stale in engine.check_guards(stage, "submit")

    generate(stage, "analytic_report", world["official"], db_session)
    assert not [p for p in engine.check_guards(stage, "submit") if "Аналитическая справка" in p]

    stage.summary += "\nЕщё один вывод."
    db_session.commit()
    assert [p for p in engine.check_guards(stage, "submit") if "до последнего изменения выводов этапа" in p]


def test_a_measure_done_before_its_start_is_not_rated_on_the_values_collected_before_it(chain, world, db_session):
    """The roadmap's measure (08.12–25.12) marked done on 07.12, the values of the monitoring accepted that morning:
    the evaluation rated it «нет эффекта» on values that could not show it."""
    from datetime import timedelta

    from app.effectiveness import services
    from tests.fixtures_effectiveness import make_measure, today

    early = make_measure(chain.cycle, world["official"], "Перекрёстная проверка", indicators=[chain.indicators["up"]],
                         start=today() + timedelta(days=1), end=today() + timedelta(days=18))
    results = {r.measure.id: r for r in services.assess_measures(chain.cycle, services.indicator_rows(chain.cycle),
                                                                  today=today())}
    assert results[early.id].computed == "not_measurable"
    assert results[early.id].details == [("E-01", "не измерялся после окончания меры")]
    assert results[chain.measures["moves"].id].computed == "moved"  # done today, measured today: counts


def test_a_measure_done_early_counts_only_values_measured_after_it_was_done(chain, world, db_session):
    from datetime import datetime, timedelta, timezone

    from app.effectiveness import services
    from app.monitoring.models import IndicatorValue
    from tests.fixtures_effectiveness import make_measure, today

    for value in db_session.scalars(select(IndicatorValue).where(
            IndicatorValue.indicator_id == chain.indicators["up"].id)):
        value.updated_at = datetime.combine(today() - timedelta(days=5), datetime.min.time(), tzinfo=timezone.utc)
    done = make_measure(chain.cycle, world["official"], "Курсы", indicators=[chain.indicators["up"]],
                        start=today() - timedelta(days=10), end=today() + timedelta(days=20))
    db_session.flush()
    results = {r.measure.id: r for r in services.assess_measures(chain.cycle, services.indicator_rows(chain.cycle),
                                                                  today=today())}
    assert results[done.id].computed == "not_measurable"


def test_the_detail_pages_print_the_findings_whole(client, login, chain, world):
    """«…выявлены признаки необъективности результатов (расхождение с о…»: the measure's, the recommendation's
    and the decision's pages cut the finding they rest on at 90 characters."""
    finding = chain.finding
    finding.problem = ("В школе «НОШ д. Боровое» выявлены признаки необъективности результатов (расхождение с "
                       "отметками в журнале) по математике в 5 классе.")
    chain.measures["moves"].findings = [finding]
    login(world["official"])
    for url in (f"/followup/measures/{chain.measures['moves'].id}",
                f"/followup/recommendations/{chain.recommendation.id}", f"/followup/decisions/{chain.decision.id}"):
        page = _page(client.get(url))
        shown = [_text(n) for n in page.xpath(f"//*[@data-finding='{finding.id}']")]
        assert shown == [finding.problem], url


def test_the_list_of_two_stages_is_not_made_anew_from_the_other_stage_while_one_is_on_review(
        client, login, world, make_cycle, db_session):
    """The перечень belongs to «Показатели» and «Методы», which run side by side: with «Показатели» on review, its
    document got a new edition from the «Методы» page (review of walk 19). Refused there too, with the reason on the
    page in place of the button."""
    from app.documents import services as documents
    from app.jobs.queue import dispatch_ready
    from tests.conftest import fill_goal, fill_indicators
    from workflows import engine

    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    engine.fire(cycle.stage("GOAL"), "submit", actor=world["official"])
    engine.fire(cycle.stage("GOAL"), "approve", actor=world["head"])
    ind, meth = cycle.stage("IND"), cycle.stage("METH")
    fill_indicators(cycle, world["official"])
    doc = documents.generate_document(ind, "indicators_approval", actor=world["official"])
    db_session.commit()
    dispatch_ready()
    engine.fire(ind, "submit", actor=world["official"])
    db_session.commit()
    assert (ind.state, meth.state) == ("on_review", "draft")
    editions = len(doc.versions)

    with pytest.raises(ValidationFailed) as refused:
        documents.generate_document(meth, "indicators_approval", actor=world["official"])
    assert refused.value.message.startswith("Этап «Показатели")
    login(world["official"])
    page = _page(client.get(f"/stages/{meth.id}"))
    forms = page.xpath("//form[.//input[@name='type_key' and @value='indicators_approval']]")
    assert not forms
    assert "на рассмотрении" in _text(page.get_element_by_id("frozen-indicators_approval"))
    stage_page = _page(client.get(f"/stages/{ind.id}"))
    assert "на рассмотрении" in _text(stage_page.get_element_by_id("documents-frozen"))
    db_session.expire_all()
    assert len(doc.versions) == editions

"""The 08-70 sheet walked as its readers use it (walk18): where a proposed score was counted, and which self-assessed
points rest on the coordinator's word alone."""

import io
from datetime import date, timedelta

import lxml.html

from tests.access_cases.assessment import make_campaign


def _page(client_for, user, url):
    response = client_for(user).get(url)
    assert response.status_code == 200, response.status_code
    return lxml.html.fromstring(response.get_data(as_text=True))


def _text(node) -> str:
    return " ".join(node.text_content().split())


def _campaign_of_m11(world, db_session, make_user):
    """A campaign over world["mun"]'s M1.1 with no cycle (every proposed score 0): (the region's head, the expert's
    evaluation, its scores, today)."""
    from app.assessment import services

    campaign, _manager, _expert = make_campaign(world, db_session)
    head = make_user("head", world["region"], login="walk18_head")
    mun = world["mun"]
    return (head, services.assignment_for(campaign, mun.id, "M1.1"), services.scores_of(campaign, mun.id, "M1.1"),
            date.today())


def test_the_sheet_links_the_cycle_and_each_blocks_stage_the_proposed_scores_were_counted_from(
        world, db_session, make_cycle, client_for):
    # «1 — целей с обоснованием: 1» with «—» for evidence: the expert had no way to the goals it counted.
    from app.assessment import services

    campaign, _manager, _expert = make_campaign(world, db_session)
    mun = world["mun"]
    assignment = services.assignment_for(campaign, mun.id, "M1.1")
    db_session.commit()
    page = _page(client_for, world["expert"], f"/assessment/evaluations/{assignment.id}")
    note = _text(page.xpath("//*[@id='sheet-cycles']")[0])
    assert note.startswith("У муниципалитета нет цикла механизма M1.1 за период 2025/26"), note
    assert "предложено 0" in note

    cycle = make_cycle(mun, world["official"], mechanism="M1.1", period="2025/26")
    db_session.commit()
    for user in (world["expert"], world["official"]):
        page = _page(client_for, user, f"/assessment/evaluations/{assignment.id}")
        note = page.xpath("//*[@id='sheet-cycles']")[0]
        assert note.xpath(".//a/@href") == [f"/cycles/{cycle.id}"], _text(note)
        goals = page.xpath("//table[@id='sheet']//tr[contains(@class, 'sheet-block')][1]//a[@class and "
                           "contains(@class, 'block-stage')]/@href")
        assert goals == [f"/stages/{cycle.stage('GOAL').id}"]
        # the links open for this reader (the expert's role is valid over the assigned municipality)
        assert client_for(user).get(goals[0]).status_code == 200


def test_a_self_assessed_point_above_the_proposal_without_evidence_is_marked_until_evidence_is_added(
        world, db_session, client_for, make_user):
    # The demo's coordinator claimed GOAL.2 at 1 where the system found nothing, with a comment and no document: the
    # expert, the auditor and the region's head read «1» beside «0 — целей с обоснованием: 0» and nothing saying the
    # point stood on the coordinator's word alone.
    from app.assessment import services

    head, assignment, scores, today = _campaign_of_m11(world, db_session, make_user)
    sa = services.self_assessment_for(assignment.campaign, assignment.municipality_id, "M1.1")
    claimed = next(s for s in scores if s.criterion.code == "GOAL.2")
    assert claimed.proposed_points == 0
    services.save_self_scores(sa, actor=world["official"], today=today, entries={
        s.id: (1 if s is claimed else s.proposed_points, "в пояснительной записке" if s is claimed else None,
               s.version) for s in scores})
    db_session.commit()

    # The coordinator is told while the claim is theirs to support.
    own = _page(client_for, world["official"], f"/assessment/self/{sa.id}")
    assert [r.get("data-criterion") for r in own.xpath("//tr[.//*[contains(@class, 'unsupported-claim')]]")] \
        == ["GOAL.2"]
    # ... pointing at the form by the heading it has (the form had none: «форма под листом» named nothing)
    assert "«Добавить доказательство» под листом" in _text(own.xpath("//*[contains(@class, 'unsupported-claim')]")[0])
    assert [_text(h) for h in own.xpath("//form[@id='evidence-form']//h2")] == ["Добавить доказательство"]
    services.transition_self(sa, "submit", actor=world["official"], today=today)
    db_session.commit()

    for user in (world["expert"], head):
        page = _page(client_for, user, f"/assessment/evaluations/{assignment.id}")
        marked = page.xpath("//table[@id='sheet']//tr[.//*[contains(@class, 'unsupported-claim')]]")
        assert [r.get("data-criterion") for r in marked] == ["GOAL.2"]
        assert "доказательств не приложено" in _text(marked[0])

    # Reopened and supported by a file: the mark goes.
    services.transition_self(sa, "return", actor=world["expert"], today=today, comment="приложите записку")
    services.add_evidence(sa, actor=world["official"], criterion_id=claimed.criterion_id, comment="записка",
                          stream=io.BytesIO(b"%PDF note"), filename="zapiska.pdf")
    db_session.commit()
    page = _page(client_for, head, f"/assessment/evaluations/{assignment.id}")
    assert not page.xpath("//*[contains(@class, 'unsupported-claim')]")


def test_an_experts_point_above_the_proposal_without_evidence_asks_for_its_basis_and_shows_to_the_region(
        world, db_session, client_for, make_user):
    # An expert's 1 where the system found nothing went for approval with no word why, unremarked; the region's head
    # and the auditor read the approved 1 with «—» for evidence and nothing else.
    from app.assessment import services

    head, assignment, scores, today = _campaign_of_m11(world, db_session, make_user)
    raised = next(s for s in scores if s.criterion.code == "GOAL.1")
    services.save_expert_scores(assignment, actor=world["expert"], today=today, entries={
        s.id: (1 if s is raised else s.proposed_points, None, s.version) for s in scores})
    db_session.commit()

    def marked(user):
        page = _page(client_for, user, f"/assessment/evaluations/{assignment.id}")
        return [(r.get("data-criterion"), _text(r.xpath(".//*[contains(@class, 'unsupported-claim')]")[0]))
                for r in page.xpath("//table[@id='sheet']//tr[.//*[contains(@class, 'unsupported-claim')]]")]

    assert marked(world["expert"]) == [("GOAL.1", "Балл выше предложенного системой, а доказательств нет: напишите в "
                                                  "комментарии, на чём он основан.")]
    assert marked(head) == [("GOAL.1", "Выше предложенного системой; доказательств не приложено.")]
    services.save_expert_scores(assignment, actor=world["expert"], today=today,
                                entries={raised.id: (1, "цели утверждены на коллегии", raised.version)})
    db_session.commit()
    assert marked(world["expert"]) == []


def test_the_workbook_names_the_states_as_the_campaign_page_does(world, db_session, client_for, make_user):
    # «черновик» / «возвращена» in the workbook, «оценивается» / «возвращена эксперту» on the page.
    from openpyxl import load_workbook

    from app.assessment import services

    head, assignment, scores, today = _campaign_of_m11(world, db_session, make_user)
    sa = services.self_assessment_for(assignment.campaign, assignment.municipality_id, "M1.1")
    services.save_self_scores(sa, actor=world["official"], today=today,
                              entries={s.id: (s.proposed_points, None, s.version) for s in scores})
    services.transition_self(sa, "submit", actor=world["official"], today=today)
    services.transition_self(sa, "return", actor=world["expert"], today=today, comment="уточните")
    db_session.commit()
    response = client_for(head).get(f"/assessment/campaigns/{assignment.campaign_id}/picture.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data))["Баллы"].iter_rows(min_row=3, values_only=True))
    assert {(r[12], r[13]) for r in rows} == {("возвращена на доработку", "оценивается")}


def test_a_draft_campaigns_table_says_the_proposal_comes_at_publication_not_a_maximum_of_0(world, db_session,
                                                                                           client_for):
    from app.assessment import services
    from app.assessment.criteria import load_criteria, published_sets
    from app.auth.services import create_user
    from tests.conftest import PASSWORD

    load_criteria()
    manager = create_user(login="walk18_official", full_name="Регионова Ольга Петровна", password=PASSWORD,
                          position="консультант", roles=[("official", world["region"])])
    today = date.today()
    campaign = services.create_campaign(
        world["region"], actor=manager, title="Мониторинг механизмов 2026", period="2025/26", window_start=today,
        window_end=today + timedelta(days=30), criteria_set_id=published_sets()[0].id, mechanisms=["M1.1"],
        municipality_ids=[world["mun"].id])
    db_session.commit()
    page = _page(client_for, manager, f"/assessment/campaigns/{campaign.id}")
    # «Предложено»: the second cell after the municipality's heading
    assert [_text(td) for td in page.xpath("//table[@id='overview']/tbody/tr/td[2]")] == ["после публикации"]


def test_the_pictures_gap_says_an_evaluation_returned_to_the_expert_is_compared_too(world, db_session, client_for,
                                                                                     make_user):
    # «где эксперт представил оценку» over a gap that also counts an evaluation the head returned to the expert.
    head, assignment, _scores, _today = _campaign_of_m11(world, db_session, make_user)
    db_session.commit()
    page = _page(client_for, head, f"/assessment/campaigns/{assignment.campaign_id}/picture")
    note = " ".join(" ".join(page.xpath("//p[contains(., 'Расхождение') or contains(., 'расхождение')]//text()"))
                    .split())
    assert "возвращена эксперту на доработку" in note, note


def test_the_register_and_its_export_give_the_basis_of_an_exclusion(world, db_session, client_for, make_user):
    # «исключён с 01.12.2026» and nothing of the order excluding her: the basis lived in the audit log only.
    from openpyxl import load_workbook

    from app.assessment import services
    from app.assessment.models import Expert
    from app.auth.models import User

    _head, assignment, _scores, today = _campaign_of_m11(world, db_session, make_user)
    manager = db_session.get(User, assignment.campaign.created_by_id)  # the region's official who made it
    expert = db_session.get(Expert, assignment.expert_id)
    services.exclude_expert(expert, actor=manager, on=today, reason="приказ министерства от 01.12.2026 № 77-од")
    db_session.commit()
    page = _page(client_for, manager, "/assessment/experts")
    assert [_text(d) for d in page.xpath("//*[contains(@class, 'exclusion-basis')]")] == [
        "приказ министерства от 01.12.2026 № 77-од"]
    rows = list(load_workbook(io.BytesIO(client_for(manager).get("/assessment/experts.xlsx").data)).active
                .iter_rows(values_only=True))
    assert rows[1][-1] == "Основание исключения"
    assert rows[2][-1] == "приказ министерства от 01.12.2026 № 77-од"


def test_closing_the_campaign_closes_the_tasks_its_sheets_can_no_longer_answer(world, db_session, client_for,
                                                                              make_user, monkeypatch):
    # Closed with the report registered, the campaign left the coordinator's and the expert's tasks open (reminded and
    # escalated by «Сроки») towards sheets that refuse every submit: «Кампания не идёт: оценка не принимается.»
    from sqlalchemy import select

    from app.auth.models import User
    from app.tasks.models import Task
    from workflows import hooks

    _head, assignment, _scores, _today = _campaign_of_m11(world, db_session, make_user)
    manager = db_session.get(User, assignment.campaign.created_by_id)
    monkeypatch.setattr(hooks, "registered_document", lambda owner, type_key: [])  # the report is registered
    db_session.commit()

    def open_tasks():
        return sorted(db_session.scalars(select(Task.kind).where(
            Task.object_type.in_(("self_assessment", "expert_evaluation")), Task.state == "open")))

    assert open_tasks() == ["evaluate_mechanism", "self_assess"]
    response = client_for(manager).post(f"/assessment/campaigns/{assignment.campaign_id}/transition",
                                        data={"trigger": "close", "version": assignment.campaign.version})
    assert response.status_code == 303
    db_session.expire_all()
    assert assignment.campaign.state == "closed"
    assert open_tasks() == []


def test_a_closed_campaigns_evaluation_is_neither_approved_nor_returned(world, db_session, make_user, monkeypatch):
    # The head could still approve (or return) an evaluation sent in before the close: the report registered on the
    # evaluations as they stood no longer matched them. Only the closed task stood in the way.
    import pytest

    from app.assessment import services
    from app.auth.models import User
    from app.core.errors import GuardFailed
    from workflows import engine, hooks

    head, assignment, _scores, _today = _campaign_of_m11(world, db_session, make_user)
    manager = db_session.get(User, assignment.campaign.created_by_id)
    assignment.state = "submitted"  # sent in before the close (how it got there is not this test's subject)
    monkeypatch.setattr(hooks, "registered_document", lambda owner, type_key: [])  # the report is registered
    services.close_campaign(assignment.campaign, actor=manager)
    db_session.commit()

    for trigger, comment in (("approve", None), ("return", "Уточнить балл по критерию 1.2")):
        with pytest.raises(GuardFailed) as refused:
            engine.fire(assignment, trigger, actor=head, comment=comment)
        assert refused.value.problems == ["Кампания завершена: экспертные оценки больше не утверждаются и не "
                                          "возвращаются."]
        db_session.rollback()
        assert assignment.state == "submitted"

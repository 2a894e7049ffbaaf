"""What the head approved stays as approved, and the pages say so before a form is filled in: a draft decision of an
approved «Управленческие решения» stage is adopted as it stands, not re-edited; the edit page of an approved roadmap's
measure is its read-only page with the reason and «Перенести сроки» (to the approver); a refused «Перенести сроки»
keeps the dates and reason typed, and the page's other forms stay as the measure stands."""

from datetime import date, timedelta

import lxml.html
import pytest

from tests.fixtures_followup import approve
from tests.test_followup_approved_roadmap import _approved_measure


def _approved_decisions_stage(cycle, world, db_session):
    from app.demo import fill_stage
    from app.followup import services

    for code in ("REC", "MEAS", "DEC"):  # the fixture's cycle waits at REC
        fill_stage(cycle.stage(code), official=world["official"], head=world["head"])
        approve(cycle.stage(code), world)
    db_session.commit()
    assert cycle.stage("DEC").state == "approved"
    return next(d for d in services.decisions_of_cycle(cycle) if d.state == "draft")


def _fields(d) -> dict:
    return dict(text=d.text, kind=d.kind, deadline=d.deadline, responsible_id=d.responsible_id,
                participants=d.participants, basis=d.basis, finding_ids=[f.id for f in d.findings],
                measure_ids=[m.id for m in d.measures])


def test_a_draft_decision_of_an_approved_stage_is_adopted_as_approved_not_edited(rec_cycle, world, db_session):
    from app.core.errors import ValidationFailed
    from app.followup import services
    from workflows import engine

    d = _approved_decisions_stage(rec_cycle, world, db_session)
    text, deadline = d.text, d.deadline
    with pytest.raises(ValidationFailed, match="утверждён: проект решения утверждённого этапа не редактируется"):
        services.update_decision(d, actor=world["official"], today=date.today(), expected_version=d.version,
                                 **{**_fields(d), "text": "Другой текст", "deadline": deadline + timedelta(days=3)})
    db_session.rollback()
    assert (d.text, d.deadline) == (text, deadline)
    # the path the engine offers: the head adopts the draft as the stage approved it
    assert "adopt" in {t.trigger for t in engine.available_transitions(d, world["head"])}
    services.transition_decision(d, "adopt", actor=world["head"], expected_version=d.version)
    db_session.commit()
    assert d.state == "adopted"


def test_the_decision_pages_of_an_approved_stage_offer_no_edit_form(rec_cycle, world, db_session, client_for):
    d = _approved_decisions_stage(rec_cycle, world, db_session)
    official = client_for(world["official"])
    page = official.get(f"/followup/decisions/{d.id}").get_data(as_text=True)
    assert f"/followup/decisions/{d.id}/edit" not in page
    response = official.get(f"/followup/decisions/{d.id}/edit", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="text"' not in text
    assert "проект решения утверждённого этапа не редактируется" in text
    response = official.post(f"/followup/decisions/{d.id}/edit", data={
        "text": "Другой текст", "kind": d.kind, "deadline": d.deadline.isoformat(),
        "responsible_id": d.responsible_id, "basis": d.basis or "x", "version": d.version})
    assert response.status_code == 422
    db_session.refresh(d)
    assert d.text != "Другой текст"


def test_the_edit_page_of_an_approved_roadmaps_measure_is_its_read_only_page(rec_cycle, world, db_session,
                                                                            client_for):
    m, _new_end = _approved_measure(rec_cycle, world, db_session)
    for who, offered in (("official", False), ("head", True)):
        response = client_for(world[who]).get(f"/followup/measures/{m.id}/edit", follow_redirects=True)
        assert response.status_code == 200
        page = lxml.html.fromstring(response.get_data(as_text=True))
        assert not page.xpath("//form[@id='measure-form']")
        alerts = " ".join(a.text_content() for a in page.xpath("//div[contains(@class, 'alert')]"))
        assert "мероприятие утверждённой дорожной карты не редактируется" in alerts
        assert bool(page.xpath("//form[@id='reschedule-form']")) is offered


def test_a_refused_reschedule_keeps_the_dates_and_the_reason_typed(rec_cycle, world, db_session, client_for):
    m, _new_end = _approved_measure(rec_cycle, world, db_session)
    start, end = m.start_date, m.end_date
    typed_end = start - timedelta(days=1)  # before the start: refused by the engine's guard
    response = client_for(world["head"]).post(f"/followup/measures/{m.id}/reschedule", data={
        "start_date": start.isoformat(), "end_date": typed_end.isoformat(), "comment": "Карантин в школах",
        "version": m.version})
    assert response.status_code == 409
    page = lxml.html.fromstring(response.get_data(as_text=True))
    form = page.xpath("//form[@id='reschedule-form']")[0]
    assert form.xpath(".//input[@name='end_date']/@value") == [typed_end.isoformat()]
    assert form.xpath(".//textarea[@name='comment']")[0].text_content().strip() == "Карантин в школах"
    assert "Дата окончания мероприятия раньше даты начала." in response.get_data(as_text=True)
    db_session.refresh(m)
    assert (m.start_date, m.end_date) == (start, end)


def test_a_refused_action_leaves_the_other_forms_of_the_measure_page_as_stored(rec_cycle, world, db_session,
                                                                              client_for):
    """The page has three forms; a refused one comes back as typed, the others as the measure stands: a refused
    «Отменить» (no reason) left «Перенести сроки» with empty dates, and a refused attachment (its form carries no
    version) left every action form without one — the next click was refused as an incomplete form."""
    m, _new_end = _approved_measure(rec_cycle, world, db_session)
    head = client_for(world["head"])
    response = head.post(f"/followup/measures/{m.id}/transition", data={"trigger": "cancel", "comment": " ",
                                                                        "version": m.version})
    assert response.status_code == 422
    page = lxml.html.fromstring(response.get_data(as_text=True))
    form = page.xpath("//form[@id='reschedule-form']")[0]
    assert form.xpath(".//input[@name='start_date']/@value") == [m.start_date.isoformat()]
    assert form.xpath(".//input[@name='end_date']/@value") == [m.end_date.isoformat()]

    response = head.post(f"/followup/measures/{m.id}/attach", data={"kind": "report"})
    assert response.status_code == 422
    page = lxml.html.fromstring(response.get_data(as_text=True))
    for form_id in ("measure-actions", "reschedule-form"):
        assert page.xpath(f"//form[@id='{form_id}']//input[@name='version']/@value") == [str(m.version)], form_id


def _sent(form) -> dict:
    """What the browser sends for `form`: text inputs, checked boxes (lists), textareas, selected options."""
    data: dict = {}
    for i in form.xpath(".//input[@name]"):
        if i.get("type") in ("checkbox", "radio"):
            if i.get("checked") is not None:
                data.setdefault(i.get("name"), []).append(i.get("value"))
        elif i.get("type") != "submit":
            data[i.get("name")] = i.get("value") or ""
    # a browser drops the newline that opens a textarea's content
    data.update({t.get("name"): t.text_content().removeprefix("\n") for t in form.xpath(".//textarea[@name]")})
    for s in form.xpath(".//select[@name]"):
        chosen = s.xpath("./option[@selected]/@value")
        data[s.get("name")] = chosen if s.get("multiple") is not None else (chosen[0] if chosen else "")
    return data


def test_a_stale_measure_form_lists_the_other_save_and_a_second_send_overwrites_knowingly(rec_cycle, world,
                                                                                          db_session, client_for):
    """Refused as stale, the form kept the version it was opened with: every further send was refused again until
    a reload threw the typing away, and the page never said what the other person had saved."""
    from app.demo import fill_stage
    from app.followup import services

    fill_stage(rec_cycle.stage("REC"), official=world["official"], head=world["head"])
    approve(rec_cycle.stage("REC"), world)
    fill_stage(rec_cycle.stage("MEAS"), official=world["official"], head=world["head"])  # the roadmap in draft
    db_session.commit()
    m = next(m for m in services.measures_of_cycle(rec_cycle) if m.state == "planned")
    url = f"/followup/measures/{m.id}/edit"
    mine, theirs = client_for(world["official"]), client_for(world["head"])
    fields = _sent(lxml.html.fromstring(mine.get(url).get_data(as_text=True)).xpath("//form[@id='measure-form']")[0])
    assert theirs.post(url, data={**fields, "title": "Семинар (уточнено руководителем)"}).status_code == 302

    response = mine.post(url, data={**fields, "title": "Семинар для учителей математики"})
    assert response.status_code == 409
    page = lxml.html.fromstring(response.get_data(as_text=True))
    notice = " ".join(page.xpath("//div[@id='stored-now']")[0].text_content().split())
    assert "Мероприятие: Семинар (уточнено руководителем)" in notice and "Дата начала" not in notice
    again = _sent(page.xpath("//form[@id='measure-form']")[0])
    assert again["title"] == "Семинар для учителей математики"
    db_session.expire_all()
    assert m.title == "Семинар (уточнено руководителем)"
    assert mine.post(url, data=again).status_code == 302
    db_session.expire_all()
    assert m.title == "Семинар для учителей математики"


def test_a_stale_decision_form_names_the_deadline_the_other_person_saved(rec_cycle, world, db_session, client_for):
    from app.followup import services

    finding = services.cycle_findings(rec_cycle)[0]
    d = services.create_decision(rec_cycle, actor=world["official"], today=date.today(), text="Поощрить педагогов",
                                 kind="incentive", deadline=date.today() + timedelta(days=30),
                                 responsible_id=world["official"].id, finding_ids=[finding.id], basis="справка")
    db_session.commit()
    url = f"/followup/decisions/{d.id}/edit"
    mine, theirs = client_for(world["official"]), client_for(world["head"])
    fields = _sent(lxml.html.fromstring(mine.get(url).get_data(as_text=True)).xpath("//form[@id='decision-form']")[0])
    later = date.today() + timedelta(days=45)
    assert theirs.post(url, data={**fields, "deadline": later.isoformat()}).status_code == 302
    response = mine.post(url, data={**fields, "text": "Поощрить педагогов-наставников"})
    assert response.status_code == 409
    page = lxml.html.fromstring(response.get_data(as_text=True))
    notice = " ".join(page.xpath("//div[@id='stored-now']")[0].text_content().split())
    assert f"Срок исполнения: {later:%d.%m.%Y}" in notice and "Текст решения: Поощрить педагогов" in notice


def test_a_stale_recommendation_form_names_the_addressees_the_other_person_chose(rec_cycle, world, db_session,
                                                                                client_for, make_recommendation):
    rec = make_recommendation(rec_cycle)
    url = f"/followup/recommendations/{rec.id}/edit"
    mine, theirs = client_for(world["official"]), client_for(world["head"])
    form = lxml.html.fromstring(mine.get(url).get_data(as_text=True)).xpath("//form[.//input[@name='version']]")[0]
    fields = _sent(form)
    assert theirs.post(url, data={**fields, "organisation_ids": [str(world["school_a"].id)]}).status_code == 302
    response = mine.post(url, data={**fields, "text": "Провести анализ результатов ВПР по математике"})
    assert response.status_code == 409
    page = lxml.html.fromstring(response.get_data(as_text=True))
    notice = " ".join(page.xpath("//div[@id='stored-now']")[0].text_content().split())
    assert world["school_a"].display_name in notice and world["school_b"].display_name not in notice
    again = _sent(page.xpath("//form[.//input[@name='version']]")[0])
    assert again["text"] == "Провести анализ результатов ВПР по математике"
    assert mine.post(url, data=again).status_code == 302
    db_session.expire_all()
    assert len(rec.items) == 2 and rec.text == "Провести анализ результатов ВПР по математике"


def test_an_edit_of_the_lists_alone_moves_the_version(rec_cycle, world, db_session, make_recommendation):
    """A measure's recommendations, a decision's measures, a recommendation's addressees are rows of other tables:
    an edit of them alone left the version where it was, and a form opened before it saved over it unrefused."""
    from app.core.errors import StaleObject
    from app.followup import services

    rec = make_recommendation(rec_cycle)
    seen = rec.version
    services.update_recommendation(
        rec, actor=world["head"], today=date.today(), text=rec.text, addressee_group=rec.addressee_group,
        response_deadline=rec.response_deadline, organisation_ids=[world["school_a"].id],
        finding_ids=[f.id for f in rec.findings], basis=rec.basis, expected_version=seen)
    db_session.commit()
    assert rec.version == seen + 1
    with pytest.raises(StaleObject):
        services.update_recommendation(
            rec, actor=world["official"], today=date.today(), text=rec.text, addressee_group=rec.addressee_group,
            response_deadline=rec.response_deadline, organisation_ids=[world["school_b"].id],
            finding_ids=[f.id for f in rec.findings], basis=rec.basis, expected_version=seen)
    db_session.rollback()

    finding = services.cycle_findings(rec_cycle)[0]
    d = services.create_decision(rec_cycle, actor=world["official"], today=date.today(), text="Поощрить педагогов",
                                 kind="incentive", deadline=date.today() + timedelta(days=30),
                                 responsible_id=world["official"].id, finding_ids=[finding.id], basis="справка")
    db_session.commit()
    seen = d.version
    services.update_decision(d, actor=world["official"], today=date.today(), expected_version=seen,
                             **{**_fields(d), "finding_ids": [f.id for f in services.cycle_findings(rec_cycle)[:2]]})
    db_session.commit()
    assert d.version == seen + 1


def test_a_stale_reschedule_names_the_dates_the_other_person_saved(rec_cycle, world, db_session, client_for):
    m, new_end = _approved_measure(rec_cycle, world, db_session)
    url = f"/followup/measures/{m.id}"
    mine, theirs = client_for(world["head"]), client_for(world["head"])
    fields = _sent(lxml.html.fromstring(mine.get(url).get_data(as_text=True)).xpath("//form[@id='reschedule-form']")[0])
    assert theirs.post(f"{url}/reschedule", data={**fields, "end_date": new_end.isoformat(),
                                                  "comment": "Карантин"}).status_code == 302
    mine_end = m.end_date - timedelta(days=1) if m.end_date > m.start_date else m.end_date + timedelta(days=2)
    response = mine.post(f"{url}/reschedule", data={**fields, "end_date": mine_end.isoformat(), "comment": "Олимпиада"})
    assert response.status_code == 409
    page = lxml.html.fromstring(response.get_data(as_text=True))
    form = page.xpath("//form[@id='reschedule-form']")[0]
    notice = " ".join(form.xpath(".//div[@id='stored-now']")[0].text_content().split())
    assert f"Новая дата окончания: {new_end:%d.%m.%Y}" in notice
    again = _sent(form)
    assert (again["end_date"], again["comment"]) == (mine_end.isoformat(), "Олимпиада")
    assert mine.post(f"{url}/reschedule", data=again).status_code == 302
    db_session.expire_all()
    assert m.end_date == mine_end

"""Issue 16, «Bad input and faults», rule by rule where tests/test_assessment.py leaves a side open: editing a draft
campaign (and only a draft), the expert's scores outside 0…max, the expert's evaluation after the window closes
(refused unless the regional official extends it, which is audited), the frozen criteria version after the
campaign started, and two sessions saving the same evaluation at once (optimistic locking: one wins). Each refusal
carries a Russian message and changes nothing."""

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.access_cases.assessment import make_campaign
from tests.conftest import PASSWORD

# the drafts' windows lie next year: a window already over is refused (_campaign_fields)
NEXT = date.today().year + 1


def _audit_count(session) -> int:
    from app.audit.models import AuditEvent

    return session.scalar(select(func.count()).select_from(AuditEvent))


def _events(session, object_type, action):
    from app.audit.models import AuditEvent

    return session.scalars(select(AuditEvent).where(AuditEvent.object_type == object_type,
                                                    AuditEvent.action == action)).all()


def _signed_in(app, user):
    client = app.test_client()
    assert client.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def draft(world, make_org, make_user, db_session):
    """A draft campaign over MUN and MUN-2 (M1.1, M1.2), with coordinators and experts appointed in both."""
    from app.assessment import services
    from app.assessment.criteria import load_criteria, published_sets

    load_criteria()
    cset = published_sets()[0]
    region = world["region"]
    mun2 = make_org("municipality", parent=region, code="MUN-2", name="Район 2")
    official2 = make_user("official", mun2, login="official_2")
    manager = make_user("official", region, login="reg_official", full_name="Регионова Ольга Петровна")
    campaign = services.create_campaign(
        region, actor=manager, title="Мониторинг 2026", period="2025/26", window_start=date(NEXT, 7, 1),
        window_end=date(NEXT, 9, 30), criteria_set_id=cset.id, mechanisms=["M1.1", "M1.2"],
        municipality_ids=[world["mun"].id, mun2.id])
    expert = services.add_expert(region, actor=manager, user_id=world["expert"].id, organisation_id=region.id,
                                 position="эксперт", competences=["M1.1", "M1.2"], included_on=date.today(),
                                 basis="приказ № 1", mechanism_codes=cset.mechanism_codes())
    for mun, coordinator in ((world["mun"], world["official"]), (mun2, official2)):
        services.appoint_coordinator(campaign, municipality_id=mun.id, user_id=coordinator.id, actor=manager)
        for code in ("M1.1", "M1.2"):
            services.assign_expert(campaign, municipality_id=mun.id, mechanism_code=code, expert_id=expert.id,
                                   actor=manager)
    db_session.commit()
    return {"campaign": campaign, "manager": manager, "mun2": mun2, "cset": cset}


def _form(campaign, **changes) -> dict:
    values = dict(title=campaign.title, period=campaign.period, window_start=campaign.window_start,
                  window_end=campaign.window_end, criteria_set_id=campaign.criteria_set_id,
                  mechanisms=list(campaign.mechanisms),
                  municipality_ids=[m.municipality_id for m in campaign.municipalities])
    values.update(changes)
    return values


# --- editing a campaign after creation -----------------------------------------------------------------------------

def test_a_draft_campaign_is_edited_in_one_audited_step(world, draft, db_session):
    from app.assessment import services

    campaign, mun2 = draft["campaign"], draft["mun2"]
    version = campaign.version
    services.update_campaign(campaign, actor=draft["manager"], expected_version=version, **_form(
        campaign, title="Мониторинг механизмов 2026 (уточнено)", period="2024/25", window_start=date(NEXT, 8, 1),
        window_end=date(NEXT, 10, 15), mechanisms=["M1.1"], municipality_ids=[world["mun"].id]))
    db_session.commit()
    db_session.expire_all()
    assert (campaign.title, campaign.period, campaign.window_start, campaign.window_end, campaign.mechanisms) == (
        "Мониторинг механизмов 2026 (уточнено)", "2024/25", date(NEXT, 8, 1), date(NEXT, 10, 15), ["M1.1"])
    # MUN-2 left with its coordinator and experts; M1.2 left with its experts; MUN's M1.1 expert and coordinator stay.
    assert [m.municipality_id for m in campaign.municipalities] == [world["mun"].id]
    assert campaign.municipalities[0].coordinator_id == world["official"].id
    assert [(a.municipality_id, a.mechanism_code) for a in campaign.assignments] == [(world["mun"].id, "M1.1")]
    (event,) = _events(db_session, "assessment_campaign", "update")
    assert event.actor_id == draft["manager"].id
    before, after = json.loads(event.before), json.loads(event.after)
    assert before["period"] == "2025/26" and after["period"] == "2024/25"
    assert before["municipalities"] == sorted([world["mun"].id, mun2.id])
    assert after["municipalities"] == [world["mun"].id]
    # Nothing changed: no second event.
    services.update_campaign(campaign, actor=draft["manager"], **_form(campaign))
    assert len(_events(db_session, "assessment_campaign", "update")) == 1


def test_a_window_already_over_is_refused_but_a_past_drafts_title_can_be_corrected(world, draft, db_session):
    """A campaign whose window ended yesterday (in the region's day) was created and published, and nobody could
    score in it until it was extended. Creating it, or moving a draft's end into the past, is refused in Russian; a
    draft whose saved end has passed still takes a corrected title (its end left as it is)."""
    from app.assessment import services
    from app.assessment.models import Campaign
    from app.core.errors import ValidationFailed
    from app.core.timeutil import format_date
    from app.orgs.services import org_today

    campaign, region = draft["campaign"], world["region"]
    yesterday = org_today(region) - timedelta(days=1)
    said = (f"Окончание периода оценки ({format_date(yesterday)}) уже прошло: эксперты и координаторы не смогут "
            f"выставить баллы. Укажите окончание не раньше {format_date(org_today(region))}.")
    campaigns, audited = db_session.scalar(select(func.count()).select_from(Campaign)), _audit_count(db_session)
    with pytest.raises(ValidationFailed, match="Кампания не создана") as refused:
        services.create_campaign(region, actor=draft["manager"], **_form(
            campaign, window_start=yesterday - timedelta(days=30), window_end=yesterday))
    assert said in refused.value.problems
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Campaign)) == campaigns
    with pytest.raises(ValidationFailed, match="Изменения не сохранены") as refused:
        services.update_campaign(campaign, actor=draft["manager"], **_form(campaign, window_end=yesterday,
                                                                           window_start=yesterday))
    assert said in refused.value.problems
    db_session.rollback()
    assert _audit_count(db_session) == audited
    # a draft left until its end passed: its title is still corrected, the end kept
    campaign.window_start, campaign.window_end = yesterday - timedelta(days=30), yesterday
    db_session.commit()
    services.update_campaign(campaign, actor=draft["manager"], **_form(campaign, title="Мониторинг (уточнено)"))
    db_session.commit()
    db_session.expire_all()
    assert (campaign.title, campaign.window_end) == ("Мониторинг (уточнено)", yesterday)
    # but not published so: every task would be overdue at once and every sheet closed (it was)
    from app.core.errors import GuardFailed

    with pytest.raises(GuardFailed) as refused:
        services.publish_campaign(campaign, actor=draft["manager"])
    assert refused.value.problems == [said]
    db_session.rollback()
    assert campaign.state == "draft" and _audit_count(db_session) == audited + 1
    # today itself is still a day to score in
    services.update_campaign(campaign, actor=draft["manager"], **_form(campaign, window_end=org_today(region)))
    services.publish_campaign(campaign, actor=draft["manager"])
    db_session.commit()
    assert campaign.state == "published"


@pytest.mark.parametrize("changes, message", [
    ({"title": "  "}, "Укажите название кампании."),
    ({"window_end": date(NEXT, 6, 1)}, "Окончание периода оценки раньше его начала."),
    ({"window_start": None}, "Укажите начало и окончание периода оценки."),
    ({"mechanisms": ["M9.9"]}, "Механизмы M9.9 не входят в набор критериев."),
    ({"mechanisms": []}, "Выберите хотя бы один механизм."),
    ({"municipality_ids": []}, "Выберите хотя бы один муниципалитет."),
    ({"criteria_set_id": "999999"}, "Выберите опубликованную версию критериев муниципального уровня."),
    # the period finds the municipalities' cycles: «2025-2026» found none and every mechanism read «нет цикла»
    ({"period": "2025-2026"}, "Период «2025-2026» указывается как учебный год оцениваемых циклов, например 2025/26."),
    ({"period": "2025/27"}, "Период «2025/27» указывается как учебный год оцениваемых циклов, например 2025/26."),
])
def test_bad_campaign_edits_are_refused_and_change_nothing(world, draft, db_session, changes, message):
    from app.assessment import services
    from app.core.errors import ValidationFailed

    campaign = draft["campaign"]
    before, audited = _form(campaign), _audit_count(db_session)
    assignments = len(campaign.assignments)
    with pytest.raises(ValidationFailed, match="Изменения не сохранены") as refused:
        services.update_campaign(campaign, actor=draft["manager"], **_form(campaign, **changes))
    assert message in refused.value.problems
    db_session.rollback()
    db_session.expire_all()
    assert _form(campaign) == before and len(campaign.assignments) == assignments
    assert _audit_count(db_session) == audited


def test_campaign_edit_through_the_page_and_its_refusals(app, world, draft, db_session):
    campaign = draft["campaign"]
    manager = _signed_in(app, draft["manager"])
    page = manager.get(f"/assessment/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Изменить условия кампании" in page and 'id="campaign-edit-form"' in page
    data = {"title": "Новое название", "period": "2025/26", "window_start": f"{NEXT}-07-01",
            "window_end": f"{NEXT}-06-01",
            "criteria_set_id": campaign.criteria_set_id, "mechanisms": ["M1.1"],
            "municipality_ids": [world["mun"].id], "version": campaign.version}
    audited = _audit_count(db_session)
    response = manager.post(f"/assessment/campaigns/{campaign.id}/edit", data=data, follow_redirects=True)
    assert "Окончание периода оценки раньше его начала." in response.get_data(as_text=True)
    db_session.expire_all()
    assert campaign.title == "Мониторинг 2026" and _audit_count(db_session) == audited
    # Someone else's form (a stale version) is refused too.
    response = manager.post(f"/assessment/campaigns/{campaign.id}/edit", follow_redirects=True,
                            data={**data, "window_end": f"{NEXT}-09-30", "version": campaign.version + 5})
    assert "изменён другим пользователем" in response.get_data(as_text=True)
    response = manager.post(f"/assessment/campaigns/{campaign.id}/edit", follow_redirects=True,
                            data={**data, "window_end": f"{NEXT}-09-30"})
    assert "Условия кампании сохранены." in response.get_data(as_text=True)
    db_session.expire_all()
    assert campaign.title == "Новое название" and campaign.mechanisms == ["M1.1"]
    # Not the regional official: the coordinator is refused, nothing changes.
    coordinator = _signed_in(app, world["official"])
    coordinator.post(f"/assessment/campaigns/{campaign.id}/edit", data={**data, "title": "Чужое"})
    db_session.expire_all()
    assert campaign.title == "Новое название"


def test_after_publishing_only_the_extension_exists(world, db_session):
    from app.assessment import services
    from app.core.errors import InvalidTransition

    campaign, manager, _ = make_campaign(world, db_session)
    db_session.commit()
    audited = _audit_count(db_session)
    with pytest.raises(InvalidTransition, match="можно только продлить срок"):
        services.update_campaign(campaign, actor=manager, **_form(campaign, title="Другое"))
    db_session.rollback()
    assert campaign.title == "Мониторинг механизмов 2026" and _audit_count(db_session) == audited


# --- the expert's side of the rules ----------------------------------------------------------------------------

@pytest.fixture
def published(world, db_session):
    from app.assessment import services

    campaign, manager, _ = make_campaign(world, db_session)
    db_session.commit()
    assignment = services.assignment_for(campaign, world["mun"].id, "M1.1")
    return {"campaign": campaign, "manager": manager, "assignment": assignment,
            "scores": {s.criterion.code: s for s in services.scores_of(campaign, world["mun"].id, "M1.1")}}


def test_expert_scores_outside_0_to_max_are_refused(world, published, db_session):
    """IND.1 scores 1 point per required indicator group: its maximum is above 1, and max + 1 is refused."""
    from app.assessment import services
    from app.core.errors import ValidationFailed

    ind = published["scores"]["IND.1"]
    top = ind.criterion.max_points
    assert top > 1
    audited = _audit_count(db_session)
    for raw in (str(top + 1), "-1", "1.5"):
        with pytest.raises(ValidationFailed) as refused:
            services.save_expert_scores(published["assignment"], actor=world["expert"], today=date.today(),
                                        entries={ind.id: (raw, "", ind.version)})
        assert f"Критерий 2.1: балл — целое число от 0 до {top}." in refused.value.problems
        db_session.rollback()
        assert ind.expert_points is None and _audit_count(db_session) == audited
    services.save_expert_scores(published["assignment"], actor=world["expert"], today=date.today(),
                                entries={ind.id: (str(top), "", ind.version)})
    assert ind.expert_points == top


def test_expert_evaluation_after_the_window_is_refused_unless_extended(world, published, db_session):
    from app.assessment import services
    from app.core.errors import GuardFailed, InvalidTransition, ValidationFailed

    campaign, assignment, manager = published["campaign"], published["assignment"], published["manager"]
    late = campaign.window_end + timedelta(days=1)
    entries = {s.id: ("0", "нет документа", s.version) for s in published["scores"].values()}
    audited = _audit_count(db_session)
    with pytest.raises(InvalidTransition, match="Срок оценки истёк"):
        services.save_expert_scores(assignment, actor=world["expert"], today=late, entries=entries)
    db_session.rollback()
    assert all(s.expert_points is None for s in published["scores"].values())
    assert _audit_count(db_session) == audited
    # A bad extension changes nothing either: not later than the window, no basis.
    with pytest.raises(ValidationFailed) as refused:
        services.extend_campaign(campaign, actor=manager, until=campaign.window_end, reason=" ")
    assert "Укажите основание продления." in refused.value.problems
    db_session.rollback()
    assert campaign.extended_until is None and _audit_count(db_session) == audited
    # Only the regional official extends.
    from app.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.extend_campaign(campaign, actor=world["expert"], until=late + timedelta(days=7), reason="прошу")
    db_session.rollback()

    services.extend_campaign(campaign, actor=manager, until=late + timedelta(days=7), reason="приказ № 55")
    services.save_expert_scores(assignment, actor=world["expert"], today=late, entries=entries)
    services.transition_evaluation(assignment, "submit", actor=world["expert"], today=late)
    assert assignment.state == "submitted"
    (event,) = _events(db_session, "assessment_campaign", "extend")
    assert event.reason == "приказ № 55" and event.actor_id == manager.id
    assert json.loads(event.after)["extended_until"] == (late + timedelta(days=7)).isoformat()
    # After the extended end, submitting again is refused as well.
    services.transition_evaluation(assignment, "return", actor=_head(world, db_session), today=late,
                                   comment="Уточните")
    db_session.commit()
    with pytest.raises(GuardFailed) as refused:
        services.transition_evaluation(assignment, "resubmit", actor=world["expert"],
                                       today=late + timedelta(days=8))
    assert any(p.startswith("Срок оценки истёк") for p in refused.value.problems)
    db_session.rollback()
    assert assignment.state == "returned"


def test_an_extension_that_ends_before_today_is_refused(world, published, db_session):
    """A campaign whose window closed two months ago was «extended» to a date still past (later than the window, as
    asked): audited as an extension, while nobody could score in it. The same rule as a new window's end: refused
    in Russian, nothing changed; an extension to today itself is taken."""
    from app.assessment import services
    from app.core.errors import ValidationFailed
    from app.core.timeutil import format_date
    from app.orgs.services import org_today

    campaign, manager = published["campaign"], published["manager"]
    today = org_today(world["region"])
    campaign.window_start, campaign.window_end = today - timedelta(days=90), today - timedelta(days=60)
    db_session.commit()
    audited = _audit_count(db_session)
    yesterday = today - timedelta(days=1)
    with pytest.raises(ValidationFailed, match="Срок не продлён") as refused:
        services.extend_campaign(campaign, actor=manager, until=yesterday, reason="приказ № 56")
    assert refused.value.problems == [
        f"Окончание периода оценки ({format_date(yesterday)}) уже прошло: эксперты и координаторы не смогут "
        f"выставить баллы. Укажите окончание не раньше {format_date(today)}."]
    db_session.rollback()
    assert campaign.extended_until is None and _audit_count(db_session) == audited
    services.extend_campaign(campaign, actor=manager, until=today, reason="приказ № 56")
    db_session.commit()
    assert campaign.window_closes == today


def _head(world, db_session):
    from app.auth.services import create_user

    head = create_user(login="reg_head", full_name="Начальникова Ирина Львовна", password=PASSWORD,
                       roles=[("head", world["region"])])
    db_session.flush()
    return head


def test_a_new_criteria_version_after_the_start_leaves_the_campaign_frozen(world, published, db_session):
    from app.assessment import criteria, services

    campaign = published["campaign"]
    frozen_ids = {s.criterion_id for s in published["scores"].values()}
    new = criteria.new_version(campaign.criteria_set, version="2027.1", title="Региональный", actor=world["admin"],
                               region=world["region"])
    ind = next(c for c in new.criteria if c.mechanism_code == "M1.1" and c.code == "GOAL.1")
    criteria.edit_draft(new, actor=world["admin"], thresholds={"high": "90", "medium": "60", "low": "30"},
                        criteria={ind.id: ("Новая формулировка", "3")})
    criteria.publish(new, actor=world["admin"])
    services.refresh_proposals(campaign)
    db_session.commit()
    db_session.expire_all()
    assert campaign.criteria_set.version == "2026.1" and campaign.criteria_set.thresholds["high"] == 80
    scores = services.scores_of(campaign, world["mun"].id, "M1.1")
    assert {s.criterion_id for s in scores} == frozen_ids
    assert next(s for s in scores if s.criterion.code == "GOAL.1").criterion.max_points == 1


def test_two_sessions_saving_the_same_evaluation_one_wins(app, world, published, db_session):
    """Both forms are loaded before either is saved (two tabs, or the expert and a stand-in): the first save wins,
    the second gets the Russian «changed by someone else» and changes nothing."""
    assignment = published["assignment"]
    score = published["scores"]["GOAL.1"]
    first, second = _signed_in(app, world["expert"]), _signed_in(app, world["expert"])
    url = f"/assessment/evaluations/{assignment.id}"
    assert first.get(url).status_code == 200 and second.get(url).status_code == 200
    form = {f"points-{score.id}": "1", f"comment-{score.id}": "первый", f"version-{score.id}": score.version,
            "version": assignment.version}
    assert "Оценка сохранена" in first.post(f"{url}/scores", data=form, follow_redirects=True).get_data(as_text=True)
    audited = _audit_count(db_session)
    response = second.post(f"{url}/scores", follow_redirects=True,
                           data={**form, f"points-{score.id}": "0", f"comment-{score.id}": "второй"})
    assert "изменён другим пользователем" in response.get_data(as_text=True)
    db_session.expire_all()
    assert (score.expert_points, score.expert_comment) == (1, "первый")
    assert _audit_count(db_session) == audited


@pytest.mark.parametrize("window_end, message", [
    ("9999-12-31", "Укажите дату между 01.01.2000 и 31.12."),
    ("31.02.2026", "«31.02.2026» не является датой (ожидается ДД.ММ.ГГГГ)."),
])
def test_campaign_window_with_an_impossible_date_is_refused(app, world, draft, db_session, window_end, message):
    # A malformed date read as «not given» and «31.12.9999» was kept as the window's end.
    campaign = draft["campaign"]
    manager = _signed_in(app, draft["manager"])
    data = {"title": "Новое название", "period": "2025/26", "window_start": f"{NEXT}-07-01", "window_end": window_end,
            "criteria_set_id": campaign.criteria_set_id, "mechanisms": ["M1.1"],
            "municipality_ids": [world["mun"].id], "version": campaign.version}
    audited = _audit_count(db_session)
    response = manager.post(f"/assessment/campaigns/{campaign.id}/edit", data=data, follow_redirects=True)
    assert message in response.get_data(as_text=True)
    db_session.expire_all()
    assert campaign.title == "Мониторинг 2026" and _audit_count(db_session) == audited


def test_campaign_window_typed_as_people_write_it_is_taken(app, world, draft, db_session):
    campaign = draft["campaign"]
    manager = _signed_in(app, draft["manager"])
    data = {"title": "Новое название", "period": "2025/26", "window_start": f"01.07.{NEXT}",
            "window_end": f"30.09.{NEXT}",
            "criteria_set_id": campaign.criteria_set_id, "mechanisms": ["M1.1"],
            "municipality_ids": [world["mun"].id], "version": campaign.version}
    response = manager.post(f"/assessment/campaigns/{campaign.id}/edit", data=data, follow_redirects=True)
    assert "Условия кампании сохранены." in response.get_data(as_text=True)
    db_session.expire_all()
    assert campaign.window_end == date(NEXT, 9, 30)

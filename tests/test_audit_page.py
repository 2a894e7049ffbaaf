"""The audit-trail page (/audit/): who may open it, whose events it shows, its filters, its keyset
pages, and a statement count that does not grow with the number of rows (no N+1).

Events come from the real services (cycles, content, the workflow engine); chain.record is used
directly only for an event that belongs to no organisation, as a catalogue load would be.
"""

import html
import re
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.orgs.models import Organisation
from tests.conftest import fill_goal
from tests.conftest import counted_statements
from workflows import engine

URL = "/audit/"
ROW = re.compile(r'<tr data-event-id="(\d+)"')
PAGE_SIZE = 50


# --- helpers ---------------------------------------------------------------------------------------

def body(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def row_ids(response) -> list[int]:
    """Event ids of the table rows, in page order."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return [int(n) for n in ROW.findall(response.get_data(as_text=True))]


def row_html(response, event_id: int) -> str:
    text = body(response)
    start = text.index(f'<tr data-event-id="{event_id}"')
    return text[start:text.index("</tr>", start)]


WARNING = re.compile(r'<div class="alert alert-warning[^"]*" role="alert">(.*?)</div>')


def warnings(response) -> list[str]:
    return [html.unescape(m) for m in WARNING.findall(response.get_data(as_text=True))]


def link(response, text: str) -> str | None:
    """The href of the pagination link labelled `text`, or None when it is shown disabled."""
    pattern = r'<a class="page-link" href="([^"]+)"[^>]*>[^<]*' + re.escape(text)
    match = re.search(pattern, response.get_data(as_text=True))
    return html.unescape(match.group(1)) if match else None


def all_events(db_session) -> list[tuple[AuditEvent, str | None]]:
    """Every event with its organisation's path (None for events outside every organisation), newest first."""
    db_session.expire_all()
    return db_session.execute(
        select(AuditEvent, Organisation.path).outerjoin(Organisation, Organisation.id == AuditEvent.organisation_id)
        .order_by(AuditEvent.id.desc())).all()


def expected(db_session, *within, where=lambda e: True) -> list[int]:
    """Ids, newest first, of the events of the subtrees of `within` that satisfy `where`."""
    paths = [org.path for org in within]
    return [e.id for e, path in all_events(db_session)
            if path is not None and any(path.startswith(p) for p in paths) and where(e)]


def busy_cycle(make_cycle, owner, mechanism, *, actor, new_responsible, approver=None, goals=1):
    """A cycle whose first stage went through every kind of event the page renders:
    create, open (automatic), content, submit, return with a comment, and a change of responsible."""
    from app.cycles.services import update_stage_settings

    cycle = make_cycle(owner, actor, mechanism=mechanism)
    for _ in range(goals):
        fill_goal(cycle, actor)
    stage = cycle.stage("GOAL")
    engine.fire(stage, "submit", actor=actor)
    engine.fire(stage, "return", actor=approver or actor, comment=f"Уточните обоснование ({owner.code})")
    update_stage_settings(stage, responsible=new_responsible, deadline=date.today() + timedelta(days=30),
                          actor=actor)
    return cycle


@pytest.fixture
def two_municipalities(world, make_org, make_user, make_cycle, db_session):
    """MUN (with a cycle of its own and one of school A) and a second municipality MUN2 with its school."""
    mun2 = make_org("municipality", parent=world["region"], code="MUN2", name="Второй муниципалитет")
    school_c = make_org("school", parent=mun2, code="SCH-C", name="Школа В")
    head2 = make_user("head", mun2, login="head2", full_name="Второва Мария Ильинична")
    official2 = make_user("official", mun2, login="official2")
    mun_cycle = busy_cycle(make_cycle, world["mun"], "M1.1", actor=world["head"],
                           new_responsible=world["official"])
    school_cycle = make_cycle(world["school_a"], world["director_a"], mechanism="I1.1")
    fill_goal(school_cycle, world["director_a"])
    mun2_cycle = busy_cycle(make_cycle, mun2, "M1.2", actor=head2, new_responsible=official2)
    db_session.commit()
    return {**world, "mun2": mun2, "school_c": school_c, "head2": head2, "official2": official2,
            "mun_cycle": mun_cycle, "school_cycle": school_cycle, "mun2_cycle": mun2_cycle}


# --- who may open the page -------------------------------------------------------------------------

def test_anonymous_user_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login" and parse_qs(location.query)["next"] == ["/audit/"]


@pytest.mark.parametrize("role", ["official", "methodologist", "director_a", "staff_a"])
def test_roles_without_the_page_get_403(world, client, login, role):
    login(world[role])
    response = client.get(URL)
    assert response.status_code == 403
    assert "Доступ запрещён." in body(response)
    assert not ROW.search(response.get_data(as_text=True))


# --- whose events -----------------------------------------------------------------------------------

def test_regional_auditor_sees_the_events_of_both_municipalities(two_municipalities, client, login, db_session):
    w = two_municipalities
    login(w["auditor"])
    shown = row_ids(client.get(URL))
    region_events = expected(db_session, w["region"])
    assert len(region_events) < PAGE_SIZE  # everything fits on the first page
    assert shown == region_events
    assert set(expected(db_session, w["mun"])) < set(shown)
    assert set(expected(db_session, w["mun2"])) < set(shown)


@pytest.mark.parametrize("role", ["auditor", "expert", "head"])
def test_municipal_user_never_sees_another_municipality(two_municipalities, make_user, client, login, db_session,
                                                        role):
    w = two_municipalities
    if role == "expert":
        # The regional expert reads the municipalities assigned to them in a campaign: here MUN only.
        from tests.access_cases.assessment import make_campaign

        make_campaign(w, db_session)
        user = w["expert"]
    else:
        user = w["head"] if role == "head" else make_user(role, w["mun"])
    db_session.commit()
    login(user)
    mun2_events = set(expected(db_session, w["mun2"]))
    assert mun2_events  # the other municipality does have events to leak

    shown = row_ids(client.get(URL))
    assert shown == expected(db_session, w["mun"])
    assert not mun2_events & set(shown)

    # Pointing the filter at the other municipality is refused, not obeyed.
    response = client.get(URL, query_string={"organisation": w["mun2"].id})
    assert any("не найдена среди доступных вам" in m for m in warnings(response))
    assert row_ids(response) == shown
    assert "Второй муниципалитет" not in body(response)  # not even among the filter's choices

    # Nor does an actor filter on the other municipality's head reach its events.
    assert row_ids(client.get(URL, query_string={"actor": w["head2"].id})) == []


def test_scope_comes_from_the_roles_that_open_the_page(two_municipalities, make_user, client, login, db_session):
    """Staff at school B and auditor at school A: the audit page covers school A only."""
    from app.auth.models import RoleAssignment

    w = two_municipalities
    user = make_user("auditor", w["school_a"])
    user.roles.append(RoleAssignment(role="staff", organisation=w["school_b"]))
    db_session.commit()
    login(user)
    assert row_ids(client.get(URL)) == expected(db_session, w["school_a"])


def test_events_without_organisation_are_shown_to_the_regional_admin_only(two_municipalities, make_user, client,
                                                                          login, db_session):
    from app.audit import chain

    w = two_municipalities
    mun_admin = make_user("admin", w["mun"])
    catalogue_event = chain.record(action="load_catalogue", object_type="mechanism_set", object_id=None,
                                   actor_role="system")
    db_session.commit()

    login(w["admin"])  # the log-in itself is such an event
    shown = row_ids(client.get(URL))
    login_event = max(e.id for e, path in all_events(db_session) if e.action == "login")
    assert {catalogue_event.id, login_event} <= set(shown)
    assert shown == [e.id for e, path in all_events(db_session)
                     if path is None or path.startswith(w["region"].path)][:PAGE_SIZE]
    row = row_html(client.get(URL, query_string={"action": "load_catalogue"}), catalogue_event.id)
    assert "загрузка перечня механизмов" in row and "автоматически" in row

    for user in (w["auditor"], mun_admin):
        client.post("/logout")
        login(user)
        no_org = {e.id for e, path in all_events(db_session) if path is None}  # their own log-ins included
        shown = row_ids(client.get(URL))
        assert shown and not set(shown) & no_org
    # The municipal administrator still sees its own municipality, and only it.
    assert shown == expected(db_session, w["mun"])


# --- what a row says -------------------------------------------------------------------------------

def test_an_event_of_many_changes_folds_all_but_its_first_lines(two_municipalities, client, login, db_session):
    """An 08-70 sheet saved writes one event of 18 criteria: 18 lines in the narrow «Изменения» column made the row a
    screen tall and the log 15 000 px long (walk 8). The first six show; the rest fold under «ещё 12 изменений»."""
    import lxml.html

    from app.audit import chain

    w = two_municipalities
    before = {f"field_{n:02d}": None for n in range(18)}
    after = {f"field_{n:02d}": n for n in range(18)}
    event = chain.record(action="update", object_type="organisation", object_id=w["mun"].id, actor=w["admin"],
                         actor_role="admin", organisation_id=w["mun"].id, before=before, after=after)
    few = chain.record(action="update", object_type="organisation", object_id=w["mun"].id, actor=w["admin"],
                       actor_role="admin", organisation_id=w["mun"].id, before={"a": 1, "b": 2}, after={"a": 3, "b": 4})
    db_session.commit()
    login(w["admin"])
    row = lxml.html.fragment_fromstring(row_html(client.get(URL), event.id) + "</tr>", create_parent="table")
    (cell,) = row.xpath(".//td[contains(@class, 'json-diff')]")
    assert len(cell.xpath("./div")) == 6
    (folded,) = cell.xpath("./details")
    assert folded.xpath("./summary")[0].text_content() == "ещё 12 изменений" and len(folded.xpath("./div")) == 12
    assert "<details" not in row_html(client.get(URL), few.id)


def test_rows_speak_russian_and_link_the_cycle_history(two_municipalities, client, login, db_session):
    w = two_municipalities
    cycle = w["mun_cycle"]
    events = {e.action: e for e, _ in all_events(db_session) if e.cycle_id == cycle.id}
    login(w["auditor"])
    response = client.get(URL)

    returned = row_html(response, events["return"].id)
    assert "возвращено на доработку" in returned
    assert "на рассмотрении → черновик" in returned
    assert "Уточните обоснование (MUN)" in returned
    goal_stage = cycle.stage("GOAL")
    assert f'этап <a href="/stages/{goal_stage.id}">1. {goal_stage.title}</a>' in returned
    assert "Тестовый муниципалитет" in returned
    assert "Руководитель органа управления" in returned
    assert f'href="/cycles/{cycle.id}/history"' in returned
    assert f"M1.1, {cycle.period}" in returned

    settings = row_html(response, events["update_settings"].id)
    assert "ответственный и срок" in settings
    assert f"{w['head'].short_name}</span> → {w['official'].short_name}" in settings

    opened = row_html(response, events["open"].id)
    assert "этап открыт" in opened and "автоматически" in opened and "ожидает предыдущего этапа → черновик" in opened

    goal = row_html(response, next(e.id for e, _ in all_events(db_session)
                                   if e.cycle_id == cycle.id and e.object_type == "goal"))
    assert "цель «Создание условий для развития добровольчества обучающихся»" in goal

    org_created = row_html(response, next(e.id for e, _ in all_events(db_session)
                                          if e.object_type == "organisation" and e.object_id == w["school_c"].id))
    assert "создание" in org_created and "Школа В" in org_created and "/cycles/" not in org_created


# --- filters ---------------------------------------------------------------------------------------

def test_each_filter_narrows_the_rows(two_municipalities, client, login, db_session):
    w = two_municipalities
    login(w["auditor"])
    region = w["region"]
    cases = [
        ({"action": "submit"}, expected(db_session, region, where=lambda e: e.action == "submit")),
        ({"object": "goal"}, expected(db_session, region, where=lambda e: e.object_type == "goal")),
        ({"actor": w["head2"].id}, expected(db_session, region, where=lambda e: e.actor_id == w["head2"].id)),
        ({"organisation": w["school_a"].id}, expected(db_session, w["school_a"])),
        ({"organisation": w["mun"].id}, expected(db_session, w["mun"])),  # the subtree, schools included
    ]
    everything = row_ids(client.get(URL))
    for args, wanted in cases:
        response = client.get(URL, query_string=args)
        assert warnings(response) == [], args
        shown = row_ids(response)
        assert shown == wanted, args
        assert shown and set(shown) < set(everything), args
    # The municipality's filter does take in school A's events.
    assert set(expected(db_session, w["school_a"])) < set(expected(db_session, w["mun"]))


def test_filters_combine(two_municipalities, client, login, db_session):
    w = two_municipalities
    login(w["auditor"])
    args = {"organisation": w["mun"].id, "action": "create", "object": "goal", "actor": w["head"].id}
    response = client.get(URL, query_string=args)
    goal_events = [e.id for e, _ in all_events(db_session)
                   if e.cycle_id == w["mun_cycle"].id and e.object_type == "goal" and e.action == "create"]
    assert row_ids(response) == goal_events and len(goal_events) == 1
    # The filter form keeps what was chosen, and the page names the actor it is limited to.
    text = body(response)
    assert f'<option value="{w["mun"].id}" selected>' in text
    assert '<option value="create" selected>' in text and '<option value="goal" selected>' in text
    assert f'<option value="{w["head"].id}" selected>{w["head"].full_name}</option>' in text
    # Dropping one filter widens the result again.
    del args["actor"]
    assert set(row_ids(client.get(URL, query_string=args))) == set(expected(
        db_session, w["mun"], where=lambda e: e.action == "create" and e.object_type == "goal"))


def test_dates_are_days_of_the_application_time_zone(app, two_municipalities, client, login, db_session,
                                                    monkeypatch):
    """23:30 and 00:30 local time straddle midnight: in UTC (Moscow is UTC+3) both are on the same day."""
    w = two_municipalities
    tz = ZoneInfo(app.config["APP_TIMEZONE"])
    late = datetime.combine(date(2020, 3, 10), time(23, 30), tzinfo=tz).astimezone(timezone.utc)
    early = datetime.combine(date(2020, 3, 11), time(0, 30), tzinfo=tz).astimezone(timezone.utc)
    made = {}
    for name, moment in (("late", late), ("early", early)):
        monkeypatch.setattr("app.audit.chain.utcnow", lambda moment=moment: moment)
        made[name] = fill_goal(w["mun_cycle"], w["head"]).id
    monkeypatch.undo()
    db_session.commit()
    late_id, early_id = (db_session.scalar(select(AuditEvent.id).where(
        AuditEvent.object_type == "goal", AuditEvent.object_id == made[n])) for n in ("late", "early"))

    login(w["auditor"])
    everything = row_ids(client.get(URL))
    cases = [
        ({"date_from": "11.03.2020", "date_to": "11.03.2020"}, [early_id]),
        ({"date_from": "2020-03-10", "date_to": "2020-03-10"}, [late_id]),
        ({"date_to": "10.03.2020"}, [late_id]),
        ({"date_from": "10.03.2020", "date_to": "2020-03-11"}, [early_id, late_id]),
        ({"date_from": "12.03.2020"}, [i for i in everything if i not in (late_id, early_id)]),
    ]
    for args, wanted in cases:
        response = client.get(URL, query_string=args)
        assert warnings(response) == [], args
        assert row_ids(response) == wanted, args
    # Combined with another filter.
    assert row_ids(client.get(URL, query_string={"date_to": "10.03.2020", "object": "stage"})) == []


@pytest.mark.parametrize("args, message", [
    ({"organisation": "школа"}, "Организация «школа» не найдена среди доступных вам"),
    ({"organisation": "999999999"}, "Организация «999999999» не найдена среди доступных вам"),
    ({"organisation": "9" * 30}, "не найдена среди доступных вам"),
    ({"organisation": "MUN2"}, "не найдена среди доступных вам"),  # the other municipality, by id below
    ({"action": "drop table"}, "Неизвестное действие «drop table»"),
    ({"object": "password"}, "Неизвестный тип объекта «password»"),
    ({"actor": "иванов"}, "Некорректный номер пользователя «иванов»"),
    ({"actor": "-3"}, "Некорректный номер пользователя «-3»"),
    ({"actor": "9" * 5000}, "Некорректный номер пользователя"),
    ({"date_from": "31.02.2026"}, "Дата «с»: «31.02.2026» не является датой"),
    ({"date_to": "2026-13-01"}, "Дата «по»: «2026-13-01» не является датой"),
    ({"date_from": "01.01.0001"}, "Дата «с»: «01.01.0001» не является датой"),
    ({"date_to": "31.12.9999"}, "Дата «по»: «31.12.9999» не является датой"),
    ({"date_from": "02.03.2026", "date_to": "01.03.2026"}, "Дата «с» позже даты «по»"),
    ({"before": "вчера"}, "Некорректная ссылка на страницу журнала"),
    ({"after": "-1"}, "Некорректная ссылка на страницу журнала"),
])
def test_invalid_filter_values_are_ignored_with_a_warning(two_municipalities, make_user, client, login, db_session,
                                                         args, message):
    w = two_municipalities
    if args.get("organisation") == "MUN2":
        args = {"organisation": str(w["mun2"].id)}
    auditor = make_user("auditor", w["mun"])
    db_session.commit()
    login(auditor)
    unfiltered = row_ids(client.get(URL))
    response = client.get(URL, query_string=args)
    assert response.status_code == 200
    assert any(message in m for m in warnings(response)), warnings(response)
    assert row_ids(response) == unfiltered
    # The warning belongs to that request only.
    assert warnings(client.get(URL)) == []


def test_an_invalid_filter_does_not_drop_the_valid_ones(two_municipalities, client, login, db_session):
    w = two_municipalities
    login(w["auditor"])
    response = client.get(URL, query_string={"action": "submit", "object": "nonsense", "date_to": "вчера"})
    assert [m.split(":")[0] for m in warnings(response)] == ["Неизвестный тип объекта «nonsense»", "Дата «по»"]
    assert row_ids(response) == expected(db_session, w["region"], where=lambda e: e.action == "submit")


def test_blank_filters_from_the_form_are_no_filters(two_municipalities, client, login):
    login(two_municipalities["auditor"])
    everything = row_ids(client.get(URL))
    response = client.get(URL, query_string={k: "" for k in ("organisation", "action", "object", "actor",
                                                              "date_from", "date_to")})
    assert warnings(response) == [] and row_ids(response) == everything


# --- pages -----------------------------------------------------------------------------------------

def test_pages_go_forward_stop_and_come_back(world, make_cycle, client, login, db_session):
    cycle = make_cycle(world["mun"], world["head"])
    for _ in range(60):
        fill_goal(cycle, world["head"])
    db_session.commit()
    wanted = expected(db_session, world["region"])
    assert PAGE_SIZE < len(wanted) <= 2 * PAGE_SIZE

    login(world["auditor"])
    first = client.get(URL)
    assert row_ids(first) == wanted[:PAGE_SIZE]
    assert link(first, "Назад") is None
    older = link(first, "Далее")
    assert older == f"/audit/?before={wanted[PAGE_SIZE - 1]}"

    second = client.get(older)
    assert row_ids(second) == wanted[PAGE_SIZE:]
    assert link(second, "Далее") is None  # the end of the log
    newer = link(second, "Назад")
    assert newer == f"/audit/?after={wanted[PAGE_SIZE]}"
    back = client.get(newer)
    assert row_ids(back) == wanted[:PAGE_SIZE]
    assert link(back, "Назад") is None and link(back, "Далее") == older  # the newest page again


def test_pages_keep_the_filters(world, make_cycle, client, login, db_session):
    cycle = make_cycle(world["mun"], world["head"])
    for _ in range(55):
        fill_goal(cycle, world["head"])
    db_session.commit()
    goals = expected(db_session, world["region"], where=lambda e: e.object_type == "goal")
    assert len(goals) == 55

    login(world["auditor"])
    first = client.get(URL, query_string={"object": "goal", "organisation": world["mun"].id})
    assert row_ids(first) == goals[:PAGE_SIZE]
    older = link(first, "Далее")
    assert "object=goal" in older and f"organisation={world['mun'].id}" in older
    second = client.get(older)
    assert row_ids(second) == goals[PAGE_SIZE:]
    assert link(second, "Далее") is None
    assert row_ids(client.get(link(second, "Назад"))) == goals[:PAGE_SIZE]


def test_a_short_log_shows_no_page_links(two_municipalities, client, login):
    login(two_municipalities["auditor"])
    response = client.get(URL)
    assert "Далее" not in body(response) and "Назад" not in body(response)


# --- no N+1 ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["", "?object=stage", "?action=return&organisation={mun}", "?before=1000000000"])
def test_the_page_issues_a_fixed_number_of_statements(world, make_org, make_user, make_cycle, client, login,
                                                      db_session, query):
    head = make_user("head", world["region"], login="regional_head")
    official = make_user("official", world["region"], login="regional_official")
    mun2 = make_org("municipality", parent=world["region"])
    db_session.commit()
    url = URL + query.format(mun=world["mun"].id)

    def measure():
        db_session.commit()
        login(world["auditor"])
        with counted_statements() as statements:
            shown = row_ids(client.get(url))
        client.post("/logout")
        return len(statements), len(shown)

    # Returning is for the nearest head: MUN's own, or the regional one for MUN2 (which has none).
    busy_cycle(make_cycle, world["mun"], "M1.1", actor=head, new_responsible=official, approver=world["head"])
    few, few_rows = measure()
    plan = [(world["mun"], "M1.2"), (world["mun"], "M1.3"), (world["mun"], "M1.4"), (mun2, "M1.1"),
            (mun2, "M1.2"), (mun2, "M1.3"), (mun2, "M1.4")]
    for owner, mechanism in plan:
        busy_cycle(make_cycle, owner, mechanism, actor=head, new_responsible=official, goals=2,
                   approver=world["head"] if owner is world["mun"] else head)
    many, many_rows = measure()
    assert many_rows >= 3 * few_rows > 0, (few_rows, many_rows)  # the second measure really shows more rows
    # Names are loaded per kind of thing a page mentions, never per row: three times the rows cost no more
    # statements (a page that mentions fewer kinds costs fewer).
    assert many <= few, f"{url}: {few} statements for {few_rows} rows, {many} for {many_rows}"


def _objects_of_every_kind(cycle, user, school) -> dict:
    """One object of each kind whose scope check reads its cycle's owner, in `cycle`: rows made directly (their
    services are tested elsewhere), only the namers are at stake."""
    from app.analysis.models import Finding
    from app.documents.models import Document
    from app.followup.models import Decision, Measure, Recommendation, RecommendationItem
    from app.monitoring.models import DataRequest, Submission

    stage, day = cycle.stage("GOAL"), date(2026, 5, 20)
    common = {"cycle_id": cycle.id, "stage_id": stage.id, "created_by_id": user.id}
    recommendation = Recommendation(text="Рекомендация", addressee_group="organisations", response_deadline=day,
                                    **common)
    request = DataRequest(cycle_id=cycle.id, title="Запрос", period=cycle.period, deadline=day,
                          created_by_id=user.id)
    made = {"measure": Measure(title="Мероприятие", kind="event", responsible_id=user.id, start_date=day,
                               end_date=day, **common),
            "decision": Decision(text="Решение", kind="organisational", deadline=day, responsible_id=user.id,
                                 **common),
            "recommendation": recommendation,
            "recommendation_item": RecommendationItem(recommendation=recommendation, organisation_id=school.id,
                                                      due_date=day),
            "finding": Finding(problem="Проблема", evidence="Данные", **common),
            "data_request": request, "submission": Submission(request=request, organisation_id=school.id),
            "document": Document(cycle_id=cycle.id, stage_id=stage.id, type_key="test", title="Документ")}
    return made


OWNER_READ_KINDS = ("measure", "decision", "recommendation", "recommendation_item", "finding", "data_request",
                    "submission", "document")


def test_naming_objects_costs_the_same_for_any_number_of_cycles(world, make_cycle, client, login, db_session):
    """The namers of objects whose owner is their cycle's (a property) load the cycles and owners with the rows:
    `/audit/?object=measure` over twelve measures in twelve cycles cost one statement per cycle more than over
    three (and an export of the log tens of thousands)."""
    from app.audit import chain

    head, school = world["head"], world["school_a"]
    events: dict[str, list] = {kind: [] for kind in OWNER_READ_KINDS}

    def add(count: int) -> None:
        for _ in range(count):
            cycle = make_cycle(world["mun"], head, period=f"{2000 + len(events['measure'])}/01")
            objects = _objects_of_every_kind(cycle, head, school)
            db_session.add_all(objects.values())
            db_session.flush()
            for kind, obj in objects.items():
                events[kind].append(chain.record(action="update", object_type=kind, object_id=obj.id, actor=head,
                                                 cycle_id=cycle.id, organisation_id=world["mun"].id))
        db_session.commit()

    def measure() -> dict[str, int]:
        login(world["auditor"])
        counts = {}
        for kind in OWNER_READ_KINDS:
            db_session.expire_all()
            with counted_statements() as statements:
                shown = row_ids(client.get(URL, query_string={"object": kind}))
            assert set(shown) == {e.id for e in events[kind]}, kind
            counts[kind] = len(statements)
        client.post("/logout")
        return counts

    add(3)
    few = measure()
    add(9)
    many = measure()
    grown = {kind: (few[kind], many[kind]) for kind in OWNER_READ_KINDS if many[kind] > few[kind]}
    assert not grown, f"statements for 3 objects in 3 cycles and for 12 in 12: {grown}"


def test_a_cycle_above_the_reader_is_named_not_linked(world, make_user, make_cycle, client, login, db_session):
    """An event of the municipality that belongs to the region's cycle (its answer to the region's data request):
    the municipal head reads the cycle's name, but its page and history are 404 to them, so no link is drawn (the
    page offered /cycles/1/history and /stages/… that answered 404)."""
    from app.audit import chain

    region_head = make_user("head", world["region"], login="region_head_a")
    region_cycle = make_cycle(world["region"], region_head, mechanism="R1.1")
    stage = region_cycle.stage("GOAL")
    event = chain.record(action="update", object_type="stage", object_id=stage.id, actor=region_head,
                         cycle_id=region_cycle.id, organisation_id=world["mun"].id)
    db_session.commit()
    login(world["head"])
    assert client.get(f"/cycles/{region_cycle.id}/history").status_code == 404
    row = row_html(client.get(URL), event.id)
    assert f"R1.1, {region_cycle.period}" in row and "1. " in row
    assert f"/cycles/{region_cycle.id}" not in row and f"/stages/{stage.id}" not in row
    client.post("/logout")
    login(region_head)
    row = row_html(client.get(URL), event.id)
    assert f'href="/cycles/{region_cycle.id}/history"' in row and f'href="/stages/{stage.id}"' in row

"""The calendar of deadlines (month and week views, scoped to the user's subtree) and the personal iCalendar
feed: valid RFC 5545 behind a secret link that can be regenerated and revoked."""

import re
from urllib.parse import urlsplit
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.core.timeutil import utcnow
from app.deadlines import ical
from app.deadlines.calendar import calendar_items
from app.deadlines.models import CalendarFeed



def today() -> date:
    """Today when the test runs, not when the module was collected (a suite started before midnight in the
    region's zone, which conftest sets, ran these tests after it, and a «today» taken at collection was
    yesterday for the code under test)."""
    return date.today()


def _cycle_due(world, make_cycle, owner, actor, due, mechanism="I1.1"):
    return make_cycle(owner, actor, mechanism=mechanism, deadlines={"GOAL": due})


def test_calendar_items_are_scoped_to_the_users_subtree(world, make_cycle, db_session):
    due = today() + timedelta(days=3)
    cycle_a = _cycle_due(world, make_cycle, world["school_a"], world["director_a"], due)
    cycle_b = _cycle_due(world, make_cycle, world["school_b"], world["director_b"], due, mechanism="I1.2")
    db_session.commit()
    start, end = today() - timedelta(days=31), today() + timedelta(days=31)

    def uids(user):
        return {i.uid for i in calendar_items(user, start, end, today=today())}

    stage_a, stage_b = f"stage-{cycle_a.stage('GOAL').id}", f"stage-{cycle_b.stage('GOAL').id}"
    assert stage_a in uids(world["director_a"]) and stage_b not in uids(world["director_a"])
    assert stage_b in uids(world["director_b"]) and stage_a not in uids(world["director_b"])
    assert {stage_a, stage_b} <= uids(world["official"])  # the municipality sees both schools
    a_items = calendar_items(world["director_a"], start, end, today=today())
    assert all(i.organisation == world["school_a"].display_name for i in a_items)
    (own_task,) = [i for i in a_items if i.kind == "task"]
    assert own_task.mine and own_task.day == due and not own_task.overdue


def test_overdue_items_are_marked(world, make_cycle, db_session):
    cycle = _cycle_due(world, make_cycle, world["school_a"], world["director_a"], today() - timedelta(days=2))
    db_session.commit()
    items = calendar_items(world["director_a"], today() - timedelta(days=7), today(), today=today())
    assert {i.uid for i in items if i.overdue} == {f"stage-{cycle.stage('GOAL').id}",
                                                    *(i.uid for i in items if i.kind == "task")}


def test_month_and_week_pages(world, make_cycle, client, login, db_session):
    due = today() + timedelta(days=1)
    _cycle_due(world, make_cycle, world["school_a"], world["director_a"], due)
    _cycle_due(world, make_cycle, world["school_b"], world["director_b"], due, mechanism="I1.2")
    late = _cycle_due(world, make_cycle, world["school_a"], world["director_a"], today() - timedelta(days=1),
                      mechanism="I1.3")
    db_session.commit()
    login(world["director_a"])
    month = client.get(f"/deadlines/?view=month&date={due.isoformat()}")
    body = month.get_data(as_text=True)
    assert month.status_code == 200
    assert world["school_a"].display_name in body and world["school_b"].display_name not in body
    assert body.count("<tr>") >= 5  # a week per row
    week = client.get(f"/deadlines/?view=week&date={due.isoformat()}").get_data(as_text=True)
    assert "Неделя" in week and world["school_b"].display_name not in week
    this_week = client.get(f"/deadlines/?view=week&date={today().isoformat()}").get_data(as_text=True)
    if today().weekday() > 0:  # yesterday is in this week
        assert "просрочено" in this_week and late.short_title in this_week
    bad = client.get("/deadlines/?date=31.02.2026")
    assert bad.status_code == 200 and "не является датой" in bad.get_data(as_text=True)
    main = body.split("<main")[1].split("</main>")[0]
    assert "<script" not in main  # server-rendered tables, no JavaScript calendar


def test_bold_marks_the_users_own_items_only_even_when_overdue(world, make_cycle, client, login, db_session):
    # The legend says «Ваши задачи (жирным)»: someone else's overdue task used to be bold as well.
    import lxml.html

    late = today() - timedelta(days=1)
    _cycle_due(world, make_cycle, world["school_a"], world["director_a"], late)
    db_session.commit()

    def overdue_tasks(user):
        client.post("/logout")
        login(user)
        page = lxml.html.fromstring(client.get(f"/deadlines/?view=week&date={late.isoformat()}").data)
        links = page.xpath("//div[contains(@class, 'cal-item')][@data-kind='task']"
                           "[span[contains(., 'просрочено')]]/a")
        assert links, user.login
        return {"fw-semibold" in a.get("class") for a in links}

    assert overdue_tasks(world["director_a"]) == {True}
    assert overdue_tasks(world["official"]) == {False}


# --- iCalendar ----------------------------------------------------------------------------------

def unfold(text: str) -> list[str]:
    """RFC 5545 §3.1: lines end in CRLF; a CRLF followed by one space or tab continues the line."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", ""), "a bare LF"
    assert "\r" not in text.replace("\r\n", ""), "a bare CR"
    return re.sub(r"\r\n[ \t]", "", text).split("\r\n")[:-1]


def parse_ics(text: str) -> dict:
    """A tiny parser: {'props': [...], 'events': [{name: (params, value)}]}, checking structure on the way."""
    for raw in text.split("\r\n"):
        assert len(raw.encode("utf-8")) <= 75, f"line longer than 75 octets: {raw!r}"
    stack, calendar, event = [], {"props": {}, "events": []}, None
    for line in unfold(text):
        match = re.match(r"^([A-Z0-9-]+)((?:;[A-Z0-9-]+=[^:;]+)*):(.*)$", line)
        assert match, f"not a content line: {line!r}"
        name, params, value = match.groups()
        params = dict(p.split("=", 1) for p in params.split(";")[1:])
        if name == "BEGIN":
            stack.append(value)
            if value == "VEVENT":
                event = {}
            continue
        if name == "END":
            assert stack.pop() == value, "BEGIN/END mismatch"
            if value == "VEVENT":
                calendar["events"].append(event)
                event = None
            continue
        target = event if event is not None else calendar["props"]
        target[name] = (params, value)
    assert stack == []
    return calendar


def unescape(value: str) -> str:
    assert not re.search(r"(?<!\\)[,;]", value.replace("\\\\", "")), f"unescaped , or ; in {value!r}"
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def test_rfc5545_escaping_and_folding():
    assert ical.escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    long = "SUMMARY:" + "Ж" * 100
    folded = ical.fold(long)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == long


def _issue_link(client) -> str:
    response = client.post("/deadlines/ical/new")
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    (url,) = re.findall(r'<code[^>]*id="feed-url">([^<]+)<', response.get_data(as_text=True))
    # The link is absolute, on the configured address (APP_BASE_URL), never the request's Host: keep its path.
    assert url.startswith(client.application.config["APP_BASE_URL"].rstrip("/") + "/")
    return urlsplit(url).path


def test_the_feed_is_valid_icalendar_and_stable(world, make_cycle, client, login, db_session):
    due = today() + timedelta(days=4)
    cycle = _cycle_due(world, make_cycle, world["school_a"], world["director_a"], due)
    stage = cycle.stage("GOAL")
    # A title with every character RFC 5545 wants escaped, and long enough to be folded.
    from app.tasks.models import Task

    task = db_session.scalar(select(Task).where(Task.object_id == stage.id, Task.object_type == "stage"))
    task.title = "Заполнить этап; проверить показатели, методы\\источники — очень длинное название задачи"
    db_session.commit()
    login(world["director_a"])
    path = _issue_link(client)
    assert path.startswith("/deadlines/ical/") and path.endswith(".ics")
    client.post("/logout")
    first = client.get(path)  # calendar programs do not sign in
    assert first.status_code == 200 and first.mimetype == "text/calendar"
    text = first.get_data(as_text=True)
    cal = parse_ics(text)
    assert cal["props"]["VERSION"][1] == "2.0" and "PRODID" in cal["props"]
    events = {e["UID"][1]: e for e in cal["events"]}
    assert f"task-{task.id}@uko-cikl" in events and f"stage-{stage.id}@uko-cikl" in events
    event = events[f"task-{task.id}@uko-cikl"]
    assert event["DTSTART"] == ({"VALUE": "DATE"}, due.strftime("%Y%m%d"))
    assert event["DTEND"] == ({"VALUE": "DATE"}, (due + timedelta(days=1)).strftime("%Y%m%d"))
    assert re.fullmatch(r"\d{8}T\d{6}Z", event["DTSTAMP"][1])
    assert unescape(event["SUMMARY"][1]) == task.title
    assert event["URL"][1].endswith(f"/tasks/{task.id}")
    assert any(len(line.encode()) == 75 or line.startswith(" ") for line in text.split("\r\n"))  # folded
    second = parse_ics(client.get(path).get_data(as_text=True))
    assert sorted(e["UID"][1] for e in second["events"]) == sorted(events)  # the same UIDs on every refresh
    # Nothing of school B.
    assert world["school_b"].display_name not in text


def test_regenerating_revokes_the_old_link_and_revoking_ends_the_feed(world, client, login, db_session):
    login(world["director_a"])
    old = _issue_link(client)
    new = _issue_link(client)
    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    feeds = db_session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == world["director_a"].id)).all()
    assert len(feeds) == 2 and sum(f.revoked_at is None for f in feeds) == 1
    secret = new.rsplit("/", 1)[1][:-4]
    assert all(secret not in (f.token_hash, f.prefix) for f in feeds)  # only a hash is kept
    assert client.post("/deadlines/ical/revoke").status_code == 302
    assert client.get(new).status_code == 404
    assert client.get("/deadlines/ical/unknown-secret.ics").status_code == 404
    actions = db_session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "calendar_feed")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["issue_calendar_feed", "revoke_calendar_feed", "issue_calendar_feed", "revoke_calendar_feed"]
    settings = client.get("/deadlines/ical").get_data(as_text=True)
    assert "Действующей ссылки нет" in settings


def test_a_disabled_owner_s_link_stops_working(world, client, login, db_session):
    from app.auth.services import set_active

    feed, secret = ical.issue_feed(world["director_a"], actor=world["director_a"])
    db_session.commit()
    assert client.get(f"/deadlines/ical/{secret}.ics").status_code == 200
    set_active(world["director_a"], False, actor=world["admin"])
    db_session.commit()
    assert client.get(f"/deadlines/ical/{secret}.ics").status_code == 404


def test_render_feed_of_no_items_is_still_a_calendar():
    text = ical.render_feed([], now=datetime(2026, 11, 22, 10, 0, tzinfo=utcnow().tzinfo), base_url="http://x/",
                            calendar_name="Сроки, пусто; тест")
    cal = parse_ics(text)
    assert cal["events"] == [] and unescape(cal["props"]["X-WR-CALNAME"][1]) == "Сроки, пусто; тест"


def test_a_busy_day_of_the_month_shows_a_few_and_links_its_week(world, make_cycle, client, login, db_session):
    """A day with thirty stage deadlines listed all of them in its cell (the demo's month was 6 500 px tall): the
    month shows the first four, overdue and own first, and «ещё сроков: N — неделя» opens the day's week."""
    import lxml.html

    due = today() + timedelta(days=2)
    for n, mechanism in enumerate(("I1.1", "I1.2", "I1.3")):
        _cycle_due(world, make_cycle, world["school_a" if n % 2 == 0 else "school_b"],
                   world["director_a" if n % 2 == 0 else "director_b"], due, mechanism=mechanism)
    db_session.commit()
    login(world["official"])
    items = [i for i in calendar_items(world["official"], due, due, today=today())]
    assert len(items) > 4
    month = lxml.html.fromstring(client.get(f"/deadlines/?view=month&date={due.isoformat()}").get_data(as_text=True))
    cell = next(td for td in month.xpath("//main//td") if td.xpath(".//div[contains(@class, 'cal-item')]"))
    assert len(cell.xpath(".//div[contains(@class, 'cal-item')]")) == 4
    (more,) = cell.xpath(".//a[contains(@class, 'cal-more')]")
    assert more.text_content() == f"ещё сроков: {len(items) - 4} — неделя"
    assert more.get("href") == f"/deadlines/?view=week&date={due.isoformat()}"
    week = client.get(more.get("href")).get_data(as_text=True)
    assert week.count("cal-item") == len(items)


def test_a_busy_days_cell_shows_what_still_needs_doing_before_what_is_done():
    """Of a busy day's deadlines the month shows four: overdue first, then the user's own, then the others — and a
    deadline already met last (it took one of the four places before)."""
    from app.deadlines.calendar import CalendarItem, month_cell

    def item(uid, *, done=False, overdue=False, mine=False):
        return CalendarItem(uid=uid, day=today(), kind="stage", kind_label="Этап", title=uid, organisation="",
                            link="/", done=done, overdue=overdue, mine=mine)

    items = [item("done-mine", done=True, mine=True), item("done", done=True), item("other"),
             item("mine", mine=True), item("overdue", overdue=True), item("other2")]
    shown, more = month_cell(items)
    assert [i.uid for i in shown] == ["overdue", "mine", "other", "other2"] and more == 2
    assert month_cell(items[:3]) == (sorted(items[:3], key=lambda i: i.done), 0)

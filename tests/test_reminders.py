"""Reminders before the due date, on the day a task becomes overdue, escalation after the grace period; each
sent once only (a second run, the command line, a job), counted in the organisation's time zone."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.russian import deputy_for
from app.deadlines.models import Notification, ReminderSent
from app.deadlines.reminders import run_reminders
from tests.fixtures_deadlines import DUE, at, count, notifications_for


def _run(now, db_session) -> int:
    sent = run_reminders(now)
    db_session.commit()
    return sent


@pytest.mark.parametrize("days_before, expected", [(5, 0), (4, 0), (3, 1), (1, 1), (0, 1)])
def test_reminder_before_the_due_date_within_the_configured_days(official_task, world, db_session, days_before,
                                                                 expected):
    assert _run(at(DUE - timedelta(days=days_before)), db_session) == expected
    sent = notifications_for(world["official"], "reminder")
    assert len(sent) == expected
    if expected:
        assert official_task.title in sent[0].title
        assert sent[0].link == f"/tasks/{official_task.id}" and sent[0].task_id == official_task.id
        assert ("сегодня" in sent[0].title) == (days_before == 0)


def test_the_before_reminder_is_sent_once_however_often_the_job_runs(official_task, world, db_session):
    assert _run(at(DUE - timedelta(days=3)), db_session) == 1
    assert _run(at(DUE - timedelta(days=3), 15), db_session) == 0  # same day, later run
    assert _run(at(DUE - timedelta(days=2)), db_session) == 0  # next day: still the same reminder
    assert _run(at(DUE), db_session) == 0  # the due day itself: already reminded
    assert len(notifications_for(world["official"])) == 1
    assert [(r.kind, r.due_date) for r in db_session.scalars(select(ReminderSent))] == [("before", DUE)]


def test_overdue_on_the_day_after_the_due_date_and_escalation_after_the_grace_period(official_task, world,
                                                                                      db_session, app):
    assert app.config["ESCALATION_GRACE_DAYS"] == 2
    assert _run(at(DUE), db_session) == 1  # the «before» reminder, on the due day
    assert _run(at(DUE, 23, 59), db_session) == 0  # not overdue yet at 23:59 local time
    assert _run(at(DUE + timedelta(days=1), 0, 1), db_session) == 1  # overdue from the first minute of the next day
    overdue = notifications_for(world["official"], "overdue")
    assert len(overdue) == 1 and "Просрочена" in overdue[0].title
    assert _run(at(DUE + timedelta(days=2)), db_session) == 0  # within the grace period: no escalation
    assert notifications_for(world["head"]) == []
    assert _run(at(DUE + timedelta(days=3)), db_session) == 1  # overdue for more than 2 days: to the head
    (escalation,) = notifications_for(world["head"], "escalation")
    assert world["official"].short_name in escalation.title and "Просрочено на 3 дня" in escalation.body
    assert escalation.link == f"/tasks/{official_task.id}"
    assert _run(at(DUE + timedelta(days=10)), db_session) == 0  # and never again
    assert notifications_for(world["official"], "escalation") == []


def test_escalation_of_a_school_directors_task_goes_to_the_municipal_head(dated_task_factory, world, db_session):
    task = dated_task_factory(owner=world["school_a"], responsible=world["director_a"], mechanism="I1.1")
    assert _run(at(DUE + timedelta(days=5)), db_session) == 2  # overdue to the director, escalation to the head
    assert len(notifications_for(world["director_a"], "overdue")) == 1
    assert [n.task_id for n in notifications_for(world["head"], "escalation")] == [task.id]
    assert notifications_for(world["official"]) == []


def test_a_staff_members_task_escalates_to_the_school_director(dated_task_factory, world, db_session):
    from app.deadlines.reminders import heads_of

    task = dated_task_factory(owner=world["school_a"], responsible=world["director_a"], mechanism="I1.1")
    task.assignee = world["staff_a"]
    db_session.commit()
    assert [u.login for u in heads_of(task)] == ["director_a"]


def test_a_deadline_moved_later_earns_fresh_reminders(official_task, world, db_session):
    assert _run(at(DUE - timedelta(days=1)), db_session) == 1
    official_task.due_date = DUE + timedelta(days=7)
    db_session.commit()
    assert _run(at(DUE - timedelta(days=1)), db_session) == 0  # the new date is more than 3 days away
    assert _run(at(DUE + timedelta(days=5)), db_session) == 1
    assert len(notifications_for(world["official"], "reminder")) == 2


def test_closed_tasks_get_no_reminders(official_task, db_session):
    from app.core.timeutil import utcnow

    official_task.state, official_task.closed_at = "closed", utcnow()
    db_session.commit()
    assert _run(at(DUE + timedelta(days=10)), db_session) == 0
    assert count(ReminderSent) == 0


def test_deadlines_are_counted_in_the_organisations_time_zone(dated_task_factory, world, make_org, make_user,
                                                              db_session):
    """20:30 UTC four days before the due date is 23:30 in Moscow (still four days to go: no reminder) but
    already 01:30 of the next day in Yekaterinburg (three days to go: the reminder is due)."""
    ural = make_org("municipality", parent=world["region"], code="URAL", name="Уральский округ")
    ural.timezone = "Asia/Yekaterinburg"
    ural_official = make_user("official", ural, login="ural_official")
    moscow_task = dated_task_factory()
    ural_task = dated_task_factory(owner=ural, responsible=ural_official)
    now = at(DUE - timedelta(days=4), 20, 30, tz="UTC")
    assert _run(now, db_session) == 1
    assert [n.task_id for n in db_session.scalars(select(Notification))] == [ural_task.id]
    # At 21:00 UTC Moscow reaches midnight too.
    assert _run(at(DUE - timedelta(days=4), 21, 0, tz="UTC"), db_session) == 1
    assert notifications_for(world["official"])[0].task_id == moscow_task.id


def test_a_school_without_its_own_time_zone_takes_its_regions(dated_task_factory, world, db_session):
    world["region"].timezone = "Asia/Yekaterinburg"
    db_session.commit()
    dated_task_factory(owner=world["school_a"], responsible=world["director_a"], mechanism="I1.1")
    assert _run(at(DUE - timedelta(days=4), 20, 30, tz="UTC"), db_session) == 1


def test_the_deputy_of_an_absent_assignee_gets_a_copy(official_task, world, make_user, db_session):
    from app.deadlines.standins import create_stand_in

    colleague = make_user("official", world["mun"], login="colleague")
    day = (DUE - timedelta(days=2))
    create_stand_in(absent=world["official"], deputy=colleague, start=day - timedelta(days=3), end=day,
                    actor=world["official"], today=day - timedelta(days=3))
    db_session.commit()
    assert _run(at(day), db_session) == 2
    (copy,) = notifications_for(colleague, "reminder")
    assert copy.title.startswith("З" + deputy_for(world["official"])[1:] + ": ")
    assert copy.on_behalf_of_id == world["official"].id
    assert len(notifications_for(world["official"], "reminder")) == 1


def test_flask_reminders_run_prints_the_number_sent(official_task, app, world, db_session):
    runner = app.test_cli_runner()
    when = at(DUE - timedelta(days=2)).isoformat()
    result = runner.invoke(args=["reminders", "run", "--at", when])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "sent: 1"
    result = runner.invoke(args=["reminders", "run", "--at", when])
    assert result.output.strip().splitlines()[-1] == "sent: 0"
    assert len(notifications_for(world["official"])) == 1
    bad = runner.invoke(args=["reminders", "run", "--at", "вчера"])
    assert bad.exit_code != 0 and "ISO 8601" in bad.output


def test_emails_go_out_after_the_commit_through_the_file_backend(official_task, app, world, db_session, tmp_path,
                                                                 monkeypatch):
    from app.deadlines.reminders import reminders_job

    monkeypatch.setitem(app.config, "MAIL_BACKEND", "file")
    monkeypatch.setitem(app.config, "MAIL_FILE_DIR", str(tmp_path))
    world["official"].email = "official@example.org"
    db_session.commit()
    # A run that rolls back sends nothing.
    run_reminders(at(DUE - timedelta(days=1)))
    db_session.rollback()
    from app.jobs.queue import dispatch_ready

    dispatch_ready()
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr("app.deadlines.reminders.utcnow", lambda: at(DUE - timedelta(days=1)))
    assert reminders_job() == 1
    (mail,) = list(tmp_path.iterdir())
    text = mail.read_bytes().decode("utf-8")
    assert "To: official@example.org" in text and "Subject:" in text
    (notification,) = notifications_for(world["official"])
    assert notification.emailed_at is not None
    from app.deadlines.notify import send_notification_email

    assert send_notification_email(notification.id) is False  # never e-mailed twice
    assert len(list(tmp_path.iterdir())) == 1


def test_the_console_backend_logs_and_smtp_is_used_when_configured(official_task, app, world, db_session,
                                                                   monkeypatch, caplog):
    from app.deadlines import notify

    world["official"].email = "official@example.org"
    notification = notify.notify(world["official"], kind="reminder", title="Проверка почты", link="/tasks/")[0]
    db_session.commit()
    with caplog.at_level("INFO", logger="app.deadlines.notify"):
        notify.deliver(notify.build_message(notification))
    assert "official@example.org" in caplog.text

    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            sent.append(("starttls",))

        def login(self, user, password):
            sent.append(("login", user, password))

        def send_message(self, message):
            sent.append(("send", message["To"]))

    monkeypatch.setattr(notify.smtplib, "SMTP", FakeSMTP)
    for key, value in {"MAIL_BACKEND": "smtp", "SMTP_HOST": "mail.example.org", "SMTP_PORT": 587,
                       "SMTP_TLS": True, "SMTP_USER": "uko", "SMTP_PASSWORD": "secret"}.items():
        monkeypatch.setitem(app.config, key, value)
    notify.deliver(notify.build_message(notification))
    assert sent == [("connect", "mail.example.org", 587), ("starttls",), ("login", "uko", "secret"),
                    ("send", "official@example.org")]

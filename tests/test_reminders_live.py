"""Reminders with real commits: two runs at the same moment on PostgreSQL send one set of notifications, and
the periodic job registered with RQ's cron scheduler runs through Redis in a real RQ worker."""

import threading
from datetime import date, timedelta

import pytest
import redis
from sqlalchemy import func, select

from tests import services
from tests.conftest import make_config, track_of
from tests.fixtures_deadlines import at


def _live_app(url):
    from flask_migrate import upgrade

    from app import create_app
    from app.catalogue.services import load_all
    from app.extensions import db

    app = create_app(make_config(url))
    with app.app_context():
        upgrade()
        load_all()
        db.session.commit()
    return app


def _tasks_due(app, due: date, n: int) -> None:
    """A municipality with an official, a head and `n` cycles whose first stage (the official's task) is due."""
    from app.auth.services import create_user
    from app.cycles.services import create_cycle
    from app.extensions import db
    from app.orgs.services import create_organisation

    with app.app_context():
        region = create_organisation(code="RLIVE", name="Область", kind="region")
        mun = create_organisation(code="MLIVE", name="Муниципалитет", kind="municipality", parent=region)
        official = create_user(login="off_live", full_name="Петрова Мария Ивановна", password="x" * 12,
                               email="petrova@example.org", roles=[("official", mun)])
        create_user(login="head_live", full_name="Иванов Сергей Петрович", password="x" * 12, roles=[("head", mun)])
        for code in ["M1.1", "M1.2", "M1.3", "M1.4"][:n]:
            create_cycle(track=track_of(code), owner=mun, period="2025/26", actor=official, responsible=official,
                         deadlines={"GOAL": due})
        db.session.commit()


def _notifications(app) -> list[tuple]:
    from app.deadlines.models import Notification, ReminderSent
    from app.extensions import db

    with app.app_context():
        db.session.expire_all()
        rows = db.session.execute(select(Notification.user_id, Notification.task_id, Notification.kind)
                                  .order_by(Notification.id)).all()
        assert db.session.scalar(select(func.count()).select_from(ReminderSent)) == len(
            {(r.task_id, r.kind) for r in rows})
        return [tuple(r) for r in rows]


@pytest.mark.postgresql_only
def test_two_concurrent_runs_send_one_set_of_notifications():
    services.require_postgres()
    url = services.scratch_database("uko_test_reminders", None, backend="postgresql")
    app = _live_app(url)
    due = date(2026, 12, 10)
    _tasks_due(app, due, 4)
    now = at(due + timedelta(days=5))  # each task: overdue to the official and escalation to the head
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        from app.deadlines.reminders import run_reminders
        from app.extensions import db

        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results.append(run_reminders(now))
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                db.session.rollback()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(results) == 2 and sum(results) == 8  # both ran; together they sent exactly one set
    rows = _notifications(app)
    assert len(rows) == 8 and len(set(rows)) == 8
    assert sorted({r[2] for r in rows}) == ["escalation", "overdue"]
    # A third run, later, sends nothing either.
    from app.deadlines.reminders import run_reminders
    from app.extensions import db

    with app.app_context():
        assert run_reminders(now + timedelta(hours=1)) == 0
        db.session.commit()
        db.engine.dispose()


@pytest.mark.redis
def test_the_periodic_job_runs_through_redis_in_a_real_rq_worker(tmp_path):
    services.require_redis()
    from app.jobs import queue

    url = services.scratch_database("uko_test_reminders_rq", tmp_path)
    connection = redis.Redis.from_url(services.REDIS_URL)
    connection.flushdb()
    app = _live_app(url)
    _tasks_due(app, date.today() + timedelta(days=1), 1)  # due tomorrow: a «before» reminder is owed now
    app.config.update(REDIS_URL=services.REDIS_URL, JOBS_EFFECTIVE_MODE="rq")
    with app.app_context():
        names = ["deadline-reminders", "reconcile-tracked-jobs", "audit-checkpoint"]
        scheduler = queue.cron_scheduler(connection)
        assert [j.name for j in scheduler.get_jobs()] == names
        assert [j.name for j in queue.cron_scheduler(connection).get_jobs()] == names
        enqueued = scheduler.enqueue_jobs()  # what the scheduler does at start: the jobs are due at once
        assert [j.name for j in enqueued] == names
        assert queue.get_queue("periodic").count == 3
        assert scheduler.enqueue_jobs() == []  # not again before the interval has passed
    mail_dir = tmp_path / "mail"
    worker = services.run_flask(["jobs", "worker", "--burst"], url, REDIS_URL=services.REDIS_URL, JOBS_MODE="rq",
                                MAIL_BACKEND="file", MAIL_FILE_DIR=str(mail_dir))
    assert worker.returncode == 0, worker.stderr
    rows = _notifications(app)
    assert [r[2] for r in rows] == ["reminder"]
    # The e-mail went out as its own job after the reminder's commit, and the same worker ran it.
    assert len(list(mail_dir.iterdir())) == 1
    with app.app_context():
        assert queue.get_queue("periodic").count == 0 and queue.get_queue("default").count == 0
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
    connection.flushdb()

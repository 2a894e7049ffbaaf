"""Concurrent transitions against PostgreSQL: exactly one of two simultaneous approvals wins, the other
user gets the Russian "changed by someone else" message, and the audit chain stays linear."""

import threading

import pytest
from sqlalchemy import func, select

from app.core.errors import StaleObject
from tests import services
from tests.conftest import fill_goal, track_of

pytestmark = pytest.mark.postgresql_only
DB_NAME = "uko_test_concurrency"


@pytest.fixture(scope="module")
def live_app():
    """An app on its own PostgreSQL database with real commits (no per-test rollback)."""
    with services.migrated_postgres_app(DB_NAME) as app:
        yield app


def _world(app, suffix):
    from app.auth.services import create_user
    from app.cycles.services import create_cycle
    from app.extensions import db
    from app.orgs.services import create_organisation
    from workflows import engine

    with app.app_context():
        region = create_organisation(code=f"R{suffix}", name="Область", kind="region")
        mun = create_organisation(code=f"M{suffix}", name="Муниципалитет", kind="municipality", parent=region)
        official = create_user(login=f"off{suffix}", full_name="Петрова Мария Ивановна", password="x" * 12,
                               roles=[("official", mun)])
        heads = [create_user(login=f"head{suffix}{n}", full_name=f"Иванов{n} Сергей Петрович", password="x" * 12,
                             roles=[("head", mun)]) for n in (1, 2)]
        cycle = create_cycle(track=track_of("M1.1"), owner=mun, period="2025/26", actor=official,
                             responsible=official)
        fill_goal(cycle, official)
        engine.fire(cycle.stage("GOAL"), "submit", actor=official)
        db.session.commit()
        return cycle.stage("GOAL").id, [h.id for h in heads], cycle.id


def _race(app, stage_id, head_ids, trigger_for):
    from app.auth.models import User
    from app.cycles.models import Stage
    from app.extensions import db
    from workflows import engine

    barrier = threading.Barrier(len(head_ids))
    outcomes = {}

    def attempt(head_id):
        with app.app_context():
            stage = db.session.get(Stage, stage_id)
            actor = db.session.get(User, head_id)
            _ = stage.cycle.stages, stage.definition  # everything loaded before the race starts
            barrier.wait(timeout=10)
            try:
                kwargs = {"comment": "Доработать"} if trigger_for(head_id) == "return" else {}
                engine.fire(stage, trigger_for(head_id), actor=actor, **kwargs)
                db.session.commit()
                outcomes[head_id] = "ok"
            except StaleObject as exc:
                db.session.rollback()
                outcomes[head_id] = exc.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(h,)) for h in head_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("round_", range(3))
def test_two_simultaneous_approvals_exactly_one_wins(live_app, round_):
    from app.audit.chain import verify
    from app.audit.models import AuditEvent
    from app.cycles.models import Stage
    from app.extensions import db

    stage_id, head_ids, cycle_id = _world(live_app, f"a{round_}")
    outcomes = _race(live_app, stage_id, head_ids, lambda _h: "approve")
    assert sorted(outcomes.values()) == ["ok", "Объект изменён другим пользователем, обновите страницу."]
    with live_app.app_context():
        stage = db.session.get(Stage, stage_id)
        winner = next(h for h, o in outcomes.items() if o == "ok")
        assert stage.state == "approved" and stage.approved_by_id == winner
        approvals = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.object_type == "stage", AuditEvent.object_id == stage_id, AuditEvent.action == "approve"))
        assert approvals == 1
        # The next stage was opened once, not twice.
        opened = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.cycle_id == cycle_id, AuditEvent.action == "open"))
        assert opened == 3  # GOAL at creation, then IND and METH
        assert verify().ok


def test_approve_racing_return_never_loses_an_update(live_app):
    from app.cycles.models import Stage
    from app.extensions import db

    stage_id, head_ids, _cycle_id = _world(live_app, "r")
    outcomes = _race(live_app, stage_id, head_ids,
                     lambda h: "approve" if h == head_ids[0] else "return")
    assert list(outcomes.values()).count("ok") == 1
    with live_app.app_context():
        stage = db.session.get(Stage, stage_id)
        expected = "approved" if outcomes[head_ids[0]] == "ok" else "draft"
        assert stage.state == expected


def test_concurrent_audit_appends_keep_one_linear_chain(live_app):
    from app.audit import chain
    from app.audit.models import AuditChainHead
    from app.extensions import db

    with live_app.app_context():
        before = db.session.get(AuditChainHead, 1).count
    barrier = threading.Barrier(4)
    errors = []

    def writer(n):
        try:
            with live_app.app_context():
                barrier.wait(timeout=10)
                for i in range(15):
                    chain.record(action="test", object_type="probe", object_id=n * 100 + i)
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 — collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with live_app.app_context():
        result = chain.verify()
        assert result.ok
        assert db.session.get(AuditChainHead, 1).count == before + 60

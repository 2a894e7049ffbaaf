"""Concurrent transitions against PostgreSQL: exactly one of two simultaneous approvals wins, the other
user gets the Russian "changed by someone else" message, and the audit chain stays linear."""

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from app.core.errors import DomainError
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


def _at_once(app, keys, prepare, act):
    """Run `act(key, prepare(key))` for every key in its own thread and session, all released together once each
    has loaded what it needs; commit each. key → "ok" or the refusal's Russian message (StaleObject, or the
    service's own check once the other one's commit is visible)."""
    from app.extensions import db

    barrier = threading.Barrier(len(keys))
    outcomes = {}

    def attempt(key):
        with app.app_context():
            loaded = prepare(key)
            barrier.wait(timeout=10)
            try:
                act(key, loaded)
                db.session.commit()
                outcomes[key] = "ok"
            except DomainError as exc:
                db.session.rollback()
                outcomes[key] = exc.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def _race(app, stage_id, head_ids, trigger_for):
    from app.auth.models import User
    from app.cycles.models import Stage
    from app.extensions import db
    from workflows import engine

    def prepare(head_id):
        stage = db.session.get(Stage, stage_id)
        _ = stage.cycle.stages, stage.definition  # everything loaded before the race starts
        return stage, db.session.get(User, head_id)

    def act(head_id, loaded):
        stage, actor = loaded
        kwargs = {"comment": "Доработать"} if trigger_for(head_id) == "return" else {}
        engine.fire(stage, trigger_for(head_id), actor=actor, **kwargs)

    return _at_once(app, head_ids, prepare, act)


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


def test_two_saves_of_the_same_expert_evaluation_at_once_one_wins(live_app):
    """The assessment's optimistic locking under a real race (issue 16): the expert saves the same evaluation from
    two sessions at the same moment, both forms carrying the versions they loaded. One save wins; the other gets
    the Russian «changed by someone else» message and changes nothing — no score, no audit event of its own."""
    from app.assessment import services
    from app.assessment.models import Assignment, Score
    from app.audit.chain import verify
    from app.audit.models import AuditEvent
    from app.auth.models import User
    from app.auth.services import create_user
    from app.extensions import db
    from app.orgs.services import create_organisation
    from tests.access_cases.assessment import make_campaign

    with live_app.app_context():
        region = create_organisation(code="RA", name="Область", kind="region")
        mun = create_organisation(code="MA", name="Муниципалитет", kind="municipality", parent=region)
        world = {"region": region, "mun": mun,
                 "official": create_user(login="coord_a", full_name="Петрова Мария Ивановна", password="x" * 12,
                                         roles=[("official", mun)]),
                 "expert": create_user(login="expert_a", full_name="Экспертов Иван Петрович", password="x" * 12,
                                       roles=[("expert", region)])}
        campaign, _manager, _expert = make_campaign(world, db.session)
        assignment = services.assignment_for(campaign, mun.id, "M1.1")
        score = services.scores_of(campaign, mun.id, "M1.1")[0]
        db.session.commit()
        ids = assignment.id, score.id, world["expert"].id
    assignment_id, score_id, expert_id = ids
    points = {"первый": "1", "второй": "0"}

    def prepare(comment):
        row = db.session.get(Assignment, assignment_id)
        _ = row.campaign.criteria_set, row.organisation
        # The version the form was loaded with.
        return row, db.session.get(User, expert_id), db.session.get(Score, score_id).version

    def act(comment, loaded):
        row, actor, seen = loaded
        services.save_expert_scores(row, actor=actor, today=date.today(),
                                    entries={score_id: (points[comment], comment, seen)})

    outcomes = _at_once(live_app, list(points), prepare, act)
    assert sorted(outcomes) == ["второй", "первый"]
    winners = [comment for comment, outcome in outcomes.items() if outcome == "ok"]
    assert len(winners) == 1
    loser = next(outcome for outcome in outcomes.values() if outcome != "ok")
    assert "изменён другим пользователем" in loser
    with live_app.app_context():
        score = db.session.get(Score, ids[1])
        assert score.expert_comment == winners[0]
        assert score.expert_points == (1 if winners[0] == "первый" else 0)
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.object_type == "expert_evaluation", AuditEvent.object_id == ids[0],
            AuditEvent.action == "score_expert")) == 1
        assert verify().ok


def test_two_analysts_starting_an_analysis_at_once_start_one_run(live_app):
    """«Запустить анализ» pressed by two analysts of one cycle at the same moment: both passed the «a run is already
    going» check before either committed, and the cycle got two runs computing the same thing. The second now
    waits for the first and is refused with the Russian message naming the first run."""
    from app.analysis import services
    from app.analysis.models import AnalysisRun
    from app.auth.models import User
    from app.cycles.models import Cycle
    from app.extensions import db
    from app.orgs.services import create_organisation

    stage_id, head_ids, cycle_id = _world(live_app, "an")
    with live_app.app_context():
        mun = db.session.get(Cycle, cycle_id).owner
        create_organisation(code="Man-S1", name="Школа № 1", kind="school", parent=mun)
        db.session.commit()

    def prepare(head_id):
        cycle = db.session.get(Cycle, cycle_id)
        _ = cycle.owner, cycle.track
        return cycle, db.session.get(User, head_id)

    def act(_head_id, loaded):
        cycle, actor = loaded
        services.start_run(cycle, actor=actor, enqueue=False)

    outcomes = _at_once(live_app, head_ids, prepare, act)
    with live_app.app_context():
        runs = db.session.scalars(select(AnalysisRun.id).where(AnalysisRun.cycle_id == cycle_id)).all()
        db.session.remove()
    assert len(runs) == 1
    assert sorted(outcomes.values()) == [
        "ok", f"Анализ № {runs[0]} по этому циклу уже выполняется; дождитесь его окончания."]


def test_two_imports_of_one_organisations_file_at_once_load_it_once(live_app):
    """Two administrators upload the same organisations file at the same moment and two workers take the jobs: both
    found the codes new, the second died on the unique code and its import ended «Внутренняя ошибка». Now the
    second waits for the first and finds the file loaded; the organisations are there once."""
    import io

    from app.auth.services import create_user
    from app.extensions import db
    from app.imports.jobs import run_import
    from app.imports.models import ImportRun
    from app.imports.services import start_import
    from app.orgs.models import Organisation
    from app.orgs.services import create_organisation

    lines = ["code;name;kind;parent_code"] + [f"IMP-S{n:04d};Школа № {n};school;MIMP" for n in range(300)]
    content = ("\n".join(lines) + "\n").encode()
    with live_app.app_context():
        region = create_organisation(code="RIMP", name="Область", kind="region")
        create_organisation(code="MIMP", name="Муниципалитет", kind="municipality", parent=region)
        admin = create_user(login="imp_admin", full_name="Админова Анна Петровна", password="x" * 12,
                            roles=[("admin", region)])
        runs = [start_import("organisations", filename="orgs.csv", stream=io.BytesIO(content), actor=admin,
                             organisation=region, enqueue=False).id for _ in range(2)]
        db.session.commit()
        db.session.remove()

    outcomes = _at_once(live_app, runs, lambda run_id: None, lambda run_id, _loaded: run_import(run_id))
    assert outcomes == {runs[0]: "ok", runs[1]: "ok"}
    with live_app.app_context():
        statuses = sorted(db.session.scalars(select(ImportRun.status).where(ImportRun.id.in_(runs))))
        made = db.session.scalar(select(func.count()).select_from(Organisation).where(
            Organisation.code.like("IMP-S%")))
        db.session.remove()
    assert statuses == ["done", "unchanged"]
    assert made == 300

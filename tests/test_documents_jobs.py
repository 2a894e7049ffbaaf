"""Document generation by a real RQ worker on Redis, and registration numbers under real concurrency
(PostgreSQL: several sessions registering at the same moment get distinct consecutive numbers)."""

import hashlib
import threading
from datetime import date
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from tests import services
from tests.conftest import PASSWORD, fill_goal, make_config, track_of
from tests.test_imports_jobs import dispose, seeded_app

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = services.own_redis_url(5)  # a Redis database of its own: others flush theirs


@pytest.mark.redis
def test_documents_are_generated_by_a_real_rq_worker(tmp_path):
    services.require_redis()
    from app.auth.models import User
    from app.auth.services import create_user
    from app.catalogue.services import load_all
    from app.cycles.services import create_cycle
    from app.documents.models import DocumentVersion
    from app.documents.services import generate_document, version_path
    from app.extensions import db
    from app.jobs import queue
    from app.orgs.models import Organisation

    url = services.scratch_database("docs_test_rq", tmp_path)
    storage, uploads = tmp_path / "storage", tmp_path / "uploads"
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    app = seeded_app(url, uploads, JOBS_MODE="rq", REDIS_URL=REDIS_URL, STORAGE_DIR=str(storage))
    try:
        with app.test_request_context():
            load_all()
            official = db.session.scalar(select(User).where(User.login == "official"))
            mun = db.session.scalar(select(Organisation).where(Organisation.code == "MUN"))
            create_user(login="head", full_name="Начальникова Елена Петровна", password=PASSWORD,
                        position="Начальник управления образования", roles=[("head", mun)])
            cycle = create_cycle(track=track_of("M1.1"), owner=mun, period="2025/26", actor=official,
                                 responsible=official)
            fill_goal(cycle, official)
            empty = create_cycle(track=track_of("M1.2"), owner=mun, period="2025/26", actor=official,
                                 responsible=official)
            good = generate_document(cycle.stage("GOAL"), "regulation", actor=official)
            # Generated without checking first, for a cycle without goals: the job itself must refuse.
            bad = generate_document(empty.stage("GOAL"), "regulation", actor=official, validate=False)
            db.session.commit()
            queue.dispatch_ready()
            good_id, bad_id = good.current.id, bad.current.id
            assert sorted(queue.get_queue("documents").job_ids) == sorted([good.current.rq_job_id,
                                                                          bad.current.rq_job_id])
            assert [good.current.status, bad.current.status] == ["queued", "queued"]

        worker = services.run_flask(["jobs", "worker", "--burst"], url, REDIS_URL=REDIS_URL, JOBS_MODE="rq",
                                    STORAGE_DIR=str(storage), UPLOAD_DIR=str(uploads), PYTHONPATH=str(ROOT))
        assert worker.returncode == 0, worker.stderr
        with app.app_context():
            db.session.expire_all()
            done, failed = db.session.get(DocumentVersion, good_id), db.session.get(DocumentVersion, bad_id)
            assert (done.status, done.progress, done.error) == ("done", 100, None)
            data = version_path(done).read_bytes()
            assert hashlib.sha256(data).hexdigest() == done.sha256 and data[:2] == b"PK"
            assert done.template_version is not None
            assert failed.status == "failed" and "Не сформулировано ни одной цели" in failed.error
            # The refusal was re-raised in the worker, so RQ keeps the failed job too.
            assert queue.get_queue("documents").failed_job_registry.get_job_ids() == [failed.rq_job_id]
    finally:
        dispose(app)
        connection.flushdb()


# --- registration under concurrency (PostgreSQL) -------------------------------------------------

@pytest.fixture(scope="module")
def live_app():
    """An app on its own PostgreSQL database with real commits (no per-test rollback)."""
    services.require_postgres()
    url = services.scratch_database("docs_test_registration", None, backend="postgresql")
    from flask_migrate import upgrade

    from app import create_app
    from app.catalogue.services import load_all
    from app.extensions import db

    app = create_app(make_config(url))
    with app.app_context():
        upgrade()
        load_all()
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def _signed_documents(app, n: int, type_keys=("regulation",)) -> tuple[list[int], int, int]:
    """`n` (≤ 9) signed documents of one municipality (rows written directly: the race is about registration),
    their types taken in turn from `type_keys`."""
    from app.auth.services import create_user
    from app.cycles.services import create_cycle
    from app.documents.models import Document, DocumentVersion
    from app.extensions import db
    from app.orgs.services import create_organisation

    with app.app_context():
        region = create_organisation(code="RREG", name="Область", kind="region")
        mun = create_organisation(code="RMUN", name="Муниципалитет", kind="municipality", parent=region)
        official = create_user(login="reg_official", full_name="Регистраторова Анна", password="x" * 12,
                               roles=[("official", mun)])
        ids = []
        for k in range(n):
            # A cycle (a period) of its own each: a cycle holds one положение (partial unique index).
            cycle = create_cycle(track=track_of("M1.1"), owner=mun, period=f"{2016 + k}/{(17 + k) % 100:02d}",
                                 actor=official, responsible=official)
            doc = Document(cycle_id=cycle.id, stage_id=cycle.stages[0].id, type_key=type_keys[k % len(type_keys)],
                           title=f"Документ {k}", state="signed", created_by_id=official.id)
            doc.versions.append(DocumentVersion(number=1, status="done", progress=100, stored_path=f"x/{k}",
                                                sha256="0" * 64, size=1, signed=True,
                                                signed_at=cycle.created_at))
            db.session.add(doc)
            db.session.flush()
            ids.append(doc.id)
        db.session.commit()
        return ids, official.id, mun.id


@pytest.mark.postgresql_only
def test_simultaneous_registrations_get_distinct_consecutive_numbers(live_app):
    """8 registrations at once in two journals (положения «N-лна», протоколы «N»), the organisation's journals not
    yet set up (the first registrations race to create them), one registration abandoned: each journal gets its
    own gapless sequence 1…4."""
    from app.auth.models import User
    from app.documents import services as documents
    from app.documents.models import Document, DocumentJournal, RegistrationJournal
    from app.extensions import db

    n = 8
    ids, official_id, mun_id = _signed_documents(live_app, n, type_keys=("regulation", "protocol"))
    barrier = threading.Barrier(n)
    outcomes: dict[int, object] = {}

    def register(doc_id: int, roll_back: bool):
        with live_app.app_context():
            try:
                doc = db.session.get(Document, doc_id)
                actor = db.session.get(User, official_id)
                _ = doc.current, doc.cycle.owner, actor.roles  # loaded before the race
                barrier.wait(timeout=20)
                documents.transition(doc, "register", actor=actor)
                outcomes[doc_id] = doc.current.registration_seq
                if roll_back:
                    db.session.rollback()  # this registration is abandoned: its number must be reused
                else:
                    db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                outcomes[doc_id] = exc
                db.session.rollback()
            finally:
                db.session.remove()

    abandoned = ids[0]
    threads = [threading.Thread(target=register, args=(doc_id, doc_id == abandoned)) for doc_id in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not [v for v in outcomes.values() if isinstance(v, Exception)], outcomes
    with live_app.app_context():
        # The abandoned one registers again afterwards and takes the one number still free in its journal.
        doc = db.session.get(Document, abandoned)
        documents.transition(doc, "register", actor=db.session.get(User, official_id))
        db.session.commit()
        year = date.today().year
        versions = [db.session.get(Document, i).current for i in ids]
        by_journal: dict[str, list] = {}
        for version in versions:
            by_journal.setdefault(version.registration_journal.code, []).append(version)
        assert set(by_journal) == {"local_acts", "protocols"}
        for code, suffix in (("local_acts", "-лна"), ("protocols", "")):
            got = by_journal[code]
            assert sorted(v.registration_seq for v in got) == [1, 2, 3, 4], code
            assert sorted(v.registration_number for v in got) == [f"{k}{suffix}" for k in range(1, 5)], code
            assert {v.registration_year for v in got} == {year}
        # One set of journals for the organisation despite the race to create them; one counter per journal.
        codes = db.session.scalars(select(DocumentJournal.code).where(DocumentJournal.organisation_id == mun_id))
        assert sorted(codes) == sorted(["orders", "letters", "protocols", "local_acts", "plans", "reports",
                                              "conclusions", "other"])
        counters = db.session.scalars(select(RegistrationJournal).where(RegistrationJournal.organisation_id == mun_id))
        assert sorted((c.journal_id, c.year, c.last_number) for c in counters) == sorted(
            (by_journal[code][0].registration_journal_id, year, 4) for code in ("local_acts", "protocols"))
        from app.audit.chain import verify  # the audit chain stayed linear under the race

        assert verify().ok


def _race_regulations(live_app, stage_ids: dict[str, int], official_id: int) -> dict[str, object]:
    """Sessions "first" and "second" generate a положение at once, each on its stage: the second waits
    until the first has flushed its row, and the first holds its transaction open 1.5 s so that the second's INSERT
    waits on a unique index. The document id each made, or the exception it got."""
    import time

    from app.auth.models import User
    from app.cycles.models import Stage
    from app.documents import services as documents
    from app.extensions import db

    flushed = threading.Event()
    outcomes: dict[str, object] = {}

    def generate(name: str):
        with live_app.app_context():
            try:
                stage, actor = db.session.get(Stage, stage_ids[name]), db.session.get(User, official_id)
                _ = stage.cycle.owner, actor.roles
                if name == "second":
                    flushed.wait(timeout=20)
                doc = documents.generate_document(stage, "regulation", actor=actor, validate=False)
                outcomes[name] = doc.id
                if name == "first":
                    flushed.set()
                    time.sleep(1.5)  # the second session's INSERT is now waiting on the unique index
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported by the callers' assertions
                outcomes[name] = exc
                flushed.set()
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=generate, args=(name,)) for name in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def _one_document(live_app, where, first_id) -> None:
    """Exactly the first session's document matches `where`, with one version."""
    from app.documents.models import Document, DocumentVersion
    from app.extensions import db

    with live_app.app_context():
        docs = list(db.session.scalars(select(Document).where(where)))
        assert [d.id for d in docs] == [first_id]
        assert db.session.scalar(select(func.count()).select_from(DocumentVersion).where(
            DocumentVersion.document_id == docs[0].id)) == 1


def _race_world(live_app, suffix: str, *, open_ind: bool = False):
    """A municipality of its own, its official and an M1.1 cycle: (cycle id, {stage code: id}, official id)."""
    from app.auth.services import create_user
    from app.cycles.services import create_cycle
    from app.extensions import db
    from app.orgs.services import create_organisation

    with live_app.app_context():
        region = create_organisation(code=f"{suffix}REG", name=f"Область {suffix}", kind="region")
        mun = create_organisation(code=f"{suffix}MUN", name=f"Муниципалитет {suffix}", kind="municipality",
                                  parent=region)
        official = create_user(login=f"{suffix.lower()}_official", full_name="Дублёва Анна", password="x" * 12,
                               roles=[("official", mun)])
        cycle = create_cycle(track=track_of("M1.1"), owner=mun, period="2025/26", actor=official,
                             responsible=official)
        if open_ind:
            cycle.stage("IND").state = "draft"  # opened as the GOAL stage is (it waits after creation)
        db.session.commit()
        return cycle.id, {s.code: s.id for s in cycle.stages}, official.id


@pytest.mark.postgresql_only
def test_simultaneous_first_generations_create_one_document(live_app):
    """Two sessions generate the same stage's first regulation at once: the second one's check cannot see the
    first's uncommitted row, its INSERT waits on the partial unique index and is refused in Russian once the
    first commits. One document, one version."""
    from app.core.errors import ValidationFailed
    from app.documents.models import Document

    _cycle_id, stages, official_id = _race_world(live_app, "D")
    outcomes = _race_regulations(live_app, {"first": stages["GOAL"], "second": stages["GOAL"]}, official_id)
    assert isinstance(outcomes["first"], int), outcomes
    assert isinstance(outcomes["second"], ValidationFailed) and "уже создан" in outcomes["second"].message
    _one_document(live_app, Document.stage_id == stages["GOAL"], outcomes["first"])


@pytest.mark.postgresql_only
def test_two_stages_making_the_same_regulation_at_once_give_one_document(live_app, monkeypatch):
    """A catalogue that lists the положение for two stages: GOAL and IND generate it at the same moment. The second
    session's one-per-track check cannot see the first's uncommitted row; its INSERT waits on the partial unique index
    uq_documents_cycle_one_per_cycle and is refused in Russian once the first commits. One document, one version."""
    import dataclasses

    from app.core.errors import ValidationFailed
    from app.documents import services as documents
    from app.documents.models import Document

    real_type = documents.get_type

    def two_stages(key):
        dtype = real_type(key)
        return dataclasses.replace(dtype, stages=["GOAL", "IND"]) if key == "regulation" else dtype

    monkeypatch.setattr(documents, "get_type", two_stages)
    cycle_id, stages, official_id = _race_world(live_app, "T", open_ind=True)
    outcomes = _race_regulations(live_app, {"first": stages["GOAL"], "second": stages["IND"]}, official_id)
    assert isinstance(outcomes["first"], int), outcomes
    refusal = outcomes["second"]
    assert isinstance(refusal, ValidationFailed), outcomes
    assert ("для этого направления на 2025/26 учебный год уже создан одновременно с вами (второй не создан)"
            in refusal.message)
    _one_document(live_app, Document.cycle_id == cycle_id, outcomes["first"])

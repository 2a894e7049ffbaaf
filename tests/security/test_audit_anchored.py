"""Issue 17 item 9: the audit chain is anchored by signed checkpoints, and on PostgreSQL the table refuses
UPDATE, DELETE and TRUNCATE.

The attack: someone with database access changes the signer of a `sign` event and recomputes every following
hash and the head. The chain alone still verifies; against the checkpoints it does not, and the report names
the stretch of the log that was rewritten."""

import json
import os
import stat

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from app.audit.chain import event_hash, record, verify
from app.audit.checkpoints import CheckpointError, checkpoint_job, key_id, load, verify_with, write
from app.audit.models import AuditChainHead, AuditEvent
from tests import services
from tests.conftest import TEST_DB

KEY = b"k" * 16 + b"0123456789abcdef-test-only"
OTHER_KEY = b"x" * 40


def allow_rewrite(session) -> None:
    """What an intruder with the owner's rights does first on PostgreSQL (rolled back with the test)."""
    if session.connection().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))


def rewrite_consistently(session, event_id: int, **changes) -> None:
    """Change one event and recompute every following hash and the head: a chain that verifies."""
    allow_rewrite(session)
    events = session.scalars(select(AuditEvent).where(AuditEvent.id >= event_id).order_by(AuditEvent.id)).all()
    prev_hash = events[0].prev_hash
    for event in events:
        if event.id == event_id:
            for name, value in changes.items():
                setattr(event, name, value)
        event.prev_hash = prev_hash
        event.hash = event_hash(event)
        prev_hash = event.hash
    session.flush()
    session.execute(AuditChainHead.__table__.update().where(AuditChainHead.id == 1).values(last_hash=prev_hash))
    session.expire_all()


def _events(world, n, action="update"):
    return [record(action=action, object_type="document", object_id=k, actor=world["official"],
                   actor_role="official") for k in range(n)]


def test_a_consistent_rewrite_before_a_checkpoint_is_detected_and_located(world, db_session, tmp_path):
    _events(world, 3)
    first_path, first = write(tmp_path, KEY)
    before = _events(world, 2)
    signed = record(action="sign", object_type="document", object_id=7, actor=world["head"], actor_role="head",
                    from_state="awaiting_signature", to_state="signed")
    after = _events(world, 4)
    _second_path, second = write(tmp_path, KEY)
    _events(world, 2)  # after the last checkpoint
    db_session.commit()
    assert verify_with(tmp_path, KEY)[0].ok

    rewrite_consistently(db_session, signed.id, actor_id=world["official"].id,
                         actor_name=world["official"].full_name, actor_role="official")
    assert verify().ok  # the chain alone cannot tell
    result, anchors, problems = verify_with(tmp_path, KEY)
    assert problems == [] and len(anchors) == 2
    assert not result.ok
    assert result.broken_id == second.last_event_id == after[-1].id
    assert f"после записи id={first.last_event_id}" in result.reason
    assert f"по id={second.last_event_id}" in result.reason and "переписан" in result.reason
    assert first.last_event_id < before[0].id < signed.id <= second.last_event_id
    assert _second_path.name in result.reason


def test_a_rewrite_after_the_last_checkpoint_is_not_claimed_and_a_new_one_refuses_a_broken_chain(
        world, db_session, tmp_path):
    """Checkpoints anchor what they signed; a naive edit after them is still caught by the chain itself, and
    `write` never anchors a chain that does not verify."""
    _events(world, 2)
    write(tmp_path, KEY)
    later = _events(world, 2)
    db_session.commit()
    allow_rewrite(db_session)
    db_session.execute(text("UPDATE audit_events SET reason = 'подделка' WHERE id = :id"), {"id": later[0].id})
    db_session.expire_all()
    result = verify_with(tmp_path, KEY)[0]
    assert not result.ok and result.broken_id == later[0].id and "изменено" in result.reason
    with pytest.raises(CheckpointError, match="журнал аудита нарушен"):
        write(tmp_path, KEY)
    assert len(list(tmp_path.iterdir())) == 1


def test_deleting_the_tail_and_rewinding_the_head_is_caught_by_the_checkpoint(world, db_session, tmp_path):
    events = _events(world, 5)
    write(tmp_path, KEY)
    db_session.commit()
    allow_rewrite(db_session)
    db_session.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": events[3].id})
    db_session.execute(AuditChainHead.__table__.update().where(AuditChainHead.id == 1)
                       .values(last_hash=events[2].hash, last_event_id=events[2].id,
                               count=AuditChainHead.count - 2))
    db_session.expire_all()
    assert verify().ok
    result = verify_with(tmp_path, KEY)[0]
    assert not result.ok and "записи удалены" in result.reason


def test_a_forged_or_foreign_checkpoint_file_is_reported(world, db_session, tmp_path):
    _events(world, 2)
    path, _anchor = write(tmp_path, KEY)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444  # written once, read-only
    data = json.loads(path.read_text(encoding="utf-8"))
    data["count"] += 1
    forged = tmp_path / "audit-checkpoint-forged.json"
    forged.write_text(json.dumps(data), encoding="utf-8")
    anchors, problems = load(tmp_path, KEY)
    assert len(anchors) == 1 and len(problems) == 1 and "подпись не сходится" in problems[0]
    assert load(tmp_path, OTHER_KEY)[0] == []
    assert all("другим ключом" in p for p in load(tmp_path, OTHER_KEY)[1])
    other_dir = tmp_path / "other"
    write(other_dir, OTHER_KEY)
    assert load(other_dir, KEY)[0] == [] and "другим ключом" in load(other_dir, KEY)[1][0]
    assert data["key_id"] == key_id(KEY) and KEY.decode() not in path.read_text(encoding="utf-8")
    assert (data["format"], data["algorithm"]) == (1, "HMAC-SHA256")  # the layout readers of the files rely on
    with pytest.raises(CheckpointError, match="неверные контрольные точки"):
        write(tmp_path, KEY)


def test_bad_files_are_reported_one_by_one_and_the_good_ones_still_count(world, db_session, tmp_path):
    from app.audit.checkpoints import sign

    _events(world, 2)
    path, anchor = write(tmp_path, KEY)
    # Names that sort before the good file, so a bad one never hides those after it.
    (tmp_path / "audit-checkpoint-0a-garbage.json").write_text("not json", encoding="utf-8")
    (tmp_path / "audit-checkpoint-0b-list.json").write_text("[1, 2]", encoding="utf-8")
    foreign = json.loads(path.read_text(encoding="utf-8"))
    foreign["key_id"] = "f" * 16
    (tmp_path / "audit-checkpoint-0c-foreign.json").write_text(json.dumps(foreign), encoding="utf-8")
    malformed = {"format": 1, "algorithm": "HMAC-SHA256", "key_id": key_id(KEY), "created_at": "x", "count": [1],
                 "last_event_id": 1, "head_hash": "0" * 64}
    malformed["signature"] = sign(malformed, KEY)
    (tmp_path / "audit-checkpoint-0d-malformed.json").write_text(json.dumps(malformed), encoding="utf-8")
    for n, broken in enumerate(({"count": "три"}, {"count": None}), start=4):
        fields = {**malformed, **broken}
        if broken["count"] is None:
            del fields["count"]
        fields["signature"] = sign(fields, KEY)
        (tmp_path / f"audit-checkpoint-0{'ef'[n - 4]}-malformed.json").write_text(json.dumps(fields), encoding="utf-8")
    (tmp_path / "audit-checkpoint-0g-directory.json").mkdir()
    forged = {**json.loads(path.read_text(encoding="utf-8")), "count": 1}
    (tmp_path / "audit-checkpoint-0h-forged.json").write_text(json.dumps(forged), encoding="utf-8")
    anchors, problems = load(tmp_path, KEY)
    assert [a.label for a in anchors] == [path.name] and anchors[0].count == anchor.count
    assert len(problems) == 8 and "подпись не сходится" in problems[7]
    assert "не читается" in problems[0] and "не читается" in problems[1]
    assert "другим ключом" in problems[2]
    assert all("не хватает полей" in p for p in problems[3:6]) and "не читается" in problems[6]
    assert len(key_id(KEY)) == 16


def test_the_periodic_job_logs_and_raises_when_the_chain_is_broken(app, world, db_session, tmp_path, caplog):
    events = _events(world, 2)
    db_session.commit()
    allow_rewrite(db_session)
    db_session.execute(text("UPDATE audit_events SET reason = 'подделка' WHERE id = :id"), {"id": events[0].id})
    db_session.expire_all()
    app.config.update(AUDIT_CHECKPOINT_KEY=KEY.decode(), AUDIT_CHECKPOINT_DIR=str(tmp_path))
    try:
        with pytest.raises(CheckpointError):
            checkpoint_job()
    finally:
        app.config.update(AUDIT_CHECKPOINT_KEY=None, AUDIT_CHECKPOINT_DIR=None)
    assert "audit checkpoint refused" in caplog.text and list(tmp_path.iterdir()) == []


def test_the_signed_message_is_fixed_so_old_checkpoints_stay_verifiable():
    """The bytes signed are canonical JSON (sorted keys, no spaces) of the named fields; a change here would
    make every checkpoint an operator keeps unverifiable."""
    import hashlib
    import hmac

    from app.audit.checkpoints import sign

    fields = {"head_hash": "ab" * 32, "count": 3, "created_at": "2026-12-04T06:00:00+00:00", "format": 1,
              "algorithm": "HMAC-SHA256", "key_id": "0123456789abcdef", "last_event_id": 7, "extra": "ignored"}
    message = ('{"algorithm":"HMAC-SHA256","count":3,"created_at":"2026-12-04T06:00:00+00:00","format":1,'
               '"head_hash":"' + "ab" * 32 + '","key_id":"0123456789abcdef","last_event_id":7}').encode()
    assert sign(fields, KEY) == hmac.new(KEY, message, hashlib.sha256).hexdigest()


def test_checkpoints_need_a_key_and_a_directory(app, db_session, tmp_path):
    with pytest.raises(CheckpointError, match="AUDIT_CHECKPOINT_KEY"):
        write(tmp_path)
    app.config.update(AUDIT_CHECKPOINT_KEY="k" * 31)
    with pytest.raises(CheckpointError, match="короче 32"):
        write(tmp_path)
    app.config.update(AUDIT_CHECKPOINT_KEY="k" * 32)
    assert write(tmp_path)[1].count >= 0  # 32 characters are enough
    app.config.update(AUDIT_CHECKPOINT_KEY="short")
    try:
        with pytest.raises(CheckpointError, match="короче 32"):
            write(tmp_path)
        assert checkpoint_job() is None  # not configured: the periodic job does nothing
        app.config.update(AUDIT_CHECKPOINT_KEY=KEY.decode(), AUDIT_CHECKPOINT_DIR=str(tmp_path / "cp" / "audit"))
        written = checkpoint_job()  # the directory is created, parents and all
        assert written and written.startswith(str(tmp_path / "cp" / "audit"))
    finally:
        app.config.update(AUDIT_CHECKPOINT_KEY=None, AUDIT_CHECKPOINT_DIR=None)


def test_the_periodic_checkpoint_is_declared_as_data():
    from app.jobs.queue import PERIODIC_JOBS

    job = next(j for j in PERIODIC_JOBS if j.name == "audit-checkpoint")
    assert job.func == "app.audit.checkpoints.checkpoint_job" and job.interval <= 24 * 3600


# --- the operator's commands, end to end ---------------------------------------------------------------

def test_flask_audit_checkpoint_and_verify_with_checkpoints(tmp_path):
    url = services.seeded_demo_database("uko_test_audit_anchor", tmp_path)  # `flask db upgrade`, `flask seed demo`
    env = {"AUDIT_CHECKPOINT_KEY": KEY.decode()}
    checkpoints = tmp_path / "checkpoints"
    refused = services.run_flask(["audit", "checkpoint", "--dir", str(checkpoints)], url)
    assert refused.returncode == 1 and "AUDIT_CHECKPOINT_KEY" in refused.stderr
    written = services.run_flask(["audit", "checkpoint"], url, AUDIT_CHECKPOINT_DIR=str(checkpoints), **env)
    assert written.returncode == 0, written.stderr
    assert "Контрольная точка записана" in written.stdout and len(list(checkpoints.iterdir())) == 1
    intact = services.run_flask(["audit", "verify", "--checkpoints", str(checkpoints)], url, **env)
    assert intact.returncode == 0 and "совпадает с контрольными точками: 1" in intact.stdout

    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        signed = session.scalars(select(AuditEvent).where(AuditEvent.action == "sign")
                                 .order_by(AuditEvent.id)).first()
        assert signed is not None, "the demo signs a document"
        rewrite_consistently(session, signed.id, actor_name="Подставной П.П.")
        victim = signed.id
    engine.dispose()

    plain = services.run_flask(["audit", "verify"], url)
    assert plain.returncode == 0 and "цел" in plain.stdout  # what the issue found: the rewrite goes unseen
    anchored = services.run_flask(["audit", "verify", "--checkpoints", str(checkpoints)], url, **env)
    assert anchored.returncode == 1
    assert "переписан" in anchored.stderr and "с начала журнала" in anchored.stderr
    last = json.loads(next(checkpoints.iterdir()).read_text(encoding="utf-8"))["last_event_id"]
    assert victim <= last and f"по id={last} включительно" in anchored.stderr
    missing = services.run_flask(["audit", "verify", "--checkpoints", str(tmp_path / "nowhere")], url, **env)
    assert missing.returncode == 1 and "не найден" in missing.stderr


# --- PostgreSQL: the table refuses to be rewritten ---------------------------------------------------------

postgresql = pytest.mark.skipif(TEST_DB != "postgresql", reason="the trigger exists on PostgreSQL only")


@postgresql
@pytest.mark.postgresql_only
@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET actor_name = 'Злоумышленник' WHERE id = :id",
    "DELETE FROM audit_events WHERE id = :id",
    "TRUNCATE audit_events",
])
def test_postgresql_refuses_to_change_audit_rows(world, db_session, statement):
    from sqlalchemy.exc import DBAPIError

    event = record(action="sign", object_type="document", object_id=1, actor=world["head"])
    db_session.commit()
    with pytest.raises(DBAPIError) as caught, db_session.begin_nested():
        db_session.execute(text(statement), {"id": event.id})
    assert "append-only" in str(caught.value.orig) and caught.value.orig.sqlstate == "42501"
    db_session.expire_all()
    assert db_session.get(AuditEvent, event.id).actor_name == event.actor_name
    assert verify().ok

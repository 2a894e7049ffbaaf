"""The registered copy (зарегистрированный экземпляр): on registration the signed content is rendered again from
the snapshot of its data with the registration number and date and the signature requisites, stored as a separate
file with its own SHA-256; the signed original never changes. One document per (stage, type, addressee)."""

import hashlib
import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from docx import Document as Docx
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.errors import ValidationFailed
from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
from tests.conftest import PASSWORD

STATEMENT = "Создание условий для развития добровольчества обучающихся"


def text_of(data: bytes) -> str:
    """Every paragraph and table cell of a .docx (python-docx must open it)."""
    docx = Docx(io.BytesIO(data))
    parts = [p.text for p in docx.paragraphs]
    for table in docx.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    for section in docx.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)


def signed_regulation(world, stage, db_session):
    """The real regulation (templates and context builders), routed and signed by the head."""
    from app.documents import services
    from app.jobs.queue import dispatch_ready

    doc = services.generate_document(stage, "regulation", actor=world["official"])
    db_session.commit()
    dispatch_ready()
    db_session.refresh(doc)
    assert doc.current.status == "done", doc.current.error
    services.transition(doc, "to_approval", actor=world["official"])
    services.decide_step(doc, "approved", actor=world["methodologist"])
    services.sign_document(doc, actor=world["head"], password=PASSWORD)
    db_session.commit()
    return doc


def register(doc, world, db_session):
    from app.documents import services
    from app.jobs.queue import dispatch_ready

    services.transition(doc, "register", actor=world["official"])
    db_session.commit()
    dispatch_ready()  # the job, inline, after the commit (as after a request)
    db_session.refresh(doc.current)
    return doc.current


def test_registration_over_http_makes_the_registered_copy_and_keeps_the_original(world, goal_stage, db_session,
                                                                                login, client):
    from app.documents import services
    from app.documents.contexts import initials_name

    doc = signed_regulation(world, goal_stage, db_session)
    version = doc.current
    original_path = services.version_path(version)
    original = original_path.read_bytes()
    assert "ПРОЕКТ" in text_of(original) and version.registered_status is None
    login(world["official"])
    response = client.post(f"/documents/{doc.id}/transition/register", data={"version": doc.version})
    assert response.status_code == 302
    db_session.expire_all()
    version = doc.current
    assert doc.state == "registered" and version.registered_status == "done", version.registered_error
    # The signed original: the same path, byte for byte, and it still verifies.
    assert services.version_path(version) == original_path and original_path.read_bytes() == original
    assert hashlib.sha256(original).hexdigest() == version.sha256 == version.signatures[0].file_sha256
    check = services.verify_version(version)
    assert check.ok and check.registered.ok and services.verify_signed(version).ok
    # The registered copy: its own file and hash, number, date, signer, signature time and the original's hash.
    copy_path = services.registered_path(version)
    assert copy_path != original_path
    copy = copy_path.read_bytes()
    assert hashlib.sha256(copy).hexdigest() == version.registered_sha256 and len(copy) == version.registered_size
    text = text_of(copy)
    signature = version.signatures[0]
    assert version.registration_number in text
    assert version.registration_date.strftime("%d.%m.%Y") in text
    # a signer's name is kept whole on the page (initials and surname glued with a no-break space)
    assert initials_name(world["head"].full_name).replace(" ", "\u00a0") in text and world["head"].position in text
    assert "Подписано: " in text and version.sha256 in text
    assert "ПРОЕКТ" not in text and "{{" not in text and "{%" not in text
    assert STATEMENT in text  # the content is the signed content
    assert signature.signed_at.strftime("%Y") in text
    # The page offers both files and says what each hash is; the copy downloads as stored.
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert "Зарегистрированный экземпляр" in page and "подписанный оригинал" in page
    assert version.sha256 in page and version.registered_sha256 in page
    assert "SHA-256 зарегистрированного экземпляра" in page and "Подписи относятся к подписанному оригиналу" in page
    download = client.get(f"/documents/versions/{version.id}/registered")
    assert download.status_code == 200 and download.data == copy
    assert client.get(f"/documents/versions/{version.id}/download").data == original
    # The audit log shows the copy with both hashes.
    from app.audit.models import AuditEvent

    event = db_session.scalar(select(AuditEvent).where(AuditEvent.object_type == "document",
                                                       AuditEvent.object_id == doc.id,
                                                       AuditEvent.action == "registered_copy"))
    assert event is not None and event.actor_id == world["official"].id
    assert version.sha256 in event.after and version.registered_sha256 in event.after


def test_data_changed_after_signing_does_not_change_the_registered_copy(world, goal_stage, db_session):
    from app.documents import services

    doc = signed_regulation(world, goal_stage, db_session)
    assert doc.current.context_snapshot and doc.current.context_snapshot["context"]["goals"][0]["statement"] == \
        STATEMENT
    goal = goal_stage.cycle.goals[0]
    goal.statement = "Совсем другая цель, записанная после подписания"
    db_session.commit()
    version = register(doc, world, db_session)
    assert version.registered_status == "done", version.registered_error
    text = text_of(services.registered_path(version).read_bytes())
    assert STATEMENT in text and "Совсем другая цель" not in text


def test_a_tampered_registered_copy_is_flagged_and_the_original_still_verifies(world, goal_stage, db_session,
                                                                             login, client):
    from app.documents import services

    doc = signed_regulation(world, goal_stage, db_session)
    version = register(doc, world, db_session)
    path = services.registered_path(version)
    path.write_bytes(path.read_bytes() + b"tampered")
    check = services.verify_version(version)
    assert not check.ok and not check.registered.ok and "экземпляр в хранилище изменён" in check.message
    assert services.verify_signed(version).ok
    login(world["official"])
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert 'data-ok="no" data-file="registered"' in page
    path.unlink()
    assert "отсутствует" in services.verify_registered(version).message


def test_no_registered_copy_from_an_altered_signed_file(world, goal_stage, db_session):
    from app.documents import services

    doc = signed_regulation(world, goal_stage, db_session)
    path = services.version_path(doc.current)
    path.write_bytes(path.read_bytes() + b"x")
    version = register(doc, world, db_session)
    assert version.registered_status == "failed" and "изменён" in version.registered_error
    assert version.registered_path is None and version.registered_sha256 is None


def test_the_registered_copy_job_is_idempotent_and_needs_a_registration(world, goal_stage, db_session):
    from app.documents import jobs

    doc = signed_regulation(world, goal_stage, db_session)
    version = register(doc, world, db_session)
    sha, path = version.registered_sha256, version.registered_path
    jobs.generate_registered_copy(version.id)  # a second run of the job changes nothing
    db_session.refresh(version)
    assert (version.registered_sha256, version.registered_path) == (sha, path)
    version.registration_seq = version.registration_number = None
    with pytest.raises(IntegrityError):
        db_session.flush()  # a registered copy without a registration number cannot be stored
    db_session.rollback()


def test_registered_copy_with_fake_generation_carries_the_stamp(world, goal_stage, db_session, fake_generation):
    """Types whose template has no number field still get the number and signature in the appended block."""
    from app.documents import services

    doc = signed_regulation(world, goal_stage, db_session)
    version = register(doc, world, db_session)
    text = text_of(services.registered_path(version).read_bytes())
    assert "Лист удостоверения" in text and version.registration_number in text
    assert f"SHA-256 подписанного файла: {version.sha256}" in text
    # the time of signing is local time, without the time zone's identifier
    assert "(местное время)" in text and "Europe/" not in text


def test_snapshot_keeps_dates_decimals_and_charts_and_detects_an_altered_chart(app, db_session):
    from app.documents import snapshot
    from app.documents.services import storage_root

    context = {"doc": {"date": date(2026, 4, 20), "at": datetime(2026, 4, 20, 9, 30, tzinfo=timezone.utc)},
               "rows": [{"value": Decimal("12.50"), "n": 3, "ok": True, "none": None}], "tuple": (1, 2),
               "charts": {"indicators": b"\x89PNG fake"}}
    snap = snapshot.dump(context, "documents/test-snapshot")
    import json

    restored = snapshot.load(json.loads(json.dumps(snap)))
    assert restored["doc"] == context["doc"] and restored["rows"] == context["rows"]
    assert restored["tuple"] == [1, 2] and restored["charts"] == {"indicators": b"\x89PNG fake"}
    (storage_root() / snap["charts"]["indicators"]["path"]).write_bytes(b"other")
    with pytest.raises(ValidationFailed, match="изменена"):
        snapshot.load(snap)


# --- one document per (stage, type, addressee) --------------------------------------------------------------

def test_a_simultaneous_duplicate_first_generation_is_refused_and_nothing_is_duplicated(
        world, goal_stage, db_session, fake_generation, monkeypatch):
    from app.audit.models import AuditEvent
    from app.documents import services
    from app.documents.models import Document, DocumentVersion

    services.generate_document(goal_stage, "regulation", actor=world["official"])
    db_session.commit()
    before = [db_session.scalar(select(func.count()).select_from(m)) for m in (Document, DocumentVersion, AuditEvent)]
    # The other request did not see the first document yet (both checked before either inserted).
    monkeypatch.setattr(services, "find_document", lambda *a, **kw: None)
    # refused as a duplicate, or (for a положение) as a second one of the track and period: nothing is duplicated
    with pytest.raises(ValidationFailed, match="уже создан|уже есть"):
        services.generate_document(goal_stage, "regulation", actor=world["official"])
    db_session.rollback()
    after = [db_session.scalar(select(func.count()).select_from(m)) for m in (Document, DocumentVersion, AuditEvent)]
    assert after == before


def test_the_database_refuses_a_second_regulation_of_the_cycle_from_another_stage(world, goal_stage, db_session):
    """uq_documents_cycle_one_per_cycle: one положение per cycle (its track, owner and period), whichever stage."""
    from app.documents.models import Document

    other_stage = goal_stage.cycle.stage("IND")
    db_session.add(Document(cycle_id=goal_stage.cycle_id, stage_id=goal_stage.id, title="Положение", state="draft",
                            created_by_id=world["official"].id, type_key="regulation"))
    db_session.commit()
    db_session.add(Document(cycle_id=goal_stage.cycle_id, stage_id=other_stage.id, title="Положение",
                            state="draft", created_by_id=world["official"].id, type_key="regulation"))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Document).where(
        Document.cycle_id == goal_stage.cycle_id, Document.type_key == "regulation")) == 1


def test_the_database_refuses_a_second_document_of_the_same_stage_type_and_addressee(world, goal_stage, db_session):
    from app.documents.models import Document

    def row(**kw):
        return Document(cycle_id=goal_stage.cycle_id, stage_id=goal_stage.id, title="Документ", state="draft",
                        created_by_id=world["official"].id, **kw)

    db_session.add_all([row(type_key="regulation"), row(type_key="addressed_recommendations",
                                                        addressee_id=world["school_a"].id),
                        row(type_key="addressed_recommendations", addressee_id=world["school_b"].id)])
    db_session.commit()
    for duplicate in (row(type_key="regulation"),
                      row(type_key="addressed_recommendations", addressee_id=world["school_a"].id)):
        db_session.add(duplicate)
        with pytest.raises(IntegrityError):
            db_session.flush()
        db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Document).where(
        Document.stage_id == goal_stage.id)) == 3

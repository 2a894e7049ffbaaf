"""Attachments: stored by uuid with SHA-256 and size, names cleaned, size limit, audit, scoped download."""

import hashlib
import io
import os

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD


@pytest.fixture
def school_cycle(world, make_cycle, db_session):
    cycle = make_cycle(world["school_b"], world["director_b"], mechanism="I1.1")
    db_session.commit()
    return cycle


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_attach_stores_file_by_uuid_with_hash_and_audit(app, world, school_cycle, db_session):
    from app.audit.models import AuditEvent
    from app.documents.attachments import attach, attachment_path, attachments_of

    stage = school_cycle.stage("GOAL")
    data = b"%PDF-1.4\n" + "Протокол заседания".encode() * 100
    att = attach(stage, stream=io.BytesIO(data), filename="../../etc/Протокол\x00 №1.pdf", kind="protocol",
                 actor=world["director_b"])
    db_session.commit()
    assert att.original_name == "Протокол №1.pdf"
    assert att.sha256 == hashlib.sha256(data).hexdigest() and att.size == len(data)
    path = attachment_path(att)
    assert path.read_bytes() == data
    assert "Протокол" not in att.stored_path and str(path).startswith(app.config["STORAGE_DIR"])
    assert att.content_type == "application/pdf"
    assert [a.id for a in attachments_of(stage)] == [att.id]
    assert attachments_of(stage, kind="scan") == []
    event = db_session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.object_type, event.object_id) == ("attach", "stage", stage.id)
    assert att.sha256 in event.after


def test_attachment_over_the_limit_or_empty_is_refused_and_nothing_kept(app, world, school_cycle, db_session,
                                                                        monkeypatch):
    from app.core.errors import ValidationFailed
    from app.documents.attachments import AttachmentTooLarge, attach
    from app.documents.models import Attachment

    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1000)
    stage = school_cycle.stage("GOAL")
    files_before = sorted(os.listdir(app.config["STORAGE_DIR"])) if os.path.isdir(app.config["STORAGE_DIR"]) else []
    with pytest.raises(AttachmentTooLarge, match="не более"):
        attach(stage, stream=io.BytesIO(b"%PDF-" + b"x" * 996), filename="big.pdf", kind="scan",
               actor=world["director_b"])
    with pytest.raises(ValidationFailed, match="пуст"):
        attach(stage, stream=io.BytesIO(b""), filename="empty.pdf", kind="scan", actor=world["director_b"])
    db_session.rollback()
    assert _count(db_session, Attachment) == 0
    directory = os.path.join(app.config["STORAGE_DIR"], "attachments")
    assert [n for n in os.listdir(directory) if n.startswith(".upload-")] == []
    assert files_before is not None


def test_auditor_cannot_attach(world, school_cycle, db_session):
    from app.core.errors import PermissionDenied
    from app.documents.attachments import attach

    with pytest.raises(PermissionDenied):
        attach(school_cycle.stage("GOAL"), stream=io.BytesIO(b"abc"), filename="a.pdf", kind="evidence",
               actor=world["auditor"])


def test_download_is_scoped_to_the_organisation_subtree(app, world, school_cycle, db_session):
    from app.documents.attachments import attach

    att = attach(school_cycle.stage("GOAL"), stream=io.BytesIO(b"%PDF-1.4 scan"), filename="Скан.pdf",
                 kind="scan", actor=world["director_b"])
    db_session.commit()
    url = f"/documents/attachments/{att.id}"
    for user, expected in ((world["director_a"], 404), (world["director_b"], 200), (world["official"], 200)):
        client = app.test_client()
        assert client.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 302
        response = client.get(url)
        assert response.status_code == expected, user.login
        if expected == 200:
            assert response.data == b"%PDF-1.4 scan"
            assert "attachment" in response.headers["Content-Disposition"]
            assert "filename*=UTF-8''%D0%A1%D0%BA%D0%B0%D0%BD.pdf" in response.headers["Content-Disposition"]
    assert app.test_client().get(url).status_code == 302  # anonymous → log-in page

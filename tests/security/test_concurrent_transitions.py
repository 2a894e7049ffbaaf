"""Two people acting on one object at once: the engine lets exactly one transition through. A transition that keeps
the object's state (the secretary's «cosign», a route step «agree») changes only the rows hanging off the object;
without an UPDATE of the object itself its version was never checked, so a second request sent at the same moment
signed the edition a second time (or signed it while another request withdrew the document)."""

import pytest
from sqlalchemy import func, select, text

from app.core.errors import StaleObject
from tests.conftest import PASSWORD
from tests.test_documents_cosign import dec_stage, protocol  # noqa: F401  (fixtures)


def test_a_transition_keeping_the_state_is_checked_against_a_concurrent_one(world, protocol, db_session):  # noqa: F811
    from app.documents import services
    from app.documents.models import DocumentVersion, Signature

    doc = protocol
    assert doc.state == "awaiting_signature"
    # the protocol's own (the cycle's letters of recommendations were signed before it)
    signatures = (select(func.count(Signature.id)).join(DocumentVersion, DocumentVersion.id == Signature.version_id)
                  .where(DocumentVersion.document_id == doc.id))
    # Another request (the same secretary's second click, or the author's «Отозвать») committed meanwhile: the
    # document's row moved on while this request still holds what it read.
    db_session.execute(text("UPDATE documents SET version = version + 1 WHERE id = :id"), {"id": doc.id})
    with pytest.raises(StaleObject, match="обновите страницу"):
        services.sign_document(doc, actor=world["official"], password=PASSWORD)
    db_session.rollback()
    assert db_session.scalar(signatures) == 0


def test_a_transition_keeping_the_state_moves_the_version_on(world, protocol, db_session):  # noqa: F811
    from app.documents import services

    doc = protocol
    seen = doc.version
    services.sign_document(doc, actor=world["official"], password=PASSWORD)  # the secretary: the state stays
    db_session.commit()
    assert doc.state == "awaiting_signature" and doc.version == seen + 1

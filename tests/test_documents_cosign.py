"""The protocol is signed by the chair and the secretary (ГОСТ Р 7.0.97, domain.md §6): the secretary the edition
names signs first, through the engine (an audit event per signature), then the chair; the secretary may not also
sign as the chair; registration only after both signatures; the registered copy's last page lists both."""

import pytest
from app.core.errors import GuardFailed, PermissionDenied
from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
from tests.conftest import PASSWORD
from tests.test_documents import audit_actions, generate, open_tasks
from workflows import engine


@pytest.fixture
def dec_stage(rec_cycle, world, db_session):
    """The cycle's decisions made (the protocol records them), its «Решения» stage kept by the official."""
    from tests.fixtures_followup import approve

    for code in ("REC", "MEAS", "DEC"):
        fill_stage(rec_cycle.stage(code), official=world["official"], head=world["head"])
        if code != "DEC":
            approve(rec_cycle.stage(code), world)
    dec = rec_cycle.stage("DEC")
    dec.responsible = world["official"]  # keeps the minutes
    db_session.commit()
    return dec


@pytest.fixture
def protocol(world, dec_stage, db_session):
    from app.documents import services

    doc = generate(dec_stage, "protocol", world["official"], db_session)
    services.transition(doc, "to_signature", actor=world["official"])
    db_session.commit()
    return doc


def test_the_secretary_signs_first_then_the_chair_and_both_are_kept(world, protocol, db_session):
    from app.documents import services
    from app.documents.registered import stamp_lines

    doc, official, head = protocol, world["official"], world["head"]
    assert doc.current.context_snapshot["context"]["cosigner"]["user_id"] == official.id
    assert open_tasks(db_session, doc) == [("cosign_document", official.id)]
    # The chair cannot sign before the secretary: the guard says who signs first.
    with pytest.raises(GuardFailed) as refused:
        services.sign_document(doc, actor=head, password=PASSWORD)
    assert "сначала подпись ставит секретарь" in " ".join(refused.value.problems)
    # Someone else than the named secretary cannot sign as the secretary (nor as the chair).
    with pytest.raises(PermissionDenied):
        engine.fire(doc, "cosign", actor=world["methodologist"])
    with pytest.raises(PermissionDenied):
        services.sign_document(doc, actor=world["methodologist"], password=PASSWORD)

    secretary = services.sign_document(doc, actor=official, password=PASSWORD)
    db_session.commit()
    assert doc.state == "awaiting_signature" and not doc.current.signed
    assert (secretary.meaning, secretary.signer_id) == ("секретарь", official.id)
    assert open_tasks(db_session, doc) == [("sign_document", head.id)]
    with pytest.raises(GuardFailed, match="невозможно"):
        engine.fire(doc, "cosign", actor=official)  # once per edition

    chair = services.sign_document(doc, actor=head, password=PASSWORD)
    db_session.commit()
    assert doc.state == "signed" and doc.current.signed
    assert (chair.meaning, chair.signer_id) == ("подписано", head.id)
    services.transition(doc, "register", actor=official)
    db_session.commit()
    assert audit_actions(db_session, doc) == ["create", "generate", "to_signature", "cosign", "sign", "register"]
    labels = [label for label, _ in stamp_lines(doc.current, chair)]
    assert "Документ подписал (отметка «подписано»)" in labels
    assert "Документ подписал (отметка «секретарь»)" in labels


def test_the_secretary_does_not_also_sign_as_the_chair(world, protocol, db_session):
    """Separation of duties: an official who is also a head of the municipality signed as the secretary; the same
    person's chair signature is refused with the reason."""
    from app.auth.models import RoleAssignment
    from app.documents import services

    official = world["official"]
    db_session.add(RoleAssignment(user_id=official.id, role="head", organisation_id=world["mun"].id))
    db_session.commit()
    services.sign_document(protocol, actor=official, password=PASSWORD)  # as the secretary
    db_session.commit()
    with pytest.raises(PermissionDenied, match="разделение обязанностей"):
        services.sign_document(protocol, actor=official, password=PASSWORD)
    assert protocol.state == "awaiting_signature"


def test_the_secretary_is_never_the_chair(world, dec_stage, db_session):
    dec_stage.responsible = world["head"]  # the chair: the minutes go to another participant of the meeting
    db_session.commit()
    doc = generate(dec_stage, "protocol", world["official"], db_session)
    cosigner = doc.current.context_snapshot["context"]["cosigner"]
    assert cosigner["user_id"] not in (None, world["head"].id)
    assert doc.current.context_snapshot["context"]["meeting"]["secretary"] == cosigner["name"]

"""Document lifecycle through the workflow engine: generation job, approval route with return, signing with
the password, registration numbers, immutable signed versions, verification of the stored file, the stage
guard, and scope of every document page and download."""

import hashlib
from datetime import date

import pytest
from sqlalchemy import func, select

from app.core.errors import GuardFailed, PermissionDenied, ValidationFailed
from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
from tests.conftest import PASSWORD, fill_goal
from workflows import engine


def generate(stage, key, actor, db_session, **kw):
    """Generate, commit and run the job (inline), as a request would."""
    from app.documents.services import generate_document
    from app.jobs.queue import dispatch_ready

    doc = generate_document(stage, key, actor=actor, **kw)
    db_session.commit()
    dispatch_ready()
    db_session.refresh(doc)
    return doc


def audit_actions(session, doc) -> list[str]:
    from app.audit.models import AuditEvent

    return list(session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "document", AuditEvent.object_id == doc.id).order_by(AuditEvent.id)))


def open_tasks(session, doc) -> list[tuple[str, int]]:
    from app.tasks.models import Task

    return sorted((t.kind, t.assignee_id) for t in session.scalars(select(Task).where(
        Task.object_type == "document", Task.object_id == doc.id, Task.state == "open")))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- generation --------------------------------------------------------------------------------

def test_generation_job_stores_the_file_with_its_sha256(world, goal_stage, db_session, fake_generation):
    from app.documents.services import version_path

    doc = generate(goal_stage, "regulation", world["official"], db_session)
    version = doc.current
    assert (doc.state, doc.title, version.number) == ("draft", "Положение о муниципальной системе оценки качества "
                                                                "образования", 1)
    assert (version.status, version.progress, version.error) == ("done", 100, None)
    data = version_path(version).read_bytes()
    assert data[:2] == b"PK" and hashlib.sha256(data).hexdigest() == version.sha256 and version.size == len(data)
    assert str(doc.id) in version.stored_path and "Положение" not in version.stored_path
    assert audit_actions(db_session, doc) == ["create", "generate"]


def test_missing_data_is_refused_with_the_list_and_nothing_is_written(world, goal_stage, db_session,
                                                                      fake_generation):
    from app.documents.models import Document, DocumentVersion
    from app.documents.services import generate_document

    with pytest.raises(ValidationFailed) as info:
        generate_document(goal_stage, "regulation", actor=world["official"],
                          params={"missing": "Не указан руководитель органа управления."})
    assert info.value.problems == ["Не указан руководитель органа управления."]
    db_session.rollback()
    assert count(db_session, Document) == 0 and count(db_session, DocumentVersion) == 0


def test_a_failing_job_marks_the_version_failed_with_a_readable_message(world, goal_stage, db_session,
                                                                        fake_generation):
    doc = generate(goal_stage, "regulation", world["official"], db_session, params={"note": "crash"})
    assert doc.current.status == "failed" and "Внутренняя ошибка" in doc.current.error
    assert doc.current.sha256 is None
    # Data that went missing between the request and the job: the job's refusal names it.
    doc = generate(goal_stage, "regulation", world["official"], db_session, validate=False,
                   params={"missing": "Нет целей."})
    assert (doc.current.number, doc.current.status) == (2, "failed")
    assert "Нет целей." in doc.current.error
    with pytest.raises(GuardFailed) as info:
        engine.fire(doc, "to_approval", actor=world["official"])
    assert "не сформирована" in info.value.problems[0]


def test_wrong_type_stage_or_role_is_refused(world, goal_stage, db_session, fake_generation):
    from app.documents.services import generate_document

    with pytest.raises(ValidationFailed, match="не относится к этапу"):
        generate_document(goal_stage, "roadmap", actor=world["official"])
    with pytest.raises(ValidationFailed, match="Неизвестный вид"):
        generate_document(goal_stage, "no_such_type", actor=world["official"])
    with pytest.raises(PermissionDenied):
        generate_document(goal_stage, "regulation", actor=world["auditor"])
    with pytest.raises(PermissionDenied):
        generate_document(goal_stage, "regulation", actor=world["director_a"])
    waiting = goal_stage.cycle.stage("MON")
    with pytest.raises(ValidationFailed, match="ещё не открыт"):
        generate_document(waiting, "monitoring_order", actor=world["official"])


# --- lifecycle ---------------------------------------------------------------------------------

def test_route_with_return_then_signature_registration_and_publication(world, goal_stage, db_session,
                                                                       fake_generation):
    from app.audit.models import AuditEvent
    from app.documents import services

    official, methodologist, head = world["official"], world["methodologist"], world["head"]
    doc = generate(goal_stage, "regulation", official, db_session)
    # The regulation's route is one step, the methodologist; then the head signs «утверждаю».
    services.transition(doc, "to_approval", actor=official)
    assert doc.state == "on_approval"
    assert open_tasks(db_session, doc) == [("approve_document", methodologist.id)]
    with pytest.raises(PermissionDenied, match="Методист"):
        services.decide_step(doc, "approved", actor=head)
    with pytest.raises(ValidationFailed, match="обязателен комментарий"):
        services.decide_step(doc, "returned", actor=methodologist, comment="  ")
    services.decide_step(doc, "returned", actor=methodologist, comment="Уточнить раздел 3")
    db_session.commit()
    assert (doc.state, doc.return_comment) == ("draft", "Уточнить раздел 3")
    (step,) = doc.current.approvals
    assert (step.decision, step.comment, step.approver_name) == ("returned", "Уточнить раздел 3",
                                                                 methodologist.full_name)
    assert open_tasks(db_session, doc) == [("rework_document", official.id)]

    doc = generate(goal_stage, "regulation", official, db_session)  # the corrected draft: version 2
    assert [v.number for v in doc.versions] == [1, 2]
    services.transition(doc, "to_approval", actor=official)
    services.decide_step(doc, "approved", actor=methodologist)
    assert doc.state == "awaiting_signature"
    assert open_tasks(db_session, doc) == [("sign_document", head.id)]
    with pytest.raises(PermissionDenied):
        services.sign_document(doc, actor=official, password=PASSWORD)  # not a signer
    signature = services.sign_document(doc, actor=head, password=PASSWORD)
    assert doc.state == "signed" and doc.current.signed
    assert (signature.meaning, signature.signer_name, signature.signer_position, signature.file_sha256) == (
        "утверждаю", head.full_name, head.position, doc.current.sha256)
    assert open_tasks(db_session, doc) == [("register_document", official.id)]
    services.transition(doc, "register", actor=official)
    year = date.today().year
    assert (doc.state, doc.current.registration_number, doc.current.registration_seq, doc.current.registration_year) \
        == ("registered", "1-лна", 1, year)  # the first положение of the year in the local acts' journal
    services.transition(doc, "publish", actor=official)
    db_session.commit()
    assert doc.state == "published" and doc.published_at is not None and open_tasks(db_session, doc) == []
    assert audit_actions(db_session, doc) == ["create", "generate", "to_approval", "return", "generate", "to_approval",
                                              "agree", "route_done", "sign", "register", "publish"]
    returned = db_session.scalar(select(AuditEvent).where(AuditEvent.object_type == "document",
                                                          AuditEvent.action == "return"))
    assert returned.reason == "Уточнить раздел 3"


def test_a_type_without_route_goes_straight_to_signature(world, goal_stage, db_session, fake_generation):
    from app.documents import services

    cycle = goal_stage.cycle
    mon = cycle.stage("MON")
    mon.state = "draft"  # only the document flow is under test here
    db_session.commit()
    doc = generate(mon, "monitoring_order", world["official"], db_session)
    with pytest.raises(GuardFailed):
        engine.fire(doc, "to_approval", actor=world["official"])
    services.transition(doc, "to_signature", actor=world["official"])
    assert doc.state == "awaiting_signature"
    services.transition(doc, "return", actor=world["head"], comment="Не тот срок")
    assert doc.state == "draft" and doc.return_comment == "Не тот срок"


def test_wrong_password_is_refused_audited_and_changes_nothing(world, goal_stage, db_session, fake_generation,
                                                               app):
    from app.audit.models import AuditEvent
    from app.documents.models import Signature

    doc = generate(goal_stage, "regulation", world["official"], db_session)
    from app.documents import services

    services.transition(doc, "to_approval", actor=world["official"])
    services.decide_step(doc, "approved", actor=world["methodologist"])
    db_session.commit()
    client = app.test_client()
    client.post("/login", data={"login": "head", "password": PASSWORD})
    version_before = doc.version
    response = client.post(f"/documents/{doc.id}/sign", data={"password": "wrong-password", "version": doc.version})
    assert response.status_code == 403
    assert "неверный пароль" in response.get_data(as_text=True)
    db_session.expire_all()
    assert (doc.state, doc.version, doc.current.signed) == ("awaiting_signature", version_before, False)
    assert count(db_session, Signature) == 0
    refused = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "sign_refused"))
    assert refused.actor_id == world["head"].id and "неверный пароль" in refused.reason
    response = client.post(f"/documents/{doc.id}/sign", data={"password": PASSWORD, "version": doc.version})
    assert response.status_code == 302
    db_session.expire_all()
    assert doc.state == "signed" and count(db_session, Signature) == 1


def _signed(world, stage, db_session, key="regulation"):
    from app.documents import services

    doc = generate(stage, key, world["official"], db_session)
    services.transition(doc, "to_approval", actor=world["official"])
    services.decide_step(doc, "approved", actor=world["methodologist"])
    services.sign_document(doc, actor=world["head"], password=PASSWORD)
    db_session.commit()
    return doc


def test_a_signed_version_is_immutable_and_stays_downloadable_with_its_signature(world, goal_stage, db_session,
                                                                                 fake_generation, app, login,
                                                                                 client):
    from app.documents import services

    doc = _signed(world, goal_stage, db_session)
    services.transition(doc, "register", actor=world["official"])
    db_session.commit()
    first = doc.current
    first_sha, first_path = first.sha256, first.stored_path
    # Any change is a new version: generating again puts the document back into draft with version 2.
    doc = generate(goal_stage, "regulation", world["official"], db_session, params={"note": "изменён п. 2"})
    assert doc.state == "draft" and [v.number for v in doc.versions] == [1, 2]
    assert (first.sha256, first.stored_path, first.signed, first.registration_number) == (
        first_sha, first_path, True, "1-лна")
    assert doc.current.sha256 != first_sha and not doc.current.signed
    assert first.superseded_at is None  # version 1 holds until version 2 is signed
    login(world["official"])
    response = client.get(f"/documents/versions/{first.id}/download")
    assert response.status_code == 200 and hashlib.sha256(response.data).hexdigest() == first_sha
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert "Лист подписания" in page and world["head"].full_name in page and first_sha in page
    # Signing version 2 supersedes version 1; both keep their own signatures.
    services.transition(doc, "to_approval", actor=world["official"])
    services.decide_step(doc, "approved", actor=world["methodologist"])
    services.sign_document(doc, actor=world["head"], password=PASSWORD)
    db_session.commit()
    assert first.superseded_at is not None and len(first.signatures) == 1 and len(doc.current.signatures) == 1
    assert doc.current.signatures[0].file_sha256 == doc.current.sha256 != first.signatures[0].file_sha256
    with pytest.raises(GuardFailed):
        engine.fire(doc, "revise", actor=world["official"])  # a new edition only by generating anew


def test_signature_keeps_name_and_position_after_the_user_is_renamed(world, goal_stage, db_session,
                                                                     fake_generation, login, client):
    doc = _signed(world, goal_stage, db_session)
    head = world["head"]
    old_name, old_position = head.full_name, head.position
    head.full_name, head.position = "Новикова Елена Сергеевна", "Исполняющий обязанности начальника"
    db_session.commit()
    db_session.expire_all()
    (signature,) = doc.current.signatures
    assert (signature.signer_name, signature.signer_position) == (old_name, old_position)
    login(world["official"])
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert old_name in page and "Новикова Елена Сергеевна" not in page


def test_the_page_names_the_kind_of_document_only_where_its_title_does_not(world, goal_stage, db_session,
                                                                          fake_generation, login, client):
    import lxml.html

    doc = _signed(world, goal_stage, db_session)
    kind = doc.doc_type.title_for("municipal")  # «Положение о муниципальной системе …» of the municipality's cycle
    login(world["official"])

    def subtitle():
        page = lxml.html.fromstring(client.get(f"/documents/{doc.id}").get_data(as_text=True))
        return " ".join(page.xpath("//p[@id='document-subtitle']")[0].text_content().split())

    # the title is the kind's: it was said again under it («Положение о … · нормативные · …»)
    assert doc.title == kind and subtitle().startswith(doc.doc_type.family_label), subtitle()
    doc.title = f"{kind} (новая редакция)"
    db_session.commit()
    assert subtitle().startswith(f"{kind} · {doc.doc_type.family_label}")


def test_a_tampered_file_fails_verification_and_cannot_be_signed(world, goal_stage, db_session, fake_generation,
                                                                 login, client):
    from app.audit.models import AuditEvent
    from app.documents import services

    signed = _signed(world, goal_stage, db_session)
    assert services.verify_version(signed.current).ok
    path = services.version_path(signed.current)
    path.write_bytes(path.read_bytes() + b"tampered")
    check = services.verify_version(signed.current)
    assert not check.ok and "изменён" in check.message and check.actual_sha256 != signed.current.sha256
    login(world["official"])
    page = client.get(f"/documents/{signed.id}").get_data(as_text=True)
    assert 'data-ok="no"' in page and "изменён" in page
    path.unlink()
    assert "отсутствует" in services.verify_version(signed.current).message

    # A draft altered on disk before signing is refused at signing (and the attempt audited).
    cycle = goal_stage.cycle
    ind = cycle.stage("IND")
    ind.state = "draft"
    db_session.commit()
    doc = generate(ind, "indicators_approval", world["official"], db_session)
    services.transition(doc, "to_approval", actor=world["official"])
    services.decide_step(doc, "approved", actor=world["methodologist"])
    services.version_path(doc.current).write_bytes(b"PK other content")
    with pytest.raises(services.SigningRefused, match="изменён"):
        services.sign_document(doc, actor=world["head"], password=PASSWORD)
    assert doc.state == "awaiting_signature"
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "sign_refused")) == 1


def test_registration_numbers_are_consecutive_per_journal_and_year(world, goal_stage, db_session, fake_generation):
    from app.documents import services
    from app.documents.journals import journal_for
    from app.documents.registration import next_number

    year = date.today().year
    cycle = goal_stage.cycle
    for code in ("IND", "MEAS"):
        cycle.stage(code).state = "draft"
    db_session.commit()
    # (the перечень of IND and METH is one document of the cycle: the roadmap is the second plan)
    docs = [_signed(world, goal_stage, db_session),
            _signed(world, cycle.stage("IND"), db_session, "indicators_approval"),
            _signed(world, cycle.stage("MEAS"), db_session, "roadmap")]
    services.transition(docs[0], "register", actor=world["official"])
    db_session.commit()
    # A registration that rolls back gives its number back: no gap.
    services.transition(docs[1], "register", actor=world["official"])
    assert docs[1].current.registration_seq == 1
    db_session.rollback()
    services.transition(docs[2], "register", actor=world["official"])
    services.transition(docs[1], "register", actor=world["official"])
    db_session.commit()
    # The положение is in the local acts' journal, the перечень and the roadmap in the plans' journal.
    assert [d.current.registration_number for d in docs] == ["1-лна", "2-пл", "1-пл"]
    assert [d.current.registration_journal.code for d in docs] == ["local_acts", "plans", "plans"]
    # Another organisation's journal and another year start at 1.
    plans = journal_for(world["mun"], "indicators_approval")
    assert next_number(journal_for(world["school_a"], "indicators_approval"), year) == 1
    assert next_number(plans, year + 1) == 1
    assert next_number(plans, year) == 3
    db_session.rollback()


def test_acknowledgement_needs_the_password_and_is_kept(world, goal_stage, db_session, fake_generation):
    from app.documents import services

    doc = _signed(world, goal_stage, db_session)
    with pytest.raises(services.SigningRefused):
        services.acknowledge(doc.current, actor=world["official"], password="nope")
    signature = services.acknowledge(doc.current, actor=world["official"], password=PASSWORD)
    assert signature.meaning == "ознакомлен" and signature.signer_name == world["official"].full_name
    with pytest.raises(ValidationFailed, match="уже"):
        services.acknowledge(doc.current, actor=world["official"], password=PASSWORD)


def test_signed_copy_is_attached_to_a_registered_version_only(world, goal_stage, db_session, fake_generation):
    import io

    from app.documents import services
    from app.documents.attachments import attachments_of

    doc = _signed(world, goal_stage, db_session)
    with pytest.raises(ValidationFailed, match="зарегистрированной"):
        services.attach_signed_copy(doc.current, stream=io.BytesIO(b"%PDF-1.4"), filename="scan.pdf", kind="scan",
                                    actor=world["official"])
    services.transition(doc, "register", actor=world["official"])
    with pytest.raises(ValidationFailed, match="не является PDF"):
        services.attach_signed_copy(doc.current, stream=io.BytesIO(b"GIF89a"), filename="scan.pdf", kind="scan",
                                    actor=world["official"])
    with pytest.raises(ValidationFailed, match="ожидается файл"):
        services.attach_signed_copy(doc.current, stream=io.BytesIO(b"x"), filename="sig.txt", kind="signature",
                                    actor=world["official"])
    scan = services.attach_signed_copy(doc.current, stream=io.BytesIO(b"%PDF-1.4 signed scan"),
                                       filename="Скан приказа.pdf", kind="scan", actor=world["official"])
    # A DER SEQUENCE holding the PKCS#7 signedData OID: what a detached signature file begins with.
    detached = b"\x30\x82\x05\x00\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02detached"
    sig = services.attach_signed_copy(doc.current, stream=io.BytesIO(detached), filename="doc.p7s",
                                      kind="signature", actor=world["official"])
    db_session.commit()
    assert [a.id for a in attachments_of(doc.current)] == [scan.id, sig.id]
    assert scan.size == len(b"%PDF-1.4 signed scan") and scan.sha256 == hashlib.sha256(b"%PDF-1.4 signed scan"
                                                                                      ).hexdigest()


# --- evidence linkage --------------------------------------------------------------------------

def test_mandatory_document_guard_blocks_the_stage_until_a_draft_exists(world, goal_stage, db_session,
                                                                        fake_generation):
    from app.documents.guards import mandatory_documents

    problems = mandatory_documents(goal_stage)
    assert problems == ["Нет документа «Положение о муниципальной системе оценки качества образования» (хотя бы "
                        "проекта): сформируйте его в разделе «Документы этапа»."]
    with pytest.raises(GuardFailed) as info:
        engine.fire(goal_stage, "submit", actor=world["official"])
    assert problems[0] in info.value.problems
    generate(goal_stage, "regulation", world["official"], db_session)
    assert mandatory_documents(goal_stage) == []
    engine.fire(goal_stage, "submit", actor=world["official"])
    assert goal_stage.state == "on_review"


def test_stage_page_lists_documents_and_generates_per_addressee(world, goal_stage, db_session, fake_generation,
                                                                login, client):
    from app.documents.models import Document

    login(world["official"])
    page = client.get(f"/stages/{goal_stage.id}").get_data(as_text=True)
    assert "Документы этапа" in page and "не сформирован" in page and "обязательный" in page
    response = client.post(f"/documents/stages/{goal_stage.id}/generate", data={"type_key": "regulation"})
    assert response.status_code == 302
    doc = db_session.scalar(select(Document).where(Document.stage_id == goal_stage.id))
    page = client.get(f"/stages/{goal_stage.id}").get_data(as_text=True)
    assert f"/documents/{doc.id}" in page and "проект" in page

    rec = goal_stage.cycle.stage("REC")
    rec.state = "draft"
    db_session.commit()
    for school in ("school_a", "school_b"):
        response = client.post(f"/documents/stages/{rec.id}/generate",
                               data={"type_key": "addressed_recommendations", "addressee_id": world[school].id})
        assert response.status_code == 302
    docs = db_session.scalars(select(Document).where(Document.stage_id == rec.id).order_by(Document.id)).all()
    assert [d.addressee_id for d in docs] == [world["school_a"].id, world["school_b"].id]
    assert docs[0].title == "Адресные рекомендации — Школа А"
    # Without an addressee the per-addressee type is refused with a message; nothing is created.
    response = client.post(f"/documents/stages/{rec.id}/generate", data={"type_key": "addressed_recommendations"},
                           follow_redirects=True)
    assert "выберите адресата" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Document).where(Document.stage_id == rec.id)) == 2


def test_data_request_letter_belongs_to_a_data_request(world, mon, sent, db_session, fake_generation):
    from app.documents.services import generate_document

    stage = mon.stage("MON")
    with pytest.raises(ValidationFailed, match="запрос сведений"):
        generate_document(stage, "data_request_letter", actor=world["official"])
    doc = generate(stage, "data_request_letter", world["official"], db_session, data_request=sent)
    assert doc.data_request_id == sent.id and sent.title in doc.title
    assert doc.current.params == {"data_request_id": sent.id}


# --- scope -------------------------------------------------------------------------------------

def test_school_a_gets_404_on_school_b_documents_versions_and_attachments(world, make_cycle, make_user, db_session,
                                                                          fake_generation, app):
    import io

    from app.documents import services

    cycle = make_cycle(world["school_b"], world["director_b"], mechanism="I1.1")
    fill_goal(cycle, world["director_b"])
    stage = cycle.stage("GOAL")
    db_session.commit()
    # The school's deputy prepares it, the director signs (who prepared an edition does not sign it).
    staff_b = make_user("staff", world["school_b"], login="staff_b")
    doc = generate(stage, "regulation", staff_b, db_session)
    services.transition(doc, "to_approval", actor=staff_b)
    services.decide_step(doc, "approved", actor=world["methodologist"])
    services.sign_document(doc, actor=world["director_b"], password=PASSWORD)
    services.transition(doc, "register", actor=world["director_b"])
    scan = services.attach_signed_copy(doc.current, stream=io.BytesIO(b"%PDF-1.4 x"), filename="s.pdf",
                                       kind="scan", actor=world["director_b"])
    db_session.commit()
    urls = [f"/documents/{doc.id}", f"/documents/versions/{doc.current.id}/download",
            f"/documents/attachments/{scan.id}"]
    posts = [f"/documents/{doc.id}/transition/publish", f"/documents/{doc.id}/sign", f"/documents/{doc.id}/regenerate",
             f"/documents/versions/{doc.current.id}/acknowledge", f"/documents/versions/{doc.current.id}/attach"]
    outsider, owner = app.test_client(), app.test_client()
    outsider.post("/login", data={"login": "director_a", "password": PASSWORD})
    owner.post("/login", data={"login": "director_b", "password": PASSWORD})
    for url in urls:
        assert outsider.get(url).status_code == 404, url
        assert owner.get(url).status_code == 200, url
    for url in posts:
        assert outsider.post(url, data={"version": doc.version, "password": PASSWORD}).status_code == 404, url
    db_session.expire_all()
    assert doc.state == "registered"


def test_addressed_recommendations_for_every_addressee_at_once(world, goal_stage, db_session, fake_generation,
                                                               login, client):
    from app.documents.models import Document
    from app.followup.models import Recommendation, RecommendationItem

    rec = goal_stage.cycle.stage("REC")
    rec.state = "draft"
    recommendation = Recommendation(cycle_id=rec.cycle_id, stage_id=rec.id, text="Провести ВШК",
                                    addressee_group="organisations", response_deadline=date.today(),
                                    created_by_id=world["official"].id)
    recommendation.items = [RecommendationItem(organisation_id=world[s].id, due_date=date.today())
                            for s in ("school_a", "school_b")]
    db_session.add(recommendation)
    db_session.commit()
    login(world["official"])
    page = client.get(f"/stages/{rec.id}").get_data(as_text=True)
    assert "всем адресатам рекомендаций (2)" in page
    data = {"type_key": "addressed_recommendations", "all_addressees": "y"}
    assert client.post(f"/documents/stages/{rec.id}/generate", data=data).status_code == 302
    docs = db_session.scalars(select(Document).where(Document.stage_id == rec.id).order_by(Document.id)).all()
    assert sorted(d.addressee_id for d in docs) == sorted([world["school_a"].id, world["school_b"].id])
    assert all(d.current.status == "done" for d in docs)
    # Again: nobody is missing, nothing new is made, and the page says so.
    response = client.post(f"/documents/stages/{rec.id}/generate", data=data, follow_redirects=True)
    assert "уже сформированы для всех адресатов" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Document).where(Document.stage_id == rec.id)) == 2


def test_letters_of_one_click_render_in_batches_and_a_refusal_fails_only_its_letter(world, goal_stage, make_org,
                                                                                      db_session, fake_generation,
                                                                                      monkeypatch):
    from app.audit.chain import verify
    from app.audit.models import AuditEvent
    from app.documents import contexts, jobs, services
    from app.documents.models import Document, DocumentVersion
    from app.followup.models import Recommendation, RecommendationItem
    from app.jobs.queue import dispatch_ready

    schools = [world["school_a"], world["school_b"]] + [make_org(parent=world["mun"]) for _ in range(3)]
    rec = goal_stage.cycle.stage("REC")
    rec.state = "draft"
    recommendation = Recommendation(cycle_id=rec.cycle_id, stage_id=rec.id, text="Провести ВШК",
                                    addressee_group="organisations", response_deadline=date.today(),
                                    created_by_id=world["official"].id)
    recommendation.items = [RecommendationItem(organisation_id=s.id, due_date=date.today()) for s in schools]
    db_session.add(recommendation)
    db_session.commit()
    monkeypatch.setattr(services, "GENERATION_BATCH", 2)
    docs = services.generate_for_addressees(rec, "addressed_recommendations", actor=world["official"],
                                            addressees=services.recommendation_addressees(rec))
    db_session.commit()
    doc_ids = [d.id for d in docs]
    victim = docs[2].addressee_id
    # The jobs build today's data: one school's letter can no longer be made when its batch runs.
    built = contexts.build_context

    def refusing(type_key, stage, *, addressee=None, **kw):
        if addressee is not None and addressee.id == victim:
            raise ValidationFailed("Недостаточно данных для документа.", problems=["Рекомендации школе отозваны."])
        return built(type_key, stage, addressee=addressee, **kw)

    monkeypatch.setattr(contexts, "build_context", refusing)
    dispatch_ready()
    db_session.expire_all()
    versions = db_session.scalars(select(DocumentVersion).where(DocumentVersion.document_id.in_(doc_ids))
                                  .order_by(DocumentVersion.document_id)).all()
    # Five letters, three jobs (2 + 2 + 1): the versions of one job share its id.
    assert sorted(sum(1 for v in versions if v.rq_job_id == job) for job in {v.rq_job_id for v in versions}) == [
        1, 2, 2]
    failed = [v for v in versions if v.status == "failed"]
    assert [v.document.addressee_id for v in failed] == [victim]
    assert "Рекомендации школе отозваны." in failed[0].error and failed[0].sha256 is None
    done = [v for v in versions if v.status == "done"]
    assert len(done) == 4 and all(v.sha256 and v.stored_path and v.error is None for v in done)
    # The trail: every letter «create», then every letter «generate», in one linked chain.
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.object_type == "document",
                                                         AuditEvent.object_id.in_(doc_ids))
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.object_id) for e in events] == (
        [("create", d) for d in doc_ids] + [("generate", d) for d in doc_ids])
    assert verify().ok
    # A second delivery of a job changes nothing.
    stored = {v.id: (v.status, v.sha256) for v in versions}
    jobs.generate_versions([v.id for v in versions])
    db_session.expire_all()
    assert {v.id: (v.status, v.sha256) for v in db_session.scalars(
        select(DocumentVersion).where(DocumentVersion.document_id.in_(doc_ids)))} == stored
    assert db_session.scalar(select(func.count()).select_from(Document).where(Document.stage_id == rec.id)) == 5


def test_the_document_page_follows_a_running_generation(world, goal_stage, db_session, fake_generation, login,
                                                        client):
    from app.documents.services import generate_document

    doc = generate_document(goal_stage, "regulation", actor=world["official"])
    db_session.commit()  # the job is not dispatched: the version stays queued
    db_session.info.pop("uko_ready_jobs", None)
    login(world["official"])
    response = client.get(f"/documents/{doc.id}")
    page = response.get_data(as_text=True)
    assert response.headers.get("Refresh") == "2"
    assert 'data-status="queued"' in page and "обновляется сама" in page and "Скачать DOCX" not in page


def test_a_deputy_signs_for_the_absent_head_with_their_own_name(world, goal_stage, db_session, fake_generation,
                                                                make_user):
    from app.audit.models import AuditEvent
    from app.deadlines.standins import create_stand_in
    from app.documents import services

    deputy = make_user("methodologist", world["mun"], login="deputy", full_name="Замова Ирина Львовна",
                       position="Заместитель начальника")
    doc = generate(goal_stage, "regulation", world["official"], db_session)
    services.transition(doc, "to_approval", actor=world["official"])
    services.decide_step(doc, "approved", actor=world["methodologist"])
    with pytest.raises(PermissionDenied):
        services.sign_document(doc, actor=deputy, password=PASSWORD)
    create_stand_in(absent=world["head"], deputy=deputy, start=date.today(), end=date.today(), reason="отпуск",
                    actor=world["admin"], today=date.today())
    signature = services.sign_document(doc, actor=deputy, password=PASSWORD)
    assert (signature.signer_name, signature.signer_position) == ("Замова Ирина Львовна", "Заместитель начальника")
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "sign"))
    assert event.actor_id == deputy.id and event.on_behalf_of_id == world["head"].id


def test_route_over_http_return_needs_a_comment_and_changes_nothing_without_it(world, goal_stage, db_session,
                                                                               fake_generation, app):
    from tests.test_access import changed_tables, db_state

    doc = generate(goal_stage, "regulation", world["official"], db_session)
    official, methodologist = app.test_client(), app.test_client()
    official.post("/login", data={"login": "official", "password": PASSWORD})
    methodologist.post("/login", data={"login": "methodologist", "password": PASSWORD})
    page = official.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert "Отправить на согласование" in page and "Передать на подпись" not in page
    response = official.post(f"/documents/{doc.id}/transition/to_approval", data={"version": doc.version})
    assert response.status_code == 302
    db_session.expire_all()
    assert doc.state == "on_approval"
    assert "Согласовать" not in official.get(f"/documents/{doc.id}").get_data(as_text=True)
    page = methodologist.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert "Согласовать" in page and "Вернуть на доработку" in page
    before = db_state(db_session)
    response = methodologist.post(f"/documents/{doc.id}/transition/return", data={"version": doc.version,
                                                                                  "comment": ""})
    assert response.status_code == 422 and "обязателен комментарий" in response.get_data(as_text=True)
    stale = methodologist.post(f"/documents/{doc.id}/transition/agree", data={"version": doc.version - 1})
    assert stale.status_code == 409 and "изменён другим пользователем" in stale.get_data(as_text=True)
    assert changed_tables(before, db_state(db_session)) == []
    response = methodologist.post(f"/documents/{doc.id}/transition/agree", data={"version": doc.version})
    assert response.status_code == 302
    db_session.expire_all()
    assert doc.state == "awaiting_signature"


def test_a_refused_return_of_a_document_shows_the_comment_that_was_typed(world, goal_stage, db_session,
                                                                         fake_generation, app):
    """«Вернуть на доработку» refused (someone acted on the document meanwhile): the page shows the typed reason in
    the box again instead of an empty one."""
    import html
    import re

    from app.documents import services

    doc = generate(goal_stage, "regulation", world["official"], db_session)
    services.transition(doc, "to_approval", actor=world["official"])
    db_session.commit()
    methodologist = app.test_client()
    methodologist.post("/login", data={"login": "methodologist", "password": PASSWORD})
    comment = "Раздел 3 противоречит приказу: " + "исправьте сроки и ответственных; " * 20
    response = methodologist.post(f"/documents/{doc.id}/transition/return",
                                  data={"version": doc.version - 1, "comment": comment})
    assert response.status_code == 409
    (typed,) = re.findall(r'<textarea name="comment"[^>]*>([^<]*)</textarea>', response.get_data(as_text=True))
    assert html.unescape(typed) == comment


def test_addressees_of_a_letter_are_listed_by_their_shown_names_numbers_by_value(world, make_org, db_session):
    """The addressee list of «Сформировать: Адресные рекомендации» was ordered by the full legal names: «СОШ № 10»
    before «СОШ № 1», «Детский сад № 14» before «Детский сад № 7»."""
    from app.documents.services import addressee_choices

    mun = world["mun"]
    made = [make_org("school", parent=mun, code="S-10", name="МОУ «Основная школа № 10»", short_name="ш. № 10"),
            make_org("school", parent=mun, code="S-02", name="МОУ «Средняя школа № 2»", short_name="ш. № 2"),
            make_org("preschool", parent=mun, code="D-14", name="МДОУ «Детский сад № 14»", short_name="д/с № 14"),
            make_org("preschool", parent=mun, code="D-07", name="МДОУ «Детский сад № 7»", short_name="д/с № 7")]
    db_session.flush()
    shown = [o.code for o in addressee_choices(mun) if o in made]
    assert shown == ["D-07", "D-14", "S-02", "S-10"]

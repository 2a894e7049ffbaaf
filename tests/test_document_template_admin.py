"""Template administration: an administrator uploads a new version of a type's Word template; it is validated
at once (syntax with the line, undeclared / unused variables, rendering against sample data), kept with its
SHA-256 and never overwritten; only a valid version can be activated; new documents use the active version and
record it; a document keeps the template version it was made from, also for its registered copy."""

import hashlib
import io
import json
from pathlib import Path

import pytest
import yaml
from docx import Document as Docx
from sqlalchemy import func, select

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
from tests.conftest import PASSWORD, fill_goal

MARKER = "Текст второй версии шаблона"


def builtin(key: str) -> int:
    """The version of the shipped template of `key` (its sidecar's): uploads are numbered after it."""
    sidecar = Path(__file__).resolve().parent.parent / "document_templates" / f"{key}.yaml"
    return yaml.safe_load(sidecar.read_text(encoding="utf-8"))["version"]


BUILTIN = builtin("regulation")


def shipped() -> bytes:
    from app.documents.catalogue import get_type

    return get_type("regulation").template_path.read_bytes()


def edited(*paragraphs: str, base: bytes | None = None) -> bytes:
    """The shipped regulation template with paragraphs appended."""
    doc = Docx(io.BytesIO(base or shipped()))
    for text in paragraphs:
        doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def text_of(data: bytes) -> str:
    docx = Docx(io.BytesIO(data))
    parts = [p.text for p in docx.paragraphs]
    for table in docx.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def versions(db_session) -> list:
    from app.documents.template_admin import TemplateVersion

    db_session.expire_all()
    return list(db_session.scalars(select(TemplateVersion).order_by(TemplateVersion.id)))


def audit_events(db_session, action: str) -> list:
    from app.audit.models import AuditEvent

    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def stored_files() -> list:
    from app.documents.template_admin import SUBDIR, storage_root

    root = storage_root() / SUBDIR
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def post_upload(client, data: bytes, filename: str = "regulation.docx", type_key: str = "regulation"):
    return client.post(f"/documents/templates/{type_key}/upload", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def generate_regulation(world, stage, db_session):
    from app.documents import services
    from app.jobs.queue import dispatch_ready

    doc = services.generate_document(stage, "regulation", actor=world["official"])
    db_session.commit()
    dispatch_ready()
    db_session.refresh(doc)
    assert doc.current.status == "done", doc.current.error
    return doc


def sign(doc, world, db_session):
    from app.documents import services

    services.transition(doc, "to_approval", actor=world["official"])
    services.decide_step(doc, "approved", actor=world["methodologist"])
    services.sign_document(doc, actor=world["head"], password=PASSWORD)
    db_session.commit()


def register(doc, world, db_session):
    from app.documents import services
    from app.jobs.queue import dispatch_ready

    services.transition(doc, "register", actor=world["official"])
    db_session.commit()
    dispatch_ready()
    db_session.refresh(doc.current)
    assert doc.current.registered_status == "done", doc.current.registered_error
    return services.registered_path(doc.current).read_bytes()


def version_file(doc) -> bytes:
    from app.documents import services

    return services.version_path(doc.current).read_bytes()


# --- upload, validation, activation -------------------------------------------------------------

def test_a_valid_upload_is_validated_activated_and_used_by_new_documents(world, goal_stage, client, login,
                                                                         db_session):
    from app.documents import rendering, template_admin

    login(world["admin"])
    page = client.get("/documents/templates").get_data(as_text=True)
    assert "Положение о системе оценки качества образования" in page
    assert rendering.template_version("regulation") == BUILTIN
    data = edited(MARKER)

    response = post_upload(client, data)
    assert response.status_code == 302
    (tv,) = versions(db_session)
    assert (tv.type_key, tv.number, tv.valid, tv.problems, tv.active) == ("regulation", BUILTIN + 1, True, [], False)
    assert tv.original_name == "regulation.docx" and tv.size == len(data)
    assert tv.sha256 == hashlib.sha256(data).hexdigest()
    assert (template_admin.storage_root() / tv.stored_path).read_bytes() == data
    assert "условные данные" in tv.sample_source  # no regulation generated yet: the synthetic sample
    # Uploaded is not active: documents are still made with the shipped template (BUILTIN).
    doc = generate_regulation(world, goal_stage, db_session)
    assert doc.current.template_version == str(BUILTIN) and MARKER not in text_of(version_file(doc))

    page = client.get("/documents/templates/regulation").get_data(as_text=True)
    assert "regulation.docx" in page and "пройдена" in page and "Сделать действующей" in page
    response = client.post(f"/documents/templates/versions/{tv.id}/activate", data={})
    assert response.status_code == 302
    (tv,) = versions(db_session)
    assert tv.active and tv.activated_by_id == world["admin"].id and tv.activated_at is not None
    assert rendering.template_version("regulation") == BUILTIN + 1
    assert str(BUILTIN + 1) in client.get("/documents/templates").get_data(as_text=True)

    # The next edition is made with the upload and records it.
    from app.documents import services
    from app.jobs.queue import dispatch_ready

    services.generate_document(goal_stage, "regulation", actor=world["official"])
    db_session.commit()
    dispatch_ready()
    db_session.refresh(doc)
    assert doc.current.number == 2 and doc.current.status == "done", doc.current.error
    assert doc.current.template_version == f"з{BUILTIN + 1}" and MARKER in text_of(version_file(doc))
    assert doc.versions[0].template_version == str(BUILTIN)

    # Audited: the upload (with its hash and result) and the activation (from the shipped version to the upload).
    (uploaded,) = audit_events(db_session, "template_upload")
    assert uploaded.actor_id == world["admin"].id and uploaded.object_type == "document_template"
    assert uploaded.object_id == tv.id and json.loads(uploaded.after)["sha256"] == tv.sha256
    assert json.loads(uploaded.after)["valid"] is True
    (activated,) = audit_events(db_session, "template_activate")
    assert activated.object_id == tv.id and activated.actor_id == world["admin"].id
    assert json.loads(activated.before)["active_version"] == BUILTIN
    assert json.loads(activated.after)["active_version"] == BUILTIN + 1

    # Any version downloads as stored, the shipped one too.
    assert client.get(f"/documents/templates/versions/{tv.id}/download").data == data
    assert client.get("/documents/templates/regulation/builtin/download").data == shipped()


def test_the_pages_name_a_template_by_its_document_kind_and_keep_the_key_as_small_print(world, client, login):
    # The shipped template's row read «regulation.docx / встроенный шаблон (document_templates/)»: a file name and a
    # folder of the code where the administrator looks for the kind of document.
    import lxml.html

    login(world["admin"])
    listing = lxml.html.fromstring(client.get("/documents/templates").data)
    row = listing.xpath("//tr[@data-type='regulation']/td[1]")[0]
    assert " ".join(row.xpath("a")[0].text_content().split()) == "Положение о системе оценки качества образования"
    assert row.xpath("div[contains(@class, 'small')]")[0].text_content().strip() == "regulation"
    page = lxml.html.fromstring(client.get("/documents/templates/regulation").data)
    cell = page.xpath("//tr[@data-version='builtin']/td[2]")[0]
    link = " ".join(cell.xpath("a")[0].text_content().split())
    assert link == "Встроенный шаблон «Положение о системе оценки качества образования»", link
    assert "document_templates/" not in cell.text_content()


def test_a_jinja_syntax_error_is_rejected_with_the_line_and_the_name(world, client, login, db_session):
    login(world["admin"])
    response = post_upload(client, edited("{% frobnicate goals %}"))
    assert response.status_code == 302
    (tv,) = versions(db_session)
    assert not tv.valid and not tv.active and len(tv.problems) == 1
    assert tv.problems[0].startswith("Ошибка в разметке шаблона (строка ")
    assert "frobnicate" in tv.problems[0]
    page = client.get("/documents/templates/regulation").get_data(as_text=True)
    assert "не пройдена" in page and "frobnicate" in page and "Сделать действующей" not in page

    # It cannot be activated: refused with the problems, nothing changes, nothing audited.
    response = client.post(f"/documents/templates/versions/{tv.id}/activate", data={})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "не прошла проверку" in body and "frobnicate" in body
    (tv,) = versions(db_session)
    assert not tv.active and tv.activated_at is None
    assert audit_events(db_session, "template_activate") == []
    from app.documents import rendering

    assert rendering.template_version("regulation") == BUILTIN


def test_undeclared_and_unused_variables_are_listed(world, client, login, db_session):
    login(world["admin"])
    assert post_upload(client, edited("{{ unknown_thing }} и {{ budget.total }}")).status_code == 302
    tiny = Docx()
    tiny.add_paragraph("{{ org.name }}: {{ doc.heading }}")
    out = io.BytesIO()
    tiny.save(out)
    assert post_upload(client, out.getvalue(), "short.docx").status_code == 302
    undeclared, unused = versions(db_session)
    assert undeclared.problems == ["Переменная «budget» не объявлена в описании шаблона.",
                                   "Переменная «unknown_thing» не объявлена в описании шаблона."]
    assert not undeclared.valid and not unused.valid
    from app.documents.rendering import declared_variables

    missing = sorted(declared_variables("regulation") - {"org", "doc"})
    assert unused.problems == [f"Объявленная переменная «{name}» в шаблоне не используется." for name in missing]
    page = client.get("/documents/templates/regulation").get_data(as_text=True)
    assert "«unknown_thing» не объявлена" in page and "«goals» в шаблоне не используется" in page


def test_a_template_that_does_not_render_with_real_data_is_not_valid(world, goal_stage, db_session):
    """With a regulation generated, the sample is its data (one goal): a template asking for a sixth goal fails."""
    from app.documents import template_admin

    doc = generate_regulation(world, goal_stage, db_session)
    context, source = template_admin.sample_context("regulation")
    assert f"№ {doc.id}" in source and context["goals"][0]["statement"] == goal_stage.cycle.goals[0].statement
    tv = template_admin.upload("regulation", stream=io.BytesIO(edited("{{ goals[5].statement }}")),
                               filename="r.docx", actor=world["admin"])
    assert not tv.valid and tv.problems == [
        "Нет данных для шаблона «Положение о системе оценки качества образования»: "
        "не задана переменная «5»."]
    good = template_admin.upload("regulation", stream=io.BytesIO(edited(MARKER)), filename="r.docx",
                                 actor=world["admin"])
    assert good.valid and good.number == BUILTIN + 2
    db_session.rollback()


@pytest.mark.parametrize("filename, content", [
    ("regulation.pdf", b"%PDF-1.4 not a template"),
    ("regulation.doc", b"\xd0\xcf\x11\xe0 old word"),
    ("regulation.docx", b"plain text pretending to be Word"),
    ("regulation.docx", b""),
])
def test_a_file_that_is_not_a_docx_is_refused_and_nothing_is_stored(world, client, login, db_session, filename,
                                                                    content):
    login(world["admin"])
    files, events = stored_files(), len(audit_events(db_session, "template_upload"))
    response = post_upload(client, content, filename)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert any(text in body for text in ("формате Word .docx", "не является документом Word", "Файл пуст"))
    assert versions(db_session) == []
    assert stored_files() == files and len(audit_events(db_session, "template_upload")) == events


def test_non_administrators_are_refused(world, client, login, db_session):
    from app.documents import template_admin

    tv = template_admin.upload("regulation", stream=io.BytesIO(shipped()), filename="r.docx", actor=world["admin"])
    db_session.commit()
    files = stored_files()
    for user in ("official", "head", "director_a"):
        login(world[user])
        assert client.get("/documents/templates").status_code == 403
        assert client.get("/documents/templates/regulation").status_code == 403
        assert client.get(f"/documents/templates/versions/{tv.id}/download").status_code == 403
        assert post_upload(client, edited(MARKER)).status_code == 403
        assert client.post(f"/documents/templates/versions/{tv.id}/activate", data={}).status_code == 403
        assert client.post("/documents/templates/regulation/builtin/activate", data={}).status_code == 403
        client.post("/logout")
    (tv,) = versions(db_session)
    assert not tv.active and stored_files() == files
    assert audit_events(db_session, "template_activate") == []


def test_uploads_are_numbered_and_never_overwrite_each_other(world, db_session):
    from app.documents import template_admin

    first = template_admin.upload("regulation", stream=io.BytesIO(shipped()), filename="a.docx", actor=world["admin"])
    second = template_admin.upload("regulation", stream=io.BytesIO(shipped()), filename="a.docx",
                                   actor=world["admin"])
    other = template_admin.upload("protocol", stream=io.BytesIO(edited()), filename="p.docx", actor=world["admin"])
    # numbered after each type's own shipped version (their sidecars' versions)
    assert (first.number, second.number, other.number) == (BUILTIN + 1, BUILTIN + 2, builtin('protocol') + 1)
    assert first.stored_path != second.stored_path and first.sha256 == second.sha256
    assert not other.valid  # the regulation template is not a protocol template
    root = template_admin.storage_root()
    assert (root / first.stored_path).read_bytes() == (root / second.stored_path).read_bytes() == shipped()
    db_session.rollback()


def test_unknown_type_and_version_are_404(world, client, login):
    login(world["admin"])
    assert client.get("/documents/templates/no_such_type").status_code == 404
    assert post_upload(client, shipped(), type_key="no_such_type").status_code == 404
    assert client.get("/documents/templates/versions/999999/download").status_code == 404
    assert client.post("/documents/templates/versions/999999/activate", data={}).status_code == 404


# --- documents keep their template version ------------------------------------------------------

def test_a_document_keeps_its_template_version_for_the_registered_copy(world, goal_stage, make_cycle, client, login,
                                                                       db_session):
    from app.documents import template_admin

    doc = generate_regulation(world, goal_stage, db_session)  # made with the shipped version
    sign(doc, world, db_session)
    v2 = template_admin.upload("regulation", stream=io.BytesIO(edited(MARKER)), filename="v2.docx",
                               actor=world["admin"])
    template_admin.activate(v2, actor=world["admin"])
    db_session.commit()

    copy = register(doc, world, db_session)
    assert doc.current.template_version == str(BUILTIN)
    text = text_of(copy)
    assert MARKER not in text and doc.current.registration_number in text

    # And the other way round: made with version 2, registered after the shipped template is back in force.
    later = generate_regulation(world, _fresh_goal_stage(world, make_cycle, db_session), db_session)
    assert later.current.template_version == f"з{BUILTIN + 1}" and MARKER in text_of(version_file(later))
    sign(later, world, db_session)
    login(world["admin"])
    assert client.post("/documents/templates/regulation/builtin/activate", data={}).status_code == 302
    assert template_admin.active_version("regulation") is None
    (back,) = [e for e in audit_events(db_session, "template_activate")
               if json.loads(e.after)["active_version"] == BUILTIN]
    assert json.loads(back.before)["active_version"] == BUILTIN + 1
    copy = register(later, world, db_session)
    assert MARKER in text_of(copy) and later.current.registration_number in text_of(copy)
    # New documents use the shipped template again.
    assert template_admin.active_template("regulation").label == str(BUILTIN)


def _fresh_goal_stage(world, make_cycle, db_session):
    from app.documents.models import Document

    cycle = make_cycle(world["mun"], world["official"], period="2026/27")
    fill_goal(cycle, world["official"])
    stage = cycle.stage("GOAL")
    for doc in db_session.scalars(select(Document).where(Document.stage_id == stage.id)):
        db_session.delete(doc)
    db_session.commit()
    return stage


def test_an_altered_stored_template_is_refused(world, goal_stage, db_session):
    from app.documents import template_admin
    from app.documents.models import DocumentVersion

    tv = template_admin.upload("regulation", stream=io.BytesIO(edited(MARKER)), filename="v2.docx",
                               actor=world["admin"])
    template_admin.activate(tv, actor=world["admin"])
    db_session.commit()
    (template_admin.storage_root() / tv.stored_path).write_bytes(edited("подменено"))
    from app.documents import services
    from app.jobs.queue import dispatch_ready

    doc = services.generate_document(goal_stage, "regulation", actor=world["official"])
    db_session.commit()
    dispatch_ready()
    db_session.expire_all()
    version = db_session.get(DocumentVersion, doc.current.id)
    assert version.status == "failed" and "изменён в хранилище" in version.error
    assert db_session.scalar(select(func.count()).select_from(DocumentVersion).where(
        DocumentVersion.sha256.is_not(None), DocumentVersion.document_id == doc.id)) == 0


def test_an_upload_numbered_like_a_later_built_in_version_is_not_taken_for_it(app, db_session, monkeypatch):
    # Uploads and shipped versions were numbered alike: once a release shipped version N, a document recorded
    # «N» got the administrator's upload N instead (and the upload's documents the shipped file the other way).
    from app.documents import rendering, template_admin
    from app.documents.template_admin import TemplateVersion, template_for

    number = template_admin.next_number("regulation")  # what an upload gets today
    upload = TemplateVersion(type_key="regulation", number=number, original_name="свой.docx", sha256="0" * 64,
                             stored_path="templates/regulation/test-collision.docx", size=1, valid=True,
                             problems=[], active=False)
    db_session.add(upload)
    db_session.flush()
    monkeypatch.setattr(template_admin, "read_version", lambda tv: b"UPLOADED" if tv is upload else b"?")
    assert upload.label == f"з{number}"
    # a later release ships the built-in version of the same number
    monkeypatch.setattr(template_admin, "builtin_number", lambda key: number)
    assert template_for("regulation", str(number)) == rendering.template_bytes("regulation")
    assert template_for("regulation", f"з{number}") == b"UPLOADED"

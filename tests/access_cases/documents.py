"""Access-walk knowledge of this feature's routes (merged by tests/test_access.py).

ROUTE_ARGUMENTS: URL argument → (scope, fn(objs, values, rule) → list of school-B values); use objs.extra.
ENDPOINT_SCOPES: endpoint → scope, where the argument's scope is not the endpoint's.
FORM_ROUTES: endpoint → fn(objs, world, session) → (actor key, URL values, form data of a successful POST).
school_b_objects(world, make_cycle, db_session, objs) → dict of extra school-B ids, put in objs.extra.
"""

import hashlib
import io
from datetime import date

ORG_SCOPED = "organisation"
ADMIN_ONLY = "admin"
SELECTOR = "selector"


def _doc_triggers(objs, values, rule) -> list[str]:
    from app.documents.services import PAGE_TRIGGERS

    return sorted(PAGE_TRIGGERS)


ROUTE_ARGUMENTS: dict = {
    "document_id": (ORG_SCOPED, lambda o, v, r: [o.extra["document_id"]]),
    "docversion_id": (ORG_SCOPED, lambda o, v, r: [o.extra["docversion_id"]]),
    "attachment_id": (ORG_SCOPED, lambda o, v, r: [o.extra["attachment_id"]]),
    "doc_trigger": (SELECTOR, _doc_triggers),
    # Template administration is not organisation content: administrators only, everyone else 403.
    "template_type": (ADMIN_ONLY, lambda o, v, r: ["regulation"]),
    "template_version_id": (ADMIN_ONLY, lambda o, v, r: [o.extra["template_version_id"]]),
    # Registration journals are configured by an administrator of the organisation.
    "journal_id": (ADMIN_ONLY, lambda o, v, r: [o.extra["journal_id"]]),
}
ENDPOINT_SCOPES: dict = {f"documents.{name}": ADMIN_ONLY
                         for name in ("journals_page", "journals_setup", "journal_new", "journal_types")}
FORM_ROUTES: dict = {}


def school_b_objects(world, make_cycle, db_session, objs) -> dict:
    """A document of school B's IND stage with one generated, signed and registered version (real small .docx
    files on disk for the original and the registered copy, written directly: the walk is about scope, not
    templates) and a file attached to that version."""
    from app.core.timeutil import utcnow
    from app.cycles.models import Stage
    from app.documents.attachments import attach
    from app.documents.models import DocumentVersion
    from app.documents.services import find_document, storage_root
    from app.extensions import db
    from tests.fixtures_documents import stage_document_drafts, tiny_docx

    director = world["director_b"]
    stage = db.session.get(Stage, objs.stage_id)
    stage_document_drafts(stage, director)
    doc = find_document(stage, "indicators_approval")
    data = tiny_docx("Перечень показателей школы Б")
    relative = f"documents/{doc.id}/access-walk.docx"
    path = storage_root() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    copy = tiny_docx("Перечень показателей школы Б — зарегистрированный экземпляр № 0001")
    copy_relative = f"documents/{doc.id}/access-walk-registered.docx"
    (storage_root() / copy_relative).write_bytes(copy)
    # Signed and registered, with its registered copy, so both downloads are walked.
    version = DocumentVersion(number=1, status="done", progress=100, stored_path=relative,
                              sha256=hashlib.sha256(data).hexdigest(), size=len(data), created_by_id=director.id,
                              signed=True, signed_at=utcnow(), registration_seq=1, registration_number="0001/walk",
                              registration_date=date.today(), registered_status="done", registered_path=copy_relative,
                              registered_sha256=hashlib.sha256(copy).hexdigest(), registered_size=len(copy))
    doc.versions.append(version)
    db.session.flush()
    attachment = attach(version, stream=io.BytesIO(b"%PDF-1.4 walk"), filename="scan.pdf", kind="scan",
                        actor=director)
    # Its PDF, converted and stored (written directly, like the files above), so the PDF download is walked.
    from app.documents.pdf import DocumentPdf

    pdf_data = b"%PDF-1.4 walk pdf"
    pdf_relative = f"documents/{doc.id}/access-walk.pdf"
    (storage_root() / pdf_relative).write_bytes(pdf_data)
    db.session.add(DocumentPdf(version_id=version.id, status="done", path=pdf_relative, size=len(pdf_data),
                               sha256=hashlib.sha256(pdf_data).hexdigest()))
    db.session.flush()
    template_version = _uploaded_template(world["admin"])
    from app.documents.journals import ensure_journals, journals_of

    ensure_journals(stage.cycle.owner)
    journal = journals_of(stage.cycle.owner)[0]
    db_session.commit()
    return {"document_id": doc.id, "docversion_id": version.id, "attachment_id": attachment.id,
            "template_version_id": template_version.id, "journal_id": journal.id}


def _uploaded_template(admin):
    """An uploaded (valid, not active) version of the regulation template: the shipped file uploaded again."""
    from app.documents import template_admin
    from app.documents.catalogue import get_type

    data = get_type("regulation").template_path.read_bytes()
    return template_admin.upload("regulation", stream=io.BytesIO(data), filename="regulation.docx", actor=admin)

"""Russian audit-history labels of this feature, merged into app.audit.labels at start-up."""

from sqlalchemy.orm import selectinload

from app.audit.present import namer, quoted
from app.cycles.models import Cycle
from app.documents.attachments import KINDS as ATTACHMENT_KINDS
from app.documents.catalogue import document_types
from app.documents.models import Attachment, Document, DocumentVersion
from app.documents.owners import kind_of, load_owners, subject_of

ACTIONS: dict[str, str] = {
    "generate": "сформирована редакция документа", "attach": "приложен файл",
    "to_approval": "отправлено на согласование", "agree": "согласовано",
    "to_signature": "передано на подпись", "route_done": "согласование завершено",
    "withdraw": "отозвано для изменения", "sign": "подписано", "cosign": "подписано вторым подписантом (секретарь)",
    "sign_refused": "отказ в подписи",
    "acknowledge_refused": "отказ в отметке об ознакомлении", "register": "зарегистрировано",
    "publish": "опубликовано", "revise": "подготовка новой редакции",
    "registered_copy": "изготовлен зарегистрированный экземпляр",
    "template_upload": "загружена версия шаблона", "template_activate": "изменена действующая версия шаблона",
}
OBJECTS: dict[str, str] = {
    "document": "документ", "document_version": "редакция документа", "attachment": "вложение",
    "document_template": "шаблон документа", "document_journal": "журнал регистрации",
}
STATES: dict[str, str] = {
    "on_approval": "на согласовании", "awaiting_signature": "на подписи", "signed": "подписан",
    "registered": "зарегистрирован", "published": "опубликован",
}
FIELDS: dict[str, str] = {
    "type_key": "вид документа", "edition": "редакция", "addressee_id": "адресат", "params": "параметры", "type": "вид",
    "original_name": "имя файла", "sha256": "контрольная сумма (SHA-256)", "size": "размер, байт",
    "attachment_id": "вложение", "file_sha256": "контрольная сумма подписанного файла",
    "registration_number": "регистрационный номер",
    "registered_sha256": "контрольная сумма зарегистрированного экземпляра",
    "number": "номер версии", "valid": "проверка пройдена", "problems": "замечания проверки",
    "active_version": "действующая версия", "prefix": "префикс номера", "suffix": "суффикс номера",
    "file_index": "индекс дела", "journal_types": "виды документов в журналах",
    # the choices an edition was made with (DocumentVersion.params), by their words in the history
    "params.invited": "приглашённые", "params.data_request_id": "запрос сведений",
}


def _document_name(doc: Document) -> str:
    """«Положение о …», ред. 2, № 1-лна — what a reader of the log looks for."""
    current = doc.current
    parts = [quoted(doc.title, 120)]
    if current is not None:
        parts.append(f"ред. {current.number}")
        if current.registration_number:
            parts.append(f"№ {current.registration_number}")
    return ", ".join(parts)


def _document_types(keys) -> dict:
    types = document_types()
    return {key: (types[key].title, None) for key in keys if key in types}


VALUES: dict[str, dict[str, str]] = {"attachment.kind": ATTACHMENT_KINDS, "recommendation_item.kind": ATTACHMENT_KINDS,
                                     "measure.kind": ATTACHMENT_KINDS}
REFERENCES: dict[str, str] = {"type_key": "document_type", "addressee_id": "organisation",
                              "attachment_id": "attachment"}
def _opens_document(doc, by_organisation) -> bool:
    """As the document's page (views.document_in_scope): its issuer's subtree and, for a document about another
    organisation, that organisation too."""
    subject = subject_of(doc)
    return by_organisation(doc.organisation) and (subject is None or by_organisation(subject))


def _owners_of(docs) -> list:
    """The owners `subject_of` reads (a municipality of a campaign), loaded at once by their kinds with what the
    subject is: `owner_of` gets each by id, one statement per document."""
    return load_owners([doc for doc in docs if doc is not None and doc.owner_type is not None
                        and kind_of(doc.owner_type).subject is not None])


# What the label and the scope check read, loaded with the rows: the editions, the issuer, the cycle's owner.
_DOCUMENT = (selectinload(Document.versions), selectinload(Document.issuer),
             selectinload(Document.cycle).selectinload(Cycle.owner))
NAMERS = {
    "document": namer(Document, _document_name, "documents.document_detail", "document_id", options=_DOCUMENT,
                      opens=_opens_document, prepare=_owners_of),
    "document_version": namer(DocumentVersion, lambda v: f"{quoted(v.document.title)}, ред. {v.number}",
                              options=tuple(selectinload(DocumentVersion.document).options(o) for o in _DOCUMENT),
                              opens=lambda v, by_organisation: _opens_document(v.document, by_organisation),
                              prepare=lambda versions: _owners_of([v.document for v in versions])),
    "attachment": namer(Attachment, lambda a: quoted(a.original_name), "documents.download_attachment",
                        "attachment_id"),
    "document_type": _document_types,
}

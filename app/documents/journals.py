"""Журналы регистрации by kind of document: each organisation keeps its own (приказы по основной деятельности
«12-од», исходящие письма «01-15/123», протоколы, локальные акты …) with a number format, and maps every document
type to one of them. The defaults (data/journals.yaml) are created on the organisation's first registration or
when an administrator opens its journals; after that they are the organisation's to change.

Services here change state, flush and audit; they never commit."""

import re
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit import chain
from app.core.errors import ValidationFailed
from app.documents.catalogue import document_types
from app.documents.models import DocumentJournal, JournalType
from app.extensions import db
from app.orgs.models import Organisation

DEFAULTS_PATH = Path(__file__).parent / "data" / "journals.yaml"
FALLBACK_CODE = "other"
CODE_RE = re.compile(r"^[a-z0-9_]{1,30}$")
# Prefix, suffix and index of the дело are printed inside the number: no spaces, no characters Word or a file
# name would choke on.
PART_RE = re.compile(r"^[0-9A-Za-zА-Яа-яЁё./-]*$")
PART_LIMITS = {"prefix": 20, "suffix": 20, "file_index": 30}
LABELS = {"prefix": "Префикс", "suffix": "Суффикс", "file_index": "Индекс дела"}


@lru_cache(maxsize=1)
def default_journals() -> tuple[dict, ...]:
    """The default journals: code, title, prefix, suffix, file_index, types (document type keys)."""
    data = yaml.safe_load(DEFAULTS_PATH.read_text(encoding="utf-8"))
    return tuple({"code": j["code"], "title": j["title"], "prefix": j.get("prefix", ""), "suffix": j.get("suffix", ""),
                  "file_index": j.get("file_index", ""), "types": tuple(j.get("types") or ())}
                 for j in data["journals"])


def default_journal_code(type_key: str) -> str:
    return next((j["code"] for j in default_journals() if type_key in j["types"]), FALLBACK_CODE)


def journals_of(org) -> list[DocumentJournal]:
    return list(db.session.scalars(select(DocumentJournal).where(DocumentJournal.organisation_id == org.id)
                                   .order_by(DocumentJournal.position, DocumentJournal.id)))


def mapping_of(org) -> dict[str, DocumentJournal]:
    """Document type key → its journal at `org`."""
    rows = db.session.execute(select(JournalType.type_key, DocumentJournal)
                              .join(DocumentJournal, DocumentJournal.id == JournalType.journal_id)
                              .where(JournalType.organisation_id == org.id))
    return {key: journal for key, journal in rows}


def is_set_up(org) -> bool:
    return db.session.scalar(select(JournalType.id).where(JournalType.organisation_id == org.id).limit(1)) is not None


def ensure_journals(org) -> None:
    """Create the default journals and the type → journal mapping of `org` unless it has a mapping already.

    Two first registrations at once both try: the second one's INSERT waits on the unique index until the first
    commits and then fails inside its savepoint, after which the first one's rows are visible to it."""
    if is_set_up(org):
        return
    try:
        with db.session.begin_nested():
            existing = {j.code: j for j in journals_of(org)}
            by_code = {}
            for n, spec in enumerate(default_journals(), 1):
                journal = existing.get(spec["code"])
                if journal is None:
                    journal = DocumentJournal(organisation_id=org.id, code=spec["code"], title=spec["title"],
                                              prefix=spec["prefix"], suffix=spec["suffix"],
                                              file_index=spec["file_index"], position=n)
                    db.session.add(journal)
                by_code[spec["code"]] = journal
            db.session.flush()
            for key in document_types():
                journal = by_code.get(default_journal_code(key)) or by_code[FALLBACK_CODE]
                db.session.add(JournalType(organisation_id=org.id, type_key=key, journal_id=journal.id))
            db.session.flush()
    except IntegrityError:
        pass  # another transaction set them up meanwhile (and has committed): use theirs


def journal_for(org, type_key: str) -> DocumentJournal:
    """The journal a document of `type_key` issued by `org` is registered in."""
    ensure_journals(org)
    journal = db.session.scalar(select(DocumentJournal).join(JournalType, JournalType.journal_id == DocumentJournal.id)
                                .where(JournalType.organisation_id == org.id, JournalType.type_key == type_key))
    if journal is None:  # a type added to the catalogue after the organisation's journals were set up
        journal = db.session.scalar(select(DocumentJournal).where(DocumentJournal.organisation_id == org.id,
                                                                  DocumentJournal.code == FALLBACK_CODE))
    if journal is None:
        raise ValidationFailed("Не найден журнал регистрации для этого вида документа: проверьте настройку "
                               "журналов организации.")
    return journal


# --- configuration by an administrator --------------------------------------------------------------------

def _clean_format(data: dict) -> dict:
    cleaned, problems = {}, []
    for key, limit in PART_LIMITS.items():
        value = (data.get(key) or "").strip()
        if len(value) > limit:
            problems.append(f"{LABELS[key]}: не длиннее {limit} символов.")
        elif not PART_RE.match(value):
            problems.append(f"{LABELS[key]}: только буквы, цифры и знаки «-», «/», «.» без пробелов.")
        cleaned[key] = value
    title = " ".join((data.get("title") or "").split())
    if not title:
        problems.append("Укажите название журнала.")
    elif len(title) > 200:
        problems.append("Название журнала: не длиннее 200 символов.")
    cleaned["title"] = title
    if problems:
        raise ValidationFailed("Журнал регистрации не сохранён.", problems=problems)
    return cleaned


def _refuse_same_format(org, cleaned: dict, own_id: int | None) -> None:
    """Two journals with one format would give the same number text to two documents of a year.

    The organisation's row is locked first (PostgreSQL; SQLite serialises writers): two journals saved at the same
    moment with one format each found the other absent and both were kept (attack 8), and the first registration in
    each gave the same number «…/1» to two documents. FOR NO KEY UPDATE, as app.api.services.issue_token explains."""
    db.session.execute(select(Organisation.id).where(Organisation.id == org.id).with_for_update(key_share=True))
    for other in journals_of(org):
        if other.id != own_id and (other.prefix, other.file_index, other.suffix) == (
                cleaned["prefix"], cleaned["file_index"], cleaned["suffix"]):
            raise ValidationFailed("Журнал регистрации не сохранён.", problems=[
                f"Такой же формат номера уже у журнала «{other.title}»: номера документов совпадали бы. "
                "Измените префикс, суффикс или индекс дела."])


def create_journal(org, *, code: str, data: dict, actor) -> DocumentJournal:
    """Add a journal to `org` (code: latin letters, digits, «_»; unique within the organisation)."""
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise ValidationFailed("Журнал регистрации не сохранён.", problems=[
            "Код журнала: до 30 строчных латинских букв, цифр и «_» (например, orders_staff)."])
    ensure_journals(org)
    if any(j.code == code for j in journals_of(org)):
        raise ValidationFailed("Журнал регистрации не сохранён.",
                               problems=[f"Журнал с кодом «{code}» уже есть."])
    cleaned = _clean_format(data)
    _refuse_same_format(org, cleaned, None)
    journal = DocumentJournal(organisation_id=org.id, code=code, position=len(journals_of(org)) + 1, **cleaned)
    db.session.add(journal)
    db.session.flush()
    chain.record(action="create", object_type="document_journal", object_id=journal.id, actor=actor,
                 actor_role="admin", organisation_id=org.id, after=journal.audit_snapshot())
    return journal


def update_journal(journal: DocumentJournal, *, data: dict, actor) -> None:
    """Change a journal's title and number format. Numbers already given keep their text."""
    cleaned = _clean_format(data)
    _refuse_same_format(journal.organisation, cleaned, journal.id)
    before = journal.audit_snapshot()
    for key, value in cleaned.items():
        setattr(journal, key, value)
    db.session.flush()
    chain.record(action="update", object_type="document_journal", object_id=journal.id, actor=actor,
                 actor_role="admin", organisation_id=journal.organisation_id, before=before,
                 after=journal.audit_snapshot())


def set_type_journals(org, choices: dict[str, int], *, actor) -> int:
    """Put document types into journals: {type_key: journal_id}; the number of types moved."""
    ensure_journals(org)
    journals = {j.id: j for j in journals_of(org)}
    types = document_types()
    problems = [f"Неизвестный вид документа «{key}»." for key in choices if key not in types]
    problems += [f"«{types[key].title}»: журнал не найден в этой организации." for key, jid in choices.items()
                 if key in types and jid not in journals]
    if problems:
        raise ValidationFailed("Распределение по журналам не сохранено.", problems=problems)
    rows = {row.type_key: row for row in db.session.scalars(select(JournalType)
                                                            .where(JournalType.organisation_id == org.id))}
    moved = {}
    for key, journal_id in choices.items():
        row = rows.get(key)
        if row is None:
            db.session.add(JournalType(organisation_id=org.id, type_key=key, journal_id=journal_id))
            moved[key] = journal_id
        elif row.journal_id != journal_id:
            moved[key] = journal_id
            row.journal_id = journal_id
    if moved:
        db.session.flush()
        chain.record(action="update", object_type="organisation", object_id=org.id, actor=actor, actor_role="admin",
                     organisation_id=org.id, after={"journal_types": {k: journals[v].code for k, v in moved.items()}})
    return len(moved)

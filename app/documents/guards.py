"""Guards the workflows ask through their hooks: the stage's mandatory document types exist (at least as drafts)
before it is submitted; an owner's document of a type is registered (an assessment campaign's closing)."""
from sqlalchemy import select

from app.cycles.models import Stage
from app.documents.catalogue import get_type, mandatory_types
from app.documents.models import Document
from app.extensions import db
from workflows.document import STATE_LABELS, recorded


def mandatory_documents(stage) -> list[str]:
    """One Russian problem per mandatory type of the stage (catalogue data) with no document of the stage."""

    types = mandatory_types(stage.code)
    if not types:
        return []
    present = set(db.session.scalars(select(Document.type_key).where(Document.stage_id == stage.id)))
    # a type that is one document of the cycle (the перечень of IND and METH) counts from any of its stages
    spanning = [t.key for t in types if t.one_per_cycle and t.key not in present]
    if spanning:
        present |= set(db.session.scalars(
            select(Document.type_key).join(Stage, Stage.id == Document.stage_id)
            .where(Stage.cycle_id == stage.cycle_id, Document.type_key.in_(spanning))))
    level = stage.cycle.owner.level
    return [f"Нет документа «{t.title_for(level)}» (хотя бы проекта): сформируйте его в разделе «Документы этапа»."
            for t in types if t.key not in present] + list_without_methods(stage)


def list_without_methods(stage) -> list[str]:
    """«Методы сбора» sent for approval with the draft перечень made at «Показатели», before any method was
    described: the stage's document had no methods section, and nothing said so (walk of 7 December 2026). A
    перечень already signed at «Показатели» stands as it is (its new edition is the head's call, not a guard's)."""
    if stage.code != "METH" or not stage.cycle.collection_methods:
        return []
    doc = db.session.scalar(select(Document).where(Document.cycle_id == stage.cycle_id,
                                                   Document.type_key == "indicators_approval"))
    if doc is None or doc.current is None or doc.current.signed or recorded(doc, "methods") != []:
        return []
    title = get_type(doc.type_key).title_for(stage.cycle.owner.level)
    return [f"Документ «{title}» сформирован до описания методов и методов не содержит: сформируйте его заново в "
            "разделе «Документы этапа»."]


def registered_document(owner, type_key: str) -> list[str]:
    """A Russian problem unless `owner` (an object owning documents, app/documents/owners.py) has its document of
    `type_key` registered (or published after registration): a draft or a signed one does not count."""
    doc = db.session.scalar(select(Document).where(Document.owner_type == owner.audit_type,
                                                   Document.owner_id == owner.id, Document.type_key == type_key))
    title = get_type(type_key).title
    if doc is None:
        return [f"Нет документа «{title}»: сформируйте его, подпишите и зарегистрируйте."]
    if not any(v.registration_number for v in doc.versions) or doc.state not in ("registered", "published"):
        return [f"Документ «{title}» не зарегистрирован (сейчас: {STATE_LABELS[doc.state]}): его нужно "
                "подписать и зарегистрировать."]
    return []

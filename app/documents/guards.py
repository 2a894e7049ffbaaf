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
            for t in types if t.key not in present] + list_without_methods(stage) + report_before_conclusions(stage)


def _mandatory_documents_of(stage, types) -> list[Document]:
    """The documents of the mandatory `types` for the stage: its own, and a type one per cycle from any stage."""
    spanning = [t.key for t in types if t.one_per_cycle]
    own = [t.key for t in types if not t.one_per_cycle]
    query = select(Document).join(Stage, Stage.id == Document.stage_id).where(
        ((Document.stage_id == stage.id) & Document.type_key.in_(own))
        | ((Stage.cycle_id == stage.cycle_id) & Document.type_key.in_(spanning))).order_by(Document.id)
    return list(db.session.scalars(query))


def unsigned_documents(stage) -> list[str]:
    """One line per document of the stage's mandatory types whose current edition is not signed (a draft, on its
    route, waiting for the signature, or a new edition of a signed one): the approver of the stage reads them beside
    «Утвердить» — the head approved blocks whose documents nobody had agreed, without a word (walk 19)."""
    types = mandatory_types(stage.code)
    if not types:
        return []
    return [f"«{doc.title}» — {STATE_LABELS[doc.state]}" for doc in _mandatory_documents_of(stage, types)
            if doc.current is None or not doc.current.signed]


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


def report_before_conclusions(stage) -> list[str]:
    """«Анализ» sent for approval with an analytic справка made before the stage's conclusions were written (or
    changed since): its «Выводы» are not the ones the head approves with the stage — drawn from the figures, or the
    earlier text (walk 19). The справка records the conclusions it printed (context «conclusions_list»); an edition
    already signed stands as it is, as the перечень above."""
    if stage.code != "ANL":
        return []
    doc = db.session.scalar(select(Document).where(Document.stage_id == stage.id,
                                                   Document.type_key == "analytic_report"))
    printed = recorded(doc, "conclusions_list") if doc is not None else None
    if printed is None or doc.current.signed or doc.current.status != "done":
        return []
    written = [p.strip() for p in (stage.summary or "").split("\n") if p.strip()]
    if printed == written:
        return []
    title = get_type(doc.type_key).title_for(stage.cycle.owner.level)
    when = "до того, как были записаны выводы этапа" if not printed else "до последнего изменения выводов этапа"
    return [f"Документ «{title}» сформирован {when}, и его раздел «Выводы» не совпадает с содержанием этапа: "
            "сформируйте его заново в разделе «Документы этапа»."]


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

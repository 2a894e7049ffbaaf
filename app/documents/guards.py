"""Stage guard: the stage's mandatory document types exist (at least as drafts) before it is submitted."""
from sqlalchemy import select

from app.cycles.models import Stage
from app.documents.catalogue import mandatory_types
from app.documents.models import Document
from app.extensions import db


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
    return [f"Нет документа «{t.title}» (хотя бы проекта): сформируйте его в разделе «Документы этапа»."
            for t in types if t.key not in present]

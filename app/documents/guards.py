"""Stage guard: the stage's mandatory document types exist (at least as drafts) before it is submitted."""
from sqlalchemy import select

from app.documents.catalogue import mandatory_types
from app.documents.models import Document
from app.extensions import db


def mandatory_documents(stage) -> list[str]:
    """One Russian problem per mandatory type of the stage (catalogue data) with no document of the stage."""

    types = mandatory_types(stage.code)
    if not types:
        return []
    present = set(db.session.scalars(select(Document.type_key).where(Document.stage_id == stage.id)))
    return [f"Нет документа «{t.title}» (хотя бы проекта): сформируйте его в разделе «Документы этапа»."
            for t in types if t.key not in present]

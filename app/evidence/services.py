"""Gathering a cycle's evidence in a fixed number of queries: documents with every edition, approval and
signature loaded at once, the integrity check, the cycle's history."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.documents.catalogue import document_types
from app.documents.models import Document, DocumentVersion
from app.extensions import db
from workflows.document import STATES as DOCUMENT_STATES


@dataclass
class EvidenceLine:
    """One document of the cycle as the evidence table shows it."""

    document: Document
    stage_position: int
    stage_title: str
    type_title: str
    state: str
    edition: DocumentVersion | None  # the current edition (the newest generated one)
    registered: DocumentVersion | None  # the edition that carries the registration, if any

    @property
    def approvals(self):
        if self.edition is None:
            return []
        return sorted((a for a in self.edition.approvals if a.decision), key=lambda a: (a.round, a.position))

    @property
    def signatures(self):
        return sorted(self.edition.signatures, key=lambda s: s.signed_at) if self.edition is not None else []


def lines(cycle) -> list[EvidenceLine]:
    """Every document of the cycle in stage order, then by type and addressee."""
    types = document_types()
    stages = {s.id: s for s in cycle.stages}
    documents = db.session.scalars(
        select(Document).where(Document.cycle_id == cycle.id)
        .options(selectinload(Document.versions).selectinload(DocumentVersion.approvals),
                 selectinload(Document.versions).selectinload(DocumentVersion.signatures),
                 selectinload(Document.addressee))).all()
    out = []
    for doc in documents:
        stage = stages.get(doc.stage_id)
        done = [v for v in doc.versions if v.status == "done"]
        edition = max(done, key=lambda v: v.number) if done else None
        registered = next((v for v in sorted(doc.versions, key=lambda v: -v.number) if v.registration_number), None)
        kind = types.get(doc.type_key)
        out.append(EvidenceLine(doc, stage.position if stage else 0, stage.title if stage else "",
                                kind.title if kind else doc.type_key, DOCUMENT_STATES.get(doc.state, doc.state),
                                edition, registered))
    return sorted(out, key=lambda line: (line.stage_position, line.type_title, line.document.addressee.name
                                         if line.document.addressee else "", line.document.id))


def stage_names(cycle) -> dict[str, str]:
    """Stage code → «N. title»: how a person knows a stage (the integrity check names stages by their codes)."""
    return {s.code: f"{s.position}. {s.definition.title}" for s in cycle.stages}

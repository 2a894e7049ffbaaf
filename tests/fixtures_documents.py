"""Shared pytest fixtures of the documents feature (loaded through pytest_plugins in conftest)."""

import io

import pytest


def stage_document_drafts(stage, actor) -> list:
    """Draft documents of the stage's mandatory types (rows only, nothing rendered), so that tests of other
    features can submit a stage past the documents guard. No-op for a missing stage or types already there."""
    from sqlalchemy import select

    from app.documents.catalogue import get_type, mandatory_types
    from app.documents.models import Document
    from app.extensions import db

    if stage is None:
        return []
    have = set(db.session.scalars(select(Document.type_key).where(Document.stage_id == stage.id)))
    made = []
    for doc_type in mandatory_types(stage.code):
        if doc_type.key in have:
            continue
        doc = Document(cycle_id=stage.cycle_id, stage_id=stage.id, type_key=doc_type.key,
                       title=get_type(doc_type.key).title, state="draft", created_by_id=actor.id,
                       addressee_id=stage.cycle.owner_id if doc_type.per_addressee else None)
        db.session.add(doc)
        made.append(doc)
    db.session.flush()
    return made


def tiny_docx(text: str) -> bytes:
    """A real, small .docx holding `text` (python-docx), for tests that do not exercise the templates."""
    from docx import Document as Docx

    out = io.BytesIO()
    docx = Docx()
    docx.add_paragraph(text)
    docx.save(out)
    return out.getvalue()


@pytest.fixture
def goal_stage(world, make_cycle, db_session):
    """A municipal M1.1 cycle whose GOAL stage is a draft with one goal (no documents yet)."""
    from sqlalchemy import select

    from app.documents.models import Document
    from tests.conftest import fill_goal

    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    stage = cycle.stage("GOAL")
    # fill_goal also drafts the mandatory documents for other features' tests; these tests start without.
    for doc in db_session.scalars(select(Document).where(Document.stage_id == stage.id)):
        db_session.delete(doc)
    db_session.commit()
    return stage


@pytest.fixture
def fake_generation(monkeypatch):
    """Replace the context builders and the renderer by tiny fakes: a lifecycle test need not depend on the
    templates. `params={"missing": "…"}` makes the context builder refuse with that reason."""
    from app.core.errors import ValidationFailed
    from app.documents import rendering

    calls = []

    def build_context(type_key, stage, *, addressee=None, params=None, version=None):
        params = params or {}
        if params.get("missing"):
            raise ValidationFailed("Недостаточно данных для документа.", problems=[params["missing"]])
        number = version.get("number") if isinstance(version, dict) else getattr(version, "number", None)
        calls.append((type_key, stage.id, number))
        return {"type_key": type_key, "stage": stage.title, "version": number,
                "addressee": addressee.display_name if addressee else "", "note": params.get("note", "")}

    def render(type_key, context, *, template=None, required=None):
        if context.get("note") == "crash":
            raise RuntimeError("renderer crashed")
        return tiny_docx(f"{context['type_key']} ред. {context['version']} {context['addressee']} {context['note']}")

    from app.documents import contexts

    monkeypatch.setattr(contexts, "build_context", build_context)
    monkeypatch.setattr(rendering, "render", render)
    return calls

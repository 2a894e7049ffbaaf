"""A document is titled for the level of the cycle that makes it: the положение of a school's cycle is «о внутренней
системе оценки качества образования», a region's «о региональной …» — the catalogue called every положение
«о муниципальной системе …», on a school's and the region's stage pages, lists and journals too (the text of the
document already said «внутренней»)."""

import pytest
import yaml
from sqlalchemy import select

from app.core.errors import ValidationFailed
from app.documents import catalogue
from app.documents.guards import mandatory_documents
from app.documents.models import Document
from app.documents.services import generate_document


def test_the_regulation_is_titled_for_each_level():
    regulation = catalogue.get_type("regulation")
    assert regulation.title == "Положение о системе оценки качества образования"
    assert [regulation.title_for(level) for level in ("school", "municipal", "regional", None)] == [
        "Положение о внутренней системе оценки качества образования",
        "Положение о муниципальной системе оценки качества образования",
        "Положение о региональной системе оценки качества образования",
        "Положение о системе оценки качества образования"]


def test_a_schools_cycle_makes_and_asks_for_the_schools_regulation(world, make_cycle, db_session, client, login):
    school, director = world["school_a"], world["director_a"]
    from tests.conftest import fill_goal

    cycle = make_cycle(school, director, mechanism="I1.1")
    fill_goal(cycle, director)  # a goal, and the stage's mandatory drafts, taken away below
    stage = cycle.stage("GOAL")
    for doc in db_session.scalars(select(Document).where(Document.stage_id == stage.id)):
        db_session.delete(doc)
    db_session.commit()
    title = "Положение о внутренней системе оценки качества образования"
    assert mandatory_documents(stage) == [f"Нет документа «{title}» (хотя бы проекта): сформируйте его в разделе "
                                          "«Документы этапа»."]
    login(director)
    page = client.get(f"/stages/{stage.id}").get_data(as_text=True)
    assert f"Сформировать: {title}" in page and "муниципальной" not in page

    doc = generate_document(stage, "regulation", actor=director)
    db_session.commit()
    assert doc.title == title


def test_the_catalogue_refuses_a_title_for_an_unknown_level():
    data = yaml.safe_load(catalogue.CATALOGUE_PATH.read_text(encoding="utf-8"))
    regulation = next(e for e in data["types"] if e["key"] == "regulation")
    regulation["level_titles"] = {"district": "Положение о районной системе"}
    with pytest.raises(ValidationFailed) as refused:
        catalogue.parse_catalogue(data)
    assert any("level_titles" in p for p in refused.value.problems)


def test_a_closed_cycle_makes_no_new_document_nor_edition(world, goal_stage, db_session, client, login):
    """The screens review: «Сформировать» on an approved stage of a finished cycle made redaction 2 of its
    registered order. A closed cycle's evidence is what it was closed with."""
    from app.audit.models import AuditEvent
    from app.documents.models import DocumentVersion
    from sqlalchemy import func

    doc = generate_document(goal_stage, "regulation", actor=world["official"])
    cycle = goal_stage.cycle
    cycle.state, cycle.closed_at = "closed", cycle.created_at
    db_session.commit()
    login(world["official"])  # (a log-in is an audit event of its own)
    before = (db_session.scalar(select(func.count()).select_from(DocumentVersion)),
              db_session.scalar(select(func.count()).select_from(AuditEvent)))
    with pytest.raises(ValidationFailed, match="Цикл закрыт"):
        generate_document(goal_stage, "regulation", actor=world["official"])
    db_session.rollback()
    page = client.get(f"/stages/{goal_stage.id}").get_data(as_text=True)
    assert "Сформировать:" not in page
    document_page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert "Сформировать заново" not in document_page and "Подготовить новую редакцию" not in document_page
    assert client.post(f"/documents/{doc.id}/regenerate", data={"version": doc.version}).status_code < 500
    response = client.post(f"/documents/stages/{goal_stage.id}/generate", data={"type_key": "regulation"})
    assert response.status_code < 500
    assert (db_session.scalar(select(func.count()).select_from(DocumentVersion)),
            db_session.scalar(select(func.count()).select_from(AuditEvent))) == before

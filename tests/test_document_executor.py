"""The executor mark (исполнитель) names who prepared the document: the stage's responsible person, else whoever made
the edition. A stage with no responsible person printed the signer — the head as the executor of the order he signs
(fourth PDF review, 6 December 2026)."""

from types import SimpleNamespace

from app.documents import contexts
from tests.test_document_templates import cycle  # noqa: F401  (fixture)


def test_without_a_responsible_person_the_maker_of_the_edition_is_the_executor(cycle, world, db_session):  # noqa: F811
    stage = cycle.stage("DEC")
    stage.responsible = None
    db_session.flush()
    made_by_official = SimpleNamespace(created_by=world["official"])

    ctx = contexts.build_context("decision_order", stage, version=made_by_official)
    assert ctx["executor"]["name"] == world["official"].full_name
    # nothing known of who made it (a preview): the signer, as before
    assert contexts.build_context("decision_order", stage)["executor"]["name"] == world["head"].full_name


def test_the_responsible_person_stays_the_executor(cycle, world, make_user, db_session):  # noqa: F811
    stage = cycle.stage("DEC")
    methodologist = make_user("methodologist", world["mun"])
    stage.responsible = methodologist
    db_session.flush()
    ctx = contexts.build_context("decision_order", stage, version=SimpleNamespace(created_by=world["official"]))
    assert ctx["executor"]["name"] == methodologist.full_name

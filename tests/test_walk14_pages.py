"""Walk 14 (the working pages by keyboard and as a reader: a cycle, a stage, the analysis dashboard, the 08-70 sheet of
the expert and of the auditor, and their print): what the rendered pages found wanting.

«Направить на утверждение» refused with «Критерии 1.2, 1.3, 2.1: балл эксперта отличается от самооценки — нужен
комментарий к каждому», and the expert hunted for those criteria in a sheet four screens long: no field said it was
the one; a screen reader heard nothing at the comment box. The printed sheet ended in the decision's empty comment
boxes."""

from datetime import date

import lxml.html
import pytest

from tests.test_assessment import _goals_order_scored_as_evidence, _self_assessment_submitted, assess  # noqa: F401


def _doc(response, status: int = 200):
    assert response.status_code == status, response.status_code
    return lxml.html.fromstring(response.get_data(as_text=True))


def _words(node) -> str:
    return " ".join(node.text_content().split())


@pytest.fixture
def differing(world, assess, db_session):  # noqa: F811
    """The expert's draft of M1.1 over a submitted self-assessment: the first criterion scored otherwise without a
    comment, the second otherwise with one, the rest as the coordinator did. (assignment, the three scores)"""
    from app.assessment import services

    sa, assignment = _self_assessment_submitted(world, assess, db_session)
    scores = services.scores_of(sa.campaign, sa.municipality_id, "M1.1")
    entries = {s.id: (s.self_points, None, s.version) for s in scores}
    first, second = scores[0], scores[1]
    entries[first.id] = (1 - first.self_points if first.criterion.max_points == 1 else 0, None, first.version)
    entries[second.id] = (1 - second.self_points if second.criterion.max_points == 1 else 0, "довод эксперта",
                          second.version)
    services.save_expert_scores(assignment, actor=world["expert"], today=date.today(), entries=entries)
    db_session.commit()
    assert first.self_points != first.expert_points and second.self_points != second.expert_points
    return assignment, first, second, scores[2]


def _comment_box(doc, score):
    (box,) = doc.xpath(f"//form[@id='expert-form']//textarea[@name='comment-{score.id}']")
    return box


def _marked(doc, score) -> str | None:
    """The message the comment box of `score` is described by as invalid, or None when it is not marked."""
    box = _comment_box(doc, score)
    if box.get("aria-invalid") != "true":
        return None
    return " ".join(_words(doc.get_element_by_id(i)) for i in box.get("aria-describedby").split())


def test_the_criteria_whose_score_differs_without_a_comment_are_marked_at_their_comment_box(world, differing,
                                                                                              client, login):
    assignment, uncommented, commented, same = differing
    login(world["expert"])
    doc = _doc(client.get(f"/assessment/evaluations/{assignment.id}"))
    assert _marked(doc, uncommented) == "Нужен комментарий: ваш балл отличается от самооценки."
    assert "is-invalid" in _comment_box(doc, uncommented).get("class")
    assert _marked(doc, commented) is None and _marked(doc, same) is None

    # refused, the page names the criterion and marks its field: the two say the same
    refused = _doc(client.post(f"/assessment/evaluations/{assignment.id}/transition",
                               data={"trigger": "submit", "version": assignment.version}), 409)
    assert "балл эксперта отличается от самооценки — нужен комментарий" in _words(refused)
    assert _marked(refused, uncommented) == "Нужен комментарий: ваш балл отличается от самооценки."
    marked = refused.xpath("//textarea[@aria-invalid='true']")
    assert [box.get("name") for box in marked] == [f"comment-{uncommented.id}"]


def test_the_printed_evaluation_ends_with_its_sheet_not_with_the_decisions_empty_comment_boxes(world, differing,
                                                                                                 client, login):
    assignment = differing[0]
    login(world["expert"])
    doc = _doc(client.get(f"/assessment/evaluations/{assignment.id}"))
    (actions,) = doc.xpath("//form[@id='evaluation-actions']")
    assert "d-print-none" in actions.getparent().getparent().get("class")  # the decisions are the screen's
    (way,) = doc.xpath("//p[@id='evaluation-summary']/a[@href='#evaluation-actions']")
    assert "d-print-none" in way.get("class")  # «… — под листом оценки» leads nowhere on paper


def test_a_document_recorded_as_evidence_is_listed_once_and_a_newer_edition_beside_it(
        world, assess, make_cycle, client, login, db_session):  # noqa: F811 (the fixture)
    """The auditor's sheet listed each recorded document twice (found now, and recorded with its hash)."""
    from app.documents.models import DocumentVersion

    assignment = assess["assignment"]
    doc = _goals_order_scored_as_evidence(world, assess, make_cycle, db_session)
    db_session.commit()
    login(world["auditor"])

    def listed() -> list[list[str]]:
        """Per criterion citing the order, its entries for it."""
        doc_page = lxml.html.fromstring(client.get(f"/assessment/evaluations/{assignment.id}").data)
        cells = doc_page.xpath("//table[@id='sheet']//tr[@data-criterion]/td[5]")
        entries = [[_words(div) for div in cell.xpath("./div[a[normalize-space()='Приказ об утверждении целей']]")]
                   for cell in cells]
        return [e for e in entries if e]

    cited = listed()
    assert cited and all(len(e) == 1 for e in cited), cited
    assert all("№ 0007/2026 от 12.03.2026" in e[0] and "SHA-256" in e[0] for e in cited)  # recorded, with its hash
    doc.versions.append(DocumentVersion(number=2, status="done", sha256="b" * 64, registration_number="0009/2026",
                                        registration_seq=9, registration_year=2026, registration_date=date(2026, 4, 1)))
    db_session.commit()
    after = listed()
    assert len(after) == len(cited)
    for now in after:
        assert len(now) == 2 and any("№ 0009/2026" in i for i in now) and any("№ 0007/2026" in i for i in now), now


def test_the_printed_stage_is_its_content_not_its_forms(client, world, login, make_cycle, db_session):
    """Printed, a stage page ended in the decisions' empty comment boxes, the document generator's choice of addressee
    and the «Ответственный и срок» form (whose values its heading already states)."""
    cycle = make_cycle(world["mun"], world["official"])
    db_session.commit()
    login(world["official"])
    doc = _doc(client.get(f"/stages/{cycle.stage('GOAL').id}"))

    def printed(node) -> bool:
        return not any("d-print-none" in (n.get("class") or "").split() for n in node.iterancestors()) and \
            "d-print-none" not in (node.get("class") or "").split()

    actions = [f.get("action") for f in doc.xpath("//main//form") if printed(f)]
    assert actions == [], actions  # transitions, generating documents, settings: the screen's
    assert printed(doc.xpath("//main//h1")[0]) and all(printed(t) for t in doc.xpath("//main//table"))
    assert "Ответственный:" in _words(doc.xpath("//main")[0])  # the settings' values, printed in the heading

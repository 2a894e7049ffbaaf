"""What a records office found in the 08-70 expert conclusion of a municipality scored by two experts: only the first
signed it; it printed whole percents («95 %») where the evaluation page shows tenths («95,5 %»); it said the scores
were «подтверждены документами» over a block scored 0 with no document at all; and an edition made before another
mechanism's evaluation was approved went on looking current."""

import io
import re
from datetime import date

import pytest
from docx import Document as Docx
from docx.oxml.ns import qn

from tests.conftest import PASSWORD
from tests.test_assessment_documents import camp, generated  # noqa: F401  (the campaign fixture and the job runner)


def _words(data: bytes) -> str:
    """Every text run of the document's body in order, nested tables (the signature block) included."""
    body = Docx(io.BytesIO(data)).element.body
    # (the rendering glues initials to a surname and a number to «%» with no-break spaces: compared as spaces)
    return "".join(t.text or "" for t in body.iter(qn("w:t"))).replace("\u00a0", " ")


def _evaluate(camp, db_session, code, expert, *, zero_block=None, zero_one=False):  # noqa: F811
    """Municipality A's self-assessment of `code` and `expert`'s evaluation, approved by the head. The criteria of
    `zero_block` score 0 in both (no comment: the scores agree); with `zero_one` the first criterion's expert score is
    0, commented."""
    from app.assessment import services

    campaign, mun, today = camp["campaign"], camp["mun_a"], date.today()
    sa = services.self_assessment_for(campaign, mun.id, code)
    scores = services.scores_of(campaign, mun.id, code)

    def points(s):
        return 0 if s.criterion.block == zero_block else s.criterion.max_points

    services.save_self_scores(sa, actor=camp["coordinator_a"], today=today,
                              entries={s.id: (points(s), None, s.version) for s in scores})
    services.transition_self(sa, "submit", actor=camp["coordinator_a"], today=today)
    scores = services.scores_of(campaign, mun.id, code)
    entries = {s.id: (points(s), None, s.version) for s in scores}
    if zero_one:
        entries[scores[0].id] = (0, "Положение не утверждено", scores[0].version)
    assignment = services.assignment_for(campaign, mun.id, code)
    services.save_expert_scores(assignment, actor=expert, entries=entries, today=today)
    services.transition_evaluation(assignment, "submit", actor=expert, today=today)
    services.transition_evaluation(assignment, "approve", actor=camp["head"], today=today)
    db_session.commit()
    return services.scores_of(campaign, mun.id, code)


def _two_experts(camp, db_session):  # noqa: F811  (the fixture's name)
    """M1.2 of municipality A reassigned to the second expert: M1.1 assigned first (to expert A), then M1.2."""
    from app.assessment import services
    from app.assessment.models import Expert

    expert_b = db_session.query(Expert).filter_by(user_id=camp["expert_b"].id).one()
    services.assign_expert(camp["campaign"], municipality_id=camp["mun_a"].id, mechanism_code="M1.2",
                           expert_id=expert_b.id, actor=camp["manager"])
    db_session.commit()


def _conclusion(camp, db_session):  # noqa: F811  (the fixture's name)
    from app.assessment import documents

    return generated(documents.generate_conclusion(camp["campaign"], camp["mun_a"].id, actor=camp["manager"]),
                     db_session)


def test_both_experts_sign_the_conclusion_each_on_their_own_line_in_the_order_they_were_assigned(camp, db_session):  # noqa: F811
    """Expert B's evaluation approved first, expert A's (assigned first) second: both sign, A above B, each with the
    line signed on and the date blank; the expert who signs electronically gets the day of the signature in the
    registered copy, the other keeps the blank to sign by hand."""
    from app.core import russian as ru
    from app.documents import services, storage

    _two_experts(camp, db_session)
    _evaluate(camp, db_session, "M1.2", camp["expert_b"])
    _evaluate(camp, db_session, "M1.1", camp["expert_a"])
    doc = _conclusion(camp, db_session)
    text = _words(storage.version_path(doc.current).read_bytes())
    tail = text.split("4. Рекомендации", 1)[1]
    first, second = (ru.initials_surname(camp[k].full_name).replace("\u00a0", " ") for k in ("expert_a", "expert_b"))
    assert first in tail and second in tail, tail
    assert tail.index(first) < tail.index(second)
    assert tail.count("Региональный эксперт________") == 2 and tail.count("«___» ____________ 20___ г.") == 2
    # the first expert assigned signs electronically (the named signer); the registered copy dates their line
    services.transition(doc, "to_signature", actor=camp["manager"])
    services.sign_document(doc, actor=camp["expert_a"], password=PASSWORD)
    db_session.commit()
    from tests.test_assessment_documents import register

    version = register(doc, camp["manager"], db_session)
    registered = _words(storage.registered_path(version).read_bytes()).split("4. Рекомендации", 1)[1]
    from app.documents.contexts import fmt_date_long
    from app.documents.registered import _day

    signed_on = fmt_date_long(_day(version, version.signatures[0].signed_at)).replace("\u00a0", " ")
    assert re.search(re.escape(first) + r".*" + re.escape(signed_on), registered)
    assert registered.count("«___» ____________ 20___ г.") == 1  # expert B signs the paper copy by hand


def test_the_conclusions_percents_are_the_pages_tenths(camp, db_session):  # noqa: F811  (the fixture's name)
    """The share of the maximum in tenths with a decimal comma, rounded as the evaluation page rounds it (and the
    level read from that figure): «95 %» stood where the page showed «95,5 %»."""
    from app.assessment import services
    from app.documents import storage

    scores = _evaluate(camp, db_session, "M1.1", camp["expert_a"], zero_one=True)
    page = services.totals(scores, camp["campaign"].criteria_set.thresholds)["expert_percent"]
    assert page != int(page), "the case needs a fractional share"
    shown = f"{page:.1f}".replace(".", ",") + " %"
    text = _words(storage.version_path(_conclusion(camp, db_session).current).read_bytes())
    assert f"({shown}); уровень" in text  # the summary
    assert text.count(shown) >= 2  # and the mechanism's row
    assert f"({round(page):d} %)" not in text
    # the commented criterion scored below the self-assessment: the grounds do not say the scores match it
    assert "совпадают с самооценкой" not in text


def test_the_grounds_follow_the_score_and_the_evidence_present(camp, db_session):  # noqa: F811
    """A block scored 0 without a single document is said to be so; scores given without documents are not said to be
    confirmed by them. It read «Баллы эксперта совпадают с самооценкой муниципалитета и подтверждены документами,
    найденными в системе по каждому критерию» whatever the scores and the evidence."""
    from app.assessment.documents import block_titles
    from app.assessment.models import EvidenceItem
    from app.documents import storage

    scores = _evaluate(camp, db_session, "M1.1", camp["expert_a"], zero_block="GOAL")
    assert not db_session.query(EvidenceItem).count()  # no cycles of the period: nothing found, nothing added
    text = _words(storage.version_path(_conclusion(camp, db_session).current).read_bytes())
    assert "подтверждены документами, найденными в системе по каждому критерию" not in text
    goal = block_titles()["GOAL"]
    assert f"блок «{goal}» оценён в 0 баллов: подтверждающие документы не представлены" in text
    assert "выставлены без подтверждающих документов в системе" in text
    assert "подтверждены документами, представленными в системе" not in text
    # one piece of evidence for every criterion that scored: those blocks are confirmed now
    for s in scores:
        if s.expert_points:
            db_session.add(EvidenceItem(campaign_id=s.campaign_id, municipality_id=s.municipality_id,
                                        criterion_id=s.criterion_id, kind="link", url="https://example.org/a",
                                        title="Положение"))
    db_session.commit()
    text = _words(storage.version_path(_conclusion(camp, db_session).current).read_bytes())
    assert "подтверждены документами, представленными в системе" in text
    assert "без подтверждающих документов" not in text
    assert f"блок «{goal}» оценён в 0 баллов: подтверждающие документы не представлены" in text


def test_a_conclusion_made_before_another_mechanism_was_approved_is_marked_out_of_date(camp, app, db_session):  # noqa: F811
    """The edition records the evaluations it reports; the document page marks it as out of date once another
    mechanism of the municipality is approved, and a new edition is current again."""
    from app.assessment.documents import mechanism_titles
    from app.documents import owners

    _evaluate(camp, db_session, "M1.1", camp["expert_a"])
    doc = _conclusion(camp, db_session)
    assert owners.outdated(doc) == []
    _evaluate(camp, db_session, "M1.2", camp["expert_a"])
    problems = owners.outdated(doc)
    assert problems and f"механизма «{mechanism_titles(['M1.2'])['M1.2']}»" in problems[0]
    client = app.test_client()
    client.post("/login", data={"login": camp["manager"].login, "password": PASSWORD})
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert 'id="document-outdated"' in page and "Редакция устарела" in page
    # nor can it be sent to sign (the engine refuses, in the banner's words): it would be signed misreporting
    from app.documents import services as document_services
    from app.core.errors import GuardFailed
    with pytest.raises(GuardFailed) as refused:
        document_services.transition(doc, "to_signature", actor=camp["manager"])
    assert "Редакция устарела" in str(refused.value.problems) and doc.state == "draft"
    db_session.rollback()
    doc = _conclusion(camp, db_session)
    assert owners.outdated(doc) == []
    assert 'id="document-outdated"' not in client.get(f"/documents/{doc.id}").get_data(as_text=True)

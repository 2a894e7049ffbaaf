"""The 08-70 criterion «Рекомендации адресованы … и направлены или опубликованы» and the integrity check agree: a
recommendation marked sent with no registered letter to its addressee (data from before the dispatch guard) is a
defect of the panel, «Рекомендация направлена без письма», and no evidence of sending for the criterion — also in
the criteria set published before the check existed (its rule names «Рекомендация не выдана» only)."""

from datetime import date

from sqlalchemy import delete, select


def _rec2(cset):
    return next(c for c in cset.criteria if c.mechanism_code == "M1.1" and c.code == "REC.2")


def test_a_recommendation_sent_without_its_letter_is_no_evidence_of_sending(chain, world, db_session):
    from app.assessment import evidence
    from app.assessment.criteria import load_criteria
    from app.core.timeutil import utcnow
    from app.documents.models import Document, DocumentVersion
    from app.effectiveness.integrity import check_cycle

    (cset,) = load_criteria()
    criterion = _rec2(cset)
    titles = evidence.block_titles()
    item_a, item_b = sorted(chain.items, key=lambda i: i.organisation.code)
    # school A read it, its letter registered
    item_a.state, item_a.acknowledged_at, item_a.acknowledged_by_id = "acknowledged", utcnow(), world["director_a"].id
    db_session.flush()

    def proposed():
        facts = evidence.gather(chain.cycle.period, [world["mun"].id], ["M1.1"], today=date.today())
        return evidence.propose(criterion, facts[(world["mun"].id, "M1.1")], groups=[], titles=titles)

    assert proposed().points == 1
    # school B's letter was never registered: its item went out as the old code let it
    letter = db_session.scalar(select(Document).where(Document.cycle_id == chain.cycle.id,
                                                      Document.addressee_id == world["school_b"].id))
    db_session.execute(delete(DocumentVersion).where(DocumentVersion.document_id == letter.id))
    db_session.execute(delete(Document).where(Document.id == letter.id))
    db_session.expire_all()
    panel = [d for d in check_cycle(chain.cycle) if d.code == "recommendation_without_letter"]
    assert [d.object_id for d in panel] == [item_b.id]

    proposal = proposed()
    assert proposal.points == 0
    assert "«Рекомендация направлена без письма» (1)" in proposal.reason, proposal.reason
    # the criteria page says what the rule asks, the letter included
    described = " ".join(evidence.describe_rule(criterion.evidence, criterion.block, titles))
    assert "«Рекомендация направлена без письма»" in described

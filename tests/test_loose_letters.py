"""One rule of «sent with its letter» for the item's page, the dispatch guard and the integrity panel with its counts:
the addressee's registered letter must carry the recommendation's text (app/followup/letters.py)."""

from datetime import date

from tests.fixtures_followup import register_letters


def test_an_item_whose_only_registered_letter_predates_its_text_is_a_defect_of_the_panel_and_its_counts(
        rec_cycle, world, make_recommendation, db_session, client_for):
    from app.core.timeutil import utcnow
    from app.effectiveness.chain_counts import count_defects
    from app.effectiveness.integrity import check_cycle
    from app.followup.letters import letter_of

    first = make_recommendation(rec_cycle, [world["school_a"]], issue=True)
    # A later recommendation to the same school sent as the old code let it: the school's only registered letter is
    # the one of the first recommendation, made before this text existed.
    later = make_recommendation(rec_cycle, [world["school_a"]], text="Организовать взаимопосещение уроков")
    (item,) = later.items
    item.state, item.issued_at = "issued", utcnow()
    later.issued_at, later.issued_by_id = utcnow(), world["head"].id
    db_session.commit()

    assert letter_of(first.items[0]) is not None and letter_of(item) is None
    page = client_for(world["head"]).get(f"/followup/items/{item.id}").get_data(as_text=True)
    assert "не содержит этой рекомендации" in page
    flagged = [d for d in check_cycle(rec_cycle) if d.code == "recommendation_without_letter"]
    assert [d.object_id for d in flagged] == [item.id]
    assert "Организовать взаимопосещение" in flagged[0].message
    assert count_defects([rec_cycle], today=date.today())[rec_cycle.id]["recommendation_without_letter"] == 1

    # a new edition of the letter carries both: the page shows it, the panel and the counts are clear
    register_letters(later, world)
    db_session.commit()
    assert letter_of(item) is not None
    assert [d for d in check_cycle(rec_cycle) if d.code == "recommendation_without_letter"] == []
    assert count_defects([rec_cycle], today=date.today())[rec_cycle.id]["recommendation_without_letter"] == 0

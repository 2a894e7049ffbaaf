"""Issue 17 item 12: scope tests that fail when the subtree condition is removed.

A mutation probe removed `Organisation.in_subtree_of(owner)` from the query of the institutions a
recommendation may be addressed to (app/followup/services.py, `institutions`) and from the addressee choices
of per-addressee documents (app/documents/services.py, `addressee_choices`): every test stayed green, and a
recommendation «всем ОО» would have reached another municipality's schools. These tests put a second
municipality beside the first and fail on exactly that mutation (checked by removing the condition)."""

from datetime import date, timedelta

import pytest


@pytest.fixture
def neighbour(world, make_org, db_session):
    """Another municipality of the same region, with a school, a kindergarten and a methodical centre; and an
    institution directly under the region."""
    mun2 = make_org("municipality", parent=world["region"], code="MUN2", name="Соседний муниципалитет")
    orgs = {
        "mun2": mun2,
        "school_c": make_org("school", parent=mun2, code="SCH-C", name="Школа В (чужая)"),
        "preschool_c": make_org("preschool", parent=mun2, code="DOU-C", name="Детский сад (чужой)"),
        "centre_c": make_org("methodical_centre", parent=mun2, code="IMC-C", name="ИМЦ (чужой)"),
        "regional_school": make_org("school", parent=world["region"], code="SCH-R", name="Школа-интернат (область)"),
    }
    db_session.commit()
    return orgs


def _foreign_ids(neighbour) -> set[int]:
    return {o.id for key, o in neighbour.items() if key != "mun2"} | {neighbour["mun2"].id}


def test_recommendation_addressees_are_the_owners_subtree_only(world, neighbour, rec_cycle):
    from app.followup import services

    own = {world["school_a"].id, world["school_b"].id}
    assert {o.id for o in services.institutions(rec_cycle)} == own
    assert {o.id for o in services.institutions(rec_cycle, services.SCHOOL_KINDS)} == own
    assert services.institutions(rec_cycle, ("methodical_centre",)) == []
    for group in ("directors", "subject_teachers", "parents", "methodical_centre"):
        # «всем ОО»: no organisation chosen means every institution of the owner — and only of the owner
        assert not {o.id for o in services.expand_addressees(rec_cycle, group)} & _foreign_ids(neighbour), group
    chosen = [neighbour["school_c"].id, world["school_a"].id, neighbour["regional_school"].id]
    assert [o.id for o in services.expand_addressees(rec_cycle, "organisations", organisation_ids=chosen)] \
        == [world["school_a"].id]


def test_a_recommendation_to_all_schools_reaches_no_other_municipality(world, neighbour, rec_cycle, db_session):
    from app.followup import services

    findings = services.cycle_findings(rec_cycle)
    rec = services.create_recommendation(
        rec_cycle, text="Провести анализ результатов ВПР", addressee_group="directors", actor=world["official"],
        today=date.today(), response_deadline=date.today() + timedelta(days=30), organisation_ids=(),
        finding_ids=[findings[0].id] if findings else (), basis=None if findings else "Справка по анализу")
    db_session.commit()
    assert {i.organisation_id for i in rec.items} == {world["school_a"].id, world["school_b"].id}


def test_the_recommendation_form_offers_no_foreign_institution(world, neighbour, rec_cycle, client, login):
    login(world["official"])
    page = client.get(f"/followup/cycles/{rec_cycle.id}/recommendations/new").get_data(as_text=True)
    assert "Школа А" in page
    for key in ("school_c", "preschool_c", "centre_c", "regional_school"):
        assert neighbour[key].name not in page, key


def test_per_addressee_documents_offer_the_owners_subtree_only(world, neighbour, make_org, db_session):
    from app.documents.services import addressee_choices

    centre = make_org("methodical_centre", parent=world["mun"], code="IMC-A", name="ИМЦ (свой)")
    db_session.commit()
    assert {o.id for o in addressee_choices(world["mun"])} == {world["school_a"].id, world["school_b"].id, centre.id}
    assert {o.id for o in addressee_choices(world["school_a"])} == set()
    assert {o.id for o in addressee_choices(neighbour["mun2"])} == {
        neighbour["school_c"].id, neighbour["preschool_c"].id, neighbour["centre_c"].id}
    # The region sees all of them (its subtree), itself and the municipalities excepted.
    region_wide = {o.id for o in addressee_choices(world["region"])}
    assert _foreign_ids(neighbour) - {neighbour["mun2"].id} <= region_wide
    assert world["mun"].id not in region_wide and world["region"].id not in region_wide

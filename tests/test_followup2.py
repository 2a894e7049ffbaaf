"""Follow-up walk of a new cycle: recommendations went out before their letter was registered, and a measure was
marked done before its start date (domain §4: REC carries the proof of sending — the letter's outgoing number and
date; MEAS carries the measure's dates)."""

from datetime import date

import pytest

from tests.fixtures_followup import evidence, register_letters
from tests.snapshots import measure_dates


def _letter(rec_cycle, world, org):
    from app.documents import services as documents

    return documents.generate_document(rec_cycle.stage("REC"), "addressed_recommendations", actor=world["official"],
                                       addressee=org, validate=False, inline=True)


def test_a_recommendation_goes_out_only_with_its_addressees_registered_letter(
        rec_cycle, world, make_recommendation, db_session, client_for):
    from app.core.errors import GuardFailed
    from app.documents.demo import complete_document
    from app.followup import services

    rec = make_recommendation(rec_cycle, [world["school_a"]])
    head = client_for(world["head"])
    page = head.get(f"/followup/recommendations/{rec.id}").get_data(as_text=True)
    # the page offers no «Направить адресатам» and says what it waits for
    assert 'id="issue-problems"' in page and "Школа А" in page and "нет письма" in page
    assert f"/followup/recommendations/{rec.id}/issue" not in page
    with pytest.raises(GuardFailed) as refused:
        services.issue_recommendation(rec, actor=world["head"], today=date.today())
    assert "нет письма «Адресные рекомендации»" in " ".join(refused.value.problems)
    db_session.rollback()

    doc = _letter(rec_cycle, world, world["school_a"])  # a draft letter is no proof of sending
    db_session.commit()
    with pytest.raises(GuardFailed) as refused:
        services.issue_recommendation(rec, actor=world["head"], today=date.today())
    assert "не зарегистрировано" in " ".join(refused.value.problems)
    db_session.rollback()
    assert {i.state for i in rec.items} == {"draft"} and rec.issued_at is None

    complete_document(doc, official=world["official"], head=world["head"])
    db_session.commit()
    number = doc.current.registration_number
    assert number
    response = head.post(f"/followup/recommendations/{rec.id}/issue", data={"version": rec.version},
                         follow_redirects=True)
    assert "Рекомендация направлена адресатам: 1." in response.get_data(as_text=True)
    (item,) = rec.items
    assert item.state == "issued"
    # the school's director reads the recommendation with the letter it came by
    shown = client_for(world["director_a"]).get(f"/followup/items/{item.id}").get_data(as_text=True)
    assert "Направлена письмом" in shown and f"№ {number} от" in shown


def test_a_letter_registered_before_the_recommendation_does_not_carry_it(
        rec_cycle, world, make_recommendation, db_session):
    from app.core.errors import GuardFailed
    from app.documents.demo import complete_document
    from app.followup import services

    first = make_recommendation(rec_cycle, [world["school_a"]], issue=True)
    assert {i.state for i in first.items} == {"issued"}
    later = make_recommendation(rec_cycle, [world["school_a"]], text="Организовать взаимопосещение уроков")
    with pytest.raises(GuardFailed) as refused:
        services.issue_recommendation(later, actor=world["head"], today=date.today())
    assert "не содержит этой рекомендации" in " ".join(refused.value.problems)
    db_session.rollback()

    complete_document(_letter(rec_cycle, world, world["school_a"]), official=world["official"], head=world["head"])
    services.issue_recommendation(later, actor=world["head"], today=date.today())
    assert {i.state for i in later.items} == {"issued"}


def test_integrity_flags_a_recommendation_sent_without_a_registered_letter(
        rec_cycle, world, make_recommendation, db_session):
    """Data from before the dispatch guard: items issued with no registered letter are a defect of REC, in the
    panel and in the assessment's counts alike."""
    from app.core.timeutil import utcnow
    from app.documents.models import Document
    from app.effectiveness.chain_counts import count_defects
    from app.effectiveness.integrity import check_cycle

    rec = make_recommendation(rec_cycle, [world["school_a"], world["school_b"]])
    register_letters(rec, world)
    item_a = next(i for i in rec.items if i.organisation_id == world["school_a"].id)
    # B's letter never got registered: its item was issued as the old code let it
    letter_b = db_session.query(Document).filter_by(cycle_id=rec_cycle.id, addressee_id=world["school_b"].id).one()
    for version in letter_b.versions:
        version.registration_number = version.registration_seq = version.registration_date = None
        version.registered_status = version.registered_path = version.registered_sha256 = None
        version.registered_size = version.registered_at = None
    for item in rec.items:
        item.state, item.issued_at = "issued", utcnow()
    rec.issued_at, rec.issued_by_id = utcnow(), world["head"].id
    db_session.flush()

    flagged = [d for d in check_cycle(rec_cycle) if d.code == "recommendation_without_letter"]
    assert [(d.stage, d.object_type) for d in flagged] == [("REC", "recommendation_item")]
    assert flagged[0].object_id != item_a.id
    assert "Школа Б" in flagged[0].message and "без зарегистрированного письма" in flagged[0].message
    counted = count_defects([rec_cycle], today=date.today())[rec_cycle.id]
    assert counted["recommendation_without_letter"] == 1


def test_a_measure_is_not_marked_done_before_it_starts(rec_cycle, world, db_session, client_for):
    from app.core.errors import GuardFailed
    from app.core.timeutil import format_date
    from app.followup import services

    dates = measure_dates(5, 12)
    if dates["start_date"] <= date.today():
        pytest.skip("the end of the school year moved the window to today")
    measure = services.create_measure(rec_cycle, actor=world["official"], title="Семинар для учителей",
                                      kind="training", responsible_id=world["methodologist"].id, **dates)
    services.transition_measure(measure, "start", actor=world["official"])
    services.attach_to(measure, stream=evidence()[0], filename="protokol.pdf", kind="protocol",
                       actor=world["official"])
    db_session.commit()
    said = f"Мероприятие начинается {format_date(dates['start_date'])}"
    page = client_for(world["official"]).get(f"/followup/measures/{measure.id}").get_data(as_text=True)
    assert 'id="complete-problems"' in page and said in page
    with pytest.raises(GuardFailed) as refused:
        services.transition_measure(measure, "complete", actor=world["official"], comment="Проведено")
    assert said in " ".join(refused.value.problems)
    db_session.rollback()
    assert measure.state == "in_progress" and measure.done_at is None


def test_the_letters_a_recommendation_waits_for_are_read_in_a_fixed_number_of_queries(
        rec_cycle, world, make_recommendation, make_org, db_session, client_for):
    """The page (and the service) asked the engine's guard item by item: two queries an addressee on every view of a
    recommendation to a municipality's schools (final review)."""
    from app.followup import services
    from tests.conftest import counted_statements

    schools = [make_org("school", parent=world["mun"], code=f"SCH-L{n:02d}", name=f"Школа № {n}") for n in range(8)]
    db_session.commit()

    def statements_for(orgs, text):
        rec = make_recommendation(rec_cycle, orgs, text=text)
        db_session.expire_all()
        rec = db_session.get(type(rec), rec.id)
        with counted_statements() as statements:
            problems = services.issue_problems(rec)
        assert len(problems) == len(orgs) and all("нет письма" in p for p in problems)
        return len(statements)

    few = statements_for(schools[:1], "Провести анализ результатов ВПР")
    many = statements_for(schools, "Организовать взаимопосещение уроков")
    assert many == few, f"{few} statements for 1 addressee, {many} for 8"

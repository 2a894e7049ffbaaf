"""A mechanism's audience (Mechanism.audience): «все образовательные организации» of a data request means the schools
of a school mechanism and the kindergartens of the preschool one; a kindergarten opens only preschool mechanisms'
cycles and a school only the others; the «Ответственный» choice of a cycle offers the owner's own people, not the
ministry's."""

import pytest
from sqlalchemy import select

from app.catalogue.models import Mechanism, MechanismSet
from app.core.errors import ValidationFailed
from app.cycles import services as cycles
from app.followup import services as followup
from app.monitoring import services
from app.monitoring.demo import addressee_kinds, demo_addressees
from app.monitoring.models import DataRequest
from tests.conftest import track_of
from tests.test_monitoring_views import _form, page, sign_in


@pytest.fixture
def institutions(world, make_org, db_session):
    """A kindergarten and a house of children's creativity (ДДТ) beside the two schools of the municipality."""
    garden = make_org("preschool", parent=world["mun"], code="DOU-1", name="МДОУ «Детский сад № 1»")
    ddt = make_org("additional", parent=world["mun"], code="DDT-1", name="МБУ ДО «Дом детского творчества»")
    db_session.commit()
    return {"garden": garden, "ddt": ddt}


def _mechanism(code):
    return track_of(code, "op-do" if code == "M2.4" else "main").mechanism


def test_the_audience_of_a_mechanism(world, institutions, db_session):
    school, garden, ddt = world["school_a"], institutions["garden"], institutions["ddt"]
    assert _mechanism("M2.4").audience == ("preschool",)
    assert _mechanism("I2.4").audience == ("preschool",)  # mirrors M2.4 one level down
    assert _mechanism("M1.4").audience == ("school",) and _mechanism("I1.1").audience == ("school",)
    assert _mechanism("I2.4").concerns(garden) and not _mechanism("I2.4").concerns(school)
    assert not _mechanism("I1.1").concerns(garden) and _mechanism("I1.1").concerns(school)
    # the house of children's creativity runs the talent and upbringing mechanisms only, those whose requests it answers
    assert not _mechanism("I1.1").concerns(ddt) and _mechanism("I2.3").concerns(ddt)
    assert _mechanism("M2.4").concerns(world["mun"])


def test_all_addressees_of_a_school_mechanism_are_the_schools(client, login, world, mon, institutions, db_session):
    sign_in(client, login, world["official"])
    form = page(client.get(f"/monitoring/cycles/{mon.id}/requests/new"))
    assert "Все образовательные организации (школы): Тестовый муниципалитет (2)" in form
    assert "Детский сад № 1" in form  # still offered one by one
    response = client.post(f"/monitoring/cycles/{mon.id}/requests/new", data=_form(mon))
    assert response.status_code == 302
    req = db_session.scalar(select(DataRequest))
    assert sorted(s.organisation.code for s in req.submissions) == ["SCH-A", "SCH-B"]
    assert addressee_kinds(mon) == ("school",)
    assert sorted(o.code for o in demo_addressees(mon)) == ["SCH-A", "SCH-B"]


def test_all_addressees_of_the_preschool_mechanism_are_the_kindergartens(world, make_cycle, institutions, db_session):
    cycle = make_cycle(world["mun"], world["official"], mechanism="M2.4", track="op-do")
    assert [o.code for o in services.audience_addressees(cycle)] == ["DOU-1"]
    assert [o.code for o in demo_addressees(cycle)] == ["DOU-1"]
    # a recommendation to «руководители» (parents) with none ticked: the kindergartens' heads, not the schools'
    assert [o.code for o in followup.expand_addressees(cycle, "directors")] == ["DOU-1"]
    assert [o.code for o in followup.expand_addressees(cycle, "parents")] == ["DOU-1"]
    assert sorted(o.code for o in followup.expand_addressees(cycle, "subject_teachers")) == ["SCH-A", "SCH-B"]


# --- opening a cycle ---------------------------------------------------------------------------------

def _offered(client):
    response = client.get("/cycles/new")
    assert response.status_code == 200
    text = page(response)
    return {code for code in ("I1.1", "I1.4", "I2.3", "I2.4") if f">{code} " in text}


def test_a_kindergarten_is_offered_the_preschool_mechanisms_only(client, login, world, institutions, make_user,
                                                                db_session):
    head = make_user("director", institutions["garden"], login="garden_head")
    db_session.commit()
    sign_in(client, login, head)
    assert _offered(client) == {"I2.4"}
    sign_in(client, login, world["director_a"])
    assert _offered(client) == {"I1.1", "I1.4", "I2.3"}


def test_a_cycle_of_a_mechanism_the_organisation_does_not_run_is_refused(world, institutions, make_user,
                                                                         db_session):
    head = make_user("director", institutions["garden"], login="garden_head")
    with pytest.raises(ValidationFailed, match="Механизм I1.1 .* не относится к организации «МДОУ"):
        cycles.create_cycle(track=track_of("I1.1"), owner=institutions["garden"], period="2025/26", actor=head)
    with pytest.raises(ValidationFailed, match="Механизм I2.4 .* не относится к организации «Школа А»"):
        cycles.create_cycle(track=track_of("I2.4"), owner=world["school_a"], period="2025/26",
                            actor=world["director_a"])
    cycle = cycles.create_cycle(track=track_of("I2.4"), owner=institutions["garden"], period="2025/26", actor=head,
                                responsible=head)
    assert cycle.owner == institutions["garden"]


def test_a_ddt_is_offered_and_opens_only_the_mechanisms_of_its_audience(client, login, world, institutions, make_user,
                                                                       db_session):
    """A house of children's creativity (ДДТ) answers the requests of the talent and upbringing mechanisms only
    (Mechanism.audience), yet «Открыть цикл» offered it every school mechanism — the assessment results' I1.1 too."""
    head = make_user("director", institutions["ddt"], login="ddt_head")
    db_session.commit()
    sign_in(client, login, head)
    assert _offered(client) == {"I2.3"}
    with pytest.raises(ValidationFailed, match="Механизм I1.1 .* не относится к организации «МБУ ДО"):
        cycles.create_cycle(track=track_of("I1.1"), owner=institutions["ddt"], period="2025/26", actor=head)
    cycle = cycles.create_cycle(track=track_of("I2.3"), owner=institutions["ddt"], period="2025/26", actor=head,
                                responsible=head)
    assert cycle.owner == institutions["ddt"]


# --- the responsible -----------------------------------------------------------------------------------

def test_the_responsible_choice_lists_the_owners_people(client, login, world, make_cycle, make_user, make_org,
                                                        institutions, db_session):
    minister = make_user("official", world["region"], login="minister", full_name="Министров Пётр Иванович")
    garden_head = make_user("director", institutions["garden"], login="garden_head",
                            full_name="Садова Мария Ивановна")
    empty = make_org("municipality", parent=world["region"], code="MUN-E", name="Муниципалитет без специалистов")
    cycle = make_cycle(world["mun"], world["official"])
    garden_cycle = make_cycle(institutions["garden"], garden_head, mechanism="I2.4")
    db_session.commit()

    people = cycles.eligible_responsibles(world["mun"])
    assert minister not in people and {world["official"], world["head"], world["methodologist"]} <= set(people)
    assert cycles.eligible_responsibles(institutions["garden"]) == [garden_head]
    assert minister in cycles.eligible_responsibles(world["region"])  # the region's own cycle
    # a municipality without people of its own: the region's, whose role holds there (domain.md §2)
    assert minister in cycles.eligible_responsibles(empty)

    sign_in(client, login, world["official"])
    stage_page = page(client.get(f"/stages/{cycle.stage('GOAL').id}"))
    assert "Тестов" in stage_page and "Министров" not in stage_page and "Садова" not in stage_page
    sign_in(client, login, garden_head)
    garden_page = page(client.get(f"/stages/{garden_cycle.stage('GOAL').id}"))
    assert "Садова" in garden_page and "Министров" not in garden_page and world["official"].full_name not in garden_page


def test_the_school_set_has_a_preschool_mechanism(db_session):
    mset = db_session.scalar(select(MechanismSet).where(MechanismSet.level == "school", MechanismSet.active))
    assert [m.code for m in mset.mechanisms if m.audience == ("preschool",)] == ["I2.4"]
    assert db_session.scalar(select(Mechanism).where(Mechanism.code == "I2.4")).upper_code == "M2.4"


def test_the_words_of_all_addressees_name_a_regional_cycles_municipalities(world, make_user, make_cycle, mon,
                                                                          db_session):
    """A regional cycle's «все» takes its municipalities too: its label said «(школы)» alone."""
    official = make_user("official", world["region"], login="r_official")
    regional = make_cycle(world["region"], official, mechanism="R1.1")
    assert services.audience_words(regional) == "муниципалитеты, школы"
    assert "municipality" in {o.kind for o in services.audience_addressees(regional)}
    assert services.audience_words(mon) == "школы"


# --- a school with preschool groups --------------------------------------------------------------------

def test_a_school_with_preschool_groups_is_asked_with_the_kindergartens(client, login, world, make_cycle,
                                                                      institutions, db_session):
    """I2.4 is «для ОО, реализующих программы ДО»: a school with preschool groups runs it and answers the preschool
    mechanism's requests; it was offered neither (a school was only ever the school mechanisms')."""
    school_b = world["school_b"]
    school_b.preschool_groups = True
    db_session.commit()
    cycle = make_cycle(world["mun"], world["official"], mechanism="M2.4", track="op-do")
    assert sorted(o.code for o in services.audience_addressees(cycle)) == ["DOU-1", "SCH-B"]
    assert sorted(o.code for o in followup.expand_addressees(cycle, "directors")) == ["DOU-1", "SCH-B"]
    assert services.audience_words(cycle) == "детские сады и школы с дошкольными группами"
    # the school mechanisms still ask it as a school, and never the kindergarten
    school_cycle = make_cycle(world["mun"], world["official"])
    assert sorted(o.code for o in services.audience_addressees(school_cycle)) == ["SCH-A", "SCH-B"]

    sign_in(client, login, world["director_b"])
    assert _offered(client) == {"I1.1", "I1.4", "I2.3", "I2.4"}
    sign_in(client, login, world["director_a"])
    assert _offered(client) == {"I1.1", "I1.4", "I2.3"}
    own = cycles.create_cycle(track=track_of("I2.4"), owner=school_b, period="2025/26", actor=world["director_b"],
                              responsible=world["director_b"])
    assert own.owner == school_b
    with pytest.raises(ValidationFailed, match="Механизм I2.4 .* не относится к организации «Школа А»"):
        cycles.create_cycle(track=track_of("I2.4"), owner=world["school_a"], period="2025/26",
                            actor=world["director_a"])


def test_only_a_school_has_preschool_groups(client, login, world, institutions, db_session):
    from app.orgs import services as orgs

    garden = institutions["garden"]
    with pytest.raises(ValidationFailed, match="Дошкольные группы отмечаются только у школы"):
        orgs.update_organisation(garden, data={"preschool_groups": True}, actor=world["admin"])
    db_session.rollback()
    assert garden.preschool_groups is False

    sign_in(client, login, world["admin"])
    form = page(client.get(f"/orgs/{world['school_b'].id}/edit"))
    assert "Есть дошкольные группы" in form
    response = client.post(f"/orgs/{world['school_b'].id}/edit", data={
        "name": world["school_b"].name, "preschool_groups": "y"})
    assert response.status_code == 302, page(response)
    db_session.expire_all()
    assert world["school_b"].preschool_groups is True
    assert "Дошкольные группы</th><td>есть" in page(client.get(f"/orgs/{world['school_b'].id}"))


def test_all_addressees_of_the_talent_and_upbringing_mechanisms_take_the_ddt_too(world, make_cycle, institutions,
                                                                                 db_session):
    """Programmes for highly motivated children (M1.3) and children's associations, volunteering and holidays (M2.3,
    domain.md §5) are the work of additional education too: «все образовательные организации» of their requests and
    recommendations left the house of children's creativity out, as if it were a kindergarten."""
    for code in ("M1.3", "M2.3"):
        assert _mechanism(code).audience == ("school", "additional")
        cycle = make_cycle(world["mun"], world["official"], mechanism=code)
        assert sorted(o.code for o in services.audience_addressees(cycle)) == ["DDT-1", "SCH-A", "SCH-B"], code
        assert sorted(o.code for o in followup.expand_addressees(cycle, "directors")) == ["DDT-1", "SCH-A", "SCH-B"]
        assert services.audience_words(cycle) == "школы, организации дополнительного образования"
    assert _mechanism("I2.3").audience == ("school", "additional")  # mirrors M2.3 one level down
    # the assessment results' mechanisms still ask the schools alone
    assert _mechanism("M1.1").audience == ("school",) and _mechanism("M1.2").audience == ("school",)

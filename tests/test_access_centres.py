"""Access walker of the centres (ИМЦ, РЦОКО) and their support relation (orgs.OrganisationSupport).

A methodologist placed in the municipality's methodical centre sees and approves the cycles of the municipality
her centre supports — through the stage workflow's permission predicate (workflows/permissions.supports), not a
page filter — and nothing of a municipality it does not support, nor the schools' own cycles; a РЦОКО analyst
sees the whole region it supports, loads results and runs analyses, and approves nothing. Only an administrator
configures the relation; refusals are Russian and change nothing.
"""

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.core.errors import PermissionDenied, ValidationFailed
from app.cycles.models import Stage
from app.tasks.models import Task
from tests.conftest import fill_goal
from tests import test_access
from workflows import engine


# The access walker's signed-in client per user (a fixture of tests/test_access.py).
client_for = test_access.client_for


@pytest.fixture
def centres(world, make_org, make_user, make_cycle, db_session):
    """ИМЦ of the municipality with its methodologist, РЦОКО with its analyst, a second municipality; a municipal
    cycle (GOAL on review), a second municipality's cycle and a school's own cycle, all with a stage on review."""
    region, mun = world["region"], world["mun"]
    imc = make_org("methodical_centre", parent=mun, code="MUN-IMC", name="ИМЦ Тестового муниципалитета")
    rcoko = make_org("assessment_centre", parent=region, code="RCOKO", name="РЦОКО")
    mun2 = make_org("municipality", parent=region, code="MUN2", name="Второй муниципалитет")
    people = {"imc": make_user("methodologist", imc, login="imc"), "rcoko": make_user("analyst", rcoko, login="rcoko"),
              "official2": make_user("official", mun2, login="official2"), "head2": make_user("head", mun2)}

    def on_review(owner, editor, mechanism="M1.1"):
        cycle = make_cycle(owner, editor, mechanism=mechanism)
        fill_goal(cycle, editor)
        engine.fire(cycle.stage("GOAL"), "submit", actor=editor)
        return cycle

    cycles = {"mun": on_review(mun, world["official"]), "mun2": on_review(mun2, people["official2"]),
              "school": on_review(world["school_b"], world["director_b"], mechanism="I1.2")}
    db_session.commit()
    return {"imc_centre": imc, "rcoko_centre": rcoko, "mun2": mun2, "cycles": cycles, **people}


@pytest.fixture
def supported(world, centres, db_session):
    from app.orgs.services import add_support

    add_support(centres["imc_centre"], world["mun"], actor=world["admin"])
    add_support(centres["rcoko_centre"], world["region"], actor=world["admin"])
    db_session.commit()
    return centres


def _stage(db_session, cycle):
    db_session.expire_all()
    return db_session.get(Stage, cycle.stage("GOAL").id)


def test_without_the_relation_a_centre_sees_only_itself(world, centres, client_for):
    imc, rcoko = client_for(centres["imc"]), client_for(centres["rcoko"])
    for client in (imc, rcoko):
        for cycle in centres["cycles"].values():
            assert client.get(f"/cycles/{cycle.id}").status_code == 404
            assert client.get(f"/stages/{cycle.stage('GOAL').id}").status_code == 404
    assert imc.get(f"/orgs/{world['mun'].id}").status_code == 404
    assert imc.get(f"/orgs/{centres['imc_centre'].id}").status_code == 200
    with pytest.raises(PermissionDenied):
        engine.fire(centres["cycles"]["mun"].stage("GOAL"), "approve", actor=centres["imc"])


def test_an_administrator_configures_the_relation_on_the_centre_page(world, centres, client_for, db_session):
    admin = client_for(world["admin"])
    page = admin.get(f"/orgs/{centres['imc_centre'].id}").get_data(as_text=True)
    assert "Сопровождаемые организации" in page and world["mun"].display_name in page
    response = admin.post(f"/orgs/{centres['imc_centre'].id}/supports", data={"supported_id": world["mun"].id})
    assert response.status_code == 302
    assert "сопровождает" in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert client_for(centres["imc"]).get(f"/cycles/{centres['cycles']['mun'].id}").status_code == 200
    # The supported municipality names its centre.
    assert centres["imc_centre"].display_name in admin.get(f"/orgs/{world['mun'].id}").get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "add_support")) == 1
    # Removing it takes the sight away again.
    assert admin.post(f"/orgs/{centres['imc_centre'].id}/supports/{world['mun'].id}/remove").status_code == 302
    assert client_for(centres["imc"]).get(f"/cycles/{centres['cycles']['mun'].id}").status_code == 404


def test_a_municipal_administrator_does_not_remove_a_support_outside_their_area(world, centres, client_for, make_user,
                                                                                   db_session):
    """The ИМЦ lies in the municipality's subtree, but its support of another municipality was set by the region's
    administrator: the municipality's administrator may not take it away (nor offered to), only their own."""
    from app.orgs.models import OrganisationSupport
    from app.orgs.services import add_support, remove_support

    imc, mun2 = centres["imc_centre"], centres["mun2"]
    add_support(imc, world["mun"], actor=world["admin"])
    add_support(imc, mun2, actor=world["admin"])
    local_admin = make_user("admin", world["mun"], login="mun_admin")
    db_session.commit()
    client = client_for(local_admin)
    page = client.get(f"/orgs/{imc.id}").get_data(as_text=True)
    assert f"/orgs/{imc.id}/supports/{world['mun'].id}/remove" in page
    assert f"/orgs/{imc.id}/supports/{mun2.id}/remove" not in page
    response = client.post(f"/orgs/{imc.id}/supports/{mun2.id}/remove", follow_redirects=True)
    assert "может администратор, в ведении которого" in response.get_data(as_text=True)
    with pytest.raises(PermissionDenied, match="в ведении которого"):
        remove_support(imc, mun2.id, actor=local_admin)
    db_session.rollback()
    assert {s.supported_id for s in db_session.scalars(select(OrganisationSupport))} == {world["mun"].id, mun2.id}
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "remove_support")) == 0
    # Their own municipality's support is theirs to remove; the region's administrator removes the other.
    assert client.post(f"/orgs/{imc.id}/supports/{world['mun'].id}/remove").status_code == 302
    remove_support(imc, mun2.id, actor=world["admin"])
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(OrganisationSupport)) == 0


@pytest.mark.parametrize("who", ["official", "director_a", "imc", "rcoko"])
def test_only_an_administrator_changes_the_relation(world, centres, client_for, db_session, who):
    user = centres[who] if who in centres else world[who]
    client = client_for(user)
    from app.orgs.models import OrganisationSupport

    response = client.post(f"/orgs/{centres['imc_centre'].id}/supports", data={"supported_id": world["mun"].id})
    assert response.status_code == 403

    assert db_session.scalar(select(func.count()).select_from(OrganisationSupport)) == 0


def test_bad_relations_are_refused_in_russian_and_change_nothing(world, centres, db_session):
    from app.orgs.models import OrganisationSupport
    from app.orgs.services import add_support

    imc = centres["imc_centre"]
    cases = [(world["school_a"], world["mun"], "методический центр"),
             (imc, world["school_a"], "муниципалитет или регион"),
             (imc, None, "муниципалитет или регион")]
    for centre, target, words in cases:
        with pytest.raises(ValidationFailed) as refused:
            add_support(centre, target, actor=world["admin"])
        assert words in refused.value.message
    add_support(imc, world["mun"], actor=world["admin"])
    with pytest.raises(ValidationFailed, match="уже сопровождает"):
        add_support(imc, world["mun"], actor=world["admin"])
    assert db_session.scalar(select(func.count()).select_from(OrganisationSupport)) == 1


def test_the_centre_methodologist_sees_and_approves_the_supported_municipality(world, supported, client_for,
                                                                              db_session):
    cycle = supported["cycles"]["mun"]
    imc = client_for(supported["imc"])
    assert imc.get("/cycles").status_code == 200
    assert cycle.short_title.split(",")[0] in imc.get("/cycles").get_data(as_text=True)
    page = imc.get(f"/stages/{cycle.stage('GOAL').id}").get_data(as_text=True)
    assert "Утвердить" in page
    # Sent back and submitted again now that the centre supports the municipality: the engine opens her a review
    # task, beside the head's.
    engine.fire(cycle.stage("GOAL"), "return", actor=world["head"], comment="Уточните обоснование")
    engine.fire(cycle.stage("GOAL"), "submit", actor=world["official"])
    db_session.commit()
    assignees = set(db_session.scalars(select(Task.assignee_id).where(Task.kind == "review_stage",
                                                                       Task.object_id == cycle.stage("GOAL").id,
                                                                       Task.state == "open")))
    assert {supported["imc"].id, world["head"].id} <= assignees
    stage = _stage(db_session, cycle)
    response = imc.post(f"/stages/{stage.id}/transition/approve", data={"version": stage.version})
    assert response.status_code == 302
    assert _stage(db_session, cycle).state == "approved"
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.object_type == "stage",
                                                        AuditEvent.object_id == stage.id,
                                                        AuditEvent.action == "approve")).one()
    assert (event.actor_id, event.actor_role) == (supported["imc"].id, "methodologist")


def test_the_centre_methodologist_approves_nothing_beyond_the_supported_municipality(world, supported, client_for,
                                                                                   db_session):
    imc = client_for(supported["imc"])
    other = supported["cycles"]["mun2"]
    assert imc.get(f"/cycles/{other.id}").status_code == 404
    stage = _stage(db_session, other)
    assert imc.post(f"/stages/{stage.id}/transition/approve", data={"version": stage.version}).status_code == 404
    # A school's own (ВСОКО) cycle: she sees it (the municipality's subtree) but its director approves it.
    school = supported["cycles"]["school"]
    stage = _stage(db_session, school)
    assert imc.get(f"/stages/{stage.id}").status_code == 200
    response = imc.post(f"/stages/{stage.id}/transition/approve", data={"version": stage.version})
    assert response.status_code == 403
    assert "Недостаточно прав" in response.get_data(as_text=True) or "не может" in response.get_data(as_text=True)
    assert _stage(db_session, school).state == "on_review"
    assert _stage(db_session, other).state == "on_review"


def test_the_rcoko_analyst_sees_the_region_loads_results_runs_analyses_and_approves_nothing(
        world, supported, client_for, db_session):
    from app.analysis.services import start_run

    rcoko = client_for(supported["rcoko"])
    for cycle in supported["cycles"].values():
        assert rcoko.get(f"/cycles/{cycle.id}").status_code == 200
        assert rcoko.get(f"/analysis/cycles/{cycle.id}").status_code == 200
    assert rcoko.get("/imports/results/new").status_code == 200
    run = start_run(supported["cycles"]["mun"], actor=supported["rcoko"], enqueue=False)
    assert run.id is not None
    db_session.rollback()
    for cycle in supported["cycles"].values():
        stage = _stage(db_session, cycle)
        assert rcoko.post(f"/stages/{stage.id}/transition/approve", data={"version": stage.version}).status_code == 403
        with pytest.raises(PermissionDenied):
            engine.fire(stage, "approve", actor=supported["rcoko"])
        db_session.rollback()
        assert _stage(db_session, cycle).state == "on_review"
    # Nor edits any cycle's content: the analyst is not one of the editors.
    cycle = supported["cycles"]["mun"]
    assert rcoko.post(f"/cycles/{cycle.id}/goals/new", data={"statement": "x"}).status_code == 403

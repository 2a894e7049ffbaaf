"""A school's plan of execution later than the recommendation's deadline (walk 23): saved — the school may honestly
need longer — but the director is told at once that the item will be overdue, and the item's page shows it to the
official who reads the plan."""

from datetime import timedelta

from app.core.timeutil import format_date
from tests.conftest import PASSWORD
from tests.test_followup import item_of


def _acknowledged(rec_cycle, world, make_recommendation, db_session):
    from app.followup import services

    item = item_of(make_recommendation(rec_cycle, [world["school_a"]], issue=True), world["school_a"])
    services.acknowledge_item(item, actor=world["director_a"], password=PASSWORD)
    db_session.commit()
    return item


def _plan(client, item, planned):
    return client.post(f"/followup/items/{item.id}/start", follow_redirects=True, data={
        "action_plan": "Педсовет, затем открытые уроки", "planned_completion": planned.isoformat(),
        "version": str(item.version)})


def test_a_plan_past_the_deadline_is_saved_with_a_warning(rec_cycle, world, make_recommendation, db_session,
                                                          client_for):
    item = _acknowledged(rec_cycle, world, make_recommendation, db_session)
    late = item.due_date + timedelta(days=130)
    shown = _plan(client_for(world["director_a"]), item, late).get_data(as_text=True)
    db_session.expire_all()
    assert item.state == "in_progress" and item.planned_completion == late
    assert (f"Планируемый срок {format_date(late)} позже срока исполнения рекомендации {format_date(item.due_date)}"
            in shown)
    page = client_for(world["official"]).get(f"/followup/items/{item.id}").get_data(as_text=True)
    assert f"позже срока исполнения {format_date(item.due_date)}" in page


def test_a_plan_within_the_deadline_is_saved_without_one(rec_cycle, world, make_recommendation, db_session,
                                                         client_for):
    item = _acknowledged(rec_cycle, world, make_recommendation, db_session)
    shown = _plan(client_for(world["director_a"]), item, item.due_date).get_data(as_text=True)
    assert "План исполнения сохранён." in shown and "позже срока исполнения" not in shown

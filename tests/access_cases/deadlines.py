"""Access-walk knowledge of this feature's routes (merged by tests/test_access.py).

ROUTE_ARGUMENTS: URL argument → (scope, fn(objs, values, rule) → list of school-B values); use objs.extra.
ENDPOINT_SCOPES: endpoint → scope, where the argument's scope is not the endpoint's.
FORM_ROUTES: endpoint → fn(objs, world, session) → (actor key, URL values, form data of a successful POST).
school_b_objects(world, make_cycle, db_session, objs) → dict of extra school-B ids, put in objs.extra.

A notification belongs to its addressee alone and a stand-in to the absent person (or who named the deputy):
anyone else, whatever their roles, gets 404. The iCalendar feed (/deadlines/ical/<feed_token>.ics) is public,
keyed by its secret, and so not part of the walk over signed-in routes.
"""

from datetime import date, timedelta

ORG_SCOPED = "organisation"

ROUTE_ARGUMENTS: dict = {
    "notification_id": (ORG_SCOPED, lambda o, v, r: [o.extra["notification_id"]]),
    "standin_id": (ORG_SCOPED, lambda o, v, r: [o.extra["standin_id"]]),
}
ENDPOINT_SCOPES: dict = {}
FORM_ROUTES: dict = {}


def school_b_objects(world, make_cycle, db_session, objs) -> dict:
    """A notification of school B's director, and the director's deputy for a leave next month."""
    from app.auth.services import create_user
    from app.deadlines.notify import notify
    from app.deadlines.standins import create_stand_in

    director = world["director_b"]
    deputy = create_user(login="deputy_b", full_name="Заместителева Ольга Ивановна", password="deputy-b-password",
                         roles=[("staff", world["school_b"])])
    today = date.today()
    stand_in = create_stand_in(absent=director, deputy=deputy, start=today + timedelta(days=30),
                               end=today + timedelta(days=44), reason="отпуск", actor=director, today=today)
    (notification,) = notify(director, kind="reminder", title="Срок задачи школы Б", link="/tasks/",
                             deputies=False)
    db_session.commit()
    return {"notification_id": notification.id, "standin_id": stand_in.id}

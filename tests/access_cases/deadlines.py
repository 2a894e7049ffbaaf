"""Access-walk knowledge of this feature's routes (merged by tests/test_access.py).

ROUTE_ARGUMENTS: URL argument → (scope, fn(objs, values, rule) → list of school-B values); use objs.extra.
ENDPOINT_SCOPES: endpoint → scope, where the argument's scope is not the endpoint's.
FORM_ROUTES: endpoint → fn(objs, world, session) → (actor key, URL values, form data of a successful POST).
school_b_objects(world, make_cycle, db_session, objs) → dict of extra school-B ids, put in objs.extra.
"""

ROUTE_ARGUMENTS: dict = {}
ENDPOINT_SCOPES: dict = {}
FORM_ROUTES: dict = {}


def school_b_objects(world, make_cycle, db_session, objs) -> dict:
    return {}

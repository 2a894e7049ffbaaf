"""The access walk of tests/test_access.py over the analysis routes alone, so this feature's scoping is
proven even while other features' routes are still being mapped."""

import pytest

from tests import test_access as walk
from tests.test_access import (
    ADMIN_ONLY, LOGIN_PATH, audit_count, build_path, changed_tables, db_state, object_rules, scope_of, url_variants,
)

# The access walk's fixtures, used here under the same names.
school_b = walk.school_b
official_elsewhere = walk.official_elsewhere
client_for = walk.client_for


def _analysis_requests(app, objs):
    for rule in object_rules(app):
        if not rule.endpoint.startswith("analysis."):
            continue
        for values in url_variants(rule, objs):
            for method in ("GET", "POST"):
                if method in rule.methods:
                    yield method, build_path(rule, values), rule


@pytest.mark.parametrize("actor", ["director_a", "official_elsewhere"])
def test_outsiders_get_404_on_every_analysis_route_of_school_b(app, actor, world, school_b, official_elsewhere,
                                                               client_for, db_session):
    user = official_elsewhere if actor == "official_elsewhere" else world[actor]
    client = client_for(user)
    before, audited = db_state(db_session), audit_count(db_session)
    failures, checked = [], 0
    for method, path, rule in _analysis_requests(app, school_b):
        assert scope_of(rule) != ADMIN_ONLY
        response = client.open(path, method=method, data={"version": "1", "comment": "попытка", "confirm": "y"})
        checked += 1
        if response.status_code != 404:
            failures.append(f"{method} {path}: {response.status_code}")
    assert failures == [] and checked >= 10
    assert audit_count(db_session) == audited
    assert changed_tables(before, db_state(db_session)) == []


def test_school_b_director_reaches_every_analysis_page_of_school_b(app, world, school_b, client_for):
    client = client_for(world["director_b"])
    failures = []
    for method, path, _rule in _analysis_requests(app, school_b):
        if method != "GET":
            continue
        response = client.get(path, follow_redirects=True)
        if response.status_code != 200 or response.request.path == LOGIN_PATH:
            failures.append(f"GET {path}: {response.status_code} at {response.request.path}")
    assert failures == []

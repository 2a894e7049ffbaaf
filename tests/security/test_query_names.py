"""Query arguments named like a route's own parameters or like `url_for`'s specials (attack 9 on the running server).

The situational centre's organisation page sends a school on to the school's page with the query string it was
given, and it handed that query string to `url_for` whole: «/situation/orgs/5?org_id=7» passed `org_id` twice
(a TypeError, 500) and «?_method=POST» asked for a URL of a POST route that does not exist (BuildError, 500);
«?_external=1» made the redirect absolute. Only the page's filters are passed on now. Here every GET route, with
real ids, gets its own parameters' names and `url_for`'s specials in the query string: no 5xx, and a redirect
stays a path of this site."""

from app.api.services import issue_token
from app.core.hardening import MAX_ID
from tests.security.test_bad_input import _ARG, _path, _rules

SPECIALS = ["_method=POST", "_scheme=javascript", "_external=1", "_anchor=x%22y"]


def test_no_route_fails_on_query_names_of_its_own_parameters(app, client, login, world, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    api_headers = {"Authorization": f"Bearer {issue_token(world['admin'], name='q', actor=world['admin']).secret}"}
    db_session.commit()
    login(world["admin"])
    real = {"cycle_id": cycle.id, "org_id": world["school_a"].id, "user_id": world["admin"].id,
            "stage_id": cycle.stages[0].id}
    checked = 0
    for rule in _rules(app):
        if "GET" not in rule.methods:
            continue
        path = _path(rule, 1, real)
        own = [f"{match.group(3)}={value}" for match in _ARG.finditer(rule.rule) for value in ("1", str(MAX_ID + 1))]
        for query in [*own, *SPECIALS, "&".join(own + SPECIALS)]:
            if not query:
                continue
            response = client.get(f"{path}?{query}", headers=api_headers)
            assert response.status_code < 500, (path, query, response.status_code)
            location = response.headers.get("Location", "")
            assert not location or (location.startswith("/") and not location.startswith("//")), (path, query,
                                                                                                  location)
            checked += 1
    assert checked > 100


def test_a_school_sent_on_to_its_page_keeps_the_filters_only(client, login, world):
    login(world["admin"])
    school = world["school_a"].id
    response = client.get(f"/situation/orgs/{school}?year=2025&procedure=ВПР&org_id=7&_method=POST"
                                "&_external=1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/situation/schools/{school}?")
    assert "year=2025" in response.headers["Location"]
    assert "org_id" not in response.headers["Location"] and "_method" not in response.headers["Location"]

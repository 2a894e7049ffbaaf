"""Access requirements of the foundation, checked over the whole URL map.

Every test walks `app.url_map`, so a route added later is covered without touching this file; where a
route needs knowledge the walk cannot derive (which object an argument names, which form a GET renders)
the test fails until that knowledge is added here, so a new route cannot slip through unreviewed.

(a) anonymous users are refused on every non-public route, and the public set is exactly what we expect;
(b) users outside an object's organisation subtree get 404 on every object route (403 on admin-only ones),
    while the owner gets 200 on the same pages;
(c) no state-changing route acts on GET;
(d) a route without an access rule is reported and refused.
"""

import importlib
import io
import shutil
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from tests.conftest import PASSWORD, IsolatedClient, fill_goal, fill_indicators, fill_method, make_config, track_of
from tests.snapshots import CURRENT_PERIOD

IGNORED_METHODS = {"HEAD", "OPTIONS"}
PUBLIC_ENDPOINTS = {"auth.login", "health", "static", "bootstrap.static", "api.openapi_document",
                    "deadlines.ical_feed",
                    # the public section: approved and published material only (tests/test_public.py)
                    "public.index", "public.organisation_page", "public.cycle_page", "public.document_file",
                    "public.feed", "public.sitemap", "public_root.robots"}
LOGIN_PATH = "/login"


# --- walking the URL map -----------------------------------------------------------------------

def endpoints_without_rule(app) -> list[str]:
    """Endpoints whose view declares no access rule (the before-request hook refuses them)."""
    from app.core.access import rule_of

    return sorted(endpoint for endpoint, view in app.view_functions.items() if rule_of(view) is None)


def access_rule(app, rule):
    from app.core.access import rule_of

    return rule_of(app.view_functions[rule.endpoint])


def is_public(app, rule) -> bool:
    declared = access_rule(app, rule)
    return declared is not None and declared.public


def methods_of(rule) -> list[str]:
    return sorted(rule.methods - IGNORED_METHODS)


def rules(app, *, public: bool | None = False):
    """URL rules in a stable order; by default only those that are not public."""
    found = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
    return [r for r in found if public is None or is_public(app, r) == public]


def converter(rule, name):
    # Werkzeug keeps the compiled converter of each argument on the rule; it tells an id from a selector.
    return rule._converters[name]


def build_path(rule, values: dict) -> str:
    return rule.build(values, append_unknown=False)[1]


# --- the school-B objects every object route is pointed at ---------------------------------------

@dataclass(frozen=True)
class Objects:
    """Ids of one organisation's objects (plain ints: rows go stale across requests)."""

    org_id: int
    user_id: int
    cycle_id: int
    stage_id: int
    goal_id: int
    indicator_id: int
    method_id: int
    task_id: int
    set_id: int
    mechanism_id: int
    request_id: int
    submission_id: int
    org_code: str = ""
    import_id: int = 0
    token_id: int = 0
    # Ids of the objects of features with their own access cases (tests/access_cases/<feature>.py).
    extra: dict = field(default_factory=dict)

    @property
    def items(self) -> dict[str, int]:
        return {"goals": self.goal_id, "indicators": self.indicator_id, "methods": self.method_id}


ORG_SCOPED = "organisation"  # the object belongs to an organisation: outside the user's subtree → 404
ADMIN_ONLY = "admin"  # catalogue and accounts are not organisation content: only administrators, others → 403
SELECTOR = "selector"  # not an object: one of a fixed set of values (content kind, workflow trigger)
# Region-level content (the assessment of municipal mechanisms): a school or another municipality is refused, by role
# (403) or by scope (404); the region's administrator reads it.
REGION_SCOPED = "region"


def _content_item(objs: Objects, values: dict, rule) -> list[int]:
    kind = values["kind"]
    if kind not in objs.items:
        pytest.fail(f"{rule.rule}: no school-B object of kind {kind!r}; add it to Objects.items")
    return [objs.items[kind]]


def _stage_triggers(objs: Objects, values: dict, rule) -> list[str]:
    from workflows import engine

    return sorted({t.trigger for t in engine.registry()["stage"].transitions})


def _any_items(objs: Objects, values: dict, rule, name: str) -> list[str]:
    conv = converter(rule, name)
    assert isinstance(conv, AnyConverter), f"{rule.rule}: <{name}> is expected to be an any(...) selector"
    return sorted(conv.items)


# Argument name → (how its object is scoped, the school-B value(s) to put in the URL).
# A route with an argument missing here fails test_every_route_argument_is_mapped: add it, with its scope.
ROUTE_ARGUMENTS = {
    "org_id": (ORG_SCOPED, lambda o, v, r: [o.org_id]),
    "cycle_id": (ORG_SCOPED, lambda o, v, r: [o.cycle_id]),
    "stage_id": (ORG_SCOPED, lambda o, v, r: [o.stage_id]),
    "item_id": (ORG_SCOPED, _content_item),
    "task_id": (ORG_SCOPED, lambda o, v, r: [o.task_id]),
    "user_id": (ADMIN_ONLY, lambda o, v, r: [o.user_id]),
    "set_id": (ADMIN_ONLY, lambda o, v, r: [o.set_id]),
    "mechanism_id": (ADMIN_ONLY, lambda o, v, r: [o.mechanism_id]),
    # The support relation of a centre (its page lists it): only administrators change it.
    "supported_id": (ADMIN_ONLY, lambda o, v, r: [o.org_id]),
    "code": (ORG_SCOPED, lambda o, v, r: [o.org_code]),
    "import_id": (ORG_SCOPED, lambda o, v, r: [o.import_id]),
    # A token is its owner's alone: anyone else, whatever their roles, gets 404.
    "token_id": (ORG_SCOPED, lambda o, v, r: [o.token_id]),
    "request_id": (ORG_SCOPED, lambda o, v, r: [o.request_id]),
    "submission_id": (ORG_SCOPED, lambda o, v, r: [o.submission_id]),
    "kind": (SELECTOR, lambda o, v, r: _any_items(o, v, r, "kind")),
    "table": (SELECTOR, lambda o, v, r: _any_items(o, v, r, "table")),
    "trigger": (SELECTOR, _stage_triggers),
}


def _feature_cases():
    """The access-walk knowledge each feature's descriptor names (`Feature.access_cases`)."""
    from app.core.features import discover

    return [importlib.import_module(f.access_cases) for f in discover() if f.access_cases]


for _case in _feature_cases():
    ROUTE_ARGUMENTS.update(_case.ROUTE_ARGUMENTS)


def unmapped_arguments(app) -> dict[str, list[str]]:
    return {r.rule: sorted(r.arguments - ROUTE_ARGUMENTS.keys()) for r in rules(app)
            if r.arguments - ROUTE_ARGUMENTS.keys()}


def url_variants(rule, objs: Objects) -> list[dict]:
    """Every combination of argument values pointing the rule at `objs` (selectors expanded first)."""
    missing = sorted(rule.arguments - ROUTE_ARGUMENTS.keys())
    if missing:
        pytest.fail(f"{rule.rule} ({rule.endpoint}): arguments {missing} are not in ROUTE_ARGUMENTS; "
                    "say which object they name and how it is scoped")
    names = sorted(rule.arguments, key=lambda n: (ROUTE_ARGUMENTS[n][0] != SELECTOR, n))
    variants = [{}]
    for name in names:
        values_of = ROUTE_ARGUMENTS[name][1]
        variants = [{**values, name: value} for values in variants for value in values_of(objs, values, rule)]
    return variants


# Endpoints whose object is organisation content but whose action is an administrator's: everyone else
# is refused by role (403) before the object is looked at; an administrator of another subtree gets 404.
ENDPOINT_SCOPES = {"orgs.edit_org": ADMIN_ONLY, "orgs.add_support": ADMIN_ONLY}
for _case in _feature_cases():
    ENDPOINT_SCOPES.update(_case.ENDPOINT_SCOPES)


def scope_of(rule) -> str:
    if rule.endpoint in ENDPOINT_SCOPES:
        return ENDPOINT_SCOPES[rule.endpoint]
    scopes = {ROUTE_ARGUMENTS[name][0] for name in rule.arguments}
    if ADMIN_ONLY in scopes:
        return ADMIN_ONLY
    if REGION_SCOPED in scopes:
        return REGION_SCOPED
    if ORG_SCOPED in scopes:
        return ORG_SCOPED
    pytest.fail(f"{rule.rule}: has only selector arguments; which object does it act on?")


def object_rules(app):
    """Non-public rules that name an object in their URL."""
    return [r for r in rules(app) if r.arguments]


def anonymous_values(rule, objs: Objects) -> list[dict]:
    """Existing ids where the argument is known; a dummy value of the right type otherwise."""
    if not rule.arguments - ROUTE_ARGUMENTS.keys():
        return url_variants(rule, objs)
    values = {}
    for name in rule.arguments:
        conv = converter(rule, name)
        if isinstance(conv, AnyConverter):
            values[name] = sorted(conv.items)[0]
        elif isinstance(conv, IntegerConverter):
            values[name] = 999_999
        else:
            values[name] = "x"
    return [values]


# --- database state --------------------------------------------------------------------------

def db_state(session) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order: the strictest possible 'nothing changed'."""
    from app.extensions import db

    session.expire_all()
    state = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        state[table.name] = [tuple(row) for row in session.execute(select(table).order_by(*order))]
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))


def audit_count(session) -> int:
    from app.audit.models import AuditEvent

    return session.scalar(select(func.count()).select_from(AuditEvent))


# --- fixtures --------------------------------------------------------------------------------

@pytest.fixture
def school_b(_school_b_state, app, tmp_path, monkeypatch) -> Objects:
    """School B's objects (build_school_b), built once per session and copied into the test's transaction
    (tests/fixtures_access.py); its uploaded files copied into a temporary UPLOAD_DIR of the test's own."""
    shutil.copytree(_school_b_state["uploads"], tmp_path / "uploads")
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    return _school_b_state["objects"]


def build_school_b(world, make_cycle, db_session) -> Objects:
    """A school-B cycle of I1.1 with a goal (stage approved), indicators, a collection method and tasks."""
    from app.api.services import issue_token
    from app.catalogue.models import Mechanism, MechanismSet
    from app.imports.services import start_import
    from app.jobs.queue import dispatch_ready
    from app.tasks.models import Task
    from workflows import engine

    director = world["director_b"]
    cycle = make_cycle(world["school_b"], director, mechanism="I1.1", period=CURRENT_PERIOD)
    goal = fill_goal(cycle, director)
    goal_stage = cycle.stage("GOAL")
    # Submitted by someone else (nobody approves their own submission): the municipal official, an editor there.
    engine.fire(goal_stage, "submit", actor=world["official"])
    engine.fire(goal_stage, "approve", actor=director)  # opens IND, and METH with it
    indicators = fill_indicators(cycle, director)
    method = fill_method(cycle, director)
    # A rejected results import in school B's scope (an administrator's, into the school): its page,
    # error report and original file all exist (in the UPLOAD_DIR the build sets).
    run = start_import("results", filename="впр.csv", stream=io.BytesIO("procedure;year\nВПР;2025\n".encode()),
                       actor=world["admin"], organisation=world["school_b"])
    token = issue_token(director, name="АИС школы Б", actor=director).token
    db_session.commit()
    dispatch_ready()  # the import job runs inline after the commit: the file is rejected (missing columns)
    assert run.status == "rejected" and run.error_report_path
    ind_stage = cycle.stage("IND")
    assert ind_stage.state == "draft" and cycle.stage("METH").state == "draft"
    task_id = db_session.scalar(select(Task.id).where(
        Task.object_type == "stage", Task.object_id == ind_stage.id, Task.assignee_id == director.id,
        Task.state == "open"))
    assert task_id is not None, "the engine opened no fill task for the IND stage"
    mechanism = db_session.scalar(select(Mechanism).join(Mechanism.mechanism_set).where(
        Mechanism.code == "I1.1", MechanismSet.active.is_(True)))
    request = _school_b_data_request(world, make_cycle, db_session)
    objs = Objects(org_id=world["school_b"].id, user_id=director.id, cycle_id=cycle.id, stage_id=ind_stage.id,
                   goal_id=goal.id, indicator_id=indicators[0].id, method_id=method.id, task_id=task_id,
                   set_id=mechanism.set_id, mechanism_id=mechanism.id, request_id=request.id,
                   submission_id=request.submissions[0].id, org_code=world["school_b"].code,
                   import_id=run.id, token_id=token.id)
    extra = {}
    for case in _feature_cases():
        extra.update(case.school_b_objects(world, make_cycle, db_session, replace(objs, extra=dict(extra))))
    db_session.commit()
    return replace(objs, extra=extra)


def _school_b_data_request(world, make_cycle, db_session):
    """A second school-B cycle (I1.3) driven to its monitoring stage, with a data request to the school
    itself, sent: the school's own internal monitoring (ВСОКО)."""
    from app.monitoring import services as monitoring
    from workflows import engine

    director = world["director_b"]
    cycle = make_cycle(world["school_b"], director, mechanism="I1.3")
    fill_goal(cycle, director)
    for code in ("GOAL", "IND", "METH"):
        if code == "IND":
            fill_indicators(cycle, director)
            fill_method(cycle, director)
        if code != "METH":
            engine.fire(cycle.stage(code), "submit", actor=world["official"])
            engine.fire(cycle.stage(code), "approve", actor=director)
    engine.fire(cycle.stage("METH"), "submit", actor=world["official"])
    engine.fire(cycle.stage("METH"), "approve", actor=director)
    assert cycle.stage("MON").state == "draft"
    request = monitoring.create_request(
        cycle, title="Сведения ВСОКО", period=cycle.period, deadline=date.today() + timedelta(days=20),
        indicator_ids=[i.id for i in cycle.indicators], organisation_ids=[world["school_b"].id], actor=director,
        today=date.today())
    monitoring.transition_request(request, "send", actor=director, today=date.today())
    db_session.commit()
    return request


@pytest.fixture
def official_elsewhere(world, make_org, make_user, db_session):
    """The official of a second municipality of the same region."""
    mun2 = make_org("municipality", parent=world["region"], code="MUN2", name="Другой муниципалитет")
    official = make_user("official", mun2, login="official_mun2")
    db_session.commit()
    return official


@pytest.fixture
def expert_elsewhere(world, school_b, official_elsewhere, make_user, db_session):
    """A regional expert assigned in a published campaign to the second municipality, not to school B's: the
    expert role reads only the municipalities assigned (app/auth/roles.py ASSIGNED_ROLES)."""
    from app.auth.models import User
    from tests.access_cases.assessment import make_campaign

    expert = make_user("expert", world["region"], login="expert_mun2")
    manager = db_session.scalar(select(User).where(User.login == "reg_official"))
    make_campaign(world, db_session, mun=official_elsewhere.roles[0].organisation, coordinator=official_elsewhere,
                  expert_user=expert, manager=manager)
    db_session.commit()
    return expert


@pytest.fixture
def client_for(app, db_session):
    """A separate test client per user (own cookie jar), signed in unless the user is None; it also sends
    the user's own API token, since /api/v1 ignores the session cookie."""
    from app.api.services import issue_token

    def make(user):
        client = IsolatedClient(app, app.response_class, use_cookies=True)
        if user is not None:
            response = client.post(LOGIN_PATH, data={"login": user.login, "password": PASSWORD})
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
            secret = issue_token(user, name="access walker", actor=user).secret
            db_session.commit()
            client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
            # The token's first use is noted now, so the walk itself writes nothing.
            assert client.get("/api/v1/organisations").status_code == 200
        return client
    return make


# --- (a) anonymous users ---------------------------------------------------------------------

def test_public_endpoints_are_exactly_the_expected_ones(app):
    public = {r.endpoint for r in rules(app, public=True)}
    assert public == PUBLIC_ENDPOINTS


def test_public_endpoints_answer_anonymous_users(client_for):
    client = client_for(None)
    assert client.get("/health").status_code == 200
    assert client.get(LOGIN_PATH).status_code == 200


def test_anonymous_users_are_refused_on_every_non_public_route(app, client_for, school_b, db_session):
    client = client_for(None)
    before = db_state(db_session)
    checked, failures = 0, []
    for rule in rules(app):
        for values in anonymous_values(rule, school_b):
            path = build_path(rule, values)
            for method in methods_of(rule):
                response = client.open(path, method=method)
                checked += 1
                body = response.get_data(as_text=True)
                if method == "GET" and not path.startswith("/api/"):
                    location = urlsplit(response.headers.get("Location", ""))
                    if (response.status_code != 302 or location.path != LOGIN_PATH
                            or parse_qs(location.query).get("next") != [path]):
                        failures.append(f"GET {path}: {response.status_code} → {response.headers.get('Location')}")
                elif response.status_code != 401 or "Требуется вход в систему." not in body:
                    failures.append(f"{method} {path}: {response.status_code}")
    assert failures == []
    assert checked >= len(rules(app))
    assert changed_tables(before, db_state(db_session)) == []


# --- (b) organisation scope ------------------------------------------------------------------

def test_every_route_argument_is_mapped(app):
    """A new object route must say, in ROUTE_ARGUMENTS, which object its arguments name."""
    assert unmapped_arguments(app) == {}


def test_an_unmapped_argument_fails_the_object_walk():
    from werkzeug.routing import Map, Rule

    rule = Rule("/reports/<int:report_id>", endpoint="reports.detail")
    Map([rule])
    objs = Objects(*range(1, 13))
    with pytest.raises(pytest.fail.Exception, match="report_id"):
        url_variants(rule, objs)


def _object_requests(app, objs: Objects):
    """(method, path, rule) for every object route pointed at `objs`: GET and POST where allowed."""
    for rule in object_rules(app):
        for values in url_variants(rule, objs):
            for method in ("GET", "POST"):
                if method in rule.methods:
                    yield method, build_path(rule, values), rule


@pytest.mark.parametrize("actor", ["director_a", "official_elsewhere", "expert_elsewhere"])
def test_outsiders_get_404_on_every_object_route_of_school_b(app, actor, world, school_b, client_for, db_session,
                                                             request):
    user = request.getfixturevalue(actor) if actor.endswith("_elsewhere") else world[actor]
    client = client_for(user)
    before, audited = db_state(db_session), audit_count(db_session)
    checked, failures = 0, []
    for method, path, rule in _object_requests(app, school_b):
        scope = scope_of(rule)
        if scope == ADMIN_ONLY:
            # Accounts and the catalogue are not organisation content: the role check refuses first.
            declared = access_rule(app, rule)
            assert declared.roles == {"admin"}, f"{rule.endpoint}: expected an admin-only route, got {declared}"
            expected = (403,)
        elif scope == REGION_SCOPED:
            expected = (403, 404)
        elif not user.has_role(*(access_rule(app, rule).roles or user.role_codes())):
            expected = (403,)  # the role check refuses first (the expert on an editor's route)
        else:
            expected = (404,)
        response = client.open(path, method=method, data={"version": "1", "comment": "попытка", "confirm": "y"})
        checked += 1
        if response.status_code not in expected:
            failures.append(f"{method} {path}: {response.status_code}, expected {expected}")
    assert failures == []
    assert checked >= len(object_rules(app))
    assert audit_count(db_session) == audited
    assert changed_tables(before, db_state(db_session)) == []


def test_owner_reaches_the_same_pages_of_school_b(app, world, school_b, client_for):
    """The other side of the 404s above: the same URLs work for those in scope, so the test is not vacuous."""
    director_b, admin = client_for(world["director_b"]), client_for(world["admin"])
    checked, failures = 0, []
    for method, path, rule in _object_requests(app, school_b):
        if method != "GET":
            continue
        # Account pages and region-level content: the administrator; everything else: the school's director.
        client = admin if scope_of(rule) in (ADMIN_ONLY, REGION_SCOPED) else director_b
        response = client.get(path, follow_redirects=True)
        checked += 1
        if response.status_code != 200 or response.request.path == LOGIN_PATH:
            failures.append(f"GET {path}: {response.status_code} at {response.request.path}")
    assert failures == []
    assert checked >= len([r for r in object_rules(app) if "GET" in r.methods])


def test_the_assigned_expert_reads_the_pages_of_school_b(app, world, school_b, client_for):
    """The expert role reads the subtree of the municipality it is assigned to (school B's municipality, in the
    campaign of the assessment's access case): every reading page of school B that admits the role answers."""
    expert = client_for(world["expert"])
    checked, failures = 0, []
    for method, path, rule in _object_requests(app, school_b):
        declared = access_rule(app, rule)
        if method != "GET" or scope_of(rule) != ORG_SCOPED or (declared.roles and "expert" not in declared.roles):
            continue
        response = expert.get(path, follow_redirects=True)
        checked += 1
        if response.status_code != 200 or response.request.path == LOGIN_PATH:
            failures.append(f"GET {path} ({rule.endpoint}): {response.status_code} at {response.request.path}")
    assert failures == []
    assert checked >= 40  # cycles, stages, documents, analysis, follow-up, monitoring, situation, API


@pytest.fixture
def draft_goal_cycle(world, make_cycle, db_session):
    """A school-B cycle whose GOAL stage is a draft with two complete goals: ready to be submitted."""
    cycle = make_cycle(world["school_b"], world["director_b"], mechanism="I1.2")
    first, second = fill_goal(cycle, world["director_b"]), fill_goal(cycle, world["director_b"])
    db_session.commit()
    return {"stage_id": cycle.stage("GOAL").id, "goal_id": first.id, "other_goal_id": second.id}


def _stage_row(session, stage_id):
    from app.cycles.models import Stage

    session.expire_all()
    return session.execute(select(Stage.state, Stage.version).where(Stage.id == stage_id)).one()


def _goal_row(session, goal_id):
    from app.cycles.models import Goal

    session.expire_all()
    return session.execute(select(Goal.statement, Goal.version).where(Goal.id == goal_id)).one_or_none()


def _goal_form(statement: str, version: int) -> dict:
    return {"direction": "Развитие добровольчества", "statement": statement,
            "justification": "Доля вовлечённых 12 % при региональной 25 %", "realism": "Есть ресурсный центр",
            "parent_goal_id": "0", "version": str(version)}


def test_school_a_cannot_change_anything_of_school_b(world, draft_goal_cycle, client_for, db_session):
    stage_id, goal_id, other_id = (draft_goal_cycle[k] for k in ("stage_id", "goal_id", "other_goal_id"))
    stage_version = _stage_row(db_session, stage_id).version
    statement, goal_version = _goal_row(db_session, goal_id)
    outsider, owner = client_for(world["director_a"]), client_for(world["director_b"])  # log-ins are audited
    before, audited = db_state(db_session), audit_count(db_session)

    attempts = [
        (f"/stages/{stage_id}/transition/submit", {"version": stage_version, "comment": ""}),
        (f"/goals/{goal_id}/edit", _goal_form("Чужая формулировка", goal_version)),
        (f"/goals/{goal_id}/delete", {"version": goal_version}),
    ]
    for path, data in attempts:
        assert outsider.post(path, data=data).status_code == 404, path
    assert _stage_row(db_session, stage_id).state == "draft"
    assert _goal_row(db_session, goal_id) == (statement, goal_version)
    assert audit_count(db_session) == audited
    assert changed_tables(before, db_state(db_session)) == []

    # The very same requests succeed for the school's own director: the 404s come from scope alone.
    assert owner.post(f"/goals/{other_id}/delete", data={"version": _goal_row(db_session, other_id).version}
                      ).status_code == 302
    assert _goal_row(db_session, other_id) is None
    assert owner.post(f"/goals/{goal_id}/edit", data=_goal_form("Своя формулировка", goal_version)
                      ).status_code == 302
    assert _goal_row(db_session, goal_id).statement == "Своя формулировка"
    stage_version = _stage_row(db_session, stage_id).version
    assert owner.post(f"/stages/{stage_id}/transition/submit", data={"version": stage_version, "comment": ""}
                      ).status_code == 302
    assert _stage_row(db_session, stage_id).state == "on_review"
    assert audit_count(db_session) == audited + 3


# --- (c) no state change on GET --------------------------------------------------------------

def _login_form(objs, world, session):
    return None, {}, {"login": world["director_b"].login, "password": PASSWORD}


def _new_cycle_form(objs, world, session):
    return "director_b", {}, {"track_id": track_of("I1.2").id, "owner_id": objs.org_id, "period": "2025/26",
                              "responsible_id": world["director_b"].id,
                              "first_deadline": (date.today() + timedelta(days=20)).isoformat()}


def _method_form(version=None):
    return {"source": "анкетирование родителей", "method": "анкетирование", "tool": "онлайн-анкета",
            "schedule": "октябрь", "version": "" if version is None else str(version)}


def _content_new_form(objs, world, session):
    return "director_b", {"cycle_id": objs.cycle_id, "kind": "methods"}, _method_form()


def _content_edit_form(objs, world, session):
    from app.cycles.models import CollectionMethod

    version = session.scalar(select(CollectionMethod.version).where(CollectionMethod.id == objs.method_id))
    return "director_b", {"kind": "methods", "item_id": objs.method_id}, _method_form(version)


def _change_password_form(objs, world, session):
    return "director_b", {}, {"current": PASSWORD, "new": "another-horse-43", "repeat": "another-horse-43"}


def _new_user_form(objs, world, session):
    return "admin", {}, {"login": "new_staff_b", "full_name": "Новикова Анна Сергеевна", "position": "учитель",
                         "email": "", "password": "long-password-77", "role": "staff",
                         "organisation_id": objs.org_id}


def _user_detail_form(objs, world, session):
    return "admin", {"user_id": objs.user_id}, {"role": "staff", "organisation_id": objs.org_id}


def _new_org_form(objs, world, session):
    return "admin", {}, {"code": "SCH-NEW", "name": "МОУ «Новая школа»", "kind": "school",
                         "parent_id": world["mun"].id, "students": "300", "settlement": "town"}


def _edit_org_form(objs, world, session):
    return "admin", {"org_id": objs.org_id}, {"name": "Школа Б (переименована)", "students": "130",
                                              "settlement": "village", "remote": "1"}


def _request_form_data(cycle, title):
    return {"title": title, "period": cycle.period, "deadline": (date.today() + timedelta(days=15)).isoformat(),
            "indicator_ids": [str(i.id) for i in cycle.indicators], "all_organisations": "y"}


def _new_request_form(objs, world, session):
    from app.monitoring.models import DataRequest

    cycle = session.get(DataRequest, objs.request_id).cycle  # the school-B cycle whose monitoring stage is open
    return "director_b", {"cycle_id": cycle.id}, _request_form_data(cycle, "Ещё один запрос")


def _edit_request_form(objs, world, session):
    from app.monitoring import services as monitoring
    from app.monitoring.models import DataRequest

    cycle = session.get(DataRequest, objs.request_id).cycle
    draft = monitoring.create_request(
        cycle, title="Черновик", period=cycle.period, deadline=date.today() + timedelta(days=10),
        indicator_ids=[cycle.indicators[0].id], organisation_ids=[objs.org_id], actor=world["director_b"],
        today=date.today())
    session.commit()
    return "director_b", {"request_id": draft.id}, {**_request_form_data(cycle, "Черновик (изменён)"),
                                                    "version": str(draft.version)}


def _import_results_form(objs, world, session):
    content = ("procedure,year,subject,grade,school_code,student_code,primary_score,max_score,mark\n"
               "ВПР,2025,Математика,5,SCH-B,B-1,7,10,4\n").encode()
    return "official", {}, {"organisation_id": world["mun"].id, "file": (io.BytesIO(content), "results.csv")}


def _import_organisations_form(objs, world, session):
    content = "code;name;kind;parent_code\nSCH-IMP;Школа импорта;school;MUN\n".encode("cp1251")
    return "admin", {}, {"organisation_id": world["region"].id, "file": (io.BytesIO(content), "orgs.csv")}


# Routes that legitimately render a form on GET and save it on POST: endpoint → (actor, URL values, form data).
# The form data is what a successful POST sends; the test proves the same data as a GET query changes nothing.
FORM_ROUTES = {
    "auth.login": _login_form,
    "auth.change_password": _change_password_form,
    "auth.new_user": _new_user_form,
    "auth.user_detail": _user_detail_form,
    "cycles.new_cycle": _new_cycle_form,
    "cycles.content_new": _content_new_form,
    "cycles.content_edit": _content_edit_form,
    "orgs.new_org": _new_org_form,
    "orgs.edit_org": _edit_org_form,
    "monitoring.new_request": _new_request_form,
    "monitoring.edit_request": _edit_request_form,
    "imports.new_results": _import_results_form,
    "imports.new_organisations": _import_organisations_form,
}
for _case in _feature_cases():
    FORM_ROUTES.update(_case.FORM_ROUTES)


def test_get_and_post_routes_are_exactly_the_listed_form_routes(app):
    both = {r.endpoint for r in rules(app, public=None) if {"GET", "POST"} <= r.methods}
    assert both == set(FORM_ROUTES)


def test_state_changing_routes_refuse_get(app, world, school_b, client_for, db_session):
    client = client_for(world["director_b"])
    before = db_state(db_session)
    posts = [r for r in rules(app, public=None) if "POST" in r.methods and r.endpoint not in FORM_ROUTES]
    assert posts, "no POST-only route found: the walk would prove nothing"
    failures = []
    for rule in posts:
        for values in url_variants(rule, school_b):
            path = build_path(rule, values)
            response = client.get(path)
            if response.status_code != 405:
                failures.append(f"GET {path}: {response.status_code}")
    assert failures == []
    assert changed_tables(before, db_state(db_session)) == []


@pytest.mark.parametrize("endpoint", sorted(FORM_ROUTES))
def test_form_route_get_with_the_form_data_changes_nothing(app, endpoint, world, school_b, client_for, db_session):
    actor, values, data = FORM_ROUTES[endpoint](school_b, world, db_session)
    (rule,) = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    path = build_path(rule, values)
    client = client_for(world[actor] if actor else None)
    before, audited = db_state(db_session), audit_count(db_session)

    response = client.get(path + "?" + urlencode(data))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert audit_count(db_session) == audited
    assert changed_tables(before, db_state(db_session)) == []
    if actor is None:
        # The log-in form read from a query string would be a log-in by link: still signed out.
        assert client.get("/").status_code == 302

    # The same data POSTed does change the database, so the GET above was a real attempt.
    response = client.post(path, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    assert changed_tables(before, db_state(db_session)) != []


# --- (d) every endpoint declares a rule ------------------------------------------------------

def test_every_endpoint_of_the_app_declares_an_access_rule(app):
    assert endpoints_without_rule(app) == []


def test_a_route_without_access_rule_is_reported_and_refused(database_url, world, db_session):
    from app import create_app
    from app.extensions import db

    fresh = create_app(make_config(database_url))

    @fresh.route("/throwaway", methods=["GET", "POST"])
    def throwaway():
        return "throwaway content"

    try:
        assert endpoints_without_rule(fresh) == ["throwaway"]
        client = fresh.test_client()
        for method in ("GET", "POST"):
            response = client.open("/throwaway", method=method)
            assert response.status_code == 403, method  # not a redirect to log-in: refused for everyone
        assert client.post(LOGIN_PATH, data={"login": "admin", "password": PASSWORD}).status_code == 302
        assert client.get("/").status_code == 200  # signed in for real
        for method in ("GET", "POST"):
            response = client.open("/throwaway", method=method)
            assert response.status_code == 403, method
            assert "throwaway content" not in response.get_data(as_text=True)
            assert "Доступ запрещён." in response.get_data(as_text=True)
    finally:
        with fresh.app_context():
            db.engine.dispose()


def test_head_answers_as_get_on_every_reading_route(app, world, school_b, client_for):
    """HEAD is GET without the body (RFC 9110): a monitor or a link checker asking HEAD must get the status GET
    gets, not a 405 or an error from a view that branches on the method."""
    director_b, admin = client_for(world["director_b"]), client_for(world["admin"])
    requests_ = [(path, rule) for method, path, rule in _object_requests(app, school_b) if method == "GET"]
    requests_ += [(rule.rule, rule) for rule in rules(app, public=None) if not rule.arguments and "GET" in rule.methods]
    failures = []
    for path, rule in requests_:
        client = admin if rule.arguments and scope_of(rule) in (ADMIN_ONLY, REGION_SCOPED) else director_b
        head, get = client.head(path), client.get(path)
        if head.status_code != get.status_code or head.data:
            failures.append(f"{rule.endpoint} {path}: HEAD {head.status_code} ({len(head.data)} bytes), "
                            f"GET {get.status_code}")
    assert failures == [], "\n".join(failures)
    assert len(requests_) > 100

"""Bad input never gives a 5xx (issue 17 item 5): ids out of the 32-bit range in paths and query strings, NUL and
other control characters in query strings, forms and JSON. Runs on SQLite and on PostgreSQL (where an int4
column compared with 2^31 and a NUL byte in a string were 500s)."""

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.hardening import MAX_ID, BoundedIntConverter, query_id

APP = Path(__file__).resolve().parents[2] / "app"
BAD_IDS = [str(2**31), str(2**63), "-1", "0", "9" * 30, "1.5", "%D9%A1"]  # the last: Arabic-Indic digit one
CONTROL = ["%00", "a%00b", "%01", "%1b", "%7f", "%0a", "%c2%85"]
# Every query parameter a view reads (test_every_query_parameter_is_fuzzed keeps this list complete).
QUERY_NAMES = ["organisation", "mechanism", "state", "closed", "parent", "indicator", "sort", "dir", "result",
               "date", "view", "next", "action", "object", "actor", "date_from", "date_to", "before", "after",
               "limit", "offset", "kind", "parent_code", "period", "organisation_code",
               "embed", "year", "grade", "procedure", "subject", "v", "finding", "unit", "order", "download",
               "municipality", "page", "q"]
_QUERY_READ = re.compile(r'(?:request\.args\.get|_raw|_cursor|params\.text|params\.integer|self\.integer)\("([a-z_]+)"')
_ARG = re.compile(r"<(?:([a-z]+)(?:\(([^)]*)\))?:)?([a-z_]+)>")


def _rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint not in ("static", "bootstrap.static")]


def _path(rule, value, real=None) -> str:
    """The rule with every id set to `value`; an `any(...)` part takes its first choice, a string part "x"."""
    def fill(match):
        converter, args = match.group(1), match.group(2)
        if converter == "any":
            return args.split(",")[0].strip().strip("'\"")
        if converter in (None, "string", "path"):
            return "x"
        return str((real or {}).get(match.group(3), value))
    return _ARG.sub(fill, rule.rule)


@pytest.fixture
def admin_client(client, login, world):
    login(world["admin"])
    return client


@pytest.fixture
def api_headers(world, db_session):
    from app.api.services import issue_token

    issued = issue_token(world["admin"], name="fuzz", actor=world["admin"])
    db_session.commit()
    return {"Authorization": f"Bearer {issued.secret}"}


def test_every_query_parameter_is_fuzzed():
    read = set()
    for path in APP.rglob("*.py"):
        read.update(_QUERY_READ.findall(path.read_text("utf-8")))
    assert read - set(QUERY_NAMES) == set()


def test_converter_and_query_ids_share_the_bounds(app):
    assert app.url_map.converters["int"] is BoundedIntConverter
    assert query_id("1") == 1 and query_id(str(MAX_ID)) == MAX_ID
    for raw in ["0", "-1", str(MAX_ID + 1), str(2**63), "١", " 1", "1e3", ""]:
        with pytest.raises(ValueError):
            query_id(raw)


def test_every_id_route_answers_404_to_an_id_out_of_range(app, admin_client, api_headers):
    checked = 0
    for rule in _rules(app):
        if not rule.arguments or "<int" not in rule.rule:
            continue
        for value in BAD_IDS:
            path = _path(rule, value)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = admin_client.open(path, method=method, headers=api_headers)
                assert response.status_code in (404, 405), (method, path, response.status_code)
                checked += 1
    assert checked > 300


def test_no_route_fails_on_a_hostile_query_string(app, admin_client, api_headers, world, make_cycle, db_session):
    """Every GET route, with real ids where the test has them (so the view runs and reads its parameters),
    with every known query parameter set to each hostile value at once (the API reports all its problems at
    once; elsewhere the only early refusal is the control-character check, which is the point)."""
    from app.audit.models import AuditEvent

    cycle = make_cycle(world["mun"], world["official"])
    db_session.commit()
    real = {"cycle_id": cycle.id, "org_id": world["school_a"].id, "user_id": world["admin"].id,
            "stage_id": cycle.stages[0].id}
    before = db_session.scalar(select(func.count()).select_from(AuditEvent))
    for rule in _rules(app):
        if "GET" not in rule.methods:
            continue
        path = _path(rule, 1, real)
        for value in BAD_IDS + CONTROL:
            query = "&".join(f"{name}={value}" for name in QUERY_NAMES)
            response = admin_client.get(f"{path}?{query}", headers=api_headers)
            assert response.status_code < 500, (path, value, response.status_code)
            if value in CONTROL and not path.startswith("/api/") and response.status_code != 404:
                assert response.status_code == 422, (path, value, response.status_code)
                assert "управляющие символы" in response.get_data(as_text=True)
    # Nothing was written (GETs, refused input).
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == before


@pytest.mark.parametrize("value", ["ad\x00min", "admin\x01", "\x1b[31m"])
def test_login_form_with_control_characters_is_422(client, world, value):
    response = client.post("/login", data={"login": value, "password": "x"})
    assert response.status_code == 422
    assert "управляющие символы" in response.get_data(as_text=True)


def test_goal_form_with_nul_is_422_and_changes_nothing(admin_client, world, make_cycle, db_session):
    from app.cycles.models import Goal

    cycle = make_cycle(world["mun"], world["official"])
    db_session.commit()
    before = db_session.scalar(select(func.count()).select_from(Goal))
    response = admin_client.post(f"/cycles/{cycle.id}/goals/new", data={"text": "Цель\x00", "version": "1"})
    assert response.status_code == 422
    assert "управляющие символы" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Goal)) == before


def test_multiline_text_is_still_accepted(admin_client):
    """Tab and line breaks are text in a form field (a textarea sends \\r\\n): the check leaves them alone."""
    response = admin_client.post("/login", data={"login": "a\tb\r\nc", "password": "x"})
    assert response.status_code != 422


def test_json_and_file_names_with_control_characters_are_422(admin_client):
    response = admin_client.post("/login", json={"login": "admin\x00"})
    assert response.status_code == 422
    import io

    response = admin_client.post("/imports/results/new", data={"file": (io.BytesIO(b"x"), "a\x00.csv")},
                                 content_type="multipart/form-data")
    assert response.status_code == 422


@pytest.mark.parametrize("path, endpoint", [("/tasks/", "tasks.inbox"), ("/api/v1/organisations", None)])
def test_a_value_the_database_refuses_is_422_not_500(app, admin_client, api_headers, monkeypatch, path, endpoint):
    """The safety net under the checks: a DataError (PostgreSQL's «integer out of range» for an id in a form
    field, a string longer than its column) is answered 422 with a Russian message, also under the API."""
    from sqlalchemy.exc import DataError

    endpoint = endpoint or app.url_map.bind("localhost").match(path)[0]

    def refused(*args, **kwargs):
        if endpoint == "tasks.inbox":
            raise OverflowError("Python int too large to convert to SQLite INTEGER")  # sqlite3 binding 2^63
        raise DataError("SELECT …", {}, Exception("integer out of range"))

    from app.core.access import RULE_ATTR

    setattr(refused, RULE_ATTR, getattr(app.view_functions[endpoint], RULE_ATTR))  # the same access rule
    monkeypatch.setitem(app.view_functions, endpoint, refused)
    response = admin_client.get(path, headers=api_headers)
    assert response.status_code == 422
    if path.startswith("/api/"):
        assert response.get_json()["error"].startswith("Значение вне допустимого диапазона")
    else:
        assert "вне допустимого диапазона" in response.get_data(as_text=True)


def test_deeply_nested_json_is_refused_without_a_500(admin_client):
    response = admin_client.post("/login", data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert response.status_code < 500


def test_deeply_nested_json_to_the_api_is_422(admin_client, api_headers):
    """The API parses its own JSON bodies (the before_request check leaves /api/ alone): a body nested past the
    parser's limit was a RecursionError and a 500."""
    response = admin_client.post("/api/v1/indicator-values", data="[" * 100_000 + "]" * 100_000,
                                 content_type="application/json", headers=api_headers)
    assert response.status_code == 422
    assert response.get_json()["error"] == "Тело запроса отклонено: слишком глубокая вложенность."


@pytest.mark.parametrize("fields", [{"organisation_code": "MUN\x00"},
                                    {"organisation_code": "MUN", "file_name": "r\x00.csv"}])
def test_api_upload_form_with_control_characters_is_422(client, world, db_session, fields):
    import io

    from app.api.services import issue_token
    from app.imports.models import ImportRun

    issued = issue_token(world["official"], name="fuzz", actor=world["official"])
    db_session.commit()
    name = fields.pop("file_name", "r.csv")
    response = client.post("/api/v1/imports/results", headers={"Authorization": f"Bearer {issued.secret}"},
                           data={**fields, "file": (io.BytesIO(b"procedure;year\n"), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "управляющие символы" in response.get_json()["error"]
    assert db_session.scalar(select(func.count()).select_from(ImportRun)) == 0

"""The /api/v1 endpoints: scope of every read, happy paths, bad input (Russian errors, 4xx, nothing written),
and the OpenAPI document kept in step with the URL map."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.conftest import counted_statements, fill_goal, fill_indicators
from tests.test_access import changed_tables, db_state
from tests.test_api_tokens import bearer, token_for  # noqa: F401  (token_for is a fixture)

INVALID = "Некорректные параметры запроса."
NOT_SAVED = "Данные не прошли проверку; ничего не сохранено."


@pytest.fixture
def api(client, token_for):  # noqa: F811
    """api(user, path, method="GET", **kw): a request with `user`'s own token (issued on first use)."""
    secrets = {}

    def call(user, path, method="GET", **kwargs):
        if user.id not in secrets:
            secrets[user.id] = token_for(user)
        return client.open(path, method=method, headers=bearer(secrets[user.id]), **kwargs)
    return call


def open_indicator_stage(cycle, actor, approver):
    """Goal filled and approved, so the indicators stage is open and can be filled."""
    from workflows import engine

    fill_goal(cycle, actor)
    engine.fire(cycle.stage("GOAL"), "submit", actor=actor)
    engine.fire(cycle.stage("GOAL"), "approve", actor=approver)
    return fill_indicators(cycle, actor)


@pytest.fixture
def cycles(world, make_cycle, db_session):
    """A cycle of each school (with indicators) and two municipal cycles of different periods."""
    made = {}
    for key, school, director in (("a", "school_a", "director_a"), ("b", "school_b", "director_b")):
        cycle = make_cycle(world[school], world[director], mechanism="I1.1")
        open_indicator_stage(cycle, world["official"], world[director])  # nobody approves their own submission
        made[key] = cycle
    made["mun"] = make_cycle(world["mun"], world["official"], mechanism="M1.1", period="2025/26")
    made["mun_next"] = make_cycle(world["mun"], world["official"], mechanism="M1.2", period="2026/27")
    db_session.commit()
    return made


def codes(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["code"] for item in response.get_json()["items"]]


def assert_invalid(response, *problem_parts, error=INVALID, status=422):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    data = response.get_json()
    assert data["error"] == error
    for part in problem_parts:
        assert any(part in p for p in data["problems"]), (part, data["problems"])
    return data


# --- organisations -----------------------------------------------------------------------------

def test_organisation_list_is_the_token_owners_subtree(world, api):
    assert codes(api(world["director_a"], "/api/v1/organisations")) == ["SCH-A"]
    assert codes(api(world["official"], "/api/v1/organisations")) == ["MUN", "SCH-A", "SCH-B"]
    assert codes(api(world["admin"], "/api/v1/organisations")) == ["REG", "MUN", "SCH-A", "SCH-B"]


def test_organisation_list_filters_and_pages(world, api):
    official = world["official"]
    assert codes(api(official, "/api/v1/organisations?kind=school")) == ["SCH-A", "SCH-B"]
    assert codes(api(official, "/api/v1/organisations?parent_code=MUN")) == ["SCH-A", "SCH-B"]
    assert codes(api(official, "/api/v1/organisations?parent_code=SCH-A")) == []
    page = api(official, "/api/v1/organisations?limit=1&offset=1").get_json()
    assert [o["code"] for o in page["items"]] == ["SCH-A"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 1, 1)
    assert api(official, "/api/v1/organisations?offset=3").get_json() == {"items": [], "total": 3, "limit": 100,
                                                                          "offset": 3}


def test_organisation_detail_carries_context_attributes(world, api):
    data = api(world["director_a"], "/api/v1/organisations/SCH-A").get_json()
    assert data["code"] == "SCH-A" and data["name"] == "Школа А" and data["kind"] == "school"
    assert data["parent_code"] == "MUN" and data["students"] == 500 and data["settlement"] == "city"
    assert data["remote"] is None and data["low_income_share"] is None


@pytest.mark.parametrize("code", ["SCH-B", "MUN", "REG", "NO-SUCH", "SCH-A%00"])
def test_organisations_outside_the_subtree_are_404(world, api, code):
    response = api(world["director_a"], f"/api/v1/organisations/{code}")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Страница или объект не найдены.", "problems": []}


# --- cycles ------------------------------------------------------------------------------------

def test_cycle_list_is_scoped_filtered_and_paged(world, cycles, api):
    official, director = world["official"], world["director_a"]

    def ids(path, user=official):
        response = api(user, path)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [c["id"] for c in response.get_json()["items"]]

    everything = ids("/api/v1/cycles")
    assert sorted(everything) == sorted(c.id for c in cycles.values())
    assert everything[0] == cycles["mun_next"].id  # latest period first
    assert ids("/api/v1/cycles", director) == [cycles["a"].id]
    assert ids("/api/v1/cycles?period=2026/27") == [cycles["mun_next"].id]
    assert ids("/api/v1/cycles?mechanism=I1.1") == sorted([cycles["a"].id, cycles["b"].id])
    assert ids("/api/v1/cycles?organisation_code=SCH-B") == [cycles["b"].id]
    assert ids("/api/v1/cycles?organisation_code=SCH-B", director) == []
    assert ids("/api/v1/cycles?state=closed") == []
    page = api(official, "/api/v1/cycles?limit=2&offset=2").get_json()
    assert [c["id"] for c in page["items"]] == everything[2:4] and page["total"] == 4

    (item,) = api(director, "/api/v1/cycles").get_json()["items"]
    assert item["mechanism"] == "I1.1" and item["organisation_code"] == "SCH-A" and item["period"] == "2025/26"
    assert item["state"] == "open" and item["closed_at"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", item["created_at"])


def test_cycle_detail_lists_its_stages(world, cycles, api):
    cycle = cycles["a"]
    data = api(world["director_a"], f"/api/v1/cycles/{cycle.id}").get_json()
    assert data["id"] == cycle.id and data["organisation_code"] == "SCH-A"
    stages = {s["code"]: s for s in data["stages"]}
    assert [s["code"] for s in data["stages"]] == [s.code for s in cycle.stages]
    goal = stages["GOAL"]
    assert goal["title"] == "Цели" and goal["state"] == "approved" and goal["approved_at"]
    assert goal["responsible"] == world["director_a"].full_name
    assert goal["deadline"] == (date.today() + timedelta(days=10)).isoformat()
    assert stages["IND"]["state"] == "draft"
    assert stages[data["stages"][-1]["code"]]["state"] == "waiting"


def test_cycle_indicators(world, cycles, api):
    cycle = cycles["b"]
    data = api(world["director_b"], f"/api/v1/cycles/{cycle.id}/indicators").get_json()
    assert data["cycle_id"] == cycle.id
    assert [i["code"] for i in data["items"]] == [i.code for i in cycle.indicators]
    first = data["items"][0]
    assert first["unit"] == "%" and first["baseline"] == 50 and first["target"] == 60
    assert first["direction"] == "up" and first["group"] == cycle.indicators[0].group_name


def test_school_director_cannot_read_another_schools_cycle(world, cycles, api):
    other = cycles["b"].id
    for path in (f"/api/v1/cycles/{other}", f"/api/v1/cycles/{other}/indicators"):
        response = api(world["director_a"], path)
        assert response.status_code == 404
        assert response.get_json()["error"] == "Страница или объект не найдены."
        assert api(world["director_b"], path).status_code == 200
    # The municipality's own cycle is outside a school's subtree too.
    assert api(world["director_a"], f"/api/v1/cycles/{cycles['mun'].id}").status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/cycles/999999", "/api/v1/cycles/0", "/api/v1/cycles/-1",
                                  "/api/v1/cycles/99999999999999999999", "/api/v1/cycles/abc/indicators"])
def test_unknown_cycles_are_404(world, api, path):
    response = api(world["admin"], path)
    assert response.status_code == 404
    assert response.get_json()["error"] == "Страница или объект не найдены."


@pytest.mark.parametrize("query, problem", [
    ("limit=0", "limit: ожидается целое число от 1 до 1000."),
    ("limit=1001", "limit: ожидается целое число от 1 до 1000."),
    ("limit=abc", "limit: ожидается целое число от 1 до 1000."),
    ("limit=1.5", "limit: ожидается целое число от 1 до 1000."),
    ("offset=-1", "offset: ожидается целое число от 0 до 10000000."),
    ("offset=99999999999999999999", "offset: ожидается целое число"),
    ("kind=galaxy", "kind: допустимые значения — region, municipality, school"),
    ("parent_code=" + "x" * 41, "parent_code: не более 40 символов"),
    ("parent_code=MUN%00", "без нулевых байтов"),
    ("perent_code=MUN", "Неизвестный параметр «perent_code»"),
])
def test_bad_organisation_list_parameters_are_422(world, api, query, problem):
    assert_invalid(api(world["official"], f"/api/v1/organisations?{query}"), problem)


@pytest.mark.parametrize("query, problem", [
    ("state=paused", "state: допустимые значения — open, closed."),
    ("period=" + "9" * 21, "period: не более 20 символов"),
    ("mechanism=M1.1%00", "без нулевых байтов"),
    ("limit=-5&offset=x", "offset: ожидается"),
    ("mechanisms=M1.1", "Неизвестный параметр «mechanisms»"),
])
def test_bad_cycle_list_parameters_are_422(world, api, query, problem):
    assert_invalid(api(world["official"], f"/api/v1/cycles?{query}"), problem)


def test_every_problem_is_reported_at_once(world, api):
    data = assert_invalid(api(world["official"], "/api/v1/cycles?limit=0&state=x&offset=-1&foo=1"))
    assert len(data["problems"]) == 4


# --- no N+1 ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/organisations", "/api/v1/cycles"])
def test_lists_issue_a_fixed_number_of_statements(world, make_org, make_user, make_cycle, db_session, api, path):
    regional = make_user("official", world["region"], login="regional_official")
    api(regional, path)  # issue the token and note its first use outside the counted requests

    def statements_for(n_municipalities):
        for _ in range(n_municipalities):
            mun = make_org("municipality", parent=world["region"])
            make_org("school", parent=mun)
            make_cycle(mun, regional, mechanism="M1.1")
        db_session.commit()
        with counted_statements() as statements:
            response = api(regional, path)
        assert response.status_code == 200
        return len(statements), response.get_json()["total"]

    few, few_total = statements_for(1)
    many, many_total = statements_for(8)
    assert many_total > few_total
    assert many == few, f"{path}: {few} statements with {few_total} rows, {many} with {many_total}"


# --- import status -----------------------------------------------------------------------------

@pytest.fixture
def school_b_import(world, db_session):
    from app.imports.models import ImportRun

    run = ImportRun(kind="results", status="rejected", original_filename="впр-5.csv", stored_path="x.csv",
                    file_sha256="1" * 64, file_size=120, organisation_id=world["school_b"].id,
                    created_by_id=world["director_b"].id, progress=100, rows_total=10, rows_rejected=2,
                    message="Файл отклонён: 2 строки с ошибками.", error_report_path="x-errors.csv")
    db_session.add(run)
    db_session.commit()
    return run


def test_import_status_is_scoped(world, school_b_import, api):
    run_id = school_b_import.id
    assert api(world["director_a"], f"/api/v1/imports/{run_id}").status_code == 404
    data = api(world["official"], f"/api/v1/imports/{run_id}").get_json()
    assert data["id"] == run_id and data["status"] == "rejected" and data["kind"] == "results"
    assert (data["rows_total"], data["rows_rejected"], data["progress"]) == (10, 2, 100)
    assert data["message"] == "Файл отклонён: 2 строки с ошибками." and data["has_error_report"] is True
    assert data["organisation_code"] == "SCH-B" and data["finished_at"] is None
    assert api(world["official"], "/api/v1/imports/2147483647").status_code == 404


# --- indicator values --------------------------------------------------------------------------

@pytest.fixture
def data_request(world, make_cycle, db_session):
    """A municipal cycle whose sent data request asks both schools for two percentage indicators."""
    from app.core.timeutil import utcnow
    from app.monitoring.models import DataRequest, DataRequestIndicator, Submission

    official = world["official"]
    cycle = make_cycle(world["mun"], official, mechanism="M1.3")
    indicators = open_indicator_stage(cycle, official, world["head"])
    request = DataRequest(cycle=cycle, title="Сведения о показателях за 2025/26", period="2025/26",
                          deadline=date.today() + timedelta(days=14), created_by_id=official.id, state="sent",
                          sent_at=utcnow())
    request.items = [DataRequestIndicator(indicator=ind, position=n) for n, ind in enumerate(indicators[:2])]
    request.submissions = [Submission(organisation=world["school_a"]), Submission(organisation=world["school_b"])]
    db_session.add(request)
    db_session.commit()
    return {"cycle": cycle, "request": request, "codes": [i.code for i in indicators[:2]],
            "other_code": indicators[2].code}


def row(code, value, org="SCH-A", period="2025/26", **extra):
    return {"indicator_code": code, "organisation_code": org, "period": period, "value": value, **extra}


def values(db_session):
    from app.monitoring.models import IndicatorValue

    db_session.expire_all()
    return {(v.indicator.code, v.organisation.code): v
            for v in db_session.scalars(select(IndicatorValue).order_by(IndicatorValue.id))}


def audit_count(db_session, **where):
    from app.audit.models import AuditEvent

    query = select(func.count()).select_from(AuditEvent)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return db_session.scalar(query)


def test_school_submits_indicator_values(world, data_request, api, db_session):
    first, second = data_request["codes"]
    body = {"cycle_id": data_request["cycle"].id,
            "rows": [row(first, 72.5, comment="по данным ФИС ОКО"), row(second, "12,5")]}
    response = api(world["director_a"], "/api/v1/indicator-values", "POST", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    report = response.get_json()
    assert (report["rows"], report["created"], report["saved"], report["rejected"]) == (2, 2, 2, 0)
    assert report["problems"] == [] and report["errors"] == []
    saved = values(db_session)
    assert saved[(first, "SCH-A")].value == Decimal("72.5") and saved[(second, "SCH-A")].value == Decimal("12.5")
    assert saved[(first, "SCH-A")].comment == "по данным ФИС ОКО"
    assert {v.source for v in saved.values()} == {"api"}
    assert {v.entered_by_id for v in saved.values()} == {world["director_a"].id}
    assert audit_count(db_session, object_type="indicator_value", actor_id=world["director_a"].id) == 2

    # The same rows again change nothing; a changed value is an update.
    again = api(world["director_a"], "/api/v1/indicator-values", "POST", json=body).get_json()
    assert (again["unchanged"], again["saved"]) == (2, 0)
    body["rows"][1]["value"] = 13
    changed = api(world["director_a"], "/api/v1/indicator-values", "POST", json=body).get_json()
    assert (changed["updated"], changed["unchanged"]) == (1, 1)
    assert values(db_session)[(second, "SCH-A")].value == Decimal("13")
    assert audit_count(db_session, object_type="indicator_value") == 3


def test_invalid_cells_save_nothing_unless_asked(world, data_request, api, db_session):
    first, second = data_request["codes"]
    body = {"cycle_id": data_request["cycle"].id, "rows": [row(first, 40), row(second, 150)]}
    api(world["director_a"], "/api/v1/organisations")  # token issued and its use noted before the snapshot
    before = db_state(db_session)
    response = api(world["director_a"], "/api/v1/indicator-values", "POST", json=body)
    data = assert_invalid(response, "Строка 2, столбец «Значение»: Значение в процентах должно быть от 0 до 100.",
                          error=NOT_SAVED)
    assert data["errors"] == [{"row": 2, "column": "value",
                               "message": "Значение в процентах должно быть от 0 до 100."}]
    assert changed_tables(before, db_state(db_session)) == []

    body["save_valid_rows"] = True
    report = api(world["director_a"], "/api/v1/indicator-values", "POST", json=body).get_json()
    assert (report["saved"], report["rejected"]) == (1, 1)
    assert list(values(db_session)) == [(first, "SCH-A")]


def test_values_outside_scope_or_cycle_are_refused(world, data_request, cycles, api, db_session):
    first, _ = data_request["codes"]
    cycle_id = data_request["cycle"].id
    director = world["director_a"]
    api(director, "/api/v1/organisations")  # token issued and its use noted before the snapshot
    before = db_state(db_session)

    # Another school's row: no open request the director may answer.
    assert_invalid(api(director, "/api/v1/indicator-values", "POST",
                       json={"cycle_id": cycle_id, "rows": [row(first, 50, org="SCH-B")]}),
                   "Строка 1: В цикле", error=NOT_SAVED)
    # An indicator of the cycle that this request does not ask for.
    assert_invalid(api(director, "/api/v1/indicator-values", "POST",
                       json={"cycle_id": cycle_id, "rows": [row(data_request["other_code"], 50)]}),
                   "нет открытого запроса сведений", error=NOT_SAVED)
    # Right rows, wrong cycle: the school's own cycle has no such request.
    assert_invalid(api(director, "/api/v1/indicator-values", "POST",
                       json={"cycle_id": cycles["a"].id, "rows": [row(first, 50)]}),
                   f"В цикле {cycles['a'].id} нет открытого запроса", error=NOT_SAVED)
    # A cycle outside the director's subtree is not found at all.
    response = api(director, "/api/v1/indicator-values", "POST",
                   json={"cycle_id": cycles["b"].id, "rows": [row(first, 50)]})
    assert response.status_code == 404
    assert changed_tables(before, db_state(db_session)) == []


@pytest.mark.parametrize("body, problem", [
    ([], "Тело запроса должно быть JSON-объектом."),
    ({}, "rows: передайте непустой список строк."),
    ({"cycle_id": "1", "rows": [row("I-01", 5)]}, "cycle_id: номер цикла — целое положительное число"),
    ({"cycle_id": True, "rows": [row("I-01", 5)]}, "cycle_id: номер цикла — целое положительное число"),
    ({"cycle_id": 0, "rows": [row("I-01", 5)]}, "cycle_id: номер цикла — целое положительное число"),
    ({"cycle_id": 1, "rows": []}, "rows: передайте непустой список строк."),
    ({"cycle_id": 1, "rows": "I-01;SCH-A;2025/26;5"}, "rows: передайте непустой список строк."),
    ({"cycle_id": 1, "rows": [["I-01", "SCH-A", "2025/26", 5]]}, "Строка 1: ожидается объект"),
    ({"cycle_id": 1, "rows": [{"indicator_code": "I-01"}]}, "Строка 1, organisation_code: обязательное поле."),
    ({"cycle_id": 1, "rows": [row("I-01", True)]}, "Строка 1, value: ожидается число"),
    ({"cycle_id": 1, "rows": [row("I-01", [5])]}, "Строка 1, value: ожидается число"),
    ({"cycle_id": 1, "rows": [row("I-01", 5, colour="red")]}, "Строка 1: неизвестное поле «colour»."),
    ({"cycle_id": 1, "rows": [row("I-01", 5, org=7)]}, "Строка 1, organisation_code: ожидается строка."),
    ({"cycle_id": 1, "rows": [row("I-01\x00", 5)]}, "без нулевых байтов"),
    ({"cycle_id": 1, "rows": [row("  ", 5)]}, "Строка 1, indicator_code: от 1 до 40 символов"),
    ({"cycle_id": 1, "rows": [row("I-01", 5)], "save_valid_rows": "yes"}, "save_valid_rows: ожидается true"),
    ({"cycle_id": 1, "rows": [row("I-01", 5)], "dry_run": True}, "Неизвестное поле «dry_run»."),
])
def test_malformed_value_requests_are_422(world, data_request, api, db_session, body, problem):
    api(world["director_a"], "/api/v1/organisations")
    before = db_state(db_session)
    response = api(world["director_a"], "/api/v1/indicator-values", "POST", json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    data = response.get_json()
    assert data["error"] in (NOT_SAVED, "Тело запроса должно быть JSON-объектом.")
    assert any(problem in p for p in [data["error"], *data["problems"]]), data
    assert changed_tables(before, db_state(db_session)) == []


def test_value_requests_must_be_json_and_bounded(world, data_request, api, db_session, monkeypatch):
    from app.api import views

    api(world["director_a"], "/api/v1/organisations")
    before = db_state(db_session)
    first, _ = data_request["codes"]
    response = api(world["director_a"], "/api/v1/indicator-values", "POST",
                   data=f"{first};SCH-A;2025/26;50", content_type="text/csv")
    assert response.status_code == 415
    assert response.get_json()["error"] == "Тело запроса должно быть в формате JSON (Content-Type: application/json)."
    broken = api(world["director_a"], "/api/v1/indicator-values", "POST", data="{not json",
                 content_type="application/json")
    assert_invalid(broken, error="Тело запроса должно быть JSON-объектом.")
    monkeypatch.setattr(views, "MAX_VALUE_ROWS", 2)
    too_many = api(world["director_a"], "/api/v1/indicator-values", "POST",
                   json={"cycle_id": data_request["cycle"].id, "rows": [row(first, 1)] * 3})
    assert_invalid(too_many, "rows: не более 2 строк за один запрос.", error=NOT_SAVED)
    assert changed_tables(before, db_state(db_session)) == []


# --- uploading results -------------------------------------------------------------------------

RESULTS_CSV = ("procedure;year;subject;grade;school_code;class_label;student_code;task_1;task_2;primary_score;"
               "max_score;mark;term_mark\n"
               "ВПР;2025;Математика;5;SCH-A;5А;P-0001;1;2;3;4;4;4\n"
               "ВПР;2025;Математика;5;SCH-A;5А;P-0002;1;0;1;4;3;3\n"
               "ВПР;2025;Математика;5;SCH-B;5Б;P-0003;2;2;4;4;5;5\n")


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    """Uploaded files go to a directory of this test, never into the working tree."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def upload(api, user, content: bytes, filename="впр-2025.csv", file_last=False, **fields):
    """A multipart upload encoded in memory (the test client spools large bodies to a temporary file that
    nobody closes when the application refuses to read it, as it does with a 413). `file_last`: the file part
    after the fields (a refusal met before it leaves no spooled file behind)."""
    from io import BytesIO

    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    file = {"file": FileStorage(BytesIO(content), filename=filename, content_type="text/csv")}
    boundary, body = encode_multipart(fields | file if file_last else file | fields)
    return api(user, "/api/v1/imports/results", "POST", data=body,
               content_type=f"multipart/form-data; boundary={boundary}")


def test_results_upload_is_accepted_and_its_import_can_be_polled(world, api, uploads, db_session):
    from app.imports.models import AssessmentResult, ImportRun

    response = upload(api, world["official"], RESULTS_CSV.encode("utf-8"))
    assert response.status_code == 202, response.get_data(as_text=True)
    accepted = response.get_json()
    assert accepted["status"] == "queued" and accepted["kind"] == "results"
    assert accepted["original_filename"] == "впр-2025.csv" and accepted["organisation_code"] == "MUN"
    location = response.headers["Location"]
    assert location == f"/api/v1/imports/{accepted['id']}"

    run = db_session.get(ImportRun, accepted["id"])
    assert run.created_by_id == world["official"].id and (uploads / run.stored_path).is_file()
    status = api(world["official"], location).get_json()  # the job ran inline after the commit
    assert status["status"] == "done", status
    assert (status["rows_total"], status["rows_inserted"], status["progress"]) == (3, 3, 100)
    assert db_session.scalar(select(func.count()).select_from(AssessmentResult)) == 3


def test_results_upload_needs_an_importing_role(world, api, uploads, db_session):
    api(world["director_a"], "/api/v1/organisations")
    before = db_state(db_session)
    response = upload(api, world["director_a"], RESULTS_CSV.encode("utf-8"))
    assert response.status_code == 403
    assert response.get_json()["error"] == "Недостаточно прав для импорта в эту организацию."
    assert changed_tables(before, db_state(db_session)) == []
    assert not uploads.exists() or not [p for p in uploads.iterdir() if not p.name.startswith(".")]


@pytest.mark.parametrize("fields, problem", [
    ({"organisation_code": "SCH-Z"}, "organisation_code: организация «SCH-Z» не найдена"),
    ({"organisation_code": "REG"}, "organisation_code: организация «REG» не найдена"),
    ({"comment": "x"}, "Неизвестное поле «comment»"),
])
def test_bad_upload_fields_are_422(world, api, uploads, db_session, fields, problem):
    api(world["official"], "/api/v1/organisations")
    before = db_state(db_session)
    assert_invalid(upload(api, world["official"], RESULTS_CSV.encode(), **fields), problem, error=NOT_SAVED)
    assert changed_tables(before, db_state(db_session)) == []


def test_upload_without_a_file_or_with_an_empty_one_is_422(world, api, uploads, db_session):
    api(world["official"], "/api/v1/organisations")
    before = db_state(db_session)
    no_file = api(world["official"], "/api/v1/imports/results", "POST", data={"organisation_code": "MUN"})
    assert_invalid(no_file, "Поле «file»", error="Приложите файл результатов.")
    assert_invalid(upload(api, world["official"], b""), error="Файл пуст.")
    assert changed_tables(before, db_state(db_session)) == []


def test_upload_over_the_size_limit_is_413(world, api, uploads, db_session, app, monkeypatch):
    api(world["official"], "/api/v1/organisations")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    before = db_state(db_session)
    response = upload(api, world["official"], RESULTS_CSV.encode() * 20000)
    assert response.status_code == 413
    assert response.get_json() == {"error": "Файл слишком большой.",
                                   "problems": ["Наибольший допустимый размер запроса — 1 МБ."]}
    assert changed_tables(before, db_state(db_session)) == []
    # The OpenAPI document says the same words, with this deployment's limit, for each operation that takes a body.
    document = api(world["official"], "/api/v1/openapi.json").get_json()
    said = document["components"]["responses"]["TooLarge"]["description"]
    assert "«Файл слишком большой.»" in said and "«Наибольший допустимый размер запроса — 1 МБ.»" in said
    assert "В форме слишком много полей" in said
    for path in ("/indicator-values", "/imports/results"):
        assert document["paths"][path]["post"]["responses"]["413"] == {"$ref": "#/components/responses/TooLarge"}


def test_upload_of_too_many_parts_is_413_that_names_them(world, api, uploads, db_session, app):
    api(world["official"], "/api/v1/organisations")
    before = db_state(db_session)
    fields = {f"field{n}": "x" for n in range(app.config["MAX_FORM_PARTS"])}
    response = upload(api, world["official"], RESULTS_CSV.encode(), file_last=True, **fields)
    assert response.status_code == 413
    assert response.get_json() == {"error": "В форме слишком много полей: допустимо не более 1000.", "problems": []}
    assert changed_tables(before, db_state(db_session)) == []


# --- the OpenAPI document ----------------------------------------------------------------------

def _spec_operations(document) -> set[tuple[str, str]]:
    base = document["servers"][0]["url"]
    return {(method.upper(), base + path) for path, item in document["paths"].items() for method in item}


def _url_map_operations(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            found |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_document_describes_exactly_the_api_routes(app):
    from app.api.openapi import document

    assert _spec_operations(document()) == _url_map_operations(app)
    assert ("GET", "/api/v1/cycles/{cycle_id}") in _url_map_operations(app)  # converters are understood


def test_document_path_parameters_match_the_routes(app):
    from app.api.openapi import document

    for path, item in document()["paths"].items():
        declared = set(re.findall(r"{(\w+)}", path))
        for method, operation in item.items():
            params = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert params == declared, (method, path)


def test_document_is_valid_openapi_and_served_without_a_token(client):
    import schemathesis

    from app.api.openapi import document

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    served = response.get_json()
    assert served == document()
    assert served["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(served).validate()  # against the OpenAPI 3.1 meta-schema
    scheme = served["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    for path, item in served["paths"].items():
        for method, operation in item.items():
            if path == "/openapi.json":
                assert operation["security"] == []
            else:
                assert "security" not in operation  # the document-wide bearer requirement applies
                assert "401" in operation["responses"], (method, path)


def test_document_refs_all_resolve():
    from app.api.openapi import document

    doc = document()
    refs = set(re.findall(r"'\$ref': '#/([^']+)'", repr(doc)))
    assert refs
    for ref in refs:
        node = doc
        for part in ref.split("/"):
            node = node[part]


# --- HTTP semantics kept by the app-wide error handler -----------------------------------------

def test_405_keeps_its_allow_header(client):
    response = client.delete("/api/v1/organisations")
    assert response.status_code == 405
    assert response.get_json()["error"] == "Метод запроса не поддерживается для этого адреса."
    assert sorted(response.headers.get("Allow", "").split(", ")) == ["GET", "HEAD", "OPTIONS"]

"""schemathesis against /api/v1, in-process: generated requests (valid and invalid) authenticated with a real
token of a municipal official whose subtree holds organisations, cycles with stages and indicators, a data
request and an import, must never get a server error nor a response the OpenAPI document does not describe.

One of schemathesis' default checks is left out, for a stated reason: positive_data_acceptance expects every
schema-valid request to succeed, but the API rightly answers 422 to well-formed rows that name unknown
indicators or organisations (the document declares that 422).
"""

from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.test_api import open_indicator_stage


@pytest.fixture
def api_token(world, make_cycle, db_session):
    from app.api.services import issue_token
    from app.core.timeutil import utcnow
    from app.imports.models import ImportRun
    from app.monitoring.models import DataRequest, DataRequestIndicator, Submission

    official = world["official"]
    for school, director in ((world["school_a"], world["director_a"]), (world["school_b"], world["director_b"])):
        open_indicator_stage(make_cycle(school, director, mechanism="I1.1"), official, director)
    cycle = make_cycle(world["mun"], official, mechanism="M1.1")
    indicators = open_indicator_stage(cycle, official, world["head"])
    request = DataRequest(cycle=cycle, title="Сведения за 2025/26", period="2025/26", state="sent", sent_at=utcnow(),
                          deadline=date.today() + timedelta(days=14), created_by_id=official.id)
    request.items = [DataRequestIndicator(indicator=indicators[0], position=0)]
    request.submissions = [Submission(organisation=world["school_a"])]
    db_session.add(request)
    db_session.add(ImportRun(kind="results", status="done", original_filename="впр.csv", stored_path="x.csv",
                             file_sha256="0" * 64, file_size=10, organisation_id=world["mun"].id,
                             created_by_id=official.id, progress=100, rows_total=3, rows_inserted=3,
                             message="Загружено строк: 3."))
    issued = issue_token(official, name="schemathesis", actor=official)
    db_session.commit()
    return issued.secret


@pytest.fixture
def known_ids(world, api_token, db_session):
    """Path values naming real objects in the official's subtree: random ids and codes almost never do."""
    from sqlalchemy import select

    from app.cycles.models import Cycle
    from app.imports.models import ImportRun

    return {"code": "SCH-B", "cycle_id": db_session.scalar(select(Cycle.id).where(Cycle.owner_id == world["mun"].id)),
            "import_id": db_session.scalar(select(ImportRun.id))}


OPERATIONS = {"GET /organisations", "GET /organisations/{code}", "GET /cycles", "GET /cycles/{cycle_id}",
              "GET /cycles/{cycle_id}/indicators", "POST /indicator-values", "POST /imports/results",
              "GET /imports/{import_id}"}  # every operation of the document but the document itself


@pytest.fixture
def statuses():
    """(method, status) pairs seen per operation. Afterwards every operation must have answered its own
    method both with a success and with a refusal, so a run that only ever hit 401s, 404s or the automatic
    OPTIONS answer cannot pass unnoticed."""
    seen = defaultdict(set)
    yield seen
    assert set(seen) == OPERATIONS
    for label, answers in sorted(seen.items()):
        method = label.split()[0]
        codes = {status for sent, status in answers if sent == method}
        assert any(200 <= c < 300 for c in codes), (label, sorted(answers))
        assert any(400 <= c < 500 for c in codes), (label, sorted(answers))


@pytest.fixture
def calls():
    return Counter()


@pytest.fixture
def api_schema(app, api_token, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))  # not the working tree
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_conforms_to_its_openapi_document(case, api_token, known_ids, statuses, calls):
    calls[case.operation.label] += 1
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    # Valid cases are pointed at existing objects (the rest of the case left as generated): path values on
    # every other call, so that unknown ones are tried too; the body's cycle always, as its 404 says little.
    if positive and case.path_parameters and calls[case.operation.label] % 2:
        case.path_parameters = {name: known_ids[name] for name in case.path_parameters}
    if positive and isinstance(case.body, dict) and "cycle_id" in case.body:
        case.body = {**case.body, "cycle_id": known_ids["cycle_id"]}
    # The token is the harness's to supply, except in a case whose very point is a missing or broken header:
    # adding it there would turn that negative case into a valid request the API rightly answers with 200.
    headers = {} if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER) else {
        "Authorization": f"Bearer {api_token}"}
    response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
    statuses[case.operation.label].add((case.method.upper(), response.status_code))

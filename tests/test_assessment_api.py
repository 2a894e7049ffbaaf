"""The assessment's API and CLI (issue 16 item 11): /api/v1/assessment/campaigns and …/scores scoped like the pages
and filterable by municipality and mechanism code, in the OpenAPI document; `flask assessment scores` (CSV with the
agreed columns) and `flask assessment export` (the package builder, inline); bad ids and codes get a Russian message
and a non-zero exit, never a traceback."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import date

import pytest

from tests.access_cases.assessment import make_campaign
from tests.test_api_tokens import bearer, token_for  # noqa: F401  (token_for is a fixture)

COLUMNS = ["municipality", "municipality_name", "mechanism", "block", "criterion", "proposed", "self", "expert",
           "level"]


@pytest.fixture
def campaign(world, db_session):
    """A published campaign over MUN (M1.1, M1.2) with the expert's scores of M1.1 saved."""
    from app.assessment import services

    campaign, _manager, _expert = make_campaign(world, db_session, mechanisms=("M1.1", "M1.2"))
    assignment = services.assignment_for(campaign, world["mun"].id, "M1.1")
    scores = services.scores_of(campaign, world["mun"].id, "M1.1")
    services.save_expert_scores(assignment, actor=world["expert"], today=date.today(),
                                entries={s.id: (0, "нет доказательств", s.version) for s in scores})
    db_session.commit()
    return campaign


@pytest.fixture
def api(client, token_for):  # noqa: F811
    secrets = {}

    def call(user, path):
        if user.id not in secrets:
            secrets[user.id] = token_for(user)
        return client.get(path, headers=bearer(secrets[user.id]))
    return call


def test_campaigns_are_listed_as_the_owner_sees_them(world, campaign, api, make_user, make_org):
    response = api(world["expert"], "/api/v1/assessment/campaigns")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["total"] == 1 and body["limit"] == 100
    item = body["items"][0]
    assert (item["id"], item["state"], item["mechanisms"]) == (campaign.id, "published", ["M1.1", "M1.2"])
    assert item["municipalities"] == [{"code": "MUN", "name": world["mun"].name}]
    assert item["criteria_set_version"] == campaign.criteria_set.version and item["region_code"] == "REG"
    # A school and an official of another municipality see no campaign at all.
    other = make_user("official", make_org("municipality", parent=world["region"], code="MUN2"), login="off2")
    for user in (world["director_a"], other):
        assert api(user, "/api/v1/assessment/campaigns").get_json()["total"] == 0
    assert api(world["auditor"], "/api/v1/assessment/campaigns?limit=0").status_code == 422


def test_scores_are_filtered_by_municipality_and_mechanism_and_scoped(world, campaign, api, make_user):
    from app.assessment import services

    base = f"/api/v1/assessment/campaigns/{campaign.id}/scores"
    everything = api(world["auditor"], base).get_json()
    n11, n12 = (len(services.criteria_of(campaign, code)) for code in ("M1.1", "M1.2"))
    assert everything["total"] == n11 + n12 and everything["campaign_id"] == campaign.id
    first = everything["items"][0]
    assert list(first) == COLUMNS
    assert (first["municipality"], first["mechanism"], first["expert"], first["level"]) == ("MUN", "M1.1", 0,
                                                                                           "не сформирован")
    only = api(world["official"], f"{base}?municipality=MUN&mechanism=M1.2&limit=2&offset=1").get_json()
    assert only["total"] == n12 and len(only["items"]) == 2
    assert {i["mechanism"] for i in only["items"]} == {"M1.2"} and only["items"][0]["expert"] is None
    assert only["items"][0]["level"] is None
    # Unknown codes: 422 with the reason in Russian; a campaign outside the scope: 404.
    refused = api(world["auditor"], f"{base}?municipality=NOPE&mechanism=M9.9")
    assert refused.status_code == 422
    problems = refused.get_json()["problems"]
    assert any("«NOPE» не участвует в кампании" in p for p in problems)
    assert any("«M9.9» не оценивается" in p for p in problems)
    assert api(world["auditor"], f"{base}?unknown=1").status_code == 422
    outsider = make_user("expert", world["region"], login="expert_other")
    for user in (outsider, world["director_a"]):
        response = api(user, base)
        assert response.status_code == 404 and response.get_json()["error"]
    assert api(world["auditor"], "/api/v1/assessment/campaigns/999999/scores").status_code == 404


def test_the_operations_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["paths"]["/assessment/campaigns"]["get"]["operationId"] == "listAssessmentCampaigns"
    scores = document["paths"]["/assessment/campaigns/{campaign_id}/scores"]["get"]
    assert {p["name"] for p in scores["parameters"]} == {"campaign_id", "municipality", "mechanism", "limit",
                                                         "offset"}
    assert list(document["components"]["schemas"]["AssessmentScore"]["properties"]) == COLUMNS


# --- CLI -----------------------------------------------------------------------------------------------------

def test_cli_scores_prints_csv_with_the_agreed_columns(app, world, campaign):
    from app.assessment import services

    result = app.test_cli_runner().invoke(args=["assessment", "scores", str(campaign.id)])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == COLUMNS
    assert len(rows) - 1 == sum(len(services.criteria_of(campaign, c)) for c in ("M1.1", "M1.2"))
    assert rows[1][:3] == ["MUN", world["mun"].name, "M1.1"] and rows[1][7] == "0"
    assert rows[1][8] == "не сформирован" and rows[-1][7] == "" and rows[-1][8] == ""


@pytest.mark.parametrize("args, message", [
    (["scores", "999999"], "Кампания оценки механизмов № 999999 не найдена."),
    (["scores", "abc"], "Кампания оценки механизмов № abc не найдена."),
    (["export", "999999", "--out", "{tmp}/p.zip"], "Кампания оценки механизмов № 999999 не найдена."),
    (["export", "{campaign}", "--municipality", "NOPE", "--out", "{tmp}/p.zip"],
     "Муниципалитет с кодом «NOPE» не участвует в кампании"),
    (["export", "{campaign}", "--out", "{tmp}/missing/p.zip"], "не существует"),
])
def test_cli_bad_ids_and_codes_get_a_russian_message_and_exit_1(app, campaign, tmp_path, args, message):
    args = [a.format(tmp=tmp_path, campaign=campaign.id) for a in args]
    result = app.test_cli_runner().invoke(args=["assessment", *args])
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr + result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not list(tmp_path.glob("*.zip")) and not list(tmp_path.glob(".*.part"))


def test_cli_export_writes_the_same_package_as_the_job(app, world, campaign, tmp_path):
    out = tmp_path / "mun.zip"
    result = app.test_cli_runner().invoke(
        args=["assessment", "export", str(campaign.id), "--municipality", "MUN", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert str(out) in result.stdout
    archive = zipfile.ZipFile(out)
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["municipality"]["code"] == "MUN" and manifest["campaign"]["id"] == campaign.id
    for f in manifest["files"]:
        if f["path"]:
            assert hashlib.sha256(archive.read(f["path"])).hexdigest() == f["sha256"]
    whole = tmp_path / "all.zip"
    result = app.test_cli_runner().invoke(
        args=["assessment", "export", str(campaign.id), "--out", str(whole)])
    assert result.exit_code == 0 and json.loads(zipfile.ZipFile(whole).read("manifest.json"))["municipality"] is None

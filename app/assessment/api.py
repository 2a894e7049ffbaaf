"""The assessment's part of the API (/api/v1/assessment/…), registered on the API's blueprint and described in its
OpenAPI document (app.api.openapi.extend): the campaigns the token's owner reads, and a campaign's scores filtered
by municipality and mechanism code. Scope as on the pages (services.campaign_for): a campaign the owner sees nothing
of answers 404; the scores are those of the municipalities the owner reads."""

from flask_login import current_user

from app.api import bp as api_bp
from app.api import openapi
from app.api.views import MAX_ID, _listing, _Params, json_response
from app.assessment import package, services
from app.assessment.models import LEVELS, Campaign
from app.core.access import api_token
from app.core.errors import ValidationFailed
from workflows.assessment_campaign import STATES as CAMPAIGN_STATES


def _campaign(campaign: Campaign, scope: services.Scope) -> dict:
    return {"id": campaign.id, "title": campaign.title, "period": campaign.period, "state": campaign.state,
            "region_code": campaign.organisation.code,
            "window_start": campaign.window_start.isoformat(), "window_end": campaign.window_end.isoformat(),
            "extended_until": campaign.extended_until.isoformat() if campaign.extended_until else None,
            "criteria_set_version": campaign.criteria_set.version, "mechanisms": list(campaign.mechanisms),
            "municipalities": [{"code": m.municipality.code, "name": m.municipality.name}
                               for m in campaign.municipalities if scope.sees(m.municipality_id)]}


@api_bp.route("/assessment/campaigns")
@api_token
def assessment_campaigns():
    params = _Params()
    limit, offset = params.page()
    params.check()
    campaigns = services.campaigns_of(current_user)
    items = [_campaign(c, services.scope_of(c, current_user)) for c in campaigns[offset:offset + limit]]
    return json_response(_listing(items, len(campaigns), limit, offset))


@api_bp.route(f"/assessment/campaigns/<int(min=1, max={MAX_ID}):campaign_id>/scores")
@api_token
def assessment_scores(campaign_id: int):
    campaign, scope = services.campaign_for(campaign_id, current_user)
    params = _Params()
    municipality_code = params.text("municipality", 40)
    mechanism = params.text("mechanism", 20)
    limit, offset = params.page()
    params.check()
    seen = {m.municipality.code: m.municipality_id for m in campaign.municipalities if scope.sees(m.municipality_id)}
    problems = []
    if municipality_code is not None and municipality_code not in seen:
        problems.append(f"municipality: муниципалитет «{municipality_code[:40]}» не участвует в кампании или вне "
                        f"вашей области доступа.")
    if mechanism is not None and mechanism not in campaign.mechanisms:
        problems.append(f"mechanism: механизм «{mechanism[:20]}» не оценивается в кампании; оцениваются: "
                        f"{', '.join(campaign.mechanisms)}.")
    if problems:
        raise ValidationFailed("Некорректные параметры запроса.", problems=problems)
    ids = [seen[municipality_code]] if municipality_code is not None else list(seen.values())
    rows = list(package.score_rows(campaign, ids, mechanism, hidden=services.hidden_self(campaign, scope),
                                   hidden_expert=services.hidden_expert(campaign, scope)))
    items = [{**row, "level": row["level"] or None} for row in rows[offset:offset + limit]]
    return json_response({**_listing(items, len(rows), limit, offset), "campaign_id": campaign.id})


# --- the OpenAPI document --------------------------------------------------------------------------------------

_CAMPAIGN = openapi._object({
    "id": {"type": "integer", "minimum": 1},
    "title": openapi.STRING,
    "period": {**openapi.STRING, "description": "Период оцениваемых циклов, например 2025/26."},
    "state": {"type": "string", "enum": list(CAMPAIGN_STATES),
              "description": "draft — черновик, published — опубликована, closed — завершена."},
    "region_code": {**openapi.STRING, "description": "Код региона, проводящего кампанию."},
    "window_start": {"type": "string", "format": "date"},
    "window_end": {"type": "string", "format": "date"},
    "extended_until": {"type": ["string", "null"], "format": "date",
                       "description": "Срок, до которого продлён период оценки; null — не продлевался."},
    "criteria_set_version": {**openapi.STRING, "description": "Версия набора критериев, закреплённая за кампанией."},
    "mechanisms": {"type": "array", "items": openapi.STRING, "description": "Коды оцениваемых механизмов."},
    "municipalities": {"type": "array", "description": "Муниципалитеты кампании в области доступа владельца токена.",
                       "items": openapi._object({"code": openapi.STRING, "name": openapi.STRING})},
})
_POINTS = {"type": ["integer", "null"], "minimum": 0}
_SCORE = openapi._object({
    "municipality": {**openapi.STRING, "description": "Код муниципалитета."},
    "municipality_name": openapi.STRING,
    "mechanism": {**openapi.STRING, "description": "Код механизма."},
    "block": {**openapi.STRING, "description": "Блок цикла: GOAL, IND, METH, MON, ANL, REC, MEAS, DEC, EFF."},
    "criterion": {**openapi.STRING, "description": "Код критерия."},
    "proposed": {**_POINTS, "description": "Балл, предложенный системой по найденным доказательствам."},
    "self": {**_POINTS, "description": "Балл самооценки муниципального координатора."},
    "expert": {**_POINTS, "description": "Балл регионального эксперта."},
    "level": {"type": ["string", "null"], "enum": [*LEVELS.values(), None],
              "description": "Уровень сформированности механизма: по баллам эксперта, когда они выставлены по всем "
                             "критериям, иначе по самооценке; null — ещё не оценён."},
})
_SCORES = openapi._object({**openapi._listing("#/components/schemas/AssessmentScore")["properties"],
                           "campaign_id": {"type": "integer", "minimum": 1}})
_CAMPAIGN_ID = {"name": "campaign_id", "in": "path", "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}

openapi.extend(
    paths={
        "/assessment/campaigns": {"get": {
            "operationId": "listAssessmentCampaigns",
            "summary": "Кампании оценки муниципальных механизмов, доступные владельцу токена",
            "parameters": openapi.PAGE_PARAMETERS,
            "responses": {"200": openapi._ok("Страница списка", "#/components/schemas/AssessmentCampaignList"),
                          "401": openapi.UNAUTHORIZED, "422": openapi.INVALID},
        }},
        "/assessment/campaigns/{campaign_id}/scores": {"get": {
            "operationId": "listAssessmentScores",
            "summary": "Баллы кампании по критериям: предложенный, самооценка, эксперт и уровень",
            "parameters": [
                _CAMPAIGN_ID,
                openapi._query("municipality", "Код муниципалитета.",
                               {"type": "string", "maxLength": 40, "pattern": openapi.NO_NUL}),
                openapi._query("mechanism", "Код механизма, например M1.1.",
                               {"type": "string", "maxLength": 20, "pattern": openapi.NO_NUL}),
                *openapi.PAGE_PARAMETERS,
            ],
            "responses": {"200": openapi._ok("Страница баллов", "#/components/schemas/AssessmentScoreList"),
                          "401": openapi.UNAUTHORIZED, "404": openapi.NOT_FOUND, "422": openapi.INVALID},
        }},
    },
    schemas={"AssessmentCampaign": _CAMPAIGN,
             "AssessmentCampaignList": openapi._listing("#/components/schemas/AssessmentCampaign"),
             "AssessmentScore": _SCORE, "AssessmentScoreList": _SCORES},
)

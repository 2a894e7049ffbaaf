"""URL table of the API (/api/v1). JSON in, JSON out; every error is {"error": "…", "problems": ["…"]}.

Every route but the OpenAPI document authenticates with a personal token (access.api_token) and acts as
the token's owner: lists are limited to the owner's subtree, objects outside it answer 404. The document
in app/api/openapi.py describes exactly these routes (a test compares the two).
"""

import json
import re

from flask import abort, current_app, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import aliased, contains_eager, selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.api import bp, openapi, serializers
from app.catalogue.models import Mechanism, Track
from app.core.access import TokenRefused, api_token, get_in_scope, public, scope_condition
from app.core.errors import DomainError, PermissionDenied, StaleObject, ValidationFailed
from app.core.hardening import json_body
from app.core.web import HTTP_MESSAGES, too_large_message, too_large_problem
from app.cycles.models import Cycle, Stage
from app.extensions import db
from app.imports.models import ImportRun
from app.imports.services import IMPORT_ROLES, start_import
from app.monitoring.models import DataRequest, DataRequestIndicator, Submission
from app.monitoring.values import CellError, ValuesReport, can_fill, save_values
from app.orgs.models import ORG_KINDS, Organisation

MAX_ID = 2_147_483_647  # ids are 32-bit integers; larger ones cannot name anything (and overflow SQLite)
DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET = 100, 1000, 10_000_000
MAX_VALUE_ROWS = 5000
VALUE_ROW_FIELDS = {"indicator_code", "organisation_code", "period", "value", "comment"}
VALUE_ROW_REQUIRED = ("indicator_code", "organisation_code", "period", "value")
VALUE_TEXT_LIMITS = {"indicator_code": 40, "organisation_code": 40, "period": 20, "comment": 2000}
CYCLE_STATES = ("open", "closed")


class UnsupportedMediaType(DomainError):
    status_code = 415


# --- responses and errors ----------------------------------------------------------------------

def json_response(payload, status: int = 200, headers: dict | None = None):
    """JSON as UTF-8 text rather than \\u escapes, so Russian messages are readable in any client's log."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return current_app.response_class(body, status=status, headers=headers, mimetype="application/json")


def error_response(status: int, message: str, problems=None, headers: dict | None = None):
    return json_response({"error": message, "problems": list(problems or [])}, status, headers)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    db.session.rollback()
    if isinstance(exc, TokenRefused):
        # RFC 6750: tell the client which scheme the API expects.
        return error_response(401, HTTP_MESSAGES[401], [exc.description],
                              headers={"WWW-Authenticate": 'Bearer realm="uko-api"'})
    problems, message = [], HTTP_MESSAGES.get(exc.code, exc.description)
    if isinstance(exc, RequestEntityTooLarge):
        message, _advice = too_large_message()
        if message == HTTP_MESSAGES[413]:
            problems = [too_large_problem(current_app.config.get("MAX_CONTENT_LENGTH"))]
    return error_response(exc.code or 500, message, problems)


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    db.session.rollback()
    return error_response(exc.status_code, exc.message, exc.problems)


@bp.errorhandler(StaleDataError)
def _stale(exc):
    db.session.rollback()
    return error_response(409, StaleObject().message)


@bp.errorhandler(Exception)
def _unexpected(exc):
    db.session.rollback()
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, HTTP_MESSAGES[500])


# --- query parameters --------------------------------------------------------------------------

class _Params:
    """Reads query parameters, collecting every problem so the client sees them all at once."""

    def __init__(self):
        self.problems: list[str] = []
        self.known: set[str] = set()

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        self.known.add(name)
        raw = request.args.get(name)
        if raw is None:
            return default
        if re.fullmatch(r"-?[0-9]{1,12}", raw) and lo <= int(raw) <= hi:
            return int(raw)
        self.problems.append(f"{name}: ожидается целое число от {lo} до {hi}.")
        return default

    def text(self, name: str, max_length: int, choices=None) -> str | None:
        self.known.add(name)
        raw = request.args.get(name)
        if raw is None:
            return None
        if choices is not None and raw not in choices:
            self.problems.append(f"{name}: допустимые значения — {', '.join(choices)}.")
        elif len(raw) > max_length or "\x00" in raw:  # PostgreSQL text cannot hold NUL
            self.problems.append(f"{name}: не более {max_length} символов, без нулевых байтов.")
        else:
            return raw
        return None

    def page(self) -> tuple[int, int]:
        return (self.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT), self.integer("offset", 0, 0, MAX_OFFSET))

    def check(self) -> None:
        # An unknown parameter is most likely a misspelt filter: answering with the unfiltered list would
        # hand the client data it did not ask for.
        for name in sorted(set(request.args) - self.known):
            self.problems.append(f"Неизвестный параметр «{name[:40]}»; допустимые: {', '.join(sorted(self.known))}.")
        # A parameter named twice (?kind=school&kind=municipality) was read by its first value and the others were
        # dropped without a word: the client got schools only, while a proxy or a log that reads the last value saw
        # another request — two readings of one request, refused as a JSON key named twice is.
        for name in sorted(name for name in self.known if len(request.args.getlist(name)) > 1):
            self.problems.append(f"Параметр «{name}» указан несколько раз; укажите его один раз.")
        if self.problems:
            raise ValidationFailed("Некорректные параметры запроса.", problems=self.problems)


def _page(query, limit: int, offset: int):
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return total, query.limit(limit).offset(offset)


def _listing(items: list, total: int, limit: int, offset: int) -> dict:
    return {"items": items, "total": total, "limit": limit, "offset": offset}


# --- the document ------------------------------------------------------------------------------

@bp.route("/openapi.json")
@public
def openapi_document():
    return json_response(openapi.document())


# --- organisations -----------------------------------------------------------------------------

@bp.route("/organisations")
@api_token
def organisation_list():
    params = _Params()
    kind = params.text("kind", 30, choices=tuple(ORG_KINDS))
    parent_code = params.text("parent_code", 40)
    limit, offset = params.page()
    params.check()
    parent = aliased(Organisation)
    query = (select(Organisation, parent.code).outerjoin(parent, Organisation.parent_id == parent.id)
             .where(scope_condition(Organisation.path)).order_by(Organisation.path))
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    if parent_code is not None:
        query = query.where(parent.code == parent_code)
    total, query = _page(query, limit, offset)
    items = [serializers.organisation(org, code) for org, code in db.session.execute(query)]
    return json_response(_listing(items, total, limit, offset))


def _organisation_by_code(code: str) -> Organisation:
    """An organisation in the token owner's subtree, by its code; 404 outside it (its existence does not leak)."""
    org_id = None
    if "\x00" not in code and len(code) <= 40:
        org_id = db.session.scalar(select(Organisation.id).where(Organisation.code == code))
    if org_id is None:
        abort(404)
    return get_in_scope(Organisation, org_id)


@bp.route("/organisations/<code>")
@api_token
def organisation_detail(code: str):
    org = _organisation_by_code(code)
    return json_response(serializers.organisation(org, org.parent.code if org.parent else None))


# --- cycles ------------------------------------------------------------------------------------

@bp.route("/cycles")
@api_token
def cycle_list():
    params = _Params()
    period = params.text("period", 20)
    mechanism = params.text("mechanism", 20)
    organisation_code = params.text("organisation_code", 40)
    state = params.text("state", 10, choices=CYCLE_STATES)
    limit, offset = params.page()
    params.check()
    query = (select(Cycle).join(Cycle.owner).join(Cycle.track).join(Track.mechanism)
             .where(scope_condition(Organisation.path))
             .options(contains_eager(Cycle.owner), contains_eager(Cycle.track).contains_eager(Track.mechanism))
             .order_by(Cycle.period.desc(), Cycle.id))
    if period is not None:
        query = query.where(Cycle.period == period)
    if mechanism is not None:
        query = query.where(Mechanism.code == mechanism)
    if organisation_code is not None:
        query = query.where(Organisation.code == organisation_code)
    if state is not None:
        query = query.where(Cycle.state == state)
    total, query = _page(query, limit, offset)
    items = [serializers.cycle(c) for c in db.session.scalars(query)]
    return json_response(_listing(items, total, limit, offset))


@bp.route(f"/cycles/<int(min=1, max={MAX_ID}):cycle_id>")
@api_token
def cycle_detail(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id)
    stages = db.session.scalars(select(Stage).where(Stage.cycle_id == cycle.id)
                                .options(selectinload(Stage.responsible)).order_by(Stage.position))
    return json_response({**serializers.cycle(cycle), "stages": [serializers.stage(s) for s in stages]})


@bp.route(f"/cycles/<int(min=1, max={MAX_ID}):cycle_id>/indicators")
@api_token
def cycle_indicators(cycle_id: int):
    cycle = get_in_scope(Cycle, cycle_id)
    return json_response({"cycle_id": cycle.id, "items": [serializers.indicator(i) for i in cycle.indicators]})


# --- indicator values --------------------------------------------------------------------------

def _json_body() -> dict:
    if not request.is_json:
        raise UnsupportedMediaType("Тело запроса должно быть в формате JSON (Content-Type: application/json).")
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationFailed("Тело запроса должно быть JSON-объектом.",
                               problems=["Пример: {\"cycle_id\": 1, \"rows\": [{…}]}."])
    return body


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _row_problems(n: int, row) -> list[str]:
    if not isinstance(row, dict):
        return [f"Строка {n}: ожидается объект с полями {', '.join(VALUE_ROW_REQUIRED)}, comment."]
    problems = [f"Строка {n}: неизвестное поле «{name}»." for name in sorted(set(row) - VALUE_ROW_FIELDS)]
    for name in VALUE_ROW_REQUIRED:
        if row.get(name) is None:
            problems.append(f"Строка {n}, {name}: обязательное поле.")
    for name, limit in VALUE_TEXT_LIMITS.items():
        value = row.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(f"Строка {n}, {name}: ожидается строка.")
        elif (name != "comment" and not value.strip()) or len(value) > limit or "\x00" in value:
            problems.append(f"Строка {n}, {name}: от 1 до {limit} символов, без нулевых байтов.")
    value = row.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float | str)):
        problems.append(f"Строка {n}, value: ожидается число (или строка с числом, например «12,5»).")
    elif isinstance(value, str) and (len(value) > 50 or "\x00" in value):
        problems.append(f"Строка {n}, value: не более 50 символов.")
    return problems


def _values_request(body: dict) -> tuple[int | None, list[dict], bool]:
    known = {"cycle_id", "rows", "save_valid_rows"}
    problems = [f"Неизвестное поле «{name[:40]}»." for name in sorted(set(body) - known)]
    cycle_id = body.get("cycle_id")
    if cycle_id is not None and (not _is_int(cycle_id) or not 1 <= cycle_id <= MAX_ID):
        problems.append("cycle_id: номер цикла — целое положительное число (или не указывайте его).")
    save_valid_rows = body.get("save_valid_rows", False)
    if not isinstance(save_valid_rows, bool):
        problems.append("save_valid_rows: ожидается true или false.")
    rows = body.get("rows")
    if not isinstance(rows, list) or not rows:
        problems.append("rows: передайте непустой список строк.")
    elif len(rows) > MAX_VALUE_ROWS:
        problems.append(f"rows: не более {MAX_VALUE_ROWS} строк за один запрос.")
    else:
        for n, row in enumerate(rows, 1):
            problems.extend(_row_problems(n, row))
    if problems:
        raise ValidationFailed("Данные не прошли проверку; ничего не сохранено.", problems=problems[:200])
    return cycle_id, [{"comment": None, **row, "_row": n} for n, row in enumerate(rows, 1)], save_valid_rows


def _cycle_for_values(cycle_id: int) -> Cycle:
    """The cycle the values are for. A school answers requests of its municipality's cycle, which lies
    outside the school's subtree: such a cycle counts as found when one of its sent requests is addressed
    to an organisation in the token owner's subtree. Any other cycle is not found (404)."""
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        abort(404)
    if current_user.can_see(cycle.owner):
        return cycle
    addressed = db.session.scalar(
        select(Submission.id).join(Submission.request).join(Submission.organisation)
        .where(DataRequest.cycle_id == cycle.id, DataRequest.state != "draft", scope_condition(Organisation.path))
        .limit(1))
    if addressed is None:
        abort(404)
    return cycle


def _rows_outside_cycle(cycle: Cycle, rows: list[dict]) -> list[CellError]:
    """Rows that no open data request of this cycle asks the token owner to answer.

    save_values matches a row to any open submission the actor may fill, in whatever cycle; the API call
    names its cycle, so a value must not land in another cycle's request that happens to share an
    indicator code, organisation and period.
    """
    submissions = db.session.scalars(
        select(Submission).join(Submission.request)
        .where(DataRequest.cycle_id == cycle.id, DataRequest.state == "sent",
               Submission.state.in_(("pending", "returned")))
        .options(selectinload(Submission.organisation), selectinload(Submission.request)
                 .selectinload(DataRequest.items).selectinload(DataRequestIndicator.indicator))).all()
    open_keys = {(sub.organisation.code.casefold(), sub.request.period, item.indicator.code.casefold())
                 for sub in submissions if can_fill(current_user, sub) for item in sub.request.items}
    errors = []
    for row in rows:
        key = (row["organisation_code"].strip().casefold(), row["period"].strip(),
               row["indicator_code"].strip().casefold())
        if key not in open_keys:
            errors.append(CellError(row["_row"], "", (
                f"В цикле {cycle.id} нет открытого запроса сведений для организации «{row['organisation_code']}» "
                f"на период «{row['period']}» с показателем «{row['indicator_code']}», на который вы можете "
                "ответить.")))
    return errors


def _report_json(report: ValuesReport, extra_errors: list[CellError]) -> dict:
    errors = sorted([*extra_errors, *report.errors], key=lambda e: e.row)
    return {
        "rows": report.rows + len({e.row for e in extra_errors}),
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "skipped": report.skipped,
        "saved": report.saved,
        "rejected": len({e.row for e in errors}),
        "problems": [e.text() for e in errors],
        "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in errors],
    }


@bp.route("/indicator-values", methods=["POST"])
@api_token
def submit_indicator_values():
    cycle_id, rows, save_valid_rows = _values_request(_json_body())
    outside = _rows_outside_cycle(_cycle_for_values(cycle_id), rows) if cycle_id is not None else []
    outside_rows = {e.row for e in outside}
    report = save_values([row for row in rows if row["_row"] not in outside_rows], actor=current_user,
                         source="api", save_valid_rows=save_valid_rows)
    result = _report_json(report, outside)
    if result["rejected"] and not save_valid_rows:
        # A 422: the request boundary rolls back the rows save_values found valid, so nothing is kept.
        return json_response({"error": "Данные не прошли проверку; ничего не сохранено.",
                              "problems": result["problems"][:500], "errors": result["errors"][:500]}, 422)
    return json_response(result)


# --- imports -----------------------------------------------------------------------------------

def _import_organisation(code: str | None) -> Organisation:
    """The organisation named by `organisation_code`, or by default the widest one where the token owner
    may import results."""
    if code is None or code == "":
        allowed = [r.organisation for r in current_user.roles if r.role in IMPORT_ROLES["results"]]
        org = min(allowed, key=lambda o: len(o.path)) if allowed else current_user.home_organisation
        if org is None:
            raise PermissionDenied("У владельца токена нет ролей: импортировать результаты он не может.")
        return org
    org_id = None
    if len(code) <= 40 and "\x00" not in code:
        org_id = db.session.scalar(select(Organisation.id).where(Organisation.code == code))
    org = db.session.get(Organisation, org_id) if org_id else None
    if org is None or not current_user.can_see(org):
        raise ValidationFailed("Данные не прошли проверку; ничего не сохранено.",
                               problems=[f"organisation_code: организация «{code[:40]}» не найдена "
                                         "в вашей области доступа."])
    return org


@bp.route("/imports/results", methods=["POST"])
@api_token
def upload_results():
    unknown = sorted((set(request.form) | set(request.files)) - {"file", "organisation_code"})
    if unknown:
        raise ValidationFailed("Данные не прошли проверку; ничего не сохранено.",
                               problems=[f"Неизвестное поле «{name[:40]}»; допустимые: file, organisation_code."
                                         for name in unknown])
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed("Приложите файл результатов.",
                               problems=["Поле «file» запроса multipart/form-data: CSV (UTF-8 или Windows-1251) "
                                         "или XLSX в формате v1."])
    organisation = _import_organisation(request.form.get("organisation_code"))
    run = start_import("results", filename=upload.filename, stream=upload.stream, actor=current_user,
                       organisation=organisation)
    location = url_for("api.import_status", import_id=run.id)
    return json_response(serializers.import_run(run), 202, headers={"Location": location})


@bp.route(f"/imports/<int(min=1, max={MAX_ID}):import_id>")
@api_token
def import_status(import_id: int):
    run = get_in_scope(ImportRun, import_id)
    return json_response(serializers.import_run(run))

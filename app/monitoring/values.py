"""Indicator values: validation per cell and saving. Interface used by the web form, the XLSX upload
and the API (app/api):

    save_values(rows, *, actor, source, submission=None, save_valid_rows=False, counts=None) -> ValuesReport
        rows: dicts with indicator_code, organisation_code, period, value, comment (the v1 format of
        domain.md §9); an optional "_row" key gives the row number used in error messages (the Excel
        row for an upload), otherwise rows are numbered from 1. `value` may be a number or a string
        ("12,5", "1 200", "75%" for a percentage); a blank value means "not filled in" and the row is
        skipped. source: 'form', 'xlsx', 'api' or 'import'.
        With `submission`, every row must be for that submission: an indicator of its request, its
        organisation, the request's period; the actor must be the addressee's director or the staff
        member the director delegated to, and the submission must be open (pending or returned),
        otherwise PermissionDenied / InvalidTransition is raised and nothing is read.
        Without `submission` (the API), each row is matched to the open submission of its
        organisation whose request asks for that indicator code and period, among those the actor may
        fill; rows that match none (or several) are errors.
        Validates every cell (number, unit-based range, the actor's scope); saves nothing when any row
        is invalid unless save_valid_rows; upserts IndicatorValue by (indicator, organisation, period),
        audits each created or changed value (before/after), flushes, never commits.
        counts: indicator id → (organisations met, organisations counted, students counted) behind a value
        computed from the organisations below (answer_from_lower only; a figure typed over it clears them).

    ValuesReport: counts (rows, created, updated, unchanged, skipped) and `errors`, a list of
        CellError(row, column, message) with Russian messages; report.lines() gives
        «Строка 5, столбец «Значение»: …» texts, report.as_dict() a JSON-ready form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from app.audit import chain
from app.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from app.core.hardening import without_invisible
from app.extensions import db
from app.monitoring.models import DataRequest, DataRequestIndicator, IndicatorValue, Submission
from app.orgs.models import Organisation, ancestor_paths
from workflows import engine
from workflows.submission import FILL, STATES

COLUMNS = {
    "indicator_code": "Код показателя",
    "organisation_code": "Код организации",
    "period": "Период",
    "value": "Значение",
    "comment": "Комментарий",
}
SOURCES = ("form", "xlsx", "api", "import")
MAX_COMMENT = 2000
MAX_ABS = Decimal(10) ** 10  # Numeric(14, 4): ten digits before the point
PLACES = Decimal("0.0001")
PERCENT_UNITS = {"%", "процент", "проценты", "процентов"}
COUNT_UNITS = {"ед.", "ед", "единиц", "единица", "чел.", "чел", "человек", "шт.", "шт", "кол-во", "количество"}
NON_NEGATIVE_UNITS = {"балл", "баллы", "баллов", "руб.", "руб", "рублей", "тыс. руб.", "ч.", "час", "часов", "дн.",
                      "дней"}
# ASCII: \d matches any script's digits and Decimal reads them («٣٥» is 35), a figure nobody typed in 0–9.
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$", re.ASCII)
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009\t")


@dataclass(frozen=True)
class CellError:
    row: int
    column: str  # one of COLUMNS, or "" for a problem with the row as a whole
    message: str

    @property
    def column_title(self) -> str:
        return COLUMNS.get(self.column, self.column)

    def text(self) -> str:
        if self.column:
            return f"Строка {self.row}, столбец «{self.column_title}»: {self.message}"
        return f"Строка {self.row}: {self.message}"


@dataclass
class ValuesReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[CellError] = field(default_factory=list)
    saved_partially: bool = False  # errors were found and the valid rows were saved on request

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def saved(self) -> int:
        return self.created + self.updated

    @property
    def error_rows(self) -> set[int]:
        return {e.row for e in self.errors}

    @property
    def valid_rows(self) -> int:
        return self.rows - len(self.error_rows)

    def errors_for(self, row: int) -> list[CellError]:
        return [e for e in self.errors if e.row == row]

    def lines(self) -> list[str]:
        return [e.text() for e in self.errors]

    def summary(self) -> str:
        parts = [f"сохранено значений: {self.saved}"]
        if self.unchanged:
            parts.append(f"без изменений: {self.unchanged}")
        if self.skipped:
            parts.append(f"пустых строк пропущено: {self.skipped}")
        if self.errors:
            parts.append(f"строк с ошибками: {len(self.error_rows)}")
        return "; ".join(parts).capitalize() + "."

    def as_dict(self) -> dict:
        return {"rows": self.rows, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "skipped": self.skipped, "saved": self.saved, "ok": self.ok,
                "errors": [{"row": e.row, "column": e.column, "column_title": e.column_title, "message": e.message}
                           for e in self.errors]}


# --- cells ---

def _text(value) -> str:
    """A cell or field as text. Characters that print as nothing (a zero-width space, a right-to-left override)
    go, as in the imports (app/imports/readers.py): the page's comment field is a one-line form field written by
    hand, and the API and the XLSX bring whatever was typed — a comment reversed by an override read on the
    official's page as something else (attack 17)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as a number in Excel: 1001.0 → "1001"
    return without_invisible(str(value)).strip()


def parse_number(raw, *, unit: str = "") -> tuple[Decimal | None, str | None]:
    """(value, None), (None, None) for a blank cell, or (None, Russian error)."""
    if raw is None:
        return None, None
    if isinstance(raw, bool):
        return None, "Ожидается число, указано логическое значение."
    if isinstance(raw, (int, Decimal)):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    else:
        text = str(raw).strip()
        if not text:
            return None, None
        if text.startswith("="):
            return None, "Формулы не допускаются: введите значение числом."
        compact = text.translate(_SPACES)
        if compact.endswith("%") and normalise_unit(unit) in PERCENT_UNITS:
            compact = compact[:-1]
        compact = compact.replace(",", ".")
        if not _NUMBER_RE.match(compact):
            return None, f"Ожидается число (например, 75 или 12,5), указано «{text[:40]}»."
        value = Decimal(compact)
    if not value.is_finite():
        return None, "Ожидается конечное число."
    return value, None


def normalise_unit(unit: str | None) -> str:
    return (unit or "").strip().lower()


def unit_rule(unit: str | None) -> str:
    """'percent', 'count', 'non_negative' or 'any': what range a unit allows."""
    u = normalise_unit(unit)
    if u in PERCENT_UNITS:
        return "percent"
    if u in COUNT_UNITS:
        return "count"
    if u in NON_NEGATIVE_UNITS:
        return "non_negative"
    return "any"


def owner_value(unit: str | None, values: list, own=None):
    """The value of the cycle's owner (итоговое значение по органу, ведущему цикл): its own value where it reported
    one (`own`); otherwise from its organisations' values (floats or Decimals, the owner's own not among them) — a
    head count («чел.», «ед.») adds up, anything else (shares, scores) is the mean over the organisations that
    answered; None without values. The one rule of the dashboard (and so of the analytic report and the public
    cycle page, which read its owner's row), the effectiveness page and the effectiveness report."""
    if own is not None:
        return own
    if not values:
        return None
    total = sum(values)
    return total if unit_rule(unit) == "count" else total / len(values)


def topmost_answers(by_path: dict) -> list:
    """The values (keyed by organisation path, the owner's own not among them) of the organisations no
    organisation above which answered too: a municipality that answered from its schools («Рассчитать по данным
    подведомственных организаций», a two-step request of a regional cycle) holds its schools' values in its own,
    so counting both added a head count twice and weighed a share by the schools' level."""
    return [value for path, value in by_path.items() if not any(p in by_path for p in ancestor_paths(path))]


def owner_value_rule(unit: str | None) -> str:
    """How `owner_value` makes the owner's value from its organisations': «сумма» for a head count, else
    «среднее» (the pages say which beside the total)."""
    return "сумма" if unit_rule(unit) == "count" else "среднее"


def check_value(value: Decimal, unit: str | None) -> str | None:
    """A Russian error when `value` is out of range for the indicator's unit, else None."""
    if abs(value) >= MAX_ABS:
        return "Слишком большое число."
    if value != value.quantize(PLACES, rounding="ROUND_DOWN"):
        return "Допускается не более 4 знаков после запятой."
    rule = unit_rule(unit)
    if rule == "percent" and not Decimal(0) <= value <= Decimal(100):
        return "Значение в процентах должно быть от 0 до 100."
    if rule == "count" and (value < 0 or value != value.to_integral_value()):
        return f"Количество ({unit}) должно быть целым неотрицательным числом."
    if rule == "non_negative" and value < 0:
        return "Значение не может быть отрицательным."
    return None


def stored(value: Decimal) -> Decimal:
    return value.quantize(PLACES)


def display_value(value: Decimal | None) -> str:
    """12.5000 → «12,5»; 75.0000 → «75»."""
    if value is None:
        return ""
    text = format(value.quantize(PLACES).normalize(), "f")
    return text.replace(".", ",")


# --- who may fill what ---

def can_fill(actor, submission: Submission) -> bool:
    """The addressee's director, or the staff member the director delegated the answer to (or their deputy): the
    submission workflow's FILL permission, judged by the engine."""
    return engine.permits(FILL, submission, actor)


def require_fillable(actor, submission: Submission) -> None:
    if not can_fill(actor, submission):
        raise PermissionDenied("Представлять сведения может руководитель организации-адресата "
                               "или сотрудник, которому он это поручил.")
    if submission.request.state != "sent":
        raise InvalidTransition("Запрос сведений не направлен или уже закрыт: значения не принимаются.")
    if submission.state not in ("pending", "returned"):
        raise InvalidTransition(f"Сведения нельзя изменить: ответ в состоянии «{STATES[submission.state]}».")


# --- saving ---

@dataclass
class _Row:
    number: int
    raw: dict
    submission: Submission | None = None
    indicator: object | None = None
    value: Decimal | None = None
    comment: str | None = None


def _candidates_for(rows: list[_Row], actor) -> dict[tuple[str, str, str], list[tuple[Submission, object]]]:
    """(organisation code, period, indicator code) → open submissions (with the indicator) the actor may fill."""
    org_codes = {_text(r.raw.get("organisation_code")).lower() for r in rows} - {""}
    if not org_codes:
        return {}
    orgs = db.session.scalars(select(Organisation).where(func.lower(Organisation.code).in_(org_codes))).all()
    visible = [o for o in orgs if actor.roles_over(o)]
    if not visible:
        return {}
    submissions = db.session.scalars(
        select(Submission).join(Submission.request)
        .where(Submission.organisation_id.in_([o.id for o in visible]), Submission.state.in_(("pending", "returned")),
               DataRequest.state == "sent")
        .options(selectinload(Submission.request).selectinload(DataRequest.items)
                 .selectinload(DataRequestIndicator.indicator), selectinload(Submission.organisation))).all()
    found: dict[tuple[str, str, str], list] = {}
    for sub in submissions:
        if not can_fill(actor, sub):
            continue
        for item in sub.request.items:
            key = (sub.organisation.code.casefold(), sub.request.period, item.indicator.code.casefold())
            found.setdefault(key, []).append((sub, item.indicator))
    return found


def _resolve(row: _Row, report: ValuesReport, submission: Submission | None, candidates) -> None:
    raw = row.raw
    code = _text(raw.get("indicator_code"))
    org_code = _text(raw.get("organisation_code"))
    period = _text(raw.get("period"))
    errors = []
    for column, text in (("indicator_code", code), ("organisation_code", org_code), ("period", period)):
        if text.startswith("="):
            errors.append(CellError(row.number, column, "Формулы не допускаются: введите значение."))
    if errors:
        report.errors.extend(errors)
        return
    if not code:
        errors.append(CellError(row.number, "indicator_code", "Не указан код показателя."))
    if not org_code:
        errors.append(CellError(row.number, "organisation_code", "Не указан код организации."))
    if not period:
        errors.append(CellError(row.number, "period", "Не указан период."))
    if submission is not None:
        request = submission.request
        if code:
            by_code = {item.indicator.code.casefold(): item.indicator for item in request.items}
            row.indicator = by_code.get(code.casefold())
            if row.indicator is None:
                errors.append(CellError(row.number, "indicator_code",
                                        f"Показатель «{code}» не входит в запрос «{request.title}»."))
        if org_code and org_code.casefold() != submission.organisation.code.casefold():
            errors.append(CellError(row.number, "organisation_code",
                                    f"Организация «{org_code}» не является адресатом этой формы "
                                    f"(ожидается «{submission.organisation.code}»)."))
        if period and period != request.period:
            errors.append(CellError(row.number, "period",
                                    f"Период «{period}» не совпадает с периодом запроса «{request.period}»."))
        row.submission = submission
    elif code and org_code and period:
        matches = candidates.get((org_code.casefold(), period, code.casefold()), [])
        if not matches:
            errors.append(CellError(row.number, "", f"Нет открытого запроса сведений для организации «{org_code}» "
                                                    f"на период «{period}» с показателем «{code}», "
                                                    "на который вы можете ответить."))
        elif len(matches) > 1:
            errors.append(CellError(row.number, "", f"Показатель «{code}» на период «{period}» запрошен у "
                                                    f"организации «{org_code}» в нескольких запросах: "
                                                    "отправьте значения через форму конкретного запроса."))
        else:
            row.submission, row.indicator = matches[0]
    report.errors.extend(errors)


def _check_cells(row: _Row, report: ValuesReport) -> None:
    raw = row.raw
    unit = row.indicator.unit if row.indicator is not None else ""
    value, error = parse_number(raw.get("value"), unit=unit)
    comment = _text(raw.get("comment")) or None
    if error:
        report.errors.append(CellError(row.number, "value", error))
    elif value is not None and row.indicator is not None:
        problem = check_value(value, row.indicator.unit)
        if problem:
            report.errors.append(CellError(row.number, "value", problem))
    if comment and len(comment) > MAX_COMMENT:
        report.errors.append(CellError(row.number, "comment", f"Комментарий длиннее {MAX_COMMENT} символов."))
    if value is None and error is None and comment:
        report.errors.append(CellError(row.number, "value", "Указан комментарий, но не указано значение."))
    row.value = value
    row.comment = comment


def save_values(rows, *, actor, source: str, submission: Submission | None = None,
                save_valid_rows: bool = False, counts: dict[int, tuple] | None = None) -> ValuesReport:
    """Validate and upsert indicator values; see the module docstring for the contract. `counts`: indicator id →
    (organisations met, organisations counted, students counted) behind a value computed from the organisations
    below (IndicatorValue: only the service computing it passes them, never a form, a file or the API); another
    figure saved over the value clears them."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    if submission is not None:
        require_fillable(actor, submission)
    report = ValuesReport()
    parsed = []
    for n, raw in enumerate(rows, 1):
        if not isinstance(raw, dict):
            raise ValidationFailed(f"Строка {n}: ожидается набор полей {', '.join(COLUMNS)}.")
        parsed.append(_Row(number=int(raw.get("_row") or n), raw=raw))
    report.rows = len(parsed)
    candidates = _candidates_for(parsed, actor) if submission is None else {}
    seen: dict[tuple, int] = {}
    for row in parsed:
        _resolve(row, report, submission, candidates)
        _check_cells(row, report)
        if row.indicator is not None and row.submission is not None:
            key = (row.indicator.id, row.submission.organisation_id, row.submission.request.period)
            if key in seen:
                report.errors.append(CellError(row.number, "indicator_code",
                                               f"Показатель «{row.indicator.code}» уже указан в строке {seen[key]}."))
            else:
                seen[key] = row.number
    if report.errors and not save_valid_rows:
        return report
    report.saved_partially = bool(report.errors)
    bad = report.error_rows
    good = [r for r in parsed if r.number not in bad]
    report.skipped = sum(1 for r in good if r.value is None)
    _upsert([r for r in good if r.value is not None], report, actor=actor, source=source, counts=counts or {})
    return report


def _upsert(rows: list[_Row], report: ValuesReport, *, actor, source: str, counts: dict) -> None:
    if not rows:
        return
    keys = {(r.indicator.id, r.submission.organisation_id, r.submission.request.period) for r in rows}
    existing = {(v.indicator_id, v.organisation_id, v.period): v for v in db.session.scalars(
        select(IndicatorValue).where(tuple_(IndicatorValue.indicator_id, IndicatorValue.organisation_id,
                                            IndicatorValue.period).in_(list(keys))))}
    changes = []  # (value row, action, before snapshot)
    touched: dict[int, Submission] = {}
    for r in rows:
        key = (r.indicator.id, r.submission.organisation_id, r.submission.request.period)
        new_value = stored(r.value)
        current = existing.get(key)
        # The counts behind a computed value stay with it while its figure does (the form posts every value back
        # when another is edited); a figure typed over it is the organisation's own, counted as one organisation.
        stored_counts = (current.organisations_met, current.organisations_counted, current.students_counted) \
            if current is not None else (None, None, None)
        kept = stored_counts if current is not None and current.value == new_value else (None, None, None)
        new_counts = counts.get(r.indicator.id, kept)
        if current is not None and current.value == new_value and (current.comment or None) == r.comment and \
                stored_counts == new_counts:
            report.unchanged += 1
            continue
        if current is None:
            current = IndicatorValue(indicator=r.indicator, organisation_id=r.submission.organisation_id,
                                     period=key[2])
            db.session.add(current)
            changes.append((current, "create", None, r.submission))
            report.created += 1
        else:
            changes.append((current, "update", current.audit_snapshot(), r.submission))
            report.updated += 1
        current.value = new_value
        current.comment = r.comment
        current.organisations_met, current.organisations_counted, current.students_counted = new_counts
        current.source = source
        current.submission_id = r.submission.id
        current.entered_by_id = actor.id
        touched[r.submission.id] = r.submission
    for sub in touched.values():
        # Saving values is an edit of the answer: it moves the submission's version, so a form opened
        # before this save (or a concurrent submit) is refused as stale.
        flag_modified(sub, "state")
    db.session.flush()
    for value, action, before, sub in changes:
        chain.record(action=action, object_type="indicator_value",
                     object_id=value.id, actor=actor, actor_role=_role(actor, sub), cycle_id=sub.request.cycle_id,
                     organisation_id=value.organisation_id, before=before,
                     after={**value.audit_snapshot(), "submission_id": sub.id})


def _role(actor, submission: Submission) -> str:
    held = actor.roles_over(submission.organisation) & {"director", "staff", "official", "head"}
    return sorted(held)[0] if held else "system"

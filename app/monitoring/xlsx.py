"""The submission's XLSX form: a pre-filled workbook to download, and the checks on the file uploaded back.

Layout of the sheet «Сведения»: row 1 holds the v1 column names (indicator_code, organisation_code, period,
value, comment) followed by the reference columns indicator_name and unit, hidden (a school sees the Russian
headings); row 2 repeats them in Russian; data start on row 3. Only the value and comment cells are unlocked:
the sheet is protected (without a password) so the key columns are not changed by accident. An uploaded file is
kept as it came, whatever the outcome, under UPLOAD_DIR/monitoring/submission-<id>/, with a JSON note beside it
(who, when, result).
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from pathlib import Path

from flask import current_app
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from app.core.errors import ValidationFailed
from app.core.spreadsheets import append_row, finish_sheet, unescape_cell
from app.core.uploads import overpacked, printable_name
from app.core.timeutil import utcnow
from app.monitoring.values import COLUMNS, unit_rule

SHEET = "Сведения"
KEY_COLUMNS = ("indicator_code", "organisation_code", "period", "value", "comment")
REFERENCE_COLUMNS = {"indicator_name": "Наименование показателя", "unit": "Единица измерения"}
TITLES = {**COLUMNS, **REFERENCE_COLUMNS}
# Header names accepted on upload, case-insensitive: the v1 names, their Russian titles and a few aliases.
ALIASES = {
    **{name: name for name in TITLES},
    **{title.lower(): name for name, title in TITLES.items()},
    "код": "indicator_code", "показатель": "indicator_name", "код оо": "organisation_code",
    "организация": "organisation_code", "значение показателя": "value", "единица": "unit",
    "ед. изм.": "unit", "наименование": "indicator_name",
}
MAX_ROWS = 5000
# Rows of the sheet read at all, blank ones included: a file of a few kilobytes declaring a row 1 048 576 (or a
# dimension of A1:XFD1048576) made the reader walk a million empty rows — seconds of a web worker per upload.
MAX_SHEET_ROWS = 2 * MAX_ROWS
MAX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_MEMBERS = 2000
# openpyxl parses every cell of a row it reads (~7 µs each) and the whole shared-strings table before the first row
# (~9 µs a string): a 1.9 MB form of 148 rows × 16 000 one-digit cells held the web worker 32 s, past gunicorn's
# timeout, and 2 million short strings (5 MB packed, 9:1, no zip bomb) 22 s (attack 15). The form has 7 columns and at
# most MAX_SHEET_ROWS rows are read, so ten cells a row (and as many strings) is room enough; counted in the XML
# before openpyxl sees it.
MAX_CELLS = 10 * MAX_SHEET_ROWS
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")


class UploadRejected(ValidationFailed):
    """The file as a whole cannot be read as the submission's form (nothing in it is looked at further)."""


# --- download ---

def build_workbook(submission, values: dict) -> bytes:
    request = submission.request
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    names = list(KEY_COLUMNS) + list(REFERENCE_COLUMNS)
    append_row(ws, names)
    append_row(ws, [TITLES[n] for n in names])
    bold = Font(bold=True)
    grey = PatternFill("solid", fgColor="EEEEEE")
    editable = PatternFill("solid", fgColor="FFF9DB")
    for cell in list(ws[1]) + list(ws[2]):
        cell.font = bold
        cell.fill = grey
    validations = {
        "percent": DataValidation(type="decimal", operator="between", formula1="0", formula2="100",
                                  error="Значение в процентах должно быть от 0 до 100.", errorTitle="Ошибка"),
        "count": DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0",
                                error="Количество должно быть целым неотрицательным числом.", errorTitle="Ошибка"),
        "non_negative": DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                                       error="Значение не может быть отрицательным.", errorTitle="Ошибка"),
    }
    for dv in validations.values():
        dv.showErrorMessage = True
        ws.add_data_validation(dv)
    for n, item in enumerate(request.items, start=3):
        ind = item.indicator
        current = values.get(ind.id)
        value = float(current.value) if current is not None else None
        if value is not None and value.is_integer():
            value = int(value)
        append_row(ws, [ind.code, submission.organisation.code, request.period, value,
                        current.comment if current is not None else None, ind.name, ind.unit])
        for col in ("D", "E"):
            ws[f"{col}{n}"].protection = Protection(locked=False)
            ws[f"{col}{n}"].fill = editable
        ws[f"F{n}"].alignment = Alignment(wrap_text=True, vertical="top")
        rule = unit_rule(ind.unit)
        if rule in validations:
            validations[rule].add(f"D{n}")
    # Frozen under the Russian header, which repeats on every printed page; landscape on the width of one page; the
    # rows as high as their wrapped indicator names (LibreOffice printed them over the next rows).
    finish_sheet(ws, header_row=2, widths=(16, 18, 10, 14, 40, 70, 12))
    # The machine keys stay in row 1 for the upload (read_rows takes row 1 as the header) but hidden: a school
    # sees the Russian column headings on top, not «indicator_code».
    ws.row_dimensions[1].hidden = True
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False

    info = wb.create_sheet("Инструкция")
    for line in (
        ("Запрос сведений", request.title),
        ("Организация", f"{submission.organisation.code} — {submission.organisation.name}"),
        ("Период", request.period),
        ("Срок представления", request.deadline.strftime("%d.%m.%Y")),
        ("", ""),
        ("Как заполнить", "Введите значения в столбец «Значение» (D) листа «Сведения» числами: десятичная "
                          "часть через запятую, проценты — от 0 до 100, количество — целым числом. Формулы не "
                          "допускаются. Комментарий (E) — по желанию. Столбцы с кодами не изменяйте."),
        ("", "Загрузите файл на странице ответа в системе. Файл с ошибками не сохраняется целиком, если не "
             "отмечено «сохранить корректные строки»."),
    ):
        append_row(info, line)
    # Printed as the data sheet is: on the width of one page, each row as high as its wrapped text (Calc printed the
    # labels on one page and the texts on the next, the instructions' lines over one another).
    finish_sheet(info, header_row=1, widths=(22, 100))
    info.freeze_panes = None
    info.print_title_rows = None
    for row in info.iter_rows():
        row[0].font = bold
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def download_name(submission) -> str:
    request = submission.request
    return f"Сведения по запросу № {request.id} — {submission.organisation.display_name}.xlsx"


# --- upload ---

def _check_container(data: bytes) -> None:
    """Refuse anything that is not a plain XLSX before any XML is parsed: sizes come from the zip directory."""
    if not data:
        raise UploadRejected("Файл пуст.")
    if not data.startswith(b"PK\x03\x04"):
        raise UploadRejected("Файл не является книгой Excel (.xlsx). Скачайте форму из системы и заполните её.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise UploadRejected("Файл не похож на книгу Excel: слишком много частей в архиве.")
            if overpacked(members) is not None:
                raise UploadRejected("Файл отклонён: подозрительно высокая степень сжатия (zip-бомба).")
            if sum(info.file_size for info in members) > MAX_UNCOMPRESSED:
                raise UploadRejected("Файл отклонён: слишком большой объём данных после распаковки.")
            names = {info.filename for info in members}
            if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
                raise UploadRejected("Файл не является книгой Excel (.xlsx).")
            cells = strings = 0
            for info in members:
                if info.filename.endswith((".xml", ".rels")):
                    content = archive.read(info)
                    # XLSX parts never declare a DTD; one that does is an entity-expansion attack.
                    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
                        raise UploadRejected("Файл отклонён: недопустимые XML-конструкции (DTD, сущности).")
                    cells += _count(_CELL, content, MAX_CELLS - cells)
                    strings += _count(_STRING, content, MAX_CELLS - strings)
                    if cells > MAX_CELLS or strings > MAX_CELLS:
                        what = "ячеек" if cells > MAX_CELLS else "текстовых значений"
                        raise UploadRejected(f"Файл отклонён: в книге больше {_grouped(MAX_CELLS)} {what}, а в форме "
                                             f"сведений их не больше {_grouped(7 * MAX_ROWS)}. Удалите лишние столбцы "
                                             "и строки или скачайте форму заново.")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError):
        raise UploadRejected("Файл повреждён или не является книгой Excel (.xlsx).") from None


def _grouped(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")


def _count(pattern: re.Pattern, content: bytes, room: int) -> int:
    """How many times `pattern` occurs in `content`, counting no further than one past `room`."""
    found = 0
    for found, _match in enumerate(pattern.finditer(content), 1):
        if found > room:
            break
    return found


def _cell_value(cell):
    value = cell.value
    if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("=")):
        return f"={str(value).lstrip('=')}"
    # A cell formatted as a percentage holds a fraction: 0.75 shown as 75 %.
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "%" in (cell.number_format or ""):
        return value * 100
    # Text the form was downloaded with comes back as it was saved (a comment «=…» was written as «'=…»).
    return unescape_cell(value)


DAMAGED = "Не удалось прочитать файл Excel: он повреждён или сохранён в другом формате."


def read_rows(data: bytes) -> list[dict]:
    """Rows of the first sheet as v1 dicts with their Excel row number in "_row"; UploadRejected otherwise."""
    _check_container(data)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds of errors on malformed parts
        raise UploadRejected(DAMAGED) from None
    try:
        return _sheet_rows(wb)
    except UploadRejected:
        raise
    except Exception:
        # In read-only mode openpyxl parses the worksheet only while its rows are walked, and looks a cell's style
        # up only when asked: a sheet cut off halfway, a cell naming a style the book lacks, a workbook without
        # a sheet fail here, not when the book opens (attack 15: each a 500 for the director).
        raise UploadRejected(DAMAGED) from None
    finally:
        wb.close()


def _sheet_rows(wb) -> list[dict]:
    """read_rows on an opened workbook: its first sheet's header checked and its rows read."""
    ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
    rows = ws.iter_rows()
    header = next(rows, None)
    if header is None:
        raise UploadRejected("Файл пуст: нет строки заголовка.")
    columns: dict[int, str] = {}
    unknown = []
    for idx, cell in enumerate(header):
        text = str(cell.value).strip().lower() if cell.value is not None else ""
        if not text:
            continue
        name = ALIASES.get(text)
        if name is None:
            unknown.append(str(cell.value))
        elif name in columns.values():
            raise UploadRejected(f"Столбец «{TITLES[name]}» указан в заголовке дважды.")
        else:
            columns[idx] = name
    missing = [TITLES[n] for n in ("indicator_code", "organisation_code", "period", "value")
               if n not in columns.values()]
    if missing:
        raise UploadRejected("В первой строке нет обязательных столбцов: " + ", ".join(f"«{m}»" for m in missing)
                             + ". Используйте форму, скачанную из системы.")
    if unknown:
        raise UploadRejected("Неизвестные столбцы в заголовке: " + ", ".join(f"«{u}»" for u in unknown)
                             + ". Используйте форму, скачанную из системы.")
    result = []
    for read, cells in enumerate(rows, 2):
        if read > MAX_SHEET_ROWS:
            raise UploadRejected(f"На листе больше {MAX_SHEET_ROWS} строк (считая пустые), а в форме сведений "
                                 f"их не больше {MAX_ROWS}: удалите лишние строки или скачайте форму заново.")
        number = cells[0].row if cells and hasattr(cells[0], "row") else len(result) + 2
        record = {name: _cell_value(cells[idx]) for idx, name in columns.items() if idx < len(cells)}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in record.values()):
            continue
        if number == 2 and _is_title_row(record):
            continue
        if len(result) >= MAX_ROWS:
            raise UploadRejected(f"Слишком много строк: не более {MAX_ROWS}.")
        record["_row"] = number
        result.append({k: v for k, v in record.items() if k in KEY_COLUMNS or k == "_row"})
    if not result:
        raise UploadRejected("В файле нет строк со значениями.")
    return result


def _is_title_row(record: dict) -> bool:
    return all(str(record.get(name) or "").strip().lower() == TITLES[name].lower()
               for name in ("indicator_code", "value") if name in record)


# --- keeping the original ---

def upload_dir(submission_id: int) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "monitoring" / f"submission-{submission_id}"


def store_upload(submission_id: int, data: bytes, *, original_name: str, actor) -> Path:
    """Write the file as received, before anything is checked; the user's file name is only recorded."""
    folder = upload_dir(submission_id)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{uuid.uuid4().hex[:12]}.xlsx"
    path.write_bytes(data)
    note(path, original_name=(original_name or "")[:255], user_id=actor.id, user_name=actor.full_name,
         uploaded_at=utcnow().isoformat(), size=len(data), outcome="получен")
    return path


def note(path: Path, **fields) -> None:
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text("utf-8")) if meta_path.exists() else {}
    meta.update(fields)
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")


def list_uploads(submission_id: int) -> list[dict]:
    folder = upload_dir(submission_id)
    if not folder.is_dir():
        return []
    items = []
    for meta_path in sorted(folder.glob("*.json"), reverse=True):
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        meta["stored_as"] = meta_path.with_suffix(".xlsx").name
        # the name as sent is kept in the note; the page lists it without bidi overrides (files stored before too)
        meta["original_name"] = printable_name(meta.get("original_name"))
        items.append(meta)
    return items


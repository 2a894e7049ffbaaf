"""The evidence table as XLSX: one row per document, then the integrity check's findings on a second sheet."""

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from app.core.spreadsheets import append_row
from app.core.timeutil import format_date
from app.evidence.services import stage_names
from app.orgs.services import org_time_zone

HEADER = ["Этап", "Вид документа", "Документ", "Адресат", "Состояние", "Редакция", "Рег. номер", "Дата регистрации",
          "Согласования", "Подписи"]



def _people(items, name, position, when, tz_name, extra=None) -> str:
    parts = []
    for item in items:
        text = getattr(item, name) or ""
        if getattr(item, position, None):
            text = f"{getattr(item, position)} {text}".strip()
        if extra:
            text += f" — {extra(item)}"
        moment = getattr(item, when)
        if moment is not None:
            text += f", {format_date(moment, tz_name)}"
        parts.append(text)
    return "; ".join(parts)


def evidence_xlsx(cycle, lines, defects) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Документы"
    append_row(sheet, [f"Доказательная база цикла: {cycle.title} ({cycle.owner.display_name})"])
    sheet["A1"].font = Font(bold=True)
    append_row(sheet, HEADER)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    decisions = {"approved": "согласовано", "returned": "возвращено на доработку"}
    # Signed and approved on the owner's calendar day (the moments are stored in UTC), as the registration dates are.
    tz_name = org_time_zone(cycle.owner)
    for line in lines:
        doc, reg = line.document, line.registered
        append_row(sheet, (
            f"{line.stage_position}. {line.stage_title}", line.type_title, doc.title,
            doc.addressee.display_name if doc.addressee else None, line.state,
            line.edition.number if line.edition else None, reg.registration_number if reg else None,
            reg.registration_date if reg else None,
            _people(line.approvals, "approver_name", "approver_position", "decided_at", tz_name,
                    extra=lambda a: decisions.get(a.decision, a.decision)),
            _people(line.signatures, "signer_name", "signer_position", "signed_at", tz_name,
                    extra=lambda s: s.meaning)))
        sheet.cell(sheet.max_row, 8).number_format = "DD.MM.YYYY"
    for column, width in zip("ABCDEFGHIJ", (28, 32, 48, 28, 16, 9, 14, 12, 48, 48)):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    checks = book.create_sheet("Проверка целостности")
    append_row(checks, ["Этап", "Что не так", "Объект"])
    for cell in checks[1]:
        cell.font = Font(bold=True)
    names = stage_names(cycle)
    for defect in defects:
        append_row(checks, (names.get(defect.stage, defect.stage), defect.message, defect.object_title))
    if not defects:
        append_row(checks, ["", "Разрывов не найдено", ""])
    for column, width in zip("ABC", (16, 80, 48)):
        checks.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

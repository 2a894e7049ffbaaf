"""The evidence table as XLSX: one row per document, then the integrity check's findings on a second sheet."""

import io

from openpyxl import Workbook

from app.core.spreadsheets import DATE, INTEGER, append_row, finish_sheet, generated_note
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
    # Signed and approved on the owner's calendar day (the moments are stored in UTC), as the registration dates are.
    tz_name = org_time_zone(cycle.owner)
    append_row(sheet, [f"Доказательная база цикла: {cycle.title} ({cycle.owner.display_name}; "
                       f"{generated_note(tz_name)})"])
    append_row(sheet, HEADER)
    decisions = {"approved": "согласовано", "returned": "возвращено на доработку"}
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
    finish_sheet(sheet, header_row=2, widths=(28, 32, 48, 28, 16, 9, 14, 12, 48, 48), formats={6: INTEGER, 8: DATE})
    checks = book.create_sheet("Проверка целостности")
    append_row(checks, ["Этап", "Что не так", "Объект"])
    names = stage_names(cycle)
    for defect in defects:
        append_row(checks, (names.get(defect.stage, defect.stage), defect.message, defect.object_title))
    if not defects:
        append_row(checks, ["", "Разрывов не найдено", ""])
    finish_sheet(checks, header_row=1, widths=(16, 80, 48))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

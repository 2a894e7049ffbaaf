"""Extracts of the audit log (CSV, XLSX) for an auditor: the filtered events in words, oldest first, each with
the exact text its hash is computed over, its hash and the previous event's hash, so the extract can be checked
row by row (SHA-256 of «содержание для проверки» = «хеш») and against the chain (`flask audit verify`)."""

import csv
import io
from datetime import timezone

from openpyxl import Workbook

from app.audit import labels
from app.audit.chain import hashed_content
from app.audit.present import present
from app.auth.roles import ROLES
from app.core.spreadsheets import append_row, csv_writer
from app.core.timeutil import format_datetime

BATCH = 500  # events named per round of queries (app.audit.present: a fixed number of statements per batch)
HEADER = ("№ записи", "время", "время (UTC)", "пользователь", "роль", "действие", "объект", "организация", "цикл",
          "состояние до", "состояние после", "комментарий", "изменения", "содержание для проверки (SHA-256)",
          "хеш предыдущей записи", "хеш записи")


def _role(event) -> str:
    if event.actor_role == "system":
        return "автоматически"
    return ROLES.get(event.actor_role, "") if event.actor_role else ""


def rows(batches, tz_name: str):
    """One list of cells per event; `batches` yields lists of (event, organisation)."""
    for batch in batches:
        for row, (_event, organisation) in zip(present([e for e, _org in batch]), batch):
            e = row.event
            changes = "\n".join(f"{name}: {old} → {new}" if e.before else f"{name}: {new}"
                                for name, old, new in row.changes)
            yield [e.id, format_datetime(e.occurred_at, tz_name),
                   e.occurred_at.replace(tzinfo=timezone.utc).strftime("%d.%m.%Y %H:%M:%S"),
                   e.actor_name or "система", _role(e), labels.action_label(e.action, e.object_type),
                   f"{row.kind} {row.name}" if row.name else row.kind,
                   organisation.display_name if organisation else "", row.cycle[0] if row.cycle else "",
                   labels.state_label(e.from_state, e.object_type) if e.from_state else "",
                   labels.state_label(e.to_state, e.object_type) if e.to_state else "",
                   e.reason or "", changes, hashed_content(e), e.prev_hash, e.hash]


def to_csv(batches, tz_name: str) -> bytes:
    buffer = io.StringIO()
    writer = csv_writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    writer.writerows(rows(batches, tz_name))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM: Excel opens UTF-8 CSV as UTF-8


def to_xlsx(batches, tz_name: str, note: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Журнал аудита")
    append_row(sheet, [note])
    append_row(sheet, HEADER)
    for cells in rows(batches, tz_name):
        append_row(sheet, cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


"""Extracts of the audit log (CSV, XLSX) for an auditor: the filtered events in words, oldest first, each with
the exact text its hash is computed over, its hash and the previous event's hash, so the extract can be checked
row by row (SHA-256 of «содержание для проверки» = «хеш») and against the chain (`flask audit verify`).

`verify_extract` checks a CSV extract without the database (`flask audit verify-extract FILE`): every row's hash
is recomputed over its content, the content's previous hash must be the row's «хеш предыдущей записи», and where two
rows follow each other in the chain (the later one's previous hash is the earlier one's hash) the link must hold;
rows of other objects left out of the extract are gaps, counted, not errors.

A row about an object the exporting reader may not read (its title withheld on the page, app.audit.present) carries
neither its changes nor its comment nor its hashed content — the content is the object's stored fields, the very text
withheld: «(вне вашей области доступа)» stands in all three. Such a row cannot be recomputed; it is counted as withheld,
its number still has to follow the row before, its hash is still the next row's previous hash (so it is not dropped or
moved unseen), and `--database` still compares its hash with the log. An auditor, who reads every object of the
region, gets every content."""

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from openpyxl import Workbook

from app.audit import labels
from app.audit.chain import hashed_content
from app.audit.present import present
from app.auth.roles import ROLES
from app.core.spreadsheets import append_row, csv_writer, print_setup, unescape_cell
from app.core.timeutil import format_datetime

BATCH = 500  # events named per round of queries (app.audit.present: a fixed number of statements per batch)
HEADER = ("№ записи", "время", "время (UTC)", "пользователь", "роль", "действие", "объект", "организация", "цикл",
          "состояние до", "состояние после", "комментарий", "изменения", "содержание для проверки (SHA-256)",
          "хеш предыдущей записи", "хеш записи")


def _role(event) -> str:
    if event.actor_role == "system":
        return "автоматически"
    return ROLES.get(event.actor_role, "") if event.actor_role else ""


def _states(event) -> tuple[str, str]:
    """«состояние до», «состояние после»: only for an event that changed its object's state (the history's arrow,
    labels.moves_state); an edit or a same-state step (a measure rescheduled while «запланировано») only notes the
    state the object was in, which read as a transition that never happened."""
    if not labels.moves_state(event):
        return "", ""
    return (labels.state_label(event.from_state, event.object_type) if event.from_state else "",
            labels.state_label(event.to_state, event.object_type) if event.to_state else "")


def rows(batches, tz_name: str):
    """One list of cells per event; `batches` yields lists of (event, organisation)."""
    for batch in batches:
        for row, (_event, organisation) in zip(present([e for e, _org in batch]), batch):
            e = row.event
            changes = row.withheld or "\n".join(f"{name}: {old} → {new}" if e.before else f"{name}: {new}"
                                                 for name, old, new in row.changes)
            yield [e.id, format_datetime(e.occurred_at, tz_name),
                   e.occurred_at.replace(tzinfo=timezone.utc).strftime("%d.%m.%Y %H:%M:%S"),
                   e.actor_name or "система", _role(e), labels.action_label(e.action, e.object_type),
                   f"{row.kind} {row.name}" if row.name else row.kind,
                   organisation.display_name if organisation else "", row.cycle[0] if row.cycle else "",
                   *_states(e),
                   row.reason, changes, row.withheld or hashed_content(e), e.prev_hash, e.hash]


def write_csv(batches, tz_name: str, out) -> None:
    """The extract as CSV into `out`, a binary file: UTF-8 with a BOM (Excel opens UTF-8 CSV as UTF-8 with it),
    written row by row, so only one batch of events is in memory at a time."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    text.write("\ufeff")
    writer = csv_writer(text, delimiter=";", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    writer.writerows(rows(batches, tz_name))
    text.flush()
    text.detach()  # `out` stays open for the caller


def write_xlsx(batches, tz_name: str, note: str, out) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Журнал аудита")
    # Before the first row (write-only): widths, the frozen header repeated on every printed page, landscape on the
    # width of the page — the columns at Excel's default width cut every name and action.
    print_setup(sheet, header_row=2, widths=(9, 16, 19, 26, 22, 22, 36, 24, 24, 16, 16, 30, 40, 40, 20, 20))
    # The page prints what a person reads (№ … изменения); the content and hashes that check the chain stay in the
    # file and its CSV — on the width of one page with them the text came out a few points high.
    sheet.print_area = "A1:M1048576"
    append_row(sheet, [note], bold=True)
    append_row(sheet, HEADER, bold=True)
    for cells in rows(batches, tz_name):
        append_row(sheet, cells)
    book.save(out)


# --- checking an extract -------------------------------------------------------------------------------------------

@dataclass
class ExtractCheck:
    ok: bool
    checked: int  # rows checked before the first broken one (all of them when ok)
    linked: int = 0  # rows whose previous hash is the row before them
    gaps: int = 0  # rows whose predecessor in the chain is not in the extract
    withheld: int = 0  # rows whose content was withheld from the exporting reader: not recomputed
    line: int | None = None  # the broken row's line in the file (the header is line 1)
    event_id: str | None = None
    reason: str | None = None


def _utc_text(iso: str) -> str | None:
    try:
        return datetime.fromisoformat(iso).strftime("%d.%m.%Y %H:%M:%S")
    except (TypeError, ValueError):
        return None


def _content_problem(content: str, prev_hash: str, row_hash: str, utc_text: str) -> str | None:
    """Why a row's hashed content does not hold with its hash, previous hash and time, or None."""
    if hashlib.sha256(content.encode("utf-8")).hexdigest() != row_hash:
        return "хеш записи не совпадает с её содержанием: содержание или хеш изменены"
    try:
        hashed = json.loads(content)
    except ValueError:
        return "содержание записи — не JSON"
    if not isinstance(hashed, dict) or hashed.get("prev_hash") != prev_hash:
        return "хеш предыдущей записи не совпадает с указанным в содержании"
    if _utc_text(hashed.get("occurred_at")) != utc_text:
        return "время записи не совпадает с её содержанием"
    return None


def verify_extract(lines, stored_hash=None) -> ExtractCheck:
    """Check a CSV extract written by to_csv (an iterable of text lines, BOM stripped or not). `stored_hash`:
    fn(event id) → the hash the log holds for it (or None), to check each row against the database as well; a
    row rewritten together with its hash is otherwise caught only where the next row of the extract links to it."""
    reader = csv.reader(lines, delimiter=";")
    header = next(reader, None)
    if header is not None and header[:1] and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    if header is None or tuple(header) != HEADER:
        return ExtractCheck(False, 0, line=1, reason="это не выписка журнала аудита: заголовок не совпадает")
    id_col, utc_col, content_col, prev_col, hash_col = (HEADER.index("№ записи"), HEADER.index("время (UTC)"),
                                                        HEADER.index("содержание для проверки (SHA-256)"),
                                                        HEADER.index("хеш предыдущей записи"),
                                                        HEADER.index("хеш записи"))
    result = ExtractCheck(True, 0)
    previous_hash, previous_id = None, None

    def broken(line, event_id, reason):
        return ExtractCheck(False, result.checked, result.linked, result.gaps, withheld=result.withheld, line=line,
                            event_id=event_id, reason=reason)

    for line, raw in enumerate(reader, start=2):
        if not any(raw):
            continue
        if len(raw) != len(HEADER):
            return broken(line, None, f"в строке {len(raw)} столбцов вместо {len(HEADER)}")
        row = [unescape_cell(cell) for cell in raw]
        event_id, content, prev_hash, row_hash = row[id_col], row[content_col], row[prev_col], row[hash_col]
        if content == labels.WITHHELD_TEXT:
            result.withheld += 1
        else:
            problem = _content_problem(content, prev_hash, row_hash, row[utc_col])
            if problem:
                return broken(line, event_id, problem)
        # 0–9 only: `str.isdigit` says yes to «²», on which int() raised (a traceback, attack 8)
        if not (event_id.isascii() and event_id.isdigit()) or (
                previous_id is not None and int(event_id) <= previous_id):
            return broken(line, event_id, "номера записей должны возрастать")
        if stored_hash is not None and stored_hash(int(event_id)) != row_hash:
            return broken(line, event_id, "запись не совпадает с журналом аудита в базе данных")
        if previous_hash is not None and prev_hash == previous_hash:
            result.linked += 1
        elif previous_hash is not None:
            result.gaps += 1
        previous_hash, previous_id = row_hash, int(event_id)
        result.checked += 1
    return result

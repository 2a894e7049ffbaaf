"""Spreadsheet output that cannot carry a formula (CSV and formula injection, OWASP ASVS 5.0 1.2.10).

Every CSV and XLSX the system writes goes through this module: a text cell whose first character would make a
spreadsheet evaluate it (`= + - @`, a tab, a line break, a NUL) is written with a leading apostrophe, the
escape Excel and LibreOffice themselves use. Numbers stay numbers: a cell that is a plain number, also in
text such as «-5» or «+12,5», is left as it is. The escape is reversible, so a value that comes back in a file
we produced (the submission form) is read as the user typed it: `unescape_cell(safe_cell(v)) == v` for
every string.
"""

from __future__ import annotations

import copy
import csv
import re
import weakref
from datetime import date

from app.core.timeutil import format_datetime, utcnow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")
# The control characters XML 1.0 cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE, without importing openpyxl).
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _needs_escape(text: str) -> bool:
    # Apostrophes already at the start are looked through, so that a value starting with "'=" gets one more
    # and the escape stays reversible.
    core = text.lstrip("'")
    return core[:1] in FORMULA_STARTS and core[:1] != "" and _PLAIN_NUMBER.fullmatch(core) is None


def safe_cell(value):
    """The value to write into a spreadsheet cell: strings that would start a formula get a leading "'"."""
    if isinstance(value, str) and _needs_escape(value):
        return "'" + value
    return value


def unescape_cell(value):
    """Undo safe_cell on a value read back from a file the system wrote."""
    if isinstance(value, str) and value.startswith("'") and _needs_escape(value[1:]):
        return value[1:]
    return value


class SafeCsvWriter:
    """csv.writer with every field passed through safe_cell."""

    def __init__(self, fh, **kwargs):
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(fh, **kwargs) -> SafeCsvWriter:
    return SafeCsvWriter(fh, **kwargs)


def xlsx_cell(value):
    """safe_cell for XLSX, which also cannot hold control characters (openpyxl refuses them): they are dropped."""
    if isinstance(value, str):
        value = _XML_ILLEGAL.sub("", value)
    return safe_cell(value)


def append_row(sheet, values, *, bold: bool = False, formats: dict[int, str] | None = None,
               wrap: bool | frozenset | set = False) -> None:
    """Worksheet.append with every value passed through xlsx_cell: no string becomes a formula cell. `bold`: a
    header row; `formats`: {column number (1-based): number format} for the row's numbers and dates; `wrap`: the
    text wraps within its column (True: every cell; a set: those column numbers). Styled cells are WriteOnlyCells
    (all a write-only worksheet accepts), made only where a style is asked: a cell object per value made a
    region's 6,400-row export four times slower."""
    cells = [xlsx_cell(value) for value in values]
    if bold or formats or wrap:
        # openpyxl loaded here, as by every caller that has a worksheet: a CSV-only caller never pays for it.
        from openpyxl.cell import WriteOnlyCell

        styled = []
        for column, value in enumerate(cells, 1):
            number = formats.get(column) if formats and value is not None and not isinstance(value, (str, bool)) \
                else None
            wraps = wrap is True or (bool(wrap) and column in wrap)
            # In a row whose texts wrap every cell stands at the top: a short code at the foot of a two-line row
            # read as the next row's on paper («MUN01» under the municipality's first line).
            top = bool(wrap)
            if not (bold or number or top):
                styled.append(value)
                continue
            cell = WriteOnlyCell(sheet, value=value)
            # a copy of the style's indices, registered once per workbook and style: setting font / alignment per
            # cell looked each up again (2.3× the time of plain values over 6,400 rows; now ≈ 1.1×)
            cell._style = copy.copy(_style_of(sheet, bold, wraps, number, top=top))
            styled.append(cell)
        cells = styled
    sheet.append(cells)


_STYLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _style_of(sheet, bold: bool, wraps: bool, number: str | None, *, top: bool = False):
    """The style array (font, alignment, number format indices) of a styled cell of `sheet`'s workbook: `wraps`
    wraps its text at the top of the cell, `top` only puts it there."""
    # Local: openpyxl loads only when a sheet is written (a CSV-only caller never pays for it).
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    known = _STYLES.setdefault(sheet.parent, {})
    key = (bold, wraps, number, top)
    if key not in known:
        model = WriteOnlyCell(sheet)
        if bold:
            model.font = Font(bold=True)
        if wraps or top:
            model.alignment = Alignment(wrap_text=wraps or None, vertical="top")
        if number:
            model.number_format = number
        known[key] = model._style
    return known[key]


# --- a sheet a person prints -----------------------------------------------------------------------------------

DECIMAL_1 = "0.0"  # shares and means: 8,0 beside 57,2 (General printed «8» under «57,2»)
INTEGER = "0"
DATE = "DD.MM.YYYY"
DATETIME = "DD.MM.YYYY HH:MM"


def generated_note(tz_name: str) -> str:
    """«сформировано 06.12.2026 08:30» on the organisation's clock: a printed table says as of when it holds."""
    return f"сформировано {format_datetime(utcnow(), tz_name)}"


def print_setup(sheet, *, header_row: int, widths=()) -> None:
    """Column widths, the header frozen, and a page setup that prints: A4 landscape, every column on the width of
    the page (as many pages down as it takes), the header row repeated on every page. A write-only sheet takes it
    before its first row. Without it a 16-column table printed over three pages across, the header on the first
    only."""
    # Local: openpyxl loads only when a sheet is written (a CSV-only caller never pays for it).
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = 9  # A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


def finish_sheet(sheet, *, header_row: int, widths=(), formats: dict[int, str] | None = None) -> None:
    """A filled (not write-only) sheet made printable: `print_setup`, the title rows and the header bold, the data
    cells wrapped and top-aligned (a long name takes lines, not the next column), and `formats` — {column number
    (1-based): number format} — on the numbers and dates of those columns."""
    # Local: openpyxl loads only when a sheet is written (a CSV-only caller never pays for it).
    from openpyxl.styles import Alignment, Font

    print_setup(sheet, header_row=header_row, widths=_words_fit(sheet, header_row, widths))
    bold = Font(bold=True)
    for row in sheet.iter_rows(min_row=1, max_row=header_row):
        for cell in row:
            cell.font = bold
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in sheet.iter_rows(min_row=header_row):
        lines = 1
        for cell in row:
            cell.alignment = wrap
            fmt = (formats or {}).get(cell.column)
            if fmt and row[0].row > header_row and isinstance(cell.value, (int, float, date)) \
                    and not isinstance(cell.value, bool):
                cell.number_format = fmt
            if isinstance(cell.value, str):
                lines = max(lines, _lines_in(cell.value, sheet.column_dimensions[cell.column_letter].width or 8.43))
        # LibreOffice does not grow a row for its wrapped text on opening the file: the lines of a long name were
        # printed over the next rows. The height is set from the text (a line ≈ 15 pt at the default 11 pt).
        if lines > 1:
            sheet.row_dimensions[row[0].row].height = 15 * lines


def _words_fit(sheet, header_row: int, widths) -> list[float]:
    """`widths`, each widened to hold the longest word of its column: LibreOffice breaks a word that does not fit
    in the middle — the printed evidence list read «Редакци/я», «Дата регистраци/и», the cycles «Просроченн/ых»,
    the dashboard «достигнут/а». A bold header letter is a little wider; a word of more than 30 letters (a link)
    breaks anyway."""
    widths = list(widths)
    for row in sheet.iter_rows(min_row=header_row):
        for cell in row:
            if isinstance(cell.value, str) and cell.column <= len(widths):
                widths[cell.column - 1] = max(widths[cell.column - 1],
                                              word_width(cell.value, bold=cell.row == header_row))
    return widths


def word_width(text: str, *, bold: bool = False) -> float:
    """The column width that holds the longest word of `text` whole (see _words_fit)."""
    longest = min(30, max((len(word) for word in text.split()), default=0))
    return round(longest * (1.2 if bold else 1.1) + 2, 1)


def header_widths(names, widths) -> list[float]:
    """A write-only sheet's `widths`, each widened to hold the longest word of its column's header `names` (the
    data rows are not known before the widths are set)."""
    return [max(width, word_width(name, bold=True)) if isinstance(name, str) else width
            for width, name in zip(widths, list(names) + [None] * (len(widths) - len(names)))]


def fit_row_height(sheet, row: int, values, widths) -> None:
    """The height of a write-only sheet's wrapped row `row` from its `values`, set before the row is written:
    LibreOffice does not grow a row for its wrapped text and printed the lines over the next rows."""
    lines = max([_lines_in(value, width) for value, width in zip(values, widths) if isinstance(value, str)] + [1])
    if lines > 1:
        sheet.row_dimensions[row].height = 15 * lines


def _lines_in(text: str, width: float) -> int:
    """About how many lines `text` takes wrapped in a column `width` characters wide (words are not split, so a
    line holds a little less than the width; Cyrillic letters are a little wider than the digit the width
    counts)."""
    per_line = max(1, int(width * 0.95))
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))

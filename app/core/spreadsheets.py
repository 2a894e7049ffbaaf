"""Spreadsheet output that cannot carry a formula (CSV and formula injection, OWASP ASVS 5.0 1.2.10).

Every CSV and XLSX the system writes goes through this module: a text cell whose first character would make a
spreadsheet evaluate it (`= + - @`, a tab, a line break, a NUL) is written with a leading apostrophe, the
escape Excel and LibreOffice themselves use. Numbers stay numbers: a cell that is a plain number, also in
text such as «-5» or «+12,5», is left as it is. The escape is reversible, so a value that comes back in a file
we produced (the submission form) is read as the user typed it: `unescape_cell(safe_cell(v)) == v` for
every string.
"""

from __future__ import annotations

import csv
import re

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


def append_row(sheet, values, *, bold: bool = False) -> None:
    """Worksheet.append with every value passed through xlsx_cell: no string becomes a formula cell. `bold`: a
    header row (styled cells, which a write-only worksheet accepts only as WriteOnlyCell)."""
    cells = [xlsx_cell(value) for value in values]
    if bold:
        # openpyxl loaded here, as by every caller that has a worksheet: a CSV-only caller never pays for it.
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        font = Font(bold=True)
        styled = []
        for value in cells:
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = font
            styled.append(cell)
        cells = styled
    sheet.append(cells)

"""The row-level error report of an import: CSV in UTF-8 with BOM and `;` (opens in Excel as is),
written as errors are found, so a file with a million bad rows does not fill the memory. Every field, the
column name too (an unknown header comes from the uploaded file), is written through the safe CSV writer: a
value copied from the file must not become a live formula when the report is opened in Excel."""

from pathlib import Path

from app.core.spreadsheets import csv_writer

REPORT_HEADER = ("Строка", "Столбец", "Значение", "Ошибка")
# The report keeps this many rows; the count of all errors is always exact.
MAX_REPORTED = 100_000
FIRST_KEPT = 20
MAX_KINDS = 200


class ErrorReport:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._fh = None
        self._writer = None
        self.count = 0
        self.rows_with_errors = 0
        self._last_row = None
        self.first: list[tuple] = []  # the first few errors, for the summary and the CLI
        # how many times each (column, message) came, for the summary: a file with one mistake repeated on every
        # row is said in one sentence (bounded: past MAX_KINDS distinct ones, only those already seen are counted)
        self.kinds: dict[tuple[str, str], int] = {}

    def add(self, row_no, column: str, value, message: str) -> None:
        self.count += 1
        if row_no != self._last_row or row_no is None:
            self.rows_with_errors += 1
            self._last_row = row_no
        value = "" if value is None else str(value)
        if len(value) > 200:
            value = value[:200] + "…"
        entry = ("" if row_no is None else row_no, column, value, message)
        kind = (column or "", message)
        if kind in self.kinds or len(self.kinds) < MAX_KINDS:
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if len(self.first) < FIRST_KEPT:
            self.first.append(entry)
        if self.count > MAX_REPORTED:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "w", encoding="utf-8-sig", newline="")
            self._writer = csv_writer(self._fh, delimiter=";")
            self._writer.writerow(REPORT_HEADER)
        self._writer.writerow(entry)

    def close(self) -> None:
        if self._writer is not None and self.count > MAX_REPORTED:
            self._writer.writerow(("", "", "", f"… и ещё ошибок: {self.count - MAX_REPORTED} (в отчёт включены "
                                                f"первые {MAX_REPORTED})"))
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def discard(self) -> None:
        self.close()
        if self.path.exists():
            self.path.unlink()

    def most_common(self) -> tuple[str, str, int] | None:
        """(column, message, how many times) of the error that came most often."""
        if not self.kinds:
            return None
        (column, message), count = max(self.kinds.items(), key=lambda item: item[1])
        return column, message, count

    def __bool__(self) -> bool:
        return self.count > 0


def format_error(entry) -> str:
    row_no, column, value, message = entry
    where = f"строка {row_no}" if row_no != "" else "файл"
    if column:
        where += f", столбец «{column}»"
    shown = f" (значение «{value}»)" if value != "" else ""
    return f"{where}: {message}{shown}"

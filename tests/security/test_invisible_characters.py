"""Characters that print as nothing (a zero-width space, a soft hyphen, a right-to-left mark, a BOM) copied into a
results file along with a value: «S-0001» followed by a zero-width space was stored as another student of the same
work and school, and «Математика» with one as another work — the same rows loaded a second time, each shown exactly
like the first. Imports read a cell without them."""

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from tests.test_imports import HEADER, import_results, result_row, results_csv, run_file, uploads  # noqa: F401

INVISIBLE = ["\u200b", "\u00ad", "\u200f", "\u2060", "\ufeff", "\u202e"]


def _xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append([row[h] for h in HEADER])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_same_rows_with_invisible_characters_change_nothing(import_results, db_session, fmt):  # noqa: F811
    from app.imports.models import AssessmentResult

    rows = [result_row(n) for n in range(1, len(INVISIBLE) + 1)]
    assert import_results(results_csv(rows)).status == "done"
    marked = [{**row, "student_code": row["student_code"] + mark, "subject": "Мате" + mark + "матика",
               "school_code": mark + row["school_code"]} for row, mark in zip(rows, INVISIBLE)]
    content, name = (results_csv(marked), "again.csv") if fmt == "csv" else (_xlsx(marked), "again.xlsx")
    again = import_results(content, filename=name)
    assert again.status == "unchanged", again.message
    assert db_session.scalar(select(func.count(AssessmentResult.id))) == len(rows)
    assert db_session.scalars(select(AssessmentResult.subject).distinct()).all() == ["Математика"]


def test_a_header_with_an_invisible_character_is_recognised(import_results):  # noqa: F811
    header = [("\u200b" + h) if h == "school_code" else h for h in HEADER]
    run = import_results(results_csv([result_row(1)], header=header))
    assert run.status == "done", run.message

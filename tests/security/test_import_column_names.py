"""The error report of a results import names every column in Russian, also one the file does not have.

A file without the «максимальный балл» column (optional when the work's declared structure gives every task's
maximum) for a work whose structure is not declared was refused with the report's «Столбец» reading
«max_score», the column's internal key (attack 11)."""

from tests.test_imports import import_results, report_rows, results_csv, run_file, uploads  # noqa: F401 (fixtures)

HEADER = ["Процедура", "Год", "Предмет", "Параллель", "Код ОО", "Код участника", "1К1", "2", "Первичный балл",
          "Отметка"]


def test_a_missing_maximum_is_named_in_russian(import_results, uploads):  # noqa: F811
    content = results_csv([["ВПР", "2025", "История", "6", "SCH-A", "V-1", "1", "1", "2", "3"]], header=HEADER,
                          delimiter=";")
    run = import_results(content)
    assert run.status == "rejected"
    rows = report_rows(run, uploads)
    assert [row[1] for row in rows] == ["максимальный балл"]
    assert "не указан максимальный балл" in rows[0][3]
    assert not any("max_score" in cell for row in rows for cell in row)

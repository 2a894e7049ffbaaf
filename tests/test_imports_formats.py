# ruff: noqa: F811
"""The result files a region really gets (issue 15 §1a): ВПР result forms with the work's own task labels
(1К1, 3(1), 5.2 …) and a variant column, and the regional processing centre's (РЦОИ) ОГЭ/ЕГЭ form with part 1
as a string of marks and part 2 as points with their maxima. Labels and maxima are kept per work, checked
against the declared structures (app/imports/data/work_structures.yaml), and refused with the row and the
label when they do not match."""

import csv
import io
from pathlib import Path

from sqlalchemy import select

# The import fixtures of test_imports, shared by importing them (tests name them as parameters).
from tests.test_imports import count, import_results, report_rows, run_file, uploads  # noqa: F401

DATA = Path(__file__).parent / "data"


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _structure(procedure, subject, grade):
    from app.extensions import db
    from app.imports.models import WorkStructure

    return db.session.scalar(select(WorkStructure).where(WorkStructure.procedure == procedure,
                                                         WorkStructure.subject == subject,
                                                         WorkStructure.grade == grade))


def _results(subject):
    from app.extensions import db
    from app.imports.models import AssessmentResult

    return db.session.scalars(select(AssessmentResult).where(AssessmentResult.subject == subject)
                              .order_by(AssessmentResult.id)).all()


def test_a_vpr_result_form_with_the_works_own_labels_is_imported_in_file_order(import_results):
    from app.imports.structures import declared

    rows = _rows(DATA / "results_vpr_form.csv")
    run = import_results((DATA / "results_vpr_form.csv").read_bytes(), filename="results_vpr_form.csv")
    assert run.status == "done", run.message
    assert run.rows_inserted == len(rows) - 1
    structure = _structure("ВПР", "Русский язык", 4)
    expected = declared("ВПР", 2025, "Русский язык", 4)
    assert structure.labels == list(expected.labels) == rows[0][8:30]
    assert structure.maxima == list(expected.maxima) and structure.source == "declared"
    stored = _results("Русский язык")
    # no max_score column: the work's maximum is the sum of its tasks' maxima; scores kept in file order
    assert {r.max_score for r in stored} == {sum(expected.maxima)}
    assert stored[0].task_scores == [int(v) for v in rows[1][8:30]]
    assert stored[0].primary_score == int(rows[1][30])


def test_a_label_outside_the_declared_structure_is_refused_with_its_row_and_label(import_results, uploads):
    from app.imports.models import AssessmentResult

    rows = _rows(DATA / "results_vpr_form.csv")
    rows[0][10] = "3(3)"  # the form's «2» column renamed into a task the work does not have
    run = import_results(_csv(rows))
    assert run.status == "rejected" and count(AssessmentResult) == 0
    found = report_rows(run, uploads)
    assert found[0][0] == "2" and found[0][1] == "3(3)"
    assert "задание «3(3)» не входит в структуру работы (ВПР 2025 г., Русский язык, 4 класс)" in found[0][3]
    assert _structure("ВПР", "Русский язык", 4) is None


def test_a_missing_task_of_the_structure_is_refused(import_results, uploads):
    rows = _rows(DATA / "results_vpr_form.csv")
    for row in rows:
        del row[29]  # 15(2): one point in every row moves into the primary score check too
    for row in rows[1:]:
        row[29] = str(sum(int(v) for v in row[8:29]))
    run = import_results(_csv(rows))
    assert run.status == "rejected"
    assert "нет столбца задания «15(2)»" in report_rows(run, uploads)[0][3]


def test_a_score_above_a_tasks_maximum_is_refused_naming_the_task(import_results, uploads):
    rows = _rows(DATA / "results_vpr_form.csv")
    rows[2][8] = "5"  # 1К1 is worth 4 points
    rows[2][30] = str(sum(int(v) for v in rows[2][8:30]))
    run = import_results(_csv(rows))
    assert run.status == "rejected"
    found = report_rows(run, uploads)
    assert [(r[0], r[1], r[3]) for r in found] == [("3", "1К1", "балл за задание «1К1» больше его максимума (4)")]


def test_an_undeclared_work_keeps_the_labels_of_its_file_and_a_file_with_other_labels_is_refused(import_results,
                                                                                                uploads):
    header = ["procedure", "year", "subject", "grade", "school_code", "student_code", "1", "2(1)", "2(2)", "3К1",
              "primary_score", "max_score", "mark"]
    first = [header, ["ВПР", "2025", "Окружающий мир", "4", "SCH-A", "E-1", "1", "0", "1", "2", "4", "10", "3"],
             ["ВПР", "2025", "Окружающий мир", "4", "SCH-B", "E-2", "1", "1", "1", "0", "3", "10", "3"]]
    run = import_results(_csv(first))
    assert run.status == "done", run.message
    structure = _structure("ВПР", "Окружающий мир", 4)
    assert (structure.labels, structure.maxima, structure.source) == (["1", "2(1)", "2(2)", "3К1"],
                                                                      [None] * 4, "file")
    other = [header[:6] + ["1", "2", "3", "4"] + header[10:],
             ["ВПР", "2025", "Окружающий мир", "4", "SCH-A", "E-3", "1", "0", "1", "2", "4", "10", "3"]]
    again = import_results(_csv(other))
    assert again.status == "rejected"
    assert "не совпадают с загруженными ранее (импорт № " in report_rows(again, uploads)[0][3]


def test_an_rcoi_file_reads_part_1_marks_and_part_2_points_with_their_maxima(import_results):
    from app.imports.structures import declared

    rows = _rows(DATA / "results_rcoi.csv")
    run = import_results((DATA / "results_rcoi.csv").read_bytes())
    assert run.status == "done", run.message
    stored = _results("Математика")
    expected = declared("ОГЭ", 2025, "Математика", 9)
    assert len(stored) == len(rows) - 1 and {r.max_score for r in stored} == {31}
    part1, part2 = rows[1][6], rows[1][7]
    assert stored[0].task_scores[:19] == [1 if c == "+" else 0 for c in part1]
    assert stored[0].task_scores[19:] == [int(p[0]) for p in part2.split(")") if p]
    structure = _structure("ОГЭ", "Математика", 9)
    assert structure.labels == list(expected.labels) and structure.maxima == list(expected.maxima)


def test_rcoi_rows_that_do_not_fit_the_work_are_refused_with_the_reason(import_results, uploads):
    from app.imports.models import AssessmentResult

    rows = _rows(DATA / "results_rcoi.csv")
    rows[2][6] = rows[2][6][:-1]  # 18 answers in part 1 instead of 19
    rows[3][7] = "3(2)" + rows[3][7][4:]  # 3 points of 2
    rows[4][6] = "+a" + rows[4][6][2:]
    run = import_results(_csv(rows))
    assert run.status == "rejected" and count(AssessmentResult) == 0
    found = {r[0]: r for r in report_rows(run, uploads)}
    assert "в работе 24 задания, а в структуре работы (ОГЭ 2025 г., Математика, 9 класс) — 25" in found["3"][3]
    assert found["4"][3] == "задание 1 части 2: балл 3 больше максимального (2)"
    assert found["5"][3].startswith("недопустимый знак «a» в позиции 2")


def test_an_undeclared_rcoi_work_takes_part_2_maxima_from_the_file(import_results, uploads):
    header = ["Процедура", "Год", "Предмет", "Класс", "Код ОО", "Код участника", "Часть 1", "Часть 2",
              "Первичный балл", "Максимальный балл", "Отметка"]  # ЕГЭ: no 2–5 mark
    rows = [header, ["ЕГЭ", "2025", "Информатика", "11", "SCH-A", "I-1", "++-", "1(2)0(3)", "3", "8", ""],
            ["ЕГЭ", "2025", "Информатика", "11", "SCH-A", "I-2", "+--", "2(2)3(3)", "6", "8", ""],
            ["ЕГЭ", "2025", "Информатика", "11", "SCH-B", "I-3", "+--", "2(2)3(4)", "6", "8", ""]]
    run = import_results(_csv(rows))
    assert run.status == "rejected"
    found = report_rows(run, uploads)
    assert [r[0] for r in found] == ["4"], found  # its part 2 maxima differ from row 2's
    del rows[3]
    run = import_results(_csv(rows))
    assert run.status == "done", run.message
    structure = _structure("ЕГЭ", "Информатика", 11)
    assert structure.labels == ["1", "2", "3", "4", "5"] and structure.maxima == [None, None, None, 2, 3]


def test_task_columns_and_rcoi_parts_in_one_file_are_refused(import_results):
    rows = [["procedure", "year", "subject", "grade", "school_code", "student_code", "task_1", "часть 1",
             "primary_score", "max_score", "mark"],
            ["ОГЭ", "2025", "Химия", "9", "SCH-A", "C-1", "1", "+", "1", "2", "3"]]
    run = import_results(_csv(rows))
    assert run.status == "rejected" and "оставьте что-то одно" in run.message

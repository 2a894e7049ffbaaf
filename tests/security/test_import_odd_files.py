"""Odd files into the imports (attack 8 on the running server, `flask import organisations`):

- a UTF-8 file with one broken byte sequence (a damaged copy, two files glued together) was taken for Windows-1251,
  which maps every byte, and every name of the file was stored as «РЁРєРѕР»Р°»;
- a number written in other digits than 0–9 (a full-width «１２３» typed with an IME, Arabic-Indic «٣٥») was read as
  the number, as `int` reads it: the organisation got 123 pupils nobody typed, and results the same.
Both are refused with the reason, nothing saved."""

import csv
import io
from pathlib import Path

import pytest

from tests.test_imports import (  # noqa: F401  (fixtures)
    count, import_orgs, import_results, orgs_csv, result_row, results_csv, run_file, uploads,
)

BROKEN = b"\xed\xa0\x80"  # an encoded surrogate: never valid UTF-8


def test_a_damaged_utf8_file_is_refused_naming_the_line(import_orgs, db_session):  # noqa: F811
    from app.orgs.models import Organisation

    content = orgs_csv("ODD-1;МОУ «Школа № 1»;Школа № 1;school;MUN;city;0;120;ordinary;1;1;1",
                       "ODD-2;МОУ «Школа № 2»;Школа № 2;school;MUN;city;0;130;ordinary;1;1;1").decode("cp1251")
    lines = content.encode("utf-8").split(b"\r\n")
    lines[2] = lines[2].replace("Школа № 2»".encode(), "Шк".encode() + BROKEN + "ола № 2»".encode())
    run = import_orgs(b"\r\n".join(lines))
    assert run.status == "rejected", run.message
    assert "UTF-8" in run.message and "в строке 3" in run.message
    assert db_session.query(Organisation).filter(Organisation.code.like("ODD-%")).count() == 0


def test_a_windows_1251_file_of_capitals_and_yo_is_still_read(import_orgs, db_session):  # noqa: F811
    from app.orgs.models import Organisation

    # «ИЁ», «Я«» are valid UTF-8 byte pairs in Windows-1251: a few of them do not make the file UTF-8.
    run = import_orgs(orgs_csv("ODD-3;МОУ «ПРИЁМНАЯ ШКОЛА»;«ПРИЁМНАЯ»;school;MUN;city;0;120;ordinary;1;1;1"))
    assert run.status == "done", run.message
    assert db_session.query(Organisation).filter_by(code="ODD-3").one().name == "МОУ «ПРИЁМНАЯ ШКОЛА»"


def test_a_koi8_r_file_is_read_in_koi8_r_not_as_windows_1251(import_orgs, db_session, world, client,  # noqa: F811
                                                             login):
    from app.orgs.models import Organisation

    # It was read as Windows-1251: «МОУ "Школа и"» stored as «нпх "ыЛПМБ и"».
    line = 'ODD-4;МОУ "Средняя школа имени Пушкина";Школа Пушкина;school;MUN;city;0;120;ordinary;1;1;1'
    run = import_orgs(orgs_csv(line).decode("cp1251").encode("koi8-r"))
    assert run.status == "done", run.message
    assert run.options["encoding"] == "koi8-r"
    assert db_session.query(Organisation).filter_by(code="ODD-4").one().name == 'МОУ "Средняя школа имени Пушкина"'
    login(world["admin"])
    assert "кодировка KOI8-R, разделитель «;»" in client.get(f"/imports/{run.id}").get_data(as_text=True)


def test_a_windows_1251_file_of_capitals_stays_windows_1251_though_capitals_dominate():
    from app.imports.readers import is_koi8_r

    # capitals dominate here as in KOI8-R read as Windows-1251; о, е, а, и tell the two apart
    assert not is_koi8_r("ОДД;МОУ СРЕДНЯЯ ШКОЛА ИМЕНИ ПУШКИНА;ШКОЛА ПУШКИНА".encode("cp1251"))
    assert is_koi8_r("ОДД;МОУ Средняя школа имени Пушкина;Школа Пушкина".encode("koi8-r"))
    assert not is_koi8_r("ОДД;МОУ Средняя школа имени Пушкина;Школа Пушкина".encode("cp1251"))


def _utf8(*lines) -> bytes:
    return orgs_csv(*lines).decode("cp1251").encode("utf-8")


@pytest.mark.parametrize("students", ["１２３", "١٢٣", "１2３", "1_20"])  # «1_20»: int() reads Python's digit groups
def test_a_count_in_other_digits_is_refused(import_orgs, db_session, students):  # noqa: F811
    from app.orgs.models import Organisation

    run = import_orgs(_utf8("ODD-4;МОУ «Школа № 4»;Школа № 4;school;MUN;city;0;STUDENTS;ordinary;1;1;1")
                      .replace(b"STUDENTS", students.encode("utf-8")))
    assert run.status == "rejected", run.message
    assert db_session.query(Organisation).filter_by(code="ODD-4").count() == 0


@pytest.mark.parametrize("share", ["１２", "1_2"])
def test_a_share_in_other_digits_is_refused(import_orgs, db_session, share):  # noqa: F811
    from app.orgs.models import Organisation

    run = import_orgs(_utf8("ODD-5;МОУ «Школа № 5»;Школа № 5;school;MUN;city;0;120;ordinary;SHARE;1;1")
                      .replace(b"SHARE", share.encode("utf-8")))
    assert run.status == "rejected", run.message
    assert db_session.query(Organisation).filter_by(code="ODD-5").count() == 0


@pytest.mark.parametrize("column, value", [("year", "２０２５"), ("grade", "５"), ("primary_score", "٧"),
                                           ("task_1", "３"), ("mark", "４"),
                                           ("primary_score", "1_0"), ("year", "2_025")])
def test_results_in_other_digits_are_refused(import_results, column, value):  # noqa: F811
    from app.imports.models import AssessmentResult

    run = import_results(results_csv([result_row(1), result_row(2, **{column: value})]))
    assert run.status == "rejected", run.message
    assert count(AssessmentResult) == 0


@pytest.mark.parametrize("column, typed", [(6, "²"), (6, "١"), (7, "٢(٣)")])
def test_rcoi_parts_in_other_digits_are_refused_with_the_reason(import_results, uploads, column, typed):  # noqa: F811
    """Part 1 «+-1²…»: «²» passed `str.isdigit` and int() raised, so the import «failed» with Python's English
    «ValueError: invalid literal for int()»; Arabic-Indic digits were read as points."""
    from app.imports.models import AssessmentResult

    path = Path(__file__).parents[1] / "data" / "results_rcoi.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
    rows[1][column] = typed + rows[1][column][1:] if column == 6 else typed + rows[1][column][4:]
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    run = import_results(out.getvalue().encode("utf-8"))
    assert run.status == "rejected", run.message
    assert "Error" not in run.message
    assert count(AssessmentResult) == 0

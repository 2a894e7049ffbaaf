"""Attack 15: damaged or hostile files into the uploads that parse them, each a 500 before.

- A school's monitoring form whose worksheet XML is cut off halfway (a copy interrupted, a file repaired by hand),
  or whose value cell names a style the book does not have: the container checks and the opening of the workbook
  passed, and openpyxl's error came from the walk over the rows, which nothing caught. It is refused in Russian,
  and nothing is saved.
- A results import whose sheet breaks off inside its header row: the reader parsed that row while opening the file,
  outside the guard of the later rows — a 500 (inline jobs) or an import failed without a reason (RQ), not
  «отклонён» with the reason.
- A school's questionnaire (CSV) whose header line holds a field past the csv module's limit (128 KB): the rows
  were guarded (attack 7), the header, read apart from them, was not; and the rows' refusal quoted the csv
  module's English («field larger than field limit (131072)»)."""

import io
import re
import zipfile

import pytest

from openpyxl import Workbook
from sqlalchemy import func, select

from tests.test_imports_web import client_for, upload  # noqa: F401  (fixture)
from tests.test_monitoring import submission_of
from tests.security.test_stretched_sheet import with_sheet
from tests.test_monitoring_views import _upload, page, sign_in, uploads, values_of  # noqa: F401  (fixture)


def _cut_after_first_row(xml: bytes) -> bytes:
    end = xml.index(b"</row>") + len(b"</row>")
    return xml[:end + 40]  # the sheet's XML breaks off inside the second row


def _style_the_book_lacks(xml: bytes) -> bytes:
    return re.sub(rb'<c r="D3"( s="\d+")?', b'<c r="D3" s="999"', xml, count=1)  # the value's cell


@pytest.mark.parametrize("change", [_cut_after_first_row, _style_the_book_lacks], ids=["cut-off", "unknown-style"])
def test_a_form_with_a_damaged_sheet_is_refused_in_russian(client, login, world, sent, db_session, uploads,  # noqa: F811
                                                           change):
    sub = submission_of(sent, world["school_a"])
    sign_in(client, login, world["director_a"])
    form = client.get(f"/monitoring/submissions/{sub.id}/xlsx").data
    body = with_sheet(form, change)
    assert body != with_sheet(form, lambda xml: xml)
    response = _upload(client, sub, body)
    assert response.status_code == 422
    assert "повреждён" in page(response)
    assert values_of(db_session, world["school_a"]) == {}


def _results_xlsx_cut_in_its_first_row() -> bytes:
    wb = Workbook()
    wb.active.append(["код участника", "работа", "класс", "балл"])
    wb.active.append(["S-0001", "Математика", 5, 12])
    out = io.BytesIO()
    wb.save(out)
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[:data.index(b"<row") + 10]  # breaks off inside the header row
            target.writestr(info.filename, data)
    return result.getvalue()


def test_an_import_whose_sheet_breaks_off_in_the_header_is_rejected_with_a_reason(  # noqa: F811
        world, client_for, uploads, db_session):  # noqa: F811
    from app.imports.models import ImportRun  # local: the models import once the test application exists

    client = client_for(world["official"])
    response = upload(client, "results", _results_xlsx_cut_in_its_first_row(), "результаты.xlsx", world["mun"].id)
    assert response.status_code == 302
    run = db_session.scalars(select(ImportRun)).one()
    assert run.status == "rejected"
    assert "Файл XLSX повреждён: не удалось прочитать строку 1." in run.message
    assert "Файл XLSX повреждён" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_questionnaire_whose_header_line_is_past_the_field_limit_is_refused(world, client, login, db_session):
    from app.analysis.models import RiskProfile  # local: the models import once the test application exists

    login(world["director_a"])
    body = b"factor;score;" + b"x" * 200_000 + b"\n"
    response = client.post(f"/analysis/schools/{world['school_a'].id}/risk-profile/import",
                           data={"year": "2025", "file": (io.BytesIO(body), "anketa.csv")}, follow_redirects=True)
    assert response.status_code < 500
    text = page(response)
    assert "Строка 1: файл не читается как таблица CSV: значение длиннее 131\u00a0072 символов" in text
    assert "field limit" not in text  # the csv module's own words are not the user's
    assert db_session.scalar(select(func.count()).select_from(RiskProfile)) == 0

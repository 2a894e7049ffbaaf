"""Attack 10: a monitoring form of a few kilobytes whose sheet declares a row 1 048 576 (and a dimension of
A1:XFD1048576) was walked row by row, a million blank rows, inside the web request: 10 s of a gunicorn worker per
5 KB upload (45 s under a profiler), so a handful of uploads held every worker. Such a sheet is refused in Russian
before the walk gets far, and nothing is saved."""

import io
import re
import zipfile

from openpyxl import load_workbook

from tests.test_monitoring import submission_of
from tests.test_monitoring_views import _upload, page, sign_in, uploads, values_of  # noqa: F401  (fixture)

LAST_ROW = 1_048_576  # Excel's last row


def with_sheet(form: bytes, change) -> bytes:
    """The downloaded form with its first value filled in and its worksheet's XML passed through `change`."""
    wb = load_workbook(io.BytesIO(form))
    wb["Сведения"]["D3"] = 80
    out = io.BytesIO()
    wb.save(out)
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    sheet = next(n for n in source.namelist() if n.startswith("xl/worksheets/sheet"))
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info.filename, change(data) if info.filename == sheet else data)
    return result.getvalue()


def stretched(form: bytes) -> bytes:
    """The downloaded form with its first value filled in, and one cell in the sheet's very last row and column."""
    def stretch(data: bytes) -> bytes:
        xml = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:XFD{LAST_ROW}"/>', data.decode())
        xml = xml.replace("</sheetData>", f'<row r="{LAST_ROW}"><c r="XFD{LAST_ROW}" t="inlineStr">'
                                          "<is><t>x</t></is></c></row></sheetData>")
        return xml.encode()
    return with_sheet(form, stretch)


def test_a_sheet_stretched_to_the_last_row_is_refused_and_nothing_saved(client, login, world, sent, db_session,
                                                                        uploads):  # noqa: F811
    sub = submission_of(sent, world["school_a"])
    sign_in(client, login, world["director_a"])
    form = client.get(f"/monitoring/submissions/{sub.id}/xlsx").data
    body = stretched(form)
    assert len(body) < 20_000
    response = _upload(client, sub, body)
    assert response.status_code == 422
    assert "больше 10000 строк (считая пустые)" in page(response)
    assert values_of(db_session, world["school_a"]) == {}

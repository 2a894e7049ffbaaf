"""Attack 15: a school's monitoring form that makes openpyxl parse too much in the web request. openpyxl parses every
cell of each row it reads and the whole shared-strings table before the first row; the rows read were bounded
(attack 10), the cells in them and the strings were not: a 1.9 MB form of 148 rows × 16 000 one-digit cells held a web
worker 32 s (past gunicorn's timeout), 2 million short strings in 5 MB (packed 9:1, no zip bomb) 22 s. Cells and
strings are counted in the XML before openpyxl sees it; past ten a row (the form has seven) the file is refused in
Russian, and nothing is saved."""

import io
import time
import zipfile

from tests.security.test_stretched_sheet import with_sheet
from tests.test_monitoring import submission_of
from tests.test_monitoring_views import _upload, page, sign_in, uploads, values_of  # noqa: F401  (fixture)

CELLS = 110_000  # past 10 × 10 000
RELATIONSHIP = (b'<Relationship Id="rIdS" Target="sharedStrings.xml" '
                b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>')


def _wide(xml: bytes) -> bytes:
    # empty cells keep the part under the zip-bomb check's floor: only their number gives it away
    return xml.replace(b"</sheetData>", b'<row r="200">' + b"<c/>" * CELLS + b"</row></sheetData>")


def _with_string_table(form: bytes, count: int) -> bytes:
    """The form with a shared-strings table of `count` short strings (openpyxl reads it whole when the book opens)."""
    table = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             + b"".join(b"<si><t>%d</t></si>" % n for n in range(count)) + b"</sst>")
    source = zipfile.ZipFile(io.BytesIO(with_sheet(form, lambda xml: xml)))
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", RELATIONSHIP + b"</Relationships>")
            target.writestr(info.filename, data)
        target.writestr("xl/sharedStrings.xml", table)
    return result.getvalue()


def test_a_form_of_too_many_cells_is_refused_before_it_is_parsed(client, login, world, sent, db_session,
                                                                 uploads):  # noqa: F811
    sub = submission_of(sent, world["school_a"])
    sign_in(client, login, world["director_a"])
    form = client.get(f"/monitoring/submissions/{sub.id}/xlsx").data
    body = with_sheet(form, _wide)
    started = time.monotonic()
    response = _upload(client, sub, body)
    assert response.status_code == 422
    assert "в книге больше 100\u00a0000 ячеек" in page(response)
    assert time.monotonic() - started < 3
    assert values_of(db_session, world["school_a"]) == {}


def test_a_form_with_too_many_strings_is_refused_before_it_is_parsed(client, login, world, sent, db_session,
                                                                     uploads):  # noqa: F811
    sub = submission_of(sent, world["school_a"])
    sign_in(client, login, world["director_a"])
    form = client.get(f"/monitoring/submissions/{sub.id}/xlsx").data
    response = _upload(client, sub, _with_string_table(form, CELLS))
    assert response.status_code == 422
    assert "в книге больше 100\u00a0000 текстовых значений" in page(response)
    assert values_of(db_session, world["school_a"]) == {}


def test_a_full_form_is_still_read(client, login, world, sent, db_session, uploads):  # noqa: F811
    sub = submission_of(sent, world["school_a"])
    sign_in(client, login, world["director_a"])
    form = client.get(f"/monitoring/submissions/{sub.id}/xlsx").data
    response = _upload(client, sub, with_sheet(form, lambda xml: xml))
    assert response.status_code == 302
    assert values_of(db_session, world["school_a"])

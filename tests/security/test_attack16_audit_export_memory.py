"""Attack 16: the audit log's extract was built whole in memory before the first byte went out. Up to EXPORT_LIMIT
(100 000) events, about 1 KB each in the CSV (the content the hash is computed over): on the running server
(gunicorn, production settings) an extract of 43 000 events — 42.6 MB of CSV — took the web worker from 207 MB to
433 MB, the text held three times (the StringIO, the BOM prepended, the UTF-8 bytes), so the full extract would cost
a worker about 600 MB and two auditors at once both workers' memory. Now the extract is written batch by batch to a
temporary file and sent from it: what a request holds is one batch, whatever the extract's length.

The rows are made up here (the extract's own `rows`, 20 000 of them, 1 KB of Cyrillic each) so that no database of
20 000 events is needed; what is measured is what the view holds until it answers.
"""

import csv
import io
import tracemalloc

import pytest

ROWS = 20_000
CELL = "запись журнала " * 60  # ≈ 900 characters, two bytes each in UTF-8 like the names and actions of the log


@pytest.fixture
def many_rows(monkeypatch):
    from app.audit import exports

    def rows(batches, tz_name):
        for n in range(1, ROWS + 1):
            yield [n, "07.12.2026 09:00", "07.12.2026 06:00", "=Петрова", "", "", CELL, "", "", "", "", "", "", "",
                   "", ""]
    monkeypatch.setattr(exports, "rows", rows)


def test_a_long_csv_extract_is_not_held_in_memory(world, client, login, many_rows):
    login(world["auditor"])
    tracemalloc.start()
    try:
        response = client.get("/audit/export.csv", buffered=False)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    try:
        assert response.status_code == 200
        assert peak < 8 * 1024 * 1024, f"the view held {peak / 2**20:.0f} MB for a 36 MB extract"
        body = b"".join(response.response)
    finally:
        response.close()
    assert int(response.headers["Content-Length"]) == len(body)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == ROWS + 1 and rows[0][0] == "№ записи"
    assert rows[-1][0] == str(ROWS) and rows[-1][3] == "'=Петрова"  # still neutralised


def test_the_xlsx_extract_is_sent_from_its_file_too(world, client, login, monkeypatch):
    from openpyxl import load_workbook

    from app.audit import exports

    monkeypatch.setattr(exports, "rows", lambda batches, tz_name: iter([[1, "", "", "=1+1", *[""] * 12]]))
    login(world["auditor"])
    response = client.get("/audit/export.xlsx")
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.cell(3, 4).value == "'=1+1" and sheet.cell(3, 4).data_type == "s"

"""Attack 13: a ZIP of 60,000 small parts named .xlsx held the results import 9 s (every XML part's start is read to
refuse a DTD) and was then refused «DTD или объявления сущностей» — which it did not have: its parts were not XML.
Now a package of more parts than a workbook has is refused at once, saying it is an archive and not a workbook, and a
part that is not XML is named as such."""

import io
import zipfile

from tests.test_imports import import_results, run_file, uploads  # noqa: F401  (fixtures)


def _package(parts: int, body: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types></Types>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        for n in range(parts):
            archive.writestr(f"xl/results{n}.xml", body)
    return buffer.getvalue()


def test_a_many_part_archive_is_refused_at_once_as_not_a_workbook(import_results, monkeypatch):  # noqa: F811
    from app.imports import readers

    opened = []
    monkeypatch.setattr(readers, "_prolog_verdict", lambda data, final: opened.append(1) or True)
    run = import_results(_package(readers.XLSX_MAX_PARTS + 1, b"<x/>"), filename="results.xlsx")
    assert run.status == "rejected"
    assert "в архиве 1\u00a0003 частей, а в книге их несколько десятков" in run.message
    assert "CSV или XLSX, не архивом" in run.message
    assert "DTD" not in run.message
    assert opened == []  # refused from the directory, no part read


def test_a_part_that_is_not_xml_is_named_not_called_a_dtd(import_results):  # noqa: F811
    run = import_results(_package(3, b"code;subject\n1;math\n"), filename="results.xlsx")
    assert run.status == "rejected"
    assert "DTD" not in run.message
    assert "не XML" in run.message and "«xl/" in run.message


def test_an_upload_of_a_zip_with_more_parts_than_any_document_is_refused_before_its_directory_is_read(
        app, monkeypatch):
    from app.core import uploads as upload_checks
    from app.core.errors import ValidationFailed

    data = _package(60, b"<x/>")
    monkeypatch.setattr(upload_checks, "ZIP_MAX_PARTS", 50)  # the real limit (20 000 parts) makes a slow test
    monkeypatch.setattr(upload_checks.zipfile, "ZipFile", None)  # reading the directory would fail the test
    for purpose in ("import", "evidence"):
        try:
            upload_checks.check_stream(purpose, io.BytesIO(data), "results.xlsx")
        except ValidationFailed as exc:
            assert "это архив ZIP из 62 частей" in exc.message and "не архив" in exc.message
        else:
            raise AssertionError(f"{purpose}: a 62-part ZIP was accepted")

"""Attack 12: the error report of an import was served as «text/csv; charset=utf-8; charset=utf-8» — the view passed
a type with its charset and Werkzeug added the charset of a text type once more. A parameter named twice is not a
valid media type (RFC 6838 §4.3), and a strict client or proxy may refuse or misread it. A private download says its
type once, is not kept by a cache and is not sniffed."""

from tests.test_imports import import_results, run_file, uploads  # noqa: F401  (fixtures)


def test_an_import_error_report_names_its_type_once(client, login, world, import_results):  # noqa: F811
    run = import_results("procedure;year\nВПР;2025\n".encode())
    assert run.status == "rejected" and run.error_report_path
    login(world["official"])
    response = client.get(f"/imports/{run.id}/report")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment;")

"""Attack 22: a running instance (gunicorn, an RQ worker) attacked as an outside auditor would — IDOR across
organisations on every id-taking route, odd ids, every form fuzzed (NUL, lone surrogates, 1 MB strings, bidi marks,
formula starts, zip bombs, file names with traversal and a right-to-left override), two approvals at once, state
changes on a closed cycle, cache headers, public pages.

- The monitoring upload kept the user's file name as sent: «отчёт\u202exslx.exe» (a right-to-left override) was
  listed on the submission page as «отчёт» followed by the reversed rest, «exe.xlsx» to the eye, and the override
  ran on over the uploader's name and the outcome printed after it. Its name is now kept as attachments' and
  imports' are, without the characters that print as nothing (app.core.uploads.printable_name).
"""

import io
import zipfile

import pytest

from app.core.uploads import check
from app.core.errors import ValidationFailed

from tests.test_monitoring import submission_of
from tests.test_monitoring_views import _bytes, _upload, _xlsx, page, sign_in
from tests.test_monitoring_views import uploads  # noqa: F401  (a fixture)

RLO = "\u202e"


def test_a_monitoring_upload_is_listed_under_a_name_without_bidi_overrides(client, login, world, sent, db_session,
                                                                          uploads):  # noqa: F811
    sub = submission_of(sent, world["school_a"])
    sign_in(client, login, world["director_a"])
    wb = _xlsx(client, sub.id)
    wb["Сведения"]["D3"] = 80
    response = _upload(client, sub, _bytes(wb), name=f"../отчёт{RLO}xslx.exe")
    assert response.status_code == 302, page(response)[:2000]
    html = page(client.get(f"/monitoring/submissions/{sub.id}"))
    assert RLO not in html
    assert "«../отчётxslx.exe»" in html


# --- a refused file is quoted by a name that reads as it is --------------------------------------

def _bomb(part: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, b"\0" * (8 * 1024 * 1024))
    return out.getvalue()


def test_a_refused_file_is_named_without_a_right_to_left_override():
    """«Файл «счёт‮fdp.xlsx» не принят…»: the override turned the rest of the refusal around on the page."""
    with pytest.raises(ValidationFailed) as refused:
        check("monitoring_xlsx", b"%PDF-1.7\n" + b"0" * 100, f"счёт{RLO}fdp.xlsx")
    assert RLO not in refused.value.message and "«счётfdp.xlsx»" in refused.value.message


def test_a_zip_bombs_part_is_named_without_a_right_to_left_override():
    with pytest.raises(ValidationFailed) as refused:
        check("evidence", _bomb(f"word/{RLO}lmx.tnemucod"), "отчёт.docx")
    assert "zip-бомба" in refused.value.message
    assert RLO not in refused.value.message and "«word/lmx.tnemucod»" in refused.value.message

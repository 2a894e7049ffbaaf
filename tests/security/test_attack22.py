"""Attack 22: a running instance (gunicorn, an RQ worker) attacked as an outside auditor would — IDOR across
organisations on every id-taking route, odd ids, every form fuzzed (NUL, lone surrogates, 1 MB strings, bidi marks,
formula starts, zip bombs, file names with traversal and a right-to-left override), two approvals at once, state
changes on a closed cycle, cache headers, public pages.

- The monitoring upload kept the user's file name as sent: «отчёт\u202exslx.exe» (a right-to-left override) was
  listed on the submission page as «отчёт» followed by the reversed rest, «exe.xlsx» to the eye, and the override
  ran on over the uploader's name and the outcome printed after it. Its name is now kept as attachments' and
  imports' are, without the characters that print as nothing (app.core.uploads.printable_name).
"""

from tests.test_monitoring import submission_of
from tests.test_monitoring_views import _bytes, _upload, _xlsx, page, sign_in, uploads  # noqa: F401

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

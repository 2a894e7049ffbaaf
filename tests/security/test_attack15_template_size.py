"""Attack 15: a Word template whose check takes longer than the request may. The upload's check (docxtpl's parse,
the sandboxed rendering with sample data, the search for outside links) runs in the web request and grows faster
than the template's markup: a 4.6 MB .docx of 100 000 short paragraphs — within the 10 MB upload limit and the
32 MB unpacked, no zip bomb — held the web worker 50 s, past gunicorn's timeout, and the administrator got no
answer. A template of more than 200 000 tags (the largest shipped one has 27 000) is refused before the check, with
a Russian reason, and nothing is stored."""

import io
import random
import string
import time
import zipfile

from sqlalchemy import func, select

from tests.security.test_template_zip_bomb import _regulation_plus


def _regulation_with_paragraphs(count: int) -> bytes:
    """The shipped regulation with `count` paragraphs of random letters (three each: the file stays small)."""
    rng = random.Random(15)
    body = "".join("<w:p><w:r><w:t>" + "".join(rng.choices(string.ascii_letters, k=3)) + "</w:t></w:r></w:p>"
                   for _ in range(count)).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_regulation_plus({}))) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body>" + body, 1)
            package.writestr(item.filename, data)
    return out.getvalue()


def test_a_template_of_too_much_markup_is_refused_before_its_check(world, client, login, db_session):
    from app.documents.template_admin import TemplateVersion  # local: the models import once the app exists

    data = _regulation_with_paragraphs(60_000)  # 240 000 tags of paragraphs alone
    login(world["admin"])
    started = time.monotonic()
    response = client.post("/documents/templates/regulation/upload",
                           data={"file": (io.BytesIO(data), "regulation.docx")}, content_type="multipart/form-data")
    assert time.monotonic() - started < 3
    assert response.status_code == 422
    assert "Шаблон слишком велик для проверки" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(TemplateVersion)) == 0


def test_a_template_of_a_few_pages_more_is_still_checked(world, client, login, db_session):
    from app.documents.template_admin import TemplateVersion  # local: the models import once the app exists

    login(world["admin"])
    response = client.post("/documents/templates/regulation/upload",
                           data={"file": (io.BytesIO(_regulation_with_paragraphs(300)), "regulation.docx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(TemplateVersion)) == 1

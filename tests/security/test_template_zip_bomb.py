"""A Word template is parsed in the web process when it is uploaded (the check renders it at once), so what its
parts unpack to is bounded before anything is unpacked. Before, a 158 KB .docx whose text unpacked to 100 MB took
the web worker to 6 GB of memory until gunicorn killed it, and the administrator got a 500 (attack 7); the upload
limit (10 MB) let through packages that unpack to gigabytes."""

import io
import zipfile

import pytest
from sqlalchemy import func, select

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)


def _regulation_plus(parts: dict[str, bytes]) -> bytes:
    from app.documents.catalogue import get_type

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(get_type("regulation").template_path.read_bytes())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for item in source.infolist():
            package.writestr(item, source.read(item.filename))
        for name, data in parts.items():
            package.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


BOMB = {"word/media/filler.bin": b"a" * (20 * 1024 * 1024)}  # one part packed about 1000:1
BULK = {f"word/media/filler{i}.bin": b"a" * (1024 * 1024) for i in range(40)}  # each under the ratio's floor


@pytest.mark.parametrize("parts", [BOMB, BULK], ids=["packed-too-well", "too-much-in-all"])
def test_a_template_that_unpacks_to_too_much_is_refused_and_not_stored(world, client, login, db_session, parts):
    from app.documents.template_admin import TemplateVersion

    data = _regulation_plus(parts)
    assert len(data) < 1024 * 1024  # well under the upload limit: only the unpacked size gives it away
    login(world["admin"])
    response = client.post("/documents/templates/regulation/upload",
                           data={"file": (io.BytesIO(data), "regulation.docx")}, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "zip-бомба" in page or "в распакованном виде" in page
    assert db_session.scalar(select(func.count()).select_from(TemplateVersion)) == 0


def test_a_template_with_a_picture_in_it_is_still_taken(world, client, login, db_session):
    import os

    from app.documents.template_admin import TemplateVersion

    login(world["admin"])
    data = _regulation_plus({"word/media/photo.bin": os.urandom(400 * 1024)})
    response = client.post("/documents/templates/regulation/upload",
                           data={"file": (io.BytesIO(data), "regulation.docx")}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(TemplateVersion)) == 1

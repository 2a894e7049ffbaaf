"""A Word template may not point outside its package. LibreOffice opens every registered document on the server
for its PDF copy and fetches a linked picture (`TargetMode="External"`), an attached template or an
INCLUDEPICTURE field's address as it does: an uploaded template could make the server request any address,
inside the closed network too (server-side request forgery). Before, such a template passed the check and could
be made the active one (attack 9 named the lead; app/documents/outside_links.py)."""

import io
import re
import zipfile

import pytest
from sqlalchemy import select

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)

LINKED_PICTURE = ('<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                  'image" Target="http://169.254.169.254/latest/meta-data/" TargetMode="External"/>')
HYPERLINK = ('<Relationship Id="rIdY" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
             'hyperlink" Target="https://obrnadzor.gov.ru/" TargetMode="External"/>')
# one field's instruction over three runs, as Word writes it
SPLIT_FIELD = ('<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> INCLUDE'
               '</w:instrText></w:r><w:r><w:instrText>PICTURE "http://10.0.0.5/secret.png" \\d</w:instrText></w:r>'
               '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>x</w:t></w:r>'
               '<w:r><w:fldChar w:fldCharType="end"/></w:r>')


def _regulation_with(*, relationship: str = "", body: str = "", parts: dict[str, bytes] | None = None,
                     content_type: str = "") -> bytes:
    """The shipped regulation template with a relationship of its text, a paragraph of `body` first in its text,
    more `parts` and a `content_type` declaration."""
    from app.documents.catalogue import get_type

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(get_type("regulation").template_path.read_bytes())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/_rels/document.xml.rels" and relationship:
                data = data.replace(b"</Relationships>", relationship.encode() + b"</Relationships>")
            if item.filename == "word/document.xml" and body:
                data = data.replace(b"<w:body>", b"<w:body><w:p>" + body.encode() + b"</w:p>", 1)
            if item.filename == "[Content_Types].xml" and content_type:
                data = data.replace(b"</Types>", content_type.encode() + b"</Types>")
            package.writestr(item, data)
        for name, data in (parts or {}).items():
            package.writestr(name, data)
    return out.getvalue()


def _upload(client, data: bytes):
    return client.post("/documents/templates/regulation/upload",
                       data={"file": (io.BytesIO(data), "regulation.docx")}, content_type="multipart/form-data")


@pytest.mark.parametrize("template,fragment", [
    (dict(relationship=LINKED_PICTURE), "ссылается на внешний файл «http://169.254.169.254/latest/meta-data/»"),
    (dict(body=SPLIT_FIELD), "Поле «INCLUDEPICTURE \"http://10.0.0.5/secret.png\" \\d»"),
], ids=["linked-picture", "includepicture-field"])
def test_a_template_that_points_outside_is_not_valid_and_cannot_be_activated(world, client, login, db_session,
                                                                            template, fragment):
    from app.documents.template_admin import TemplateVersion

    login(world["admin"])
    assert _upload(client, _regulation_with(**template)).status_code == 302
    version = db_session.scalar(select(TemplateVersion))
    assert version.valid is False
    assert any(fragment in problem for problem in version.problems), version.problems
    response = client.post(f"/documents/templates/versions/{version.id}/activate")
    assert response.status_code in (409, 422)
    db_session.expire_all()
    assert db_session.get(TemplateVersion, version.id).active is False


def test_a_template_with_a_hyperlink_is_still_valid(world, client, login, db_session):
    from app.documents.template_admin import TemplateVersion

    login(world["admin"])
    assert _upload(client, _regulation_with(relationship=HYPERLINK)).status_code == 302
    version = db_session.scalar(select(TemplateVersion))
    assert version.valid is True, version.problems


def test_a_part_with_an_entity_declaration_is_not_cleared():
    from app.documents.outside_links import outside_links

    doctype = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY t "External">]>'
    data = _regulation_with()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as package:
        for item in source.infolist():
            part = source.read(item.filename)
            if item.filename == "word/_rels/document.xml.rels":
                part = re.sub(rb"^<\?xml[^>]*\?>", doctype.encode(), part)
            package.writestr(item, part)
    problems = outside_links(out.getvalue())
    assert any("не читается как XML без объявлений сущностей" in p for p in problems), problems

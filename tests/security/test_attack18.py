"""Attack 18.

The evidence package of an assessment campaign (письмо 08-70) names its members after what users typed — a
document's title, an attached file's name. A file «Приказ … .pdf» whose name ran past 120 characters (common for an
order's full title) was packaged without its «.pdf»: the reader of the package got a file no program opens by a
double click. And a name was cut at a number of characters, not of bytes: eighty emoji or CJK characters made a
member name of 320+ bytes, which unzip and every Linux file system refuse to create («File name too long»).

A Word template could import another document (altChunk) whose picture was linked from outside: see below."""

import io
import zipfile

from tests.test_assessment_package import build_zip, scored  # noqa: F401  (the fixture: a scored campaign)

# What Linux file systems, unzip and Windows Explorer accept for one folder or file name.
COMPONENT_BYTES = 255


def _components(archive: zipfile.ZipFile):
    for name in archive.namelist():
        yield from name.split("/")


def _attach(world, scored, filename):  # noqa: F811
    from app.assessment import services

    campaign = scored["campaign"]
    sa = services.self_assessment_for(campaign, world["mun"].id, "M1.1")
    criterion = services.scores_of(campaign, world["mun"].id, "M1.1")[2].criterion_id
    return services.add_evidence(sa, actor=world["official"], criterion_id=criterion, comment="приказ",
                                 stream=io.BytesIO(b"%PDF-1.4 order"), filename=filename)


def test_a_long_file_name_keeps_its_extension_in_the_package(world, scored, db_session):  # noqa: F811
    name = ("Приказ управления образования администрации городского округа Северный от 12.03.2026 № 145 "
            "Об утверждении положения о муниципальной системе оценки качества образования.pdf")
    assert 120 < len(name) <= 200
    item = _attach(world, scored, name)
    db_session.commit()
    archive = build_zip(scored["campaign"], world["mun"])
    (member,) = [n for n in archive.namelist() if "/attachments/" in n and "Приказ" in n]
    assert member.endswith(".pdf"), member
    assert member.rsplit("/", 1)[1].startswith(f"{item.id}-Приказ управления образования")
    assert archive.read(member) == b"%PDF-1.4 order"


def test_no_name_in_the_package_is_longer_than_a_file_system_takes(world, scored, db_session):  # noqa: F811
    wide = "📄" * 150 + ".pdf"  # 4 bytes a character in UTF-8
    _attach(world, scored, wide)
    scored["doc"].title = "文件" * 60  # 3 bytes a character
    db_session.commit()
    archive = build_zip(scored["campaign"], world["mun"])
    too_long = [c for c in _components(archive) if len(c.encode("utf-8")) > COMPONENT_BYTES]
    assert too_long == []
    names = archive.namelist()
    assert any(n.endswith(".pdf") and "📄" in n for n in names)
    assert any("文件" in n and n.endswith("-листы согласования и удостоверения.csv") for n in names)
    assert archive.testzip() is None


# --- a Word template that imports another document (altChunk) ---------------------------------------------------
#
# A template whose body holds `<w:altChunk r:id="…"/>` makes Word and LibreOffice import the part it names, a whole
# .docx packed inside the template, when they open the document. LibreOffice opens every registered document on the
# server for its PDF copy: a picture that inner document links to (`TargetMode="External"` in ITS relationships) was
# requested from the server, yet the check of outside links read only the template's own parts, not the package
# inside it. Seen with LibreOffice 7.4: converting such a document to PDF requested the inner picture's address.

_ALT_CHUNK_RELATION = ('<Relationship Id="rIdAlt" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                       'relationships/aFChunk" Target="chunk.docx"/>')
_INNER_LINK = ('<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
               'image" Target="http://169.254.169.254/latest/meta-data/" TargetMode="External"/>')


# as Word declares a packed document
_DOCX_TYPE = ('<Default Extension="docx" ContentType="application/vnd.openxmlformats-officedocument.'
              'wordprocessingml.document"/>')


def _template(**kwargs) -> bytes:
    from tests.security.test_template_outside_links import _regulation_with

    return _regulation_with(**kwargs)


def _with_part(name: str, data: bytes, **kwargs) -> bytes:
    return _template(parts={name: data}, content_type=_DOCX_TYPE, **kwargs)


def test_a_template_importing_a_document_is_not_valid(world, client, login, db_session):
    from sqlalchemy import select

    from app.documents.template_admin import TemplateVersion

    # the altChunk element stands in the body, not in a paragraph: _regulation_with puts `body` in one
    template = _with_part("word/chunk.docx", _template(relationship=_INNER_LINK), relationship=_ALT_CHUNK_RELATION,
                          body='</w:p><w:altChunk r:id="rIdAlt"/><w:p>')
    login(world["admin"])
    response = client.post("/documents/templates/regulation/upload",
                           data={"file": (io.BytesIO(template), "regulation.docx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    version = db_session.scalar(select(TemplateVersion))
    assert version.valid is False and not version.active
    assert any("вставляет содержимое другого файла" in p for p in version.problems), version.problems
    assert any("«word/chunk.docx»" in p and "169.254.169.254" in p for p in version.problems), version.problems


def test_a_package_inside_a_template_is_checked_as_the_template_is():
    from app.documents.outside_links import outside_links

    # an embedded object's package (word/embeddings/…) pointing outside, one level down and two
    nested = _with_part("word/embeddings/Document1.docx", _template(relationship=_INNER_LINK))
    assert any("169.254.169.254" in p for p in outside_links(nested))
    deeper = _with_part("word/embeddings/Document2.docx", nested)
    assert any("169.254.169.254" in p for p in outside_links(deeper))
    # an embedded package that points nowhere passes, and the shipped template itself too
    clean = _with_part("word/embeddings/Document1.docx", _template())
    assert outside_links(clean) == []


# --- a refused upload leaves no file --------------------------------------------------------------------------
#
# An attachment's file is written before its row. A report refused after that (no text: the workflow's guard) rolled
# the row and its audit event back and left the file: on the demo, three such reports of two 2 MB files left six
# files that nothing named, a way to fill the server's disk unseen (a request may carry 200 MB).

def _stored_files() -> set:
    from app.documents.attachments import storage_dir

    return {p for p in storage_dir().rglob("*") if p.is_file()}


def test_a_refused_report_leaves_no_file_and_an_accepted_one_keeps_its_own(rec_cycle, world, make_recommendation,
                                                                          db_session, client_for):
    from tests.conftest import PASSWORD
    from tests.test_followup import item_of

    from app.followup import services

    item = item_of(make_recommendation(rec_cycle, [world["school_a"]], issue=True), world["school_a"])
    services.acknowledge_item(item, actor=world["director_a"], password=PASSWORD)
    services.start_item(item, actor=world["director_a"], action_plan="Педсовет", planned_completion=item.due_date)
    db_session.commit()
    director = client_for(world["director_a"])
    before = _stored_files()

    def report(text: str):
        return director.post(f"/followup/items/{item.id}/report", content_type="multipart/form-data", data={
            "report": text, "version": str(item.version),
            "files": [(io.BytesIO(b"%PDF-1.4 protocol"), "protokol.pdf"), (io.BytesIO(b"%PDF-1.4 plan"), "plan.pdf")]})

    refused = report("   ")
    assert refused.status_code == 409 and "Опишите, что сделано" in refused.get_data(as_text=True)
    assert _stored_files() == before
    assert report("Проведён педсовет").status_code == 302
    db_session.expire_all()
    kept = _stored_files() - before
    assert len(kept) == 2 and {p.read_bytes() for p in kept} == {b"%PDF-1.4 protocol", b"%PDF-1.4 plan"}


# --- a template that points outside only for some data ----------------------------------------------------------
#
# The upload's check reads the template and its rendering with sample data — the latest generated document's, a
# draft numbered «проект». A field spelt by Jinja only when the document has a number, `{% if doc.number !=
# 'проект' %}…{{ 'INCLUDE' ~ 'PICTURE' }}…`, passed both and appeared in the registered copy alone: the one document
# LibreOffice opens on the server for its PDF.

_LATE_FIELD = ("{% if doc.number != 'проект' %}<w:p><w:fldSimple w:instr=\"{{ 'INCLUDE' ~ 'PICTURE' }} "
               "&quot;http://10.0.0.5/secret.png&quot;\"><w:r><w:t>x</w:t></w:r></w:fldSimple></w:p>{% endif %}")


def _with_late_field() -> bytes:
    # _regulation_with puts `body` in a paragraph of its own: the field's paragraph stands between two empty ones
    return _template(body="</w:p>" + _LATE_FIELD + "<w:p>")


class _Numbered:
    """The sample document's data with a number of its own."""

    def __init__(self, sample, number: str):
        self.sample, self.number = sample, number

    def __getattr__(self, name):
        return getattr(self.sample, name)


def test_no_document_is_made_that_points_outside_whatever_its_data(app):
    import pytest

    from app.documents import rendering
    from app.documents.template_admin import synthetic_context

    template = _with_late_field()
    with app.app_context():
        sample = synthetic_context("regulation")
        draft = {**sample, "doc": _Numbered(sample["doc"], "проект")}
        assert rendering.check_template("regulation", template, draft) == []  # what the upload's check sees
        registered = {**sample, "doc": _Numbered(sample["doc"], "0017/2026")}
        with pytest.raises(rendering.RenderError) as refused:
            rendering.render("regulation", registered, template=template)
        assert "INCLUDEPICTURE" in refused.value.message and "10.0.0.5" in refused.value.message

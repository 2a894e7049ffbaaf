"""Attack 18: what the evidence package of an assessment campaign (письмо 08-70) names its files after.

Its members are named after what users typed — a document's title, an attached file's name. A file «Приказ … .pdf»
whose name ran past 120 characters (common for an order's full title) was packaged without its «.pdf»: the reader of
the package got a file no program opens by a double click. And a name was cut at a number of characters, not of
bytes: eighty emoji or CJK characters made a member name of 320+ bytes, which unzip and every Linux file system
refuse to create («File name too long»), so that file of the package could not be extracted at all."""

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

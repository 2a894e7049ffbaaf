"""Attack 12: a zip bomb was kept as evidence. A 200 KB «отчёт.docx» whose one part unpacked to 200 MB (and the same
as an XLSX) was attached to a measure and offered for download to everyone who checks it; the Word template upload
already refused such packages, the evidence uploads did not look. Now every evidence upload (measures, decisions,
recommendation reports, the 08-70 self-assessment, document versions) judges a ZIP package's parts from its directory
before storing anything: a part that packs like a bomb, or parts that unpack to more than 512 MB in all, are refused
with a Russian message and nothing is stored or changed."""

import io
import os
import zipfile

import pytest
from sqlalchemy import func, select

from app.core.errors import ValidationFailed
from tests.conftest import PASSWORD


def _package(main_part: str, filler: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(main_part, "<x/>")
        for name, data in filler.items():
            archive.writestr(name, data, compresslevel=9)
    return out.getvalue()


BOMB_DOCX = _package("word/document.xml", {"word/media/image1.bin": b"\0" * (60 * 1024 * 1024)})
BOMB_XLSX = _package("xl/workbook.xml", {"xl/worksheets/sheet1.xml": b" " * (60 * 1024 * 1024)})
# many parts, each under the size from which the packing ratio is judged, 600 MB in all
BULK_PPTX = _package("ppt/presentation.xml", {f"ppt/media/{i}.bin": b"a" * (1024 * 1024) for i in range(600)})


def _count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def stage(world, make_cycle, db_session):
    cycle = make_cycle(world["school_b"], world["director_b"], mechanism="I1.1")
    db_session.commit()
    return cycle.stage("GOAL")


@pytest.mark.parametrize("data, name, said", [
    (BOMB_DOCX, "отчёт.docx", "zip-бомба"), (BOMB_XLSX, "таблица.xlsx", "zip-бомба"),
    (BULK_PPTX, "слайды.pptx", "в распакованном виде он больше 512 МБ"),
], ids=["docx-one-part", "xlsx-one-part", "many-small-parts"])
def test_a_zip_bomb_is_not_kept_as_evidence(app, world, stage, db_session, tmp_path, monkeypatch, data, name, said):
    from app.documents.attachments import attach
    from app.documents.models import Attachment

    assert len(data) < 2 * 1024 * 1024  # far under the attachment limit: only the unpacked size gives it away
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))
    with pytest.raises(ValidationFailed, match=said) as caught:
        attach(stage, stream=io.BytesIO(data), filename=name, kind="evidence", actor=world["director_b"])
    assert caught.value.message.startswith("Файл отклонён")
    assert _count(db_session, Attachment) == 0
    stored = tmp_path / "storage" / "attachments"
    assert not stored.is_dir() or not os.listdir(stored)


def test_a_real_document_with_pictures_is_still_kept(app, world, stage, db_session, tmp_path, monkeypatch):
    from app.documents.attachments import attach

    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))
    photos = {f"word/media/photo{i}.jpeg": os.urandom(2 * 1024 * 1024) for i in range(3)}
    lines = "".join(f"<w:p><w:r><w:t>{i}. Школа № {i % 97}: {i * 7919 % 10007} участников</w:t></w:r></w:p>"
                    for i in range(30_000))
    text = {"word/document.xml": lines.encode()}  # 2.3 MB of XML, packed as text packs
    attachment = attach(stage, stream=io.BytesIO(_package("word/styles.xml", {**photos, **text})),
                        filename="Отчёт с фотографиями.docx", kind="evidence", actor=world["director_b"])
    assert attachment.content_type.endswith("wordprocessingml.document")


def test_a_report_with_a_zip_bomb_is_refused_over_http_and_nothing_changes(app, world, rec_cycle, make_recommendation,
                                                                           client, login, db_session, tmp_path,
                                                                           monkeypatch):
    from app.documents.models import Attachment
    from app.followup import services

    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))
    item = next(i for i in make_recommendation(rec_cycle, issue=True).items
                if i.organisation_id == world["school_a"].id)
    services.acknowledge_item(item, actor=world["director_a"], password=PASSWORD, expected_version=item.version)
    services.start_item(item, actor=world["director_a"], action_plan="План", planned_completion=item.due_date)
    db_session.commit()
    login(world["director_a"])
    report = {"report": "Отчёт об исполнении", "version": item.version,
              "files": [(io.BytesIO(b"%PDF-1.7 protocol"), "Протокол.pdf"), (io.BytesIO(BOMB_DOCX), "Отчёт.docx")]}
    response = client.post(f"/followup/items/{item.id}/report", data=report, content_type="multipart/form-data")
    assert (response.status_code, "zip-бомба" in response.get_data(as_text=True)) == (422, True)
    db_session.expire_all()
    assert item.state == "in_progress"
    assert _count(db_session, Attachment) == 0  # the good PDF sent with it is not kept either


def test_a_file_over_the_limit_is_refused_before_its_content_is_read(app, world, stage, db_session, monkeypatch):
    """A 130 MB upload of a million and a half empty parts (under the request limit of 200 MB) had its ZIP directory
    read for the content check — 20 seconds and 800 MB of a web worker — before the 25 MB attachment limit refused
    it. The limit now comes first: the content is not looked at."""
    from app.core import uploads
    from app.documents.attachments import AttachmentTooLarge, attach
    from app.documents.models import Attachment

    def never(*args, **kwargs):
        raise AssertionError("the content of a file over the limit was read")

    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 64 * 1024)
    monkeypatch.setattr(uploads, "sniff", never)
    many = _package("word/document.xml", {f"word/{i}.xml": b"" for i in range(1000)})
    assert len(many) > 64 * 1024
    with pytest.raises(AttachmentTooLarge, match="не более 64 КБ|не более 65536 байт"):
        attach(stage, stream=io.BytesIO(many), filename="отчёт.docx", kind="evidence", actor=world["director_b"])
    assert _count(db_session, Attachment) == 0

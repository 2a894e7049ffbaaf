"""An organisation's emblem is bounded in pixels, not only in bytes. A 109 KB PNG of 30,000 × 30,000 pixels passed
the 512 KB limit and went into every document of the organisation; LibreOffice then took 1 GB and over a minute for
the PDF of each registered one (attack 7). Now it is refused with a Russian message and nothing changes."""

import io
import struct
import zlib

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)

GOOD = {"inn": "7707083893", "kpp": "773601001", "ogrn": "1027700132195", "okpo": "00032537",
        "head_position": "Директор"}


def _png(width: int, height: int) -> bytes:
    """A black-and-white PNG of the given size: a few kilobytes whatever the pixel count."""
    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def test_an_emblem_of_too_many_pixels_is_refused_and_nothing_changes(world, client, login, db_session):
    login(world["admin"])
    school = world["school_b"]
    bomb = _png(30000, 30000)
    assert len(bomb) < 512 * 1024
    response = client.post(f"/orgs/{school.id}/edit", data={
        "name": "Школа Б", **GOOD, "emblem_file": (io.BytesIO(bomb), "gerb.png")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "30000 × 30000 пикселей больше допустимого" in response.get_data(as_text=True)
    db_session.refresh(school)
    assert school.emblem is None and school.inn is None


def test_an_emblem_of_ordinary_size_is_taken(world, client, login, db_session):
    login(world["admin"])
    school = world["school_b"]
    picture = _png(600, 600)
    response = client.post(f"/orgs/{school.id}/edit", data={
        "name": "Школа Б", **GOOD, "emblem_file": (io.BytesIO(picture), "gerb.png")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    db_session.refresh(school)
    assert school.emblem == picture

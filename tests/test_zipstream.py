"""app.core.zipstream: the archives it writes strictly forwards are read back byte for byte by zipfile and pass
`unzip -t` (Info-ZIP, a reader independent of Python), with members given whole and streamed, Cyrillic names, an
empty member, and with the Zip64 records forced on a small archive; its memory does not grow with the number of
members (the central directory waits in a temporary file)."""

import hashlib
import io
import shutil
import subprocess
import tracemalloc
import zipfile

import pytest

from app.core.zipstream import ZipStream

pytestmark = pytest.mark.db_independent  # no test database: the SQLite pass only (Makefile)


class ForwardOnly(io.RawIOBase):
    """A sink that cannot seek or tell (a pipe, a socket): the writer must never go back."""

    def __init__(self):
        self.buffer = bytearray()

    def writable(self):
        return True

    def write(self, data):
        self.buffer += data
        return len(data)


def _members():
    rng = hashlib.sha256(b"seed")
    noise = b"".join(rng.digest() for _ in range(3000))  # incompressible, like a .docx
    text = ("Приказ об утверждении показателей; " * 4000).encode("utf-8")
    return {"manifest.json": b'{"files": []}', "МО-01/M1.1/ЦЕЛ/12-ред1-Приказ.docx": noise,
            "МО-01/M1.1/ЦЕЛ/12-ред1-листы согласования.csv": text, "empty.txt": b""}


def _write(sink, members, streamed=("МО-01/M1.1/ЦЕЛ/12-ред1-листы согласования.csv", "empty.txt"), **kw):
    with ZipStream(sink, **kw) as archive:
        for name, data in members.items():
            if name in streamed:
                with archive.open(name) as member:
                    for start in range(0, len(data), 10_000):  # several writes, as a CSV is written
                        member.write(data[start:start + 10_000])
            else:
                archive.add(name, data)


def _check(path, members):
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == list(members)
        for name, data in members.items():
            assert archive.read(name) == data, name
            info = archive.getinfo(name)
            assert info.compress_type == zipfile.ZIP_DEFLATED
    if shutil.which("unzip"):
        done = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "No errors detected" in done.stdout


def test_members_whole_and_streamed_are_read_back_by_zipfile_and_unzip(tmp_path):
    members = _members()
    sink = ForwardOnly()
    _write(sink, members)
    path = tmp_path / "a.zip"
    path.write_bytes(bytes(sink.buffer))
    _check(path, members)


def test_zip64_records_forced_on_a_small_archive_are_read_back(tmp_path, monkeypatch):
    # Every size, offset and the member count at or above 1 go to the Zip64 fields: the paths a region of
    # several GB or more than 65,535 files takes, checked without writing that much.
    monkeypatch.setattr(ZipStream, "zip64_size", 1)
    monkeypatch.setattr(ZipStream, "zip64_count", 1)
    members = _members()
    path = tmp_path / "z64.zip"
    with open(path, "wb") as out:
        _write(out, members)
    raw = path.read_bytes()
    assert b"PK\x06\x06" in raw and b"PK\x06\x07" in raw  # the Zip64 end record and its locator
    _check(path, members)


def test_the_same_deflate_as_zipfile_at_the_same_level(tmp_path):
    data = _members()["МО-01/M1.1/ЦЕЛ/12-ред1-листы согласования.csv"]
    ours = ForwardOnly()
    _write(ours, {"a.csv": data}, streamed=(), level=6)
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("a.csv", data)
    with zipfile.ZipFile(io.BytesIO(bytes(ours.buffer))) as a, zipfile.ZipFile(plain) as b:
        assert a.getinfo("a.csv").compress_size == b.getinfo("a.csv").compress_size


def test_memory_does_not_grow_with_the_number_of_members(tmp_path):
    def peak(count: int) -> int:
        tracemalloc.start()
        with open(tmp_path / f"{count}.zip", "wb") as out, ZipStream(out) as archive:
            for n in range(count):
                archive.add(f"Муниципалитет/механизм/блок/документ-{n:05d}-с длинным русским названием.docx",
                            b"x" * 100)
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result

    small, large = peak(1000), peak(10_000)  # the directory: ≈130 KB vs ≈1.3 MB
    assert large < small * 1.1, (small, large)
    with zipfile.ZipFile(tmp_path / "10000.zip") as archive:
        assert len(archive.namelist()) == 10_000


def test_misuse_is_refused():
    archive = ZipStream(ForwardOnly())
    member = archive.open("a.txt")
    with pytest.raises(ValueError):
        archive.add("b.txt", b"")  # a streamed member is still open
    member.close()
    with pytest.raises(ValueError):
        archive.add("/etc/passwd", b"")
    archive.close()
    with pytest.raises(ValueError):
        archive.add("c.txt", b"")

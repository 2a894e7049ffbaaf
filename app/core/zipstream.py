"""A ZIP writer whose memory does not grow with the number of files (the evidence package of a whole region has
thousands).

zipfile keeps a ZipInfo per member until the archive is closed, to write the central directory at the end (≈1.6 KB
each); the well-kept streaming libraries (stream-zip, zipstream-ng) keep their directory entries in a list as well.
Here each member's central-directory record is written, as soon as the member is finished, to a temporary file,
which is copied after the last member: what stays in memory is a member count and two offsets.

The archive is written strictly forwards (the target need not seek): a member given whole (`add`) has its CRC and
sizes in its local header; a streamed one (`open`) has them in a data descriptor after its data, with Zip64 sizes
(as zipfile writes with force_zip64, so a member of any size). Zip64 records are added where a size, an offset or
the member count does not fit the classic fields. Deflate at `level` (zipfile's ZIP_DEFLATED with that
compresslevel: the same zlib stream); names in UTF-8 (flag bit 11, as zipfile sets for non-ASCII names).
"""

from __future__ import annotations

import shutil
import struct
import tempfile
import time
import zlib

_LOCAL = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # zipfile.structCentralDir
_END = struct.Struct("<4s4H2LH")  # zipfile.structEndArchive
_END64 = struct.Struct("<4sQ2H2L4Q")  # zipfile.structEndArchive64
_LOCATOR64 = struct.Struct("<4sLQL")  # zipfile.structEndArchive64Locator
_DESCRIPTOR64 = struct.Struct("<4sLQQ")  # signature, CRC-32, compressed size, size (Zip64)
_MASK = 0xFFFFFFFF  # a classic field holding this says «see the Zip64 record»
_COUNT_MASK = 0xFFFF
_UTF8 = 0x800
_DESCRIPTOR = 0x08
_DEFLATED = 8
_VERSION = 20
_VERSION64 = 45
_MADE_BY = 3 << 8 | _VERSION  # Unix: the external attributes below are Unix permissions
_FILE_MODE = 0o100644 << 16  # a regular file, rw-r--r--
CHUNK = 64 * 1024  # bytes of the central directory copied at a time


def _dos_time(moment: time.struct_time) -> tuple[int, int]:
    year = max(moment.tm_year, 1980)
    return (moment.tm_hour << 11 | moment.tm_min << 5 | moment.tm_sec // 2,
            (year - 1980) << 9 | moment.tm_mon << 5 | moment.tm_mday)


class ZipStream:
    """Write a ZIP to `out` (a binary file object, written forwards only). Use as a context manager or call close()
    once; a member streamed with open() must be closed before the next one starts."""

    # Sizes and offsets from which the Zip64 fields are used (class attributes so a test can force them on small
    # archives: Zip64 for any value is valid, as zipfile's force_zip64).
    zip64_size = _MASK
    zip64_count = _COUNT_MASK

    def __init__(self, out, *, level: int = 6, moment: float | None = None):
        self.out, self.level = out, level
        self.offset = 0  # bytes written so far: the next member's local header offset
        self.count = 0
        self.directory = tempfile.TemporaryFile()
        self.directory_size = 0
        self.dos_time, self.dos_date = _dos_time(time.localtime(moment))
        self.busy = False
        self.closed = False

    def __enter__(self) -> ZipStream:
        return self

    def __exit__(self, kind, exc, trace) -> None:
        if kind is None:
            self.close()
        else:
            self.directory.close()

    # --- members ----------------------------------------------------------------------------------------------

    def add(self, name: str, data: bytes) -> None:
        """A member given whole: compressed in memory, its CRC and sizes in its local header."""
        self._check()
        compressor = zlib.compressobj(self.level, zlib.DEFLATED, -15)
        packed = compressor.compress(data) + compressor.flush()
        crc = zlib.crc32(data)
        encoded, flags = self._name(name)
        offset = self.offset
        if max(len(data), len(packed)) >= self.zip64_size:
            extra = struct.pack("<HHQQ", 1, 16, len(data), len(packed))
            header = _LOCAL.pack(b"PK\x03\x04", _VERSION64, 0, flags, _DEFLATED, self.dos_time, self.dos_date, crc,
                                 _MASK, _MASK, len(encoded), len(extra))
        else:
            extra = b""
            header = _LOCAL.pack(b"PK\x03\x04", _VERSION, 0, flags, _DEFLATED, self.dos_time, self.dos_date, crc,
                                 len(packed), len(data), len(encoded), 0)
        self._write(header + encoded + extra)
        self._write(packed)
        self._record(encoded, flags, crc, len(packed), len(data), offset, bool(extra))

    def open(self, name: str) -> _Member:
        """A streamed member: write() its bytes, then close(); sizes in a Zip64 data descriptor."""
        self._check()
        encoded, flags = self._name(name)
        flags |= _DESCRIPTOR
        extra = struct.pack("<HHQQ", 1, 16, 0, 0)  # Zip64 sizes follow in the descriptor (zipfile: force_zip64)
        offset = self.offset
        self._write(_LOCAL.pack(b"PK\x03\x04", _VERSION64, 0, flags, _DEFLATED, self.dos_time, self.dos_date, 0,
                                _MASK, _MASK, len(encoded), len(extra)) + encoded + extra)
        self.busy = True
        return _Member(self, encoded, flags, offset)

    def _finish(self, member: _Member, crc: int, packed: int, size: int) -> None:
        self._write(_DESCRIPTOR64.pack(b"PK\x07\x08", crc, packed, size))
        self.busy = False
        self._record(member.encoded, member.flags, crc, packed, size, member.offset, True)

    # --- the end ----------------------------------------------------------------------------------------------

    def close(self) -> None:
        """The central directory (copied from its temporary file) and the end records."""
        if self.closed:
            return
        if self.busy:
            raise ValueError("A streamed member is still open.")
        self.closed = True
        start, size = self.offset, self.directory_size
        self.directory.seek(0)
        try:
            shutil.copyfileobj(self.directory, _Counter(self), CHUNK)
        finally:
            self.directory.close()
        count = self.count
        if count >= self.zip64_count or max(start, size, self.offset) >= self.zip64_size:
            end64 = self.offset
            self._write(_END64.pack(b"PK\x06\x06", _END64.size - 12, _MADE_BY, _VERSION64, 0, 0, count, count,
                                    size, start))
            self._write(_LOCATOR64.pack(b"PK\x06\x07", 0, end64, 1))
            count, size, start = _COUNT_MASK, _MASK, _MASK  # readers take the Zip64 record's values
        self._write(_END.pack(b"PK\x05\x06", 0, 0, count, count, size, start, 0))
        if hasattr(self.out, "flush"):
            self.out.flush()

    # --- inside -----------------------------------------------------------------------------------------------

    def _check(self) -> None:
        if self.closed:
            raise ValueError("The archive is closed.")
        if self.busy:
            raise ValueError("A streamed member is still open.")

    @staticmethod
    def _name(name: str) -> tuple[bytes, int]:
        if not name or name.startswith("/") or "\\" in name:
            raise ValueError(f"Not a ZIP member name: {name!r}")
        try:
            return name.encode("ascii"), 0
        except UnicodeEncodeError:
            return name.encode("utf-8"), _UTF8

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.offset += len(data)

    def _record(self, encoded: bytes, flags: int, crc: int, packed: int, size: int, offset: int,
                zip64: bool) -> None:
        """The member's central-directory record, into the temporary file (Zip64 extra for what does not fit;
        `zip64`: its local header had a Zip64 extra, so the version needed is Zip64's, as zipfile records it)."""
        # The Zip64 extra holds, in this order, the values whose classic field says _MASK.
        wide = [value for value in (size, packed, offset) if value >= self.zip64_size]
        extra = struct.pack(f"<HH{len(wide)}Q", 1, 8 * len(wide), *wide) if wide else b""
        packed_field, size_field, offset_field = (
            _MASK if value >= self.zip64_size else value for value in (packed, size, offset))
        record = _CENTRAL.pack(
            b"PK\x01\x02", _VERSION, 3, _VERSION64 if wide or zip64 else _VERSION, 0, flags, _DEFLATED, self.dos_time,
            self.dos_date, crc, packed_field, size_field, len(encoded), len(extra), 0, 0, 0, _FILE_MODE,
            offset_field) + encoded + extra
        self.directory.write(record)
        self.directory_size += len(record)
        self.count += 1


class _Member:
    """A streamed member being written: compressed, CRC'd and counted on the way."""

    def __init__(self, archive: ZipStream, encoded: bytes, flags: int, offset: int):
        self.archive, self.encoded, self.flags, self.offset = archive, encoded, flags, offset
        self.compressor = zlib.compressobj(archive.level, zlib.DEFLATED, -15)
        self.crc = self.size = self.packed = 0
        self.closed = False

    def __enter__(self) -> _Member:
        return self

    def __exit__(self, kind, exc, trace) -> None:
        if kind is None:
            self.close()

    def write(self, data: bytes) -> int:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        packed = self.compressor.compress(data)
        if packed:
            self.packed += len(packed)
            self.archive._write(packed)
        return len(data)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        tail = self.compressor.flush()
        self.packed += len(tail)
        self.archive._write(tail)
        self.archive._finish(self, self.crc, self.packed, self.size)


class _Counter:
    """The archive's output as a file for shutil.copyfileobj, keeping the offset."""

    def __init__(self, archive: ZipStream):
        self.archive = archive

    def write(self, data) -> int:
        self.archive._write(data)
        return len(data)

"""Streaming readers for import files: CSV (UTF-8 with or without BOM, Windows-1251 or KOI8-R; `;` or `,`) and
XLSX (first sheet, openpyxl read-only mode).

A reader recognises the header against a column specification (canonical names plus documented
Russian aliases, case-insensitive) and then yields one row at a time as a list of strings aligned with
the specification's columns; the whole file is never held in memory. Anything that makes the file
unreadable as a whole raises `FileRejected` with a Russian message that can be shown as is.
"""

import codecs
import csv
import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from defusedxml import ElementTree

from app.core.hardening import without_invisible
from app.core.uploads import overpacked

SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
# XLSX is a zip: its directory tells the unpacked sizes before anything is decompressed, so a zip bomb
# is refused up front (app/core/uploads.py overpacked). Worksheet XML packs 10–30× in practice; a bomb packs ~1000×.
XLSX_MAX_UNPACKED = 2 * 1024 ** 3
XML_PROLOG_LIMIT = 1024 * 1024
# openpyxl streams the worksheets but reads every other part whole, the shared-strings table above all (in memory
# about twice its unpacked size) before the first row. A results sheet has at most ~1M rows of one short participant
# code each (≈ 40 MB of strings), so four times that bounds the memory of a file that is not a bomb by ratio.
XLSX_MAX_WHOLE_PARTS = 160 * 1024 * 1024
CONTENT_TYPES_MAX = 1024 * 1024
# Parts of an XLSX archive. A workbook has a few dozen (Excel's 255 sheets, each with its relations, stay under 800);
# every XML part's start is read to refuse a DTD, so a ZIP of 60,000 small parts named .xlsx held the import 9 s
# (inline) before it was refused — as a file with a DTD, which it did not have (attack 13).
XLSX_MAX_PARTS = 1000
# openpyxl builds one row of a streamed worksheet whole before yielding it, and keeps what lies outside the rows:
# no stretch of a worksheet between two row starts (nor before the first, nor after the last) may be longer than
# this. A row of a results file is a few kilobytes; Excel's longest cell (32,767 characters) is at most 128 KB.
XLSX_MAX_ROW_BYTES = 8 * 1024 * 1024
_ROW_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
# The csv module builds a record whole: a 20 MB line of «12;» became 7 million strings (0.75 GB). No line of a file
# of ours comes near this (a row is a few hundred characters; one value may hold up to csv.field_size_limit()).
CSV_LINE_MAX_CHARS = 256 * 1024
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # XLS (Excel 97–2003) and other OLE compound files


class FileRejected(Exception):
    """The file cannot be read as a whole (format, encoding, header); nothing of it is imported."""

    def __init__(self, message: str, *, column: str = "", value: str = ""):
        super().__init__(message)
        self.message = message
        self.column = column
        self.value = value


def normalise_header(text) -> str:
    """Header cell → comparable form: lower case, ё→е, punctuation and underscores as spaces, single spaces."""
    text = without_invisible(str(text or "")).lower().replace("ё", "е")
    text = re.sub(r"[_%,.:;()\"'«»\-/]+", " ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass
class Spec:
    """The columns a kind of file may have. `numbered` recognises families like task_1 … task_N."""

    columns: tuple[Column, ...]
    numbered: tuple[str, str, re.Pattern] | None = None  # (canonical prefix, label, pattern with one group)
    # Task columns may also be headed by the work's own labels (1К1, 3(1), 5.2 …): a callable turning a
    # header cell into its canonical label, or None when the cell is not a task.
    task_label: Callable[[str], str | None] | None = None
    _lookup: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        for col in self.columns:
            for alias in (col.name, *col.aliases):
                self._lookup[normalise_header(alias)] = col.name

    def recognise(self, header_cell) -> str | None:
        key = normalise_header(header_cell)
        if key in self._lookup:
            return self._lookup[key]
        if self.numbered:
            prefix, _label, pattern = self.numbered
            match = pattern.fullmatch(key)
            if match and int(match.group(1)) >= 1:
                return f"{prefix}{int(match.group(1))}"
        return None

    def label(self, name: str) -> str:
        for col in self.columns:
            if col.name == name:
                return col.label
        if self.numbered and name.startswith(self.numbered[0]):
            return f"{self.numbered[1]} {name[len(self.numbered[0]):]}"
        return name


@dataclass
class Header:
    names: list[str]  # canonical name per file column; "" for an ignored empty header cell
    numbered: list[str]  # numbered columns in order (task_1, task_2, …)
    titles: dict[str, str]  # canonical name → the header text as written in the file (for error reports)
    labels: list[str] = field(default_factory=list)  # task labels in the order of `numbered` (1, 2 … or 1К1, 3(1) …)


def match_header(cells: list, spec: Spec) -> Header:
    """Map the header cells to canonical columns; refuse unknown, duplicated or missing columns.

    Task columns (a spec with `numbered`) are `task_1 … task_N` or the work's own labels: when every label
    is a plain number they must run 1…N without gaps and take that order, otherwise (1К1, 3(1), 5.2 …) they
    keep the order of the file; either way the k-th task is the column `task_k`."""
    names, unknown, seen, titles = [], [], {}, {}
    tasks: list[tuple[int, str, str]] = []  # (index into names, label, header text)
    for position, cell in enumerate(cells, 1):
        if str(cell or "").strip() == "":
            names.append("")
            continue
        name = spec.recognise(cell)
        label = None
        if spec.numbered and (name is None or name.startswith(spec.numbered[0])):
            label = spec.task_label(cell) if spec.task_label else None
            if label is None and name is not None:
                label = name[len(spec.numbered[0]):]
        if label is not None:
            text = str(cell).replace("\ufeff", "").strip()
            earlier = next((t for t in tasks if t[1] == label), None)
            if earlier is not None:
                raise FileRejected(f"Задание «{label}» указано дважды (столбцы «{earlier[2]}» и «{text}»).",
                                   column=text)
            tasks.append((len(names), label, text))
            names.append("")
            continue
        if name is None:
            unknown.append(str(cell).strip())
            names.append("")
            continue
        if name in seen:
            raise FileRejected(f"Столбец «{spec.label(name)}» указан дважды (столбцы {seen[name]} и {position}).",
                               column=str(cell).strip())
        seen[name] = position
        titles[name] = str(cell).replace("\ufeff", "").strip()
        names.append(name)
    if unknown:
        shown = ", ".join(f"«{u[:60]}»" for u in unknown[:10])
        raise FileRejected(f"Неизвестные столбцы: {shown}. Уберите их из файла или назовите так, как указано в "
                           "описании формата.", column=unknown[0][:60])
    missing = [col for col in spec.columns if col.required and col.name not in seen]
    if missing:
        shown = ", ".join(f"«{col.name}» ({col.label})" for col in missing)
        raise FileRejected(f"Нет обязательных столбцов: {shown}.", column=missing[0].name)
    numbered, labels = [], []
    if tasks:
        prefix = spec.numbered[0]
        if all(label.isdigit() for _i, label, _t in tasks):
            tasks.sort(key=lambda t: int(t[1]))
            numbers = [int(label) for _i, label, _t in tasks]
            if numbers != list(range(1, len(numbers) + 1)):
                gap = next(n for n in range(1, numbers[-1] + 1) if n not in numbers)
                raise FileRejected(f"Столбцы заданий должны идти подряд с первого: нет столбца «{prefix}{gap}».",
                                   column=f"{prefix}{gap}")
        for k, (index, label, text) in enumerate(tasks, 1):
            names[index] = f"{prefix}{k}"
            titles[names[index]] = text
            numbered.append(names[index])
            labels.append(label)
    return Header(names=names, numbered=numbered, titles=titles, labels=labels)


class Table:
    """An opened import file: `columns` (canonical names), `rows()` yields (row number, cells)."""

    format = ""
    encoding = ""
    delimiter = ""

    def __init__(self, path: Path, spec: Spec):
        self.path = Path(path)
        self.spec = spec
        self.size = self.path.stat().st_size
        self.header: Header | None = None
        # Cell problems the reader itself found in the row just yielded (XLSX formulas): (column, message).
        self.problems: list[tuple[str, str]] = []

    @property
    def columns(self) -> list[str]:
        return self.header.names

    def rows(self):
        raise NotImplementedError

    def fraction_read(self) -> float:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def describe(self) -> dict:
        return {"format": self.format, "encoding": self.encoding, "delimiter": self.delimiter}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_table(path, spec: Spec) -> Table:
    """Open a CSV or XLSX file (recognised by content, not by name) and read its header."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    if not head.strip():
        raise FileRejected("Файл пуст.")
    if head.startswith(ZIP_MAGIC):
        return XlsxTable(path, spec)
    if head.startswith(OLE_MAGIC):
        raise FileRejected("Формат XLS (Excel 97–2003) не поддерживается: сохраните файл как XLSX или CSV.")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise FileRejected("Файл с расширением .xlsx не является книгой Excel (XLSX): он повреждён или это "
                           "файл другого типа с изменённым расширением.")
    return CsvTable(path, spec)


# --- CSV -------------------------------------------------------------------------------------

def detect_encoding(path: Path) -> str:
    """UTF-8 (a BOM is dropped) when the whole file decodes as UTF-8, else Windows-1251 or KOI8-R (is_koi8_r);
    anything that is none of them (UTF-16, binary data) is refused. The check streams the file once: it is a fast
    C loop."""
    with open(path, "rb") as fh:
        head = fh.read(4)
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE starts both
            raise FileRejected("Неизвестная кодировка файла (UTF-32). Сохраните CSV в кодировке UTF-8 или "
                               "Windows-1251.")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise FileRejected("Неизвестная кодировка файла (UTF-16). Сохраните CSV в кодировке UTF-8 или "
                               "Windows-1251.")
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        utf8 = True
        while chunk := fh.read(CHUNK_BYTES):
            if b"\x00" in chunk:
                raise FileRejected("Файл не похож на текстовый CSV (содержит двоичные данные) или записан в "
                                   "неизвестной кодировке. Нужен CSV в кодировке UTF-8 или Windows-1251, либо XLSX.")
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    if utf8:
        return "utf-8-sig"
    # Windows-1251 maps every byte but 0x98; a file that is not UTF-8 and has it is neither encoding.
    # It maps every other byte, so a UTF-8 file with one broken sequence (a damaged copy, two files glued together)
    # was read whole as Windows-1251 and its names stored as «РЁРєРѕР»Р°» (attack 8). Read as UTF-8 with the broken
    # sequences replaced, Windows-1251 Cyrillic is nearly all broken sequences, UTF-8 nearly none: more good
    # non-ASCII characters than broken ones is a damaged UTF-8 file, refused naming the line of the first break.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    good = broken = lines = 0
    first_broken_line = None
    sample = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            sample = sample or chunk
            if b"\x98" in chunk:
                raise FileRejected("Неизвестная кодировка файла: он не в UTF-8 и не в Windows-1251. Сохраните CSV "
                                   "в одной из этих кодировок.")
            text = decoder.decode(chunk)
            n = text.count("\ufffd")
            if n and first_broken_line is None:
                first_broken_line = lines + text.count("\n", 0, text.index("\ufffd")) + 1
            broken += n
            good += len(text) - len(text.encode("ascii", "ignore")) - n
            lines += text.count("\n")
    broken += decoder.decode(b"", final=True).count("\ufffd")
    if good > broken:
        raise FileRejected(f"Файл записан в UTF-8, но в строке {first_broken_line or lines + 1} есть байты, которые в "
                           "этой кодировке не читаются: файл повреждён или собран из частей в разных кодировках. "
                           "Сохраните CSV заново в кодировке UTF-8.")
    return single_byte_encoding(sample)


# The letters о, е, а, и: about a third of the letters of any Russian text, in capitals or not.
_COMMON_LETTERS = "оеаи"


def is_koi8_r(sample: bytes) -> bool:
    """Whether single-byte Cyrillic text (the file's first megabyte) is KOI8-R rather than Windows-1251. KOI8-R
    read as Windows-1251 was stored as «нпх "ыЛПМБ и"»: the two encodings put the letters in the same byte range
    with the case swapped (0xC0–0xDF: capitals in Windows-1251, small letters in KOI8-R). What decides is a sign
    the case does not change: о, е, а, и are a third of the letters of Russian text in its right reading and under a
    fifth in the wrong one — so a Windows-1251 file written in capitals («МОУ «ПРИЁМНАЯ ШКОЛА»») stays Windows-1251,
    and a KOI8-R one written in capitals is KOI8-R (deciding by the case first read it as Windows-1251). Only when
    that sign is even (too few letters to tell) does the case decide: in Russian text small letters dominate."""
    def common(encoding: str) -> int:
        text = sample.decode(encoding, errors="replace").lower()
        return sum(text.count(letter) for letter in _COMMON_LETTERS)

    koi8, cp1251 = common("koi8-r"), common("cp1251")
    if koi8 != cp1251:
        return koi8 > cp1251
    capitals = sum(sample.count(bytes([b])) for b in range(0xC0, 0xE0))
    small = sum(sample.count(bytes([b])) for b in range(0xE0, 0x100))
    return capitals > small


def single_byte_encoding(sample: bytes) -> str:
    """The codec of single-byte Cyrillic text that is not UTF-8: KOI8-R or Windows-1251 (is_koi8_r)."""
    return "koi8-r" if is_koi8_r(sample) else "cp1251"


class CsvTable(Table):
    format = "csv"

    def __init__(self, path: Path, spec: Spec):
        super().__init__(path, spec)
        self.encoding = detect_encoding(self.path)
        with open(self.path, "rb") as raw:
            # a UTF-8 BOM before Windows-1251 text (an editor that added it to a file it did not convert) would be
            # read as «п»ї», the start of the first column's name in the «unknown columns» message
            if raw.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
                raw.seek(0)
            text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
            try:
                first_line = text.readline(CSV_LINE_MAX_CHARS + 1)
            finally:
                text.detach()  # the file is closed by its own `with`, not by the wrapper's collection
        if len(first_line) > CSV_LINE_MAX_CHARS:
            raise FileRejected(f"Первая строка файла длиннее {_line_limit()} символов: это не заголовок таблицы. "
                               "Первая строка должна содержать только названия столбцов, разделённые точкой с запятой "
                               "или запятой.", value=first_line[:100].strip())
        self.delimiter, cells = self._pick_delimiter(first_line)
        self.header = match_header(cells, spec)
        self._raw = None

    def _pick_delimiter(self, line: str) -> tuple[str, list[str]]:
        best = None
        for delimiter in (";", ","):
            try:
                cells = next(csv.reader([line], delimiter=delimiter), [])
            except csv.Error as exc:
                raise FileRejected(f"Не удалось прочитать заголовок: {csv_problem(exc)}",
                                   value=line[:100].strip()) from None
            known = sum(1 for c in cells if self.spec.recognise(c))
            if best is None or known > best[0]:
                best = (known, delimiter, cells)
        known, delimiter, cells = best
        if known == 0:
            raise FileRejected("Не удалось прочитать заголовок: в первой строке нет известных столбцов ни при "
                               "разделителе «;», ни при «,». Первая строка файла должна содержать названия "
                               "столбцов, разделённые точкой с запятой или запятой.", value=line[:100].strip())
        return delimiter, cells

    def rows(self):
        width = len(self.header.names)
        raw = open(self.path, "rb")
        self._raw = raw
        try:
            text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
            reader = csv.reader(_bounded_lines(text), delimiter=self.delimiter)
            try:
                next(reader)  # header
                row_no = 1
                for cells in reader:
                    row_no += 1
                    if len(cells) != width:
                        if not cells or not any(c.strip() for c in cells):
                            continue
                        if len(cells) < width:
                            cells = cells + [""] * (width - len(cells))
                        elif any(c.strip() for c in cells[width:]):
                            self.problems = [("", f"в строке {len(cells)} значений, а в заголовке {width} столбцов")]
                            cells = cells[:width]
                        else:
                            cells = cells[:width]
                    elif not any(cells):
                        continue
                    yield row_no, [without_invisible(c) for c in cells]
                    if self.problems:
                        self.problems = []
            except csv.Error as exc:
                raise FileRejected(f"Строка {row_no + 1}: файл CSV повреждён: {csv_problem(exc)}") from None
            except _LineTooLong:
                raise FileRejected(f"Строка {row_no + 1}: строка файла длиннее {_line_limit()} символов; в файле "
                                   "результатов таких не бывает. Проверьте, что это тот файл, и сохраните таблицу "
                                   "снова как CSV.") from None
        finally:
            raw.close()
            self._raw = None

    def fraction_read(self) -> float:
        if self._raw is None or self._raw.closed or not self.size:
            return 0.0
        return min(1.0, self._raw.tell() / self.size)


class _LineTooLong(Exception):
    pass


def _bounded_lines(text):
    """The file's physical lines for csv.reader, each at most CSV_LINE_MAX_CHARS long (else _LineTooLong): a quoted
    value may still span lines, and is bounded by csv.field_size_limit()."""
    while line := text.readline(CSV_LINE_MAX_CHARS + 1):
        if len(line) > CSV_LINE_MAX_CHARS:
            raise _LineTooLong()
        yield line


def _line_limit() -> str:
    return f"{CSV_LINE_MAX_CHARS:,}".replace(",", "\u00a0")


def csv_problem(exc: csv.Error) -> str:
    """The csv module's reason in Russian (its own text is English and means nothing to the user)."""
    if "field larger than field limit" in str(exc):
        limit = f"{csv.field_size_limit():,}".replace(",", "\u00a0")
        return (f"значение длиннее {limit} символов. Чаще всего это незакрытая кавычка «\"»: всё, что после неё, "
                "читается как одно значение.")
    return "нарушена разметка CSV (кавычки или разделители). Пересохраните файл из Excel или LibreOffice как CSV."


# --- XLSX ------------------------------------------------------------------------------------

def _check_xml_prolog(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse any DTD: entity declarations (billion laughs, external entities) can only live there.
    Reads the member only up to its root element, so nothing big is decompressed."""
    data = b""
    with archive.open(info) as member:
        while len(data) < XML_PROLOG_LIMIT:
            chunk = member.read(16 * 1024)
            if not chunk:
                break
            data += chunk
            verdict = _prolog_verdict(data, final=False)
            if verdict is not None:
                if verdict:
                    return
                break
        else:
            verdict = None
        if verdict is None and _prolog_verdict(data, final=True):
            return
    if re.search(rb"<!(?:DOCTYPE|ENTITY)", data):
        raise FileRejected("Файл XLSX содержит недопустимые конструкции XML (DTD или объявления сущностей) и не может "
                           "быть прочитан безопасно. Пересохраните его в Excel или LibreOffice.")
    # Not XML at all (or not in UTF-8): a DTD is not what is wrong, and saying so sent the sender looking for one.
    raise FileRejected(f"Файл не является книгой Excel (XLSX): часть архива «{info.filename[:80]}» — не XML в "
                       "кодировке UTF-8, как в книгах Excel. Пересохраните файл в Excel или LibreOffice как XLSX "
                       "или сохраните лист как CSV.")


def _prolog_verdict(data: bytes, *, final: bool):
    """True: the root element starts with no DTD before it; False: a DTD or an unexpected encoding;
    None: need more bytes."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    pos = 3 if data.startswith(codecs.BOM_UTF8) else 0
    while True:
        while pos < len(data) and data[pos:pos + 1] in b" \t\r\n":
            pos += 1
        rest = data[pos:]
        if len(rest) < 9:
            return False if final else None
        if rest.startswith(b"<?"):
            end = data.find(b"?>", pos)
            if end < 0:
                return False if final else None
            pos = end + 2
        elif rest.startswith(b"<!--"):
            end = data.find(b"-->", pos)
            if end < 0:
                return False if final else None
            pos = end + 3
        elif rest.startswith(b"<!"):
            return False  # <!DOCTYPE …> or anything else declarative
        elif rest.startswith(b"<"):
            return True
        else:
            return False


def check_xlsx_container(path: Path) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise FileRejected("Файл не является книгой Excel (XLSX): архив повреждён.") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > XLSX_MAX_PARTS:
            parts, limit = (f"{n:,}".replace(",", "\u00a0") for n in (len(infos), XLSX_MAX_PARTS))
            raise FileRejected(f"Файл не является книгой Excel (XLSX): в архиве {parts} частей, а в книге их "
                               f"несколько десятков (допустимо не более {limit}). Загрузите таблицу результатов "
                               "отдельным файлом CSV или XLSX, не архивом.")
        names = {i.filename for i in infos}
        if "xl/workbook.xml" not in names:
            raise FileRejected("Файл не является книгой Excel (XLSX): в архиве нет книги.")
        if overpacked(infos) is not None:
            raise FileRejected("Файл XLSX отклонён: степень сжатия подозрительно велика (возможна «zip-бомба»).")
        if sum(info.file_size for info in infos) > XLSX_MAX_UNPACKED:
            raise FileRejected("Файл XLSX отклонён: в распакованном виде он больше "
                               f"{XLSX_MAX_UNPACKED // 1024 ** 3} ГБ.")
        for info in infos:
            if info.filename.endswith((".xml", ".rels", ".vml")):
                _check_xml_prolog(archive, info)
        sheets = _worksheet_parts(archive)
        for info in infos:
            if info.filename in sheets:
                _check_row_stretches(archive, info)
        whole = sum(i.file_size for i in infos if i.filename not in sheets)
        if whole > XLSX_MAX_WHOLE_PARTS:
            raise FileRejected("Файл XLSX отклонён: в нём слишком много текста вне листов (таблица строк и другие "
                               f"части больше {XLSX_MAX_WHOLE_PARTS // 1024 ** 2} МБ в распакованном виде); в файле "
                               "результатов столько не бывает. Проверьте файл или сохраните лист как CSV.")


def _check_row_stretches(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse a worksheet with a stretch longer than XLSX_MAX_ROW_BYTES between row starts (a giant cell, a row of
    thousands of cells, megabytes outside the rows), streaming it once: openpyxl would hold such a stretch whole."""
    since_row = 0  # bytes since the last row start
    tail = b""  # the end of the previous chunk, so a row start split between two chunks is still seen
    with archive.open(info) as member:
        while chunk := member.read(CHUNK_BYTES):
            data = tail + chunk
            last = None
            for match in _ROW_START.finditer(data):
                last = match.start()
            if last is None:
                since_row += len(chunk)
            else:
                since_row = len(data) - last
            if since_row > XLSX_MAX_ROW_BYTES:
                raise FileRejected(f"Файл XLSX отклонён: на листе есть строка или ячейка длиннее "
                                   f"{XLSX_MAX_ROW_BYTES // 1024 ** 2} МБ (в ячейке Excel не больше 32 767 "
                                   "символов). Проверьте файл или сохраните лист как CSV.")
            tail = data[-64:]


def _worksheet_parts(archive: zipfile.ZipFile) -> set[str]:
    """The members [Content_Types].xml declares worksheets: the only parts openpyxl streams in read-only mode
    (whatever they are named; the shared strings may be named anything too)."""
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        return set()
    if info.file_size > CONTENT_TYPES_MAX:
        raise FileRejected("Файл XLSX отклонён: его оглавление ([Content_Types].xml) слишком велико.")
    try:
        root = ElementTree.fromstring(archive.read(info))
    except (ElementTree.ParseError, ValueError):  # defusedxml's refusals are ValueErrors
        raise FileRejected("Файл не является книгой Excel (XLSX): архив повреждён.") from None
    return {element.get("PartName", "").lstrip("/") for element in root
            if element.get("ContentType") == WORKSHEET_TYPE}


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        # A logical cell reads as Russian Excel shows it, not as 1/0: TRUE typed as a task score was loaded as the
        # score 1 (attack 21). The organisation import knows these words (formats.BOOLEANS); a number column refuses
        # them with its row and column.
        return "ИСТИНА" if value else "ЛОЖЬ"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


DAMAGED_ROW = "Файл XLSX повреждён: не удалось прочитать строку {}."


class XlsxTable(Table):
    format = "xlsx"
    encoding = "xlsx"

    def __init__(self, path: Path, spec: Spec):
        super().__init__(path, spec)
        check_xlsx_container(self.path)
        self._workbook = None
        self._rows_seen = 0
        self._max_row = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # Local: heavy: openpyxl loads only when a spreadsheet is read or written.
                from openpyxl import load_workbook

                self._workbook = load_workbook(self.path, read_only=True, data_only=False, keep_links=False)
                sheet = self._workbook.worksheets[0] if self._workbook.worksheets else None
        except FileRejected:
            raise
        except Exception:
            self.close()
            raise FileRejected("Файл XLSX не удалось прочитать: он повреждён или сохранён не в формате "
                               "Excel.") from None
        if sheet is None or not hasattr(sheet, "iter_rows"):
            self.close()
            raise FileRejected("В книге XLSX первый лист не является таблицей.")
        self._sheet = sheet
        self._max_row = sheet.max_row
        # Declared dimensions may be wrong (some generators write A1): read every row that is there.
        sheet.reset_dimensions()
        self._iter = self._cells()
        try:
            first = next(self._iter, None)
        except Exception:  # the header row is parsed here, before rows() guards the rest (a sheet cut off in it)
            self.close()
            raise FileRejected(DAMAGED_ROW.format(1)) from None
        if first is None:
            self.close()
            raise FileRejected("Файл пуст: на первом листе нет ни одной строки.")
        self.header = match_header([_cell_text(c.value).strip() for c in first[1]], spec)

    def _cells(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for row_no, row in enumerate(self._sheet.iter_rows(), 1):
                self._rows_seen = row_no
                yield row_no, row

    def rows(self):
        width = len(self.header.names)
        names = self.header.names
        try:
            for row_no, row in self._iter:
                cells, problems = [], []
                for position, cell in enumerate(row[:width]):
                    if getattr(cell, "data_type", None) == "f":
                        problems.append((names[position], "формулы не допускаются: вставьте значения "
                                                          "(Специальная вставка → Значения)"))
                        cells.append("")
                    else:
                        cells.append(_cell_text(cell.value))
                if len(cells) < width:
                    cells += [""] * (width - len(cells))
                if any(_cell_text(c.value).strip() for c in row[width:]):
                    problems.append(("", f"значения за последним столбцом заголовка (столбец {width + 1} и далее)"))
                if not problems and not any(c.strip() for c in cells):
                    continue
                self.problems = problems
                yield row_no, [without_invisible(c) for c in cells]
                self.problems = []
        except FileRejected:
            raise
        except Exception:
            raise FileRejected(DAMAGED_ROW.format(self._rows_seen + 1)) from None
        finally:
            self.close()

    def fraction_read(self) -> float:
        if not self._max_row:
            return 0.0
        return min(1.0, self._rows_seen / self._max_row)

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None

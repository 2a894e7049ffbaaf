"""What in a Word package points outside it, so that opening the file fetches it.

LibreOffice opens every registered document to make its PDF copy, on the server. A linked (not embedded)
picture, an attached template, a subdocument or a frame of a package refer to their target by address
(`TargetMode="External"` in a part's relationships), as do the fields INCLUDEPICTURE, INCLUDETEXT, LINK and DDE
in the text: a template uploaded with one would make the server request any address its author chose, inside
the closed municipal network too (server-side request forgery), and show what came back in the document. A
hyperlink is an address too, but nothing follows it until a reader clicks it, so it stays allowed.

A package packed inside the template (an embedded object's .docx, or the document an `altChunk` imports, which
LibreOffice opens as part of the text) is checked as the template is: a picture linked from such an inner document
was requested by the PDF conversion, while only the template's own parts were read (attack 18). An `altChunk` is
refused whatever it imports — a template's text is its own, and LibreOffice's import of other formats (HTML, RTF)
into it may fetch what they link to.

Used by rendering.check_template on an uploaded template and on its rendering with sample data: such a template
is kept in the history as not valid and never becomes the active one.
"""

import io
import re
import zipfile

from defusedxml import ElementTree

from app.core import uploads

_HYPERLINK = "/hyperlink"
_ALT_CHUNK = "/afchunk"
# Packages inside packages: Word embeds a document with its own embedded objects; deeper is not a template.
_NESTED_DEPTH = 3
# The most a package inside the template may unpack to, as the template itself (uploads' "template" purpose).
_NESTED_UNPACKED = 32 * 1024 * 1024
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Field instructions that fetch what they name when the document is opened or its fields are updated.
_FETCHING_FIELD = re.compile(r"^\s*(INCLUDEPICTURE|INCLUDETEXT|INCLUDE|LINK|DDEAUTO|DDE|IMPORT)\b", re.IGNORECASE)


def outside_links(data: bytes, *, _depth: int = 0) -> list[str]:
    """Problems (in Russian), one per part or field of the .docx `data` that refers to something outside the
    package, or imports another file into its text; empty when there is none or the file is not a ZIP package (its
    readers report that)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        return []
    problems: list[str] = []
    with archive:
        for name in archive.namelist():
            if _is_package(archive, name):
                problems += _nested(archive, name, _depth)
                continue
            if not (name.endswith(".rels") or name.startswith("word/") and name.endswith(".xml")):
                continue
            root = _parse(archive, name)
            if root is None:
                # what cannot be read safely cannot be cleared: an entity declaration could spell an address
                problems.append(f"Часть «{name[:100]}» шаблона не читается как XML без объявлений сущностей: "
                                "сохраните шаблон заново в Word или LibreOffice.")
            elif name.endswith(".rels"):
                problems += _external_relationships(root)
            else:
                problems += _fetching_fields(root)
    return problems


def _parse(archive: zipfile.ZipFile, name: str):
    # The package passed the upload's size and compression checks (app/core/uploads.py); defusedxml refuses entity
    # declarations and DTDs with them (ValueErrors).
    try:
        return ElementTree.fromstring(archive.read(name))
    except (ElementTree.ParseError, zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None


def _is_package(archive: zipfile.ZipFile, name: str) -> bool:
    try:
        with archive.open(name) as part:
            return part.read(4) == b"PK\x03\x04"
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return False


def _nested(archive: zipfile.ZipFile, name: str, depth: int) -> list[str]:
    """The problems of the package packed in the part `name`, each naming the part; one problem when it cannot be
    checked — nested too deep, or packed like a zip bomb (its declared sizes bound what is read)."""
    where = f"Во вложенном файле «{name[:100]}» шаблона"
    unreadable = [f"{where} не удаётся проверить ссылки: уберите из шаблона вложенный файл или объект."]
    if depth + 1 >= _NESTED_DEPTH:
        return unreadable
    try:
        data = archive.read(name)
        count = uploads.zip_part_count(data)
        if count is not None and count > uploads.ZIP_MAX_PARTS:
            return unreadable
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            members = inner.infolist()
            if uploads.overpacked(members) or sum(m.file_size for m in members) > _NESTED_UNPACKED:
                return unreadable
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return []  # not a package after all: nothing in it is opened as one
    return [f"{where}: {problem}" for problem in outside_links(data, _depth=depth + 1)]


def _external_relationships(root) -> list[str]:
    problems = []
    for relation in root.iter():
        if not relation.tag.endswith("Relationship"):
            continue
        kind = (relation.get("Type") or "").lower()
        if kind.endswith(_ALT_CHUNK):
            problems.append(f"Шаблон вставляет содержимое другого файла «{relation.get('Target', '')[:200]}» "
                            "(altChunk): его открывает программа печати документа на сервере. Вставьте текст в сам "
                            "шаблон.")
        elif (relation.get("TargetMode") or "").lower() == "external" and not kind.endswith(_HYPERLINK):
            problems.append(f"Шаблон ссылается на внешний файл «{relation.get('Target', '')[:200]}»: при печати "
                            "документа сервер обратился бы по этому адресу. Вставьте рисунок или текст в сам "
                            "шаблон, а не ссылку на него.")
    return problems


def _fetching_fields(root) -> list[str]:
    return [f"Поле «{' '.join(code.split())[:200]}» в шаблоне загружает внешний файл при открытии документа: такие "
            "поля (INCLUDEPICTURE, INCLUDETEXT, LINK, DDE) не допускаются."
            for code in _field_codes(root) if _FETCHING_FIELD.match(code)]


def _field_codes(root) -> list[str]:
    """Each field's instruction: a simple field's attribute, or a complex field's instrText runs from its «begin»
    to its «separate» (or «end») joined — Word splits one instruction over several runs, «INCLUDE» + «PICTURE»."""
    codes = [node.get(f"{_W}instr") or "" for node in root.iter(f"{_W}fldSimple")]
    open_fields: list[list[str] | None] = []
    for node in root.iter():
        if node.tag == f"{_W}fldChar":
            kind = node.get(f"{_W}fldCharType")
            if kind == "begin":
                open_fields.append([])
            elif kind == "separate" and open_fields and open_fields[-1] is not None:
                codes.append("".join(open_fields[-1]))
                open_fields[-1] = None
            elif kind == "end" and open_fields:
                parts = open_fields.pop()
                if parts is not None:
                    codes.append("".join(parts))
        elif node.tag == f"{_W}instrText":
            if open_fields and open_fields[-1] is not None:
                open_fields[-1].append(node.text or "")
            else:
                codes.append(node.text or "")  # outside a field's begin … separate: judged alone
    return codes

"""The document linter: what a records office would refuse to sign, found in the text of a generated .docx.

`lint(data, registered=False)` opens the file with python-docx and returns the problems, each a Russian
sentence naming the rule and quoting the place. It looks for machine output (Python lists and dicts, None,
True/False, ISO dates, raw state codes such as awaiting_signature, a time-zone identifier, floats with more than
two decimals, a decimal point between digits), Latin mechanism and sign codes in running text (M2.3, K3, I1.1),
truncation («…» right after a letter), nested identical quote marks («…«…»»), double full stops, a position
written with a capital letter inside a sentence, an addressee block whose position or name is not in the
dative (pymorphy3), a header without a PAGE field (ГОСТ Р 7.0.97: page numbers from the second page), and in a
registered copy, requisites left blank (`«___»`, `№ ______`).

`demo_documents()` renders every document type from the database (the demo's closed cycle): the stored files
of the documents that exist — the registered copy where there is one — and a draft of every type. It is used by
`flask documents lint` and by tests/test_document_text.py.
"""

import io
import re
import sys
import zipfile
from dataclasses import dataclass

import click
from docx import Document as Docx
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from app.core.cli import CommandGroup
from sqlalchemy import select

from app.core import russian as ru
from app.cycles.models import Cycle
from app.documents import contexts, owners, rendering, services, storage
from app.documents.catalogue import cycle_types, document_types
from app.documents.models import Document
from app.documents.owned import build_owned_context
from app.extensions import db
from app.orgs.models import Organisation

# --- the rules on text -----------------------------------------------------------------------------------------

PY_REPR = re.compile(r"\[\s*['\"\d]|['\"\d]\s*\]|\{\s*'|\bNone\b|\bTrue\b|\bFalse\b")
LONG_FLOAT = re.compile(r"(?<![\d.,])\d+[.,]\d{3,}(?!\d|[.,]\d)")
DECIMAL_POINT = re.compile(r"(?<![\d.\w])\d+\.\d+(?![\d.])")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b(?![\w.-]*@)")  # an e-mail's local part («region_official@…») is no code
TIME_ZONE = re.compile(r"\b(?:Europe|Asia|UTC|Etc)/[A-Za-z_]+")
LATIN_CODE = re.compile(r"(?<![\w./-])(?:[MМ]\d+\.\d+|[KI]\d+(?:\.\d+)?)(?![\w-])")
TRUNCATED = re.compile(r"[A-Za-zА-Яа-яЁё](?:…|\.\.\.)")
NESTED_QUOTES = re.compile(r"«[^«»]*«")
DOUBLE_STOP = re.compile(r"(?<!\.)\.\s*\.(?!\.)")
BLANK_REQUISITE = re.compile(r"«_+»|№\s*_{3,}|от\s*_{3,}|тел\.\s*_{3,}")
CAPITAL_POSITION = re.compile(r"[,;]\s+(Начальник|Директор|Заместитель|Руководитель|Специалист|Методист|Заведующ"
                              r"\w*|Главный|Ведущий|Председатель|Секретарь|Специалисты|Руководители)\b")
# «Н.И. Ковалёвой», «А.-М.С. Римской‑Корсаковой» (rendering makes a name's hyphen non-breaking, U+2011)
NAME_LINE = re.compile(r"^(?:[А-ЯЁ]\.(?:[-‑][А-ЯЁ]\.)?\s?){1,2}([А-ЯЁ][а-яё]+(?:[-‑][А-ЯЁ][а-яё]+)?)$")


@dataclass(frozen=True)
class Block:
    """One piece of a document's text and where it stands: body paragraph, table cell, header."""
    text: str
    where: str  # "body", "table", "header"


def _blocks(doc) -> list[Block]:
    out: list[Block] = []

    def walk(container, where):
        for item in container.iter_inner_content():
            if isinstance(item, Table):
                for row in item.rows:
                    for cell in row.cells:
                        walk(cell, "table")
            else:
                out.append(Block(item.text, where))

    walk(doc, "body")
    for section in doc.sections:
        for part in (section.header, section.first_page_header):
            if not part.is_linked_to_previous:
                walk(part, "header")
    # a text box (the executor mark at the foot of the last page) is out of python-docx's paragraphs and tables
    for box in doc.element.body.iter(qn("w:txbxContent")):
        out += [Block(Paragraph(p, None).text, "textbox") for p in box.iter(qn("w:p"))]
    return out


def _quote(text: str, start: int, end: int) -> str:
    return "«" + text[max(0, start - 25):end + 25].strip() + "»"


def _is_dative(word: str) -> bool:
    # the analyser is built once per process (app.core.russian)
    return any("datv" in p.tag or "Fixd" in p.tag for p in ru.morph().parse(word))


def _addressee_problems(doc) -> list[str]:
    """A letter's addressee block is the right cell of the бланк table (the first table of the body)."""
    tables = doc.tables
    if not tables or len(tables[0].columns) != 2 or not tables[0].rows:
        return []
    lines = [p.text.strip() for p in tables[0].rows[0].cells[-1].paragraphs if p.text.strip()]
    if lines and lines[0] == "УТВЕРЖДАЮ":  # the stamps of an approved document, not a letter's addressee
        return []
    problems = []
    for line in lines:
        first = line.split()[0]
        if first in ("Руководителям", "(по"):
            continue
        name = NAME_LINE.match(line)
        if name:
            if not _is_dative(name.group(1)):
                problems.append(f"Адресат не в дательном падеже: «{line}».")
        elif first[0].isupper() and not first.isupper() and not _is_dative(first):
            problems.append(f"Должность адресата не в дательном падеже: «{line}».")
    return problems


def _page_field(data: bytes) -> bool:
    """A PAGE field in a header part (simple field or field code)."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            if re.match(r"word/header\d*\.xml$", name):
                xml = package.read(name).decode("utf-8")
                if re.search(r'w:instr="\s*PAGE\b|<w:instrText[^>]*>\s*PAGE\b', xml):
                    return True
    return False


RULES = (
    (PY_REPR, "служебный вывод программы (список, словарь, None, True/False)", ("body", "table", "textbox", "header")),
    (LONG_FLOAT, "число с более чем двумя знаками после запятой", ("body", "table", "textbox")),
    (ISO_DATE, "дата в формате ГГГГ-ММ-ДД", ("body", "table", "textbox", "header")),
    (RAW_CODE, "внутренний код вместо слов", ("body", "table", "textbox", "header")),
    (TIME_ZONE, "идентификатор часового пояса", ("body", "table", "textbox", "header")),
    (DECIMAL_POINT, "десятичная точка вместо запятой", ("body",)),
    (LATIN_CODE, "латинский код механизма или признака в тексте", ("body",)),
    (TRUNCATED, "обрезанный текст («…» после буквы)", ("body", "table", "textbox")),
    (NESTED_QUOTES, "вложенные одинаковые кавычки «…«…»»", ("body", "table", "textbox", "header")),
    (DOUBLE_STOP, "две точки подряд", ("body", "table", "textbox")),
    (CAPITAL_POSITION, "должность с прописной буквы внутри предложения", ("body", "table", "textbox")),
)


def lint_text(blocks: list[Block], *, registered: bool = False) -> list[str]:
    problems = []
    for block in blocks:
        for pattern, rule, places in RULES:
            if block.where not in places:
                continue
            for match in pattern.finditer(block.text):
                problems.append(f"{rule}: {_quote(block.text, match.start(), match.end())}")
        if registered:
            for match in BLANK_REQUISITE.finditer(block.text):
                problems.append("незаполненный реквизит в зарегистрированном экземпляре: "
                                f"{_quote(block.text, match.start(), match.end())}")
    return problems


def lint(data: bytes, *, registered: bool = False) -> list[str]:
    """The problems of the .docx `data` (empty when it is one a head would sign)."""
    doc = Docx(io.BytesIO(data))
    problems = lint_text(_blocks(doc), registered=registered)
    problems += _addressee_problems(doc)
    if not _page_field(data):
        problems.append("нет номера страницы (поле PAGE в верхнем колонтитуле со второй страницы)")
    return problems


# --- every document type of the database ----------------------------------------------------------------------

def demo_documents():
    """(label, bytes, registered) for every stored document's current file (its registered copy where there is
    one) and a draft of every type rendered from the latest closed cycle (the demo's M2.3)."""
    for doc in db.session.scalars(select(Document).order_by(Document.id)):
        version = doc.current
        if version is None or version.status != "done":
            continue
        where = f"{doc.stage.title}, {doc.cycle.title}" if doc.owner_type is None else doc.subject_title
        label = f"{doc.title} № {doc.id} ({where})"
        path = storage.registered_path(version) if version.registered_path else storage.version_path(version)
        if path is not None and path.exists():
            yield label, path.read_bytes(), bool(version.registered_path)
    # A draft of each type an owner other than a stage makes (an assessment campaign's), from the owner its kind
    # offers as a sample.
    for dtype in document_types().values():
        sample = owners.kind_of(dtype.owner).sample if dtype.owner else None
        owner = sample() if sample else None
        if owner is not None:
            ctx = build_owned_context(dtype.key, owner)
            label = f"{dtype.title} (проект, {owners.kind_of(dtype.owner).title(owner)})"
            yield label, rendering.render(dtype.key, ctx), False
    closed = [c for c in db.session.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed"]
    if not closed:
        return
    cycle = closed[0]
    for dtype in cycle_types():
        stage = cycle.stage(dtype.stages[0])
        addressee = None
        if dtype.per_addressee:
            ids = services.recommendation_addressee_ids(stage)
            addressee = db.session.get(Organisation, ids[0]) if ids else None
        ctx = contexts.build_context(dtype.key, stage, addressee=addressee)
        yield f"{dtype.title} (проект, {cycle.title})", rendering.render(dtype.key, ctx), False


# --- flask documents lint ----------------------------------------------------------------------------------------

documents_cli = CommandGroup("documents", help="Документы циклов: проверка оформления.")


@documents_cli.command("lint",
    help="Сформировать документы каждого вида из базы данных и вывести, что отклонило бы делопроизводство.")
def lint_command():
    """Render every document type from the database and print what a records office would refuse."""
    failed = 0
    for label, data, registered in demo_documents():
        problems = lint(data, registered=registered)
        if problems:
            failed += 1
            click.echo(f"{label}:")
            for problem in problems:
                click.echo(f"  - {problem}")
    click.echo("Замечаний нет." if not failed else f"Документов с замечаниями: {failed}.")
    if failed:
        sys.exit(1)

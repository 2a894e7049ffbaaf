"""Build the shipped Word templates (`<key>.docx`) and their sidecars (`<key>.yaml`) reproducibly.

    .venv/bin/python document_templates/build_templates.py          # all types
    .venv/bin/python document_templates/build_templates.py roadmap  # one type

Each template carries the requisites of its type (domain.md §6, ГОСТ Р 7.0.97-2016): issuing body, document
type, date, registration number, place, heading «О …», text, signature block (position, И.О. Фамилия),
УТВЕРЖДАЮ / СОГЛАСОВАНО stamps where the type needs them and the executor mark; Times New Roman, margins
left 30 mm, right 10, top and bottom 20. Lists (indicators, measures, addressees, decisions) are real Word
tables whose rows repeat with docxtpl's `{%tr for … %}`; repeated paragraphs use `{%p for … %}`.

An official may instead edit a .docx in Word or LibreOffice (see README.md); this script is the source of the
versions shipped with the system, so keep the two in step when changing a template here.
"""

import copy
import math
import re
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import yaml
from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_ALIGN_VERTICAL, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate

HERE = Path(__file__).resolve().parent
FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 12
SMALL_PT = 10
TEXT_WIDTH_CM = 17.0  # A4 210 mm minus margins 30 + 10 mm
# The расшифровка подписи's cell: «А.-М.С. Римская-Корсакова» at 14 pt on one line.
SIGNATURE_NAME_CM = 6.5
# The line a stamp's signer signs on, before И.О. Фамилия (see approval_stamps).
STAMP_LINE = "________"
# The executor mark's box (executor_mark): two lines of SMALL_PT with room to spare, and the space above it.
EXECUTOR_BOX_PT = 26
EXECUTOR_GAP_PT = 24
# A text box anchored at the bottom left of the page's text area, outside the table cell that anchors it, wrapping
# no text; its paragraphs are added by executor_mark.
EXECUTOR_BOX = (
    '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><w:drawing>'
    '<wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="2" behindDoc="0" locked="0" '
    'layoutInCell="0" allowOverlap="1"><wp:simplePos x="0" y="0"/>'
    '<wp:positionH relativeFrom="margin"><wp:align>left</wp:align></wp:positionH>'
    '<wp:positionV relativeFrom="margin"><wp:align>bottom</wp:align></wp:positionV>'
    '<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>'
    '<wp:docPr id="4242" name="Отметка об исполнителе"/><wp:cNvGraphicFramePr/>'
    '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
    '<wps:wsp><wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
    '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/><a:ln><a:noFill/></a:ln></wps:spPr>'
    '<wps:txbx><w:txbxContent/></wps:txbx>'
    '<wps:bodyPr rot="0" vert="horz" wrap="square" lIns="0" tIns="0" rIns="0" bIns="0" anchor="b" anchorCtr="0">'
    '<a:noAutofit/></wps:bodyPr></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></w:r>')

# «Срок: 01.02.2027» keeps together too: the orders' items ended a line with «Срок:» and began the next with the date.
# And a dash keeps to the word before it, as in the values (a caption's line began with «— уровень сформированности»).
GLUED = re.compile(r"(?<=\d) (?=%)|(?<=№) (?=[\d_{])|(?<=Срок:) (?=[\d{])|(?<=\S) (?=[—–] )")
BLANK_DATE = "«___» ____________ 20___ г."
DATE = "{{ doc.date_long or '" + BLANK_DATE + "' }}"
NUMBER = "№ {{ doc.number or '______' }}"
SHORT_DATE = "{{ doc.date or '__.__.20__' }}"

# --- variables shared by every template (declared in each sidecar that uses them) -----------------------

COMMON_VARIABLES = {
    "org": ("dict", "Организация, издающая документ: name (полное наименование), name_genitive (оно же в "
                    "родительном падеже, для отметки о приложении: «к приказу министерства …»), short_name, "
                    "place (место составления), letterhead (строки углового штампа бланка: адрес, телефон, e-mail, "
                    "реквизиты), head_position, address, phone, email, website, okpo, ogrn, inn, kpp"),
    "doc": ("dict", "Реквизиты документа: type_title (вид документа прописными), title (вид документа), heading "
                    "(заголовок «О …»), date (ДД.ММ.ГГГГ или null в проекте), date_long («20 апреля 2021 г.» или "
                    "null), number (регистрационный номер или null в проекте), draft_mark («ПРОЕКТ» или пусто), "
                    "period, version"),
    "cycle": ("dict", "Цикл: title, mechanism (код и название механизма), period (учебный год), stage (этап)"),
    "signer": ("dict", "Подписант: position (должность), name (И.О. Фамилия)"),
    "executor": ("dict", "Отметка об исполнителе: name (Фамилия Имя Отчество), contact (телефон исполнителя или "
                         "организации, e-mail)"),
}
APPROVAL_VARIABLES = {
    "approval": ("dict", "Гриф УТВЕРЖДАЮ: position, name (И.О. Фамилия), date (дата утверждения или null)"),
    "agreements": ("list", "Грифы СОГЛАСОВАНО (по маршруту согласования): position, name, date (дата согласования "
                            "или пусто)"),
}


def _no_side_margins(cell) -> None:
    """No left and right cell margins: the text inside a cell stands where the text outside it does."""
    margins = OxmlElement("w:tcMar")
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), "0")
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    cell._tc.get_or_add_tcPr().append(margins)


# The width of the отметка о приложении: the right half of a portrait page's text area (17 cm).
ANNEX_MARK_CM = 8.5
# A table's «№» column holds «999.» on one line at the table's size: Times New Roman's (and Liberation Serif's) figures
# are half an em wide and its full stop a quarter, 1.75 em in all; then the Table Grid style's cell margins (0.19 cm
# each side) and 0.05 cm for LibreOffice's rounding. Columns of 0.8–1.0 cm broke «100» as «10» / «0» (records-office
# review: the flagged schools, ШНОР / ШНСУ, measures and decisions).
NUMBER_TEXT_EM = 1.75
CELL_MARGINS_CM = 2 * 0.19
# The paragraph just above a table (an intro line «… направляет адресные рекомендации.») stands off it by the space a
# table's title has (after=6): with none, the letters' intro touched the table's top border.
BEFORE_TABLE_PT = 6


def number_column_cm(size_pt: float) -> float:
    """The width of a «№» column at `size_pt`, rounded up to a millimetre."""
    return math.ceil((NUMBER_TEXT_EM * size_pt * 2.54 / 72 + CELL_MARGINS_CM + 0.05) * 10) / 10


def _widen_number_column(widths: list[float], size_pt: float) -> list[float]:
    """`widths` with the first («№») column at least `number_column_cm`; the widest of the others gives the difference,
    so the table keeps its width."""
    shortfall = number_column_cm(size_pt) - widths[0]
    if shortfall <= 0:
        return widths
    widths = list(widths)
    widest = max(range(1, len(widths)), key=lambda n: widths[n])
    widths[0] += shortfall
    widths[widest] -= shortfall
    return widths


class Template:
    """A Word document being assembled with the house formatting."""

    def __init__(self, key: str, title: str, *, landscape: bool = False):
        self.key, self.title, self.landscape = key, title, landscape
        self.doc = Document()
        self.variables: dict[str, tuple[str, str]] = {}
        self._loops = {}  # a table's <w:tbl> → its looped row, until the row is made to keep with what follows
        self._closings = {}  # the closing table's <w:tbl> → its cell (signature, executor mark)
        self._closing_row = None  # in a document ending with a table: the cell of its last row (see _closing_cell)
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        if landscape:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = Mm(297), Mm(210)
        section.left_margin, section.right_margin = Mm(30), Mm(10)
        section.top_margin, section.bottom_margin = Mm(20), Mm(20)
        self.text_width_cm = (section.page_width - section.left_margin - section.right_margin) / 360000
        normal = self.doc.styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(BODY_PT)
        # Cyrillic text is laid out with the cs / eastAsia font slots in some Word versions: set them all.
        fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
        for slot in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            fonts.set(qn(slot), FONT)
        normal.paragraph_format.space_after = Pt(0)
        normal.paragraph_format.space_before = Pt(0)
        normal.paragraph_format.line_spacing = 1.0
        props = self.doc.core_properties
        props.title, props.author, props.comments, props.subject = title, "УКО-Цикл", "", ""
        props.keywords, props.category, props.identifier = "", "", ""
        props.last_modified_by = "УКО-Цикл"
        props.created = props.modified = datetime(2026, 1, 1, tzinfo=timezone.utc)
        # ГОСТ Р 7.0.97, п. 6.5: pages are numbered from the second one, in the middle of the top margin (a PAGE
        # field, so Word and LibreOffice count the pages); the first page has its own header without a number.
        # «ПРОЕКТ» at the top of every page of a draft; empty once the document is registered.
        section.different_first_page_header_footer = True
        number = section.header.paragraphs[0]
        number.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self._page_field(number)
        for part in (section.header, section.first_page_header):
            mark = part.add_paragraph() if part is section.header else part.paragraphs[0]
            mark.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            self._run(mark, "{{ doc.draft_mark }}", size=SMALL_PT, bold=True)

    def _page_field(self, paragraph):
        """A PAGE field (begin, instruction, separate, the shown «2», end) in `paragraph`."""
        def fld(kind):
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            return char

        for part in ("begin", " PAGE ", "separate", "2", "end"):
            run = self._run(paragraph, "", size=SMALL_PT + 2)
            if part in ("begin", "separate", "end"):
                run._r.append(fld(part))
            elif part == " PAGE ":
                instr = OxmlElement("w:instrText")
                instr.set(qn("xml:space"), "preserve")
                instr.text = part
                run._r.append(instr)
            else:
                run.text = part

    def use(self, *groups: dict, **own: tuple[str, str]) -> None:
        for group in groups:
            self.variables.update(group)
        self.variables.update(own)

    # --- paragraphs -----------------------------------------------------------------------------------

    @staticmethod
    def _run(paragraph, text, *, size=None, bold=False, italic=False):
        # The template's own «№ 2», «№ {{ doc.number }}» and «80 %» keep together as the values rendering glues do
        # (app/documents/rendering.py): LibreOffice ended a line of the 08-70 order with «в приложении №».
        text = GLUED.sub("\u00a0", text)
        run = paragraph.add_run(text)
        run.bold, run.italic = bold or None, italic or None
        if size:
            run.font.size = Pt(size)
        return run

    def p(self, text: str = "", *, align="left", bold=False, italic=False, size=None, indent=False,
          left_cm=None, before=0, after=0, keep=False, container=None):
        paragraph = (container or self.doc).add_paragraph()
        paragraph.alignment = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
                               "right": WD_ALIGN_PARAGRAPH.RIGHT, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}[align]
        fmt = paragraph.paragraph_format
        if indent:
            fmt.first_line_indent = Cm(1.25)
        if left_cm:
            fmt.left_indent = Cm(left_cm)
        fmt.space_before, fmt.space_after = Pt(before), Pt(after)
        # A bold left-aligned line is a section heading («1. Общие положения», «ПРИКАЗЫВАЮ:», «РЕШИЛИ:»): it never
        # stays alone at the foot of a page (PDF review: «6. Выявленные проблемы» ended page 6 of the справка).
        if keep or (bold and align == "left"):
            fmt.keep_with_next = True
        if text:
            self._run(paragraph, text, size=size, bold=bold, italic=italic)
        return paragraph

    def text(self, text: str, **kw):
        """A body paragraph: justified, first-line indent 1.25 cm."""
        return self.p(text, align="justify", indent=True, **kw)

    def tag(self, tag: str, container=None):
        """A paragraph holding only a `{%p … %}` tag; docxtpl removes the paragraph itself."""
        return self.p(tag, container=container)

    def page_break(self):
        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def annex_mark(self, label: str, kind: str = "приказу", *, new_page=False):
        """The отметка о приложении (ГОСТ Р 7.0.97, п. 5.23): «Приложение № 1 / к приказу <issuer in the genitive> /
        от 06.12.2026 № 1-од» in the upper right corner, one line each. A mark without the issuer («к приказу от …»)
        did not say whose order the appendix belongs to once it is filed or sent apart; the lines are left-aligned
        from the middle of the page, where one right-aligned line wrapped the issuer's long name anyhow. The
        snapshot of an edition made before `org.name_genitive` existed falls back to the name as it is."""
        # as wide as half a portrait page on a landscape one too: over its wider half the issuer's name left its last
        # word alone on a line («… городского округа / Северный»)
        paragraph = self.p(align="left", size=TABLE_PT, left_cm=self.text_width_cm - ANNEX_MARK_CM, after=12)
        paragraph.paragraph_format.page_break_before = new_page or None
        lines = [label, f"к {kind} {{{{ org.name_genitive|default(org.name) }}}}", "от " + SHORT_DATE + " " + NUMBER]
        for index, line in enumerate(lines):
            run = self._run(paragraph, line, size=TABLE_PT)
            if index < len(lines) - 1:
                run.add_break()
        return paragraph

    def landscape_section(self):
        """Start a new page in landscape orientation (ГОСТ Р 7.0.97 allows an appendix so): a table of seven
        columns breaks words in the middle on a portrait page. The page numbering and the header carry on."""
        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
        section.different_first_page_header_footer = False  # the appendix is never the document's first page
        self.landscape = True  # tables from here on are stretched over the wider text area
        self.text_width_cm = (section.page_width - section.left_margin - section.right_margin) / 360000

    # --- blocks ---------------------------------------------------------------------------------------

    def _grid(self, cols: int, widths_cm, *, borders: bool):
        table = self.doc.add_table(rows=0, cols=cols)
        if borders:
            table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        self._widths = widths_cm
        for column, width in zip(table.columns, widths_cm):
            column.width = Cm(width)
        return table

    def _row(self, table, texts, *, size, bold=False, align=None):
        row = table.add_row()
        # A row is never split between two pages (PDF review: a plan's row ran over onto the next page).
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        for cell, text, width in zip(row.cells, texts, self._widths):
            cell.width = Cm(width)
            paragraph = cell.paragraphs[0]
            if align:
                paragraph.alignment = align
            if text:
                self._run(paragraph, text, size=size, bold=bold)
        return row

    def _keep_previous_with_next(self, *, table_rows=False):
        """The last text paragraph so far stays on the page of what follows (a table's intro line, the text before
        a signature); tag paragraphs disappear when rendered, so they are skipped. With `table_rows` (a signature or
        the executor mark), text ending in a table keeps the table's last row with what follows: LibreOffice then
        carries that row over with the mark instead of leaving the mark alone on the next page (PDF review: the
        дорожная карта's executor mark alone on page 2), while a table kept whole would move whole."""
        for element in reversed(list(self.doc.element.body.iterchildren())):
            if element.tag == qn("w:tbl"):
                if table_rows and element in self._loops:
                    self._keep_last_row(element)
                return
            if element.tag != qn("w:p"):
                continue
            paragraph = Paragraph(element, self.doc)
            if paragraph.text.startswith("{%"):
                continue
            following = element.getnext()
            if following is not None and following.tag == qn("w:p") \
                    and Paragraph(following, self.doc).text.startswith("{%p endfor"):
                self._keep_last_item(element)
                return
            paragraph.paragraph_format.keep_with_next = True
            # the empty line a table() leaves after it: keep going to the table
            if paragraph.text or not table_rows:
                return

    def _space_before_table(self):
        """The text paragraph just above a table gets `BEFORE_TABLE_PT` after it, unless it has more (a title's 6 pt,
        an annex mark's 12). Tag paragraphs disappear when rendered and are skipped; a blank line, a table or the
        last item of a `{%p for %}` list (its every item would get the space) is left as it is."""
        for element in reversed(list(self.doc.element.body.iterchildren())):
            if element.tag == qn("w:sectPr"):
                continue
            if element.tag != qn("w:p"):
                return
            paragraph = Paragraph(element, self.doc)
            if paragraph.text.startswith("{%") and not paragraph.text.startswith("{%p endfor"):
                continue
            if paragraph.text and not paragraph.text.startswith("{%"):
                fmt = paragraph.paragraph_format
                fmt.space_after = max(fmt.space_after or 0, Pt(BEFORE_TABLE_PT))
            return

    def _keep_last_item(self, element):
        """The last paragraph of a `{%p for %}` loop twice: as it is for every item but the last, with «keep with
        next» for the last one. Kept for every item, the whole list went to the next page with the signature
        (PDF review: the effectiveness report's «3. Выводы» left two thirds of page 2 blank)."""
        kept = copy.deepcopy(element)
        Paragraph(kept, self.doc).paragraph_format.keep_with_next = True

        def tag(text):
            paragraph = copy.deepcopy(element)
            for run in paragraph.findall(qn("w:r")):
                paragraph.remove(run)
            Paragraph(paragraph, self.doc).add_run(text)
            return paragraph

        element.addprevious(tag("{%p if not loop.last %}"))
        element.addnext(tag("{%p endif %}"))
        element.addnext(kept)
        element.addnext(tag("{%p else %}"))

    def _keep_last_row(self, tbl):
        """The looped row of `tbl` twice: every item but the last as it is, the last one with «keep with next» on
        its paragraphs (docxtpl's `{%tr if not loop.last %} … {%tr else %} … {%tr endif %}`)."""
        data = self._loops.pop(tbl)
        kept = copy.deepcopy(data)
        for p_pr in kept.iter(qn("w:p")):
            Paragraph(p_pr, self.doc).paragraph_format.keep_with_next = True
        tag_row = self._tag_row(data)
        data.addprevious(tag_row("{%tr if not loop.last %}"))
        data.addnext(tag_row("{%tr endif %}"))
        data.addnext(kept)
        data.addnext(tag_row("{%tr else %}"))

    def _tag_row(self, data):
        """A function making a copy of the row `data` that holds only a `{%tr … %}` tag in its first cell."""
        def tag_row(text):
            row = copy.deepcopy(data)
            cells = row.findall(qn("w:tc"))
            for n, cell in enumerate(cells):
                for paragraph in cell.findall(qn("w:p")):
                    for run in paragraph.findall(qn("w:r")):
                        paragraph.remove(run)
                if n == 0:
                    Paragraph(cell.find(qn("w:p")), self.doc).add_run(text)
            return row
        return tag_row

    def table(self, headers: list[str], cells: list[str], loop: str, *, widths=None, size=TABLE_PT, group=None):
        """A bordered table: a header row (repeated on every page) and one row per item of `loop`. Its rows are
        not kept with what follows: LibreOffice then moves the whole table to the next page, leaving the first
        page with the title alone (tried in the PDF review); only its last row keeps with a signature or the
        executor mark that follows (`_keep_previous_with_next(table_rows=True)`).

        `group` (e.g. "r.mechanism", a field the builder fills on the first item of each group and leaves empty on
        the others) prints that value as a row across the table above its group's rows, instead of a column that
        is blank below the first row: a reader of the next page saw rows without their mechanism (PDF review of
        the expert conclusion). A group's rows keep together, so no page starts inside a group."""
        self._space_before_table()
        self._keep_previous_with_next()
        widths = widths or [self.text_width_cm / len(headers)] * len(headers)
        if self.landscape:  # widths are given for a portrait page: stretch them over the wider one
            widths = [w * self.text_width_cm / sum(widths) for w in widths]
        if headers[0] == "№":
            widths = _widen_number_column(widths, size)
        table = self._grid(len(headers), widths, borders=True)
        header = self._row(table, headers, size=size, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        header._tr.get_or_add_trPr().append(repeat)
        blank = [""] * (len(headers) - 1)
        self._row(table, ["{%tr for " + loop + " %}"] + blank, size=size)
        if group:
            field = group.split(".", 1)[1]
            self._row(table, ["{%tr if " + group + " %}"] + blank, size=size)
            heading = self._row(table, ["{{ " + group + " }}"] + blank, size=size, bold=True)
            heading.cells[0].merge(heading.cells[-1])
            heading.cells[0].paragraphs[0].paragraph_format.keep_with_next = True
            self._row(table, ["{%tr endif %}"] + blank, size=size)
            # every row but the group's last keeps with the next one (docxtpl: one row per branch)
            self._row(table, ["{%tr if not loop.last and not loop.nextitem." + field + " %}"] + blank, size=size)
            kept = self._row(table, cells, size=size)
            for paragraph in (p for cell in kept.cells for p in cell.paragraphs):
                paragraph.paragraph_format.keep_with_next = True
            self._row(table, ["{%tr else %}"] + blank, size=size)
        self._loops[table._tbl] = self._row(table, cells, size=size)._tr
        if group:
            self._row(table, ["{%tr endif %}"] + blank, size=size)
        self._row(table, ["{%tr endfor %}"] + blank, size=size)
        self.p()
        return table

    def date_number(self, place=True):
        """Date on the left, registration number on the right, then the place of issue."""
        table = self._grid(2, [self.text_width_cm / 2] * 2, borders=False)
        row = self._row(table, [DATE, NUMBER], size=BODY_PT)
        row.cells[1].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        if place:
            self.p("{{ org.place }}", align="center", before=6)
        self.p()

    def issuer(self, type_title: str):
        self.p("{{ org.name }}", align="center", bold=True)
        self.p(type_title, align="center", bold=True, before=12, after=12)

    def heading(self, expr="{{ doc.heading }}"):
        self.p(expr, bold=True, align="left", after=12)

    def _closing_cell(self):
        """The cell that holds the end of the document — its last text paragraph, the signature block and the
        executor mark — in a borderless one-row table whose row never splits, so LibreOffice moves them together
        (ГОСТ Р 7.0.97: a signature or the executor mark is never alone on a page). Keep-with-next chains of
        paragraphs are not enough: LibreOffice 7.4 breaks them (PDF review: the protocol's chair and secretary
        alone on page 2, whatever the chain). Made once; the last two text paragraphs are moved in when they
        directly precede (text inside a `{%p for %}` loop cannot move: the template puts its last lines outside)."""
        body = self.doc.element.body
        last = [e for e in body.iterchildren() if e.tag != qn("w:sectPr")][-1]
        if last.tag == qn("w:tbl") and last in self._closings:
            return self._closings[last]
        if self._closing_row is not None:
            return self._closing_row
        ending = self._ending_table()
        if ending is not None:
            self._closing_row = self._last_row_with_closing(ending)
            return self._closing_row
        self._keep_previous_with_next(table_rows=True)
        previous = []  # the last two text paragraphs: ГОСТ wants more than a line of text with a signature
        for element in reversed(list(body.iterchildren())):
            if element.tag == qn("w:sectPr"):
                continue
            if element.tag != qn("w:p") or Paragraph(element, self.doc).text.startswith("{%") or len(previous) == 2:
                break
            if not Paragraph(element, self.doc).text and element.getprevious() is not None \
                    and element.getprevious().tag == qn("w:tbl"):
                # the empty line after a table stays out: LibreOffice joins two tables with nothing between them,
                # and the closing cell took the table's borders (PDF review: a frame round the signature)
                break
            previous.insert(0, element)
        table = self._grid(1, [self.text_width_cm], borders=False)
        cell = self._row(table, [""], size=BODY_PT).cells[0]
        cell._tc.remove(cell.paragraphs[0]._p)
        _no_side_margins(cell)
        for element in previous:
            cell._tc.append(element)
        self._closings[table._tbl] = cell
        return cell

    def _ending_table(self):
        """The looped table the text ends with (only tag paragraphs and the blank line after it follow), or None."""
        for element in reversed(list(self.doc.element.body.iterchildren())):
            if element.tag == qn("w:sectPr"):
                continue
            if element.tag == qn("w:tbl"):
                return element if element in self._loops else None
            if element.tag != qn("w:p"):
                return None
            text = Paragraph(element, self.doc).text
            if text and not text.startswith("{%"):
                return None
        return None

    def _last_row_with_closing(self, tbl, condition="loop.last", *, ending=True):
        """A table-ending document's closing block (stamps, signature, executor mark) in its table's last row: the
        item for which `condition` holds is printed as one row across the table, unsplittable, holding a nested
        table with that item's cells and, under it, the closing block. LibreOffice 7.4 ignores «keep with next» on
        a table's last row, so a closing table after it went to the next page alone (records-office review,
        7 December 2026: the дорожная карта of 8, 9, 14, 15 and 40 measures ended with a page holding only the
        СОГЛАСОВАНО stamp); a row that never splits holds in Word and LibreOffice alike. The outer cell has no side
        or bottom borders: the nested row draws the item's frame, the closing block stands unframed below it."""
        data = self._loops.pop(tbl)
        widths = [int(tc.find(qn("w:tcPr")).find(qn("w:tcW")).get(qn("w:w"))) for tc in data.findall(qn("w:tc"))]
        row = copy.deepcopy(data)
        for tc in row.findall(qn("w:tc"))[1:]:
            row.remove(tc)
        outer = row.find(qn("w:tc"))
        for child in list(outer):
            if child.tag != qn("w:tcPr"):
                outer.remove(child)
        tc_pr = outer.find(qn("w:tcPr"))
        tc_pr.find(qn("w:tcW")).set(qn("w:w"), str(sum(widths)))
        span = OxmlElement("w:gridSpan")
        span.set(qn("w:val"), str(len(widths)))
        tc_pr.find(qn("w:tcW")).addnext(span)
        borders = OxmlElement("w:tcBorders")
        for side in ("left", "bottom", "right"):
            edge = OxmlElement(f"w:{side}")
            edge.set(qn("w:val"), "nil")
            borders.append(edge)
        span.addnext(borders)
        cell = _Cell(outer, Table(tbl, self.doc))
        _no_side_margins(cell)
        style = tbl.find(qn("w:tblPr")).find(qn("w:tblStyle")).get(qn("w:val"))
        nested = parse_xml(
            f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="{style}"/>'
            # centred, not indented: a table's indent is measured to its first cell's text in Word 2010's layout
            # (compatibility mode 14), so at 0 its frame hung one cell margin left of the rows above; centred in a
            # cell of its own width it lies on them in Word and LibreOffice alike
            f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:jc w:val="center"/>'
            '<w:tblBorders><w:top w:val="nil"/></w:tblBorders><w:tblLayout w:type="fixed"/>'
            '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" w:noHBand="0" '
            'w:noVBand="1"/></w:tblPr><w:tblGrid>'
            + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths) + "</w:tblGrid></w:tbl>")
        nested.append(copy.deepcopy(data))
        outer.append(nested)
        tag = self._tag_row(data)
        data.addprevious(tag("{%tr if not (" + condition + ") %}"))
        data.addnext(tag("{%tr endif %}"))
        data.addnext(row)
        data.addnext(tag("{%tr else %}"))
        # the blank line Word needs after a table at the end of the body: as low as it can be, so that a table
        # filling its page exactly does not send it alone to a new one
        after = tbl.getnext()
        if ending and after is not None and after.tag == qn("w:p") and not Paragraph(after, self.doc).text:
            fmt = Paragraph(after, self.doc).paragraph_format
            fmt.line_spacing, fmt.line_spacing_rule = Pt(1), WD_LINE_SPACING.EXACTLY
        return cell

    def closing_also_in(self, table, condition: str):
        """The closing block, once complete, also in the last row of `table` for the item where `condition` holds:
        for a document whose last table is conditional (the перечень's methods, absent before «Методы»), the table
        above it ends the document otherwise."""
        cell = self._last_row_with_closing(table._tbl, condition, ending=False)
        done = self._closing_row._tc
        for child in list(done)[2:]:  # after its tcPr and the nested row
            copied = copy.deepcopy(child)
            # a drawing's id is unique in a document (Word reports a file with two alike as damaged): the copy's
            # executor box gets its own, though only one of the two is ever rendered
            for doc_pr in copied.iter(qn("wp:docPr")):
                doc_pr.set("id", str(int(doc_pr.get("id")) + 1))
            cell._tc.append(copied)

    def signature(self, position="{{ signer.position }}", name="{{ signer.name }}"):
        self.signatures((position, name))

    def signatures(self, *signers):
        """The signature block: a row per signer, the position on the left and И.О. Фамилия at the right margin on
        the level of the position's last line (ГОСТ Р 7.0.97, п. 5.23), in the closing cell with the last lines of
        the text and the executor mark. Two cells, not a tab stop: a long position («Начальник управления
        образования и молодёжной политики») pushed the name past the margin and broke it onto the next line at the
        left (PDF review, 5 December 2026); in its own cell the position wraps and the name stays whole."""
        cell = self._closing_cell()
        self.p(before=18, keep=True, container=cell)
        name_cm = SIGNATURE_NAME_CM
        table = cell.add_table(rows=0, cols=2)
        table.autofit = False
        widths = [self.text_width_cm - name_cm, name_cm]
        for column, width in zip(table.columns, widths):
            column.width = Cm(width)
        for n, (position, name) in enumerate(signers):
            row = table.add_row()
            row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
            for part, text, width in zip(row.cells, (position, name), widths):
                part.width = Cm(width)
                part.vertical_alignment = WD_ALIGN_VERTICAL.BOTTOM
                _no_side_margins(part)
                paragraph = part.paragraphs[0]
                paragraph.paragraph_format.space_before = Pt(12 if n else 0)
                paragraph.paragraph_format.keep_with_next = True
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if text is name else WD_ALIGN_PARAGRAPH.LEFT
                self._run(paragraph, text)
        # (python-docx puts the empty paragraph Word wants after a table in a cell)
        cell.paragraphs[-1].paragraph_format.keep_with_next = True

    def signature_rows(self, loop: str, item: str):
        """The signature block of a document signed by several people of one capacity (the experts of a conclusion,
        each on their own line, in the order the builder lists them): per `loop` item the position on the left, the
        line signed on and И.О. Фамилия at the right margin, then the date of the signature (a blank to fill in by
        hand until it is signed). In the closing cell as `signatures`; a signer's two rows never part."""
        cell = self._closing_cell()
        self.p(before=18, keep=True, container=cell)
        line_cm = 3.0
        widths = [self.text_width_cm - SIGNATURE_NAME_CM - line_cm, line_cm, SIGNATURE_NAME_CM]
        table = cell.add_table(rows=0, cols=3)
        table.autofit = False
        for column, width in zip(table.columns, widths):
            column.width = Cm(width)

        def row(texts, *, before=0, keep=True):
            added = table.add_row()
            added._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
            for part, text, width, align in zip(added.cells, texts, widths, (
                    WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT)):
                part.width = Cm(width)
                part.vertical_alignment = WD_ALIGN_VERTICAL.BOTTOM
                _no_side_margins(part)
                paragraph = part.paragraphs[0]
                paragraph.paragraph_format.space_before = Pt(before)
                paragraph.paragraph_format.keep_with_next = keep
                paragraph.alignment = align
                if text:
                    self._run(paragraph, text)

        row(["{%tr for " + loop + " %}", "", ""])
        row([f"{{{{ {item}.position }}}}", STAMP_LINE, f"{{{{ {item}.name }}}}"], before=12)
        # the date the signer signs on, under their position (ГОСТ Р 7.0.97: a date of signing by hand is written so)
        row([f"{{{{ {item}.date or '{BLANK_DATE}' }}}}", "", ""], before=6)
        row(["{%tr endfor %}", "", ""])
        cell.paragraphs[-1].paragraph_format.keep_with_next = True

    def executor_mark(self):
        """The отметка об исполнителе (ГОСТ Р 7.0.97-2016: name and phone, at the bottom of the last sheet on the
        left): a text box anchored in the closing cell, positioned at the bottom of the page's text area, so it stands
        on the page of the signature and goes with it. In the closing cell as lines of text it stood right under the
        signature or a table, mid-page (records-office review, 6 December 2026). The box is not laid out in the cell
        (`layoutInCell="0"`, honoured by Word in the templates' compatibility mode 14 and by LibreOffice) and wraps
        no text; the paragraph that anchors it is as high as the box, so the signature or text above always ends
        above it, the closing row (which never splits) keeping its space on the page."""
        cell = self._closing_cell()
        anchor = self.p(before=EXECUTOR_GAP_PT, container=cell)
        fmt = anchor.paragraph_format
        fmt.line_spacing, fmt.line_spacing_rule = Pt(EXECUTOR_BOX_PT), WD_LINE_SPACING.EXACTLY
        box = parse_xml(EXECUTOR_BOX.format(cx=int(Cm(self.text_width_cm)), cy=int(Pt(EXECUTOR_BOX_PT))))
        content = box.find(".//" + qn("w:txbxContent"))
        # An executor with neither a phone nor an e-mail has no contact line: the box's text sits on its bottom edge,
        # so an empty last line lifted the name off the foot of the page (records-office review, 7 December 2026).
        for line in ("{{ executor.name }}", "{%p if executor.contact %}", "{{ executor.contact }}", "{%p endif %}"):
            paragraph = Paragraph(OxmlElement("w:p"), cell)
            content.append(paragraph._p)
            self._run(paragraph, line, size=SMALL_PT)
        anchor._p.append(box)

    def agreement_stamps(self):
        """The «СОГЛАСОВАНО» stamps (гриф согласования) below the signature — or, in a document approved by its
        УТВЕРЖДАЮ stamp, below the text — flush left, in the closing cell (ГОСТ Р 7.0.97-2016: the гриф согласования
        stands below the signature). They were at the top left of the first page, across from УТВЕРЖДАЮ, where
        only the гриф утверждения belongs (records-office review, 6 December 2026); the closing cell keeps them on
        the page of the last lines of text. One stamp after another, each on the left half of the text area."""
        cell = self._closing_cell()
        self.tag("{%p for a in agreements %}", container=cell)
        lines = [self.p("СОГЛАСОВАНО", before=18, container=cell), self.p("{{ a.position }}", container=cell),
                 self.p(STAMP_LINE + " {{ a.name }}", before=6, container=cell),
                 self.p("{{ a.date or '" + BLANK_DATE + "' }}", before=6, container=cell)]
        for paragraph in lines:
            paragraph.paragraph_format.right_indent = Cm(self.text_width_cm - self.stamp_width_cm())
        # (the closing row never splits; a stamp's last line kept with the next stamp would keep the loop's every item)
        for paragraph in lines[:-1]:
            paragraph.paragraph_format.keep_with_next = True
        lines[0].runs[0].bold = True
        self.tag("{%p endfor %}", container=cell)

    def stamp_width_cm(self) -> float:
        """A stamp's width: half a portrait page (9.5 cm on a landscape one); «________ А.-М.С. Римская-Корсакова»
        (SIGNATURE_NAME_CM) fits on one line. The УТВЕРЖДАЮ stamp of 7.5 cm with 12 underscores put a long name on a
        line of its own (PDF review, 6 December 2026)."""
        return min(self.text_width_cm / 2, 9.5)

    def approval_stamps(self):
        """The «УТВЕРЖДАЮ» stamp (гриф утверждения) in the upper right corner of the first page (ГОСТ Р 7.0.97-2016).
        The «СОГЛАСОВАНО» stamps are not here but below the text (`agreement_stamps`)."""
        right = self.stamp_width_cm()
        table = self._grid(2, [self.text_width_cm - right, right], borders=False)
        stamp = self._row(table, ["", ""], size=BODY_PT).cells[1]
        self._run(stamp.paragraphs[0], "УТВЕРЖДАЮ", bold=True)
        self.p("{{ approval.position }}", container=stamp)
        self.p(STAMP_LINE + " {{ approval.name }}", before=6, container=stamp)
        self.p("{{ approval.date or '" + BLANK_DATE + "' }}", before=6, after=6, container=stamp)
        self.p(after=6)

    def order_items(self, intro_lines=True, approve=None):
        """«ПРИКАЗЫВАЮ:», numbered items each with executor and deadline, and the control item. `approve`: an item
        before the control one approving the appendix (ГОСТ Р 7.0.97: the text refers to each appendix)."""
        self.p("ПРИКАЗЫВАЮ:", bold=True, before=6, after=6)
        self.tag("{%p for item in items %}")
        # An item keeps with its executor and deadline, and the last item with the control item and the signature:
        # the 08-70 order's page 2 held the control item alone above the minister's signature (ГОСТ Р 7.0.97 wants
        # more than one line of text with a signature; PDF review, 6 December 2026).
        self.text("{{ loop.index }}. {{ item.text }}", keep=True)
        # «Ответственные: руководители …» before a group; a data snapshot made before the label says «Ответственный»
        # Justified as the item above it: left-aligned, «Ответственный: С.А. Громова, консультант отдела оценки
        # качества» stopped a hand short of the margin under full justified lines and read as wrapped early
        # (records-office review, 7 December 2026).
        executor = self.text("{{ item.label|default('Ответственный') }}: {{ item.executor }}. "
                             "Срок: {{ item.deadline }}.")
        self.tag("{%p endfor %}")
        self._keep_last_item(executor._p)
        if approve:
            self.text("{{ items|length + 1 }}. " + approve)
        self.text("{{ items|length + " + ("2" if approve else "1") + " }}. {{ control }}")

    def letterhead_and_addressee(self, addressee_expr):
        """A letter's corner: the issuer's letterhead, date/number and «На № … от …» left, addressee right."""
        table = self._grid(2, [8.5, self.text_width_cm - 8.5], borders=False)
        row = self._row(table, ["{%p if 'emblem' in charts %}", ""], size=TABLE_PT)
        left, right = row.cells
        # The бланк as in a ministry letter: the emblem, the name, then the справочные данные (address, phone,
        # e-mail, ОКПО/ОГРН/ИНН/КПП), the date and number, «На № … от …».
        self.p("{{ charts['emblem'] }}", align="center", container=left)
        self.tag("{%p endif %}", container=left)
        self.p("{{ org.name }}", align="center", bold=True, size=TABLE_PT, container=left)
        self.tag("{%p for line in org.letterhead %}", container=left)
        self.p("{{ line }}", align="center", size=SMALL_PT, container=left)
        self.tag("{%p endfor %}", container=left)
        self.p(SHORT_DATE + " " + NUMBER, align="center", size=TABLE_PT, before=6, container=left)
        # «На № … от …» is a reply's requisite: an initiative letter leaves it out rather than print blanks.
        self.tag("{%p if letter.reply_number %}", container=left)
        self.p("На № {{ letter.reply_number }} от {{ letter.reply_date or '______' }}",
               align="center", size=TABLE_PT, container=left)
        self.tag("{%p endif %}", container=left)
        self.tag("{%p for line in " + addressee_expr + " %}", container=right)
        self.p("{{ line }}", container=right)
        self.tag("{%p endfor %}", container=right)
        self.p()

    def save(self, meta: dict) -> None:
        path = HERE / f"{self.key}.docx"
        self.doc.save(path)
        _normalise_zip(path)
        # Declare exactly what the template uses: every used name needs a description here, and shared
        # names a template does not use stay out of its sidecar.
        used = DocxTemplate(path).get_undeclared_template_variables()
        if used - set(self.variables):
            raise SystemExit(f"{self.key}: undescribed variables {sorted(used - set(self.variables))}")
        sidecar = {"key": self.key, "title": self.title, **meta,
                   "variables": {name: {"type": kind, "description": text}
                                 for name, (kind, text) in sorted(self.variables.items()) if name in used}}
        header = ("# Описание шаблона: объявленные переменные и имя файла. Создан build_templates.py;\n"
                  "# добавив переменную в шаблон Word, объявите её здесь (см. README.md).\n")
        (HERE / f"{self.key}.yaml").write_text(
            header + yaml.safe_dump(sidecar, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")


def _normalise_zip(path: Path) -> None:
    """Fixed timestamps inside the .docx zip, so building twice gives byte-identical files."""
    with zipfile.ZipFile(path) as src:
        parts = [(info.filename, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts:
            dst.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)


# --- the templates ------------------------------------------------------------------------------------

ITEMS = ("list", "Пункты распорядительной части: text, executor (ответственный), label («Ответственный» или "
                 "«Ответственные»), deadline (ДД.ММ.ГГГГ)")
CONTROL = ("str", "Пункт о контроле за исполнением")
PREAMBLE = ("str", "Преамбула: основание и цель")
LETTER = ("dict", "Реквизиты письма: reply_number, reply_date («На № … от …», пусто для инициативного письма)")
EMBLEM = ("dict", "Рисунки: emblem → PNG/JPEG эмблемы организации для бланка (нет ключа — без эмблемы)")


def regulation():
    t = Template("regulation", "Положение о системе оценки качества образования")
    t.use(COMMON_VARIABLES, APPROVAL_VARIABLES,
          goals=("list", "Цели: number, direction, statement, justification, realism"),
          schedule=("list", "Этапы цикла: number, title, responsible, deadline"),
          basis=("list", "Нормативные основания (строки)"))
    t.approval_stamps()
    t.p("{{ org.name }}", align="center", bold=True, after=12)
    t.p("ПОЛОЖЕНИЕ", align="center", bold=True, after=6)
    t.date_number()
    t.heading("{{ doc.heading }}")
    t.p("1. Общие положения", bold=True, before=6, after=6)
    t.text("1.1. Настоящее положение определяет цели, задачи, организационную структуру и порядок "
           "функционирования системы оценки качества образования ({{ cycle.mechanism }}) на {{ cycle.period }} "
           "учебный год. Положение издаёт {{ org.name }}.")
    t.text("1.2. Положение разработано в соответствии с:")
    t.tag("{%p for line in basis %}")
    t.text("— {{ line }}{{ '.' if loop.last else ';' }}")
    t.tag("{%p endfor %}")
    t.p("2. Цели и обоснование", bold=True, before=6, after=6)
    t.tag("{%p for g in goals %}")
    t.text("2.{{ g.number }}. {{ g.statement }} (направление: {{ g.direction }}).")
    t.text("Обоснование: {{ g.justification }}")
    t.text("Реалистичность: {{ g.realism }}")
    t.tag("{%p endfor %}")
    t.p("3. Этапы управленческого цикла и ответственные", bold=True, before=6, after=6)
    t.table(["№", "Этап цикла", "Ответственный", "Срок"],
            ["{{ s.number }}", "{{ s.title }}", "{{ s.responsible }}", "{{ s.deadline }}"], "s in schedule",
            widths=[1.2, 7.3, 5.5, 3.0])
    t.p("4. Показатели и методы сбора информации", bold=True, before=6, after=6)
    t.text("4.1. Перечень показателей и методов сбора и обработки информации утверждается отдельным документом "
           "и пересматривается по итогам каждого цикла.")
    t.p("5. Заключительные положения", bold=True, before=6, after=6)
    t.text("5.1. Положение вступает в силу со дня его утверждения и действует до утверждения нового положения.")
    t.agreement_stamps()
    t.executor_mark()
    t.save({"family": "conceptual", "stages": ["GOAL"], "version": 3,
            "filename": "Положение о системе оценки качества {period} {number}.docx"})


def indicators_approval():
    t = Template("indicators_approval", "Перечень показателей и методов сбора и обработки информации",
                 landscape=True)
    t.use(COMMON_VARIABLES, APPROVAL_VARIABLES,
          indicators=("list", "Показатели: number, code, name, unit, baseline, target, direction, source, "
                              "periodicity, responsible, group"),
          methods=("list", "Методы сбора и обработки: number, source, method, tool, schedule"))
    t.approval_stamps()
    t.p("{{ org.name }}", align="center", bold=True, after=12)
    t.p("ПЕРЕЧЕНЬ", align="center", bold=True, after=6)
    t.date_number()
    t.heading("{{ doc.heading }}")
    t.p("1. Показатели", bold=True, after=6)
    indicators = t.table(["№", "Код", "Показатель", "Ед. изм.", "Базовое значение", "Целевое значение", "Источник",
             "Периодичность", "Ответственный"],
            ["{{ i.number }}", "{{ i.code }}", "{{ i.name }} ({{ i.direction }})", "{{ i.unit }}",
             "{{ i.baseline }}", "{{ i.target }}", "{{ i.source }}", "{{ i.periodicity }}", "{{ i.responsible }}"],
            "i in indicators", widths=[0.8, 1.4, 3.8, 1.2, 1.6, 1.6, 2.2, 2.2, 2.2], size=SMALL_PT)
    # Made at «Показатели», before the methods are described, the перечень lists the indicators only (it printed the
    # methods' header over no rows); the edition made at «Методы» adds them.
    t.tag("{%p if methods %}")
    t.p("2. Методы сбора и обработки информации", bold=True, after=6)
    t.table(["№", "Источник информации", "Метод сбора и обработки", "Инструмент", "Сроки"],
            ["{{ m.number }}", "{{ m.source }}", "{{ m.method }}", "{{ m.tool }}", "{{ m.schedule }}"],
            "m in methods", widths=[1.0, 4.0, 5.0, 4.0, 3.0])
    t.tag("{%p endif %}")
    t.agreement_stamps()
    t.executor_mark()
    t.closing_also_in(indicators, "loop.last and not methods")
    t.save({"family": "conceptual", "stages": ["IND", "METH"], "version": 4,
            "filename": "Перечень показателей и методов {period} {number}.docx"})


# The «№» column of a list of organisations: three digits within the cell's margins (a city lists 100 and more).
ORG_LIST_NUMBER_CM = 1.3


def monitoring_order():
    t = Template("monitoring_order", "Приказ о проведении мониторинга")
    t.use(COMMON_VARIABLES, preamble=PREAMBLE, items=ITEMS, control=CONTROL,
          indicators=("list", "Показатели мониторинга (приложение № 1): number, code, name, unit, source"),
          addressees=("list", "Участники мониторинга (приложение № 2): number, name, head"))
    t.issuer("ПРИКАЗ")
    t.date_number()
    t.heading()
    t.text("{{ preamble }}")
    t.order_items()
    t.signature()
    t.executor_mark()
    # Each appendix on a page of its own, by its mark's paragraph (a page-break paragraph after a full page left a
    # blank one; appendix 2 ran on under appendix 1's table).
    t.annex_mark("Приложение № 1", new_page=True)
    t.p("Перечень показателей мониторинга", align="center", bold=True, after=6)
    t.table(["№", "Код", "Показатель", "Ед. изм.", "Источник"],
            ["{{ i.number }}", "{{ i.code }}", "{{ i.name }}", "{{ i.unit }}", "{{ i.source }}"],
            "i in indicators", widths=[0.9, 2.2, 7.9, 1.8, 4.2])
    t.annex_mark("Приложение № 2", new_page=True)
    t.p("Участники мониторинга", align="center", bold=True, after=6)
    # a municipality's list runs past 99: «№» holds three digits («10» / «0» broke a number over two lines)
    t.table(["№", "Организация", "Руководитель"], ["{{ a.number }}", "{{ a.name }}", "{{ a.head }}"],
            "a in addressees", widths=[ORG_LIST_NUMBER_CM, 10.2, 5.5])
    # 6: each appendix on a new page; the items' executor lines justified
    t.save({"family": "procedural", "stages": ["MON"], "version": 6,
            "filename": "Приказ о проведении мониторинга {period} {number}.docx"})


def data_request_letter():
    t = Template("data_request_letter", "Письмо участникам о предоставлении сведений")
    t.use(COMMON_VARIABLES, letter=LETTER, charts=EMBLEM,
          addressee_block=("list", "Строки блока адресата"),
          request=("dict", "Запрос сведений: title, period, deadline (ДД.ММ.ГГГГ), deadline_long"),
          indicators=("list", "Запрашиваемые показатели: number, code, name, unit"),
          addressees=("list", "Адресаты (список рассылки): number, name, head"),
          appendix=("dict", "Приложение: title, sheets (листов), copies (экземпляров)"))
    t.letterhead_and_addressee("addressee_block")
    t.heading()
    t.p("Уважаемые руководители!", align="center", after=12)
    # The direction once: the request's title («Сведения для мониторинга … по направлению «…»») said it again.
    t.text("В рамках мониторинга по направлению {{ cycle.mechanism }} {{ org.name }} просит представить в срок "
           "до {{ request.deadline_long }} включительно сведения о значениях показателей за {{ request.period }} "
           "учебный год по перечню (приложение).")
    t.text("Сведения вносит ответственное лицо организации в электронную форму запроса в системе «УКО-Цикл»; "
           "если сведений нет, в форме указывается причина.")
    t.p("Приложение: {{ appendix.title }} на {{ appendix.sheets }} л. в {{ appendix.copies }} экз.",
        align="justify", before=12)
    t.signature()
    t.executor_mark()
    t.page_break()
    t.annex_mark("Приложение", "письму")
    t.p("Перечень запрашиваемых показателей", align="center", bold=True, after=6)
    t.table(["№", "Код", "Показатель", "Ед. изм."], ["{{ i.number }}", "{{ i.code }}", "{{ i.name }}",
                                                     "{{ i.unit }}"], "i in indicators", widths=[1.0, 2.0, 11.5, 2.5])
    t.p("Список рассылки", align="center", bold=True, after=6)
    t.table(["№", "Организация", "Руководитель"], ["{{ a.number }}", "{{ a.name }}", "{{ a.head }}"],
            "a in addressees", widths=[ORG_LIST_NUMBER_CM, 10.2, 5.5])
    t.save({"family": "procedural", "stages": ["MON"], "version": 5,
            "filename": "Письмо о предоставлении сведений {period} {number}.docx"})


# The analytic report's sections after «2. Значения показателей» are numbered on over those of the analysis that are
# the mechanism's own (`sections`), as the report's builder counts them (app.analysis.report.section_numbers) — the
# conclusions cite the problems' section by the same count.
SECTION_LOW = "{{ section_numbers.low_results }}"
SECTION_CLUSTERS = "{{ section_numbers.clusters }}"
SECTION_FINDINGS = "{{ section_numbers.findings }}"
SECTION_CONCLUSIONS = "{{ section_numbers.conclusions }}"


def analytic_report():
    t = Template("analytic_report", "Аналитическая справка по результатам мониторинга")
    t.use(COMMON_VARIABLES,
          report=("dict", "Справка: intro (общие сведения), sources (источники), organisations (число ОО, "
                          "представивших сведения мониторинга показателей: чьи значения в таблице), schools_read "
                          "(число школ, результаты оценочных процедур которых прочитал анализ; 0 — не читал), "
                          "period"),
          run=("dict", "Расчёт анализа, по которому составлена справка, или null: number, years, fingerprint, "
                       "finished_at, message"),
          indicator_rows=("list", "Значения показателей: number, code, name, unit, baseline, target, mean "
                                  "(итоговое: значение органа, ведущего цикл, или сумма/среднее по организациям), "
                                  "minimum, maximum, count"),
          chart_list=("list", "Рисунки: name (ключ в charts), caption"),
          charts=("dict", "Рисунки: имя → PNG (становится InlineImage ~16 см)"),
          flagged_schools=("list", "Школы с признаками необъективности результатов: school, year, verdict, signs "
                                   "(коды признаков), sign_title (пояснения), works, combined_p, p_text, detail"),
          flagged_share=("list", "Доля школ с признаками по муниципалитетам: municipality, schools, flagged, "
                                 "share_percent, share_text"),
          stably_objective=("list", "Школы с устойчиво объективными результатами (названия)"),
          shnor=("list", "Школы с низкими образовательными результатами (ШНОР): school, reasons, years"),
          shnsu=("list", "Школы, функционирующие в неблагоприятных социальных условиях (ШНСУ): school, "
                         "social_index, social_index_text, factors"),
          resilient=("list", "Резильентные школы (названия)"),
          clusters=("list", "Положение школ в кластерах схожих условий: school, cluster, value, value_text, "
                            "cluster_mean, cluster_mean_text, z, z_text, position"),
          findings=("list", "Выявленные проблемы: number, problem, causes, evidence, organisations"),
          conclusions=("list", "Выводы (строки)"),
          sections=("dict", "Разделы расчёта, относящиеся к механизму цикла: objectivity, low_results, clusters "
                            "(истина — раздел приводится)"),
          section_numbers=("dict", "Номера разделов справки: low_results, clusters, findings (выявленные проблемы), "
                                   "conclusions (выводы)"),
          elsewhere=("dict", "Пояснения для разделов, не относящихся к механизму: objectivity, low_results, "
                             "clusters"))
    t.issuer("АНАЛИТИЧЕСКАЯ СПРАВКА")
    t.date_number()
    t.heading()
    t.p("1. Общие сведения", bold=True, after=6)
    t.text("{{ report.intro }}")
    # Two counts, each named for what it counts: the organisations whose values the table shows (its «Число ОО») and
    # the schools whose assessment results the analysis read (the cluster table's), which submitted nothing.
    t.text("Источники информации: {{ report.sources }}. Число организаций, представивших сведения мониторинга "
           "показателей: {{ report.organisations }}{% if report.schools_read is defined and report.schools_read %}; "
           "число школ, результаты оценочных процедур которых рассмотрены: {{ report.schools_read }}{% endif %}.")
    # the analyses that are not the mechanism's own: where they belong, one sentence each (their sections are left out)
    t.tag("{%p for name in ['objectivity', 'low_results', 'clusters'] if not sections[name] %}")
    t.text("{{ elsewhere[name] }}")
    t.tag("{%p endfor %}")
    t.p("2. Значения показателей", bold=True, before=6, after=6)
    # The «Итоговое» column is the owner's value (monitoring.values.owner_value), not always a mean: the reader is
    # told how before the table (a note after it was left alone at the top of the next page).
    t.text("Итоговое значение — представленное органом, ведущим цикл, а при его отсутствии — среднее по "
           "организациям (для численности, чел. и ед., — сумма); мин. и макс. — по организациям.", keep=True,
           after=6)
    t.table(["№", "Показатель, единица измерения", "Базовое", "Целевое", "Итоговое", "Мин.", "Макс.", "Число ОО"],
            ["{{ r.number }}", "{{ r.code }} {{ r.name }}, {{ r.unit }}", "{{ r.baseline }}", "{{ r.target }}",
             "{{ r.mean }}", "{{ r.minimum }}", "{{ r.maximum }}", "{{ r.count }}"],
            "r in indicator_rows", widths=[0.8, 5.4, 2.0, 2.0, 2.0, 1.6, 1.6, 1.6], size=SMALL_PT)
    t.tag("{%p for c in chart_list %}")
    t.p("{{ charts[c.name] }}", align="center", before=6)
    t.p("Рисунок {{ loop.index }}. {{ c.caption }}", align="center", size=TABLE_PT, after=6)
    t.tag("{%p endfor %}")
    # Only the sections of the analysis that are the mechanism's own (app/analysis/sections.py), numbered on; the others
    # are said in one sentence each under «1. Общие сведения». A preschool справка printed «4. Школы с низкими
    # образовательными результатами …» over a sentence saying they were not its subject — three headed sections with
    # nothing in them (records-office review, 7 December 2026).
    t.tag("{%p if sections.objectivity %}")
    t.p("3. Признаки необъективности результатов", bold=True, before=6, after=6)
    t.tag("{%p if flagged_schools %}")
    t.text("Признаки — статистические сигналы, требующие внимательного рассмотрения, а не доказательство "
           "необъективности.")
    t.table(["№", "Школа", "Год", "Признаки (в чём проявились)", "Вероятность случайного совпадения"],
            ["{{ loop.index }}", "{{ f.school }}", "{{ f.year }}", "{{ f.sign_title }}", "{{ f.p_text }}"],
            "f in flagged_schools", widths=[0.8, 4.2, 1.2, 8.0, 2.8], size=SMALL_PT)
    t.tag("{%p else %}")
    t.text("Школ с признаками необъективности результатов не выявлено.")
    t.tag("{%p endif %}")
    t.tag("{%p if flagged_share %}")
    t.table(["Муниципалитет", "Школ", "С признаками", "Доля, %"],
            ["{{ s.municipality }}", "{{ s.schools }}", "{{ s.flagged }}", "{{ s.share_text }}"],
            "s in flagged_share", widths=[8.0, 3.0, 3.0, 3.0], size=SMALL_PT)
    t.tag("{%p endif %}")
    t.tag("{%p if stably_objective %}")
    t.text("Школы с устойчиво объективными результатами: {{ stably_objective|join(', ') }}.")
    t.tag("{%p endif %}")
    t.tag("{%p endif %}")
    t.tag("{%p if sections.low_results %}")
    t.p(SECTION_LOW + ". Школы с низкими образовательными результатами и в неблагоприятных условиях", bold=True,
        before=6, after=6)
    t.tag("{%p if shnor %}")
    t.text("Школы с низкими образовательными результатами (ШНОР):")
    t.table(["№", "Школа", "Основания", "Годы"],
            ["{{ loop.index }}", "{{ s.school }}", "{{ s.reasons }}", "{{ s.years }}"],
            "s in shnor", widths=[0.8, 5.2, 8.0, 3.0], size=SMALL_PT)
    t.tag("{%p else %}")
    t.text("Школ с низкими образовательными результатами не выявлено.")
    t.tag("{%p endif %}")
    t.tag("{%p if shnsu %}")
    t.text("Школы, функционирующие в неблагоприятных социальных условиях (ШНСУ):")
    t.table(["№", "Школа", "Социальный индекс", "Факторы"],
            ["{{ loop.index }}", "{{ s.school }}", "{{ s.social_index_text }}", "{{ s.factors }}"],
            "s in shnsu", widths=[0.8, 5.2, 3.0, 8.0], size=SMALL_PT)
    t.tag("{%p else %}")
    t.text("Школ, функционирующих в неблагоприятных социальных условиях, не выявлено.")
    t.tag("{%p endif %}")
    t.tag("{%p if resilient %}")
    t.text("Резильентные школы (высокие результаты в неблагоприятных условиях): {{ resilient|join(', ') }}.")
    t.tag("{%p endif %}")
    t.tag("{%p endif %}")
    t.tag("{%p if sections.clusters %}")
    t.p(SECTION_CLUSTERS + ". Положение школ среди школ со схожими условиями", bold=True, before=6, after=6)
    t.tag("{%p if clusters %}")
    # the values are the schools' mean percent of completion: the header names it and its unit (it said «Значение»)
    t.table(["Школа", "Кластер", "Средний процент выполнения, %", "Среднее по кластеру, %", "Отклонение, ст. откл.",
             "Положение"],
            ["{{ c.school }}", "{{ c.cluster }}", "{{ c.value_text }}", "{{ c.cluster_mean_text }}", "{{ c.z_text }}",
             "{{ c.position }}"],
            "c in clusters", widths=[3.5, 1.8, 2.5, 2.4, 2.6, 4.2], size=SMALL_PT)
    t.tag("{%p else %}")
    t.text("Сравнение школ внутри кластеров не проводилось: нет расчёта или данных о контексте школ.")
    t.tag("{%p endif %}")
    t.tag("{%p endif %}")
    t.p(SECTION_FINDINGS + ". Выявленные проблемы и их причины", bold=True, before=6, after=6)
    t.tag("{%p if not findings %}")
    t.text("По результатам анализа существенных проблем не выявлено.")
    t.tag("{%p endif %}")
    t.tag("{%p for f in findings %}")
    t.text(SECTION_FINDINGS + ".{{ f.number }}. {{ f.problem }}")
    t.text("Подтверждение: {{ f.evidence }}")
    # causes and organisations are optional in a finding: no label stands before a blank in a signed справка
    t.tag("{%p if f.causes %}")
    t.text("Причины: {{ f.causes }}")
    t.tag("{%p endif %}")
    t.tag("{%p if f.organisations %}")
    t.text("Организации: {{ f.organisations }}.")
    t.tag("{%p endif %}")
    t.tag("{%p endfor %}")
    t.p(SECTION_CONCLUSIONS + ". Выводы", bold=True, before=6, after=6)
    t.tag("{%p for line in conclusions %}")
    t.text(SECTION_CONCLUSIONS + ".{{ loop.index }}. {{ line }}")
    t.tag("{%p endfor %}")
    t.signature()
    t.executor_mark()
    # 9: the cluster table names its values («Средний процент выполнения, %», «Среднее по кластеру, %»); only the
    # mechanism's own sections of the analysis, numbered on, the others said under «1. Общие сведения»
    t.save({"family": "procedural", "stages": ["ANL"], "version": 9,
            "filename": "Аналитическая справка {period} {number}.docx"})


def addressed_recommendations():
    t = Template("addressed_recommendations", "Адресные рекомендации")
    t.use(COMMON_VARIABLES, letter=LETTER, charts=EMBLEM,
          addressee=("dict", "Адресат: name, name_genitive (наименование в родительном падеже), short_name, "
                             "head (И.О. Фамилия руководителя), lines (блок адресата)"),
          recommendations=("list", "Рекомендации адресату: number, text, basis (выявленная проблема), due_date"),
          response_deadline=("str", "Срок представления плана и отчёта (ДД.ММ.ГГГГ)"))
    t.letterhead_and_addressee("addressee.lines")
    t.heading()
    # «для» takes the genitive («для муниципального бюджетного … учреждения «…»»); a data snapshot made before the
    # context had the genitive (a registered copy re-renders it) falls back to the name as it was printed then.
    t.text("По результатам мониторинга и анализа ({{ cycle.mechanism }}, {{ cycle.period }} учебный год) "
           "{{ org.name }} направляет адресные рекомендации для "
           "{{ addressee.name_genitive|default(addressee.name) }}.")
    t.table(["№", "Рекомендация", "Основание (выявленная проблема)", "Срок"],
            ["{{ r.number }}", "{{ r.text }}", "{{ r.basis }}", "{{ r.due_date }}"], "r in recommendations",
            # «№» widened from «Срок» («20.01.2027» fits 2.8 cm): taken from the text, it wrapped one more line and
            # sent the closing paragraph and the signature of the demo's one-page letter to a second page
            widths=[1.2, 7.4, 5.6, 2.8])
    t.text("Просим в срок до {{ response_deadline }} подтвердить получение рекомендаций, представить план их "
           "выполнения, а по завершении — отчёт о выполнении.")
    t.signature()
    t.executor_mark()
    t.save({"family": "procedural", "stages": ["REC"], "version": 5,
            "filename": "Адресные рекомендации {addressee} {period} {number}.docx"})


def best_practices():
    t = Template("best_practices", "Рекомендации по использованию успешных практик")
    t.use(COMMON_VARIABLES, letter=LETTER, charts=EMBLEM,
          addressee_block=("list", "Строки блока адресата"),
          practices=("list", "Успешные практики: number, organisation, indicator, value, average"),
          recommendations=("list", "Рекомендации (строки)"))
    t.letterhead_and_addressee("addressee_block")
    t.heading()
    t.text("По результатам мониторинга ({{ cycle.mechanism }}, {{ cycle.period }} учебный год) выделены "
           "организации, показавшие лучшие результаты. Их опыт рекомендуется изучить и использовать.")
    t.table(["№", "Организация", "Показатель", "Значение", "Среднее по ОО"],
            ["{{ x.number }}", "{{ x.organisation }}", "{{ x.indicator }}", "{{ x.value }}", "{{ x.average }}"],
            "x in practices", widths=[0.9, 5.0, 6.0, 2.5, 2.6])
    # the numbered lines are infinitives («Организовать …»): they follow a lead-in, not the table's last row; the
    # lead-in keeps with its first line (it stood alone at the foot of page 1, its items on page 2: records-office
    # review, 7 December 2026)
    t.text("Рекомендуется:", keep=True)
    t.tag("{%p for line in recommendations %}")
    t.text("{{ loop.index }}. {{ line }}")
    t.tag("{%p endfor %}")
    t.signature()
    t.executor_mark()
    # 5: «Рекомендуется:» keeps with its first recommendation
    t.save({"family": "procedural", "stages": ["REC", "EFF"], "version": 5,
            "filename": "Рекомендации по успешным практикам {period} {number}.docx"})


def event_order():
    t = Template("event_order", "Приказ о проведении мероприятия")
    t.use(COMMON_VARIABLES, preamble=PREAMBLE, items=ITEMS, control=CONTROL,
          event=("dict", "Мероприятие: title, dates, responsible, participants, expected_result"))
    t.issuer("ПРИКАЗ")
    t.date_number()
    t.heading()
    t.text("{{ preamble }}")
    t.order_items()
    t.signature()
    t.executor_mark()
    # 4: the items' executor lines justified
    t.save({"family": "managerial", "stages": ["MEAS", "DEC"], "version": 4,
            "filename": "Приказ о проведении мероприятия {period} {number}.docx"})


MEASURES = ("list", "Мероприятия: number, title, dates, responsible, participants, expected_result")


def roadmap():
    t = Template("roadmap", "Комплекс мер (дорожная карта)", landscape=True)
    t.use(COMMON_VARIABLES, APPROVAL_VARIABLES, measures=MEASURES)
    t.approval_stamps()
    t.p("{{ org.name }}", align="center", bold=True, after=12)
    t.p("КОМПЛЕКС МЕР (ДОРОЖНАЯ КАРТА)", align="center", bold=True, after=6)
    t.date_number()
    t.heading()
    t.table(["№", "Мероприятие", "Сроки", "Ответственный", "Участники", "Ожидаемый результат (показатель)"],
            ["{{ m.number }}", "{{ m.title }}", "{{ m.dates }}", "{{ m.responsible }}", "{{ m.participants }}",
             "{{ m.expected_result }}"], "m in measures", widths=[0.9, 4.6, 2.4, 2.9, 2.9, 3.3], size=SMALL_PT)
    t.agreement_stamps()
    t.executor_mark()
    t.save({"family": "managerial", "stages": ["MEAS"], "version": 4,
            "filename": "Дорожная карта {period} {number}.docx"})


def deficiency_plan():
    t = Template("deficiency_plan", "План устранения выявленных недостатков", landscape=True)
    t.use(COMMON_VARIABLES, APPROVAL_VARIABLES,
          rows=("list", "Строки плана: number, deficiency, title, dates, responsible, participants, "
                        "expected_result"))
    t.approval_stamps()
    t.p("{{ org.name }}", align="center", bold=True, after=12)
    t.p("ПЛАН", align="center", bold=True, after=6)
    t.date_number()
    t.heading()
    t.table(["№", "Выявленный недостаток", "Мероприятие", "Сроки", "Ответственный", "Участники",
             "Ожидаемый результат"],
            ["{{ r.number }}", "{{ r.deficiency }}", "{{ r.title }}", "{{ r.dates }}", "{{ r.responsible }}",
             "{{ r.participants }}", "{{ r.expected_result }}"], "r in rows",
            widths=[0.8, 3.2, 3.2, 2.1, 2.5, 2.4, 2.8], size=SMALL_PT)
    t.agreement_stamps()
    t.executor_mark()
    t.save({"family": "managerial", "stages": ["MEAS", "DEC"], "version": 4,
            "filename": "План устранения недостатков {period} {number}.docx"})


PRESENT_LISTED = 15  # a protocol names up to 15 of those present; more are counted and listed in its appendix
DECIDED = "{{ d.number }}. {{ d.text }}. Срок: {{ d.deadline }}. Ответственный: {{ d.responsible }}."
VOTES = ("Голосовали: «за» — {{ q.votes_for }}, «против» — {{ q.votes_against }}, «воздержались» — "
         "{{ q.votes_abstained }}.")


def protocol():
    t = Template("protocol", "Протокол совещания")
    t.use(COMMON_VARIABLES,
          meeting=("dict", "Совещание: body (вид заседания, «совещания при начальнике …»), chair, chair_position, "
                           "secretary, secretary_position"),
          present=("list", "Присутствовали, по алфавиту: number, name (Фамилия И.О.), position; больше "
                           f"{PRESENT_LISTED} — «N чел. (список прилагается)» и список в приложении"),
          invited=("list", "Приглашённые на совещание (не из организации), как их ввёл специалист: строки "
                           "«Фамилия И.О. — должность, организация»; пусто — строки «Приглашённые» нет"),
          agenda=("list", "Вопросы повестки: number, title, heard, spoke, decided (список: number, text, "
                          "deadline, responsible), votes_for, votes_against, votes_abstained"))
    t.issuer("ПРОТОКОЛ")
    t.date_number()
    t.heading("{{ meeting.body }}")
    t.p("Председатель — {{ meeting.chair }}, {{ meeting.chair_position }}.", align="justify")
    t.p("Секретарь — {{ meeting.secretary }}, {{ meeting.secretary_position }}.", align="justify")
    # Those present by surname and initials in alphabetical order; more than PRESENT_LISTED, their number and the list
    # attached (records practice under ГОСТ Р 7.0.97). A «Присутствовали: 3 чел.» over a table of numbers, names and
    # positions was neither (records-office review, 7 December 2026).
    t.tag(f"{{%p if present|length > {PRESENT_LISTED} %}}")
    t.p("Присутствовали: {{ present|length }} чел. (список прилагается).", align="justify", after=6)
    t.tag("{%p else %}")
    # One full stop at the end: the last name's initial has it («… Петрова М.И.»), a one-word name had none and left
    # the sentence without its full stop (records-office review, 7 December 2026).
    t.p("Присутствовали: {{ (present|map(attribute='name')|join(', ')).rstrip('.') }}.", align="justify", after=6)
    t.tag("{%p endif %}")
    # Those invited (school directors, the ИМЦ's methodologists), right after those present as ГОСТ Р 7.0.97-2016
    # lays out a protocol; each line as typed, so the lines part with «;» (a line holds commas of its own); no
    # invited, no line (records-office review, 7 December 2026).
    t.tag("{%p if invited %}")
    t.p("Приглашённые: {{ (invited|join('; ')).rstrip('.') }}.", align="justify", after=6)
    t.tag("{%p endif %}")
    t.p("ПОВЕСТКА ДНЯ:", bold=True, after=6)
    t.tag("{%p for q in agenda %}")
    t.text("{{ q.number }}. {{ q.title }}")
    t.tag("{%p endfor %}")
    t.tag("{%p for q in agenda %}")
    t.p("{{ q.number }}. СЛУШАЛИ:", bold=True, before=12)
    t.text("{{ q.heard }}")
    t.p("ВЫСТУПИЛИ:", bold=True, before=6)
    t.text("{{ q.spoke }}")
    t.p("РЕШИЛИ:", bold=True, before=6)
    # The last question's last decision and votes are the protocol's last lines: printed after the loops, so they
    # go with the signatures (the closing cell).
    t.tag("{%p for d in q.decided %}")
    t.tag("{%p if not (loop.last and q is sameas (agenda|last)) %}")
    t.text(DECIDED)
    t.tag("{%p endif %}")
    t.tag("{%p endfor %}")
    t.tag("{%p if not loop.last %}")
    t.text(VOTES)
    t.tag("{%p endif %}")
    t.tag("{%p endfor %}")
    t.text(DECIDED.replace("d.", "((agenda|last).decided|last)."))
    t.text(VOTES.replace("q.", "(agenda|last)."))
    t.signatures(("Председатель", "{{ meeting.chair }}"), ("Секретарь", "{{ meeting.secretary }}"))
    t.executor_mark()
    t.tag(f"{{%p if present|length > {PRESENT_LISTED} %}}")
    t.annex_mark("Приложение", "протоколу", new_page=True)
    t.p("Список присутствовавших", align="center", bold=True, after=6)
    t.table(["№", "Фамилия, инициалы", "Должность"], ["{{ x.number }}", "{{ x.name }}", "{{ x.position }}"],
            "x in present", widths=[1.0, 6.0, 10.0])
    t.tag("{%p endif %}")
    # 5: those present listed by name, or counted with the list attached
    # 6: «Присутствовали: …» always ends with a full stop
    # 7: «Приглашённые: …» after those present
    t.save({"family": "managerial", "stages": ["DEC", "EFF"], "version": 7,
            "filename": "Протокол {period} {number}.docx"})


def decision_order():
    t = Template("decision_order", "Приказ об управленческих решениях")
    t.use(COMMON_VARIABLES, preamble=PREAMBLE, items=ITEMS, control=CONTROL,
          decisions=("list", "Управленческие решения (приложение): number, text, kind, deadline, responsible, "
                             "participants, basis"))
    t.issuer("ПРИКАЗ")
    t.date_number()
    t.heading()
    t.text("{{ preamble }}")
    # the only appendix: referred to in the text and not numbered (ГОСТ Р 7.0.97, п. 5.23)
    t.order_items(approve="Утвердить перечень управленческих решений с указанием сроков, ответственных и участников "
                          "(приложение).")
    t.signature()
    t.executor_mark()
    t.landscape_section()
    t.annex_mark("Приложение")
    t.p("Управленческие решения: сроки, ответственные, участники", align="center", bold=True, after=6)
    t.table(["№", "Решение", "Вид", "Срок", "Ответственный", "Участники", "Основание"],
            ["{{ d.number }}", "{{ d.text }}", "{{ d.kind }}", "{{ d.deadline }}", "{{ d.responsible }}",
             "{{ d.participants }}", "{{ d.basis }}"], "d in decisions",
            widths=[0.8, 7.0, 3.2, 2.3, 4.4, 4.0, 4.0], size=SMALL_PT)
    # 2: the appendix's columns over the landscape width (25.7 cm), the decision's text the widest; they were
    # 17 cm of portrait widths stretched, «Вид» and «Срок» wide and the decision ten lines deep.
    # 3: the appendix's mark as wide as on a portrait page (its issuer's last word was alone on a line).
    # 7: the items' executor lines justified
    t.save({"family": "managerial", "stages": ["DEC"], "version": 7,
            "filename": "Приказ об управленческих решениях {period} {number}.docx"})


def effectiveness_report():
    t = Template("effectiveness_report", "Справка об анализе эффективности принятых мер")
    t.use(COMMON_VARIABLES,
          report=("dict", "Справка: intro, period, achieved (число достигнутых целевых значений), total, summary "
                          "(итог раздела 1 одной фразой)"),
          indicator_rows=("list", "Показатели: number, code, name, unit, baseline, target, actual, change, "
                                  "assessment"),
          measures=("list", "Принятые меры: number, title, dates, responsible, state, result"),
          conclusions=("list", "Выводы и предложения в цели следующего цикла (строки)"))
    t.issuer("СПРАВКА")
    t.date_number()
    t.heading()
    t.text("{{ report.intro }}")
    t.p("1. Достижение целевых значений показателей", bold=True, before=6, after=6)
    t.table(["№", "Показатель, единица измерения", "Базовое", "Целевое", "Достигнутое", "Изменение", "Оценка"],
            ["{{ r.number }}", "{{ r.code }} {{ r.name }}, {{ r.unit }}", "{{ r.baseline }}", "{{ r.target }}",
             "{{ r.actual }}", "{{ r.change }}", "{{ r.assessment }}"], "r in indicator_rows",
            widths=[0.8, 4.8, 2.0, 2.0, 2.6, 2.2, 2.6], size=SMALL_PT)
    # One sentence made by the builder: «из 1 показателя», and no «по 0 из 9» where no value was there to compare.
    # The data of a report signed before it was made have no summary: their registered copy says it as it did.
    t.text("{% if report.summary is defined %}{{ report.summary }}{% else %}Целевые значения достигнуты по "
           "{{ report.achieved }} из {{ report.total }} показателей.{% endif %}")
    t.p("2. Исполнение принятых мер", bold=True, before=6, after=6)
    # A cycle without measures says so: the section printed a table header over no rows (PDF review, 6 December).
    t.tag("{%p if measures %}")
    t.table(["№", "Мероприятие", "Сроки", "Ответственный", "Состояние", "Результат"],
            ["{{ m.number }}", "{{ m.title }}", "{{ m.dates }}", "{{ m.responsible }}", "{{ m.state }}",
             "{{ m.result }}"], "m in measures", widths=[0.8, 4.6, 2.4, 3.0, 2.7, 3.5], size=SMALL_PT)
    t.tag("{%p else %}")
    t.text("Мероприятия в цикле не проводились.")
    t.tag("{%p endif %}")
    t.p("3. Выводы", bold=True, before=6, after=6)
    t.tag("{%p for line in conclusions %}")
    t.text("3.{{ loop.index }}. {{ line }}")
    t.tag("{%p endfor %}")
    t.signature()
    t.executor_mark()
    t.save({"family": "managerial", "stages": ["EFF"], "version": 4,
            "filename": "Справка об эффективности мер {period} {number}.docx"})


BUILDERS = {f.__name__: f for f in (regulation, indicators_approval, monitoring_order, data_request_letter,
                                    analytic_report, addressed_recommendations, best_practices, event_order,
                                    roadmap, deficiency_plan, protocol, decision_order, effectiveness_report)}


def _assessment_builders() -> dict:
    """The assessment's templates (issue 16): build_assessment_templates.py beside this script, in this house style."""
    import importlib.util
    import types

    spec = importlib.util.spec_from_file_location("build_assessment_templates",
                                                  Path(__file__).resolve().parent / "build_assessment_templates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.builders(types.SimpleNamespace(**globals()))


BUILDERS.update(_assessment_builders())


def main(keys: list[str]) -> None:
    for key in keys or BUILDERS:
        BUILDERS[key]()
        print(f"{key}.docx, {key}.yaml")


if __name__ == "__main__":
    main(sys.argv[1:])

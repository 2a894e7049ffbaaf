"""What the fifteenth records-office review (ГОСТ Р 7.0.97-2016) found: a document ending with its table (дорожная
карта, план устранения недостатков, перечень показателей) left its last page to the СОГЛАСОВАНО stamp and the executor
mark alone in LibreOffice (8, 9, 14, 15 or 40 measures), which ignores «keep with next» on a table's last row; and the
assessment order's appendix 1 said «в муниципальных образованиях, перечисленных в приложении № 2» over one."""

import io

from docx import Document as Docx
from docx.oxml.ns import qn


def _context(key: str, n: int, *, methods: bool = True) -> dict:
    """A context of `key` with `n` measures (or indicators), one agreement stamp and an executor."""
    org = {"name": "Управление образования администрации Северного городского округа",
           "name_genitive": "управления образования администрации Северного городского округа", "short_name": "УО",
           "place": "г. Северный", "letterhead": [], "head_position": "Начальник", "address": "", "phone": "",
           "email": "", "website": "", "okpo": "", "ogrn": "", "inn": "", "kpp": ""}
    context = {
        "org": org,
        "doc": {"type_title": "", "title": "", "heading": "О комплексе мер по повышению качества образования",
                "date": "07.12.2026", "date_long": "7 декабря 2026 г.", "number": "1-с", "draft_mark": "",
                "period": "2026/2027", "version": 1},
        "cycle": {"title": "Цикл", "mechanism": "M2.3", "period": "2026/2027", "stage": ""},
        "signer": {"position": "Начальник управления", "name": "С.П. Иванов"},
        "executor": {"name": "Петрова Анна Сергеевна", "contact": "+7 900 000-00-00"},
        "approval": {"position": "Начальник управления образования", "name": "С.П. Иванов",
                     "date": "7 декабря 2026 г."},
        "agreements": [{"position": "Заместитель начальника управления", "name": "А.А. Смирнова",
                        "date": "7 декабря 2026 г."}],
    }
    rows = [{"number": f"{i}.", "title": f"Мероприятие {i} по повышению качества подготовки обучающихся к оценочным "
                                         "процедурам", "dates": "01.02.2027 – 30.04.2027",
             "responsible": "Иванов С.П.", "participants": "Методисты ИМЦ, руководители ОО",
             "expected_result": "Доля обучающихся, достигших базового уровня, не ниже 85 % (показатель: M2.3-04)",
             "deficiency": f"Недостаток {i}"} for i in range(1, n + 1)]
    if key == "roadmap":
        context["measures"] = rows
    elif key == "deficiency_plan":
        context["rows"] = rows
    else:
        context["indicators"] = [
            {"number": f"{i}.", "code": f"M2.3-{i:02d}", "name": f"Доля обучающихся {i}", "unit": "%",
             "baseline": "80", "target": "85", "direction": "повышение", "source": "ФИС ОКО",
             "periodicity": "ежегодно", "responsible": "Иванов С.П.", "group": ""} for i in range(1, n + 1)]
        context["methods"] = [{"number": "1.", "source": "ФИС ОКО", "method": "Выгрузка", "tool": "Таблица",
                               "schedule": "ежегодно"}] if methods else []
    return context


def _last_row_texts(data: bytes) -> tuple[bool, str]:
    """Whether the last table's last row may not split, and the text of that row (nested tables included)."""
    doc = Docx(io.BytesIO(data))
    last = doc.tables[-1]._tbl.findall(qn("w:tr"))[-1]
    tr_pr = last.find(qn("w:trPr"))
    text = "\n".join("".join(t.text or "" for t in p.iter(qn("w:t"))) for p in last.iter(qn("w:p")))
    return tr_pr is not None and tr_pr.find(qn("w:cantSplit")) is not None, text


def test_a_table_ending_documents_stamp_and_executor_mark_share_a_row_with_its_last_item():
    """The closing block of a document ending with its table stands in one unsplittable row with the table's last
    item: the stamp and the executor mark go to a new page only with that item. Before, they stood in a table of
    their own after the data table, kept to it by «keep with next», which LibreOffice does not honour there."""
    from app.documents import rendering

    cases = [("roadmap", {}), ("deficiency_plan", {}), ("indicators_approval", {"methods": True}),
             ("indicators_approval", {"methods": False})]
    for key, options in cases:
        for n in (1, 9):
            data = rendering.render(key, _context(key, n, **options))
            doc = Docx(io.BytesIO(data))
            last_table = doc.tables[-1]
            if key == "indicators_approval" and not options["methods"]:
                assert "Источник информации" not in last_table.rows[0].cells[1].text  # the indicators end it
            unsplit, text = _last_row_texts(data)
            item = "ФИС ОКО" if key == "indicators_approval" and options["methods"] else (
                f"Доля обучающихся {n}" if key == "indicators_approval" else f"Мероприятие {n} по повышению")
            assert unsplit, (key, options, n)
            for words in (item, "СОГЛАСОВАНО", "А.А.\u00a0Смирнова", "Петрова Анна Сергеевна"):
                assert words in text, (key, options, n, words, text)
            # the closing block is printed once, and the table's other rows are the items, each once
            body = "\n".join(p.text for p in doc.paragraphs)
            assert "СОГЛАСОВАНО" not in body
            assert sum("СОГЛАСОВАНО" in "".join(t.text or "" for t in tr.iter(qn("w:t")))
                       for tbl in doc.element.body.iter(qn("w:tbl")) for tr in tbl.findall(qn("w:tr"))) == 1


def test_libreoffice_never_leaves_the_roadmaps_stamp_alone_on_its_last_page(tmp_path):
    """Converted by LibreOffice (as «Выгрузить в PDF» does), a дорожная карта of 11 measures — one whose table ended
    at the foot of page 3 — printed page 4 with «СОГЛАСОВАНО», the signer and the executor mark only. Its last page
    now carries the last measure too."""
    from app.documents import rendering
    from tests import services as svc
    from tests.test_documents_pdf import _convert_all

    files = {f"roadmap_{n}": rendering.render("roadmap", _context("roadmap", n)) for n in (11, 13)}
    pages = _convert_all(svc.require_soffice(), files, tmp_path)
    for name, texts in pages.items():
        last = texts[-1]
        assert "СОГЛАСОВАНО" in last, name
        n = name.split("_")[1]
        assert f"Мероприятие {n} по повышению" in last, (name, last)


def test_the_assessment_orders_appendix_names_one_municipality_in_the_singular(demo):
    """Appendix 1 of the order: «в муниципальных образованиях, перечисленных в приложении № 2» over appendix 2 of one
    row; one municipality is «в муниципальном образовании, указанном в приложении № 2»."""
    from app.assessment.models import Campaign
    from app.documents import rendering
    from app.documents.owned import build_owned_context
    from sqlalchemy import select

    campaign = demo.scalars(select(Campaign).order_by(Campaign.id)).first()
    ctx = build_owned_context("assessment_order", campaign)
    assert len(ctx["coordinators"]) > 1
    text = "\n".join(p.text for p in Docx(io.BytesIO(rendering.render("assessment_order", ctx))).paragraphs)
    assert "в муниципальных образованиях, перечисленных в приложении №\u00a02." in text
    ctx["coordinators"] = ctx["coordinators"][:1]
    text = "\n".join(p.text for p in Docx(io.BytesIO(rendering.render("assessment_order", ctx))).paragraphs)
    assert "в муниципальном образовании, указанном в приложении №\u00a02." in text
    assert "перечисленных" not in text


def test_a_roadmaps_indicator_code_does_not_break_at_its_hyphen(demo):
    """«(показатель: M2.3-» ended a line of the дорожная карта's narrow «Ожидаемый результат» cell and «04)» began the
    next. In the table's cells the code's hyphen is a non-breaking one (U+2011); the перечень's «Код» column keeps
    the plain hyphen, so a search for the code still finds the indicator there."""
    from app.cycles.models import Cycle
    from app.documents import contexts, rendering
    from sqlalchemy import select

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")
    ctx = contexts.build_context("roadmap", cycle.stage("MEAS"))
    codes = [i.code for i in cycle.indicators]
    cells = [c.text for t in Docx(io.BytesIO(rendering.render("roadmap", ctx))).tables for r in t.rows
             for c in r.cells]
    cited = [c for c in cells if "(показатель: " in c]
    assert cited
    for cell in cited:
        code = cell.rsplit("(показатель: ", 1)[1].rstrip(")")
        assert "-" not in code and "\u2011" in code, cell
        assert code.replace("\u2011", "-") in codes
    listed = contexts.build_context("indicators_approval", cycle.stage("IND"))["indicators"]
    assert [i["code"] for i in listed] == [i.code for i in cycle.indicators]


def test_every_templates_drawings_have_their_own_ids_and_the_closing_rows_item_lies_on_the_rows_above():
    """The перечень's template carried its executor box twice (the closing block in two tables) under one drawing id,
    which Word reports as a damaged file when an administrator opens the template; and the closing row's nested item
    table was indented 0, which Word 2010's layout measures to the cell's text: its frame hung a cell margin left of
    the rows above (final review). Centred in a cell of its own width it lies on them."""
    import re
    import zipfile
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "document_templates"
    nested = 0
    for path in sorted(folder.glob("*.docx")):
        xml = zipfile.ZipFile(path).read("word/document.xml").decode("utf-8")
        ids = re.findall(r'<wp:docPr id="(\d+)"', xml)
        assert len(ids) == len(set(ids)), (path.name, ids)
        # the closing row's item table: the one table whose top border is left to the row above
        for inner in re.findall(r"<w:tblPr>((?:(?!</w:tblPr>).)*?<w:top w:val=\"nil\"/></w:tblBorders>.*?)</w:tblPr>",
                                xml, flags=re.S):
            nested += 1
            assert '<w:jc w:val="center"/>' in inner and "<w:tblInd" not in inner, path.name
    assert nested >= 4  # the roadmap, the plan and the перечень's two tables

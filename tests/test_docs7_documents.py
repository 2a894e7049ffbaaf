"""Documents read as a records office reads them before a head signs (seventh PDF review, 6 December 2026): the 08-70
analytical report shows its picture of the region, a document signed before its built-in template changed is still
registered from the template it was made with."""

import io
import zipfile

import pytest
from docx import Document

from tests.test_assessment_documents import approve_a, camp, generated, register, route_and_sign, text_of  # noqa: F401


def _pictures(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return [name for name in package.namelist() if name.startswith("word/media/")]


def test_the_analytical_report_shows_the_heat_map_and_the_blocks_profile(camp, world, db_session):  # noqa: F811
    """The report of the assessment of mechanisms had tables only: the levels of every municipality per mechanism
    (the heat map) and the blocks' profile against the problem-zone line are now pictures with numbered captions,
    and the heat map's percents are the table's and the page's (tenths), its mechanisms numbered and named in words."""
    from app.assessment import documents, picture_charts
    from app.documents import lint, storage

    approve_a(camp, world, db_session)
    drawn = {}
    real_png = picture_charts.png

    def recording(name, data):
        drawn[name] = data
        return real_png(name, data)

    picture_charts.png = recording
    try:
        doc = generated(documents.generate_campaign_document(camp["campaign"], documents.REPORT,
                                                             actor=camp["manager"]), db_session)
    finally:
        picture_charts.png = real_png
    data = storage.version_path(doc.current).read_bytes()
    assert len(_pictures(data)) == 2
    text = text_of(data)
    assert "Рисунок 1. Доля максимального балла по механизмам в муниципальных образованиях" in text
    assert ("Рисунок 2. Средняя по региону доля максимального балла по блокам управленческого цикла: 1\u00a0— «Цели»"
            in text)
    assert "Механизмы: 1\u00a0— «" in text
    assert drawn["heatmap"]["mechanisms"] == ["1", "2"]
    assert lint.lint(data) == []  # no Latin mechanism code in the text
    assert set(drawn) == {"heatmap", "blocks"}
    percents = [percent for row in drawn["heatmap"]["cells"] for percent, _level in row if percent is not None]
    assert percents and all(round(p, 1) == p for p in percents)
    # the picture keeps with its caption: never a chart at the foot of a page and its caption on the next
    pictured = [p for p in Document(io.BytesIO(data)).paragraphs if p._p.xpath(".//w:drawing")]
    assert len(pictured) == 2 and all(p.paragraph_format.keep_with_next for p in pictured)


def test_a_report_made_from_the_previous_built_in_template_is_registered_from_it(camp, world, db_session):  # noqa: F811
    """A report signed from version 1 of the shipped template (no pictures) and registered after the template was
    rebuilt as version 2: the registered copy is rendered from version 1 (kept in document_templates/previous/) with
    the signed data, not refused for a template «не найдена» nor for a picture the signed data never had."""
    from app.assessment import documents
    from app.documents import rendering, storage
    from app.documents.template_admin import template_for

    assert rendering.template_version("assessment_report", builtin=True) >= 2  # rebuilt since (version 1 kept)
    assert "charts" not in rendering.undeclared_variables("assessment_report", template_for("assessment_report", "1"))
    approve_a(camp, world, db_session)
    doc = generated(documents.generate_campaign_document(camp["campaign"], documents.REPORT, actor=camp["manager"]),
                    db_session)
    version = doc.current
    # As a version made before the rebuild recorded it: template 1, and signed data without pictures.
    version.template_version = "1"
    snapshot = dict(version.context_snapshot)
    snapshot["context"] = {k: v for k, v in snapshot["context"].items() if k != "charts"}
    snapshot["charts"], snapshot["has_charts"] = {}, False
    version.context_snapshot = snapshot
    db_session.commit()
    route_and_sign(doc, camp, db_session, signer=camp["head"])
    registered = register(doc, camp["manager"], db_session)
    data = storage.registered_path(registered).read_bytes()
    assert _pictures(data) == []
    assert registered.registration_number in text_of(data)


def test_the_effectiveness_chart_writes_no_value_over_the_target_line(monkeypatch):
    """The before/after chart wrote «69,1» and «46,9» in white boxes right over the green target line (the box cut
    the line): a label the line would cross now starts beyond it, and the axis reads «12,5», not «12.5»."""
    from decimal import Decimal

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.lines import Line2D

    from app.core import charts
    from app.effectiveness.services import IndicatorRow, before_after_chart

    rows = [IndicatorRow(1, "M2.3-01", "Доля", "%", "up", Decimal("69.1"), Decimal("74.1"), Decimal("71.9")),
            IndicatorRow(2, "M2.3-03", "Доля", "%", "up", Decimal("42.0"), Decimal("47.0"), Decimal("46.9")),
            IndicatorRow(3, "M2.3-02", "Численность", "чел.", "down", Decimal("13"), Decimal("11"), Decimal("14"))]
    figures = []
    monkeypatch.setattr(charts, "render", lambda fig, fmt="svg", **_kw: figures.append(fig) or b"")
    before_after_chart(rows)
    fig, = figures
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    panels = [ax for ax in fig.axes if ax.get_ylabel()]
    assert len(panels) == 3
    for ax in panels:
        target = next(line for line in ax.get_lines() if isinstance(line, Line2D) and line.get_label() == "цель")
        x = ax.transData.transform((target.get_xdata()[0], 0))[0]
        width = target.get_linewidth() * fig.dpi / 72
        for text in ax.texts:
            box = text.get_window_extent(renderer)
            assert not (box.x0 - width / 2 <= x <= box.x1 + width / 2), (ax.get_ylabel(), text.get_text())
        ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert not any("." in t for t in ticks), ticks
        # the unit is named at the panel and touches no tick label (a «%» under the axis's end read «60%»)
        labels = [ax.yaxis.label, ax.xaxis.label, *ax.get_xticklabels()]
        boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in labels if t.get_text()]
        assert any(row.unit in text for text, _box in boxes for row in rows if row.code in ax.get_ylabel())
        for i, (text, box) in enumerate(boxes):
            for other, other_box in boxes[i + 1:]:
                assert not box.overlaps(other_box), (text, other)


def test_the_demos_attached_files_have_russian_names_and_are_real_pages(demo):
    """The demo's evidence was «prikaz-o-plane.pdf» («%PDF demo order» inside) and «protokol-meropriyatiya.pdf»
    saying «UKO-Cikl demo document»: a school names its order in Russian, and the file opens as a page."""
    import re

    from sqlalchemy import select

    from app.documents.attachments import attachment_path
    from app.documents.models import Attachment

    attachments = list(demo.scalars(select(Attachment)))
    assert attachments
    names = {a.original_name for a in attachments}
    assert names == {"Приказ об утверждении плана устранения дефицитов.pdf", "Протокол мероприятия.pdf"}, names
    for attachment in attachments:
        assert not re.search(r"[A-Za-z]", attachment.original_name.removesuffix(".pdf")), attachment.original_name
        data = attachment_path(attachment).read_bytes()
        assert data.startswith(b"%PDF") and b"/Type /Page" in data and b"demo" not in data.lower()


def test_the_demos_effectiveness_conclusions_agree_with_one_lagging_indicator():
    """«Не удалось улучшить: «Доля» (M2.3-02). Меры по этим показателям требуют …» in the signed effectiveness
    report: one indicator takes the singular."""
    from decimal import Decimal

    from app.effectiveness.demo import _conclusions
    from app.effectiveness.services import IndicatorRow

    def row(code, after):
        return IndicatorRow(1, code, "Доля", "%", "up", Decimal("50"), Decimal("55"), Decimal(after))

    one = _conclusions([row("M2.3-01", "56"), row("M2.3-02", "49")], [])
    assert "Не удалось улучшить: «Доля» (M2.3-02). Меры по этому показателю требуют корректировки" in one
    two = _conclusions([row("M2.3-01", "48"), row("M2.3-02", "49")], [])
    assert "Меры по этим показателям требуют корректировки" in two


def test_a_printed_export_keeps_every_word_of_its_columns_whole():
    """LibreOffice breaks a word wider than its column in the middle: the printed evidence list read «Редакци/я» and
    «Дата регистраци/и», the cycles' list «Просроченн/ых этапов», the 08-70 scores «Код муниципалите/та». A column is
    widened to its longest word (a bold header's letters are wider); the widths given stay where they suffice."""
    from openpyxl import Workbook

    from app.core.spreadsheets import append_row, finish_sheet, header_widths

    book = Workbook()
    sheet = book.active
    append_row(sheet, ["Заголовок листа, длинный, в одну строку"])
    append_row(sheet, ["Редакция", "Дата регистрации", "Документ"])
    append_row(sheet, [1, "06.12.2026", "цель достигнута"])
    finish_sheet(sheet, header_row=2, widths=(9, 12, 48))
    widths = [sheet.column_dimensions[letter].width for letter in "ABC"]
    assert widths[0] >= len("Редакция") * 1.2 + 2 and widths[1] >= len("регистрации") * 1.2 + 2
    assert widths[2] == 48
    fitted = header_widths(["Код муниципалитета", "Муниципалитет"], (14, 36))
    assert fitted == [pytest.approx(len("муниципалитета") * 1.2 + 2), 36]


def test_no_registered_copy_of_the_demo_has_a_blank_page(demo, tmp_path):
    """The registered copy of the demo's recommendations printed page 1 (the letter, to its last line), a blank page 2
    and the лист согласования on page 3: the page break was a paragraph of its own, which a full page pushed onto a
    page alone. Every registered copy of the demo, read in LibreOffice: every page holds more than its number."""
    from sqlalchemy import select

    from app.documents.models import Document as Doc
    from app.documents.registered import registered_copy
    from tests import services as svc
    from tests.test_documents_pdf import _convert_all

    soffice = svc.require_soffice()
    files = {}
    for doc in demo.scalars(select(Doc).order_by(Doc.id)):
        version = doc.current
        if version is not None and version.registration_number and doc.type_key not in {d.split("-")[0] for d in files}:
            files[f"{doc.type_key}-{doc.id}"] = registered_copy(version)
    assert any(name.startswith("addressed_recommendations") for name in files), files.keys()
    for name, pages in _convert_all(soffice, files, tmp_path).items():
        for number, text in enumerate(pages, 1):
            words = [line for line in text.split("\n") if line.strip() and not line.strip().isdigit()]
            assert words, f"{name}: page {number} of {len(pages)} is blank"
        assert "Лист удостоверения" in pages[-1], name


def test_the_decision_orders_appendix_spreads_its_columns_over_the_landscape_page():
    """The appendix (seven columns, a landscape page of 25.7 cm between the margins) kept the 17 cm of portrait widths,
    stretched: «Вид» and «Срок» wide, the decision itself ten lines deep. The decision's text is the widest column and
    the columns fill the landscape width; version 2 of the template, version 1 kept for documents made from it."""
    from docx.shared import Cm

    from app.documents import catalogue, rendering

    doc = Document(str(catalogue.get_type("decision_order").template_path))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "№" and len(t.columns) == 7)
    widths = [column.width for column in table.columns]
    assert widths[1] == max(widths) and widths[1] >= Cm(6.5)
    assert abs(sum(widths) - Cm(25.7)) < Cm(0.2)
    assert rendering.template_version("decision_order", builtin=True) >= 2
    assert rendering.previous_template_bytes("decision_order", 1) is not None

"""Requisites of the documents read as a records office reads them before a head signs (fifth PDF review, 6 December
2026): an appendix and a reference to an order name whose order it is, charts whose labels fit, the XLSX exports
printable as they are."""

import io
from pathlib import Path

from docx import Document

from tests.test_assessment_documents import approve_a, camp, generated, register, route_and_sign, text_of  # noqa: F401

TEMPLATES = Path(__file__).resolve().parent.parent / "document_templates"
MINISTRY = "Министерство образования Тестовой области"


def _annex_marks(path: Path) -> list[str]:
    doc = Document(io.BytesIO(path.read_bytes()))
    return [p.text for p in doc.paragraphs if p.text.startswith("Приложение") and not p.text.startswith("Приложение:")]


def test_every_annex_mark_names_the_issuer_of_the_order_or_letter():
    # «Приложение № 1 к приказу от 06.12.2026 № 1-од» did not say whose order: filed apart from the order (the
    # coordinators' list sent to a municipality) it could be anyone's. ГОСТ Р 7.0.97: type, author, date, number.
    marks = {path.name: _annex_marks(path) for path in sorted(TEMPLATES.glob("*.docx"))}
    marks = {name: found for name, found in marks.items() if found}
    assert {"assessment_order.docx", "monitoring_order.docx", "decision_order.docx",
            "data_request_letter.docx"} <= set(marks)
    for name, found in marks.items():
        for mark in found:
            lines = mark.split("\n")
            assert len(lines) == 3, (name, mark)
            assert lines[1] in ("к приказу {{ org.name_genitive|default(org.name) }}",
                                "к письму {{ org.name_genitive|default(org.name) }}",
                                "к протоколу {{ org.name_genitive|default(org.name) }}"), (name, mark)
            assert lines[2].startswith("от {{ doc.date"), (name, mark)


def test_the_registered_order_and_the_conclusion_name_the_ministry_that_issued_the_order(
        camp, world, db_session):  # noqa: F811
    from app.assessment import documents
    from app.documents import storage

    world["region"].name = MINISTRY
    db_session.commit()
    campaign = camp["campaign"]
    order = generated(documents.generate_campaign_document(campaign, documents.ORDER, actor=camp["manager"]),
                      db_session)
    route_and_sign(order, camp, db_session, signer=camp["head"])
    version = register(order, camp["manager"], db_session)
    registered = text_of(storage.registered_path(version).read_bytes())
    for number in ("№\u00a01", "№\u00a02", "№\u00a03"):
        assert (f"Приложение {number}\nк приказу министерства образования Тестовой области\n"
                f"от {version.registration_date:%d.%m.%Y} №\u00a0{version.registration_number}") in registered
    approve_a(camp, world, db_session)
    conclusion = generated(documents.generate_conclusion(campaign, camp["mun_a"].id, actor=camp["manager"]),
                           db_session)
    text = text_of(storage.version_path(conclusion.current).read_bytes())
    # the heading says whose mechanisms and which year (one heading for every conclusion in the journal before)
    assert ("О результатах оценки механизмов управления качеством образования в 2025/26 учебном году "
            f"({camp['mun_a'].display_name})") in text
    assert (f"Основание: приказ министерства образования Тестовой области от "
            f"{version.registration_date:%d.%m.%Y} №\u00a0{version.registration_number}.") in text


# --- charts: an organisation without a short name --------------------------------------------------------------

LONG_SCHOOL = ("Муниципальное бюджетное общеобразовательное учреждение «Средняя общеобразовательная школа № 5 "
               "г. Северный»")


def test_a_full_name_is_shortened_to_the_form_a_chart_reads():
    from app.core import russian as ru

    assert ru.short_org_name(LONG_SCHOOL) == "СОШ № 5 г. Северный"
    assert ru.short_org_name("МОУ «Гимназия № 3»") == "Гимназия № 3"
    assert ru.short_org_name("МБОУ СОШ № 5 г. Северный") == "СОШ № 5 г. Северный"
    assert ru.short_org_name("МОУ «Средняя общеобразовательная школа № 4 с углублённым изучением математики»") \
        == "СОШ № 4"
    assert ru.short_org_name("Отдел образования администрации Озёрного муниципального района") == "Озёрный МР"
    assert ru.short_org_name("Управление образования администрации городского округа Северный") == "ГО Северный"
    # a ministry keeps its name; a name with no known pattern stays as it is
    assert ru.short_org_name("Министерство образования Демонстрационной области") == \
        "Министерство образования Демонстрационной области"
    assert ru.short_org_name("Школа А") == "Школа А"
    # two names that would read alike keep their full form
    assert ru.short_org_names(["МОУ «СОШ № 1»", "МКОУ «СОШ № 1»", "МОУ «Лицей № 2»"]) == \
        ["МОУ «СОШ № 1»", "МКОУ «СОШ № 1»", "Лицей № 2"]


def _svg_texts(svg: bytes) -> str:
    return svg.decode("utf-8")


def test_the_charts_label_a_school_and_a_municipality_by_their_short_form():
    # A school imported without a short name took four lines and half the width of the analytic report's chart;
    # the 08-70 heat map printed «Управление образования администрации городского округа Северный» on one line and
    # pushed its title off the picture.
    from app.analysis import charts
    from app.assessment import picture_charts

    svg = _svg_texts(charts.indicator_chart("Доля", [(LONG_SCHOOL, 60.0), ("МОУ «Гимназия № 3»", 70.0)], unit="%"))
    assert "СОШ № 5 г. Северный" in svg and "учреждение" not in svg
    svg = _svg_texts(charts.shares_chart([("Отдел образования администрации Озёрного муниципального района", 20.0)],
                                         title="Доля школ"))
    assert "Озёрный МР" in svg and "администрации" not in svg
    svg = _svg_texts(picture_charts.heatmap_chart(
        ["Управление образования администрации городского округа Северный"], ["M1.1"], [[[50, "medium"]]]))
    assert "ГО Северный" in svg and "администрации" not in svg


# --- XLSX exports: printable as they are ---------------------------------------------------------------------------

def _results_book(app, n: int) -> bytes:
    """The situational centre's results table of `n` schools (plain stand-ins for the organisations and figures)."""
    from types import SimpleNamespace

    from app.situation import exports
    from app.situation.services import Figures, ResultLine

    def org(name, code):
        return SimpleNamespace(display_name=name, code=code, timezone="Europe/Moscow", parent=None)

    def line(name, code, k):
        return ResultLine(org(name, code), Figures(participants=20 + k, percent_sum=(20 + k) * 57.25, marked=20 + k,
                                                   marks=(2, 8, 6 + k, 4)), None, [])

    total = line("ГО Северный", "MUN01", 0)
    with app.test_request_context():
        return exports.results_xlsx(org("ГО Северный", "MUN01"), {"procedure": "ВПР", "year": 2026, "subject": None},
                                    total, [line(f"{LONG_SCHOOL[:-1]} {k}»", f"S{k:02d}", k) for k in range(n)])


def test_the_situational_centres_table_prints_with_its_title_header_and_one_decimal(app):
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(_results_book(app, 3)))
    try:
        sheet = book.active
        from tests import services as svc

        svc.assert_printable(sheet, header_row=2)
        assert sheet.title == "Результаты" and "сформировано" in sheet["A1"].value
        mean, share_2 = sheet["D3"], sheet["E3"]
        assert isinstance(mean.value, float) and mean.number_format == "0.0" and share_2.number_format == "0.0"
        assert sheet["C3"].number_format == "0"
        # a long name wraps within its row, whose height is set for its lines (LibreOffice printed them over the
        # next rows)
        assert sheet["A4"].alignment.wrap_text and sheet.row_dimensions[4].height >= 30
    finally:
        book.close()


def test_the_audit_extract_prints_its_readable_columns_with_the_header_on_every_page():
    from openpyxl import load_workbook

    from app.audit import exports
    from tests import services as svc

    out = io.BytesIO()
    exports.write_xlsx([], "Europe/Moscow", "Выгрузка журнала аудита от 06.12.2026", out)
    book = load_workbook(out)
    try:
        sheet = book.active
        svc.assert_printable(sheet, header_row=2)
        assert sheet.column_dimensions["G"].width >= 30  # «объект» at Excel's default 8.43 cut every name
        assert sheet.print_area.endswith("$A$1:$M$1048576")
    finally:
        book.close()


def test_libreoffice_prints_a_long_table_on_pages_of_the_width_each_with_its_header(app, tmp_path):
    # LibreOffice Calc, as an office prints: before, 7 columns of a long table went over pages across and only the
    # first page had the header; now each page is the whole width and repeats it.
    import subprocess

    from tests import services as svc

    soffice = svc.require_soffice_calc()
    (tmp_path / "results.xlsx").write_bytes(_results_book(app, 80))
    result = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                             "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "results.xlsx")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and (tmp_path / "results.pdf").exists(), result.stdout + result.stderr
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "results.pdf"), "-"], capture_output=True,
                          text=True, timeout=60).stdout
    pages = [page for page in text.split("\f") if page.strip()]
    assert len(pages) >= 2
    for page in pages:
        # the header on every page, its first and its last column (the whole width on one page)
        assert "Организация" in page and "Участников" in page and "Изменение" in page, page[:300]


def test_an_effectiveness_report_with_no_target_reached_says_none_not_a_nought(demo):
    # «Целевые значения достигнуты по 0 из 7 показателей» (the demo's closed cycle, in the sentence and in 3.1)
    from app.documents import contexts, rendering
    from tests.test_docs3_hard_letters import _closed_cycle
    from tests.test_document_templates import document_text

    ctx = contexts.build_context("effectiveness_report", _closed_cycle(demo).stage("EFF"))
    assert ctx["report"]["achieved"] == 0 and ctx["report"]["total"] > 1
    _, text = document_text(rendering.render("effectiveness_report", ctx))
    total = ctx["report"]["total"]
    assert f"Целевые значения не достигнуты ни по одному из {total} показателей" in text
    assert "по 0 из" not in text

"""Documents read as a records office reads them before a head signs (ninth PDF review, 6 December 2026), on data
harder than the demo's: addressees whose surnames end in -а/-я (Сорока, Лисица), a one-syllable -ой surname (Цой),
a double given name in a full name, a compound position joined by a dash."""

import subprocess
from pathlib import Path

import pytest

from app.core import russian as ru
from tests.test_assessment_documents import camp  # noqa: F401
from tests.test_document_templates import _an_addressee, cycle, document_text  # noqa: F401


def _printed(soffice: str, path: Path) -> str:
    """The text of `path` (a spreadsheet) as LibreOffice Calc prints it, page by page (form feeds between)."""
    result = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{path.parent}/profile",
                             "--convert-to", "pdf", "--outdir", str(path.parent), str(path)],
                            capture_output=True, text=True, timeout=300)
    pdf = path.with_suffix(".pdf")
    assert result.returncode == 0 and pdf.exists(), result.stdout + result.stderr
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60).stdout


@pytest.mark.parametrize("full_name, genitive, dative, accusative, instrumental", [
    # petrovich left a surname in -а after a consonant as it was: «Директору … / Д.А. Сорока»
    ("Сорока Дмитрий Алексеевич", "Д.А. Сороки", "Д.А. Сороке", "Д.А. Сороку", "Д.А. Сорокой"),
    ("Сорока Ирина Петровна", "И.П. Сороки", "И.П. Сороке", "И.П. Сороку", "И.П. Сорокой"),
    ("Лисица Ольга Андреевна", "О.А. Лисицы", "О.А. Лисице", "О.А. Лисицу", "О.А. Лисицей"),
    ("Мазепа Иван Степанович", "И.С. Мазепы", "И.С. Мазепе", "И.С. Мазепу", "И.С. Мазепой"),
    ("Зозуля Анна Петровна", "А.П. Зозули", "А.П. Зозуле", "А.П. Зозулю", "А.П. Зозулей"),
    ("Шульга Ирина Олеговна", "И.О. Шульги", "И.О. Шульге", "И.О. Шульгу", "И.О. Шульгой"),
    # …and took a one-syllable -ой for an adjective: «В.Р. Цому»
    ("Цой Виктор Робертович", "В.Р. Цоя", "В.Р. Цою", "В.Р. Цоя", "В.Р. Цоем"),
    # unchanged: the adjectival female surnames, the indeclinable ones, a woman's consonant-ending surname
    ("Мухина Анна Ильинична", "А.И. Мухиной", "А.И. Мухиной", "А.И. Мухину", "А.И. Мухиной"),
    ("Толстой Лев Николаевич", "Л.Н. Толстого", "Л.Н. Толстому", "Л.Н. Толстого", "Л.Н. Толстым"),
    ("Цой Мария Олеговна", "М.О. Цой", "М.О. Цой", "М.О. Цой", "М.О. Цой"),
    ("Бондаренко Любовь Ивановна", "Л.И. Бондаренко", "Л.И. Бондаренко", "Л.И. Бондаренко", "Л.И. Бондаренко"),
    ("Гарсия Анна Ильинична", "А.И. Гарсия", "А.И. Гарсия", "А.И. Гарсия", "А.И. Гарсия"),
    ("Шевчук Оксана Игоревна", "О.И. Шевчук", "О.И. Шевчук", "О.И. Шевчук", "О.И. Шевчук"),
])
def test_a_surname_in_a_or_ya_is_declined_as_a_noun(full_name, genitive, dative, accusative, instrumental):
    assert [ru.initials_surname(full_name, case) for case in ("gent", "datv", "accs", "ablt")] == \
        [genitive, dative, accusative, instrumental]


def test_each_part_of_a_double_given_name_keeps_its_capital_in_a_full_name():
    # «Римской-Корсаковой Анне-марии Сергеевне»
    assert ru.full_name_in("Римская-Корсакова Анна-Мария Сергеевна", "datv") == \
        "Римской-Корсаковой Анне-Марии Сергеевне"
    assert ru.full_name_in("Сорока Дмитрий Алексеевич", "datv") == "Сороке Дмитрию Алексеевичу"


def test_a_compound_position_joined_by_a_dash_is_declined_in_each_part():
    # «Заместителю начальника управления — начальник отдела общего образования» in an addressee block
    position = "Заместитель начальника управления — начальник отдела общего образования"
    assert ru.dative(position) == "Заместителю начальника управления — начальнику отдела общего образования"
    assert ru.acting_position(position) == \
        "Исполняющий обязанности заместителя начальника управления — начальника отдела общего образования"
    # a dash inside an organisation's name in quotes is not a second position
    assert ru.dative("Директор МБОУ «Школа — интернат № 1»") == "Директору МБОУ «Школа — интернат № 1»"


def test_the_addressed_recommendations_name_the_director_in_the_dative(cycle, world, db_session):  # noqa: F811
    """The letter of addressed recommendations to a school whose director is Сорока Дмитрий Алексеевич and whose head
    holds a compound position: its addressee block read «Заместителю директора — руководитель филиала» /
    «Д.А. Сорока»; both lines are in the dative now, and the linter finds nothing."""
    from app.documents import contexts, lint, rendering

    addressee = _an_addressee(cycle)
    addressee.head_position = "Заместитель директора — руководитель филиала"
    head = contexts.head_user(addressee)
    assert head is not None
    head.full_name = "Сорока Дмитрий Алексеевич"
    db_session.flush()
    ctx = contexts.build_context("addressed_recommendations", cycle.stage("REC"), addressee=addressee)
    data = rendering.render("addressed_recommendations", ctx)
    doc, _ = document_text(data)
    block = [p.text for p in doc.tables[0].rows[0].cells[-1].paragraphs if p.text.strip()]
    assert block == ["Заместителю директора\u00a0— руководителю филиала школы А", "Д.А.\u00a0Сороке"]
    assert lint.lint(data) == []
    db_session.rollback()


def test_a_finding_without_causes_or_organisations_prints_no_empty_label(world, anl_cycle, db_session):
    """The analytic report printed each finding's «Причины:» and «Организации:» even when the finding has none (both
    are optional): a label before a blank in a signed справка. The evidence after its colon starts in lower case and
    ends with a full stop («Подтверждение: сведения мониторинга …»)."""
    from app.analysis.models import Finding
    from app.documents import contexts, rendering

    db_session.add(Finding(cycle_id=anl_cycle.id, stage_id=anl_cycle.stage("ANL").id,
                           created_by_id=world["official"].id, problem="Доля «2» по математике выше региональной",
                           evidence="Сведения мониторинга показателей текущего периода"))
    db_session.flush()
    ctx = contexts.build_context("analytic_report", anl_cycle.stage("ANL"))
    doc, _ = document_text(rendering.render("analytic_report", ctx))
    lines = [p.text for p in doc.paragraphs]
    # (M1.1's справка: objectivity and clusters are its sections 3 and 4, the findings section 5)
    first = lines.index("5.1. Доля «2» по математике выше региональной")
    assert lines[first + 1] == "Подтверждение: сведения мониторинга показателей текущего периода."
    assert not any(line.startswith(("Причины:", "Организации:")) for line in lines)
    db_session.rollback()


def test_a_printed_export_keeps_a_rows_short_cells_on_its_first_line(app, tmp_path):
    """LibreOffice Calc prints the 08-70 scores export: a row whose municipality's name wraps over two lines printed
    its code and numbers at the foot of the row («MUN01 … M1.1 GOAL GOAL.1 … 1 0 0» level with the next row's name),
    the texts at the top. Every cell of a row that wraps stands at the top now."""
    from openpyxl import Workbook

    from app.core.spreadsheets import append_row, fit_row_height, header_widths, print_setup
    from tests import services as svc

    soffice = svc.require_soffice_calc()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Баллы")
    names = ["Код", "Муниципалитет", "Критерий", "Максимум"]
    widths = header_widths(names, (10, 24, 10, 10))
    print_setup(sheet, header_row=1, widths=widths)
    append_row(sheet, names, bold=True)
    for number, code in enumerate(("MUN01", "MUN02"), 2):
        values = [code, "Управление образования администрации городского округа Северный", "ЦЕЛИ.1", 7]
        fit_row_height(sheet, number, values, widths)
        append_row(sheet, values, wrap={2})
    book.save(tmp_path / "scores.xlsx")
    text = _printed(soffice, tmp_path / "scores.xlsx")
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    for code in ("MUN01", "MUN02"):
        first = next(line for line in lines if code in line)
        assert first.startswith(f"{code} Управление") and first.endswith("ЦЕЛИ.1 7"), lines


def test_the_data_request_forms_instructions_print_on_one_page_width(world, sent, db_session, tmp_path):
    """The school's XLSX form printed through LibreOffice Calc: the «Инструкция» sheet put its labels on one page and
    its texts on the next (no fit to the page width) and printed the wrapped lines over one another (no row heights).
    Its page now carries the labels with their texts, the whole instruction."""
    from app.monitoring import xlsx
    from tests import services as svc
    from tests.test_monitoring import submission_of

    soffice = svc.require_soffice_calc()
    submission = submission_of(sent, world["school_a"])
    (tmp_path / "form.xlsx").write_bytes(xlsx.build_workbook(submission, {}))
    text = _printed(soffice, tmp_path / "form.xlsx")
    page = next(p for p in text.split("\f") if "Как заполнить" in p)
    flat = " ".join(page.split())
    assert "Срок представления" in flat and submission.request.deadline.strftime("%d.%m.%Y") in flat
    assert "Введите значения в столбец «Значение» (D)" in flat and "«сохранить корректные строки»." in flat
    assert submission.organisation.name in flat


def test_the_08_70_order_names_an_experts_place_of_work_in_full(camp, world, db_session):  # noqa: F811
    """Appendix № 3 of the order on the monitoring of mechanisms printed the experts' «Должность, место работы» as
    «региональный эксперт, Демонстрационная область»: the ministry's short name is its region's. It gives the
    workplace's full name, as the register of experts does."""
    from app.assessment import documents
    from app.documents.owned import build_owned_context

    region = world["region"]
    region.short_name = "Тестовая обл."
    db_session.flush()
    ctx = build_owned_context(documents.ORDER, camp["campaign"])
    positions = [e["position"] for e in ctx["experts"]]
    assert positions and all(p.endswith(f", {region.name}") for p in positions), positions


def test_chart_axes_print_the_decimal_comma_and_a_head_count_in_whole_numbers():
    """The analytic report's charts printed their axes in English: «0.5 … 3.5» on the axis of a head count («Число
    лиц в муниципальном кадровом резерве», чел.), «1.0», «−1.5» on the clusters' deviations."""
    import re

    from app.analysis import charts

    def ticks(svg: bytes) -> set[str]:
        return set(re.findall(r">\s*([−-]?\d+(?:[.,]\d+)?)\s*<", svg.decode()))

    people = ticks(charts.indicator_chart("Число лиц в кадровом резерве", [("СОШ № 1", 4), ("Лицей № 2", 3)],
                                          unit="чел.", summed=True, total=7, baseline=6, target=8))
    assert people and all(re.fullmatch(r"\d+", t) for t in people), people
    deviations = ticks(charts.cluster_chart([(1, 1.05, "выше"), (1, -1.9, "ниже"), (2, 0.3, "на уровне")]))
    assert "−1,5" in deviations and not any("." in t for t in deviations), deviations


def test_the_data_request_letters_appendix_mark_counts_the_sheets_it_prints_on(demo, tmp_path):
    """«Приложение: перечень запрашиваемых показателей и список рассылки на N л.»: N was «1 + (indicators +
    organisations) // 30», which said 3 sheets for 10 indicators and 60 schools that print on 2. Converted by
    LibreOffice, the appendix takes the sheets its mark says, and the mailing list numbers its hundredth school and
    on in one piece (the «№» column broke «100» as «10» / «0»)."""
    import copy
    import re

    from app.documents import contexts, rendering
    from tests import services as svc
    from tests.test_docs3_hard_letters import _closed_cycle
    from tests.test_documents_pdf import _convert_all

    soffice = svc.require_soffice()
    base = contexts.build_context("data_request_letter", _closed_cycle(demo).stage("MON"))
    long_name = {"name": "Муниципальное бюджетное общеобразовательное учреждение «Средняя общеобразовательная школа "
                         "№ 4 с углублённым изучением отдельных предметов имени Героя Советского Союза И.И. Иванова»",
                 "head": "А.-М.С. Римская-Корсакова"}
    files, stated = {}, {}
    for n_indicators, n_schools, named in [(7, 3, None), (15, 15, None), (10, 60, None), (30, 60, None),
                                           (5, 150, None), (20, 40, long_name)]:
        ctx = copy.deepcopy(base)
        ctx["indicators"] = [dict(base["indicators"][i % len(base["indicators"])], number=i + 1)
                             for i in range(n_indicators)]
        ctx["addressees"] = [dict(named or base["addressees"][i % len(base["addressees"])], number=i + 1)
                             for i in range(n_schools)]
        ctx["appendix"]["sheets"] = contexts.appendix_sheets(ctx["indicators"], ctx["addressees"])
        name = f"letter_{n_indicators}_{n_schools}_{'long' if named else 'demo'}"
        files[name], stated[name] = rendering.render("data_request_letter", ctx), ctx["appendix"]["sheets"]
    wrong = []
    for name, pages in _convert_all(soffice, files, tmp_path).items():
        first = next(n for n, page in enumerate(pages) if re.search(r"Приложение\s*\n\s*к письму", page))
        if len(pages) - first != stated[name]:
            wrong.append(f"{name}: «на {stated[name]} л.», printed on {len(pages) - first}")
        if name == "letter_5_150_demo":
            # the «№» column held two digits: «10» / «0» on two lines from the hundredth school on
            numbers = {int(m) for m in re.findall(r"^\s*(\d+)\s+МОУ", "\n".join(pages), re.MULTILINE)}
            assert set(range(1, 151)) <= numbers, sorted(set(range(1, 151)) - numbers)
    assert not wrong, wrong

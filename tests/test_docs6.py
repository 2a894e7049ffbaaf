"""What a records-office review (ГОСТ Р 7.0.97-2016) of the documents not reviewed before found, 7 December 2026: the
analytic report, the положение, the перечень показателей, the monitoring and decision orders, the event order, the
plan and the best-practices letter, generated from the demo and converted by LibreOffice."""

import io
import re

import pytest
from docx import Document
from sqlalchemy import select

from app.documents import contexts, rendering


def _demo_cycle(db, code: str):
    """The demo's cycle of mechanism `code` (the closed M2.3, or M2.1 whose analysis stage holds the calculation)."""
    from app.cycles.models import Cycle

    found = [c for c in db.scalars(select(Cycle).order_by(Cycle.id)) if c.track.mechanism.code == code]
    return next((c for c in found if c.state == "closed"), found[0])


def _table_with(data: bytes, header: str):
    """The rows (cell texts) of the rendered document's table whose header row has a cell starting with `header`."""
    doc = Document(io.BytesIO(data))
    for table in doc.tables:
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        if rows and any(cell.startswith(header) for cell in rows[0]):
            return rows
    raise AssertionError(f"no table headed «{header}»")


def _decimals(text: str) -> int:
    return len(text.partition(",")[2])


def test_the_cluster_table_names_its_values_and_prints_each_column_alike(demo):
    """Section 5 of the analytic report (M2.1 of the demo, whose calculation compares schools within clusters)
    printed a bare «Значение» column — «70,81» over «53,4» — and deviations «+1,1» over «0»: a number without its
    unit and a column with two precisions. The header now says what the value is and its unit, each column has one
    number of decimals (the percents one, as the finding's evidence «26,9 %»; the deviations two, with a sign)."""
    cycle = _demo_cycle(demo, "M2.1")
    ctx = contexts.build_context("analytic_report", cycle.stage("ANL"))
    assert len(ctx["clusters"]) >= 5
    rows = _table_with(rendering.render("analytic_report", ctx), "Школа")
    header, body = rows[0], rows[1:]
    assert header[2] == "Средний процент выполнения, %" and header[3] == "Среднее по кластеру, %"
    assert len(body) == len(ctx["clusters"])
    for column in (2, 3):
        assert {_decimals(row[column]) for row in body} == {1}, [row[column] for row in body]
    deviations = [row[4] for row in body]
    assert all(re.fullmatch(r"[+−]\d+,\d\d|0,00", z) for z in deviations), deviations


def _registered(db, cycle, type_key: str):
    from app.documents.models import Document, DocumentVersion

    return db.scalars(
        select(DocumentVersion)
        .join(Document)
        .where(
            Document.cycle_id == cycle.id,
            Document.type_key == type_key,
            DocumentVersion.registration_number.is_not(None),
        )
    ).one()


def test_an_order_cites_the_registered_document_it_rests_on_by_its_date_and_number(demo):
    """«На основании аналитической справки по результатам мониторинга», «в соответствии с положением о системе …»,
    «во исполнение комплекса мер» named none of them, though the closed M2.3 cycle of the demo has each registered:
    a records office cites a document by its date and number (ГОСТ Р 7.0.97). Where none is registered yet the
    sentence stays as it was, without a blank."""
    cycle = _demo_cycle(demo, "M2.3")
    for type_key, stage, cited, words in (
        (
            "decision_order",
            "DEC",
            "analytic_report",
            "На основании аналитической справки по результатам мониторинга от {date} № {number}, в целях",
        ),
        (
            "monitoring_order",
            "MON",
            "regulation",
            "в соответствии с положением о муниципальной системе оценки качества образования от {date} № {number},",
        ),
        ("event_order", "MEAS", "roadmap", "Во исполнение комплекса мер от {date} № {number} ("),
    ):
        version = _registered(demo, cycle, cited)
        preamble = contexts.build_context(type_key, cycle.stage(stage))["preamble"]
        expected = words.format(date=version.registration_date.strftime("%d.%m.%Y"), number=version.registration_number)
        assert expected in preamble, (type_key, preamble)
    # the M2.1 cycle has no registered положение: its order refers to it without date and number, and no blank
    preamble = contexts.build_context("monitoring_order", _demo_cycle(demo, "M2.1").stage("MON"))["preamble"]
    assert preamble.endswith("в соответствии с положением о муниципальной системе оценки качества образования,"), (
        preamble
    )


def test_the_regulation_continues_the_justification_and_realism_after_their_colons(demo):
    """«Обоснование: Доля обучающихся …», «Реалистичность: В школах …» — a capital after a colon inside the
    положение's sentences; the analytic report's «Причины: недостаточная …» has it right. In lower case after the
    label, an acronym kept, one full stop at the end."""
    from tests.test_document_templates import document_text, plain

    cycle = _demo_cycle(demo, "M2.3")
    goal = cycle.goals[0]
    goal.justification = "Доля обучающихся — участников объединений ниже региональной"
    goal.realism = "ИМЦ ведёт методическое объединение заместителей директоров."
    demo.flush()
    _doc, text = document_text(
        rendering.render("regulation", contexts.build_context("regulation", cycle.stage("GOAL")))
    )
    text = plain(text)
    assert "Обоснование: доля обучающихся — участников объединений ниже региональной.\n" in text
    assert "Реалистичность: ИМЦ ведёт методическое объединение заместителей директоров.\n" in text


def test_an_analysis_stage_without_a_summary_still_has_conclusions(demo):
    """The справка's «Выводы» are the analysis stage's summary, one per paragraph: with none written, the section
    was a heading over nothing above the signature. It then states what the report's data draw: the indicators
    against their targets (by name and code) and the number of problems, citing the section they are in."""
    from tests.test_document_templates import document_text, plain

    cycle = _demo_cycle(demo, "M2.3")
    cycle.stage("ANL").summary = None
    demo.flush()
    ctx = contexts.build_context("analytic_report", cycle.stage("ANL"))
    assert ctx["conclusions"], "no conclusions"
    # the demo's seven indicators are all below their targets at the analysis: said so, never «по 0 из 7»
    assert ctx["conclusions"][0].startswith(
        "Целевые значения не достигнуты ни по одному из 7 показателей: «Доля ОО, реализующих рабочую программу"
    ), ctx["conclusions"]
    assert "(M2.3-07)." in ctx["conclusions"][0]  # each named with its code
    # the upbringing справка has none of the calculation's sections: its problems are section 3 (it cited «раздел 6»,
    # a section it does not have), its conclusions section 4
    assert f"Выявлено проблем: {len(ctx['findings'])} (раздел 3)." in ctx["conclusions"]
    _doc, text = document_text(rendering.render("analytic_report", ctx))
    assert "3. Выявленные проблемы и их причины" in plain(text)
    after = plain(text).split("4. Выводы", 1)[1]
    assert after.lstrip("\n").startswith("4.1. Целевые значения не достигнуты ни по одному"), after[:200]


@pytest.mark.parametrize(("own", "findings"), [
    (set(), 3), ({"objectivity", "clusters"}, 5), ({"low_results", "clusters"}, 5),
    ({"objectivity", "low_results", "clusters"}, 6)])
def test_the_problems_section_is_numbered_after_the_mechanisms_own_analyses(own, findings):
    from app.analysis.report import section_numbers

    numbers = section_numbers({name: name in own for name in ("objectivity", "low_results", "clusters")})
    assert (numbers["findings"], numbers["conclusions"]) == (findings, findings + 1)


def test_one_indicator_or_one_missed_target_is_said_in_the_singular():
    from app.analysis.report import _drawn_conclusions

    def indicator(code, met):
        return {"name": f"Показатель {code}", "code": code, "target_met": met}

    numbers = {"findings": 3}
    one = _drawn_conclusions({"indicators": [indicator("A", True)], "findings": [], "section_numbers": numbers})
    assert one == ["Целевое значение показателя «Показатель A» (A) достигнуто."]
    some = _drawn_conclusions({"indicators": [indicator("A", True), indicator("B", False), indicator("C", None)],
                               "findings": [{}], "section_numbers": numbers})
    assert some == ["Целевые значения достигнуты по 1 из 2 показателей; не достигнуто по показателю "
                    "«Показатель B» (B).", "Выявлено проблем: 1 (раздел 3)."]


def test_the_analytic_report_leaves_out_the_sections_that_are_not_its_mechanisms(demo):
    """A preschool (M2.4) or upbringing (M2.3) справка printed «3. Признаки необъективности результатов», «4. Школы с
    низкими образовательными результатами …» and «5. Положение школ …» each over one sentence saying it was not its
    subject: three headed sections with nothing in them. They are left out and the sections numbered on; the
    sentences saying where those analyses belong stand in «1. Общие сведения». M2.1's справка keeps its one section of
    the calculation (the clusters) as section 3."""
    from app.analysis.sections import ELSEWHERE
    from tests.test_document_templates import document_text, plain

    def headings(code):
        cycle = _demo_cycle(demo, code)
        _doc, text = document_text(
            rendering.render("analytic_report", contexts.build_context("analytic_report", cycle.stage("ANL")))
        )
        text = plain(text)
        return re.findall(r"^(\d)\. ([А-ЯЁ][^\n]*)$", text, re.MULTILINE), text

    found, text = headings("M2.4")
    assert found == [
        ("1", "Общие сведения"),
        ("2", "Значения показателей"),
        ("3", "Выявленные проблемы и их причины"),
        ("4", "Выводы"),
    ], found
    general = text.split("2. Значения показателей")[0]
    assert all(sentence in general for sentence in ELSEWHERE.values())
    assert "3.1. " in text and "6.1. " not in text  # the findings numbered in their section
    found, text = headings("M2.1")
    assert [title for _n, title in found] == [
        "Общие сведения",
        "Значения показателей",
        "Положение школ среди школ со схожими условиями",
        "Выявленные проблемы и их причины",
        "Выводы",
    ]
    assert [n for n, _title in found] == ["1", "2", "3", "4", "5"]
    assert ELSEWHERE["clusters"] not in text and ELSEWHERE["objectivity"] in text

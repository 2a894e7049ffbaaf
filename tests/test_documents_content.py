"""Content that belongs to the cycle (issue 12, items 5 and 7): one положение per track and period."""

import pytest
from sqlalchemy import func, select

from app.core.errors import ValidationFailed
from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
from tests.test_documents import generate


def test_a_second_regulation_of_the_same_track_and_period_is_refused(world, goal_stage, db_session,
                                                                      fake_generation):
    """A положение already made at another stage of the cycle (a catalogue may list the type for several stages):
    generating one at «Цели» is refused with the reason, nothing is written; the existing one takes new editions."""
    from app.documents.models import Document, DocumentVersion
    from app.documents.services import generate_document

    cycle = goal_stage.cycle
    other_stage = cycle.stage("IND")
    first = Document(cycle_id=cycle.id, stage_id=other_stage.id, type_key="regulation", title="Положение",
                     state="registered", created_by_id=world["official"].id)
    db_session.add(first)
    db_session.commit()
    before = db_session.scalar(select(func.count()).select_from(DocumentVersion))
    with pytest.raises(ValidationFailed) as refused:
        generate_document(goal_stage, "regulation", actor=world["official"])
    assert "Второе положение не создаётся" in refused.value.message
    assert "этап «Показатели»" in refused.value.message and "зарегистрирован" in refused.value.message
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Document).where(
        Document.type_key == "regulation")) == 1
    assert db_session.scalar(select(func.count()).select_from(DocumentVersion)) == before

    # Its own stage's положение is not «a second one»: it takes a new edition.
    db_session.delete(db_session.get(Document, first.id))
    db_session.commit()
    doc = generate(goal_stage, "regulation", world["official"], db_session)
    again = generate(goal_stage, "regulation", world["official"], db_session)
    assert again.id == doc.id and [v.number for v in again.versions] == [1, 2]


def test_the_analytic_report_counts_the_organisations_that_reported(demo):
    """«Число организаций, представивших сведения» is the organisations whose values the report shows (the demo's
    upbringing report printed 11, every school of the municipality, beside a table of 3 schools)."""
    from app.cycles.models import Cycle
    from app.documents import contexts

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")
    ctx = contexts.build_context("analytic_report", cycle.stage("ANL"))
    shown = {o["name"] for i in ctx["indicators"] for o in i["organisations"]}
    assert shown and max(int(r["count"]) for r in ctx["indicator_rows"]) == len(shown)
    assert ctx["report"]["organisations"] == len(shown)


def test_the_assessment_documents_cite_the_criteria_without_a_screen_word(demo):
    """The 08-70 order, conclusion and report cite the criteria set by its name: a set loaded before the name was
    fixed is titled «… (по умолчанию)», which printed in the order («по критериям «… (по умолчанию)»»). A title that
    begins with «Критерии» continues the phrase: «по критериям «Критерии оценки …»» said the word twice."""
    from app.assessment.models import CriteriaSet
    from app.documents import owners, rendering
    from app.documents.catalogue import document_types
    from app.documents.owned import build_owned_context
    from tests.test_documents_registered import text_of

    for cset in demo.scalars(select(CriteriaSet)):
        cset.title = f"{cset.title} (по умолчанию)"
    demo.flush()
    printed = 0
    for dtype in document_types().values():
        owner = owners.kind_of(dtype.owner).sample() if dtype.owner else None
        if owner is None:
            continue
        text = text_of(rendering.render(dtype.key, build_owned_context(dtype.key, owner)))
        assert "умолчанию" not in text and "по критериям «Критерии" not in text, dtype.key
        printed += "по критериям оценки муниципальных механизмов управления качеством образования" in text
    assert printed == 3


def test_a_criteria_title_continues_by_criteria_only_where_it_reads_on():
    """«по критериям оценки …» for a title that begins with «Критерии» and continues in the genitive; a title whose
    next word is not (a region's «Критерии и показатели оценки …») read «по критериям и показатели оценки …»:
    it stays quoted, as any other title does."""
    from types import SimpleNamespace

    from app.assessment.documents import _by_criteria

    def by(title):
        return _by_criteria(SimpleNamespace(title=title))

    assert by("Критерии оценки механизмов (по умолчанию)") == "по критериям оценки механизмов"
    assert by("Критерии и показатели оценки механизмов") == "по критериям «Критерии и показатели оценки механизмов»"
    assert by("Критерии, утверждённые приказом") == "по критериям «Критерии, утверждённые приказом»"
    assert by("Критерии 2027 года") == "по критериям «Критерии 2027 года»"
    assert by("Муниципальные механизмы") == "по критериям «Муниципальные механизмы»"


def test_a_number_keeps_its_percent_and_number_sign_on_the_same_line(demo):
    """«от 80 % максимального балла» of the 08-70 order broke after «80» in LibreOffice; the values the system
    writes into a document glue «%» and «№» to their number with a no-break space."""
    from app.assessment.models import Campaign
    from app.documents import rendering
    from app.documents.owned import build_owned_context
    from tests.test_documents_registered import text_of

    campaign = demo.scalars(select(Campaign).order_by(Campaign.id)).first()
    text = text_of(rendering.render("assessment_order", build_owned_context("assessment_order", campaign)))
    assert "не менее 80\u00a0% максимального балла" in text
    assert rendering._clean(["МОУ «Гимназия № 3»", "№ ___", "95 %"]) == [
        "МОУ «Гимназия №\u00a03»", "№\u00a0___", "95\u00a0%"]


def test_the_protocol_names_whom_it_heard_in_the_accusative_and_lists_those_present_by_surname(demo):
    """The demo's protocol printed «СЛУШАЛИ: М.И. Петрова, главный специалист …» (the nominative), «Выявленные
    проблемы: Значения …» (a capital after the colon) and «С.П. Иванов» under the column «Фамилия, инициалы»."""
    from app.cycles.models import Cycle
    from app.documents import contexts

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")
    ctx = contexts.build_context("protocol", cycle.stage("DEC"))
    heard = ctx["agenda"][0]["heard"]
    assert heard.startswith("М.И. Петрову, главного специалиста управления образования, о результатах"), heard
    assert "Выявленные проблемы: значения" in heard
    assert "Иванов С.П." in [row["name"] for row in ctx["present"]]


def test_the_regulation_cites_its_legal_basis_after_v_sootvetstvii_s_in_the_instrumental(demo):
    """«Положение разработано в соответствии с: — Федеральный закон …; — письмо Рособрнадзора …» printed the acts
    in the nominative; after «в соответствии с» they are «Федеральным законом …», «письмом Рособрнадзора …»."""
    from app.cycles.models import Cycle
    from app.documents import contexts

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")
    basis = contexts.build_context("regulation", cycle.stage("GOAL"))["basis"]
    assert basis[0].startswith("Федеральным законом от 29.12.2012 № 273-ФЗ")
    assert basis[1].startswith("письмом Рособрнадзора от 20.04.2021 № 08-70")


def test_a_measure_with_one_indicator_names_it_in_the_singular(app):
    """The roadmap's «Ожидаемый результат» printed «(показатели: M2.3-01)» for a single indicator."""
    from types import SimpleNamespace

    from app.followup.documents import measure_row

    one, two = SimpleNamespace(code="M2.3-01"), SimpleNamespace(code="M2.3-02")
    measure = SimpleNamespace(title="Семинар", start_date=None, end_date=None, responsible=None, participants=None,
                              expected_result="Рост доли", indicators=[one])
    assert measure_row(measure)["expected_result"] == "Рост доли (показатель: M2.3-01)"
    measure.indicators = [one, two]
    assert measure_row(measure)["expected_result"] == "Рост доли (показатели: M2.3-01, M2.3-02)"


def test_best_practices_name_the_unit_of_a_value_that_is_not_a_percentage(demo):
    """«Число обучающихся, состоящих на профилактическом учёте» printed «6» and «24,33» with no unit anywhere in
    its row; the unit now follows the indicator's name (a percentage keeps its «%» by the figure)."""
    from app.cycles.models import Cycle
    from app.documents import contexts

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")
    rows = contexts.build_context("best_practices", cycle.stage("REC"))["practices"]
    counted = [r for r in rows if "%" not in r["value"]]
    assert counted and all(r["indicator"].endswith(", чел.") for r in counted), counted
    assert all(not r["indicator"].endswith("%") for r in rows)


def test_a_count_of_people_is_whole_in_every_document_of_the_cycle(demo):
    """The analytic report printed «24» for «Число обучающихся, состоящих на профилактическом учёте», the
    effectiveness report «24,33» (change «+1,33») and the best practices «24,33» for the same mean."""
    from app.cycles.models import Cycle
    from app.documents import contexts

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")
    report = contexts.build_context("analytic_report", cycle.stage("ANL"))
    mean = next(r["mean"] for r in report["indicator_rows"] if r["unit"] == "чел.")
    effect = contexts.build_context("effectiveness_report", cycle.stage("EFF"))
    row = next(r for r in effect["indicator_rows"] if r["unit"] == "чел.")
    assert row["actual"] == mean and "," not in row["change"], row
    practices = contexts.build_context("best_practices", cycle.stage("REC"))["practices"]
    counted = next(r for r in practices if r["indicator"].endswith(", чел."))
    # «Среднее по ОО» beside a school's value is a school's average (whole too); the reports' figure is the
    # municipality's, a head count summed over its schools (monitoring.values.owner_value)
    assert "," not in counted["average"] and "," not in counted["value"]


def test_the_numbers_of_one_column_have_the_same_number_of_decimals(demo):
    """The analytic report's «Среднее» printed «52,9» above «85,93» (trailing zeros stripped), and so did the
    effectiveness report's «Достигнутое» and «Изменение» and the best practices' «Среднее по ОО»: each column of
    measured values now has one number of decimals (a count of people stays whole)."""
    from app.cycles.models import Cycle
    from app.documents import contexts

    def decimals(text):
        return len(text.replace("\u00a0%", "").replace(" %", "").partition(",")[2])

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")
    report = contexts.build_context("analytic_report", cycle.stage("ANL"))["indicator_rows"]
    effect = contexts.build_context("effectiveness_report", cycle.stage("EFF"))["indicator_rows"]
    practices = contexts.build_context("best_practices", cycle.stage("REC"))["practices"]
    tables = {"analytic_report": (report, ("baseline", "target", "mean", "minimum", "maximum"), "unit"),
              "effectiveness_report": (effect, ("baseline", "target", "actual", "change"), "unit"),
              "best_practices": (practices, ("value", "average"), None)}
    for key, (rows, columns, unit) in tables.items():
        measured = [r for r in rows if (r[unit] != "чел." if unit else not r["indicator"].endswith(", чел."))]
        assert len(measured) > 2, key
        for column in columns:
            shown = {decimals(r[column]) for r in measured if r[column] != "—"}
            assert len(shown) == 1, (key, column, [r[column] for r in measured])
    # the mean has the precision of the values (one decimal in the demo), as the chart's «в целом» line
    assert {decimals(r["mean"]) for r in report if r["unit"] != "чел."} == {1}


def test_the_data_request_letter_names_its_subject_once(demo):
    """The letter began «В рамках мониторинга «Сведения для мониторинга показателей по направлению „Организация
    воспитания обучающихся“» («Организация воспитания обучающихся»)»: the request's title and the direction said
    the same thing twice in one sentence. A letter names the direction once and asks for the values by a date."""
    from app.cycles.models import Cycle
    from app.documents import contexts, rendering
    from tests.test_documents_registered import text_of

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")
    ctx = contexts.build_context("data_request_letter", cycle.stage("MON"))
    text = text_of(rendering.render("data_request_letter", ctx))
    direction = ctx["cycle"]["mechanism"].strip("«»")
    assert text.count(direction) == 1, text
    body = next(line for line in text.splitlines() if "просит представить" in line)
    assert body.startswith(f"В рамках мониторинга по направлению «{direction}» {ctx['org']['name']} просит")
    assert ctx["request"]["deadline_long"].replace(" г.", "\u00a0г.") in body and "Сведения для мониторинга" not in text


def test_text_after_a_colon_goes_on_in_lower_case_and_a_conclusion_ends_with_a_full_stop(demo):
    """The demo's effectiveness report printed «Предложение (корректировка показателя): Скорректировать … для одного
    года» (a capital after the colon, no full stop) and «есть эффект. Проведено, …» in its results; the положение
    «(направление: Развитие муниципальной системы …)»."""
    from app.cycles.models import Cycle
    from app.documents import contexts

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")
    effect = contexts.build_context("effectiveness_report", cycle.stage("EFF"))
    proposals = [line for line in effect["conclusions"] if line.startswith("Предложение (")]
    assert proposals
    for line in proposals:
        after = line.split("): ", 1)[1]
        assert after[0].islower() and line.endswith("."), line
    assert all(line.endswith((".", "!", "?", "…")) for line in effect["conclusions"]), effect["conclusions"]
    results = [m["result"] for m in effect["measures"]]
    assert results and all(r[0].isupper() for r in results), results
    goals = contexts.build_context("regulation", cycle.stage("GOAL"))["goals"]
    assert goals and all(g["direction"][0].islower() for g in goals), goals


def test_the_event_order_says_when_in_words_and_the_practices_letter_leads_into_its_list(demo):
    """The event order printed «Провести мероприятие «…» в срок: 15.12.2026 – 03.02.2027» (a table's range in a
    sentence); the best practices letter went from its table's last row straight to «1. Организовать изучение
    опыта …» with nothing to govern the infinitives."""
    from app.cycles.models import Cycle
    from app.documents import contexts, rendering
    from app.followup.models import Measure
    from tests.test_documents_registered import text_of

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")
    ctx = contexts.build_context("event_order", cycle.stage("MEAS"))  # the next event not yet begun
    measure = demo.scalars(select(Measure).where(Measure.cycle_id == cycle.id,
                                                 Measure.title == ctx["event"]["title"])).one()
    assert measure.end_date > measure.start_date
    first = ctx["items"][0]["text"]
    assert first.endswith(f" в период с {measure.start_date:%d.%m.%Y} по {measure.end_date:%d.%m.%Y}."), first
    text = text_of(rendering.render("best_practices", contexts.build_context("best_practices", cycle.stage("REC"))))
    lines = text.splitlines()
    assert lines[lines.index("Рекомендуется:") + 1].startswith("1. ")


def test_the_monitoring_order_names_a_single_request_by_what_it_collects(demo):
    """«Провести сбор сведений «Сведения для мониторинга показателей по направлению „…“»»: the one request's title
    repeated «сбор сведений» and the preamble's direction; a single request is named by what it collects."""
    from app.cycles.models import Cycle
    from app.documents import contexts
    from app.monitoring.models import DataRequest

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")
    request = demo.scalars(select(DataRequest).where(DataRequest.cycle_id == cycle.id)).one()
    ctx = contexts.build_context("monitoring_order", cycle.stage("MON"))
    first = ctx["items"][0]["text"]
    assert first == (f"Провести сбор сведений о значениях показателей за {request.period} учебный год по перечню "
                     "показателей (приложение № 1)."), first


def test_the_demos_effectiveness_conclusions_count_only_the_measures_rated(demo):
    """The effectiveness report's conclusions said «Оценено мер: 4» while its table said «мера не завершена — эффект
    не оценивается» of two of the four."""
    from app.cycles.models import Cycle
    from app.effectiveness import services
    from app.followup.models import Measure
    from workflows.measure import ACTIVE_STATES

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")
    states = [m.state for m in demo.scalars(select(Measure).where(Measure.cycle_id == cycle.id,
                                                                  Measure.state != "cancelled"))]
    unfinished = sum(1 for s in states if s in ACTIVE_STATES)
    assert unfinished  # the demo's cycle has measures still under way
    text = services.evaluation_of(cycle).conclusions
    assert f"Оценено мер: {len(states) - unfinished};" in text
    assert f"не завершены и не оценивались: {unfinished}." in text


def test_the_demos_roadmap_expects_of_each_measure_what_its_indicator_measures(demo):
    """The roadmap printed one expected result for every measure, «Рост доли обучающихся, вовлечённых в деятельность
    детских общественных объединений (показатель: M2.3-01)» beside an indicator of programmes of upbringing, and
    «Рост …» beside an indicator that should fall."""
    from app.cycles.models import Cycle
    from app.documents import contexts
    from app.followup.documents import measures_of

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")
    rows = contexts.build_context("roadmap", cycle.stage("MEAS"))["measures"]
    measures = measures_of(cycle)
    assert len(rows) == len(measures) >= 2 and len({r["expected_result"] for r in rows}) == len(rows)
    for row, measure in zip(rows, measures):
        (indicator,) = measure.indicators
        word = "Снижение" if indicator.direction == "down" else "Рост"
        assert row["expected_result"].startswith(f"{word} значения показателя «{indicator.name.split()[0]}"), row
        # (its hyphen a non-breaking one in the table's cell: tests/test_docs15_documents.py)
        assert indicator.code.replace("-", "\u2011") in row["expected_result"]

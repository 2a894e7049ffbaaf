"""A repeat measurement of a part (one school of two measured again after the measures) as the integrity panel, its
counts, the evaluation page and the effectiveness report say it (app/effectiveness/repeat.py).

The evaluation kept the department's monitoring value «после мер» and rated nothing, while the panel counted the
one school's repeat value as «measured again» and showed no gap; a regional cycle said «1 из 5» of one school
measured again beside two municipalities and three schools; the report's narrow «Оценка» cell broke
«муниципалите-т» over two lines and said «повторно измерено организаций: 1 из 2»."""

import io
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from docx import Document
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.catalogue.models import Track
from app.cycles.models import Cycle
from app.documents import contexts, rendering
from app.effectiveness import services
from app.effectiveness.chain_counts import count_defects
from app.effectiveness.integrity import check_cycle, check_cycles
from app.monitoring.models import IndicatorValue
from tests.conftest import counted_statements
from tests.fixtures_effectiveness import (
    accepted_values, add_indicator, make_measure, open_all_stages, repeat_values, today,
)

TEMPLATE = Path(__file__).resolve().parent.parent / "document_templates" / "effectiveness_report.docx"
PARTIAL = "повторно измерен частично"


def _repeat(cycle, actor, values, _db_session):
    return repeat_values(cycle, actor, values)


def _measured_before(indicator, day, db_session):
    """The indicator's monitoring values entered on `day` (before the measure ended)."""
    for value in db_session.scalars(select(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id)):
        value.updated_at = datetime.combine(day, time(9), tzinfo=timezone.utc)


def _partial(cycle, official, upper_values, repeat_values, db_session, code="E-09"):
    """An indicator «чем меньше, тем лучше» the upper organisations reported in the monitoring, a measure on it that
    ended 30 days ago, and a repeat measurement of a part after it."""
    ind = add_indicator(cycle, official, code, baseline=10, target=8, direction="down")
    end = today() - timedelta(days=30)
    accepted_values(cycle, official, {(ind, org): v for org, v in upper_values.items()})
    _measured_before(ind, end - timedelta(days=30), db_session)
    make_measure(cycle, official, "Курсы повышения квалификации", indicators=[ind], start=end - timedelta(days=60),
                 end=end)
    _repeat(cycle, official, {(ind, org): v for org, v in repeat_values.items()}, db_session)
    return ind


def _panel(cycle, indicator):
    return [d for d in check_cycle(cycle, today=today())
            if d.code == "indicator_not_remeasured" and d.object_id == indicator.id]


def test_the_panel_says_the_indicator_was_measured_again_in_part(chain, world, db_session):
    cycle, official = chain.cycle, world["official"]
    ind = _partial(cycle, official, {world["mun"]: 12}, {world["school_a"]: 7}, db_session)
    (defect,) = _panel(cycle, ind)
    assert f"{PARTIAL}: 1 организация из 2 (Школа А)" in defect.message
    assert "Тестовый муниципалитет" in defect.message and "эффект меры не оценивается" in defect.message
    # the assessment's counts are the panel's, code for code
    counted = count_defects([cycle], today=today())[cycle.id]
    assert counted["indicator_not_remeasured"] == sum(1 for d in check_cycle(cycle, today=today())
                                                      if d.code == "indicator_not_remeasured")


def test_a_repeat_of_every_school_is_no_gap(chain, world, db_session):
    cycle, official = chain.cycle, world["official"]
    ind = _partial(cycle, official, {world["mun"]: 12}, {world["school_a"]: 7, world["school_b"]: 8}, db_session)
    assert _panel(cycle, ind) == []
    assert count_defects([cycle], today=today())[cycle.id]["indicator_not_remeasured"] == sum(
        1 for d in check_cycle(cycle, today=today()) if d.code == "indicator_not_remeasured")


def _regional(world, make_cycle, make_org, make_user, db_session, repeat):
    """A region (11 of its own), its municipalities (10 and 14) and three schools; `repeat(world, second)` names
    those measured again."""
    official = make_user("official", world["region"])
    second = make_org("municipality", parent=world["region"], code="MUN-2", name="Второй муниципалитет")
    make_org("school", parent=second, code="SCH-C", name="Школа В", students=300, settlement="city")
    cycle = make_cycle(world["region"], official, mechanism="R1.1")
    open_all_stages(cycle)
    ind = _partial(cycle, official, {world["region"]: 11, world["mun"]: 10, second: 14}, repeat(world, second),
                   db_session, code="R-02")
    return cycle, official, ind


def test_a_regional_repeat_counts_each_level_apart_on_the_page_the_panel_and_the_report(
        client, login, world, make_cycle, make_org, make_user, db_session):
    cycle, official, ind = _regional(world, make_cycle, make_org, make_user, db_session,
                                     lambda w, second: {second: 9, w["school_a"]: 7})
    (row,) = [r for r in services.indicator_rows(cycle) if r.code == "R-02"]
    (kept,) = row.kept
    # not «2 из 5»: one municipality of two and one school of three
    words = "1 муниципалитет из 2 (Второй муниципалитет), 1 организация из 3 (Школа А)"
    assert kept.counted == words
    (defect,) = _panel(cycle, ind)
    assert f"{PARTIAL}: {words}" in defect.message
    db_session.commit()
    ctx = contexts.build_context("effectiveness_report", cycle.stage("EFF"))
    assert any(words in line for line in ctx["conclusions"])
    login(official)
    assert f"повторно измерены: {words}" in client.get(f"/effectiveness/cycles/{cycle.id}").get_data(as_text=True)


def test_a_regional_repeat_of_schools_counts_the_schools(world, make_cycle, make_org, make_user, db_session):
    cycle, _official, ind = _regional(world, make_cycle, make_org, make_user, db_session,
                                      lambda w, second: {w["school_a"]: 7})
    (row,) = [r for r in services.indicator_rows(cycle) if r.code == "R-02"]
    assert [(k.name, k.counted, k.total) for k in row.kept] == [("Тестовая область", "1 организация из 3 (Школа А)",
                                                                  3)]
    (defect,) = _panel(cycle, ind)
    assert f"{PARTIAL}: 1 организация из 3 (Школа А)" in defect.message


def test_the_panel_and_its_counts_read_partial_repeats_of_many_cycles_in_a_fixed_number_of_statements(
        world, make_cycle, make_org, make_user, db_session):
    official = make_user("official", world["region"])
    cycles = []

    def grow(n):
        for k in range(len(cycles), n):
            mun = make_org("municipality", parent=world["region"], code=f"PM-{k}", name=f"Муниципалитет {k}")
            school = make_org("school", parent=mun, code=f"PS-{k}a", name=f"Школа {k}а", students=100,
                              settlement="city")
            make_org("school", parent=mun, code=f"PS-{k}b", name=f"Школа {k}б", students=100, settlement="city")
            cycle = make_cycle(mun, official, mechanism="M1.1")
            open_all_stages(cycle)
            _partial(cycle, official, {mun: 12}, {school: 7}, db_session)
            cycles.append(cycle)
        db_session.flush()

    def statements():
        ids = [c.id for c in cycles]
        db_session.expire_all()
        with counted_statements() as seen:
            # the cycles as a region's page loads them: with their tracks, mechanisms and owners
            loaded = db_session.scalars(select(Cycle).where(Cycle.id.in_(ids)).options(
                joinedload(Cycle.track).joinedload(Track.mechanism), joinedload(Cycle.owner))).all()
            described = check_cycles(loaded, today=today())
            counted = count_defects(loaded, today=today())
        for cycle in cycles:
            # each cycle's partial repeat found, and counted as the panel describes it
            assert sum(PARTIAL in d.message for d in described[cycle.id]) == 1
            assert counted[cycle.id]["indicator_not_remeasured"] == sum(
                d.code == "indicator_not_remeasured" for d in described[cycle.id])
        return len(seen)

    grow(3)
    few = statements()
    grow(12)
    assert statements() == few


def test_the_report_prints_a_short_cell_and_the_counts_in_words(chain, world, db_session):
    """The signed document: the «Оценка» cell short (no organisation's name to break over two lines) and the
    conclusions with the numbers and nouns agreeing: «1 организация из 2»."""
    cycle, official = chain.cycle, world["official"]
    _partial(cycle, official, {world["mun"]: 12}, {world["school_a"]: 7}, db_session)
    db_session.commit()
    ctx = contexts.build_context("effectiveness_report", cycle.stage("EFF"))
    doc = Document(io.BytesIO(rendering.render("effectiveness_report", ctx, template=TEMPLATE.read_bytes())))
    indicators, measures = [t for t in doc.tables if t.rows[0].cells[-1].text in ("Оценка", "Результат")]
    (row,) = [r for r in indicators.rows if r.cells[1].text.startswith("E-09")]
    assert row.cells[-1].text == "не достигнуто; повторно измерена часть организаций (см. раздел 3)"
    # the no-break spaces rendering glues a dash and «г.» with read as spaces
    text = "\n".join(p.text for p in doc.paragraphs).replace("\u00a0", " ")
    assert ("Показатель «Показатель E-09» (E-09) повторно измерен частично: 1 организация из 2 (Школа А), "
            f"достигнутое значение — по данным мониторинга за {cycle.period} учебный год (Тестовый муниципалитет)."
            in text)
    assert "организаций: 1 из 2" not in text
    # a measure's result after its assessment is a sentence of its own
    assert all(". " not in c.text or c.text.split(". ", 1)[1][:1].isupper()
               for r in measures.rows[1:] for c in r.cells[-1:])

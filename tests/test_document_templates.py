"""Document types as data, one Word template per type, context builders and strict rendering (issue 3, 1–3).

Every type in the catalogue is rendered from a cycle driven through all nine stages with the demo's own
fillers; each file is opened with python-docx (and, where LibreOffice is installed, converted to PDF) and
checked for leftover template tags, the key data, real table rows and the house formatting.
"""

import io
import re
import subprocess
import zipfile
from datetime import date, timedelta

import pytest
import yaml
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm
from docx.text.paragraph import Paragraph
from sqlalchemy import func, select

from app.core import russian as ru
from app.core.errors import ValidationFailed
from app.documents import catalogue, contexts, rendering
from app.documents.catalogue import document_types, mandatory_types, types_for_stage
from app.documents.rendering import RenderError
from tests import services as svc
from tests.snapshots import CURRENT_PERIOD

TAG = re.compile(r"\{\{|\{%|\{#|\{_|%\}|\}\}")
# «На № ______ от ______» is a letter's reply line; «№» and its number are glued by a no-break space
BLANK_NUMBER = re.compile("(?<!На )№\u00a0______")
SHORT_DATE = re.compile(r"\b\d{2}\.\d{2}\.\d{4}\b")
REGISTERED = {"registration_number": "01-07/15", "registration_date": date(2021, 4, 20), "number": 2}
STAGE_ORDER = ["GOAL", "IND", "METH", "MON", "ANL", "REC", "MEAS", "DEC", "EFF"]


# --- helpers ---------------------------------------------------------------------------------------------

def _tables(container):
    for table in container.tables:
        yield table
        for row in table.rows:
            for cell in row.cells:
                yield from _tables(cell)


def document_text(data: bytes) -> tuple[Document, str]:
    """The opened document and every piece of its text: body, tables (nested), text boxes, headers and footers."""
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in _tables(doc):
        parts += [cell.text for row in table.rows for cell in row.cells]
    for section in doc.sections:
        for part in (section.header, section.footer, section.first_page_header, section.even_page_header):
            parts += [p.text for p in part.paragraphs]
            parts += [cell.text for t in _tables(part) for row in t.rows for cell in row.cells]
    # text boxes (the executor mark at the foot of the last page): python-docx's paragraphs do not reach into them
    boxes = doc.element.body.iter(qn("w:txbxContent"))
    parts += [Paragraph(p, None).text for box in boxes for p in box.iter(qn("w:p"))]
    return doc, "\n".join(parts)


def plain(text: str) -> str:
    """The text with the no-break spaces and hyphens rendering puts into names («И.П.\u00a0Тестов») made plain."""
    return text.replace("\u00a0", " ").replace("\u2011", "-")


def assert_no_tags(data: bytes) -> None:
    """No template tag survives in any XML part of the package (body, headers, footers, properties)."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            if name.endswith(".xml") or name.endswith(".rels"):
                text = re.sub(r"<[^>]+>", "", package.read(name).decode("utf-8"))
                assert not TAG.search(text), f"template tag left in {name}: {TAG.search(text).group(0)}"


def assert_plain(value, where: str) -> None:
    """A context holds primitives only (PNG bytes for charts): never an ORM object."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), where
            assert_plain(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            assert_plain(item, f"{where}[{n}]")
    else:
        assert value is None or isinstance(value, (str, int, float, bytes)), f"{where}: {type(value).__name__}"


def table_with_header(doc, first_cells: list[str]):
    for table in _tables(doc):
        header = [c.text.strip() for c in table.rows[0].cells]
        if header[:len(first_cells)] == first_cells:
            return table
    raise AssertionError(f"no table with header {first_cells}")


def drive_cycle(cycle, official, head):
    """Fill, submit and approve all nine stages with the demo's fillers (every feature's content)."""
    from app.demo import fill_stage
    from workflows import engine

    for _ in STAGE_ORDER:
        stage = next(s for s in cycle.stages if s.state == "draft")
        fill_stage(stage, official=official, head=head)
        engine.fire(stage, "submit", actor=official)
        engine.fire(stage, "approve", actor=head)


@pytest.fixture
def cycle(world, make_cycle, db_session):
    """A municipal cycle of the world's municipality with every stage filled and approved."""
    deadlines = {code: date.today() + timedelta(days=10 * n) for n, code in enumerate(STAGE_ORDER, 1)}
    made = make_cycle(world["mun"], world["official"], period=CURRENT_PERIOD, deadlines=deadlines)
    drive_cycle(made, world["official"], world["head"])
    db_session.commit()
    return made


def context_for(dtype, cycle, world, **kw):
    addressee = (_an_addressee(cycle) or world["school_a"]) if dtype.per_addressee else None
    return contexts.build_context(dtype.key, cycle.stage(dtype.stages[0]), addressee=addressee, **kw)


def _an_addressee(cycle):
    from app.followup.models import Recommendation, RecommendationItem
    from app.extensions import db
    from app.orgs.models import Organisation

    org_id = db.session.scalar(select(RecommendationItem.organisation_id).join(Recommendation)
                               .where(Recommendation.cycle_id == cycle.id).order_by(RecommendationItem.id).limit(1))
    return db.session.get(Organisation, org_id) if org_id else None


# --- the catalogue ---------------------------------------------------------------------------------------

REQUIRED_KINDS = {"regulation", "indicators_approval", "monitoring_order", "data_request_letter", "analytic_report",
                  "addressed_recommendations", "best_practices", "event_order", "roadmap", "deficiency_plan",
                  "protocol", "decision_order", "effectiveness_report"}


def test_catalogue_has_every_required_type_with_its_template():
    types = document_types()
    assert REQUIRED_KINDS <= set(types)
    for dtype in types.values():
        assert dtype.template_path.is_file(), dtype.key
        assert dtype.sidecar_path.is_file(), dtype.key
        meta = yaml.safe_load(dtype.sidecar_path.read_text(encoding="utf-8"))
        assert meta["title"] and meta["family"] == dtype.family and meta["version"] >= 1
        assert set(meta["stages"]) == set(dtype.stages)
        assert meta["filename"].endswith(".docx")
    assert types["addressed_recommendations"].per_addressee
    assert types["data_request_letter"].subject == "data_request"
    assert {t.family for t in types.values()} == {"conceptual", "procedural", "managerial"}


def test_every_stage_has_its_mandatory_document_type():
    expected = {"GOAL": "regulation", "IND": "indicators_approval", "METH": "indicators_approval",
                "MON": "monitoring_order", "ANL": "analytic_report", "REC": "addressed_recommendations",
                "MEAS": "roadmap", "DEC": "decision_order", "EFF": "effectiveness_report"}
    for code, key in expected.items():
        assert key in [t.key for t in mandatory_types(code)], code
        assert key in [t.key for t in types_for_stage(code)]
    assert "data_request_letter" not in [t.key for t in mandatory_types("MON")]


@pytest.mark.parametrize("mutate, message", [
    (lambda e: e.update(family="procedural-ish"), "неизвестное семейство"),
    (lambda e: e.update(stages=["GOAL", "XYZ"]), "неизвестное значение «XYZ»"),
    (lambda e: e.update(signer_roles=["boss"]), "неизвестное значение «boss»"),
    (lambda e: e.update(mandatory_for=["EFF"]), "обязателен для этапа EFF"),
    (lambda e: e.pop("title"), "не заполнено поле «title»"),
    (lambda e: e.update(per_addressee="yes"), "должно быть true или false"),
    (lambda e: e.update(colour="red"), "неизвестное поле «colour»"),
])
def test_a_bad_catalogue_entry_is_refused_in_russian(tmp_path, mutate, message):
    data = yaml.safe_load(catalogue.CATALOGUE_PATH.read_text(encoding="utf-8"))
    mutate(data["types"][0])
    path = tmp_path / "types.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        catalogue.load_catalogue(path)
    assert "Каталог видов документов" in caught.value.message
    assert any(message in p for p in caught.value.problems), caught.value.problems
    assert any("«regulation»" in p for p in caught.value.problems)


def test_duplicate_keys_and_broken_yaml_are_refused(tmp_path):
    data = yaml.safe_load(catalogue.CATALOGUE_PATH.read_text(encoding="utf-8"))
    data["types"].append(dict(data["types"][0]))
    path = tmp_path / "types.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        catalogue.load_catalogue(path)
    assert any("ключ повторяется" in p for p in caught.value.problems)
    path.write_text("types: [\n  - key: x\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="не читается как YAML"):
        catalogue.load_catalogue(path)


# --- templates against their sidecars --------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(REQUIRED_KINDS))
def test_template_uses_exactly_the_variables_its_sidecar_declares(key):
    assert rendering.undeclared_variables(key) == rendering.declared_variables(key)


def test_shipped_templates_carry_the_house_formatting():
    for dtype in document_types().values():
        doc = Document(str(dtype.template_path))
        normal = doc.styles["Normal"]
        assert normal.font.name == "Times New Roman", dtype.key
        assert 12 <= normal.font.size.pt <= 14
        section = doc.sections[0]
        assert (round(section.left_margin / Mm(1)), round(section.right_margin / Mm(1)),
                round(section.top_margin / Mm(1)), round(section.bottom_margin / Mm(1))) == (30, 10, 20, 20)


def test_the_build_script_reproduces_the_shipped_templates(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_templates", catalogue.TEMPLATES_DIR / "build_templates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)
    module.main([])
    for dtype in document_types().values():
        assert (tmp_path / f"{dtype.template}.docx").read_bytes() == dtype.template_path.read_bytes(), dtype.key
        assert (tmp_path / f"{dtype.template}.yaml").read_text() == dtype.sidecar_path.read_text(), dtype.key


def test_a_templates_own_number_sign_and_percent_stay_with_their_number():
    """«перечисленных в приложении № 2» of the 08-70 order ended a line with «№» in LibreOffice: the templates' own
    text glues «№» and «%» to their number with a no-break space, as rendering does for the values."""
    for dtype in document_types().values():
        with zipfile.ZipFile(dtype.template_path) as docx:
            text = re.sub(r"<[^>]+>", "", docx.read("word/document.xml").decode("utf-8"))
        assert not re.search(r"№ [\d_{]|\d %", text), (dtype.key, re.findall(r".{30}(?:№ [\d_{]|\d %).{10}", text))


def test_only_the_last_item_of_a_list_keeps_with_the_signature():
    """A list ending the text (conclusions, recommendations) kept every item with the next one: LibreOffice moved the
    whole list with the signature to a new page (the effectiveness report's page 2 two thirds blank). The loop's
    paragraph keeps with what follows for its last item only."""
    checked = 0
    for dtype in document_types().values():
        body = Document(dtype.template_path).element.body
        for element in body.iter(qn("w:p")):
            following = element.getnext()
            if following is None or following.tag != qn("w:p"):
                continue
            if Paragraph(following, None).text.startswith("{%p endfor"):
                kept = Paragraph(element, None).paragraph_format.keep_with_next
                assert not kept, (dtype.key, Paragraph(element, None).text)
                checked += 1
    assert checked > 5


# --- rendering every type from a driven cycle --------------------------------------------------------------

def test_every_type_renders_from_cycle_data(cycle, world, db_session):
    from app.cycles.models import Indicator

    indicators = db_session.scalars(select(Indicator).where(Indicator.cycle_id == cycle.id)
                                    .order_by(Indicator.code)).all()
    assert indicators
    for dtype in catalogue.cycle_types():  # an owner's types: tests/test_assessment_documents.py
        ctx = context_for(dtype, cycle, world)
        assert_plain(ctx, dtype.key)
        data = rendering.render(dtype.key, ctx)
        assert_no_tags(data)
        doc, text = document_text(data)
        assert world["mun"].name in text and ctx["org"]["place"] in text, dtype.key
        assert ctx["doc"]["heading"] in text or ctx["doc"]["heading"] in text.replace("\n", " "), dtype.key
        assert BLANK_NUMBER.search(text), dtype.key  # a draft carries a blank registration number
        assert "ПРОЕКТ" in text, dtype.key
        # a name's initials keep to the surname with a no-break space in a document (app/documents/rendering.py)
        assert world["head"].short_name in plain(text) or world["official"].short_name in plain(text), dtype.key
        assert world["official"].full_name in text, dtype.key  # executor mark
        assert doc.styles["Normal"].font.name == "Times New Roman"
        assert round(doc.sections[0].left_margin / Mm(1)) == 30
        assert doc.core_properties.title == dtype.title
        # Once registered, the number and the date (ДД.ММ.ГГГГ or 20 апреля 2021 г.) are printed.
        ctx = context_for(dtype, cycle, world, version=REGISTERED)
        data = rendering.render(dtype.key, ctx)
        assert_no_tags(data)
        doc, text = document_text(data)
        assert "№\u00a001-07/15" in text and "ПРОЕКТ" not in text and not BLANK_NUMBER.search(text), dtype.key
        assert "20.04.2021" in text or "20 апреля 2021\u00a0г." in text, dtype.key


def test_indicator_list_is_a_real_table_with_one_row_per_indicator(cycle, world):
    dtype = document_types()["indicators_approval"]
    ctx = context_for(dtype, cycle, world)
    doc, text = document_text(rendering.render("indicators_approval", ctx))
    table = table_with_header(doc, ["№", "Код", "Показатель"])
    assert len(table.rows) == 1 + len(cycle.indicators)
    units = [ind.unit for ind in cycle.indicators]
    baselines = ru.column([ind.baseline for ind in cycle.indicators], units)
    targets = ru.column([ind.target for ind in cycle.indicators], units)
    for row, ind, baseline, target in zip(table.rows[1:], cycle.indicators, baselines, targets):
        cells = [c.text for c in row.cells]
        assert cells[1] == ind.code
        assert cells[4] == baseline and cells[5] == target
    # one number of decimals in each column (it printed «72» under «50,5»)
    for column in (4, 5):
        measured = [r.cells[column].text for r, ind in zip(table.rows[1:], cycle.indicators) if ind.unit == "%"]
        assert len({len(text.partition(",")[2]) for text in measured}) == 1, measured
    assert "УТВЕРЖДАЮ" in text and "СОГЛАСОВАНО" in text
    methods = table_with_header(doc, ["№", "Источник информации"])
    assert len(methods.rows) == 1 + len(cycle.collection_methods)


def test_an_indicator_list_made_before_the_methods_lists_the_indicators_only(cycle, world, db_session):
    """The перечень made at «Показатели» (the demo registers that edition) printed «2. Методы сбора и обработки
    информации» over a table of its header alone: before the methods are described it is a list of indicators."""
    for method in list(cycle.collection_methods):
        db_session.delete(method)
    db_session.flush()
    db_session.expire(cycle)
    ctx = contexts.build_context("indicators_approval", cycle.stage("IND"))
    doc, text = document_text(rendering.render("indicators_approval", ctx))
    assert "Методы сбора" not in text and "Источник информации" not in text
    assert ctx["doc"]["heading"].startswith("показателей («")
    assert len(table_with_header(doc, ["№", "Код", "Показатель"]).rows) == 1 + len(cycle.indicators)
    db_session.rollback()


def test_monitoring_order_has_numbered_items_with_executor_and_deadline(cycle, world):
    from app.monitoring.models import DataRequest

    ctx = context_for(document_types()["monitoring_order"], cycle, world)
    doc, text = document_text(rendering.render("monitoring_order", ctx))
    assert "ПРИКАЗ" in text and "ПРИКАЗЫВАЮ:" in text
    request = DataRequest.query.filter_by(cycle_id=cycle.id).first()
    # the cycle's one request is named by what it collects, not by its title
    assert f"Провести сбор сведений о значениях показателей за {request.period} учебный год" in text
    assert request.deadline.strftime("%d.%m.%Y") in text
    n = len(ctx["items"])
    assert f"{n + 1}. Контроль за исполнением настоящего приказа" in text
    for i in range(1, n + 1):
        assert re.search(rf"^{i}\. ", text, re.M)
    # «Ответственные:» before the group of the participants' heads
    assert text.count("Ответственный:") + text.count("Ответственные:") == n
    addressees = table_with_header(doc, ["№", "Организация", "Руководитель"])
    assert len(addressees.rows) == 1 + len({s.organisation_id for s in request.submissions})
    # the mark names whose order it is (ГОСТ Р 7.0.97): «к приказу тестового муниципалитета», not «к приказу от»
    assert "Приложение №\u00a01\nк приказу тестового муниципалитета\nот __.__.20__ №\u00a0______" in text


def test_letter_carries_letterhead_reply_line_and_appendix(cycle, world):
    from app.monitoring.models import DataRequest

    request = DataRequest.query.filter_by(cycle_id=cycle.id).first()
    dtype = document_types()["data_request_letter"]
    ctx = contexts.build_context(dtype.key, cycle.stage("MON"), params={"data_request_id": request.id,
                                                                          "reply_number": "01-05/17",
                                                                          "reply_date": "02.03.2026"})
    doc, text = document_text(rendering.render(dtype.key, ctx))
    assert "На №\u00a001-05/17 от 02.03.2026" in text
    assert re.search(r"Приложение: .+ на \d+ л\. в 1 экз\.", text)
    # the deadline inside the sentence in words (ГОСТ Р 7.0.97): «до 1 февраля 2027 г.», not «до «01» февраля …»
    assert f"до {request.deadline.day} " in text and contexts.fmt_date_long(request.deadline) in plain(text)
    assert not re.search(r"«\d\d» [а-я]+ \d{4}", text)
    indicators = table_with_header(doc, ["№", "Код", "Показатель", "Ед. изм."])
    assert len(indicators.rows) == 1 + len(request.items)
    assert "Руководителям образовательных организаций" in text


def test_analytic_report_has_values_table_and_chart(cycle, world):
    ctx = context_for(document_types()["analytic_report"], cycle, world)
    doc, text = document_text(rendering.render("analytic_report", ctx))
    table = table_with_header(doc, ["№", "Показатель, единица измерения", "Базовое", "Целевое", "Итоговое"])
    assert len(table.rows) == 1 + len(ctx["indicator_rows"]) == 1 + len(cycle.indicators)
    first = ctx["indicator_rows"][0]
    assert [c.text for c in table.rows[1].cells][1:5] == [f"{first['code']} {first['name']}, {first['unit']}",
                                                         first["baseline"], first["target"], first["mean"]]
    if ctx["chart_list"]:
        assert doc.inline_shapes, "the chart is an inline picture"
        assert round(doc.inline_shapes[0].width / Mm(1)) == 160
    for finding in ctx["findings"]:
        assert finding["problem"] in text


def test_roadmap_and_decision_order_state_dates_responsible_and_participants(cycle, world):
    from app.followup.models import Decision, Measure

    measures = Measure.query.filter(Measure.cycle_id == cycle.id, Measure.state != "cancelled").all()
    decisions = Decision.query.filter_by(cycle_id=cycle.id).all()
    doc, text = document_text(rendering.render("roadmap", context_for(document_types()["roadmap"], cycle, world)))
    table = table_with_header(doc, ["№", "Мероприятие", "Сроки", "Ответственный", "Участники"])
    assert len(table.rows) == 1 + len(measures)
    for m in measures:
        assert m.title in text and m.end_date.strftime("%d.%m.%Y") in text and m.responsible.short_name in plain(text)
    ctx = context_for(document_types()["decision_order"], cycle, world)
    doc, text = document_text(rendering.render("decision_order", ctx))
    table = table_with_header(doc, ["№", "Решение", "Вид", "Срок", "Ответственный", "Участники"])
    assert len(table.rows) == 1 + len(decisions)
    for d in decisions:
        assert d.deadline.strftime("%d.%m.%Y") in text and d.participants in text
    # its one appendix is referred to in the text and not numbered («Приложение № 1» stood with no № 2 and no mention)
    n = len(ctx["items"])
    assert f"{n + 1}. Утвердить перечень управленческих решений с указанием сроков, ответственных и участников " \
           "(приложение)." in text and f"{n + 2}. Контроль за исполнением" in text
    assert "Приложение\nк приказу тестового муниципалитета\nот __.__.20__ №\u00a0______" in text \
        and "Приложение №" not in text


def test_effectiveness_report_compares_achieved_values_with_targets(cycle, world):
    from app.followup.models import Measure

    ctx = context_for(document_types()["effectiveness_report"], cycle, world)
    doc, text = document_text(rendering.render("effectiveness_report", ctx))
    table = table_with_header(doc, ["№", "Показатель, единица измерения", "Базовое", "Целевое", "Достигнутое"])
    assert len(table.rows) == 1 + len(cycle.indicators)
    assert {row.cells[6].text for row in table.rows[1:]} <= {"достигнуто", "не достигнуто", "нет данных"}
    measures = table_with_header(doc, ["№", "Мероприятие", "Сроки", "Ответственный", "Состояние"])
    assert len(measures.rows) == 1 + Measure.query.filter_by(cycle_id=cycle.id).count()
    achieved = sum(row.cells[6].text == "достигнуто" for row in table.rows[1:])
    assert (f"Целевые значения достигнуты по {achieved} из {len(cycle.indicators)} показателей" if achieved else
            f"Целевые значения не достигнуты ни по одному из {len(cycle.indicators)} показателей") in text
    # The conclusions cite each indicator by its name with its code: «Доля …» (M1.1-02).
    assessed = {row.cells[6].text for row in table.rows[1:]}
    conclusions = " ".join(ctx["conclusions"])
    for indicator in cycle.indicators:
        assert f"{ru.quote(indicator.name)} ({indicator.code})" in conclusions
    if "не достигнуто" in assessed:
        assert "Не достигли целевых значений показатели: «" in text


def test_addressed_recommendations_list_the_addressee_items_in_a_table(cycle, world):
    from app.followup.models import Recommendation, RecommendationItem

    addressee = _an_addressee(cycle)
    items = RecommendationItem.query.join(Recommendation).filter(
        Recommendation.cycle_id == cycle.id, RecommendationItem.organisation_id == addressee.id).all()
    ctx = contexts.build_context("addressed_recommendations", cycle.stage("REC"), addressee=addressee)
    doc, text = document_text(rendering.render("addressed_recommendations", ctx))
    table = table_with_header(doc, ["№", "Рекомендация", "Основание (выявленная проблема)", "Срок"])
    assert len(table.rows) == 1 + len(items)
    assert {row.cells[1].text for row in table.rows[1:]} == {i.recommendation.text for i in items}
    assert contexts.name_genitive(addressee) in text and min(i.due_date for i in items).strftime("%d.%m.%Y") in text
    assert rendering.filename("addressed_recommendations", ctx).startswith(
        f"Адресные рекомендации {addressee.display_name}")


def test_protocol_has_chair_secretary_present_and_agenda(cycle, world):
    ctx = context_for(document_types()["protocol"], cycle, world)
    doc, text = document_text(rendering.render("protocol", ctx))
    for word in ("ПРОТОКОЛ", "Председатель", "Секретарь", "Присутствовали:", "ПОВЕСТКА ДНЯ:", "СЛУШАЛИ:",
                 "ВЫСТУПИЛИ:", "РЕШИЛИ:", "Голосовали:"):
        assert word in text
    # those present by surname and initials in alphabetical order, on the line itself (records practice); it said
    # «Присутствовали: 3 чел.» over a table of numbers, names and positions
    names = [x["name"] for x in ctx["present"]]
    assert len(names) > 1 and names == sorted(names, key=ru.sort_key)
    assert f"Присутствовали: {', '.join(names)}\n" in plain(text) and names[-1].endswith(".")
    assert "список прилагается" not in text and "Список присутствовавших" not in text
    # more than 15: their number, and the list in the protocol's appendix
    many = [{"number": n, "name": f"Тестов{n} И.И.", "position": "методист"} for n in range(1, 17)]
    doc, text = document_text(rendering.render("protocol", {**ctx, "present": many}))
    assert "Присутствовали: 16 чел. (список прилагается)." in plain(text) and "Присутствовали: Тестов" not in text
    assert "к протоколу" in text and "Список присутствовавших" in text
    present = table_with_header(doc, ["№", "Фамилия, инициалы", "Должность"])
    assert len(present.rows) == 1 + len(many)


def test_signed_version_names_the_recorded_signer_and_approvers(goal_cycle):
    from datetime import datetime, timezone

    version = {"registration_number": "5", "registration_date": date(2026, 3, 2),
               "signatures": [{"meaning": "утверждаю", "signer_name": "Сидоров Пётр Ильич",
                               "signer_position": "Начальник управления", "signed_at":
                                   datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)}],
               "approvals": [{"decision": "approved", "approver_name": "Орлова Анна Павловна",
                              "approver_position": "Методист ИМЦ", "role": "methodologist",
                              "decided_at": datetime(2026, 2, 27, 22, 30, tzinfo=timezone.utc)},
                             {"decision": "returned", "approver_name": "Кто-то Другой", "role": "methodologist"}]}
    ctx = contexts.build_context("regulation", goal_cycle.stage("GOAL"), version=version)
    assert ctx["approval"] == {"position": "Начальник управления", "name": "П.И. Сидоров",
                               "date": "1 марта 2026 г."}
    # the «СОГЛАСОВАНО» stamp is dated with the day the approver agreed, in the organisation's time zone
    assert ctx["agreements"] == [{"position": "Методист ИМЦ", "name": "А.П. Орлова", "date": "28 февраля 2026 г."}]
    doc, text = document_text(rendering.render("regulation", ctx))
    assert "________ П.И. Сидоров" in plain(text) and "1 марта 2026\u00a0г." in text and "А.П. Орлова" in plain(text)
    assert "28 февраля 2026\u00a0г." in text


def test_registered_version_prints_its_number_and_date(cycle, world):
    ctx = context_for(document_types()["monitoring_order"], cycle, world, version=REGISTERED)
    doc, text = document_text(rendering.render("monitoring_order", ctx))
    assert "№\u00a001-07/15" in text and "20 апреля 2021\u00a0г." in text
    assert "Приложение №\u00a01\nк приказу тестового муниципалитета\nот 20.04.2021 №\u00a001-07/15" in text
    assert "ПРОЕКТ" not in text and not BLANK_NUMBER.search(text)
    assert rendering.filename("monitoring_order", ctx) == \
        f"Приказ о проведении мониторинга {cycle.period.replace('/', '_')} 01-07_15.docx"


# --- strictness and escaping (a cycle with goals is enough) ------------------------------------------------

@pytest.fixture
def goal_cycle(world, make_cycle, db_session):
    from tests.conftest import fill_goal

    made = make_cycle(world["mun"], world["official"])
    fill_goal(made, world["official"])
    db_session.commit()
    return made


def test_user_text_with_markup_characters_renders_literally(goal_cycle, db_session):
    nasty = 'Цель <b>"жирная"</b> & \'кавычки\' {{ org }} </w:t> ]]> \x01\x0b'
    goal_cycle.goals[0].statement = nasty
    ctx = contexts.build_context("regulation", goal_cycle.stage("GOAL"))
    data = rendering.render("regulation", ctx)
    doc, text = document_text(data)
    assert 'Цель <b>"жирная"</b> & \'кавычки\' {{ org }} </w:t> ]]> ' in text
    assert "\x01" not in text and "\x0b" not in text
    period = goal_cycle.period.replace("/", "_")
    assert rendering.filename("regulation", ctx) == f"Положение о системе оценки качества {period} проект.docx"
    db_session.rollback()


def test_a_missing_variable_is_an_error_naming_it(goal_cycle):
    ctx = contexts.build_context("regulation", goal_cycle.stage("GOAL"))
    del ctx["goals"]
    with pytest.raises(RenderError) as caught:
        rendering.render("regulation", ctx)
    assert "«goals»" in caught.value.message and caught.value.problems == ["Не задана переменная «goals»."]
    ctx = contexts.build_context("regulation", goal_cycle.stage("GOAL"))
    del ctx["goals"][0]["realism"]
    with pytest.raises(RenderError, match="«realism»"):
        rendering.render("regulation", ctx)


def test_an_uploaded_template_is_checked_against_its_sidecar(goal_cycle):
    shipped = document_types()["regulation"].template_path.read_bytes()
    assert rendering.check_template("regulation", shipped) == []

    def edited(*paragraphs):
        doc = Document(io.BytesIO(shipped))
        for text in paragraphs:
            doc.add_paragraph(text)
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()

    problems = rendering.check_template("regulation", edited("{{ unknown_thing }}", "{% if goals %}"))
    assert len(problems) == 1 and problems[0].startswith("Ошибка в разметке шаблона (строка ")
    assert rendering.check_template("regulation", edited("{{ unknown_thing }}")) == [
        "Переменная «unknown_thing» не объявлена в описании шаблона."]
    assert rendering.check_template("regulation", b"not a word file") == [
        "Шаблон вида «Положение о системе оценки качества образования» не открывается как "
        "документ Word."]
    ctx = contexts.build_context("regulation", goal_cycle.stage("GOAL"))
    assert rendering.check_template("regulation", shipped, sample_context=ctx) == []
    assert rendering.check_template("regulation", edited("{{ goals[5].statement }}"), sample_context=ctx)


def test_templates_compiled_once_per_process_still_render_each_template_and_its_errors(goal_cycle):
    """Compiled templates are cached by their source: an edited template renders its own text, the shipped one
    stays as it was, and a broken template is refused on every attempt (an error is never cached)."""
    shipped = document_types()["regulation"].template_path.read_bytes()
    ctx = contexts.build_context("regulation", goal_cycle.stage("GOAL"))
    doc = Document(io.BytesIO(shipped))
    doc.add_paragraph("Добавлено в шаблон для {{ org.name }}")
    out = io.BytesIO()
    doc.save(out)
    added = f"Добавлено в шаблон для {ctx['org']['name']}"
    for _ in range(2):
        assert added not in document_text(rendering.render("regulation", ctx))[1]
        assert added in document_text(rendering.render("regulation", ctx, template=out.getvalue()))[1]
    doc.add_paragraph("{% if goals %}")
    broken = io.BytesIO()
    doc.save(broken)
    for _ in range(2):
        with pytest.raises(RenderError, match="Ошибка в разметке шаблона"):
            rendering.render("regulation", ctx, template=broken.getvalue())


def test_the_worker_compiles_every_template_ahead_so_its_jobs_compile_nothing(goal_cycle):
    """`flask jobs worker` calls warm_up before forking its jobs: every type's template compiles with placeholder
    data, and a real document rendered afterwards finds all its parts compiled."""
    rendering.jinja_env()._compiled.cache_clear()
    assert rendering.warm_up() == len(document_types())
    compiled = rendering.jinja_env()._compiled.cache_info().misses
    ctx = contexts.build_context("regulation", goal_cycle.stage("GOAL"))
    assert "{{" not in document_text(rendering.render("regulation", ctx))[1]
    assert rendering.jinja_env()._compiled.cache_info().misses == compiled


def test_missing_data_is_refused_with_what_is_missing(world, make_cycle, db_session):
    made = make_cycle(world["mun"], world["official"])
    with pytest.raises(ValidationFailed) as caught:
        contexts.build_context("regulation", made.stage("GOAL"))
    assert caught.value.problems == ["Не сформулировано ни одной цели цикла (этап «Цели»)."]
    with pytest.raises(ValidationFailed) as caught:
        contexts.build_context("indicators_approval", made.stage("METH"))
    assert len(caught.value.problems) == 2
    with pytest.raises(ValidationFailed, match="Недостаточно данных"):
        contexts.build_context("analytic_report", made.stage("ANL"))
    with pytest.raises(ValidationFailed):
        contexts.build_context("addressed_recommendations", made.stage("REC"), addressee=world["school_a"])


def test_formatting_helpers():
    assert contexts.fmt_number(45.5) == "45,5"
    assert contexts.fmt_number(12) == "12"
    assert contexts.fmt_number(None) == "—"
    assert contexts.fmt_number(-0.001) == "0"
    assert contexts.fmt_date_long(date(2021, 4, 20)) == "20 апреля 2021 г."
    assert contexts.initials_name("Петрова Мария Ивановна") == "М.И. Петрова"


# --- LibreOffice opens every generated file ------------------------------------------------------------------

def test_libreoffice_opens_every_type_rendered_from_the_demo(demo, tmp_path):
    """The demo's closed cycle (31 institutions, an analysis run with charts, recommendations, measures,
    decisions, an effectiveness evaluation): every type renders and LibreOffice converts it to a PDF."""
    from app.cycles.models import Cycle
    soffice = svc.require_soffice()
    closed = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id)) if c.state == "closed")
    # User text with markup characters must not break the file for LibreOffice either.
    closed.goals[0].statement = 'Цель <b>"жирная"</b> & \'кавычки\' </w:t> ]]>'
    for dtype in catalogue.cycle_types():  # an owner's types: tests/test_assessment_documents.py
        ctx = contexts.build_context(dtype.key, closed.stage(dtype.stages[0]),
                                     addressee=_an_addressee(closed) if dtype.per_addressee else None)
        data = rendering.render(dtype.key, ctx)
        assert_no_tags(data)
        assert closed.owner.name in document_text(data)[1], dtype.key
        (tmp_path / f"{dtype.key}.docx").write_bytes(data)
    result = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                             "--convert-to", "pdf", "--outdir", str(tmp_path),
                             *sorted(str(p) for p in tmp_path.glob("*.docx"))],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for dtype in catalogue.cycle_types():  # an owner's types: tests/test_assessment_documents.py
        pdf = (tmp_path / f"{dtype.key}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and re.search(rb"/Type\s*/Page\b", pdf), dtype.key


def test_addressee_block_is_in_the_dative_with_the_heads_name(cycle, world, db_session):
    from app.core import russian as ru

    addressee = _an_addressee(cycle)
    addressee.head_position = "Директор"
    head = contexts._head_user(addressee)
    ctx = contexts.build_context("addressed_recommendations", cycle.stage("REC"), addressee=addressee)
    lines = ctx["addressee"]["lines"]
    assert lines[0] == f"Директору {contexts._name_after_position(addressee)}"
    if head is not None:
        assert lines[1] == ru.name_dative(head.full_name)
    _, text = document_text(rendering.render("addressed_recommendations", ctx))
    assert lines[0] in text
    db_session.rollback()


@pytest.mark.parametrize("name, short_name, shown", [
    ("МОУ «Гимназия № 3»", "Гимназия № 3", "МОУ «Гимназия № 3»"),
    ("Муниципальное бюджетное общеобразовательное учреждение «Лицей № 2»", "МБОУ «Лицей № 2»", "МБОУ «Лицей № 2»"),
    ("Муниципальное бюджетное общеобразовательное учреждение «Лицей № 2»", None,
     "муниципального бюджетного общеобразовательного учреждения «Лицей № 2»"),
    ("Гимназия № 3", None, "гимназии № 3"),
    ("Средняя школа № 5", "Школа № 5", "Школы № 5"),
])
def test_the_organisation_after_the_position_in_the_addressee_block(name, short_name, shown):
    from app.orgs.models import Organisation

    assert contexts._name_after_position(Organisation(name=name, short_name=short_name)) == shown


def test_letter_blank_carries_the_requisites_the_emblem_and_the_executors_phone(cycle, world, db_session):
    from tests.test_orgs_requisites import GOOD, PNG

    mun = world["mun"]
    for key, value in GOOD.items():
        setattr(mun, key, value)
    mun.emblem, mun.emblem_sha256 = PNG, "set"
    for user in (cycle.stage("REC").responsible, world["official"], world["head"]):
        if user is not None:
            user.phone = None
    db_session.flush()
    for key in ("addressed_recommendations", "best_practices"):
        ctx = context_for(document_types()[key], cycle, world)
        # the executor, the municipality's official, works at the issuer: its phone (another organisation's person
        # gets no issuer's phone: tests/test_docs13_executor.py)
        assert ctx["executor"]["name"] == world["official"].full_name
        assert ctx["executor"]["contact"] == "+7 (495) 500-55-50"  # the world's users have no e-mail
        data = rendering.render(key, ctx)
        doc, text = document_text(data)
        for line in ("ул. Вавилова, д. 19, г. Москва, 117312",
                     "тел. +7 (495) 500-55-50, e-mail: info@example.ru, сайт: https://example.ru",
                     "ОКПО 00032537, ОГРН 1027700132195, ИНН/КПП 7707083893/773601001"):
            assert line in text, (key, line)
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            assert any(name.startswith("word/media/") for name in package.namelist()), key
        assert_no_tags(data)
    mun.emblem = mun.emblem_sha256 = None
    ctx = context_for(document_types()["best_practices"], cycle, world)
    with zipfile.ZipFile(io.BytesIO(rendering.render("best_practices", ctx))) as package:
        assert not any(name.startswith("word/media/") for name in package.namelist())
    db_session.rollback()


# --- dates that make sense (app/core/dating.py; the rules' wording in tests/test_document_text.py) -----------

def _past(db_session, obj, **dates):
    for key, value in dates.items():
        setattr(obj, key, value)
    db_session.flush()


def test_a_letter_with_a_deadline_already_past_is_refused(cycle, world, db_session):
    from datetime import date, timedelta

    from app.core.errors import ValidationFailed
    from app.documents.catalogue import document_types
    from app.monitoring.models import DataRequest

    request = db_session.scalar(select(DataRequest).where(DataRequest.cycle_id == cycle.id))
    _past(db_session, request, deadline=date.today() - timedelta(days=1))

    with pytest.raises(ValidationFailed) as refused:
        context_for(document_types()["data_request_letter"], cycle, world)
    assert any("предоставление сведений" in p and "уже наступил" in p for p in refused.value.problems)
    # a signed edition is re-rendered from its data as it was: the rule is the signature's then
    signed = contexts.build_context("data_request_letter", cycle.stage("MON"),
                                    version={"signatures": [], "registration_number": "01-15/1"})
    assert signed["dating"]["deadlines"]
    db_session.rollback()


def test_an_event_order_after_the_event_has_started_is_refused(cycle, world, db_session):
    from datetime import date, timedelta

    from app.core.errors import ValidationFailed
    from app.followup.models import Measure

    measure = db_session.scalar(select(Measure).where(Measure.cycle_id == cycle.id).order_by(Measure.start_date))
    _past(db_session, measure, start_date=date.today() - timedelta(days=2), end_date=date.today() + timedelta(days=5))
    with pytest.raises(ValidationFailed) as refused:
        contexts.build_context("event_order", cycle.stage("MEAS"), params={"measure_id": measure.id})
    assert any("не может быть исполнен: мероприятие" in p for p in refused.value.problems), refused.value.problems
    db_session.rollback()


def test_the_list_of_indicators_and_methods_is_one_document_for_both_stages(cycle, world, db_session):
    """The перечень evidences «Показатели» and «Методы»: one document of the cycle, not one per stage."""
    from app.documents import services
    from app.documents.guards import mandatory_documents
    from app.documents.models import Document

    docs = list(db_session.scalars(select(Document).where(Document.cycle_id == cycle.id,
                                                          Document.type_key == "indicators_approval")))
    assert len(docs) == 1
    meth = cycle.stage("METH")
    assert mandatory_documents(meth) == [] and docs[0] in services.documents_of_stage(meth)
    editions = len(docs[0].versions)
    cycle.state, cycle.closed_at = "open", None  # driven to its end it was closed: a closed cycle makes no edition
    again = services.generate_document(meth, "indicators_approval", actor=world["official"], inline=True)
    assert again.id == docs[0].id and len(again.versions) == editions + 1
    assert db_session.scalar(select(func.count()).select_from(Document).where(
        Document.cycle_id == cycle.id, Document.type_key == "indicators_approval")) == 1
    db_session.rollback()

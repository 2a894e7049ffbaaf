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
                                "к письму {{ org.name_genitive|default(org.name) }}"), (name, mark)
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

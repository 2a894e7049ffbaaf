"""A cycle's evidence on one page (issue 13): every document with its registration, approvals and signatures,
the integrity check, a printable layout and an XLSX export; outside the cycle's scope, 404."""

import io

from openpyxl import load_workbook

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
from tests.test_documents_registered import register, signed_regulation
from tests import services as svc


def test_the_evidence_page_lists_each_document_with_its_requisites(world, goal_stage, db_session, client, login):
    doc = signed_regulation(world, goal_stage, db_session)
    version = register(doc, world, db_session)
    assert version.registration_number
    login(world["auditor"])
    page = client.get(f"/evidence/cycles/{goal_stage.cycle_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert doc.title in text and f"№ {version.registration_number}" in text
    assert world["head"].full_name in text and world["methodologist"].full_name in text
    assert "согласовано" in text and "зарегистрирован" in text and "Проверка целостности" in text
    assert f"/documents/versions/{version.id}/registered" in text and "d-print-none" in text

    sheet = load_workbook(io.BytesIO(client.get(f"/evidence/cycles/{goal_stage.cycle_id}/evidence.xlsx").data))
    rows = list(sheet["Документы"].iter_rows(min_row=3, values_only=True))
    row = next(r for r in rows if r[2] == doc.title)
    assert row[6] == version.registration_number and world["head"].full_name in row[9]
    assert "согласовано" in row[8] and sheet["Проверка целостности"]["A1"].value == "Этап"
    svc.assert_printable(sheet["Документы"], header_row=2)
    svc.assert_printable(sheet["Проверка целостности"], header_row=1)


def test_an_empty_cycle_says_so_and_outsiders_get_404(world, goal_stage, client, login):
    login(world["official"])
    assert "В цикле ещё нет документов." in client.get(f"/evidence/cycles/{goal_stage.cycle_id}").get_data(as_text=True)
    client.post("/logout")
    login(world["director_a"])
    assert client.get(f"/evidence/cycles/{goal_stage.cycle_id}").status_code == 404
    assert client.get(f"/evidence/cycles/{goal_stage.cycle_id}/evidence.xlsx").status_code == 404


def test_integrity_gaps_name_the_stage_as_people_know_it(world, make_cycle, db_session, client, login):
    # The gap list said «GOAL: Не сформулировано ни одной цели…» — an internal code, on the page and in the XLSX.
    cycle = make_cycle(world["mun"], world["official"])  # no goal yet: the chain does not start
    db_session.commit()
    login(world["auditor"])
    text = client.get(f"/evidence/cycles/{cycle.id}").get_data(as_text=True)
    gaps = text[text.index("Проверка целостности"):]
    assert "<strong>1. Цели</strong>:" in gaps and "<strong>GOAL</strong>" not in gaps
    sheet = load_workbook(io.BytesIO(client.get(f"/evidence/cycles/{cycle.id}/evidence.xlsx").data))
    stages = {row[0] for row in sheet["Проверка целостности"].iter_rows(min_row=2, values_only=True)}
    assert "1. Цели" in stages and "GOAL" not in stages


# ruff: noqa: F811
"""Attack 20, on a running instance under gunicorn (demo, every role): the input paths added last — result imports in
every accepted shape, the repeat measurement's data requests, the addressees' letters, the 08-70 sheet's links.

The roll-up's drill-down read its `unit` with int(): «?unit=٣» (Arabic-Indic three) opened the roll-up of
organisation 3 and «?unit=1_0» that of 10 — an id no link of the system writes, where every other query-string id
(app.core.hardening.query_id) takes ASCII digits only and otherwise means «no such filter»."""

import re
from pathlib import Path

import pytest

from app.core.errors import ValidationFailed

from tests.test_imports import count, import_results, report_rows, run_file, uploads  # noqa: F401
from tests.test_vertical import regional, region_people, rolled  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
OTHER_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _drill(client, cycle, unit: str):
    page = client.get(f"/cycles/{cycle.id}/rollup", query_string={"unit": unit})
    return page.status_code, page.get_data(as_text=True)


def test_the_rollup_drills_down_only_on_an_id_in_ascii_digits(world, rolled, client, login, db_session):
    cycle, mun = rolled["cycle"], world["mun"]
    login(rolled["r_official"])
    status, html = _drill(client, cycle, str(mun.id))
    assert status == 200 and "Школа А" in html  # the link the page writes still drills down
    for unit in (str(mun.id).translate(OTHER_DIGITS), f"0_{mun.id}", f"+{mun.id}", f" {mun.id}"):
        status, html = _drill(client, cycle, unit)
        # no such filter: the whole region, as for any other id a link never writes
        assert status == 200, unit
        assert "Школа А" not in html and "Второй муниципалитет" in html, unit


def test_no_view_reads_a_query_string_number_with_int():
    """request.args.get(…, type=int) takes other scripts' digits, «_» and signs; ids go through query_id."""
    found = [f"{path.relative_to(ROOT)}:{n}" for path in (ROOT / "app").rglob("*.py")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"request\.(args|values|form)\.get\([^)]*type=(int|float)\b", line)]
    assert found == []


# --- a subject typed with a Latin lookalike letter ------------------------------------------------------------------

RESULTS_HEADER = "Процедура;Год;Предмет;Класс;Код ОО;Код участника;Первичный балл;Максимальный балл;Отметка"


def test_a_subject_with_a_latin_lookalike_letter_is_refused_and_nothing_is_saved(import_results, uploads):
    """«Xимия» (Latin «X») was stored beside «Химия» as a second subject that looks the same on every page: the
    work's pupils split between two rows of the analysis and the situational centre."""
    from app.imports.models import AssessmentResult

    body = (f"{RESULTS_HEADER}\nВПР;2025;Химия;8;SCH-A;H-1;10;20;4\nВПР;2025;Xимия;8;SCH-A;H-2;11;20;4\n")
    run = import_results(body.encode("utf-8"))
    assert run.status == "rejected", run.message
    assert count(AssessmentResult) == 0
    (row,) = report_rows(run, uploads)
    assert row[0] == "3" and row[2] == "Xимия"
    assert "в слове «Xимия» названия предмета смешаны русские и латинские буквы" in row[3]


def test_a_subject_with_a_latin_word_of_its_own_is_still_read(import_results):
    body = f"{RESULTS_HEADER}\nВПР;2025;Иностранный язык (English);8;SCH-A;H-3;10;20;4\n"
    run = import_results(body.encode("utf-8"))
    assert run.status == "done", run.message


# --- a repeat measurement for the year 0000 -------------------------------------------------------------------------

@pytest.mark.parametrize("period", ["0000", "0000/01"])
def test_a_repeat_measurement_for_a_year_the_calendar_lacks_is_refused_in_russian(chain, world, db_session, period):
    """The period field takes four digits, so «0000» reached period_bounds, whose date(0, 1, 1) raised: the form of a
    repeat measurement answered 500 instead of naming the period."""
    from app.monitoring.models import DataRequest
    from tests.test_remeasure import at_effectiveness, repeat_request

    at_effectiveness(chain.cycle)
    before = count(DataRequest)
    with pytest.raises(ValidationFailed) as refused:
        repeat_request(chain, world, period=period)
    assert any("заканчивается позже периода мониторинга" in p for p in refused.value.problems)
    assert count(DataRequest) == before

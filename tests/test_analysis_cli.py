"""`flask analysis objectivity|low-results` on imported (inserted) results, through Flask's CliRunner."""

import csv
import io

import pytest

from app.analysis.methods.synthetic import create_organisations, generate_region, insert_results


@pytest.fixture
def stored(db_session, make_org):
    region_org = make_org("region", code="CREG", name="Область CLI")
    region = generate_region(n_schools=24, n_municipalities=2, years=(2024, 2025), students=20, seed=11)
    ids = create_organisations(region, parent=region_org, code_prefix="C")
    insert_results(db_session, region.results, ids)
    db_session.commit()
    return region, ids


def _run(app, *args):
    from app.analysis.cli import cli

    return app.test_cli_runner().invoke(cli, list(args))


def _rows(result):
    return list(csv.DictReader(io.StringIO(result.stdout)))


def _code(region, school_id):
    return "C" + region.schools.set_index("id").loc[school_id, "code"]


OBJECTIVITY = ("inflated_scores", "cohort_drop", "hard_better", "heaping", "inflated_marks")


def test_objectivity_prints_one_row_per_flagged_school(app, stored):
    region, ids = stored
    result = _run(app, "objectivity", "--year", "2025")
    assert result.exit_code == 0, result.output
    rows = _rows(result)
    assert result.stdout.splitlines()[0] == "school_code,verdict,signs,works,combined_p,explanation"
    assert rows and len({r["school_code"] for r in rows}) == len(rows)
    assert {r["verdict"] for r in rows} == {"признаки необъективности выявлены"}
    # the planted term-mark inflation is named, with the sign in words and how unlikely it is
    planted = {_code(region, s) for s in region.truth["inflated_marks"]}
    assert planted <= {r["school_code"] for r in rows}
    row = next(r for r in rows if r["school_code"] in planted)
    assert "K4" in row["signs"] and "ВПР" in row["works"] and float(row["combined_p"].lstrip("<")) < 0.001
    # a probability that underflowed is printed as a bound («<1e-300»), never as 0
    assert all(float(r["combined_p"].lstrip("<")) > 0 for r in rows)
    assert "завышение текущих отметок" in row["explanation"] and "вероятность случайно" in row["explanation"]
    # the list is one a ministry can publish: most of it is planted schools
    truth = {_code(region, s) for a in OBJECTIVITY for s in region.truth[a]}
    named = {r["school_code"] for r in rows}
    assert len(named & truth) / len(named) >= 0.8
    assert "признаки необъективности выявлены:" in result.stderr


def test_objectivity_all_adds_the_other_verdicts(app, stored):
    region, _ids = stored
    flagged = _rows(_run(app, "objectivity", "--year", "2025"))
    result = _run(app, "objectivity", "--year", "2025", "--all")
    assert result.exit_code == 0, result.output
    rows = _rows(result)
    assert {r["verdict"] for r in rows} >= {"признаки необъективности выявлены", "признаки не выявлены"}
    assert [r for r in rows if r["verdict"] == "признаки необъективности выявлены"] == flagged
    assert len(rows) == len(region.schools)
    clear = [r for r in rows if r["verdict"] == "признаки не выявлены"]
    assert all(r["explanation"] == "" and r["signs"] == "" for r in clear)


def test_objectivity_for_one_municipality(app, stored):
    region, _ids = stored
    result = _run(app, "objectivity", "--year", "2025", "--municipality", "CM01")
    assert result.exit_code == 0, result.output
    mine = {"C" + c for c in region.schools.loc[region.schools["municipality_code"] == "M01", "code"]}
    codes = {r["school_code"] for r in _rows(result)}
    assert codes and codes <= mine
    # the comparison group is the whole region: the same markers as in the regional run, filtered
    everything = [r for r in _rows(_run(app, "objectivity", "--year", "2025")) if r["school_code"] in mine]
    assert _rows(result) == everything


def test_low_results_prints_the_lists(app, stored):
    region, _ids = stored
    result = _run(app, "low-results", "--year", "2025")
    assert result.exit_code == 0, result.output
    rows = _rows(result)
    assert result.stdout.splitlines()[0] == "school_code,subject,grade,list,statistic,threshold,year,reasons"
    lists = {r["list"] for r in rows}
    assert {"ШНОР", "ШНСУ"} <= lists
    low = {"C" + region.schools.set_index("id").loc[s, "code"] for s in region.truth["persistently_low"]}
    assert low <= {r["school_code"] for r in rows if r["list"] == "ШНОР"}
    assert all(r["reasons"] for r in rows)
    assert "ШНОР:" in result.stderr


def test_one_year_of_data_is_said(app, stored):
    result = _run(app, "low-results", "--year", "2024")
    assert result.exit_code == 0, result.output
    assert "Нет данных за 2023" in result.stderr and "подряд" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["objectivity", "--year", "2019"], "Нет результатов оценочных процедур за 2019 г."),
    (["objectivity", "--year", "2025", "--municipality", "NOPE"], "Организация с кодом «NOPE» не найдена."),
    (["low-results", "--year", "2025", "--municipality", "CREG"], "не муниципалитет"),
])
def test_bad_input_exits_1_with_a_russian_message(app, stored, args, message):
    result = _run(app, *args)
    assert result.exit_code == 1
    assert message in result.stderr and result.stdout == ""


def test_missing_year_is_a_usage_error(app, stored):
    assert _run(app, "objectivity").exit_code == 2


def test_bad_thresholds_file(app, stored, tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("thresholds:\n  k1_z: -3\n", encoding="utf-8")
    app.config["ANALYSIS_THRESHOLDS_FILE"] = str(path)
    try:
        result = _run(app, "objectivity", "--year", "2025")
    finally:
        app.config["ANALYSIS_THRESHOLDS_FILE"] = ""
    assert result.exit_code == 1 and "Порог «k1_z»" in result.stderr


@pytest.mark.parametrize("p, printed", [(0.0, "<1e-300"), (5e-324, "<1e-300"), (3.2e-301, "<1e-300"),
                                        (2.5e-300, "2.5e-300"), (0.000123456, "0.000123"), (0.5, "0.5"),
                                        (None, ""), (float("nan"), "")])
def test_combined_p_is_never_printed_as_zero(p, printed):
    """A probability that underflowed to 0 (or to a denormal without precision) said «p = 0» to an expert: it is
    printed as a bound instead."""
    from app.analysis.cli import _p

    assert _p(p) == printed

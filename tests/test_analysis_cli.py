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


def test_objectivity_prints_the_markers_as_csv(app, stored):
    region, ids = stored
    result = _run(app, "objectivity", "--year", "2025")
    assert result.exit_code == 0, result.output
    rows = _rows(result)
    assert result.stdout.splitlines()[0] == ("school_code,subject,grade,sign,statistic,threshold,year,procedure,"
                                             "kind,detail")
    assert rows and {r["year"] for r in rows} == {"2025"}
    assert {r["sign"] for r in rows} <= {"K1", "K2", "K3", "K4", "K5"}
    planted = {"C" + region.schools.set_index("id").loc[s, "code"] for s in region.truth["inflated_marks"]}
    k4 = {r["school_code"] for r in rows if r["sign"] == "K4"}
    assert planted <= k4
    row = next(r for r in rows if r["sign"] == "K4")
    assert float(row["statistic"]) >= float(row["threshold"]) == 0.5 and "понизили" in row["detail"]
    assert "Признаков:" in result.stderr


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

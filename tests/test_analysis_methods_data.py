"""Reading the analysis inputs from the database (data.load_results / load_schools) and writing synthetic
results (synthetic.insert_results): the same methods give the same answers on the stored rows."""

import json

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from app.analysis.methods.data import load_boundaries, load_results, load_schools
from app.analysis.methods.objectivity import compute_markers
from app.analysis.methods.synthetic import create_organisations, generate_region, insert_results
from app.analysis.methods.thresholds import load_thresholds
from app.imports.models import AssessmentResult, MarkBoundary


@pytest.fixture
def stored(db_session, make_org):
    region_org = make_org("region", code="AREG", name="Аналитическая область")
    region = generate_region(n_schools=16, n_municipalities=2, years=(2024, 2025), students=14, seed=7)
    ids = create_organisations(region, parent=region_org, code_prefix="A")
    written = insert_results(db_session, region.results, ids)
    db_session.commit()
    return region_org, region, ids, written


def test_insert_and_load_round_trip(stored, db_session):
    _org, region, ids, written = stored
    assert written == len(region.results)
    assert db_session.scalar(select(func.count()).select_from(AssessmentResult)) == written
    loaded = load_results(years=[2024, 2025])
    assert len(loaded) == written
    assert list(loaded.columns[:10]) == ["year", "procedure", "subject", "grade", "school_id", "primary_score",
                                         "max_score", "mark", "term_mark", "task_scores"]
    back = {v: k for k, v in ids.items()}
    loaded = loaded.assign(school_id=loaded["school_id"].map(back))
    key = ["year", "procedure", "subject", "grade", "school_id", "primary_score", "mark", "term_mark"]
    a = loaded.sort_values(key).reset_index(drop=True)
    b = region.results.sort_values(key).reset_index(drop=True)
    assert (a[key].to_numpy() == b[key].to_numpy()).all()
    # task scores come back as the stored JSON text and, parsed, as numeric columns task_1 … task_N
    assert a["task_scores"].map(lambda t: sum(json.loads(t))).equals(a["primary_score"])
    tasks = [c for c in a.columns if c.startswith("task_") and c != "task_scores"]
    assert len(tasks) == 14 and (a[tasks].sum(axis=1) == a["primary_score"]).all()
    assert a["task_1"].dtype == float and not np.isnan(a["task_1"]).any()


def test_load_filters(stored):
    _org, region, ids, _written = stored
    some = [ids[1], ids[2]]
    part = load_results(years=[2025], school_ids=some, procedure="ВПР")
    assert set(part["school_id"]) == set(some) and set(part["year"]) == {2025} and set(part["procedure"]) == {"ВПР"}
    assert load_results(years=[2019]).empty
    assert load_results(years=[2025], school_ids=[]).empty


def test_load_schools_within_a_municipality(stored, db_session):
    region_org, region, ids, _written = stored
    schools = load_schools(within=region_org)
    assert len(schools) == 16 and set(schools["id"]) == set(ids.values())
    first = region.schools.iloc[0]
    row = schools.set_index("id").loc[ids[int(first["id"])]]
    assert row["code"] == "A" + first["code"] and row["municipality_code"] == "A" + first["municipality_code"]
    assert row["low_income_share"] == pytest.approx(first["low_income_share"])
    assert row["settlement"] == first["settlement"] and bool(row["remote"]) == bool(first["remote"])
    from app.orgs.models import Organisation

    mun = db_session.scalar(select(Organisation).where(Organisation.code == "A" + first["municipality_code"]))
    inside = load_schools(within=mun)
    assert set(inside["municipality_id"]) == {mun.id}
    assert set(load_schools(school_ids=[ids[1]])["id"]) == {ids[1]}


def test_mark_boundaries_derived_by_the_import_mechanism(stored, db_session):
    _org, region, _ids, _written = stored
    assert db_session.scalar(select(func.count()).select_from(MarkBoundary)) > 0
    boundaries = load_boundaries(years=[2025])
    vpr = boundaries[(boundaries["procedure"] == "ВПР") & (boundaries["mark"] == 3)]
    data = region.results[(region.results["procedure"] == "ВПР") & (region.results["year"] == 2025)
                          & (region.results["mark"] == 3)]
    assert set(vpr["min_score"]) == set(data.groupby(["subject", "grade"])["primary_score"].min())


def test_methods_agree_on_stored_and_generated_data(stored):
    _org, region, ids, _written = stored
    thresholds = load_thresholds()
    loaded = load_results(years=[2024, 2025])
    schools = load_schools(school_ids=ids.values())
    from_db = compute_markers(loaded, schools, thresholds, boundaries=load_boundaries(years=[2024, 2025])).markers
    direct = compute_markers(region.results, region.schools, thresholds).markers
    cols = ["year", "procedure", "school_id", "subject", "grade", "sign", "kind"]
    from_db = from_db.assign(school_id=from_db["school_id"].map({v: k for k, v in ids.items()}))
    assert len(direct)
    pd.testing.assert_frame_equal(from_db[cols].sort_values(cols).reset_index(drop=True),
                                  direct[cols].sort_values(cols).reset_index(drop=True), check_dtype=False)

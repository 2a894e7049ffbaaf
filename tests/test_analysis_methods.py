"""Statistical core of the analysis (app/analysis/methods): helpers against hand-computed values,
thresholds configuration, and the bad-input rules of issue 5 (small units, no term marks, no task
scores, one year only). Pure functions: no database."""

import math

import numpy as np
import pandas as pd
import pytest

from app.analysis.methods import stats
from app.analysis.methods.aggregates import prepare, school_aggregates
from app.analysis.methods.clusters import ABOVE, BELOW, LEVEL, cluster_schools, compare_with_cluster, kmeans
from app.analysis.methods.low_results import compute_low_results
from app.analysis.methods.objectivity import compute_markers, municipality_shares, stably_objective
from app.analysis.methods.synthetic import generate_region
from app.analysis.methods.tasks import task_matrix
from app.analysis.methods.thresholds import SPEC, ThresholdsError, load_thresholds


@pytest.fixture(scope="module")
def th():
    return load_thresholds()


def _results(rows):
    """Rows (year, procedure, subject, grade, school, score, max, mark, term, tasks) → a results frame."""
    cols = ["year", "procedure", "subject", "grade", "school_id", "primary_score", "max_score", "mark", "term_mark",
            "task_scores"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["mark"] = frame["mark"].astype(float)
    frame["term_mark"] = frame["term_mark"].astype(float)
    return frame


# --- helpers against hand-computed values ------------------------------------------------------

def test_zscores_hand_computed():
    z = stats.zscores([1, 2, 3])
    # mean 2, population sd sqrt(2/3) = 0.81650
    assert z == pytest.approx([-1.224745, 0.0, 1.224745], abs=1e-6)
    assert stats.zscores([5, 5, 5]).tolist() == [0.0, 0.0, 0.0]  # sd 0: no division by zero
    z = stats.zscores([1, np.nan, 3])
    assert z[0] == pytest.approx(-1) and math.isnan(z[1]) and z[2] == pytest.approx(1)
    assert np.isnan(stats.zscores([np.nan, np.nan])).all()


def test_group_stats_and_zscores_hand_computed():
    count, mean, sd = stats.group_stats([1, 3, 10, 10, np.nan], [0, 0, 1, 1, 2], 4)
    assert count.tolist() == [2, 2, 0, 0]
    assert mean[:2].tolist() == [2, 10] and np.isnan(mean[2:]).all()
    assert sd[:2].tolist() == [1, 0]
    z = stats.group_zscores([1, 3, 10, 10, np.nan], [0, 0, 1, 1, 2], 3)
    assert z[:4].tolist() == [-1, 1, 0, 0] and np.isnan(z[4])


def test_share_hand_computed():
    assert stats.share([True, False, True, True], [0, 0, 1, 1], 2).tolist() == [0.5, 1.0]
    got = stats.share([True, False, True, True], [0, 0, 1, 1], 3, valid=[True, True, False, False])
    assert got[0] == 0.5 and np.isnan(got[1]) and np.isnan(got[2])  # no valid rows: NaN, not 0/0


def test_silhouette_hand_computed():
    x = np.array([[0.0], [1.0], [10.0], [11.0]])
    d = stats.pairwise_distances(x)
    assert d[0].tolist() == [0, 1, 10, 11]
    # a = 1 for every point; b = 10.5, 9.5, 9.5, 10.5 → s = 9.5/10.5, 8.5/9.5, 8.5/9.5, 9.5/10.5
    expected = (2 * 9.5 / 10.5 + 2 * 8.5 / 9.5) / 4
    assert stats.silhouette(d, [0, 0, 1, 1]) == pytest.approx(expected)
    # a point alone in its cluster scores 0: (0 + s1 + s2 + s3) / 4 with the other three as one cluster
    s = stats.silhouette(d, [0, 1, 1, 1])
    a1, b1 = (9 + 10) / 2, 1     # the point at 1: its cluster-mates are 10 and 11, the other cluster is 0
    a2, b2 = (9 + 1) / 2, 10     # the point at 10
    a3, b3 = (10 + 1) / 2, 11    # the point at 11
    manual = (0 + (b1 - a1) / max(a1, b1) + (b2 - a2) / max(a2, b2) + (b3 - a3) / max(a3, b3)) / 4
    assert s == pytest.approx(manual) == pytest.approx((0 - 8.5 / 9.5 + 0.5 + 0.5) / 4)
    assert math.isnan(stats.silhouette(d, [0, 0, 0, 0]))


def test_russian_number_formatting():
    assert stats.fmt(-1.5) == "−1,50"
    assert stats.fmt(2.345, 1) == "2,3"
    assert stats.fmt(float("nan")) == "—"
    assert stats.fmt(float("inf")) == "∞"
    assert stats.pct(0.456) == "46 %"


def test_task_matrix_parses_stored_json_and_lists():
    # null: a task not attempted (an empty cell of the file), 0 points; NaN only past a shorter row's end
    assert task_matrix(["[1, 2,null]", "[10,0,3]"]).tolist() == [[1, 2, 0], [10, 0, 3]]
    assert task_matrix([[1, None], [3]]).tolist()[0] == [1, 0] and np.isnan(task_matrix([[1, None], [3]])[1, 1])
    assert task_matrix(["[1.0, null]"]).tolist() == [[1, 0]]  # the json fallback reads null alike
    ragged = task_matrix(["[1,2]", "[1,2,3]"])
    assert ragged.shape == (2, 3) and np.isnan(ragged[0, 2])
    assert task_matrix([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]


def test_school_aggregates_hand_computed():
    df = _results([
        (2025, "ВПР", "Математика", 4, 1, 5, 10, 3, None, None),
        (2025, "ВПР", "Математика", 4, 1, 10, 10, 5, None, None),
        (2025, "ВПР", "Математика", 4, 2, 0, 10, 2, None, None),
        (2025, "ЕГЭ", "Математика", 11, 2, 70, 100, None, None, None),
    ])
    agg = school_aggregates(df).set_index(["procedure", "school_id"])
    one = agg.loc[("ВПР", 1)]
    assert one["n"] == 2 and one["mean_percent"] == 75.0
    assert (one["share_2"], one["share_3"], one["share_4"], one["share_5"]) == (0, 0.5, 0, 0.5)
    assert one["mean_mark"] == 4.0
    exam = agg.loc[("ЕГЭ", 2)]
    assert exam["mean_percent"] == 70.0 and np.isnan(exam["share_2"])  # no marks: shares unknown, not 0


# --- thresholds ----------------------------------------------------------------------------------

def test_default_thresholds_cover_section_8_with_russian_descriptions(th):
    assert set(th) == set(SPEC)
    assert th["min_participants"] == 10 and th["k1_z"] == 1.5 and th["k1_exam_z"] == 0.5
    assert (th["k2_easy"], th["k2_hard"], th["k2_gap"]) == (0.70, 0.40, 0.15)
    assert (th["k3_heap_ratio"], th["k3_heap_min_count"]) == (2.5, 5)
    assert (th["k4_lowered"], th["k4_raised"]) == (0.50, 0.30)
    assert (th["k5_high_z"], th["k5_drop_z"]) == (1.0, 1.0)
    assert (th["shnor_worst_share"], th["shnor_years"], th["shnor_fail_share"], th["shnor_fail_subjects"]) == \
        (0.10, 2, 0.30, 2)
    assert th["shnsu_worst_share"] == 0.25
    for name in SPEC:
        assert any("а" <= ch <= "я" for ch in th.descriptions[name].lower()), name


def test_region_file_overrides_only_what_it_lists(tmp_path, app):
    path = tmp_path / "region.yaml"
    path.write_text("thresholds:\n  k1_z:\n    value: 2.0\n    description: Порог региона\n  k4_raised: 0.25\n",
                    encoding="utf-8")
    th = load_thresholds(path)
    assert th["k1_z"] == 2.0 and th["k4_raised"] == 0.25 and th["k2_gap"] == 0.15
    assert th.descriptions["k1_z"] == "Порог региона"
    with app.app_context():
        app.config["ANALYSIS_THRESHOLDS_FILE"] = str(path)
        try:
            assert load_thresholds()["k1_z"] == 2.0
        finally:
            app.config["ANALYSIS_THRESHOLDS_FILE"] = ""
        assert load_thresholds()["k1_z"] == 1.5


@pytest.mark.parametrize("body, words", [
    ("thresholds:\n  k9: 1\n", "неизвестный порог «k9»"),
    ("thresholds:\n  k2_gap: -0.1\n", "вне допустимых"),
    ("thresholds:\n  k1_z: много\n", "нужно число"),
    ("thresholds:\n  min_participants: 2.5\n", "целое"),
    ("thresholds:\n  k2_hard: 0.8\n", "k2_hard"),
    ("thresholds:\n  k1_exempt_profiles: [college]\n", "список профилей"),
    ("что-то: [\n", "не прочитан"),
    ("- 1\n", "нет раздела"),
])
def test_bad_thresholds_file_is_refused_in_russian(tmp_path, body, words):
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ThresholdsError) as exc:
        load_thresholds(path)
    assert words in str(exc.value)


def test_missing_thresholds_file(tmp_path):
    with pytest.raises(ThresholdsError, match="не найден"):
        load_thresholds(tmp_path / "nope.yaml")


# --- bad input -----------------------------------------------------------------------------------

def test_units_below_min_participants_are_skipped_and_said(th):
    rows = [(2025, "ВПР", "Математика", 4, 1, s, 20, 3, 3, None) for s in (10, 11, 12, 13, 14)]  # 5 participants
    rows += [(2025, "ВПР", "Математика", 4, s, 8 + i % 5, 20, 3, 3, None) for s in (2, 3) for i in range(12)]
    res = compute_markers(_results(rows), pd.DataFrame({"id": [1, 2, 3], "profile": "ordinary"}), th)
    skipped = res.skipped.set_index("school_id")
    assert list(skipped.index) == [1] and skipped.loc[1, "n"] == 5
    assert "меньше 10" in skipped.loc[1, "reason"]
    assert 1 not in set(res.units["school_id"]) and 1 not in set(res.markers["school_id"])
    assert any("меньше 10" in note for note in res.notes)


def test_every_unit_too_small_gives_no_markers_and_no_errors(th):
    rows = [(2025, "ВПР", "Математика", 4, s, i, 20, 2 + i % 4, 3, [i]) for s in range(1, 6) for i in range(3)]
    df = _results(rows)
    res = compute_markers(df, pd.DataFrame({"id": range(1, 6), "profile": "ordinary"}), th)
    assert res.markers.empty and len(res.skipped) == 5
    low = compute_low_results(df, pd.DataFrame({"id": range(1, 6)}), res, th)
    assert low.index.empty and low.shnor.empty


def test_empty_results_do_not_fail(th):
    df = _results([])
    res = compute_markers(df, pd.DataFrame({"id": [], "profile": []}), th)
    assert res.markers.empty and res.skipped.empty
    assert school_aggregates(df).empty


def test_missing_term_marks_make_k4_not_computable(th):
    r = generate_region(n_schools=30, years=(2024, 2025), term_marks=False, seed=3)
    res = compute_markers(r.results, r.schools, th)
    assert not (res.markers["sign"] == "K4").any()
    k4 = res.not_computable[res.not_computable["sign"] == "K4"]
    assert len(k4) == len(res.units)  # every analysed unit says why
    assert set(k4["reason"]) == {"нет отметок за период (четверть, полугодие)"}


def test_subject_without_task_scores_makes_k2_not_computable(th):
    r = generate_region(n_schools=30, years=(2024, 2025), seed=4)
    df = r.results.copy()
    russian = df["subject"] == "Русский язык"
    df.loc[russian, [c for c in df.columns if c.startswith("task_")]] = np.nan
    df["task_scores"] = df["task_scores"].where(~russian, None)
    res = compute_markers(df, r.schools, th)
    k2 = res.not_computable[res.not_computable["sign"] == "K2"]
    assert set(k2["subject"]) == {"Русский язык"}
    assert set(k2["reason"]) == {"нет баллов по заданиям (поэлементных результатов)"}
    assert not ((res.markers["sign"] == "K2") & (res.markers["subject"] == "Русский язык")).any()
    # the list form (as stored) without the wide columns gives the same answer
    lists_only = df.drop(columns=[c for c in df.columns if c.startswith("task_") and c != "task_scores"])
    again = compute_markers(lists_only, r.schools, th)
    assert again.markers[again.markers["sign"] == "K2"].equals(res.markers[res.markers["sign"] == "K2"])


def test_no_task_scores_at_all(th):
    r = generate_region(n_schools=20, years=(2025,), task_scores=False, seed=5)
    res = compute_markers(r.results.drop(columns=["task_scores"]), r.schools, th)
    assert not (res.markers["sign"] == "K2").any()
    assert (res.not_computable["sign"] == "K2").sum() == len(res.units)


def test_one_year_only_says_so(th):
    r = generate_region(n_schools=60, years=(2025,), seed=6)
    res = compute_markers(r.results, r.schools, th)
    assert not (res.markers["sign"] == "K5").any()
    assert any("K5" in note and "2025" in note for note in res.notes)
    k5 = res.not_computable[res.not_computable["sign"] == "K5"]
    assert len(k5) and k5["reason"].str.contains("нет данных следующего года \\(2026\\)").all()
    low = compute_low_results(r.results, r.schools, res, th)
    assert any("2024" in note and "подряд" in note for note in low.notes)
    # the share-of-"2" rule still applies, the two-year rule does not
    for reasons in low.shnor["reasons"]:
        assert all(reason.startswith("доля отметок «2»") for reason in reasons)


def test_k1_without_exam_results_is_flagged_with_the_missing_part_said(th):
    r = generate_region(n_schools=60, years=(2025,), works=(("ВПР", "Математика", 4), ("ВПР", "Математика", 5)),
                        seed=1)
    res = compute_markers(r.results, r.schools, th)
    k1 = res.markers[res.markers["sign"] == "K1"]
    assert len(k1) and k1["detail"].str.contains("ОГЭ/ЕГЭ школы по этому предмету за 2025 г. нет").all()
    nc = res.not_computable[res.not_computable["sign"] == "K1"]
    assert len(nc) == len(k1) and nc["reason"].str.contains("часть признака").all()


# --- stably objective, municipality shares ------------------------------------------------------

def test_stably_objective_needs_three_clean_years_with_data():
    schools = pd.DataFrame({"id": [1, 2, 3, 4], "municipality_id": 9, "municipality_code": "M"})
    evaluated = pd.DataFrame({"year": [2023, 2024, 2025] * 3 + [2024, 2025],
                              "school_id": [1] * 3 + [2] * 3 + [3] * 3 + [4] * 2})
    markers = pd.DataFrame({"year": [2024], "procedure": ["ВПР"], "school_id": [2], "subject": ["М"], "grade": [4],
                            "sign": ["K4"]})
    assert stably_objective(markers, schools, [2023, 2024, 2025], evaluated=evaluated) == [1, 3]


def test_municipality_shares():
    schools = pd.DataFrame({"id": [1, 2, 3], "municipality_id": [7, 7, 8], "municipality_code": ["A", "A", "B"]})
    results = _results([(2025, "ВПР", "М", 4, s, 5, 10, 3, 3, None) for s in (1, 2, 3)])
    markers = pd.DataFrame({"year": [2025, 2024], "school_id": [1, 3]})
    shares = municipality_shares(markers, schools, results, 2025).set_index("municipality_code")
    assert shares.loc["A", ["schools", "flagged"]].tolist() == [2, 1] and shares.loc["A", "share"] == 0.5
    assert shares.loc["B", "flagged"] == 0 and shares.loc["B", "share"] == 0


# --- clusters ------------------------------------------------------------------------------------

def test_kmeans_separates_obvious_groups_with_a_fixed_seed():
    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal(0, 0.1, (20, 2)), rng.normal(5, 0.1, (20, 2))])
    labels, _inertia = kmeans(x, 2, seed=0)
    assert len(set(labels[:20])) == 1 and len(set(labels[20:])) == 1 and labels[0] != labels[-1]
    assert (kmeans(x, 2, seed=0)[0] == labels).all()  # reproducible


def test_cluster_schools_chooses_k_by_silhouette_and_describes_clusters():
    city = [dict(settlement="city", remote=False, students=900 + i, low_income_share=5.0, non_native_share=2.0,
                 ovz_share=3.0) for i in range(10)]
    village = [dict(settlement="village", remote=True, students=60 + i, low_income_share=40.0,
                    non_native_share=10.0, ovz_share=9.0) for i in range(10)]
    schools = pd.DataFrame([{"id": i + 1, **row} for i, row in enumerate(city + village)])
    result = cluster_schools(schools, k_range=(2, 4))
    assert result.k == 2 and set(result.criterion) == {2, 3, 4}
    assert result.criterion[2] == max(result.criterion.values())
    assert result.labels.loc[1] != result.labels.loc[11]
    assert result.labels.loc[range(1, 11)].nunique() == 1
    text = " ".join(result.profiles["description"])
    assert "городских 100 %" in text and "удалённых 100 %" in text


def test_cluster_rules_configured_by_the_region():
    schools = pd.DataFrame({"id": [1, 2, 3], "settlement": ["village", "city", "city"], "students": [50, 1200, 400],
                            "remote": [True, False, False], "low_income_share": [30.0, 5.0, 8.0],
                            "non_native_share": [1.0, 1.0, 1.0], "ovz_share": [2.0, 2.0, 2.0]})
    rules = [{"label": "Сельские", "where": {"settlement": ["village"]}},
             {"label": "Крупные городские", "where": {"settlement": "city", "students": {"min": 1000}}}]
    result = cluster_schools(schools, rules=rules)
    assert result.labels.to_dict() == {1: 1, 2: 2, 3: 3}
    assert result.profiles["description"].str.startswith("Сельские").any()
    assert result.profiles["description"].str.startswith("Прочие школы").any()


def test_compare_with_cluster_hand_computed():
    labels = pd.Series({1: 1, 2: 1, 3: 1, 4: 2})
    values = pd.Series({1: 10.0, 2: 20.0, 3: 30.0, 4: 99.0})
    out = compare_with_cluster(values, labels).set_index("school_id")
    assert out.loc[1, "cluster_mean"] == 20 and out.loc[1, "cluster_sd"] == pytest.approx(8.164966)
    assert out.loc[1, "z"] == pytest.approx(-1.224745)
    assert out["position"].to_dict() == {1: BELOW, 2: LEVEL, 3: ABOVE, 4: LEVEL}  # alone in its cluster: level
    lower = compare_with_cluster(values, labels, higher_is_better=False).set_index("school_id")
    assert lower.loc[1, "position"] == ABOVE and lower.loc[3, "position"] == BELOW
    assert ABOVE == "выше ожидаемого для школ со схожими условиями"


def test_prepare_is_idempotent():
    r = generate_region(n_schools=10, years=(2025,), seed=2)
    p = prepare(r.results)
    assert prepare(p) is p


def test_bulk_json_parser_matches_json():
    from app.analysis.methods.tasks import parse_json_rows

    got = parse_json_rows(["[1, 2,null]", "[10,0]", "[]", "[3]"])
    assert got.shape == (4, 3)
    assert got[0].tolist() == [1, 2, 0]  # null: not attempted, 0 points
    assert got[1, :2].tolist() == [10, 0] and np.isnan(got[2]).all() and got[3, 0] == 3
    assert parse_json_rows(["[1.5]"]) is None and parse_json_rows(["[-1]"]) is None  # json fallback then
    assert task_matrix(["[-1, 2]"]).tolist() == [[-1, 2]]


def test_the_whole_computation_prepares_the_results_once(monkeypatch):
    """The job's computation (methods/pipeline.py) codes the results frame once and hands every method the prepared
    frame (each method given the plain frame would prepare it again: five times a run)."""
    from app.analysis.methods import aggregates, pipeline
    from app.analysis.methods.synthetic import as_loaded

    region = generate_region(n_schools=40, n_municipalities=2, years=(2024, 2025), seed=3)
    passes = []
    real = aggregates._run_heads
    monkeypatch.setattr(aggregates, "_run_heads", lambda columns: passes.append(1) or real(columns))
    steps = []
    done = pipeline.compute(as_loaded(region.results), region.schools, load_thresholds(), boundaries=None,
                            structures=None, years=[2024, 2025], progress=steps.append)
    assert len(passes) == 1
    assert steps == [30, 60, 75]
    assert len(done.aggregates) and len(done.tests) and [len(v) for v in done.judged] == [40, 40]
    assert done.judged[-1]["explanation"].str.len().gt(0).any(), "the stored year's verdicts are explained"


def test_heaping_with_no_work_on_either_neighbour_is_said_in_words_not_as_infinity(th):
    """Twelve works of one school all at the boundary of «4» and none at the scores beside it: the sentence said «в
    ∞ раза больше среднего соседних» (walk 9 saw it on a school's verdict page)."""
    def mark(score):
        return 5 if score >= 15 else 4 if score >= 10 else 3 if score >= 5 else 2

    rows = [(2025, "ВПР", "Математика", 4, 1, 10, 20, 4, 4, None) for _ in range(12)]
    rows += [(2025, "ВПР", "Математика", 4, s, score, 20, mark(score), mark(score), None)
             for s in (2, 3, 4) for score in range(21)]
    res = compute_markers(_results(rows), pd.DataFrame({"id": [1, 2, 3, 4], "profile": "ordinary"}), th)
    heaps = res.markers[(res.markers["school_id"] == 1) & (res.markers["kind"] == "heaping_4")]
    assert len(heaps) == 1
    detail = heaps.iloc[0]["detail"]
    assert "∞" not in detail and "inf" not in detail
    assert "12 работ против 0 и 0 с баллами 9 и 11 — соседние баллы не получил никто" in detail

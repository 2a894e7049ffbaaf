"""K2 reads the works' real task structure (issue 15 §1a): a task's maximum is the one the structure declares
(not the highest score seen in the region), and the explanation names tasks by the work's own labels."""

import numpy as np
import pandas as pd
import pytest

from app.analysis.methods import work_tasks
from app.analysis.methods.aggregates import prepare
from app.analysis.methods.objectivity import compute_markers
from app.analysis.methods.synthetic import generate_region
from app.analysis.methods.thresholds import load_thresholds


@pytest.fixture(scope="module")
def th():
    return load_thresholds()


def _frame(task_rows):
    rows = [(2025, "ВПР", "Математика", 4, 1 + i % 2, sum(t), 6, 3.0, np.nan, list(t)) for i, t in enumerate(task_rows)]
    return pd.DataFrame(rows, columns=["year", "procedure", "subject", "grade", "school_id", "primary_score",
                                       "max_score", "mark", "term_mark", "task_scores"])


def test_declared_maxima_replace_the_highest_score_seen_only_where_declared():
    p = prepare(_frame([(1, 0, 1), (1, 1, 0)]))
    seen = np.array([[1.0, 1.0, 1.0]])
    assert (work_tasks.with_declared(p, seen) == seen).all()  # nothing declared: unchanged
    work_tasks.attach(p, {("ВПР", 2025, "Математика", 4): (("1", "2(1)", "2(2)"), (1, 3, None))})
    assert work_tasks.with_declared(p, seen).tolist() == [[1.0, 3.0, 1.0]]
    assert work_tasks.labels(p, 0, np.array([False, True, True])) == ["2(1)", "2(2)"]


def test_a_task_nobody_solved_fully_is_hard_by_its_declared_maximum(th):
    """Task 2 is worth 3 points; the region's best got 1. By the highest score seen it looks solved by most
    (easy); by its real maximum it is hard — the K2 groups, and so the sign, depend on it."""
    from app.analysis.methods import sign_tests

    r = generate_region(n_schools=40, years=(2025,), seed=11, planted={"hard_better": 3})
    plain = sign_tests.unit_tests(r.results, r.schools, th)
    works = prepare(r.results).works
    n_tasks = len([c for c in r.results.columns if c.startswith("task_") and c[5:].isdigit()])
    # every other task declared worth twice what the region's best scored on it: its success rate halves
    seen = {}
    for _w, row in works.iterrows():
        sel = ((r.results["procedure"] == row["procedure"]) & (r.results["year"] == row["year"])
               & (r.results["subject"] == row["subject"]) & (r.results["grade"] == row["grade"]))
        top = r.results.loc[sel, [f"task_{k + 1}" for k in range(n_tasks)]].max().fillna(0).astype(int)
        seen[(row["procedure"], int(row["year"]), row["subject"], int(row["grade"]))] = (
            tuple(f"{k + 1}К1" for k in range(n_tasks)),
            tuple(int(m * (2 if k % 2 else 1)) or 1 for k, m in enumerate(top)))
    declared = sign_tests.unit_tests(r.results, r.schools, th, structures=seen)
    k2_plain = plain[plain["sign"] == "K2"].reset_index(drop=True)
    k2_declared = declared[declared["sign"] == "K2"].reset_index(drop=True)
    assert len(k2_plain) and not np.allclose(k2_plain["statistic"], k2_declared["statistic"], equal_nan=True)
    markers = compute_markers(r.results, r.schools, th, structures=seen).markers
    k2 = markers[markers["sign"] == "K2"]
    assert len(k2) and k2["detail"].str.contains(r"Трудные задания \(\d+: \d+К1").all(), k2["detail"].tolist()


def test_a_work_without_tasks_beyond_the_fixed_lines_takes_its_hardest_and_easiest_share():
    success = np.array([[0.9, 0.8, 0.75, 0.6, 0.55, 0.5, 0.45, 0.42, np.nan],   # nothing at or below 40 %
                        [0.95, 0.3, 0.2, 0.1, 0.5, np.nan, np.nan, np.nan, np.nan],
                        [0.5, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan]])
    easy, hard = work_tasks.difficulty_groups(success, 0.70, 0.40, 0.2)
    # work 0: no task at or below 40 %: its hardest fifth of 8 tasks (2); easy by the 70 % line
    assert np.flatnonzero(hard[0]).tolist() == [6, 7] and np.flatnonzero(easy[0]).tolist() == [0, 1, 2]
    # work 1: both lines give tasks, so they alone decide
    assert np.flatnonzero(hard[1]).tolist() == [1, 2, 3] and np.flatnonzero(easy[1]).tolist() == [0]
    # a single task cannot be both: hard wins, so the work has no K2 groups
    assert hard[2].tolist()[:1] == [True] and not easy[2].any()
    assert not (easy & hard).any() and not (hard | easy)[np.isnan(success)].any()
    # share 0: the fixed lines only, as before
    easy0, hard0 = work_tasks.difficulty_groups(success, 0.70, 0.40, 0.0)
    assert not hard0[0].any() and np.flatnonzero(easy0[0]).tolist() == [0, 1, 2]


def _inflated_hard_tasks_region(rng, lift_school=7):
    """30 schools of 25 pupils, one work of nine one-point tasks done by 45–90 % of the region (none at or below
    40 %); school `lift_school` gives 60 % of its pupils the point on the three hardest tasks."""
    chances = np.array([0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.55, 0.5, 0.45])
    rows = []
    for school in range(1, 31):
        ability = rng.normal(0, 0.6, 25)
        logit = np.log(chances / (1 - chances))[None, :] + ability[:, None]
        scores = (rng.random((25, 9)) < 1 / (1 + np.exp(-logit))).astype(int)
        if school == lift_school:
            lifted = rng.random(25) < 0.6
            scores[np.ix_(lifted, [6, 7, 8])] = 1
        for t in scores:
            rows.append((2025, "ВПР", "Математика", 4, school, int(t.sum()), 9, 3.0, np.nan, t.tolist()))
    return pd.DataFrame(rows, columns=["year", "procedure", "subject", "grade", "school_id", "primary_score",
                                       "max_score", "mark", "term_mark", "task_scores"])


def test_inflated_hard_tasks_are_found_in_a_work_without_tasks_below_the_fixed_line(th):
    """A work whose hardest tasks are done at 45–55 % had no «hard» tasks by the fixed 40 % line: K2 tested nothing
    there and a school that gave its pupils the points on those tasks passed (bench/verdict_oos.py)."""
    from app.analysis.methods import sign_tests
    from app.analysis.methods.thresholds import Thresholds

    results = _inflated_hard_tasks_region(np.random.default_rng(5))
    schools = pd.DataFrame({"id": range(1, 31), "profile": "ordinary"})
    tests = sign_tests.unit_tests(results, schools, th)
    k2 = tests[tests["sign"] == "K2"].set_index("school_id")
    assert k2.loc[7, "p"] < 1e-3, k2.loc[7]
    assert (k2.drop(index=7)["p"] > 1e-3).all()
    fixed = Thresholds({**th, "k2_relative": 0.0}, th.descriptions, th.source)
    old = sign_tests.unit_tests(results, schools, fixed)
    assert old[old["sign"] == "K2"].empty  # the old rule: no hard tasks, nothing tested


def test_k2_counts_a_task_left_empty_in_the_file_as_0_points(th):
    """The import stores an empty task cell as null (a task not attempted, README «task_1 … task_N»). K2 must read
    the stored rows as the rows themselves: a pupil who left the hard tasks blank failed them. Read as missing, the
    region's hard tasks looked easier, each g was taken over the tasks tried only and a pupil with every hard task
    blank left the test: a planted school found from the generator's rows was missed through the command line."""
    import json

    from app.analysis.methods import sign_tests
    from app.analysis.methods.data import with_task_columns

    r = generate_region(n_schools=30, years=(2025,), seed=5, planted={"hard_better": 3})
    rng = np.random.default_rng(0)

    def stored(blank_share):
        frame = r.results.drop(columns=[c for c in r.results.columns if c.startswith("task_") and c[5:].isdigit()])
        # a third of the zero scores left blank, as bench/verdict_oos.py writes them (and as pupils leave them)
        frame["task_scores"] = [json.dumps([None if v == 0 and rng.random() < blank_share else v for v in t])
                                for t in r.results["task_scores"]]
        return with_task_columns(frame)

    blank = stored(0.3)
    assert blank["task_scores"].str.contains("null").sum() > 100
    k2 = []
    for frame in (stored(0.0), blank):
        tests = sign_tests.unit_tests(frame, r.schools, th)
        k2.append(tests[tests["sign"] == "K2"].reset_index(drop=True))
    assert len(k2[0]) and k2[0]["n"].tolist() == k2[1]["n"].tolist()
    assert np.allclose(k2[0]["p"], k2[1]["p"], equal_nan=True)

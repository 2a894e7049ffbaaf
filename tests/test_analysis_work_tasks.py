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

# ruff: noqa: F811
"""Defects found by an independent check of the analysis on regions with planted anomalies (issue 15 §1): regions
generated apart from `app/analysis/methods/synthetic.py`, imported through `flask import`, judged by `flask analysis`;
each case rebuilt here small."""

from statistics import NormalDist
from pathlib import Path

import numpy as np

from app.analysis.methods.fdr import stouffer
from app.analysis.methods.tails import normal_sf
# The import fixtures of test_imports, shared by importing them (tests name them as parameters).
from tests.test_imports import count, import_results, report_rows, run_file, uploads  # noqa: F401
from tests.test_imports_formats import _csv, _rows

DATA = Path(__file__).parent / "data"


def test_a_school_far_out_has_a_positive_combined_p_not_zero():
    # A heaping school of 20–50 pupils with a boundary window in four works at p ≈ 1e-12 each: Stouffer's
    # z ≈ 14, whose tail 0.5·(1 + erf(−z/√2)) cancelled to 0.0 — `flask analysis objectivity` printed
    # combined_p «0» and BH ranked it as certain.
    assert 0 < stouffer([1e-12] * 4) < 1e-30
    tails = normal_sf(np.array([8.5, 20.0, 40.0, 100.0]))
    assert (tails > 0).all() and tails[0] == np.float64(tails[0]) and 9e-18 < tails[0] < 1e-17
    assert tails[1] < 1e-80 and normal_sf(-40.0) == 1.0
    # within five standard deviations the numbers stay those of statistics.NormalDist
    for z in (0.5, 1.96, 3.0, 4.9):
        assert float(normal_sf(z)) == NormalDist().cdf(-z)


def test_a_rcoi_row_with_too_few_tasks_is_refused_in_grammatical_russian(import_results, uploads):
    from app.imports.models import AssessmentResult

    rows = _rows(DATA / "results_rcoi.csv")
    rows[2][6] = rows[2][6][:-1]  # 24 tasks instead of the declared 25
    rows[3][6] = rows[3][6][:-3]  # 22
    run = import_results(_csv(rows))
    assert run.status == "rejected" and count(AssessmentResult) == 0
    found = {r[0]: r[3] for r in report_rows(run, uploads)}
    assert found["3"].startswith("в работе 24 задания, а в структуре работы (ОГЭ 2025 г., Математика, 9 класс) — 25")
    assert found["4"].startswith("в работе 22 задания, а в структуре")


def test_k1_says_it_compares_all_the_schools_vpr_with_its_exams_not_one_subject():
    # K1 pools every ВПР work of the school's year («ВПР все предметы») against its ОГЭ/ЕГЭ: a school lifting its
    # Russian and mathematics ВПР with only a mathematics ОГЭ was told «не подтверждённые ОГЭ/ЕГЭ по тому же
    # предмету» beside «ВПР все предметы» — the evidence is not a same-subject comparison.
    from app.analysis.methods.sign_tests import unit_tests
    from app.analysis.methods.synthetic import ANOMALIES, generate_region
    from app.analysis.methods.thresholds import load_thresholds
    from app.analysis.methods.verdicts import FLAGGED, compute_verdicts

    th = load_thresholds()
    region = generate_region(n_schools=40, years=(2024, 2025), seed=5, size_range=(40, 80),
                             works=(("ВПР", "Математика", 4), ("ВПР", "Русский язык", 4), ("ОГЭ", "Математика", 9)),
                             planted={**{a: 0 for a in ANOMALIES}, "inflated_scores": 3})
    tests = unit_tests(region.results, region.schools, th)
    verdicts = compute_verdicts(tests, th, year=2025, schools=region.schools["id"])
    named = verdicts[(verdicts["verdict"] == FLAGGED) & verdicts["signs"].map(lambda s: "K1" in s)]
    assert len(named)
    for text in named["explanation"]:
        assert "ВПР все предметы" in text and "по тому же предмету" not in text
        assert "K1 — высокие результаты ВПР, не подтверждённые ОГЭ/ЕГЭ той же школы" in text


def test_a_difference_that_rounds_to_zero_is_not_said_to_be_below():
    # K1 on a planted region: «ОГЭ/ЕГЭ — на 0,0 п. п. ниже» for a school 0.04 p. p. below the median school
    from app.analysis.methods.sign_tests import _off

    assert _off(-0.04, "медианной школы") == "на уровне медианной школы"
    assert _off(0.049, "медианы") == "на уровне медианы"
    assert _off(-8.26, "медианной школы региона") == "на 8,3 п. п. ниже медианной школы региона"
    assert _off(21.6, "медианы") == "на 21,6 п. п. выше медианы"

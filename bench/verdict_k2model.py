"""A candidate K2 measured in the bench's process, not in the code (README «Verdicts on objectivity»: «The per-task
model, measured»). Not a speed bench; not kept in app/analysis (it gained on the tuning seeds, not on held-out ones).

    K2MODEL=VARIANT .venv/bin/python bench/verdict_k2model.py [verdict_fdr_study.py's arguments]
    K2MODEL=VARIANT .venv/bin/python bench/verdict_k2model.py quality [verdict_quality.py's arguments]

Replaces row_stats.k2_units before the study forks its workers (`shipped` leaves it): the shipped K2 keeps its
groups and its test. Per pupil and task: the points less the region's mean points on that task of the work's pupils
with the same rest score (the total less that task); the pupil's mean residual over the work's hard tasks (K2's own
groups); the school's mean of it against the region's schools (size_aware_z: τ² robust, Student's t). The variants:
- `level`: residuals on the success scale, the school's level taken out by β·(its mean percent − the work's
  median), β the Theil–Sen slope over the work's schools;
- `contrast`: the success scale, less the pupil's mean residual over the work's other tasks (hard minus the rest,
  each task matched on its own rest score); `points`: the same in points;
- `std`: the same with each residual in the task's conditional sd at that rest score (floored at 0.22 of its
  maximum): the task's informativeness;
- `nonhard`: `std` with the hard tasks matched on the score of the work's other tasks, which lifted hard tasks do
  not raise.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app.analysis.methods import row_stats, sign_tests  # noqa: E402
from app.analysis.methods.tasks import task_block  # noqa: E402

VARIANT = os.environ.get("K2MODEL", "level")


def _residuals(X0, rows, tasks, tmax_w, total, base=None):
    """Rows × len(tasks): each task's points less the mean of the work's pupils with the same rest score (on the
    success scale; `points`: in points; `std`: in the conditional sd of the task at that rest score)."""
    out = np.empty((len(rows), len(tasks)))
    for j, k in enumerate(tasks):
        x = X0[rows, k]
        # `nonhard`: a hard task against the pupil's score on the work's other than hard tasks (`base`), which the
        # lifted tasks do not raise; else against the total less the task itself
        rest = (total[rows] - x if base is None else base[rows]).astype(np.int64)
        rest -= rest.min()
        n = np.bincount(rest)
        expected = (np.bincount(rest, weights=x) / n)[rest]
        n[n == 0] = 1
        if VARIANT == "points":
            out[:, j] = x - expected
        elif VARIANT in ("std", "nonhard"):
            var = (np.bincount(rest, weights=x * x) / n)[rest] - expected ** 2
            out[:, j] = (x - expected) / np.sqrt(np.maximum(var, 0.05 * tmax_w[k] ** 2))
        else:
            out[:, j] = (x - expected) / tmax_w[k]
    return out


def _theil_sen(y, x):
    i, j = np.triu_indices(len(x), 1)
    dx = x[j] - x[i]
    use = np.abs(dx) > 1e-9
    return float(np.median((y[j] - y[i])[use] / dx[use])) if use.any() else 0.0


def k2_model(p, tmax, easy, hard):
    """In place of row_stats.k2_units: (cnt, mean statistic, the statistic the school is tested on, its variance
    within the unit) per unit; the shipped _k2 chose the groups and tests the school as before (size_aware_z)."""
    block = task_block(p.results)
    n, tasks = len(p.unit), tmax.shape[1]
    X0 = np.column_stack([np.nan_to_num(block[k]) if k < len(block) else np.zeros(n) for k in range(tasks)])
    total = X0.sum(axis=1)
    stat = np.full(n, np.nan)
    percent = np.full(n, np.nan)
    for w in range(len(p.works)):
        rows = np.flatnonzero(p.work == w)
        with np.errstate(invalid="ignore"):
            valid = tmax[w] > 0  # NaN (no participant had the task) is not
        hk = np.flatnonzero(valid & hard[w])
        others = np.flatnonzero(valid & ~hard[w])
        if not len(rows) or not len(hk):
            continue
        base = X0[:, others].sum(axis=1) if VARIANT == "nonhard" else None
        h = _residuals(X0, rows, hk, tmax[w], total, base).mean(axis=1)
        if VARIANT != "level" and len(others):
            h = h - _residuals(X0, rows, others, tmax[w], total).mean(axis=1)
        stat[rows] = h
        percent[rows] = total[rows] / max(float(np.nansum(tmax[w][valid])), 1.0)
    has = ~np.isnan(stat)
    nu = p.n_units
    cnt = np.bincount(p.unit[has], minlength=nu).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.bincount(p.unit[has], weights=stat[has], minlength=nu) / cnt
        var = np.bincount(p.unit[has], weights=stat[has] ** 2, minlength=nu) / cnt - mean ** 2
        level = np.bincount(p.unit[has], weights=percent[has], minlength=nu) / cnt
    resid = mean.copy()
    if VARIANT == "level":
        work = p.units["work"].to_numpy()
        for idx in sign_tests._per_work(mean, work, cnt >= 5, len(p.works)):
            if len(idx) >= 5:
                beta = _theil_sen(mean[idx], level[idx])
                resid[idx] = mean[idx] - beta * (level[idx] - np.median(level[idx]))
    return cnt, mean, resid, var


SHIPPED = row_stats.k2_units
if VARIANT != "shipped":
    row_stats.k2_units = k2_model

if __name__ == "__main__":
    import bench.verdict_fdr_study as study  # noqa: PLC0415 — after the patch, so the workers fork with it

    study.patched_main()

"""K2's hard group chosen from the data, measured in the bench's process, not in the code (README «Verdicts on
objectivity»: «The hard group from the data, measured»). Not a speed bench.

    K2HARD=VARIANT .venv/bin/python bench/verdict_k2hard.py [verdict_fdr_study.py's arguments]
    K2HARD=VARIANT .venv/bin/python bench/verdict_k2hard.py quality [verdict_quality.py's arguments]

Replaces what K2 tests before the study forks its workers (`shipped` leaves it). `hardestK` and `scanK` change only
the hard group (the easy group, the per-pupil g against the region's pupils of the same total, size_aware_z and
Student's t stay); the `task…` variants replace K2's test by per-task tests. The measured table is in README:
- `hardestK` (K = 1, 2, 3 …): the K hardest tasks of each work by the region's own success rates, whatever the
  fixed line `k2_hard` says (a work with six tasks at ≤ 40 % no longer dilutes three lifted ones with three others);
- `scanK`: the school's K2 of each work tested with the hardest 1, 2, … K tasks as the hard group in turn, its p the
  smallest of the K times K (Bonferroni: an honest school has K looks, so its p stays a p-value whatever the
  correlation of the looks) — a scan over the nested groups of the region's hardest tasks;
- `taskmax` / `taskmaxH`: per school, the tasks where it over-performs: each task's success of each pupil less the
  region's mean success on it of the work's pupils with the same total score, the school's mean of it against the
  region's schools on that task (size_aware_z: τ² robust — honest schools' own task profiles —, Student's t), the
  school × work's p the smallest over the work's T tasks times T (Bonferroni over the tasks, whichever they are);
  `taskmaxH` only over the work's harder half by the region's success rates (T halved: the lift is on hard tasks);
- `taskchi` / `taskchiH`: the same per-task tests, the school × work's statistic Σ max(z_k, 0)² over its tasks (z_k
  each task's p as a normal deviate: only the tasks it over-performs on count, whichever and however many), its p
  the chi-bar-squared tail Σ_j C(T, j) 2⁻ᵀ P(χ²_j ≥ S) — exact for independent tasks;
- `taskgmax[H]` / `taskgchi[H]`: as `taskmax` / `taskchi`, each task's success less the pupil's success on K2's easy
  tasks (K2's contrast, one task at a time; the shared easy term correlates the tasks' z: the chi-bar tail is then
  not exact, the clean regions say by how much).
"""

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app.analysis.methods import sign_tests, work_tasks  # noqa: E402

VARIANT = os.environ.get("K2HARD", "shipped")
SHIPPED_GROUPS = work_tasks.difficulty_groups
SHIPPED_K2 = sign_tests._k2


def _hardest(k: int):
    """difficulty_groups with the hard group the `k` hardest tasks of each work by the region's success rates."""

    def groups(success, easy_level, hard_level, share):
        easy, _hard = SHIPPED_GROUPS(success, easy_level, hard_level, share)
        valid = ~np.isnan(success)
        from_hard = np.argsort(np.argsort(np.where(valid, success, np.inf), axis=1, kind="stable"), axis=1)
        hard = valid & (from_hard < k)
        return easy & ~hard, hard

    return groups


def _scan(k_max: int):
    """_k2 whose p is K × the smallest p over the hard groups of the 1 … K hardest tasks (Bonferroni)."""

    def k2(p, u, ok, th):
        frames = []
        for k in range(1, k_max + 1):
            work_tasks.difficulty_groups = _hardest(k)
            try:
                part = SHIPPED_K2(p, u, ok, th)
            finally:
                work_tasks.difficulty_groups = SHIPPED_GROUPS
            if part is None:
                return None
            frames.append(part)
        first, write = frames[0]
        # the same units are tested with every group (the units with a g): their p side by side, key by key
        keys = [tuple(zip(*(f[0][c] for c in sign_tests.UNIT_KEYS))) for f in frames]
        best = np.asarray(first["p"], dtype=float).copy()
        stat = np.asarray(first["statistic"], dtype=float).copy()
        where = {key: i for i, key in enumerate(keys[0])}
        for (columns, _w), these in zip(frames[1:], keys[1:]):
            for j, key in enumerate(these):
                i = where.get(key)
                if i is not None and columns["p"][j] < best[i]:
                    best[i], stat[i] = columns["p"][j], columns["statistic"][j]
        first["p"] = np.minimum(1.0, best * k_max)
        first["p_mid"] = first["p"]
        first["statistic"] = stat
        return first, write

    return k2


def _chi2_sf(j: int, x: float) -> float:
    """P(χ²_j ≥ x) for a whole j ≥ 1 (the regularised upper gamma of j/2 by its finite series)."""
    h = x / 2.0
    if j % 2 == 0:
        term, total = 1.0, 1.0
        for i in range(1, j // 2):
            term *= h / i
            total += term
        return math.exp(-h) * total
    total = math.erfc(math.sqrt(h))
    for i in range((j - 1) // 2):
        total += math.exp((i + 0.5) * math.log(h) - h - math.lgamma(i + 1.5)) if h > 0 else 0.0
    return min(1.0, total)


def chibar_sf(s: float, t: int) -> float:
    """P(Σ max(z_k, 0)² ≥ s) for t independent N(0, 1): Σ_j C(t, j) 2⁻ᵗ P(χ²_j ≥ s) (the chi-bar-squared)."""
    if s <= 0:
        return 1.0
    return sum(math.comb(t, j) * 0.5 ** t * _chi2_sf(j, s) for j in range(1, t + 1))


def _taskmax(hard_half: bool, chibar: bool = False, contrast: bool = False):
    """_k2 replaced by the per-task scan: p = T × the smallest per-task p of the school × work (see the docstring)."""
    from app.analysis.methods import row_stats  # noqa: PLC0415 — the bench's own patch, only for this variant
    from app.analysis.methods.tails import normal_isf, student_sf  # noqa: PLC0415 — the bench's own patch
    from app.analysis.methods.tasks import task_block  # noqa: PLC0415 — the bench's own patch

    def k2(p, u, ok, th):
        tmax, sums, counts = row_stats.region_tasks(p)
        tasks = tmax.shape[1]
        if not tasks:
            return None
        nw, nu = len(p.works), p.n_units
        tmax = np.where(counts > 0, tmax, np.nan)
        tmax = work_tasks.with_declared(p, tmax)
        with np.errstate(divide="ignore", invalid="ignore"):
            region = np.where((counts > 0) & (tmax > 0), sums / (counts * tmax), np.nan)
        block = task_block(p.results)
        easy, _hard = SHIPPED_GROUPS(region, th["k2_easy"], th["k2_hard"], th["k2_relative"])
        total = np.nan_to_num(p.score).astype(np.int64)
        work = u["work"].to_numpy()
        cnt = np.bincount(p.unit, minlength=nu).astype(float)
        best = np.full(nu, np.nan)
        stat = np.full(nu, np.nan)
        looks = np.zeros(nu)
        plus = np.zeros(nu)  # Σ max(z, 0)² of the school's tasks, z the per-task p's normal equivalent
        for w in range(nw):
            rows = np.flatnonzero(p.work == w)
            valid = np.flatnonzero(~np.isnan(region[w]) & (tmax[w] > 0))
            if not len(rows) or not len(valid):
                continue
            if hard_half:
                valid = valid[np.argsort(region[w][valid], kind="stable")][:max(1, (len(valid) + 1) // 2)]
            s = total[rows] - total[rows].min()
            ns = np.bincount(s)
            ns[ns == 0] = 1
            units = p.unit[rows]
            base = 0.0
            if contrast:  # K2's own contrast per task: the task's success less the pupil's on the work's easy tasks
                ek = [k for k in np.flatnonzero(easy[w]) if k < len(block)]
                if ek:
                    with np.errstate(invalid="ignore"):
                        base = np.nanmean(np.column_stack([block[k][rows] / tmax[w][k] for k in ek]), axis=1)
                    base = np.nan_to_num(base)
            for k in valid:
                if k >= len(block):
                    continue
                x = np.nan_to_num(block[k][rows]) / tmax[w][k] - base
                r = x - (np.bincount(s, weights=x) / ns)[s]
                m = np.bincount(units, weights=r, minlength=nu)
                m2 = np.bincount(units, weights=r * r, minlength=nu)
                c = np.bincount(units, minlength=nu).astype(float)
                with np.errstate(divide="ignore", invalid="ignore"):
                    mean = np.where(c > 0, m / c, np.nan)
                    var = np.where(c > 0, m2 / c - mean ** 2, np.nan)
                sel = ok & (c >= th["verdict_min_participants"]) & ~np.isnan(mean)
                z, df = sign_tests.size_aware_z(mean, np.maximum(np.nan_to_num(var), 1e-6), np.maximum(c, 1), work,
                                                nw, sel)
                pk = np.full(nu, np.nan)
                has = ~np.isnan(z)
                pk[has] = student_sf(z[has], df[has])
                better = has & ~(pk >= best)  # NaN best: the first look
                best[better], stat[better] = pk[better], z[better]
                looks[has] += 1
                plus[has] += np.maximum(normal_isf(np.clip(pk[has], 1e-300, 1.0)), 0.0) ** 2
        idx = np.flatnonzero(~np.isnan(best))
        if chibar:
            stat[idx] = plus[idx]
            pv = np.array([chibar_sf(plus[i], int(looks[i])) for i in idx])
        else:
            pv = np.minimum(1.0, best[idx] * looks[idx])
        return sign_tests._frame(u, idx, "K2", "hard_better", cnt[idx], pv, stat[idx], lambda sel: [""] * len(sel))

    return k2


if VARIANT.startswith("taskmax"):
    sign_tests._k2 = _taskmax(VARIANT == "taskmaxH")
elif VARIANT.startswith("taskg"):
    sign_tests._k2 = _taskmax(VARIANT.endswith("H"), chibar="chi" in VARIANT, contrast=True)
elif VARIANT.startswith("taskchi"):
    sign_tests._k2 = _taskmax(VARIANT == "taskchiH", chibar=True)
elif VARIANT.startswith("hardest"):
    work_tasks.difficulty_groups = _hardest(int(VARIANT[len("hardest"):]))
elif VARIANT.startswith("scan"):
    sign_tests._k2 = _scan(int(VARIANT[len("scan"):]))
elif VARIANT != "shipped":
    raise SystemExit(f"unknown K2HARD variant {VARIANT!r}")

if __name__ == "__main__":
    import bench.verdict_fdr_study as study  # noqa: PLC0415 — after the patch, so the workers fork with it

    study.patched_main()

"""K4 per pupil (`app/analysis/methods/term_shape.py`, the fourth K4 kind «shape») measured by itself, on the two
generators of the benches, with the variants tried (README «K4 per pupil»):

- `--shifts 0` (adopted): the term mark a smooth function of the score plus one step at the work's own boundary;
  `--shifts=-1,0,1`: steps a mark either side too, so the region's data can say "teachers here put a work's «3» at
  «4» a tenth of the time, wherever the pupil stands in the band" (`synthetic.py`'s honest teacher) — it takes the
  shape's power away on `verdict_oos.py`'s regions;
- `--model-only`: the p-value under the fitted model alone (the saddlepoint), not against the work's units: on
  `synthetic.py`'s regions of 60–120, 12 % of clean tests at p ≤ 0.05;
- `--refits N`: N alternations of the works' parameters over all cells with the units' habits as offsets (the
  adopted fit takes the region's table once: 3 s at region scale for 4 alternations).

    .venv/bin/python bench/k4_pupil_study.py [--shifts 0] [--powers 2] [--model-only] [--refits 0] [--seeds 0-3]
        [--clean-seeds 0-1]

prints, per generator and class sizes: the share of honest units' tests at p ≤ 0.05 / 0.01 / 0.001 (calibration),
honest schools and term-mark schools whose tests combined over their works (2 × the smaller of Stouffer and the
smallest p × k) reach 6·10⁻⁴ — about what a school named by one sign needs after Bonferroni and Benjamini–Hochberg.
About a minute a variant.
"""

import argparse
import os
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app.analysis.methods.aggregates import prepare  # noqa: E402
from app.analysis.methods.row_stats import term_cells  # noqa: E402
from app.analysis.methods.tails import normal_isf, normal_sf  # noqa: E402
from app.analysis.methods.sign_tests import shape_p  # noqa: E402
from app.analysis.methods.term_shape import MIN_PUPILS, Model, shape_tests  # noqa: E402

NAMED = 6e-4  # a school's combined p about this small is named by one sign (Bonferroni × 8, BH at rank ≈ 10 of 60)


# --- the regions ---------------------------------------------------------------------------------------------------

def _cells_of(results):
    """(row_stats.term_cells' cells, each unit's work, the work's maximum, mark_min (units, 3), units frame)."""
    p = prepare(results)
    u = p.units
    nu, nw = p.n_units, len(p.works)
    both = ~np.isnan(p.mark) & ~np.isnan(p.term)
    score = np.maximum(np.nan_to_num(p.score), 0).astype(np.int64)
    work = u["work"].to_numpy()
    cells = term_cells(p.unit[both], work, score[both], p.term[both], nu)
    work_max = np.zeros(nw)
    np.maximum.at(work_max, p.work, np.nan_to_num(p.max_score))
    mark_min = np.full((nu, 3), np.nan)
    for k, m in enumerate((3, 4, 5)):
        sel = p.mark >= m
        low = np.full(nu, np.inf)
        np.minimum.at(low, p.unit[sel], score[sel])
        mark_min[:, k] = np.where(np.isfinite(low), low, np.nan)
    return cells, work, work_max, mark_min, u


def _synthetic(seed, sizes, planted):
    from app.analysis.methods.synthetic import generate_region  # noqa: PLC0415 — only the synthetic rows need it
    region = generate_region(n_schools=60, years=(2024, 2025), seed=seed, planted=planted, size_range=sizes)
    term = region.truth.get("inflated_marks", set())
    other = set().union(*region.truth.values()) - term if region.truth else set()
    return region.results, term, other


def _independent(seed, regime, per_kind):
    """bench/verdict_oos.py's region, its rows straight into the analysis frame (no files, no import)."""
    import bench.verdict_oos as oos  # noqa: PLC0415 — the independent generator, only for these regions

    region, captured = oos.generate_rows(seed, regime, per_kind=per_kind)
    codes = {c: i + 1 for i, c in enumerate(region.schools)}
    frames = []
    for w, rows in captured:
        if not rows:
            continue
        n = len(rows)
        frames.append(pd.DataFrame({
            "year": [r["year"] for r in rows], "procedure": w.procedure, "subject": w.subject,
            "grade": np.full(n, w.grade), "school_id": [codes[r["school"]] for r in rows],
            "primary_score": [r["primary"] for r in rows], "max_score": np.full(n, w.max_score),
            "mark": np.array([r["mark"] for r in rows], dtype=float),
            "term_mark": np.array([np.nan if r["term"] == "" else r["term"] for r in rows], dtype=float),
            "task_scores": [None] * n}))
    term = {codes[c] for c, k in region.planted.items() if k == "term_marks"}
    return pd.concat(frames, ignore_index=True), term, {codes[c] for c in region.planted} - term


def _school_p(p, school):
    """2 × the smaller of Stouffer's and the smallest p × k over each school's tested works."""
    out = {}
    z = normal_isf(np.clip(p, 1e-300, 1.0))
    for s in np.unique(school):
        mine = (school == s) & ~np.isnan(p)
        if mine.any():
            k = int(mine.sum())
            stouffer = float(normal_sf(np.array([z[mine].sum() / np.sqrt(k)]))[0])
            out[int(s)] = min(1.0, 2.0 * min(stouffer, float(p[mine].min()) * k))
    return out


def _row(name, regions, model, model_only: bool):
    units, honest_schools, term_schools = [], [], []
    for results, term, other in regions:
        cells, work, work_max, mark_min, u = _cells_of(results)
        nw = int(work.max()) + 1
        shape = shape_tests(cells, work, work_max, mark_min, nw, model)
        p = shape.p if model_only else shape_p(shape, work, nw, np.ones(len(work), dtype=bool))
        school = u["school_id"].to_numpy()
        honest = ~np.isin(school, list(term | other)) & ~np.isnan(p)
        units.append(p[honest])
        for s, value in _school_p(p, school).items():
            if s in term:
                term_schools.append(value)
            elif s not in other:
                honest_schools.append(value)
    h, hs, ts = np.concatenate(units), np.array(honest_schools), np.array(term_schools)
    if not len(h):
        print(f"| {name} | 0 (classes below {MIN_PUPILS} pupils are not tested) | — | — | — |", flush=True)
        return
    found = f"{(ts <= NAMED).sum()}/{len(ts)}" if len(ts) else "—"
    print(f"| {name} | {len(h)} | {100 * (h <= 0.05).mean():.1f} / {100 * (h <= 0.01).mean():.2f} / "
          f"{100 * (h <= 0.001).mean():.2f} % | {(hs <= NAMED).sum()} of {len(hs)} | {found} |", flush=True)


def _range(text):
    lo, _sep, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shifts", default="0", help="e.g. 0 or -1,0,1")
    ap.add_argument("--powers", type=int, default=2)
    ap.add_argument("--model-only", action="store_true", help="p under the model alone, not against the work's units")
    ap.add_argument("--refits", type=int, default=0, help="alternations over all cells with the units' habits")
    ap.add_argument("--seeds", default="0-3")
    ap.add_argument("--clean-seeds", default="0-1")
    args = ap.parse_args()
    model = Model(shifts=tuple(int(x) for x in args.shifts.split(",")), powers=args.powers, refits=args.refits)
    seeds, clean = _range(args.seeds), _range(args.clean_seeds)
    print(model, "the model's p alone" if args.model_only else "against the work's units")
    print("| regions | honest unit tests | at p ≤ 0.05 / 0.01 / 0.001 | honest schools ≤ 6·10⁻⁴ "
          "| term-mark schools ≤ 6·10⁻⁴ |")
    print("|---|---|---|---|---|")
    only = args.model_only
    for regime in ("small", "medium", "large", "mixed"):
        _row(f"independent {regime}, planted", [_independent(s, regime, 4) for s in seeds], model, only)
        _row(f"independent {regime}, clean", [_independent(1000 + s, regime, 0) for s in clean], model, only)
    for sizes in ((8, 12), (20, 50), (60, 120), (8, 120)):
        name = f"synthetic {sizes[0]}–{sizes[1]}"
        _row(f"{name}, «all»", [_synthetic(s, sizes, None) for s in seeds], model, only)
        _row(f"{name}, clean", [_synthetic(100 + s, sizes, {}) for s in clean], model, only)

if __name__ == "__main__":
    main()

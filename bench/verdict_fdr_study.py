"""Where the school verdict loses the planted schools of mixed regions (classes of 8–120), and what the region's list
could do about it (README «Mixed regions: the list is not where the schools are lost»). Not a speed bench.

    .venv/bin/python bench/verdict_fdr_study.py [--seeds 0-5] [--clean-seeds 100-105] [--regime mixed] [--jobs 2]
        [--misses]

`bench/verdict_oos.py`'s generator, its rows straight into the analysis with what the files carry and the import
stores (task scores — a task left empty 0 points, as the analysis reads the stored null —, class labels, the
works' structures with an undeclared task's maximum unknown, the schools' profile and settlement, no exam term
marks; on seed 1 of 20–50 every school's `combined_p` equals the command line's; no files, no database: ≈ 5–15 s a
region), then `sign_tests` once per region and, on the same tests, the verdict of 2025 with the region's list made in
several ways:

- `before`: Benjamini–Hochberg over the schools' smallest sign's p × their number (until 7 December 2026);
- `current`: the shipped verdict — BH over `combined_p`, the signs weighted by `verdicts.SIGN_WEIGHTS`;
- `wBH √n`, `wBH n`: weighted BH (Genovese, Roeder & Wasserman 2006), each school's p divided by a weight ∝ its
  median number of participants per test (√ or linear; the weights' mean 1): the small schools, whose tests have
  little power, give their share of the error budget to the large ones;
- `strata <20/20–60/>60`: BH separately within three size bands, each at the region's level;
- `signs K2,K3,K4shape ×2`: across signs a weighted Bonferroni (the sign's p ÷ its weight, weights summing to 1 over
  the school's signs) giving twice the weight to the signs of the issue's three kinds — what `current` is now;
- `ceiling: no sign multiplicity`: the smallest sign's p without × the number of signs — NOT a valid test (honest
  schools have eight chances), the most any recombination of the signs' p-values could reach.

Prints per variant: precision pooled (worst region), recall pooled (worst), honest schools named, found per kind;
the same on the clean regions; with `--misses` every missed planted school (kind, participants per work, combined
p, its rank, the signs below 0.2).
"""

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

LEVEL = 0.05  # the region's verdict_fdr by default


def _region(seed: int, regime: str, per_kind: int):
    """(results frame, structures, schools frame, planted {school_id: kind}) of verdict_oos.py's region."""
    import bench.verdict_oos as oos  # noqa: PLC0415 — the independent generator, only for these regions
    from app.imports.formats import PROFILES, SETTLEMENTS  # noqa: PLC0415 — in the worker process
    from app.imports.structures import declared  # noqa: PLC0415 — in the worker process

    region, captured = oos.generate_rows(seed, regime, per_kind=per_kind)
    codes = {c: i + 1 for i, c in enumerate(region.schools)}
    frames, structures = [], {}
    for w, rows in captured:
        if not rows:
            continue
        n = len(rows)
        scores = np.array([r["scores"] for r in rows], dtype=float)
        frame = {"year": [r["year"] for r in rows], "procedure": w.procedure, "subject": w.subject,
                 "grade": np.full(n, w.grade), "school_id": [codes[r["school"]] for r in rows],
                 "primary_score": [r["primary"] for r in rows], "max_score": np.full(n, w.max_score),
                 "mark": np.array([r["mark"] for r in rows], dtype=float),
                 # the РЦОИ form has no term mark: the command line's exams have none either
                 "term_mark": np.array([np.nan if r["term"] == "" or w.form == "rcoi" else r["term"] for r in rows],
                                       dtype=float),
                 "task_scores": [[int(v) for v in r["scores"]] for r in rows]}
        frame.update({f"task_{j + 1}": scores[:, j] for j in range(scores.shape[1])})
        frame["class_label"] = [r["class"] for r in rows] if w.form == "vpr" else [None] * n
        frame["student_code"] = [r["student"] for r in rows]
        frames.append(pd.DataFrame(frame))
        for year in set(frame["year"]):
            # the maxima the import stores: the declared structure's, else only what the file gives (the РЦОИ
            # form's part 2); an undeclared ВПР's none (K2 then takes the highest score seen in the region)
            known = declared(w.procedure, year, w.subject, w.grade)
            maxima = (list(known.maxima) if known is not None else [None] * w.part1 + list(w.maxima[w.part1:])
                      if w.form == "rcoi" else [None] * len(w.maxima))
            structures[(w.procedure, year, w.subject, w.grade)] = (list(w.labels), maxima)
    schools = []
    for o in region.organisations:
        if o[3] == "школа":
            schools.append({"id": codes[o[0]], "code": o[0], "name": o[1], "municipality_id": 10000 + int(o[4][1:]),
                            # the context as the organisations' import stores it (K1/K5 compare like schools)
                            "municipality_code": o[4], "profile": PROFILES[o[8]], "settlement": SETTLEMENTS[o[5]],
                            "remote": o[6] == "1", "students": int(o[7]),
                            "low_income_share": float(o[9].replace(",", ".")),
                            "non_native_share": float(o[10].replace(",", ".")),
                            "ovz_share": float(o[11].replace(",", "."))})
    planted = {codes[c]: k for c, k in region.planted.items()}
    return pd.concat(frames, ignore_index=True), structures, pd.DataFrame(schools), planted


def _one(job):
    """One region: its verdicts' frame with each school's size and its signs' p side by side."""
    from app.analysis.methods import verdicts as V  # noqa: PLC0415 — in the worker process
    from app.analysis.methods.sign_tests import tests_and_sentences  # noqa: PLC0415 — in the worker process
    from app.analysis.methods.thresholds import load_thresholds  # noqa: PLC0415 — in the worker process

    seed, regime, per_kind = job
    results, structures, schools, planted = _region(seed, regime, per_kind)
    th = load_thresholds()
    tests, _sentences = tests_and_sentences(results, schools, th, structures=structures)
    verdicts = V.compute_verdicts(tests, th, year=2025, schools=schools["id"], explain=False,
                                  sentences=lambda rows: [""] * len(rows))
    window = tests[tests["year"].isin([2024, 2025]) & tests["p"].notna()].reset_index(drop=True)
    t = window[["school_id", "sign", "kind", "p", "p_mid", "year"]].copy()
    t["work"] = V._work_codes(window, np.arange(len(window)), window["sign"].to_numpy(dtype=object) == "K4")
    signs, _group = V._signs_of_schools(t, V.window_counts(window, np.arange(len(window))))
    wide = signs.assign(key=signs["sign"] + ":" + signs["kind"]).pivot(index="school_id", columns="key", values="sp")
    frame = verdicts[["school_id", "verdict", "combined_p"]].set_index("school_id").join(wide)
    frame["n"] = window.groupby("school_id")["n"].median()
    frame["n"] = frame["n"].fillna(1.0)
    frame["found"] = frame["verdict"] == V.FLAGGED
    frame["planted"] = frame.index.map(planted)
    return (seed, regime, per_kind), frame.reset_index()


def _bh(p):
    from app.analysis.methods.fdr import benjamini_hochberg  # noqa: PLC0415 — in the worker and the main process

    return benjamini_hochberg(np.asarray(p, dtype=float)) <= LEVEL


def _sign_columns(f):
    return [c for c in f.columns if ":" in str(c)]


def _weighted_signs(f, weights):
    p = f[_sign_columns(f)].to_numpy(dtype=float)
    w = np.array([weights.get(c, weights.get(c.split(":")[0], 1.0)) for c in _sign_columns(f)])
    present = ~np.isnan(p)
    w = np.where(present, w, 0.0)
    w = w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        combined = np.where(present, p / w, np.inf).min(axis=1)
    return _bh(np.where(np.isfinite(combined), np.minimum(combined, 1.0), np.nan))


def _weighted_bh(f, power):
    w = f["n"].to_numpy(dtype=float) ** power
    return _bh(np.minimum(1.0, f["combined_p"].to_numpy() / (w / w.mean())))


def _strata(f, cuts=(20, 60)):
    band = np.digitize(f["n"].to_numpy(dtype=float), cuts)
    out = np.zeros(len(f), dtype=bool)
    for b in np.unique(band):
        out[band == b] = _bh(f["combined_p"].to_numpy()[band == b])
    return out


VARIANTS = [
    ("before: signs equal (× their number)", lambda f: _weighted_signs(f, {})),
    ("current (verdicts.SIGN_WEIGHTS)", lambda f: f["found"].to_numpy()),
    ("wBH √n", lambda f: _weighted_bh(f, 0.5)),
    ("wBH n", lambda f: _weighted_bh(f, 1.0)),
    ("strata <20/20–60/>60", _strata),
    ("signs K2,K3,K4shape ×2", lambda f: _weighted_signs(f, {"K2": 2.0, "K3": 2.0, "K4:shape": 2.0})),
    ("ceiling: no sign multiplicity", lambda f: _bh(np.nanmin(f[_sign_columns(f)].to_numpy(dtype=float), axis=1))),
]


def _score(frames, rule):
    tp = fp = planted = honest = 0
    worst_p = worst_r = 1.0
    kinds = {}
    for f in frames:
        named = rule(f)
        is_planted = f["planted"].notna().to_numpy()
        t, n_fp = int((named & is_planted).sum()), int((named & ~is_planted).sum())
        tp, fp, planted, honest = tp + t, fp + n_fp, planted + int(is_planted.sum()), honest + int((~is_planted).sum())
        if is_planted.any():
            worst_r = min(worst_r, t / is_planted.sum())
            worst_p = min(worst_p, t / (t + n_fp)) if t + n_fp else worst_p
        for kind, hit in zip(f["planted"][is_planted], named[is_planted]):
            kinds.setdefault(kind, [0, 0])
            kinds[kind][0] += int(hit)
            kinds[kind][1] += 1
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / planted if planted else float("nan")
    return precision, worst_p, recall, worst_r, fp, honest, kinds


def _range(text):
    lo, _sep, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0-5")
    parser.add_argument("--clean-seeds", default="100-105")
    parser.add_argument("--regime", default="mixed")
    parser.add_argument("--per-kind", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--misses", action="store_true", help="print every missed planted school")
    args = parser.parse_args(argv)
    jobs = [(s, args.regime, args.per_kind) for s in _range(args.seeds)]
    jobs += [(s, args.regime, 0) for s in (_range(args.clean_seeds) if args.clean_seeds else [])]
    with ProcessPoolExecutor(args.jobs) as pool:
        done = dict(pool.map(_one, jobs))
    planted = [f for (_s, _r, k), f in done.items() if k]
    clean = [f for (_s, _r, k), f in done.items() if not k]
    print(f"{args.regime}, seeds {args.seeds} ({len(planted)} planted regions), clean {args.clean_seeds}")
    for label, rule in VARIANTS:
        precision, worst_p, recall, worst_r, fp, honest, kinds = _score(planted, rule)
        _p, _wp, _r, _wr, clean_fp, clean_honest, _k = _score(clean, rule) if clean else (0, 0, 0, 0, 0, 0, {})
        print(f"  {label:37s} precision {precision:.2f} ({worst_p:.2f})  recall {recall:.2f} ({worst_r:.2f})  "
              f"honest named {fp}/{honest}  clean {clean_fp}/{clean_honest}  "
              + ", ".join(f"{k} {a}/{b}" for k, (a, b) in sorted(kinds.items())))
    rows = pd.concat([f.assign(region=s) for (s, _r, k), f in done.items() if k])
    mine = rows[rows["planted"].notna()].copy()
    mine["size"] = pd.cut(mine["n"], [0, 20, 40, 80, 1000], labels=["≤20", "21–40", "41–80", ">80"])
    print("found by participants per work (median of the school's tests) and kind:")
    table = mine.groupby(["size", "planted"], observed=False)["found"].agg(["sum", "count"])
    print("  " + table.apply(lambda r: f"{int(r['sum'])}/{int(r['count'])}", axis=1).unstack().to_string()
          .replace("\n", "\n  "))
    missed = mine[~mine["found"]]
    bins = pd.cut(missed["combined_p"], [0, 0.005, 0.01, 0.05, 0.2, 1.0001]).value_counts().sort_index()
    print("missed planted schools by combined p: " + ", ".join(f"{i}: {v}" for i, v in bins.items()))
    if args.misses:
        for _i, r in missed.sort_values(["planted", "n"]).iterrows():
            signs = {c: r[c] for c in _sign_columns(missed) if pd.notna(r[c]) and r[c] < 0.2}
            print(f"  seed {r['region']:>3} school {r['school_id']:>3} {r['planted']:<10} n {r['n']:5.0f} "
                  f"combined p {r['combined_p']:.3g}  " + " ".join(f"{k}={v:.1e}" for k, v in sorted(
                      signs.items(), key=lambda x: x[1])))


def patched_main():
    """For the scripts that patch the analysis in their process before the workers fork (verdict_k2model.py,
    verdict_k2hard.py): this study with the command line's arguments, or with `quality` first bench/verdict_quality.py
    (our own generator) with the arguments after it, or with `k4term` first bench/verdict_k4term.py."""
    if sys.argv[1:2] == ["quality"]:
        sys.argv = sys.argv[:1] + sys.argv[2:]
        import bench.verdict_quality as quality  # noqa: PLC0415 — only for that mode; after the caller's patch

        quality.main()
    elif sys.argv[1:2] == ["k4term"]:
        sys.argv = sys.argv[:1] + sys.argv[2:]
        import bench.verdict_k4term as k4term  # noqa: PLC0415 — only for that mode; after the caller's patch

        k4term.main()
    else:
        main()


if __name__ == "__main__":
    main()

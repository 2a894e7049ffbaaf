"""Precision and recall of the school verdict on generated regions (README «Precision and recall of the school
verdict»): prints the table's rows — pooled over the seeds and the worst single region — and the misses by kind.

    .venv/bin/python bench/verdict_quality.py [--seeds 0-4] [--clean-seeds 0-4] [--jobs 2]
    .venv/bin/python bench/verdict_quality.py --summary 0-29

`--summary SEEDS` instead of the table: the 8 planted rows × those seeds (0–29: 240 regions, 20–40 s) pooled —
recall, precision, false alarms — and every region with precision < 0.8 or recall < 0.9 (issue 15 §1 asks both
of any region).

Each region is `generate_region` of 60 schools, two years (2024–2025), then `unit_tests` and `compute_verdicts`
for 2025, as tests/test_analysis_verdicts.py does. About 0.2 s per region: the default (seeds 0–4, 8 rows and
20 clean regions, 60 regions) takes 10–20 s on two processes. `--seeds 0-9` for the ten seeds of README's text."""

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

OBJECTIVITY = ("inflated_scores", "cohort_drop", "hard_better", "heaping", "inflated_marks")
ASIDE = {"hard_better": 4, "inflated_marks": 4, "heaping": 4}
SIZES = ((8, 12), (20, 50), (60, 120), (8, 120))
ROWS = [("all", s) for s in SIZES] + [("aside", s) for s in SIZES]


def _one(job):
    from app.analysis.methods.sign_tests import unit_tests
    from app.analysis.methods.synthetic import ANOMALIES, generate_region
    from app.analysis.methods.thresholds import load_thresholds
    from app.analysis.methods.verdicts import FLAGGED, compute_verdicts

    kind, sizes, seed = job
    planted = {"all": None, "aside": ASIDE, "clean": {}}[kind]
    if planted is not None:
        planted = {**{a: 0 for a in ANOMALIES}, **planted}
    region = generate_region(n_schools=60, years=(2024, 2025), seed=seed, planted=planted, size_range=sizes,
                             exam_years=(2025,) if kind == "aside" else None)
    th = load_thresholds()
    tests = unit_tests(region.results, region.schools, th)
    verdicts = compute_verdicts(tests, th, year=2025, schools=region.schools["id"])
    truth = set().union(*(region.truth.get(a, set()) for a in OBJECTIVITY))
    flagged = set(verdicts.loc[verdicts["verdict"] == FLAGGED, "school_id"].tolist())
    missed = [a for a in OBJECTIVITY for s in truth - flagged if s in region.truth[a]]
    found = [a for a in OBJECTIVITY for s in truth & flagged if s in region.truth[a]]
    clean = len(region.schools) - len(truth)
    return job, len(truth), len(flagged), len(flagged & truth), len(flagged - truth), clean, missed, found


def _range(text):
    lo, _sep, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def _summary(seeds, jobs_count: int):
    """The planted rows over `seeds` pooled, and the regions that miss precision 0.8 or recall 0.9."""
    jobs = [(k, s, seed) for k, s in ROWS for seed in seeds]
    start = time.perf_counter()
    with ProcessPoolExecutor(jobs_count) as pool:
        done = list(pool.map(_one, jobs))
    truth, named, hits, false = (sum(d[i] for d in done) for i in (1, 2, 3, 4))
    print(f"{len(jobs)} regions in {time.perf_counter() - start:.0f} s ({jobs_count} processes)")
    print(f"recall {hits / truth:.3f} ({hits} of {truth}), precision {hits / max(named, 1):.3f} ({hits} of {named}), "
          f"false alarms {false}")
    low_precision = [(d[0], d[3] / d[2]) for d in done if d[2] and d[3] / d[2] < 0.8]
    low_recall = [(d[0], d[3] / d[1]) for d in done if d[3] / d[1] < 0.9]
    for name, rows in (("precision < 0.8", low_precision), ("recall < 0.9", low_recall)):
        print(f"{name}: {len(rows)} regions" + ("" if not rows else ": " + "; ".join(
            f"«{k}» {s[0]}–{s[1]} seed {seed} {value:.2f}" for (k, s, seed), value in rows)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--clean-seeds", default="0-4")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--summary", help="seeds (e.g. 0-29): the pooled figures and the failing regions, no table")
    args = ap.parse_args()
    if args.summary:
        _summary(_range(args.summary), args.jobs)
        return
    seeds, clean_seeds = _range(args.seeds), _range(args.clean_seeds)
    jobs = ([(k, s, seed) for k, s in ROWS for seed in seeds]
            + [("clean", s, seed) for s in SIZES for seed in clean_seeds])
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        done = list(pool.map(_one, jobs))
    print(f"{len(jobs)} regions in {time.perf_counter() - start:.0f} s ({args.jobs} processes)")
    print("| planted | class sizes | seeds | planted schools | named | precision | recall | false alarms |")
    print("|---|---|---|---|---|---|---|---|")
    kinds: dict = {}
    for row in ROWS + [("clean", None)]:
        mine = [d for d in done if d[0][0] == row[0] and (row[1] is None or d[0][1] == row[1])]
        truth, named, hits, false, clean = (sum(d[i] for d in mine) for i in (1, 2, 3, 4, 5))
        sizes = "all sizes" if row[1] is None else f"{row[1][0]}–{row[1][1]}"
        seed_text = args.clean_seeds if row[0] == "clean" else args.seeds
        if row[0] == "clean":
            print(f"| clean | {sizes} | {seed_text} | 0 | {named} | — | — | {100 * false / clean:.1f} % |")
            continue
        prec = [d[3] / d[2] if d[2] else 1.0 for d in mine]
        rec = [d[3] / d[1] for d in mine]
        print(f"| {row[0]} | {sizes} | {seed_text} | {truth} | {named} | {hits / max(named, 1):.2f} ({min(prec):.2f}) "
              f"| {hits / truth:.2f} ({min(rec):.2f}) | {100 * false / clean:.1f} % |")
        for d in mine:
            for a in d[6]:
                kinds.setdefault(a, [0, 0])[1] += 1
            for a in d[7]:
                kinds.setdefault(a, [0, 0])[0] += 1
    print("found / planted by kind: " + ", ".join(f"{a} {f}/{f + m}" for a, (f, m) in sorted(kinds.items())))
    for kind, sizes in ROWS:
        mine = [d for d in done if d[0][:2] == (kind, sizes) and d[6]]
        if mine:
            print(f"misses «{kind}» {sizes[0]}–{sizes[1]}: " + "; ".join(f"seed {d[0][2]}: {', '.join(d[6])}"
                                                                         for d in mine))


if __name__ == "__main__":
    main()

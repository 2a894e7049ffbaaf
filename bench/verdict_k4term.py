"""K4 on `bench/verdict_oos.py`'s term-mark schools, against the oracle of `bench/verdict_oracle.py --kind term`
(README «Verdicts on objectivity», «Term marks at 20–50: the oracle bound»). Not a speed bench.

    .venv/bin/python bench/verdict_k4term.py [--seeds 0-5] [--clean-seeds 100-101] [--regime medium] [--jobs 2]

The regions and the shipped verdict as `bench/verdict_fdr_study.py` makes them (its `_one`); printed per planted
term-mark school its participants per work, `combined_p`, whether it is named and its K4 kinds' p over its works;
then, for the honest schools of the planted and the clean regions and for the term-mark schools, the share whose
best K4 kind's p (× 4, the kinds' Bonferroni) is at or below 0.01, 0.002 and 6·10⁻⁴ — the levels the oracle prints.
"""

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.verdict_fdr_study import _one, _range  # noqa: E402 — the study's regions and verdict, not a copy

LEVELS = (0.01, 0.002, 6e-4)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0-5")
    parser.add_argument("--clean-seeds", default="100-101")
    parser.add_argument("--regime", default="medium")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    jobs = [(s, args.regime, 4) for s in _range(args.seeds)]
    jobs += [(s, args.regime, 0) for s in (_range(args.clean_seeds) if args.clean_seeds else [])]
    with ProcessPoolExecutor(args.jobs) as pool:
        done = list(pool.map(_one, jobs))
    rows = pd.concat([f.assign(region=s, clean=k == 0) for (s, _r, k), f in done], ignore_index=True)
    k4 = [c for c in rows.columns if str(c).startswith("K4:")]
    rows["k4"] = np.minimum(1.0, rows[k4].min(axis=1, skipna=True) * len(k4))
    term = rows[rows["planted"] == "term_marks"].sort_values(["found", "n"])
    print(f"{args.regime}, seeds {args.seeds}, clean {args.clean_seeds}; K4 kinds: {', '.join(k4)}")
    for _i, r in term.iterrows():
        print(f"  seed {r['region']:>3} school {r['school_id']:>3} n {r['n']:4.0f} combined p {r['combined_p']:.2g} "
              f"{'named ' if r['found'] else 'missed'} "
              + " ".join(f"{c[3:]}={r[c]:.1e}" for c in k4 if pd.notna(r[c])))
    groups = {"term-mark schools": term, "honest, planted regions": rows[rows["planted"].isna() & ~rows["clean"]],
              "honest, clean regions": rows[rows["clean"]]}
    for name, g in groups.items():
        shares = ", ".join(f"≤ {a:g}: {int((g['k4'] <= a).sum())}" for a in LEVELS)
        print(f"  {name:25s} {len(g):4d} schools; best K4 kind × {len(k4)} {shares}; named {int(g['found'].sum())}")


if __name__ == "__main__":
    main()

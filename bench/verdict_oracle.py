"""The most any test could find of `bench/verdict_oos.py`'s hard-task inflation at a given class size (README
«Verdicts on objectivity», «Oracle bounds»). Not a speed bench.

    .venv/bin/python bench/verdict_oracle.py [--sizes 10,30,85] [--honest 3000] [--planted 1000] [--seed 7]

An oracle that knows what the data cannot tell: each pupil's ability θ, the tasks' parameters, which three tasks a
planting school lifts, and that honest schools differ only by their own task profile (`profile_sd`, per school, work
and task). Per ВПР work (eight a school: two subjects × grades 4 and 5 × two years, as the generator's) its statistic
is the school's points on the three hardest tasks less their expectation given the pupils' θ and no profile, in
units of the honest schools' spread at that size (simulated); the works are added by Stouffer (the generator draws
every work's profile and planting independently, so the oracle knows they are independent). Printed: the share of
honest schools at p ≤ 0.01 and ≤ 0.002 (its calibration) and the share of planted schools there — 0.01 is about the
Benjamini–Hochberg cut at rank 12 of 60 at 5 % for a test that needs no multiplicity over signs, 0.002 about what the
shipped verdict's `combined_p` needs for a school named by K2 alone (the list's cut 0.005–0.01 ÷ 5.5).
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bench.verdict_oos as oos  # noqa: E402 — the generator whose regions are bounded


def _expected(gen, work, theta, tasks):
    """E[points on `tasks` | θ] with no school profile: the generator's partial-credit model."""
    difficulty, discrimination = gen.task[(work.subject, work.grade, work.procedure)]
    out = np.zeros(len(theta))
    for j in tasks:
        m = work.maxima[j]
        for k in range(1, m + 1):
            out += oos._sigmoid(discrimination[j] * (theta - (difficulty[j] + (k - (m + 1) / 2) * 0.7)))
    return out


GRID = np.linspace(-4.0, 4.0, 81)


def _posterior_expected(gen, work, scores, hard, given):
    """E[points on `hard` | the pupil's points on the tasks `given` reads]: θ's posterior on a grid, prior N(0, 1)
    (the oracle knows the school's level), the generator's partial-credit model with no school profile. `given`
    "rest": the other tasks (what the added points leave alone); "all": every task, the hard ones too — as K2,
    which matches on the total score, the added points are partly in the expectation."""
    difficulty, discrimination = gen.task[(work.subject, work.grade, work.procedure)]
    log_post = np.tile(-0.5 * GRID ** 2, (len(scores), 1))
    for j, m in enumerate(work.maxima):
        if j in hard and given == "rest":
            continue
        # P(score ≥ k | θ) for k = 0 … m + 1 on the grid, then P(score = s)
        at_least = np.vstack([np.ones_like(GRID)] + [oos._sigmoid(discrimination[j] * (
            GRID - (difficulty[j] + (k - (m + 1) / 2) * 0.7))) for k in range(1, m + 1)] + [np.zeros_like(GRID)])
        exact = np.clip(at_least[:-1] - at_least[1:], 1e-12, 1.0)
        log_post += np.log(exact[scores[:, j]])
    post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)
    return post @ _expected(gen, work, GRID, hard)


def _school(gen, works, n, planted, rng, given="theta"):
    """The oracle's per-work statistics (points above expectation on the hard tasks, per pupil) of one school;
    `given` "theta": θ itself; "rest" / "all": θ's posterior from the pupil's other tasks / all its tasks."""
    stats = []
    share = rng.uniform(0.35, 0.6)
    for w in works:
        theta = rng.normal(0.0, 1.0, n)
        profile = rng.normal(0, gen.profile_sd, len(w.maxima))
        scores, _e = gen.scores(w, theta, profile)
        if planted and rng.random() < 0.85:
            scores = oos._apply_hard_tasks(gen, w, scores, share)
        hard = oos._hardest(gen, w)
        expected = (_expected(gen, w, theta, hard) if given == "theta"
                    else _posterior_expected(gen, w, scores, hard, given))
        stats.append((scores[:, hard].sum(axis=1) - expected).mean())
    return np.array(stats)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,30,85")
    parser.add_argument("--honest", type=int, default=3000)
    parser.add_argument("--planted", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--given", default="theta,rest,all", help="what the oracle's expectation is given")
    args = parser.parse_args(argv)
    gen = oos._Generator(args.seed, "medium", 0)
    gen.rng = np.random.default_rng(args.seed)
    # the eight ВПР works of a school: each subject and grade twice (the task parameters are the same both years)
    works = [w for w in gen.works if w.procedure == "ВПР"] * 2
    rng = np.random.default_rng(args.seed + 1)
    from statistics import NormalDist  # noqa: PLC0415 — only for the printed tail

    words = {"theta": "θ known", "rest": "θ from the other tasks", "all": "θ from all tasks (as K2's total)"}
    for n, knows in ((int(x), k) for x in args.sizes.split(",") for k in args.given.split(",")):
        honest = np.array([_school(gen, works, n, False, rng, knows) for _ in range(args.honest)])
        centre, spread = honest.mean(axis=0), honest.std(axis=0, ddof=1)
        # the oracle knows the honest spread per work at this size (simulated), so its z are calibrated
        z_honest = ((honest - centre) / spread).sum(axis=1) / np.sqrt(len(works))
        z_planted = np.array([((_school(gen, works, n, True, rng, knows) - centre) / spread).sum() / np.sqrt(len(works))
                              for _ in range(args.planted)])
        row = [f"{n:4d} pupils a work, {words[knows]}"]
        for alpha in (0.01, 0.002):
            cut = NormalDist().inv_cdf(1 - alpha)
            row.append(f"p ≤ {alpha}: honest {np.mean(z_honest >= cut):.4f}, planted {np.mean(z_planted >= cut):.3f}")
        print("  ".join(row), flush=True)


if __name__ == "__main__":
    main()

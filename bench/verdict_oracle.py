"""The most any test could find of `bench/verdict_oos.py`'s hard-task inflation at a given class size (README
«Verdicts on objectivity», «Oracle bounds»). Not a speed bench.

    .venv/bin/python bench/verdict_oracle.py [--sizes 10,30,85] [--honest 3000] [--planted 1000] [--seed 7]
    .venv/bin/python bench/verdict_oracle.py --kind term [--range 20-50] [--given E,score] [--habit school,work]

An oracle that knows what the data cannot tell: each pupil's ability θ, the tasks' parameters, which three tasks a
planting school lifts, and that honest schools differ only by their own task profile (`profile_sd`, per school, work
and task). Per ВПР work (eight a school: two subjects × grades 4 and 5 × two years, as the generator's) its statistic
is the school's points on the three hardest tasks less their expectation given the pupils' θ and no profile, in
units of the honest schools' spread at that size (simulated); the works are added by Stouffer (the generator draws
every work's profile and planting independently, so the oracle knows they are independent). Printed: the share of
honest schools at p ≤ 0.01 and ≤ 0.002 (its calibration) and the share of planted schools there — 0.01 is about the
Benjamini–Hochberg cut at rank 12 of 60 at 5 % for a test that needs no multiplicity over signs, 0.002 about what the
shipped verdict's `combined_p` needs for a school named by K2 alone (the list's cut 0.005–0.01 ÷ 5.5).

`--kind term`: the same for the generator's inflated term marks (a share 0.25–0.45 of the pupils given one mark
more, in each ВПР work with probability 0.85). The oracle knows the honest term mark's mechanism — the mark of the
rounded latent E + M·(0.03 + L + ε), E the pupil's expected score, M the work's maximum, ε ~ N(0, TERM_NOISE), L the
school's habit ~ N(0, leniency), one per school for all its works — and the planting; its statistic is the
likelihood ratio of the school's term marks over its eight ВПР works, the habit and the share integrated over their
distributions, each work planted or not (0.85). `--given E`: each pupil's E known; `--given score`: only the
pupil's score, E's sampling error (the score's variance under the model) added to the teacher's noise. Class sizes
log-uniform over `--range` (the generator's regime, × 0.92 present). Printed as for hard tasks, and 6·10⁻⁴ (about
what a school named by K4 alone needs).
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


def _term_school(gen, works, n, planted, rng):
    """(per work: E, the score, the score's variance under the model, the term mark) of one school of n pupils."""
    habit = rng.normal(0.0, gen.leniency_sd)
    share = rng.uniform(0.25, 0.45)
    out = []
    for w in works:
        theta = rng.normal(rng.normal(0.0, 0.5), 1.0, n)
        profile = rng.normal(0, gen.profile_sd, len(w.maxima))
        scores, expected = gen.scores(w, theta, profile)
        difficulty, discrimination = gen.task[(w.subject, w.grade, w.procedure)]
        variance = np.zeros(n)
        for j, m in enumerate(w.maxima):
            steps = difficulty[j] + (np.arange(1, m + 1) - (m + 1) / 2) * 0.7
            at_least = [oos._sigmoid(discrimination[j] * (theta + profile[j] - step)) for step in steps]
            variance += sum((2 * k - 1) * p for k, p in enumerate(at_least, 1)) - sum(at_least) ** 2
        term = gen.term_marks(w, expected, habit)
        if planted and rng.random() < 0.85:
            term = term + ((rng.random(n) < share) & (term < 5))
        out.append((expected, scores.sum(axis=1).astype(float), variance, term))
    return out


HABITS = np.linspace(-4.0, 4.0, 33)
SHARES = np.linspace(0.25, 0.45, 5)


def _term_llr(gen, works, school, given, habit_of="school"):
    """log of the likelihood ratio (planted / honest) of the school's term marks, the habit and the share
    integrated over their priors (the habit on a grid of its sd, the share uniform), each work planted with 0.85.
    `habit_of` "school": one habit for all the school's works, its prior N(0, leniency) (the generator's);
    "work": a habit of each work's own, flat over ±6 leniency's sd — what K4's shape does, a nuisance per work."""
    from app.analysis.methods.tails import normal_sf  # noqa: PLC0415 — only for this oracle

    grid = HABITS if habit_of == "school" else HABITS * 1.5
    lw = np.log(np.exp(-0.5 * grid ** 2) if habit_of == "school" else np.ones(len(grid)))
    lw -= np.logaddexp.reduce(lw)
    honest_total = np.zeros(len(grid))
    planted_total = np.zeros((len(SHARES), len(grid)))
    for w, (expected, score, variance, term) in zip(works, school):
        m = w.max_score
        centre, sd = (expected, np.full(len(expected), m * oos.TERM_NOISE)) if given == "E" else (
            score, np.sqrt((m * oos.TERM_NOISE) ** 2 + variance))
        habit = grid * gen.leniency_sd
        # P(T ≥ k) for k = 3, 4, 5 per pupil and habit; T ≥ k iff round(latent) ≥ the k-th cut
        above = np.stack([normal_sf(-(centre[:, None] + m * (0.03 + habit[None, :]) - c + 0.5) / sd[:, None])
                          for c in w.cuts], axis=-1)
        ones = np.ones(above.shape[:2] + (1,))
        at_least = np.concatenate([ones, above, 0 * ones], axis=-1)  # P(T ≥ 2 … 6)
        exact = np.clip(at_least[..., :-1] - at_least[..., 1:], 1e-300, 1.0)  # P(T = 2 … 5)
        t = term.astype(int) - 2
        rows = np.arange(len(t))
        honest = exact[rows, :, t]
        below = np.where(t[:, None] >= 1, exact[rows, :, np.maximum(t - 1, 0)], 0.0)
        log_honest = np.log(honest).sum(axis=0)
        log_planted = np.zeros((len(SHARES), len(grid)))
        for i, pi in enumerate(SHARES):
            lifted = np.where(t[:, None] < 3, (1 - pi) * honest, honest) + pi * below
            log_lifted = np.log(np.clip(lifted, 1e-300, None)).sum(axis=0)
            log_planted[i] = np.logaddexp(np.log(0.85) + log_lifted, np.log(0.15) + log_honest)
        if habit_of == "school":
            honest_total += log_honest
            planted_total += log_planted
        else:  # the work's habit integrated here, each work its own
            honest_total += np.logaddexp.reduce(log_honest + lw)
            planted_total += np.logaddexp.reduce(log_planted + lw[None, :], axis=1)[:, None]
    if habit_of != "school":
        return np.logaddexp.reduce(planted_total[:, 0]) - np.log(len(SHARES)) - honest_total[0]
    num = np.logaddexp.reduce((planted_total + lw[None, :]).ravel()) - np.log(len(SHARES))
    return num - np.logaddexp.reduce(honest_total + lw)


def _term_main(args):
    gen = oos._Generator(args.seed, "medium", 0)
    works = [w for w in gen.works if w.procedure == "ВПР"] * 2
    rng = np.random.default_rng(args.seed + 1)
    lo, hi = (float(x) for x in args.range.split("-"))

    def size():
        return max(2, int(round(np.exp(rng.uniform(np.log(lo), np.log(hi + 1))) * 0.92)))

    for knows, habit_of in ((k, h) for k in args.given.split(",") for h in args.habit.split(",")):
        schools = [(_term_school(gen, works, size(), False, rng), False) for _ in range(args.honest)]
        schools += [(_term_school(gen, works, size(), True, rng), True) for _ in range(args.planted)]
        llr = np.array([_term_llr(gen, works, s, knows, habit_of) for s, _p in schools])
        planted = np.array([p for _s, p in schools])
        honest = np.sort(llr[~planted])
        row = [f"{args.range} pupils, {knows} known, habit per {habit_of}"]
        for alpha in (0.01, 0.002, 6e-4):
            cut = honest[int(np.ceil((1 - alpha) * len(honest))) - 1]
            row.append(f"p ≤ {alpha:g}: planted {np.mean(llr[planted] > cut):.3f}")
        print("  ".join(row) + f"  ({len(honest)} honest schools calibrate the tail)", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,30,85")
    parser.add_argument("--honest", type=int, default=3000)
    parser.add_argument("--planted", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--given", default="theta,rest,all", help="what the oracle's expectation is given")
    parser.add_argument("--kind", default="hard", choices=("hard", "term"))
    parser.add_argument("--habit", default="school", help="--kind term: school, work or both (school,work)")
    parser.add_argument("--range", default="20-50", help="--kind term: the class sizes (log-uniform)")
    args = parser.parse_args(argv)
    if args.kind == "term":
        args.given = "E,score" if args.given == "theta,rest,all" else args.given
        _term_main(args)
        return
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

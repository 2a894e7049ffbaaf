"""Each sign of non-objectivity as a test: the probability that an honest school of that size shows a
statistic at least as extreme (one p-value per school × work × sign), for the verdicts (verdicts.py).

The null of every test is "an honest school of this many participants", never a fixed ratio:

- K2 (hard tasks done better than easy ones), per participant g = success on hard tasks − on easy ones;
  each participant's g against the region's mean g of participants with the same total score, the
  school's mean residual in units of √(τ² + s²/n): s² the spread of the residuals within schools, τ² the
  genuine between-school spread (robust: median/MAD, so planted schools do not widen it);
- K3 (heaping at a mark boundary c): among the school's works with c−2 … c+1 points, how many are exactly
  on c — an exact binomial tail with the region's own share on c for that work, the boundaries of «3»,
  «4» and «5» pooled;
- K4 (term marks vs. the assessment mark): the number of participants whose assessment mark is lower
  ("понизили") / higher ("повысили") than the term mark, and lower by two marks or more ("понизили на две
  отметки и более": an honest school's lenient habit moves a few pupils across one boundary, a school that adds a
  mark to a share of its pupils puts some of those already a mark above two above) — a beta-binomial tail with
  the region's share for participants with the same assessment marks in schools of the same level
  (_level_adjusted) and ρ, honest schools' spread of marking habits, both from the schools not far above their
  expected count (honest_marking; ρ = 0: the exact binomial); and per pupil ("shape", term_shape.py): pupils
  low in their band holding the mark above, which a mark added to a share of them leaves and a habit does not;
- K1 (high results not confirmed by exams) and K5 (a high result not confirmed by the same cohort a year
  later): each work's deviation from the region's median school, with its sampling variance s²/n. K1: the
  school's mean deviation over its ВПР works of the year minus the mean over its ОГЭ/ЕГЭ works; K5: a ВПР
  class minus the school's level predicted by the same cohort a year later and by the inverse-variance mean
  of the school's other ВПР works of the two years (the class and its cohort left out) — β ≥ 0 by least
  squares over the region's schools, so where a cohort's own level persists the region gives it the weight,
  and the other works' mean has a fraction of one class's sampling variance. Each difference against the
  region's schools (contrast_z, contrast2_z): its median and robust spread, τ² the spread beyond sampling, each
  school's own sampling variance; the spread of a few dozen schools is itself uncertain, so the statistic is
  referred to Student's t (Satterthwaite's degrees of freedom, `_against_region`), not the normal. Lyceums,
  gymnasiums and in-depth schools are not tested for K1 (k1_exempt_profiles).

A unit with fewer than `verdict_min_participants` participants is not tested (the exact tests are valid
for small classes, but a class of three carries no evidence).
"""

import numpy as np
import pandas as pd

from app.analysis.methods import row_stats, stats, term_shape, work_tasks
from app.analysis.methods.aggregates import EXAMS, prepare
from app.analysis.methods.objectivity import _boundaries
from app.analysis.methods.tails import betabinom_sf, binom_midp, binom_sf, normal_sf, student_sf
from app.core.russian import plural

TEST_COLUMNS = ["year", "procedure", "subject", "grade", "school_id", "sign", "kind", "n", "p", "p_mid", "statistic",
                "trials", "expected", "detail"]
MAD = 1.4826  # MAD × this estimates the standard deviation of a normal sample
# genitive after «из 21 …», «для 5 …»: (one, a few, many)
PARTICIPANTS_OF = ("участника", "участников", "участников")
WORKS_OF = ("работы", "работ", "работ")


def _robust(values: np.ndarray) -> tuple[float, float]:
    """(median, MAD-based sd) of the non-missing values; sd NaN with fewer than 5 values."""
    v = values[~np.isnan(values)]
    if len(v) < 5:
        return np.nan, np.nan
    med = float(np.median(v))
    return med, MAD * float(np.median(np.abs(v - med)))


def _per_work(values: np.ndarray, work: np.ndarray, sel: np.ndarray, nw: int):
    """Indices of `sel` units per work (a list of arrays), for the per-work reference distributions."""
    idx = np.flatnonzero(sel & ~np.isnan(values))
    order = idx[np.argsort(work[idx], kind="stable")]
    cuts = np.searchsorted(work[order], np.arange(nw + 1))
    return [order[cuts[w]:cuts[w + 1]] for w in range(nw)]


def size_aware_z(values, within_var, n, work, nw: int, sel) -> tuple[np.ndarray, np.ndarray]:
    """(statistic, degrees of freedom) per unit against its work's schools: (x − median) / √(τ² + s²/n), s² the
    pooled variance within schools, τ² the between-school variance not explained by sampling (robust), so a class
    of 8 and a class of 120 are on one scale — `_against_region`, as K1 and K5: the spread of a few dozen schools is
    itself uncertain, so the tail is Student's t, not the normal (with the normal and the MAD's spread, 0.43 % of
    honest schools' K2 tests had p ≤ 0.001 in the out-of-sample clean regions)."""
    values = np.asarray(values, dtype=float)
    z, df = np.full(len(values), np.nan), np.full(len(values), np.inf)
    for idx in _per_work(values, work, sel, nw):
        if len(idx) < 5:
            continue
        # within_var is each unit's mean square about its own mean (divisor n): pooled over the units' n − 1
        # degrees of freedom, not n (with n, classes of 8–12 had s² a tenth too small and K2 a tail too thin)
        s2 = float((within_var[idx] * n[idx]).sum() / max(float((n[idx] - 1.0).sum()), 1.0))
        z[idx], df[idx] = _against_region(values[idx], s2 / n[idx])
    return z, df


def _standardised_p(values, work, nw: int, sel) -> tuple[np.ndarray, np.ndarray]:
    """(robust z against the work's median and MAD, its upper-tail p) for comparisons between schools."""
    values = np.asarray(values, dtype=float)
    z = np.full(len(values), np.nan)
    for idx in _per_work(values, work, sel, nw):
        med, sd = _robust(values[idx])
        if np.isnan(sd) or sd <= 0:
            continue
        z[idx] = (values[idx] - med) / sd
    return z, normal_sf(z)


DETAIL_P = 0.2  # the sentence of a test is written only when it may be quoted (a region has 100,000 tests)


UNIT_KEYS = ["year", "procedure", "subject", "grade", "school_id"]
TEXT = ("procedure", "subject")  # the units' own text columns: the tests keep the units' dtype for them


def _frame(u, idx, sign, kind, n, p, statistic, details, p_mid=None, trials=None, expected=None):
    """(tests of the units `idx` as columns — {name: array}, joined into one frame by `_joined` —, their sentence
    writer): `details(positions)` writes the sentences of the given positions of idx; the writer gives the sentence
    of a test only when it may be quoted (p ≤ DETAIL_P). `trials`, `expected`: a count test's trials and expected
    count (K3: the works in its windows and those expected on a boundary; the verdict pools them over the school's
    works), NaN for the others."""
    p = np.asarray(p, dtype=float)

    def write(positions):
        text = np.full(len(positions), "", dtype=object)
        quoted = np.flatnonzero(p[positions] <= DETAIL_P)
        if len(quoted):
            text[quoted] = details(positions[quoted])
        return text

    # each key column taken by itself (a frame of the units taken row-wise copied all their columns first)
    out = {name: _unit_values(u, name)[idx] for name in UNIT_KEYS}
    out["sign"], out["kind"] = _same(len(idx), sign), _same(len(idx), kind)
    out["n"] = np.asarray(n, dtype=np.int64)
    out["p"] = p
    # the mid-p of a discrete test, for Stouffer's sum in the verdicts (tails.binom_midp); a continuous test's own p
    out["p_mid"] = p if p_mid is None else np.where(np.isnan(p_mid), p, np.asarray(p_mid, dtype=float))
    out["statistic"] = np.asarray(statistic, dtype=float)
    out["trials"] = np.full(len(idx), np.nan) if trials is None else np.asarray(trials, dtype=float)
    out["expected"] = np.full(len(idx), np.nan) if expected is None else np.asarray(expected, dtype=float)
    return out, write


def _same(count: int, text: str) -> np.ndarray:
    """`count` references to the one string (np.full makes a string object per element)."""
    out = np.empty(count, dtype=object)
    out.fill(text)
    return out


def _unit_values(u, name: str) -> np.ndarray:
    """A units column as a plain array (text as objects: `_joined` gives it back the units' dtype)."""
    return u[name].to_numpy(dtype=object) if name in TEXT else u[name].to_numpy()


def _joined(parts: list[dict], u) -> pd.DataFrame:
    """The parts' columns as one frame of TEST_COLUMNS, in part order, `detail` empty: joined one column at a time
    and each part's copy of it let go as it is taken, so the tests are in memory about once (a frame per part and
    their concatenation held them twice over, the combining job's peak — `bench/analysis.py --scale`)."""
    sizes = [len(part["p"]) for part in parts]
    total = sum(sizes)
    columns = {}
    for name in TEST_COLUMNS:
        if name == "detail":
            columns[name] = pd.Series(_same(total, ""))
            continue
        # a part without a count test's columns (trials, expected: K3's only) has them NaN
        values = np.concatenate([part.pop(name) if name in part else np.full(size, np.nan)
                                 for part, size in zip(parts, sizes)])
        # the units' text columns in their own dtype; the signs' names and the sentences as pandas infers text, as
        # when they were assigned to a frame
        columns[name] = pd.Series(values, dtype=u[name].dtype) if name in TEXT else pd.Series(values, copy=False)
        del values
    return pd.DataFrame(columns, copy=False)


class Sentences:
    """The detail sentences of a tests frame, written on demand: a region has some 65,000 tests, 10,000 of them
    quotable, and its verdicts quote a few hundred — writing all of them was a tenth of the analysis."""

    def __init__(self, parts):
        """`parts`: (number of rows, writer of local positions) of the frame's parts in order."""
        self._offsets = np.cumsum([0] + [n for n, _write in parts])
        self._writers = [write for _n, write in parts]

    def __call__(self, positions) -> list[str]:
        """The sentences of the tests at `positions` (row positions of the frame; "" where none is quoted)."""
        positions = np.asarray(positions, dtype=np.int64)
        out = np.full(len(positions), "", dtype=object)
        part = np.searchsorted(self._offsets, positions, side="right") - 1
        for k in np.unique(part).tolist():
            here = np.flatnonzero(part == k)
            out[here] = self._writers[k](positions[here] - self._offsets[k])
        return out.tolist()


def _num(value, digits: int = 1) -> str:
    return f"{value:.{digits}f}".replace(".", ",").replace("-", "−")


def _off(value: float, median: str) -> str:
    """«на 8,3 п. п. выше медианной школы региона»; a difference that rounds to 0,0 is «на уровне …», not «на 0,0
    п. п. ниже» (a school 0.04 p. p. below the median was said to be below it)."""
    if _num(abs(value)) == "0,0":
        return f"на уровне {median}"
    return f"на {_num(abs(value))} п. п. {'выше' if value >= 0 else 'ниже'} {median}"


def _share(percent: float) -> str:
    """A percentage in whole numbers, below 1 % to a tenth: a rare count's expected 0.4 % is not «0 %»."""
    return _num(percent, 0 if percent >= 0.95 else 1)


def _k2(p, u, ok, th) -> dict | None:
    # the region's success rate of each task of each work, from the units' sums (integer scores: exact in any
    # order), decides the hard and easy tasks; each participant's g against them is round 2 (row_stats)
    tmax, sums, counts = row_stats.region_tasks(p)
    tasks = tmax.shape[1]
    if not tasks:
        return None
    nw = len(p.works)
    tmax = np.where(counts > 0, tmax, np.nan)
    declared = work_tasks.declared_maxima(p, tasks)
    if declared is not None:
        tmax = np.where(np.isnan(declared), tmax, declared)
    with np.errstate(divide="ignore", invalid="ignore"):
        region = np.where((counts > 0) & (tmax > 0), sums / (counts * tmax), np.nan)
    easy, hard = work_tasks.difficulty_groups(region, th["k2_easy"], th["k2_hard"], th["k2_relative"])
    # what g an honest participant with the same total score gets in the region (hard tasks are more often
    # solved by strong participants: a school is compared with its own participants' scores, not a curve)
    cnt, mean_g, resid, var_g = row_stats.k2_units(p, tmax, easy, hard)
    work = u["work"].to_numpy()
    sel = ok & (cnt >= th["verdict_min_participants"]) & ~np.isnan(resid)
    z, df = size_aware_z(resid, np.maximum(var_g, 1e-6), np.maximum(cnt, 1), work, nw, sel & ~np.isnan(resid))
    idx = np.flatnonzero(~np.isnan(z))
    pv = student_sf(z[idx], df[idx])
    details = lambda sel: [f"по трудным заданиям школа выше своего ожидаемого уровня, по лёгким — ниже: разность "  # noqa: E731
               f"{_num(100 * mean_g[i])} п. п. при {_num(100 * (mean_g[i] - resid[i]))} п. п. у школ того же "
               f"уровня (отклонение {_num(z[i], 2)} ст. откл. для {plural(int(cnt[i]), PARTICIPANTS_OF)})"
               for i in idx[sel]]
    return _frame(u, idx, "K2", "hard_better", cnt[idx], pv, z[idx], details)


def _k3(p, u, ok, boundaries):
    nu, nw = len(u), len(p.works)
    if not nu:
        return None
    work = u["work"].to_numpy()
    bnd = _boundaries(p, boundaries)
    wmax, counts = row_stats.region_scores(p)
    size = counts.shape[1]
    # the region's rows per (work, score): the tested units' counts summed per work by one sort and reduceat
    # (np.add.at, unbuffered, was a fifth of K3); integer counts, so the same sums in any order
    region = np.zeros((nw, size))
    chosen = np.flatnonzero(ok)
    chosen = chosen[np.argsort(work[chosen], kind="stable")]
    if len(chosen):
        heads = np.flatnonzero(np.diff(work[chosen], prepend=-1))
        region[work[chosen][heads]] = np.add.reduceat(counts[chosen], heads)
    at_sum, window_sum, expected = np.zeros(nu), np.zeros(nu), np.zeros(nu)
    best, best_excess = np.full((nu, 3), np.nan), np.full(nu, -np.inf)
    for m in (3, 4, 5):
        c = bnd[work, m - 3]
        valid = ok & ~np.isnan(c) & (c >= 2) & (c <= wmax[work] - 1)
        ci = np.where(valid, c, 2).astype(np.int64)
        rows = np.arange(nu)
        at = counts[rows, ci]
        window = sum(counts[rows, np.clip(ci + d, 0, size - 1)] for d in (-2, -1, 0, 1))
        r_at = region[work, ci]
        r_window = sum(region[work, np.clip(ci + d, 0, size - 1)] for d in (-2, -1, 0, 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            pi = np.where(r_window > 0, r_at / r_window, np.nan)
        use = valid & (window > 0) & ~np.isnan(pi)
        at_sum += np.where(use, at, 0)
        window_sum += np.where(use, window, 0)
        expected += np.where(use, window * np.nan_to_num(pi), 0)
        # the boundary with the largest excess is the one named in the explanation
        excess = np.where(use, at - window * np.nan_to_num(pi), -np.inf)
        better = excess > best_excess
        best[better] = np.column_stack([np.full(nu, m), ci, pi])[better]
        best_excess = np.maximum(best_excess, excess)
    # the three boundaries pooled: works on a boundary out of the works in the three windows, against the
    # region's share averaged over the windows (a binomial with the mean chance: its tail is not understated)
    idx = np.flatnonzero(window_sum > 0)
    if not len(idx):
        return None
    pi = expected[idx] / window_sum[idx]
    pv = binom_sf(at_sum[idx], window_sum[idx], pi)
    mid = binom_midp(at_sum[idx], window_sum[idx], pi, sf=pv)
    details = lambda sel: [f"ровно на границах отметок {int(at_sum[i])} из "  # noqa: E731
               f"{plural(int(window_sum[i]), WORKS_OF)} с баллами от двух ниже "
               f"границы до одного выше (ожидалось около {_num(expected[i], 1)} по доле в регионе); больше всего — "
               f"на границе «{int(best[i, 0])}» (первичный балл {int(best[i, 1])})" for i in idx[sel]]
    return _frame(u, idx, "K3", "heaping", u["n"].to_numpy()[idx], pv, at_sum[idx] / window_sum[idx], details, mid,
                  trials=window_sum[idx], expected=expected[idx])


SPREAD_P = 0.001  # a unit whose count is this unlikely at the current π and ρ is not an honest reference
SPREAD_STEPS = 10  # at most; the units left out settle in two or three


def _chances(term, work, kept, nw: int, column: int) -> np.ndarray:
    """Per unit: the region's share of `column` (1 lowered, 2 raised, 3 lowered by two marks or more) per assessment
    mark among the `kept` units' participants, averaged over the unit's own participants (NaN for a unit without
    term marks)."""
    marks = row_stats.MARKS
    cell = (work[:, None] * marks + np.arange(marks)[None, :])[kept].ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (np.bincount(cell, weights=term[kept, column].ravel(), minlength=nw * marks)
                 / np.bincount(cell, weights=term[kept, 0].ravel(), minlength=nw * marks))
        chances = term[:, 0] * share.reshape(nw, marks)[work] if len(work) else np.zeros((0, marks))
        return np.nan_to_num(chances).sum(axis=1) / term[:, 0].sum(axis=1)


LEVEL_MIN_SCHOOLS = 10  # units of a work K4's level slope is fitted on, at least
LEVEL_SHIFT = 1.5  # logits: the most the level moves a unit's expected share (× 4.5 in odds)


def _level_adjusted(pi, x, n, level, work, kept, nw: int) -> np.ndarray:
    """π moved to the unit's own level: logit π + β_w·(level − the work's mean level), β_w per work by weighted
    least squares of the kept units' empirical log-odds excess on their level. A teacher's mark follows what the
    pupil knows and the work measures it with error, so in a strong school more pupils with a given work mark hold a
    higher mark for the period (and fewer a lower one) — honestly: the region's share per mark alone read a strong
    school as inflating its marks (the z of the lowered share correlated 0.55 with the school's mean result in an
    independently generated region, bench/verdict_oos.py) and, as a spread of honest schools, widened ρ for all."""
    with np.errstate(divide="ignore", invalid="ignore"):
        base = np.log(pi) - np.log1p(-pi)
        excess = np.log((x + 0.5) / (n - x + 0.5)) - base
        use = kept & np.isfinite(base) & np.isfinite(excess) & ~np.isnan(level) & (n > 0)
        weight = np.where(use, n, 0.0)
        mean = np.bincount(work, weights=weight * np.nan_to_num(level), minlength=nw) / np.bincount(
            work, weights=weight, minlength=nw)
        centred = np.nan_to_num(level - mean[work])
        slope = np.bincount(work, weights=weight * centred * np.nan_to_num(excess), minlength=nw) / np.bincount(
            work, weights=weight * centred * centred, minlength=nw)
        # a slope needs schools to be fitted on (a work of a few schools keeps the region's share), and the shift
        # stays within LEVEL_SHIFT logits: one school far from the rest must not drive its own expectation to 0 or 1
        fitted = np.bincount(work, weights=use.astype(float), minlength=nw) >= LEVEL_MIN_SCHOOLS
        slope = np.where(np.isfinite(slope) & fitted, slope, 0.0)
        shift = np.clip(slope[work] * centred, -LEVEL_SHIFT, LEVEL_SHIFT)
        moved = 1.0 / (1.0 + np.exp(-(base + shift)))
    return np.where(np.isfinite(base), moved, pi)


def _marking_rho(x, n, pi, work, kept, nw: int) -> np.ndarray:
    """ρ per work (≥ 0) by the method of moments over the kept units: Σ((x − nπ)² − nπ(1 − π)) / Σ nπ(1 − π)(n − 1),
    the beta-binomial's variance nπ(1 − π)(1 + (n − 1)ρ) solved for ρ; 0 (the binomial) where it is not above."""
    e = n * pi * (1.0 - pi)
    use = kept & (e > 0) & (n > 1)
    excess = np.bincount(work[use], weights=((x - n * pi) ** 2 - e)[use], minlength=nw)
    base = np.bincount(work[use], weights=(e * (n - 1.0))[use], minlength=nw)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(base > 0, np.maximum(excess / base, 0.0), 0.0)


KINDS = (("lowered", 1), ("raised", 2), ("lowered_by_two", 3))  # K4's kinds and their column of row_stats' term
K4_WORDS = {"lowered": "понизили", "raised": "повысили", "lowered_by_two": "понизили на две отметки и более"}


def honest_marking(term, work, sel, nw: int, level=None):
    """K4's reference, from the region's honest schools: a list of (π per unit, ρ per work), one per kind of KINDS.
    π is the region's share per assessment mark averaged over the unit's participants; ρ the intra-school
    correlation of the count — honest schools differ in their own marking habits, so the count is beta-binomial,
    Var = nπ(1 − π)(1 + (n − 1)ρ), not binomial. Both from the units not far above their expected count in either
    direction (the tail of their count at the current π and ρ ≤ SPREAD_P): a few schools that inflate their marks
    would otherwise raise the region's share and, with their counts far from it, ρ; re-estimated until the units
    left out settle. The exact tail, not a number of standard deviations: a count of rare events (lowered by two
    marks: an expected count below one) is one or two sd above its expectation with a single event, and cutting
    there took every unit with an event out until the region's share was 0 and any single event "impossible"."""
    columns = [column for _kind, column in KINDS]
    x = [term[:, column].sum(axis=1).astype(float) for column in columns]
    n = term[:, 0].sum(axis=1).astype(float)
    kinds = range(len(columns))
    kept = sel.copy()
    for step in range(SPREAD_STEPS):
        pi = [_chances(term, work, kept, nw, column) for column in columns]
        if level is not None:
            pi = [_level_adjusted(pi[k], x[k], n, level, work, kept, nw) for k in kinds]
        # the first cut at the binomial's spread: ρ of all units, the inflating ones among them, would be wide
        # enough to keep them (a fixed point with ρ ≈ 0.3 in a region of four such schools)
        rho = [_marking_rho(x[k], n, pi[k], work, kept & ~np.isnan(pi[k]), nw) if step else np.zeros(nw)
               for k in kinds]
        far = np.zeros(len(n), dtype=bool)
        for k in kinds:
            with np.errstate(invalid="ignore"):
                above = np.flatnonzero(sel & (x[k] > n * pi[k]))
            far[above[betabinom_sf(x[k][above], n[above], pi[k][above], rho[k][work[above]]) <= SPREAD_P]] = True
        settled = sel & ~far
        if step and (settled == kept).all():
            break
        kept = settled
    return list(zip(pi, rho))


def _k4(p, u, ok, th) -> list:
    nu = len(u)
    term = row_stats.of(p).term
    n_term = term[:, 0].sum(axis=1).astype(float)
    sel = ok & (n_term >= th["verdict_min_participants"])
    out = []
    # a participant with «5» cannot be marked lower, one with «2» higher: the region's share is taken per
    # assessment mark and averaged over the school's own participants (a count with the mean of unequal chances
    # has the larger variance, so the tail is not understated); the tail is the beta-binomial's with the region's
    # ρ (honest_marking)
    work = u["work"].to_numpy() if nu else np.zeros(0, dtype=np.int64)
    reference = honest_marking(term, work, sel, len(p.works), level=u["mean_percent"].to_numpy(dtype=float))
    for (kind, column), (pi, rho) in zip(KINDS, reference):
        hits = term[:, column].sum(axis=1).astype(float)
        word = K4_WORDS[kind]
        idx = np.flatnonzero(sel & ~np.isnan(pi))
        pv = betabinom_sf(hits[idx], n_term[idx], pi[idx], rho[work[idx]])
        # a rare count (lowered by two marks: most classes have none, p = 1) goes into Stouffer's sum by its mid-p, as
        # K3's: a class with no such pupil is weak evidence of honesty, not z ≈ −8 against every other work
        mid = (0.5 * (pv + betabinom_sf(hits[idx] + 1, n_term[idx], pi[idx], rho[work[idx]]))
               if kind == "lowered_by_two" else None)

        def details(sel, hits=hits, word=word, pi=pi, idx=idx):
            return [f"отметку за период {word} {int(hits[i])} из {plural(int(n_term[i]), PARTICIPANTS_OF)} "
                    f"({_num(100 * hits[i] / n_term[i], 0)} %) при ожидаемых {_share(100 * pi[i])} % — доле по "
                    "региону у участников с теми же отметками за работу (без школ, где таких расхождений намного "
                    "больше)" for i in idx[sel]]

        # no mid-p for K4 (p_mid = p): with it the spread of honest schools' habits named honest schools of 60–120
        # (K4 finds every planted school without it)
        out.append(_frame(u, idx, "K4", kind, n_term[idx], pv, hits[idx] / n_term[idx], details, p_mid=mid))
    out += _k4_shape(p, u, sel, work, n_term)
    return out


def shape_p(shape, work, nw: int, sel) -> np.ndarray:
    """The shape tests' p against their work's own units (term_shape step 4): each unit's excess per pupil against
    the units' median and robust spread, τ² the spread beyond sampling, Student's t (`_against_region`, as K1, K2
    and K5) — a model that misdescribes honest teachers by as much per pupil in every school moves the median, not
    the schools (under the model alone, 12 % of synthetic.py's clean tests of 60–120 had p ≤ 0.05)."""
    out = np.full(len(work), np.nan)
    for idx in _per_work(shape.excess, work, sel, nw):
        if len(idx) >= term_shape.MIN_UNITS:
            statistic, df = _against_region(shape.excess[idx], shape.variance[idx])
            out[idx] = student_sf(statistic, df)
    return out


def _k4_shape(p, u, sel, work, n_term):
    """K4 per pupil (term_shape.py): a mark added to a share of the pupils wherever they stand in their band, which
    a school's own strict or lenient habit (a small shift of every pupil) does not leave."""
    rows = row_stats.of(p)
    nw = len(p.works)
    work_max = row_stats._work_max(rows.max_score.astype(float), work, nw, 0.0)
    shape = term_shape.shape_tests([getattr(rows, name) for name in row_stats.CELLS], work, work_max,
                                   rows.mark_min, nw, school=u["school_id"].to_numpy() if len(u) else None)
    pv, above, expected = shape_p(shape, work, nw, sel), shape.above, shape.expected
    idx = np.flatnonzero(sel & ~np.isnan(pv))

    def details(positions):
        return [f"у {int(above[i])} из {plural(int(n_term[i]), PARTICIPANTS_OF)} отметка за период выше той, что "
                "в школах региона чаще всего ставят при таком же балле за работу, с поправкой на обычную строгость "
                f"самой школы (ожидалось около {_num(expected[i])}); так бывает, когда части учеников добавляют по "
                "целой отметке, а не когда школа в целом оценивает мягче" for i in idx[positions]]

    out = [_frame(u, idx, "K4", "shape", n_term[idx], pv[idx], above[idx] / np.maximum(n_term[idx], 1.0), details)]
    if LENIENT:
        out.append(_k4_lenient(u, sel, shape.lenient, n_term))
    return out


LENIENT = True  # K4's leniency of the school over all its works beside the shape (bench/verdict_k4lenient.py)


def _k4_lenient(u, sel, z, n_term):
    """K4's leniency of the school (term_shape._school_habits): its habit over all its works and years against the
    region's schools', one z per school — a test per school and year, on the unit of that year with the most pupils
    with term marks (the verdict folds it into the shape's sign, `verdicts._folded`)."""
    school = _unit_values(u, "school_id").astype(np.int64) if len(u) else np.zeros(0, dtype=np.int64)
    year = _unit_values(u, "year").astype(np.int64) if len(u) else np.zeros(0, dtype=np.int64)
    cand = np.flatnonzero(sel & ~np.isnan(z))
    # per (school, year) its unit with the most pupils: sorted by the key, then the pupils descending
    cand = cand[np.lexsort((-n_term[cand], year[cand], school[cand]))]
    first = np.ones(len(cand), dtype=bool)
    first[1:] = (school[cand][1:] != school[cand][:-1]) | (year[cand][1:] != year[cand][:-1])
    idx = cand[first]
    pupils = np.bincount(np.searchsorted(np.unique(school[cand]), school[cand]), weights=n_term[cand])
    n = pupils[np.searchsorted(np.unique(school[cand]), school[idx])] if len(idx) else np.zeros(0)

    def details(positions):
        return ["во всех работах школы отметки за период выше тех, что в школах региона ставят при таком же балле "
                "за работу, — заметно сильнее, чем различаются между собой школы региона" for _i in positions]

    return _frame(u, idx, "K4", "lenient", n, normal_sf(z[idx]), z[idx], details)


def _next_cohort(p, u) -> np.ndarray:
    """Per unit: the unit of the same school, procedure and subject a year later one grade up (its index as a
    float, NaN where there is none). By integer keys of work and school: string keys of every unit cost more."""
    works = p.works
    position = {key: i for i, key in enumerate(zip(works["procedure"].tolist(), works["subject"].tolist(),
                                                   works["year"].tolist(), works["grade"].tolist()))}
    following = np.array([position.get((pr, su, int(y) + 1, int(g) + 1), -1) for pr, su, y, g in position],
                         dtype=np.int64)
    nu = len(u)
    out = np.full(nu, np.nan)
    if not nu:
        return out
    work = u["work"].to_numpy(dtype=np.int64)
    school = u["school_id"].to_numpy(dtype=np.int64)
    span = int(school.max()) + 1
    keys = work * span + school
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    target_work = following[work]
    target = target_work * span + school
    pos = np.minimum(np.searchsorted(ordered, target), nu - 1)
    found = (target_work >= 0) & (ordered[pos] == target)
    out[found] = order[pos[found]]
    return out


TRIM = 3.0  # the reweighted spread keeps the schools within 3 MAD-sd of the median
TRIM_KAPPA = 0.97334  # E[z² | |z| ≤ 3] for a standard normal: the kept values' mean square is this × σ²
SPREAD_DF = 0.78  # χ² degrees of freedom per school of that spread (simulated normal samples of 30–200: 0.78–0.79)


def _spread(d: np.ndarray) -> tuple[float, float, int]:
    """(median, sd, count) of the non-missing d: the MAD-sd, then the mean square of the values within TRIM of it
    (one reweighting step; n / (n − 2) for the median and the cut taken from the same values): robust to a few far
    schools as the MAD is, with about 0.78·n degrees of freedom instead of its 0.37·n."""
    v = d[~np.isnan(d)]
    med, sd = _robust(v)
    if np.isnan(sd) or sd <= 0:
        return med, sd, len(v)
    kept = v[np.abs(v - med) <= TRIM * sd]
    n = len(v)
    return med, float(np.sqrt(((kept - med) ** 2).mean() / TRIM_KAPPA * n / max(n - 2, 1))), n


def _against_region(d: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(statistic, degrees of freedom: its p is student_sf of the two) of each school's difference d (sampling
    variance v) against the group's schools: their median and robust spread of d, τ² the spread beyond sampling.
    The spread is estimated from the group's own few dozen schools, so the statistic is referred to Student's t,
    not the normal: SPREAD_DF·n degrees of freedom for the spread, and a school's df is that × (its variance /
    the spread)² (Satterthwaite: only τ² is estimated, so a small school, whose known sampling variance
    dominates, has a tail near the normal). The median's own error (π/2 · sd² / n) is added to the variance."""
    med, sd, count = _spread(d)
    if np.isnan(sd) or sd <= 0:
        return np.full(len(d), np.nan), np.full(len(d), np.inf)
    s2 = sd * sd
    tau2 = max(0.0, s2 - float(np.nanmedian(v)))
    total = np.maximum(tau2 + v, 1e-12)
    # τ² clipped at zero is not estimated at all: the school's variance is its own sampling variance
    df = np.where(tau2 > 0, SPREAD_DF * count * (total / s2) ** 2, np.inf)
    return (d - med) / np.sqrt(total + 0.5 * np.pi * s2 / count), df


def contrast_z(x, vx, y, vy, group, ngroups: int, sel) -> tuple[np.ndarray, np.ndarray]:
    """(statistic, p) of x − βy against the region, per group: β by least squares over the group's schools
    (clipped to 0…2), τ² the between-school spread of x − βy beyond sampling (robust), each school's own
    sampling variance vx + β²·vy: a small school's noisy difference is not taken for a large school's sure one."""
    x, vx, y, vy = (np.asarray(a, dtype=float) for a in (x, vx, y, vy))
    z, df = np.full(len(x), np.nan), np.full(len(x), np.inf)
    d_all = x - y
    for idx in _per_work(d_all, group, sel, ngroups):
        if len(idx) < 5:
            continue
        xc, yc = x[idx] - np.median(x[idx]), y[idx] - np.median(y[idx])
        beta = float(np.clip((xc * yc).sum() / max((yc * yc).sum(), 1e-12), 0.0, 2.0))
        z[idx], df[idx] = _against_region(x[idx] - beta * y[idx], vx[idx] + beta * beta * vy[idx])
    return z, student_sf(z, df)  # one call for all groups: the tail's fixed cost is paid once


def _nonnegative_ls(a, b) -> np.ndarray:
    """Least squares of b on the columns of `a` (two) with βs ≥ 0 (and ≤ 2): the two predictors of a school's
    level are nearly collinear in large classes, where an unconstrained fit swings to β = (2, −1)."""
    beta = np.linalg.lstsq(a, b, rcond=None)[0]
    if (beta < 0).any():
        best = None
        for c in range(a.shape[1]):
            one = np.zeros(a.shape[1])
            one[c] = max(0.0, float(a[:, c] @ b) / max(float(a[:, c] @ a[:, c]), 1e-12))
            rss = float(((b - a @ one) ** 2).sum())
            if best is None or rss < best[0]:
                best = (rss, one)
        beta = best[1]
    return np.clip(beta, 0.0, 2.0)


def contrast2_z(x, vx, y, vy, o, vo, group, ngroups: int, sel) -> tuple[np.ndarray, np.ndarray]:
    """contrast_z with two predictors, x − β₁y − β₂o, the βs ≥ 0 by least squares over the group's schools;
    the units without `o` by contrast_z."""
    x, vx, y, vy, o, vo = (np.asarray(a, dtype=float) for a in (x, vx, y, vy, o, vo))
    z, p = contrast_z(x, vx, y, vy, group, ngroups, sel & np.isnan(o))
    df = np.full(len(x), np.inf)
    fitted = np.zeros(len(x), dtype=bool)
    for idx in _per_work(x - y - o, group, sel, ngroups):
        if len(idx) < 5:
            continue
        xc = x[idx] - np.median(x[idx])
        a = np.column_stack([y[idx] - np.median(y[idx]), o[idx] - np.median(o[idx])])
        beta = _nonnegative_ls(a, xc)
        z[idx], df[idx] = _against_region(x[idx] - beta[0] * y[idx] - beta[1] * o[idx],
                                          vx[idx] + beta[0] ** 2 * vy[idx] + beta[1] ** 2 * vo[idx])
        fitted[idx] = True
    p[fitted] = student_sf(z[fitted], df[fitted])
    return z, p


def _k1_k5(p, u, ok, schools, th) -> list:
    nu, nw = len(u), len(p.works)
    work = u["work"].to_numpy()
    n = u["n"].to_numpy().astype(float)
    mean = u["mean_percent"].to_numpy()
    sd = u["sd_percent"].to_numpy()
    # each work's result as the deviation from the median school, with its sampling variance s²/n
    s2 = np.bincount(work[ok], weights=(sd * sd * n)[ok], minlength=nw) / np.maximum(
        np.bincount(work[ok], weights=n[ok], minlength=nw), 1)
    med = np.full(nw, np.nan)
    for w, idx in enumerate(_per_work(mean, work, ok, nw)):
        if len(idx):
            med[w] = np.median(mean[idx])
    dev = np.where(ok, mean - med[work], np.nan)
    var = s2[work] / np.maximum(n, 1)
    exam = u["procedure"].isin(EXAMS).to_numpy()
    out = []
    # K1: the school's mean deviation over all its ВПР works of the year against its mean deviation over
    # its ОГЭ/ЕГЭ works of that year (pooled: a lift of every ВПР work adds up, the noise of one class does not)
    exempt = np.zeros(nu, dtype=bool)
    if len(schools):
        # by position in the schools' ids, not a dict look-up per unit (the last row of a repeated id wins)
        known = schools.drop_duplicates("id", keep="last")
        exempt_school = known["profile"].isin(list(th["k1_exempt_profiles"])).to_numpy(dtype=bool)
        at = pd.Index(known["id"]).get_indexer(u["school_id"])
        exempt = np.where(at >= 0, exempt_school[at], False)
    school = u["school_id"].to_numpy()
    # per (year, school): the ВПР works' and the exam works' mean deviation and summed variance, by one integer
    # key and compensated sums (pandas' group-by numbers without its frames: a few thousand rows)
    has_dev = ~np.isnan(dev)
    year = u["year"].to_numpy().astype(np.int64)
    school64 = school.astype(np.int64)
    low = int(school64.min()) if nu else 0
    span = int(school64.max()) - low + 1 if nu else 1
    key = year * span + (school64 - low)

    def per_pair(sel):
        keys, inverse = np.unique(key[sel], return_inverse=True)
        dev_sum, count = stats.compensated_sums(inverse, dev[sel], len(keys))
        var_sum, _count = stats.compensated_sums(inverse, var[sel], len(keys))
        return keys, inverse, dev_sum / count, var_sum / count ** 2, count

    v_sel = has_dev & ~exam & ~exempt
    v_keys, v_inverse, v_dev, v_var, v_works = per_pair(v_sel)
    e_keys, _e_inverse, e_dev, e_var, _e_works = per_pair(has_dev & exam)
    v_n, _count = stats.compensated_sums(v_inverse, n[v_sel], len(v_keys))
    common, vi, ei = np.intersect1d(v_keys, e_keys, assume_unique=True, return_indices=True)
    both = pd.DataFrame({"year": common // span, "school_id": common % span + low, "dv": v_dev[vi],
                         "vv": v_var[vi], "n": v_n[vi], "works": v_works[vi], "de": e_dev[ei], "ve": e_var[ei]})
    if len(both):
        year_code = pd.factorize(both["year"])[0]
        gz, gp = contrast_z(both["dv"], both["vv"], both["de"], both["ve"], year_code,
                            int(year_code.max()) + 1, np.ones(len(both), dtype=bool))
        keep = ~np.isnan(gz)
        both, gz, gp = both[keep], gz[keep], gp[keep]
        count = len(both)
        k1 = {"year": both["year"].to_numpy(), "procedure": _same(count, "ВПР"),
              "subject": _same(count, "все предметы"), "grade": np.full(count, np.nan),
              "school_id": both["school_id"].to_numpy(), "sign": _same(count, "K1"),
              "kind": _same(count, "high_unexplained"), "n": both["n"].to_numpy(dtype=np.int64),
              "p": np.asarray(gp, dtype=float), "p_mid": np.asarray(gp, dtype=float),
              "statistic": np.asarray(gz, dtype=float)}
        works, dv, de = both["works"].to_numpy(), both["dv"].to_numpy(), both["de"].to_numpy()

        def k1_details(positions):  # every K1 test has its sentence (a few thousand: one per school and year)
            return [f"средний процент выполнения {plural(int(works[i]), WORKS_OF)} ВПР "
                    f"{_off(dv[i], 'медианной школы региона')}, ОГЭ/ЕГЭ — {_off(de[i], 'медианной школы')}: разрыв "
                    f"необычен для школ региона ({_num(gz[i], 2)} ст. откл.)" for i in positions]

        out.append((k1, k1_details))
    # K5: the same cohort a year later (grade g+1 in year t+1); the test belongs to the later year
    nxt = _next_cohort(p, u)
    has = ~exam & ~np.isnan(nxt) & ~np.isnan(dev)
    j = np.where(has, nxt, 0).astype(np.int64)
    has &= ~np.isnan(dev[j])
    # the school's level from its other ВПР works of the two years (inverse-variance mean, this unit and its
    # next cohort left out): a second predictor beside the next cohort, with a far smaller sampling variance
    w = np.where(~exam & has_dev, 1.0 / np.maximum(var, 1e-12), 0.0)
    wd = np.where(w > 0, w * np.nan_to_num(dev), 0.0)
    pair_codes, pair_inverse = np.unique(key, return_inverse=True)
    w_sum = np.bincount(pair_inverse, weights=w, minlength=len(pair_codes))
    wd_sum = np.bincount(pair_inverse, weights=wd, minlength=len(pair_codes))
    later = np.searchsorted(pair_codes, key + span)
    later_ok = (later < len(pair_codes)) & (pair_codes[np.minimum(later, len(pair_codes) - 1)] == key + span)
    later = np.minimum(later, len(pair_codes) - 1)
    ow = w_sum[pair_inverse] + np.where(later_ok, w_sum[later], 0.0) - w - np.where(has, w[j], 0.0)
    owd = wd_sum[pair_inverse] + np.where(later_ok, wd_sum[later], 0.0) - wd - np.where(has, wd[j], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        other = np.where(ow > 1e-9, owd / ow, np.nan)
        other_var = np.where(ow > 1e-9, 1.0 / ow, np.nan)
    dz, dp = contrast2_z(dev, var, dev[j], var[j], other, other_var, work, nw, has)
    idx = np.flatnonzero(~np.isnan(dz) & has)
    later_idx = j[idx]
    unit_year, unit_grade = u["year"].to_numpy(), u["grade"].to_numpy()  # not .iat per sentence: 10× slower

    def others(i):
        if np.isnan(other[i]):
            return ": падение необычно для школ региона"
        return (f", другие работы ВПР школы за эти два года — в среднем {_off(other[i], 'медианы')}: результат "
                "класса необычно высок для уровня школы")

    out.append(_frame(u, later_idx, "K5", "cohort_drop", n[later_idx], dp[idx], dz[idx], lambda sel: [
        f"в {unit_year[i]} г. в {unit_grade[i]} кл. средний процент выполнения {_num(mean[i])} % "
        f"(медиана школ региона {_num(med[work[i]])} %), через год та же когорта — {_num(mean[k])} % "
        f"(медиана {_num(med[work[k]])} %){others(i)} ({_num(dz[i], 2)} ст. откл.)"
        for i, k in zip(idx[sel], later_idx[sel])]))
    return out


def unit_tests(results, schools: pd.DataFrame, thresholds, *, boundaries: pd.DataFrame | None = None,
               structures: dict | None = None) -> pd.DataFrame:
    """All tests of all units: TEST_COLUMNS, one row per school × work × sign (K4 four times: lowered, raised,
    lowered by two marks, shape), each quotable test (p ≤ DETAIL_P, every K1 test) with its sentence in `detail`.
    `structures` (data.load_structures): the works' declared task maxima, used by K2 where known."""
    tests, sentences = tests_and_sentences(results, schools, thresholds, boundaries=boundaries,
                                           structures=structures)
    tests["detail"] = sentences(np.arange(len(tests)))
    return tests


def tests_and_sentences(results, schools: pd.DataFrame, thresholds, *, boundaries: pd.DataFrame | None = None,
                        structures: dict | None = None, release: bool = False) -> tuple[pd.DataFrame, Sentences]:
    """unit_tests with `detail` left empty, and the writer of the sentences (Sentences) for the tests a verdict
    quotes. `release`: the signs are the last to read the unit statistics (pipeline.compute): each of their arrays
    is let go as soon as its last sign has read it (row_stats.release), so the per-task sums, the score counts and
    the term marks are not all held while the later signs and the tests' frame are made."""
    th = thresholds
    p = prepare(results)
    work_tasks.attach(p, structures)
    row_stats.of(p, th["k3_near_max_level"])

    def done_with(*names):
        if release:
            row_stats.release(p, names)

    u = p.units
    ok = u["n"].to_numpy() >= th["verdict_min_participants"]
    row_stats.region_tasks(p)  # K2's references: kept, so the per-task sums can go before its round 2
    done_with(*row_stats.TASKS)
    parts = [_k2(p, u, ok, th)]
    done_with("k2_round")
    # K3 reads a school putting pupils just short of a mark onto its boundary, which only a scorer who sees the
    # pupil's total can do: the school's own teachers on its ВПР. An exam's part 1 is scored by machine and its
    # part 2 by the region's commission, whose experts see one task of an anonymous pupil, never the total, so an
    # exam's K3 test carries no evidence on the school and only dilutes Stouffer's sum over its works (a school
    # heaping in 8 ВПР works: z × √(8/10) with its 2 ОГЭ works in). K2 stays on the exams: answers to the hard
    # tasks leaked into an exam room are a sign there too
    parts.append(_k3(p, u, ok & ~u["procedure"].isin(EXAMS).to_numpy(), boundaries))
    done_with("hist", "region_scores")
    parts += _k4(p, u, ok, th)  # K4 per pupil reads the scores' maxima and the marks' boundaries too
    done_with("max_score", "mark_min", "term", *row_stats.CELLS)
    parts += _k1_k5(p, u, ok, schools, th)
    parts = [(f, write) for f, write in (x for x in parts if x is not None) if len(f["p"])]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TEST_COLUMNS}), Sentences([])
    sentences = Sentences([(len(f["p"]), write) for f, write in parts])
    return _joined([f for f, _write in parts], u), sentences

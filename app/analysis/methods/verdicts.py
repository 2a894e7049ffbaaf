"""Verdicts per school on the objectivity of its results, from the tests of sign_tests.py.

For the year Y the school's tests of the years Y − verdict_years + 1 … Y are combined:
1. per sign: the school's p-values of that sign over its works and years — by Stouffer's method (a weak
   but consistent sign in every work adds up; for K4's rare «lowered by two marks» it sums the mid-p,
   tails.binom_midp, so a class where nothing happened is not read as strong evidence of honesty; K3's counts are
   pooled instead, one binomial over all the school's windows, _pooled_counts) and by
   the smallest p × their number (one strong sign in one work is not diluted), the better of the two × 2;
   K1 compares each year's ВПР with that year's exams, so its years are correlated through the school's lasting
   gap: Stouffer's sum has the variance k + k(k − 1)ρ, ρ the correlation of the years over the region's schools;
   K4 the same over the school's works (a marking habit the school keeps in all of them, _work_correlation);
   K4's shape by that sum alone, without the × 2 (SUM_ONLY: added marks are in all the school's works);
   K5 (one class against the school's level) only by the smallest p × their number;
2. per school: weighted Bonferroni over its signs — each sign's p ÷ its weight (SIGN_WEIGHTS, 1 unless said), the
   smallest of those × the sum of the school's signs' weights (with equal weights the smallest p × the number of
   signs; valid however the signs depend on each other — they read the same works) — `combined_p`, the
   probability that an honest school shows a sign at least this strong;
3. the region's list: Benjamini–Hochberg over the schools' combined p at `verdict_fdr` (default 5 %):
   the schools with q ≤ level are «признаки необъективности выявлены» — on average at most 5 % of such
   a list are honest schools; the others with combined p ≤ `verdict_watch` are «есть отдельные признаки
   (наблюдение)»; the rest «не выявлены».
Every school's tests are also adjusted by Benjamini–Hochberg across all schools × works × signs: the works
named in the explanation are those that pass it (or the strongest ones when none does).
"""

import numpy as np
import pandas as pd

from app.analysis.methods.fdr import benjamini_hochberg
from app.analysis.methods.stats import factorize_sorted
from app.analysis.methods.tails import beta_reg, normal_isf, normal_sf
from app.core.russian import plural

FLAGGED, WATCH, CLEAR = "flagged", "watch", "clear"
VERDICTS = {FLAGGED: "признаки необъективности выявлены", WATCH: "есть отдельные признаки (наблюдение)",
            CLEAR: "признаки не выявлены"}
SIGN_WORDS = {
    ("K1", "high_unexplained"): "высокие результаты ВПР, не подтверждённые ОГЭ/ЕГЭ той же школы",
    ("K2", "hard_better"): "трудные задания выполнены лучше, чем лёгкие",
    ("K3", "heaping"): "скопление результатов на границе отметки",
    ("K4", "lowered"): "отметки за период выше отметок за работу (завышение текущих отметок)",
    ("K4", "raised"): "отметки за работу выше отметок за период",
    ("K4", "lowered_by_two"): "отметки за период на две и более выше отметок за работу (завышение текущих отметок)",
    ("K4", "shape"): "части учеников отметку за период подняли на целую отметку при том же балле за работу "
                     "(завышение текущих отметок)",
    ("K5", "cohort_drop"): "высокий результат класса не подтверждён той же когортой через год и другими работами школы",
}
# a school compared with itself: its tests of these signs are not independent. K1 (each year's ВПР against that
# year's exams) is summed over the years with their correlation estimated from the region; K5 (one cohort against
# the school's other works) marks a single class, so only its smallest p counts
YEARS_CORRELATED, SMALLEST_ONLY = "K1", "K5"
# K4 reads one school's marking in each of its works: a habit the school keeps in all of them (honest schools differ
# in how leniently they mark) makes its works' tests correlated, so Stouffer's sum has the variance k + k(k − 1)ρ,
# ρ the correlation of a school's works over the region's schools (tails.betabinom_sf takes the spread of single
# classes)
WORKS_CORRELATED = "K4"
POOLED = ("K3", "heaping")  # a count test whose works are pooled into one count (_pooled_counts), not Stouffer's sum
# K4's shape (term_shape.py) by Stouffer's sum alone, not «the better of the sum and the smallest p × k, × 2»: added
# marks are in all of a school's works and its tests are continuous (no p = 1 for the sum to read as z ≈ −8), so the
# smallest p × k rarely wins and the × 2 cost every school found by the sum a factor 2 (bench/verdict_oos.py, 20–50:
# term-mark inflation 16 → 18 of 32 found, no honest school more named)
SUM_ONLY = ("K4", "shape")
# K4's leniency of the school over all its works (sign_tests._k4_lenient: one test per school and year, the same p):
# its p once, folded into the shape's sign by Stouffer (_folded)
LENIENT = ("K4", "lenient")
LENIENT_WEIGHT = 0.4  # its weight in that Stouffer sum beside the shape's 1 (weighted Stouffer: fixed before the data)
# what the explanation of K4's shape adds where the leniency made that sign stronger: the school's term marks against
# its results over all its works, beside the shape's pupils
LENIENT_WORDS = ("к тому же во всех работах школы вместе отметки за период выше тех, что в школах региона ставят "
                 "при таком же балле за работу")
# the weights of the signs in the school's Bonferroni step (weighted Bonferroni: valid for any weights fixed before
# the data): the signs of the three kinds issue 15 §1 names — hard-task inflation (K2), heaping (K3), added term
# marks (K4's shape) — twice the others', so a school found by one of them pays × 5.5 of its eight signs instead of
# × 8, one found by K1, K5 or K4's counts alone × 11. bench/verdict_fdr_study.py (independent regions of 8–120,
# seeds 0–5 chosen on, 6–11 held out): recall 0.53 → 0.56 and 0.65 → 0.69, no honest school more named
SIGN_WEIGHTS = {("K2", "hard_better"): 2.0, ("K3", "heaping"): 2.0, ("K4", "shape"): 2.0}
FAR_P = 0.001  # as sign_tests.SPREAD_P: a test this far out is not an honest school's
VERDICT_COLUMNS = ["school_id", "year", "verdict", "verdict_label", "signs", "works", "combined_p", "q",
                   "explanation", "evidence"]


def chance(p: float) -> str:
    """«вероятность случайно ≈ 1 из 2 000»: the probability as a Russian reader takes it in."""
    if p is None or np.isnan(p):
        return "вероятность не вычислена"
    if p < 1e-6:
        return "вероятность случайно меньше 1 из миллиона"
    if p >= 0.5:
        return "вероятность случайно ≈ 1 из 2 и выше"
    n = 1.0 / p
    digits = max(0, int(np.floor(np.log10(n))) - 1)
    n = int(round(n / 10 ** digits) * 10 ** digits)
    return f"вероятность случайно ≈ 1 из {n:,}".replace(",", "\u00a0")


def _label(procedure, subject, grade, year) -> str:
    grade = "" if grade is None or pd.isna(grade) else f" {int(grade)} кл."
    return f"{procedure} {subject}{grade} {int(year)}"


def work_label(row) -> str:
    """«ВПР Математика 4 кл. 2025» for a test row."""
    return _label(row.procedure, row.subject, row.grade, row.year)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation turned into the normal-scale correlation 2·sin(π r / 6): ranks, so a few
    planted schools do not make it."""
    ra, rb = (np.argsort(np.argsort(x, kind="stable"), kind="stable").astype(float) for x in (a, b))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    r = float((ra * rb).sum() / np.sqrt((ra * ra).sum() * (rb * rb).sum()))
    return 2.0 * np.sin(np.pi * r / 6.0)


def _year_correlation(t: pd.DataFrame, sign: str) -> float:
    """The correlation (≥ 0) of a school's z of `sign` in two years, over the region's schools tested in both;
    the pairs of years averaged by their number of schools. 1 (the sum counts as one test) when under 20."""
    mine = np.flatnonzero(t["sign"].to_numpy(dtype=object) == sign)
    year = t["year"].to_numpy()[mine].astype(np.int64)
    school = t["school_id"].to_numpy()[mine].astype(np.int64)
    z = normal_isf(t["p"].to_numpy(dtype=float)[mine])
    years = np.unique(year).tolist()
    total, weight = 0.0, 0
    for i, a in enumerate(years):
        for b in years[i + 1:]:
            at_a, at_b = np.flatnonzero(year == a), np.flatnonzero(year == b)
            _common, ia, ib = np.intersect1d(school[at_a], school[at_b], return_indices=True)
            if len(ia) >= 20:
                total += len(ia) * _spearman(z[at_a[ia]], z[at_b[ib]])
                weight += len(ia)
    return float(np.clip(total / weight, 0.0, 1.0)) if weight else 1.0


def _work_codes(tests: pd.DataFrame, keep: np.ndarray, mine: np.ndarray) -> np.ndarray:
    """A code per work (year, procedure, subject, grade) for the kept tests where `mine`, −1 elsewhere (only the
    signs whose works are correlated need it): each column factorised on its own and the codes combined (a
    factorisation of the four columns' tuples was most of the verdicts' time)."""
    out = np.full(len(keep), -1, dtype=np.int64)
    rows = keep[mine]
    code = np.zeros(len(rows), dtype=np.int64)
    for column in ("year", "procedure", "subject", "grade"):
        c, uniques = pd.factorize(tests[column].to_numpy()[rows])
        code = code * (len(uniques) + 1) + (c + 1)  # NaN (−1) a code of its own
    out[mine] = pd.factorize(code)[0]  # dense: 0 … works − 1
    return out


def _work_correlation(school, work, p, kind_mask, schools: int, works: int) -> float:
    """The correlation (≥ 0) of a school's p in two of its works — the tests of one sign (`school`, `work`, `p`), of
    its kind where `kind_mask` — over the region's schools tested in both: Spearman's on the normal scale, each
    work's p ranked over its schools (ties their mean rank: K4's many p = 1), averaged over the pairs of works by
    their number of schools; 0 when no pair has 20. All pairs at once by matrix products over a schools × works
    table (a loop over the pairs cost a sixth of the analysis)."""
    # the schools far out in any work of the sign, either kind, are left out: a few that inflate marks in every work
    # would otherwise make the correlation (ρ ≈ 0.15–0.2 with four such schools among 60 — far above in «lowered»,
    # and in «raised» at p = 1 in every work)
    far = np.zeros(schools, dtype=bool)
    far[school[p <= FAR_P]] = True
    mine = np.flatnonzero(kind_mask & ~far[school])
    if not len(mine):
        return 0.0
    work, school, p = work[mine], school[mine], p[mine]
    # each work's p ranked over its schools: one sort by (work, p), ties their mean rank within the work
    order = np.lexsort((p, work))
    w_sorted, p_sorted = work[order], p[order]
    start = np.flatnonzero(np.r_[True, w_sorted[1:] != w_sorted[:-1]])
    first = np.repeat(start, np.diff(np.r_[start, len(order)]))  # position of the work's first test
    tie = np.flatnonzero(np.r_[True, (w_sorted[1:] != w_sorted[:-1]) | (p_sorted[1:] != p_sorted[:-1])])
    tie_end = np.r_[tie[1:], len(order)]
    tie_of = np.repeat(np.arange(len(tie)), np.diff(np.r_[tie, len(order)]))
    ranks = np.empty(len(order))
    ranks[order] = (tie[tie_of] + tie_end[tie_of] + 1) / 2.0 - first
    present = np.zeros((schools, works))
    value = np.zeros(present.shape)
    present[school, work] = 1.0
    value[school, work] = ranks
    count = present.T @ present                 # schools in both works
    sum_a = value.T @ present                   # Σ rank in work a over the schools also in b
    sum_sq = (value * value).T @ present        # Σ rank² in a over those schools
    cross = value.T @ value
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = cross - sum_a * sum_a.T / count
        var_a = sum_sq - sum_a * sum_a / count
        r = cov / np.sqrt(var_a * var_a.T)
    pair = np.triu(count >= 20, k=1) & np.isfinite(r)
    if not pair.any():
        return 0.0
    weights = count[pair]
    total = float((weights * 2.0 * np.sin(np.pi * r[pair] / 6.0)).sum())
    return float(np.clip(total / weights.sum(), 0.0, 1.0))


def window_counts(tests: pd.DataFrame, keep: np.ndarray):
    """(positions among `keep`, trials, expected, hits) of the count tests (K3's) of the rows `keep` of `tests`, for
    their count pooled over the school's works; None for a frame without the columns. Only those rows: three more
    columns over all the window's tests were a quarter more memory in the verdicts (test_analysis_memory)."""
    if "trials" not in tests or "expected" not in tests:
        return None
    column = tests["trials"].to_numpy(dtype=float)
    at = np.flatnonzero(~np.isnan(column[keep]))
    rows = keep[at]
    trials = column[rows]
    # K3's statistic is the share on the boundary: the count is that × the trials (whole numbers)
    hits = np.round(tests["statistic"].to_numpy(dtype=float)[rows] * trials)
    return at, trials, tests["expected"].to_numpy(dtype=float)[rows], hits


def _pooled_counts(counts, agg: pd.DataFrame, inverse: np.ndarray, stouffer_p: np.ndarray) -> np.ndarray:
    """`stouffer_p` with POOLED's sign (K3) instead taken from its count pooled over the school's works and years:
    the works on a boundary out of the works in all its windows, against the expected number — a binomial with the
    mean chance (as K3 pools a work's three boundaries: its tail is not understated). That is the score test of one
    heaping effect in all of the school's works: each pupil in a window counts once, where Stouffer's sum gave a
    window of one pupil the weight of a window of six, and its mid-p's z only approximately a normal's (classes of
    8–12: two to four pupils in a window; README «K3 pooled over the school's works»)."""
    if counts is None:
        return stouffer_p
    at, trials, expected, hits = counts
    sign = agg["sign"].to_numpy(dtype=object)
    kind = agg["kind"].to_numpy(dtype=object)
    pooled = (sign == POOLED[0]) & (kind == POOLED[1])
    groups = len(agg)
    counted = ~(np.isnan(expected) | np.isnan(hits))
    group = inverse[at]
    n, e, x = (np.bincount(group, weights=np.where(counted, v, 0.0), minlength=groups)
               for v in (trials, expected, hits))
    # every test of the group has its count (a frame of tests without them keeps Stouffer's sum)
    complete = np.bincount(group, weights=counted.astype(float), minlength=groups) == agg["k"].to_numpy()
    use = pooled & complete & (n > 0)
    out = stouffer_p.copy()
    # P(X ≥ x) = I_π(x, n − x + 1): the incomplete beta needs no grid of counts, where tails.binom_sf's table is
    # (the largest n)² — a large school's pooled windows hold hundreds of works
    x, n, chance = x[use], n[use], np.clip(e[use] / n[use], 0.0, 1.0)
    out[use] = np.where(x <= 0, 1.0, np.where(x > n, 0.0, beta_reg(np.maximum(x, 1.0), np.maximum(n - x + 1.0, 1.0),
                                                                    chance)))
    return out


def _signs_of_schools(t: pd.DataFrame, counts=None) -> tuple[pd.DataFrame, np.ndarray]:
    """Per (school, sign, kind): the combined p of the sign over the school's works and years (vectorised:
    a region has 1,500 schools × 6 signs); and each test's row in that frame. `counts`: window_counts of `t`'s
    rows (K3's count pooled over the school's works; None: Stouffer's sum for K3 too)."""
    # by integer codes and bincounts: a group-by over three keys (two of them text) cost more than the tests
    # (a region's tests are some 130,000: each array of them is 1 MB, so the codes are kept small and every array
    # let go once read — this function was the combining job's peak, bench/analysis.py --scale)
    p = t["p"].to_numpy(dtype=float)
    hc, hu = factorize_sorted(t["school_id"].to_numpy(dtype=np.int64))
    sc, su = factorize_sorted(t["sign"].to_numpy(dtype=object))
    kc, ku = factorize_sorted(t["kind"].to_numpy(dtype=object))
    key = (hc.astype(np.int64) * len(su) + sc) * len(ku) + kc
    # a handful of signs and kinds, a region's schools: the codes fit in small integers (the same values)
    hc, sc, kc = hc.astype(np.int32), sc.astype(np.int8), kc.astype(np.int8)
    groups, inverse = np.unique(key, return_inverse=True)
    del key
    pmin = np.full(len(groups), np.inf)
    np.minimum.at(pmin, inverse, p)
    # Stouffer sums the z of the mid-p: an exact tail of 1 (a class where nothing happened) would count as z ≈ −8
    zsum = np.bincount(inverse, weights=normal_isf(t["p_mid"].to_numpy(dtype=float)), minlength=len(groups))
    agg = pd.DataFrame({"school_id": np.asarray(hu, dtype=np.int64)[groups // (len(su) * len(ku))],
                        "sign": np.asarray(su, dtype=object)[(groups // len(ku)) % len(su)],
                        "kind": np.asarray(ku, dtype=object)[groups % len(ku)],
                        "k": np.bincount(inverse, minlength=len(groups)), "pmin": pmin, "zsum": zsum})
    k = agg["k"].to_numpy()
    sign = agg["sign"].to_numpy(dtype=object)
    # the sum's variance: k for independent works; k + k(k − 1)ρ for K1's years, ρ the correlation of a school's
    # years over the region's schools (a school's lasting gap between ВПР and exams is in both): Stouffer stays
    # valid under that dependence, and a school that lifts its ВПР every year adds its years up
    rho = np.where(sign == YEARS_CORRELATED, _year_correlation(t, YEARS_CORRELATED), 0.0)
    # K4's works: k + k(k − 1)ρ with ρ the correlation of a school's works (WORKS_CORRELATED), per kind
    at = np.flatnonzero(np.asarray(su, dtype=object) == WORKS_CORRELATED)
    if len(at) and "work" in t:
        of_sign = np.flatnonzero(sc == at[0])
        school, work = hc[of_sign], t["work"].to_numpy()[of_sign]
        group_sign, group_kind = (groups // len(ku)) % len(su), groups % len(ku)
        for kind in np.unique(kc[of_sign]).tolist():
            value = _work_correlation(school, work, p[of_sign], kc[of_sign] == kind, len(hu), int(work.max()) + 1)
            rho = np.where((group_sign == at[0]) & (group_kind == kind), value, rho)
    stouffer_p = normal_sf(agg["zsum"].to_numpy() / np.sqrt(k + k * (k - 1) * rho))
    stouffer_p = _pooled_counts(counts, agg, inverse, stouffer_p)
    bonferroni = np.minimum(1.0, k * agg["pmin"].to_numpy())
    sum_only = (sign == SUM_ONLY[0]) & (agg["kind"].to_numpy(dtype=object) == SUM_ONLY[1])
    kind = agg["kind"].to_numpy(dtype=object)
    lenient = (sign == LENIENT[0]) & (kind == LENIENT[1])
    agg["sp"] = np.where(sign == SMALLEST_ONLY, bonferroni, np.where(
        sum_only, stouffer_p, np.where(lenient, agg["pmin"].to_numpy(), np.minimum(
            1.0, 2.0 * np.minimum(stouffer_p, bonferroni)))))
    return _folded(agg, sum_only, lenient), inverse


def _folded(agg: pd.DataFrame, shape: np.ndarray, lenient: np.ndarray) -> pd.DataFrame:
    """K4's leniency folded into the shape's sign: where a school has both, the shape's p becomes the weighted
    Stouffer's of the two (LENIENT_WEIGHT; independent under an honest school: the shape's statistic is orthogonal
    to the habit's score); the leniency's rows go (a school without shape tests — classes under
    term_shape.MIN_PUPILS — keeps its signs as they were: as a sign of its own it cost the others a weight).
    `lenient_p`: the leniency's p on the shape's row where it made the sign stronger (the folded p below the
    shape's own), NaN elsewhere — the explanation says it then (LENIENT_WORDS), and only then."""
    agg["lenient_p"] = np.nan
    if not lenient.any():
        return agg
    school = agg["school_id"].to_numpy()
    at_shape = np.flatnonzero(shape & np.isin(school, school[lenient]))
    if len(at_shape):
        p_of = pd.Series(agg["sp"].to_numpy()[lenient], index=school[lenient]).loc[school[at_shape]].to_numpy()
        own = agg["sp"].to_numpy()[at_shape]
        z = (normal_isf(own) + LENIENT_WEIGHT * normal_isf(p_of)) / np.sqrt(1.0 + LENIENT_WEIGHT ** 2)
        sp = agg["sp"].to_numpy().copy()
        sp[at_shape] = normal_sf(z)
        agg["sp"] = sp
        lenient_p = agg["lenient_p"].to_numpy().copy()
        lenient_p[at_shape] = np.where(sp[at_shape] < own, p_of, np.nan)
        agg["lenient_p"] = lenient_p
    return agg[~lenient]


def compute_verdicts(tests: pd.DataFrame, thresholds, *, year: int, schools=None, explain: bool = True,
                     sentences=None) -> pd.DataFrame:
    """VERDICT_COLUMNS, one row per school with at least one test in the window (and per school of
    `schools`, an iterable of ids, without tests: «не выявлены», nothing to combine). `explain=False` leaves the
    evidence and the explanation empty: the verdicts of earlier years only say which schools were named.
    `sentences` (sign_tests.Sentences of `tests`): writes the quoted tests' sentences when the frame's `detail`
    was left empty (sign_tests.tests_and_sentences)."""
    th = thresholds
    span = set(range(year - th["verdict_years"] + 1, year + 1))
    # the window's tests with only the columns the combination needs (a filtered copy of every column, the
    # sentences among them, cost more than the combination); whole rows are taken for the named schools only
    keep = np.flatnonzero(tests["year"].isin(span).to_numpy(dtype=bool) & tests["p"].notna().to_numpy(dtype=bool))
    t = pd.DataFrame({"school_id": tests["school_id"].to_numpy()[keep], "sign": tests["sign"].to_numpy()[keep],
                      "kind": tests["kind"].to_numpy()[keep], "p": tests["p"].to_numpy(dtype=float)[keep],
                      "year": tests["year"].to_numpy()[keep],
                      "p_mid": (tests["p_mid"] if "p_mid" in tests else tests["p"]).to_numpy(dtype=float)[keep]})
    counts = window_counts(tests, keep)
    t["work"] = _work_codes(tests, keep, t["sign"].to_numpy(dtype=object) == WORKS_CORRELATED)
    q_tests = benjamini_hochberg(t["p"].to_numpy()) if len(t) else np.zeros(0)
    signs, group_of = _signs_of_schools(t, counts) if len(t) else (
        pd.DataFrame(columns=["school_id", "sign", "kind", "sp", "lenient_p"]), np.zeros(0, dtype=np.int64))
    # across signs the smallest sign's p × their number (Bonferroni): a school's signs read the same works (K1 and
    # K5 its ВПР results, K2 and K3 its task scores, K3 and K4 its marks), so they are not independent and Fisher's
    # χ² (the earlier "better of Fisher and Bonferroni × 2") was not valid for them; Bonferroni is under any
    # dependence, and a school named by one strong sign no longer pays the × 2. Weighted (SIGN_WEIGHTS): the sign's
    # p ÷ its weight, the smallest × the school's signs' total weight
    weight = np.ones(len(signs))
    for (sign, kind), w in SIGN_WEIGHTS.items():
        weight[(signs["sign"].to_numpy(dtype=object) == sign) & (signs["kind"].to_numpy(dtype=object) == kind)] = w
    by_school = signs.assign(w=weight, spw=signs["sp"].to_numpy(dtype=float) / weight).groupby(
        "school_id", sort=True).agg(total=("w", "sum"), spmin=("spw", "min"))
    ids = by_school.index.to_numpy(dtype=np.int64)
    combined = np.minimum(1.0, by_school["total"].to_numpy() * by_school["spmin"].to_numpy(dtype=float))
    extra = sorted(set(int(s) for s in (schools if schools is not None else [])) - set(ids.tolist()))
    ids = np.concatenate([ids, np.array(extra, dtype=np.int64)])
    combined = np.concatenate([combined, np.full(len(extra), np.nan)])
    q = benjamini_hochberg(combined)
    with np.errstate(invalid="ignore"):
        verdict = np.where(q <= th["verdict_fdr"], FLAGGED, np.where(combined <= th["verdict_watch"], WATCH, CLEAR))
    # the evidence of the named schools, in plain lists (a few hundred schools: no per-group pandas work)
    fdr, watch = th["verdict_fdr"], th["verdict_watch"]
    named = set(ids[verdict != CLEAR].tolist()) if explain else set()
    sign_rows: dict = {}
    sel = signs[signs["school_id"].isin(named)].sort_values(["school_id", "sp"], kind="stable")
    for school_id, sign, kind, sp, group, lenient_p in zip(
            sel["school_id"].tolist(), sel["sign"].tolist(), sel["kind"].tolist(), sel["sp"].tolist(),
            sel.index.tolist(), sel["lenient_p"].tolist()):
        sign_rows.setdefault(school_id, []).append((sign, kind, sp, group, lenient_p))
    # the signs each named school's explanation names (those below the watch level, else its strongest)
    named_signs = {school_id: [x for x in mine if x[2] <= watch] or mine[:1] for school_id, mine in sign_rows.items()}
    # the tests of those signs only, per sign in order of p, each with its row position in `tests` (its sentence is
    # read, or written, only when cited); plain arrays, not a copy of the tests' frame
    mine = np.flatnonzero(np.isin(group_of, [x[3] for chosen in named_signs.values() for x in chosen]))
    mine = mine[np.lexsort((t["p"].to_numpy()[mine], group_of[mine]))]
    rows = keep[mine]
    test_rows: dict = {}
    for row in zip(group_of[mine].tolist(), tests["procedure"].to_numpy()[rows].tolist(),
                   tests["subject"].to_numpy()[rows].tolist(), tests["grade"].to_numpy()[rows].tolist(),
                   tests["year"].to_numpy()[rows].tolist(), t["p"].to_numpy()[mine].tolist(), q_tests[mine].tolist(),
                   rows.tolist()):
        test_rows.setdefault(row[0], []).append(row[1:])
    # the window's tests are read: let them go before the explanations are written (a region's are 1 MB a column)
    del t, keep, q_tests, group_of, signs, sel, mine, counts
    # which tests each named school's explanation cites, then their sentences in one call
    cites: dict = {}
    for school_id, chosen in named_signs.items():
        cites[school_id] = []
        for sign, kind, sp, group_index, lenient_p in chosen:
            group = test_rows[group_index]
            cited = ([g for g in group if g[5] <= fdr] or [g for g in group if g[4] <= watch])[:4] or group[:1]
            cites[school_id].append((sign, kind, sp, group, cited, lenient_p))
    rows = sorted({g[6] for chosen in cites.values() for *_x, cited, _lenient in chosen for g in cited})
    written = sentences(rows) if sentences is not None else tests["detail"].to_numpy()[rows].tolist()
    detail = dict(zip(rows, written))
    out = []
    for school_id, p, qv, v in zip(ids.tolist(), combined.tolist(), q.tolist(), verdict.tolist()):
        evidence, works, parts = [], [], []
        for sign, kind, sp, group, cited, lenient_p in cites.get(school_id, []):
            items = [{"work": _label(*g[:4]), "p": float(g[4]), "detail": detail[g[6]]} for g in cited]
            works += [i["work"] for i in items if i["work"] not in works]
            more = sum(1 for g in group if g[4] <= watch) - len(items)
            words = SIGN_WORDS.get((sign, kind), sign)
            # the school's leniency, where it made the shape's sign stronger (_folded): said, with its own chance
            leniency = None if lenient_p is None or np.isnan(lenient_p) else {
                "p": float(lenient_p), "text": f"{LENIENT_WORDS} ({chance(lenient_p)}) — это усиливает признак"}
            parts.append(f"{sign} — {words}: " + "; ".join(
                f"{i['work']} ({i['detail']})" if i["detail"] else i["work"] for i in items)
                + (f"; ещё в {plural(more, ('работе', 'работах', 'работах'))}" if more > 0 else "")
                + (f"; {leniency['text']}" if leniency else "")
                + f"; {chance(sp)}")
            evidence.append({"sign": sign, "kind": kind, "words": words, "p": float(sp), "chance": chance(sp),
                             "works": items, "leniency": leniency})
        explanation = "" if v == CLEAR or not explain else (
            ". ".join(parts) + f". В целом по школе: {chance(p)} (с учётом числа проверенных признаков).")
        out.append({"school_id": school_id, "year": year, "verdict": v, "verdict_label": VERDICTS[v],
                    "signs": sorted({e["sign"] for e in evidence}), "works": works, "combined_p": p, "q": qv,
                    "explanation": explanation, "evidence": evidence})
    frame = pd.DataFrame(out, columns=VERDICT_COLUMNS)
    order = frame["verdict"].map({FLAGGED: 0, WATCH: 1, CLEAR: 2})
    return frame.assign(_o=order).sort_values(["_o", "combined_p", "school_id"], kind="stable").drop(
        columns="_o").reset_index(drop=True)


def excluded_units(tests: pd.DataFrame, verdicts, thresholds) -> pd.DataFrame:
    """The works (year, procedure, school_id, subject, grade) low-result indices leave out: those whose
    test has p ≤ verdict_watch in a school whose verdict of that year is «выявлены». `verdicts`: one
    frame of compute_verdicts or a list of them (one per year)."""
    frames = verdicts if isinstance(verdicts, list) else [verdicts]
    keys = ["year", "procedure", "school_id", "subject", "grade"]
    named = [f.loc[f["verdict"] == FLAGGED, ["year", "school_id"]] for f in frames if len(f)]
    named = [f for f in named if len(f)]
    if not named or not len(tests):
        return pd.DataFrame({k: pd.Series(dtype=object) for k in keys})
    named = pd.concat(named)
    # (year, school) pairs as one integer each: a membership test over the region's tests, not a tuple per row
    span = int(max(named["school_id"].max(), tests["school_id"].max())) + 1
    flagged = named["year"].to_numpy(dtype=np.int64) * span + named["school_id"].to_numpy(dtype=np.int64)
    # the school's leniency (one test per school and year, on its largest work) says nothing of that work
    t = tests[(tests["p"] <= thresholds["verdict_watch"]) & tests["grade"].notna()
              & ~((tests["sign"] == LENIENT[0]) & (tests["kind"] == LENIENT[1]))]
    mine = np.isin(t["year"].to_numpy(dtype=np.int64) * span + t["school_id"].to_numpy(dtype=np.int64), flagged)
    out = t.loc[mine, keys].drop_duplicates().reset_index(drop=True)
    out["grade"] = out["grade"].astype(int)
    return out

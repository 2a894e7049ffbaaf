"""K4 per pupil: the shape that added term marks leave, which an honest school's own marking habit does not.

K4's counts («понизили», «повысили», «понизили на две отметки») read how many pupils' term marks disagree with their
work marks. Honest schools differ in their habits (a strict or a lenient teacher moves every pupil a little), and a
school that adds a mark to a share of its pupils moves those counts by about as much as a habit does. The two differ
in shape: a habit moves a pupil across a boundary mostly near it, an added mark lifts a pupil by a whole mark
wherever he stands in his band — pupils low in their band then hold a term mark the region rarely gives at their
score, and the rest keep theirs. Per unit (school × work), from the region's own data:

1. per work, the region's model of the term mark T ∈ {2, 3, 4, 5} given the work's score share s and mark m:
   cumulative logits  logit P(T ≥ k) = α_k + β₁(s − ½) + β₂(s − ½)² + γ·[m ≥ k] + δ_unit,  δ the unit's own
   habit (a shift of all its pupils' odds; a weak N(0, 1.5²) prior keeps a class whose pupils all hold «5» finite),
   fitted over the cells (unit, score, term mark) with their counts — Fisher scoring with step halving for the works'
   parameters, Newton steps for δ, alternated;
   A school's habit is one over all its works, unless the data say otherwise (`_school_habits`): the units' δ
   relative to their work, pooled per school and shrunk to the region's spread of school habits, each work's
   deviation from its school's habit shrunk to the spread of such deviations (both spreads by the method of
   moments, robustly) — where a school's works mark alike only one habit per school is taken out of the statistic
   below, where each subject and grade has a teacher of its own each unit keeps its own;
2. per unit the log-likelihood ratio of «a share π₀ = 0.3 of the pupils were given one mark more» against «none»,
   ℓ = log(1 − π₀ + π₀·Q(T)/P(T)), Q(t) = P(t − 1) (Q(5) = P(4) + P(5): a «5» stays «5»; Q(2) = 0), summed over
   the unit's pupils with its projection on the habit's score taken out (Neyman's orthogonal score: a uniformly
   lenient school is not a shape, and the estimated δ does not leak into the statistic) — the school's projection
   (its units' covariances over their informations, summed over its works) as far as its works share a habit, the
   unit's own as far as they do not;
3. its upper tail under the model: Lugannani–Rice's saddlepoint for a sum of independent discrete pupils (the normal
   gave 1.2 % of clean tests at p ≤ 0.001 in classes of 8–12), the exact product at the largest possible sum;
4. against the work's own units (Efron's empirical null, as K1, K2 and K5; `sign_tests.shape_p`): the unit's excess
   per pupil — the saddlepoint's z times the statistic's sd per pupil — referred to the units' median and robust
   spread with Student's t (`_against_region`). A model that misdescribes honest teachers by the same amount per
   pupil in every school (`synthetic.py`'s teacher moves a tenth of the pupils a mark up wherever they stand: by
   itself 12 % of clean tests of 60–120 at p ≤ 0.05) moves the median, not the schools.

Units of fewer than MIN_PUPILS pupils with term marks are not tested (classes of 8–12: 10 % of clean tests at
p ≤ 0.05 even against the work's units, and no power). The only Python loops are over the works and fixed
iteration counts; everything else is over arrays of cells (`bench/k4_pupil_study.py` measures the variants).
"""

from typing import NamedTuple

import numpy as np

from app.analysis.methods.tails import normal_isf, normal_sf


class Model(NamedTuple):
    shifts: tuple = (0,)  # steps γ of logit P(T ≥ k) where the work's mark reaches k + shift
    powers: int = 2  # powers of the score's share
    rounds: int = 1  # with refits: fits, each without the units at p ≤ OUT_P in the last (tried: worse)
    refits: int = 0  # alternations of θ over all cells with the units' δ as offsets (3 s at region scale each 4)

    @property
    def parameters(self) -> int:
        return 3 + self.powers + len(self.shifts)


MODEL = Model()


class Shape(NamedTuple):
    p: np.ndarray  # under the fitted model alone (the saddlepoint)
    excess: np.ndarray  # per pupil: what sign_tests.shape_p refers to the work's own units
    variance: np.ndarray
    above: np.ndarray
    expected: np.ndarray
    lenient: np.ndarray = None  # per unit: its school's leniency z over all its works (`_school_habits`), else NaN
PI0 = 0.3  # the alternative's share of pupils given a mark more (planted inflation adds one to 25–45 %)
PRIOR_SD = 1.5  # logits: the prior of a unit's habit δ (honest habits spread ≈ 0.35)
OUT_P = 0.01
FIRST_STEPS = 8  # Fisher-scoring steps of the works' θ on the region's table
HABIT_STEPS = 4  # Newton steps of the units' δ (one parameter each, and a prior)
MIN_UNITS = 10  # units with term marks in a work, at least, for its model and its empirical null
MIN_PUPILS = 15  # pupils with term marks in a unit, at least, for its test
HABIT_OF = "school"  # "school": δ one per school over its works (shrunk, `_school_habits`); "unit": each its own
TAU_E2 = None  # the works' deviations' variance from a school's habit, if fixed (None: from the data)
PROJECT = 1.0  # the share of the school habit's score taken out (bench/verdict_k4school.py: less found fewer)


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _work_cells(cells, a: int, b: int, mark_min):
    """One work's cells (row_stats.term_cells' slice a:b) as the arrays the model reads: unit, score, work mark, term
    0..3 as int64 and count as float, as they were made over the whole region at once."""
    unit, score, term, count = cells
    u, s, t = unit[a:b].astype(np.int64), score[a:b].astype(np.int64), term[a:b].astype(np.int64)
    with np.errstate(invalid="ignore"):
        mark = 2 + (s[:, None] >= mark_min[u]).sum(axis=1)  # NaN (no pupil with that mark) compares False
    return u, s, mark, t, count[a:b].astype(float)


RIDGE = 1e-3


def _design(share, mark, model) -> np.ndarray:
    """(cells, 3 thresholds, parameters) of logit P(T ≥ k) = α_k + Σ_j β_j(s − ½)^j + Σ γ_shift·[m ≥ k + shift]: the
    term mark follows the pupil's knowledge, which the score measures (β), and the work's mark (γ: a teacher who
    marks as the work did puts a pupil with the work's «4» at «4», rarely «3» or «5», never «2»)."""
    cells = len(share)
    npar = model.parameters
    z = np.zeros((cells, 3, npar))
    z[:, :, :3] = np.eye(3)[None]
    c = share - 0.5
    for j in range(model.powers):
        z[:, :, 3 + j] = (c ** (j + 1))[:, None]
    k = np.array([3, 4, 5])[None, :]
    for j, shift in enumerate(model.shifts):
        z[:, :, 3 + model.powers + j] = mark[:, None] >= k + shift
    return z


def fit_works(z, w, u, t, count, delta, theta, fitted, steps: int = 3):
    """Fisher-scoring steps of each fitted work's θ with the units' δ as offsets: a loop over the works (a few
    dozen), each step over its cells as arrays."""
    nw = len(theta)
    order = np.argsort(w, kind="stable")
    bounds = np.searchsorted(w[order], np.arange(nw + 1))
    for k in np.flatnonzero(fitted).tolist():
        at = order[bounds[k]:bounds[k + 1]]
        zk, tk, ck, off = z[at], t[at], count[at], delta[u[at]]
        npar = zk.shape[2]
        flat = zk.reshape(-1, npar)
        r = np.arange(len(at))

        def loglik(th, flat=flat, tk=tk, ck=ck, off=off, r=r):
            f = np.ones((len(tk), 5))
            f[:, 1:4] = _sig((flat @ th).reshape(-1, 3) + off[:, None])
            f[:, 4] = 0.0
            return float((ck * np.log(np.maximum(f[r, tk] - f[r, tk + 1], 1e-300))).sum()) - 0.5 * RIDGE * th @ th, f

        current, f = loglik(theta[k])
        for _ in range(steps):
            d = f * (1.0 - f)
            prob = np.maximum(f[:, :4] - f[:, 1:], 1e-12)  # (cells, 4)
            # dP_t/dθ = d_t·z_t − d_{t+1}·z_{t+1} (z of the thresholds T ≥ t, T ≥ t + 1; none for T ≥ 2, T ≥ 6)
            zt = np.zeros((len(at), 5, npar))
            zt[:, 1:4] = zk * d[:, 1:4, None]
            jac = zt[:, :4] - zt[:, 1:]  # (cells, 4, parameters)
            grad = (ck / prob[r, tk]) @ jac[r, tk]
            # Fisher scoring: the expected information Σ_t J_t J_tᵀ / P_t, stable where BHHH's outer products of
            # the observed gradients were not (a work whose term marks follow its marks exactly); a step that does
            # not raise the likelihood is halved (a work where the marks separate the term marks drifts otherwise)
            jac2 = jac.reshape(-1, npar)
            info = (jac2 * (ck[:, None] / prob).reshape(-1, 1)).T @ jac2 + RIDGE * np.eye(npar)
            step = np.clip(np.linalg.solve(info, grad - RIDGE * theta[k]), -2.0, 2.0)
            for _ in range(8):
                trial, f_trial = loglik(theta[k] + step)
                if trial >= current:
                    theta[k], current, f = theta[k] + step, trial, f_trial
                    break
                step = 0.5 * step
    return theta


def _probabilities(eta):
    """(P of T = 2..5, dP/dδ) from the three cumulative logits (cells, 3)."""
    f = np.ones((len(eta), 5))
    f[:, 1:4] = _sig(eta)
    f[:, 4] = 0.0
    d = f * (1.0 - f)
    return np.maximum(f[:, :4] - f[:, 1:], 1e-12), d[:, :4] - d[:, 1:]


def _linear(z, theta, w) -> np.ndarray:
    """(cells, 3): each cell's three cumulative logits under its work's θ (without δ)."""
    return (z * theta[w][:, None, :]).sum(axis=2)


def habits(base, u, t, count, nu: int, delta=None, steps: int = 3) -> np.ndarray:
    """δ per unit: the shift of every pupil's cumulative logits that makes the unit's term marks likeliest (Newton,
    vectorised over the cells; the weak prior keeps a class whose pupils all hold «5» finite)."""
    delta = np.zeros(nu) if delta is None else delta
    rows = np.arange(len(t))
    for _ in range(steps):
        prob, dprob = _probabilities(base + delta[u][:, None])
        score = dprob[rows, t] / prob[rows, t]
        info = (dprob * dprob / prob).sum(axis=1)
        g = np.bincount(u, weights=count * score, minlength=nu) - delta / PRIOR_SD ** 2
        h = np.bincount(u, weights=count * info, minlength=nu) + 1.0 / PRIOR_SD ** 2
        delta = delta + np.clip(g / h, -2.0, 2.0)
    return delta


SADDLE_Z = 1.0  # units whose normal z is above this get the saddlepoint tail (the rest: the normal, p > 0.16)
SADDLE_STEPS = 12  # safeguarded Newton steps: quadratic, so a dozen reach the saddlepoint


def _saddlepoint(x, prob, unit, observed, nu: int, count):
    """P(Σ X ≥ observed) per unit, X_i independent with values x (cells, 4) and probabilities prob (E X = 0):
    the normal where z ≤ SADDLE_Z, else Lugannani–Rice (its θ by Newton's steps kept inside a bracket: K′ is
    increasing), and the exact product of the pupils' chances where the observed sum is the largest possible."""
    variance = np.maximum(np.bincount(unit, weights=count * (prob * x * x).sum(axis=1), minlength=nu), 1e-300)
    z = observed / np.sqrt(variance)
    p = normal_sf(z)
    far = z > SADDLE_Z
    if not far.any():
        return p
    keep = far[unit]
    x, prob, count = x[keep], prob[keep], count[keep]
    units = np.flatnonzero(far)
    local = np.searchsorted(units, unit[keep])
    m, obs = len(units), observed[units]

    def cgf(th):
        a = th[local][:, None] * x
        top = a.max(axis=1, keepdims=True)
        e = prob * np.exp(a - top)
        total = e.sum(axis=1)
        weights = e / total[:, None]
        m1 = (weights * x).sum(axis=1)
        m2 = (weights * x * x).sum(axis=1) - m1 * m1
        return (np.bincount(local, weights=count * (top[:, 0] + np.log(total)), minlength=m),
                np.bincount(local, weights=count * m1, minlength=m),
                np.maximum(np.bincount(local, weights=count * m2, minlength=m), 1e-300))

    largest = np.bincount(local, weights=count * x.max(axis=1), minlength=m)
    at_top = np.abs(x - x.max(axis=1, keepdims=True)) <= 1e-9
    exact = np.exp(np.bincount(local, weights=count * np.log((prob * at_top).sum(axis=1)), minlength=m))
    inside = obs < largest - 1e-9
    lo, hi = np.zeros(m), np.full(m, np.inf)
    th = obs / variance[units]
    for _ in range(SADDLE_STEPS):
        _k0, k1, k2 = cgf(th)
        below = k1 < obs
        lo, hi = np.where(below, th, lo), np.where(below, hi, th)
        step = th + (obs - k1) / k2
        bisect = np.where(np.isfinite(hi), 0.5 * (lo + hi), 2.0 * th + 1.0)
        th = np.where((step > lo) & (step < hi) & np.isfinite(step), step, bisect)
        th = np.where(inside, th, 0.0)
    k0, _k1, k2 = cgf(th)
    w = np.sign(th) * np.sqrt(np.maximum(2.0 * (th * obs - k0), 0.0))
    v = th * np.sqrt(k2)
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = normal_sf(w) + np.exp(-0.5 * w * w) / np.sqrt(2.0 * np.pi) * (1.0 / v - 1.0 / w)
    tail = np.where(inside, tail, exact)
    p[units] = np.clip(np.nan_to_num(tail, nan=p[units]), 1e-300, 1.0)
    return p


def _parts(base, delta, u, count, nu: int):
    """(P per cell, the habit's score per cell and term mark, the centred log-likelihood ratio, the unit's covariance
    of the two and the habit's information) at the habits `delta`."""
    prob, dprob = _probabilities(base + delta[u][:, None])
    habit = dprob / prob  # the habit's score per possible term mark
    lifted = np.zeros_like(prob)
    lifted[:, 1:] = prob[:, :-1]
    lifted[:, 3] += prob[:, 3]
    ratio = np.log(1.0 - PI0 + PI0 * lifted / prob)
    ratio = ratio - (prob * ratio).sum(axis=1)[:, None]
    cov = np.bincount(u, weights=count * (prob * ratio * habit).sum(axis=1), minlength=nu)
    info = np.bincount(u, weights=count * (prob * habit * habit).sum(axis=1), minlength=nu)
    return prob, habit, ratio, cov, info


def _statistic(base, delta, u, t, count, nu: int, slope=None):
    """(P per cell, the centred log-likelihood ratio per cell and term mark orthogonal to the habit, its sum per
    unit at the observed marks). `slope`: the part of the habit's score taken out per unit, if not the unit's own
    projection (the school's habit, `_school_habits`)."""
    prob, habit, ratio, cov, info = _parts(base, delta, u, count, nu)
    if slope is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.where(info > 0, cov / info, 0.0)
    x = ratio - slope[u][:, None] * habit  # centred and orthogonal to the habit
    observed = np.bincount(u, weights=count * x[np.arange(len(t)), t], minlength=nu)
    return prob, x, observed


def _excess(p, x, prob, u, count, nu: int):
    """(excess per pupil, its sampling variance) per unit: the saddlepoint's z times the statistic's sd per pupil —
    what sign_tests refers to the work's own units (step 4), the skew of small classes already taken into account."""
    pupils = np.bincount(u, weights=count, minlength=nu)
    variance = np.bincount(u, weights=count * (prob * x * x).sum(axis=1), minlength=nu)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = variance / pupils ** 2
        d = normal_isf(np.clip(p, 1e-300, 1.0)) * np.sqrt(v)
    return np.where(np.isnan(p), np.nan, d), np.where(np.isnan(p), np.nan, v)


def shape_tests(cells, unit_work, work_max, mark_min, nw: int, model=None, school=None):
    """Per unit (Shape): the p of the shape test under the model, NaN where the work has too few units or the unit
    too few pupils; its excess per pupil and that's sampling variance (sign_tests refers them to the work's units);
    the pupils with a term mark above the most likely one at their score in the unit's own habit, and their expected
    number under that habit. `cells`: row_stats.term_cells' (unit, score, term − 2, count), work by work."""
    model = model or MODEL
    nu = len(unit_work)
    empty = Shape(np.full(nu, np.nan), np.full(nu, np.nan), np.full(nu, np.nan), np.zeros(nu), np.zeros(nu),
                  np.full(nu, np.nan))
    if not nu:
        return empty
    # Work by work throughout: the cells of a work are one slice, so no array over the region's cells is made (the
    # cells' unit, work, score, mark, term and count as int64 and floats, with the table's key and index, were the
    # combining job's peak at 16× a region: ≈ 35 MB beside its 10 MB of dense counts)
    per_unit = np.bincount(cells[0], minlength=nu)
    units_of_work = np.bincount(unit_work[per_unit > 0], minlength=nw)
    fitted = units_of_work >= MIN_UNITS
    bounds = np.zeros(nw + 1, dtype=np.int64)
    np.add.at(bounds, unit_work + 1, per_unit)
    bounds = np.cumsum(bounds)
    del per_unit
    # the works' parameters first from the region's table (work, score, mark, term) — a few thousand rows, not one
    # per unit and score (the units' habits averaged over: at region scale the alternation over 200,000 cells was
    # 3 s of the analysis' 0.5 s) —, then each unit's habit δ, then `model.refits` alternations with δ as offsets;
    # a work's rows of the table by its cells' key (score, mark, term) sorted, the works in order: the table's rows
    # by (work, score, mark, term), the counts added exactly (integers)
    tables = {}
    for k in np.flatnonzero(fitted).tolist():
        _u, score, mark, t, count = _work_cells(cells, bounds[k], bounds[k + 1], mark_min)
        keys, where = np.unique((score * 6 + np.clip(mark, 0, 5)) * 4 + t, return_inverse=True)
        tables[k] = (keys, np.bincount(where, weights=count))
    if not any(len(keys) for keys, _weight in tables.values()):
        return empty
    table = np.concatenate([keys for keys, _weight in tables.values()])
    w = np.concatenate([np.full(len(keys), k, dtype=np.int64) for k, (keys, _weight) in tables.items()])
    weight_table = np.concatenate([weight for _keys, weight in tables.values()])
    offsets = dict(zip(tables, np.cumsum([0] + [len(keys) for keys, _weight in tables.values()])[:-1].tolist()))
    score, mark, t = table // 24, table // 4 % 6, table % 4
    theta = np.zeros((nw, model.parameters))
    for k in range(3):  # the thresholds start at each work's share of T ≥ k
        share = np.bincount(w, weights=weight_table * (t >= k + 1), minlength=nw) / np.maximum(
            np.bincount(w, weights=weight_table, minlength=nw), 1.0)
        share = np.clip(share, 0.01, 0.99)
        theta[:, k] = np.log(share / (1.0 - share))
    # the design only for the table's rows: over every cell it was (cells × 3 × parameters) floats, the combining
    # job's largest array at 16× a region (≈ 144 bytes a cell)
    z_table = _design(score / np.maximum(work_max[w], 1.0), mark, model)
    theta = fit_works(z_table, w, np.zeros(len(table), dtype=np.int64), t, weight_table, np.zeros(1), theta, fitted,
                      steps=FIRST_STEPS)
    linear = _linear(z_table, theta, w)  # the logits depend on (work, score, mark) alone
    del z_table
    # From here on each work stands alone (its θ, its units' habits and tests): the arrays over cells
    # (probabilities, ratios, the saddlepoint's) are as large as the largest work's, not the region's — over all
    # cells they were the combining job's peak (≈ 150 MB at 16× a region)
    out = empty._replace(above=np.zeros(nu), expected=np.zeros(nu))

    def works():
        """Per fitted work with units: (k, its units, the cells' logits without δ, unit within the work, term,
        count, unit, score, mark)."""
        for k, (keys, _weight) in tables.items():
            if not len(keys):
                continue
            u, score, mark, t, count = _work_cells(cells, bounds[k], bounds[k + 1], mark_min)
            where = offsets[k] + np.searchsorted(keys, (score * 6 + np.clip(mark, 0, 5)) * 4 + t)
            units, local = np.unique(u, return_inverse=True)
            yield k, units, linear[where], local, t, count, u, score, mark

    if school is not None and HABIT_OF == "school" and not model.refits:
        delta, slope, out.lenient[:] = _school_habits(works, school, unit_work, nu)
        for _k, units, base, local, t, count, *_rest in works():
            prob, x, observed = _statistic(base, delta[units], local, t, count, len(units), slope[units])
            for name, values in zip(Shape._fields, _tests(prob, x, observed, local, t, count, len(units))):
                getattr(out, name)[units] = values
        return out
    for k, units, base, local, t, count, _u, score, mark in works():
        z = _design(score / max(work_max[k], 1.0), mark, model) if model.refits else None
        for name, values in zip(Shape._fields, _work_shape(base, local, t, count, len(units), model, z,
                                                           theta[k:k + 1])):
            getattr(out, name)[units] = values
    return out


def _robust_var(values) -> float:
    """The squared normal-consistent MAD of `values` about their median (a few inflating schools do not widen it)."""
    if not len(values):
        return 0.0
    return float((1.4826 * np.median(np.abs(values - np.median(values)))) ** 2)


def _school_habits(works, school, unit_work, nu: int):
    """(δ per unit, the slope of the habit's score taken out per unit) with the habit one per school over its works,
    shrunk to the region's spread of school habits (empirical Bayes), each work's deviation from it shrunk to the
    spread of such deviations — both spreads by the method of moments on the units' own δ (robust: the median
    absolute deviation, less the median sampling variance). Where the works' deviations are noise (one habit per
    school, as `bench/verdict_oos.py`'s generator has it) the shape loses one habit per school, not one per work;
    where they are real (a teacher of each subject and grade) k → 1 and each unit keeps its own projection."""
    own = np.zeros(nu)
    precision = np.zeros(nu)
    for _k, units, base, local, t, count, *_rest in works():
        d = habits(base, local, t, count, len(units), None, steps=HABIT_STEPS)
        own[units] = d
        _prob, _habit, _ratio, _cov, info = _parts(base, d, local, count, len(units))
        precision[units] = info
    has = precision > 0
    # δ relative to its work's units (the works' θ were fitted without δ: their centre need not be 0)
    centre = np.zeros(nu)
    for w in np.unique(unit_work[has]):
        at = has & (unit_work == w)
        centre[at] = np.average(own[at], weights=precision[at])
    d = np.where(has, own - centre, 0.0)
    key = np.unique(school, return_inverse=True)[1]
    ns = int(key.max()) + 1 if nu else 0
    sp = np.bincount(key, weights=precision, minlength=ns)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.bincount(key, weights=precision * d, minlength=ns) / sp
        var_unit = np.where(has, 1.0 / precision, np.inf)
    schools_with = sp > 0
    tau_s2 = max(_robust_var(mean[schools_with]) - float(np.median(1.0 / sp[schools_with])), 1e-4) \
        if schools_with.any() else 1e-4
    units_of = np.bincount(key[has], minlength=ns)
    several = has & (units_of[key] >= 2)
    tau_e2 = max(_robust_var((d - mean[key])[several]) - float(np.median((var_unit - 1.0 / sp[key])[several])),
                 1e-4) if several.any() else 1e-4
    if TAU_E2 is not None:
        tau_e2 = TAU_E2
    weight = np.where(has, 1.0 / (var_unit + tau_e2), 0.0)
    habit_s = np.bincount(key, weights=weight * d, minlength=ns) / (np.bincount(key, weights=weight, minlength=ns)
                                                                    + 1.0 / tau_s2)
    k = np.where(has, tau_e2 / (tau_e2 + var_unit), 1.0)
    delta = centre + habit_s[key] + k * (d - habit_s[key])
    cov, info = np.zeros(nu), np.zeros(nu)
    for _k, units, base, local, _t, count, *_rest in works():
        _prob, _habit, _ratio, c, i = _parts(base, delta[units], local, count, len(units))
        cov[units], info[units] = c, i
    with np.errstate(divide="ignore", invalid="ignore"):
        own_slope = np.where(info > 0, cov / info, 0.0)
        school_info = np.bincount(key, weights=info, minlength=ns)
        school_slope = np.where(school_info > 0, np.bincount(key, weights=cov, minlength=ns) / school_info, 0.0)
    # the school's leniency: its habit over all its works against the region's schools' (their median and spread
    # τ_s, the habit's own sampling variance 1/Σ information added) — one z per school, independent of the shape's
    # statistic under an honest school (that is orthogonal to the habit's score)
    with np.errstate(divide="ignore", invalid="ignore"):
        middle = float(np.median(mean[schools_with])) if schools_with.any() else 0.0
        lenient = (mean - middle) / np.sqrt(tau_s2 + 1.0 / sp)
    lenient = np.where(schools_with, lenient, np.nan)[key]
    return delta, k * own_slope + (1.0 - k) * PROJECT * school_slope[key], np.where(has, lenient, np.nan)


def _tests(prob, x, observed, u, t, count, nu: int) -> tuple:
    """Shape's fields per unit of one work from its statistic: the saddlepoint's p, the excess and its variance, the
    pupils above the likeliest term mark and their expected number."""
    p = np.full(nu, np.nan)
    tested = np.bincount(u, weights=count, minlength=nu) >= MIN_PUPILS
    p[tested] = _saddlepoint(x, prob, u, observed, nu, count)[tested]
    excess, variance = _excess(p, x, prob, u, count, nu)
    mode = prob.argmax(axis=1)
    above = np.bincount(u, weights=count * (t > mode), minlength=nu)
    beyond = np.cumsum(prob[:, ::-1], axis=1)[:, ::-1]  # P(T ≥ j)
    tail = np.where(mode < 3, np.take_along_axis(beyond, np.minimum(mode + 1, 3)[:, None], axis=1)[:, 0], 0.0)
    expected = np.bincount(u, weights=count * tail, minlength=nu)
    return p, excess, variance, above, expected


def _work_shape(base, u, t, count, nu: int, model, z, theta) -> tuple:
    """One work's shape tests (Shape's fields, per unit of the work): its units' habits δ, then the statistic and
    its tail; with `model.refits`, the work's θ refitted with δ as offsets, each round without the units far out
    in the last (a few inflating schools would teach the model that a mark added anywhere in the band is usual)."""
    w = np.zeros(len(u), dtype=np.int64)
    delta = habits(base, u, t, count, nu, None, steps=HABIT_STEPS)
    weight = count.copy()
    out = np.zeros(nu, dtype=bool)
    for _round in range(model.rounds):
        for _ in range(model.refits):
            theta = fit_works(z, w, u, t, weight, delta, theta, np.ones(1, dtype=bool))
            base = _linear(z, theta, w)
            delta = habits(base, u, t, count, nu, delta)
        prob, x, observed = _statistic(base, delta, u, t, count, nu)
        result = _tests(prob, x, observed, u, t, count, nu)
        now = ~np.isnan(result[0]) & (result[0] <= OUT_P)
        if (now == out).all() or not model.refits:
            break
        out = now
        weight = np.where(out[u], 0.0, count)
    return result

"""Tail probabilities the verdicts need, without scipy: exact binomial upper tails (by a log-factorial
table, vectorised over thousands of units) and the standard normal tail and its inverse (the numbers of
statistics.NormalDist).

All functions take and return numpy arrays; NaN in, NaN out."""

import math

import numpy as np

_ERF = np.frompyfunc(math.erf, 1, 1)
_LOG = np.frompyfunc(math.log, 1, 1)  # the C library's log, as statistics uses it (numpy's may round differently)
_ERFC = np.frompyfunc(math.erfc, 1, 1)
_SQRT2 = math.sqrt(2.0)
_FAR_Z = 5.0  # beyond it the normal tail is taken from erfc (see _normal_cdf_tail)
_TINY = float(np.finfo(float).tiny)
# The rational approximations of NormalDist.inv_cdf (Wichura 1988, AS241; CPython's statistics module), highest
# power first: evaluated here over whole arrays with the same operations in the same order, so the same numbers
# as calling it per element (the per-element calls were a tenth of the verdicts' time).
_CENTRAL = ((2.50908_09287_30122_6727e+3, 3.34305_75583_58812_8105e+4, 6.72657_70927_00870_0853e+4,
             4.59219_53931_54987_1457e+4, 1.37316_93765_50946_1125e+4, 1.97159_09503_06551_4427e+3,
             1.33141_66789_17843_7745e+2, 3.38713_28727_96366_6080e+0),
            (5.22649_52788_52854_5610e+3, 2.87290_85735_72194_2674e+4, 3.93078_95800_09271_0610e+4,
             2.12137_94301_58659_5867e+4, 5.39419_60214_24751_1077e+3, 6.87187_00749_20579_0830e+2,
             4.23133_30701_60091_1252e+1, 1.0))
_NEAR = ((7.74545_01427_83414_07640e-4, 2.27238_44989_26918_45833e-2, 2.41780_72517_74506_11770e-1,
          1.27045_82524_52368_38258e+0, 3.64784_83247_63204_60504e+0, 5.76949_72214_60691_40550e+0,
          4.63033_78461_56545_29590e+0, 1.42343_71107_49683_57734e+0),
         (1.05075_00716_44416_84324e-9, 5.47593_80849_95344_94600e-4, 1.51986_66563_61645_71966e-2,
          1.48103_97642_74800_74590e-1, 6.89767_33498_51000_04550e-1, 1.67638_48301_83803_84940e+0,
          2.05319_16266_37758_82187e+0, 1.0))
_FAR = ((2.01033_43992_92288_13265e-7, 2.71155_55687_43487_57815e-5, 1.24266_09473_88078_43860e-3,
         2.65321_89526_57612_30930e-2, 2.96560_57182_85048_91230e-1, 1.78482_65399_17291_33580e+0,
         5.46378_49111_64114_36990e+0, 6.65790_46435_01103_77720e+0),
        (2.04426_31033_89939_78564e-15, 1.42151_17583_16445_88870e-7, 1.84631_83175_10054_68180e-5,
         7.86869_13114_56132_59100e-4, 1.48753_61290_85061_48525e-2, 1.36929_88092_27358_05310e-1,
         5.99832_20655_58879_37690e-1, 1.0))


def _horner(coefficients, r: np.ndarray) -> np.ndarray:
    out = coefficients[0] * r + coefficients[1]
    for c in coefficients[2:]:
        out = out * r + c
    return out


def _inv_cdf(p: np.ndarray) -> np.ndarray:
    """NormalDist().inv_cdf of each p in (0, 1), elementwise."""
    q = p - 0.5
    x = np.empty(len(p))
    central = np.abs(q) <= 0.425
    qc = q[central]
    r = 0.180625 - qc * qc
    x[central] = (_horner(_CENTRAL[0], r) * qc) / _horner(_CENTRAL[1], r)
    tail = ~central
    qt = q[tail]
    r = np.sqrt(-_LOG(np.where(qt <= 0.0, p[tail], 1.0 - p[tail])).astype(float))
    near = r <= 5.0
    xt = np.empty(len(r))
    rn = r[near] - 1.6
    xt[near] = _horner(_NEAR[0], rn) / _horner(_NEAR[1], rn)
    rf = r[~near] - 5.0
    xt[~near] = _horner(_FAR[0], rf) / _horner(_FAR[1], rf)
    x[tail] = np.where(qt < 0.0, -xt, xt)
    return 0.0 + x * 1.0  # mu + x · sigma, as the library returns it


def _log_factorials(n: int) -> np.ndarray:
    """log(k!) for k = 0..n, by a cumulative sum of logs (exact enough: relative error ~1e-15 per term)."""
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=float)))])


def binom_sf(k, n, p) -> np.ndarray:
    """P(X ≥ k) for X ~ Binomial(n, p), elementwise. k ≤ 0 gives 1, k > n gives 0; NaN where p or n is NaN.

    Summed exactly over the upper tail in log space (every unit's pmf at once on a padded grid of
    0..max n), so a class of 8 and a class of 120 are judged by the same exact law. The log binomial
    coefficients are a table per n (a region's units share a few dozen sizes), and the pmf is taken only
    in the tail cells the sum uses."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    p = np.asarray(p, dtype=float)
    k, n, p = np.broadcast_arrays(k, n, p)
    out = np.full(k.shape, np.nan)
    ok = ~(np.isnan(k) | np.isnan(n) | np.isnan(p)) & (n >= 0)
    if not ok.any():
        return out
    kk, nn, pp = np.ceil(k[ok]), n[ok].astype(np.int64), np.clip(p[ok], 0.0, 1.0)
    top = int(nn.max())
    lf = _log_factorials(top)
    grid = np.arange(top + 1)
    sizes = np.arange(top + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = lf[sizes][:, None] - lf[grid][None, :] - lf[np.clip(sizes[:, None] - grid[None, :], 0, top)]
    res = np.empty(len(nn))
    for a, b in _blocks(len(nn), top + 1):
        res[a:b] = _binom_tail(kk[a:b], nn[a:b], pp[a:b], table, grid)
    out[ok] = res
    return out


CELLS = 1 << 18  # the tails' grids are computed this many cells (units × counts) at a time


def _blocks(rows: int, width: int):
    """(start, end) of consecutive row blocks of at most CELLS cells of `width`: the tails' memory is a block's,
    not a region's units × its largest class (50,000 units × 200 participants made matrices of 80 MB each). Every
    row is computed on the same grid in any block, so the numbers are the same to the last bit."""
    step = max(1, CELLS // max(width, 1))
    for start in range(0, rows, step):
        yield start, min(start + step, rows)


def _binom_tail(kk, nn, pp, table, grid) -> np.ndarray:
    """binom_sf's sum for a block of rows (table: log binomial coefficients per n and count; grid: 0..max n)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logpmf = table[nn] + grid[None, :] * np.log(pp)[:, None] + (nn[:, None] - grid[None, :]) * np.log1p(
            -pp)[:, None]
    # 0·log 0 = 0 (p = 0 or 1): the pmf is then a point mass
    rows = np.flatnonzero(pp == 0)
    logpmf[rows, 0] = 0.0
    rows = np.flatnonzero(pp == 1)
    logpmf[rows, nn[rows]] = 0.0
    logpmf[np.isnan(logpmf)] = -np.inf
    use = (grid[None, :] >= kk[:, None]) & (grid[None, :] <= nn[:, None])
    pmf = np.zeros(logpmf.shape)
    np.exp(logpmf, out=pmf, where=use)
    return np.clip(pmf.sum(axis=1), 0.0, 1.0)


def binom_midp(k, n, p, sf=None) -> np.ndarray:
    """The mid-p of an observed k: P(X > k) + ½·P(X = k) = ½·(P(X ≥ k) + P(X ≥ k + 1)), elementwise.

    For combining many small discrete tests by Stouffer's method: the exact tail of a class where nothing
    happened is 1 (k = 0 is certain to be reached), which Stouffer reads as z ≈ −8 and which then buries the
    school's other works; the mid-p's z has mean ≈ 0 and variance ≤ 1 under the null (Lancaster 1961), so
    the sum stays honest without that penalty. Not for a single test's own p (which stays the exact tail)."""
    k = np.asarray(k, dtype=float)
    # `sf`: P(X ≥ k) when the caller has it already (one binomial sum fewer)
    return 0.5 * ((binom_sf(k, n, p) if sf is None else sf) + binom_sf(k + 1, n, p))


VALUES = 1 << 15  # the normal tails take this many values at a time: their Python-float steps (erf, log) make an
# object a value, 32 bytes each, which over a region's 130,000 tests were the verdicts' peak (bench/analysis.py --scale)


def _elementwise(function, values: np.ndarray) -> np.ndarray:
    """function(values) computed VALUES at a time (an elementwise function: the same numbers in any block)."""
    if len(values) <= VALUES:
        return function(values)
    out = np.empty(len(values))
    for start in range(0, len(values), VALUES):
        out[start:start + VALUES] = function(values[start:start + VALUES])
    return out


def _normal_cdf_tail(v: np.ndarray) -> np.ndarray:
    x = np.where(v < 0, v, -v)
    cdf = 0.5 * (1.0 + _ERF(x / _SQRT2).astype(float))
    # Far out, 1 + erf(x/√2) cancels to 0 (from |x| ≈ 8.3 every tail was 0, and a school's combined p printed «0»);
    # erfc keeps the tail to 1e-308, and the floor keeps it positive beyond (an upper bound, so conservative).
    # Within |x| ≤ 5 the numbers stay NormalDist's.
    far = x < -_FAR_Z
    if far.any():
        cdf[far] = np.maximum(0.5 * _ERFC(-x[far] / _SQRT2).astype(float), _TINY)
    return np.where(v < 0, 1.0 - cdf, cdf)


def normal_sf(z) -> np.ndarray:
    """P(Z ≥ z) for a standard normal Z, elementwise."""
    z = np.asarray(z, dtype=float)
    # NormalDist.cdf(x) is 0.5·(1 + erf(x / √2)), elementwise here with the same operations (same numbers); the
    # upper tail of a positive z as the lower tail of −z, as before
    out = np.full(z.shape, np.nan)
    ok = ~np.isnan(z)
    out[ok] = _elementwise(_normal_cdf_tail, z[ok])
    return out


def normal_isf(p) -> np.ndarray:
    """z with P(Z ≥ z) = p (the inverse of normal_sf); p is clipped to (1e-300, 1 − 1e-16)."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = -_elementwise(_inv_cdf, np.clip(p[ok], 1e-300, 1 - 1e-16))
    return out


_LGAMMA = np.frompyfunc(math.lgamma, 1, 1)


def _beta_cf(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The continued fraction of the regularised incomplete beta function (modified Lentz; Numerical Recipes
    §6.4), elementwise; converges fast for x < (a + 1) / (a + b + 2). Each step works on the elements not yet
    converged only (a large df needs a few hundred steps, most need a few dozen)."""
    tiny = 1e-300
    out = np.empty(x.shape)
    if not len(x):
        return out
    live = np.arange(len(x))
    a, b, x = a.copy(), b.copy(), x.copy()
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones(x.shape)
    d = 1.0 - qab * x / qap
    d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
    h = d.copy()
    for m in range(1, 1001):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
            c = 1.0 + aa / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            step = d * c
            h = h * step
        done = np.abs(step - 1.0) < 1e-15
        if done.any():
            out[live[done]] = h[done]
            keep = ~done
            live, a, b, x, qab, qap, qam, c, d, h = (v[keep] for v in (live, a, b, x, qab, qap, qam, c, d, h))
            if not len(live):
                return out
    out[live] = h
    return out


def beta_reg(a, b, x) -> np.ndarray:
    """The regularised incomplete beta function I_x(a, b), elementwise (0 < x < 1; 0 and 1 at the ends)."""
    a, b, x = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (a, b, x)))
    out = np.where(x <= 0, 0.0, 1.0)
    inner = (x > 0) & (x < 1)
    if not inner.any():
        return out
    a, b, x = a[inner], b[inner], x[inner]
    log_front = (_LGAMMA(a + b).astype(float) - _LGAMMA(a).astype(float) - _LGAMMA(b).astype(float)
                 + a * np.log(x) + b * np.log1p(-x))
    direct = x < (a + 1.0) / (a + b + 2.0)
    value = np.empty(len(x))
    value[direct] = np.exp(log_front[direct]) * _beta_cf(a[direct], b[direct], x[direct]) / a[direct]
    flip = ~direct
    value[flip] = 1.0 - np.exp(log_front[flip]) * _beta_cf(b[flip], a[flip], 1.0 - x[flip]) / b[flip]
    out[inner] = value
    return out


HILL_DF = 20  # from this many degrees of freedom the t tail by Hill's normalising transformation


def _hill_z(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    """The normal deviate with the upper tail of Student's t (Hill 1970, CACM Algorithm 395, its large-df
    branch): against the incomplete beta its tail is within a relative 10⁻⁴ for df ≥ 20 down to p ≈ 10⁻¹³
    (tests/test_analysis_verdicts.py), at the cost of a logarithm instead of a continued fraction."""
    a = df - 0.5
    b = 48.0 * a * a
    y = a * np.log1p(t * t / df)
    return (((((-0.4 * y - 3.3) * y - 24.0) * y - 85.5) / (0.8 * y * y + 100.0 + b) + y + 3.0) / b + 1.0) * np.sqrt(y)


def student_sf(t, df) -> np.ndarray:
    """P(T ≥ t) for Student's T with `df` degrees of freedom (any positive real; infinite: the normal tail),
    elementwise: ½·I_{df/(df+t²)}(df/2, ½) for t ≥ 0 by the continued fraction below HILL_DF degrees of
    freedom, Hill's transformation from there (a region's few thousand tests: the fraction's hundreds of steps at
    a large df were a tenth of the sign tests)."""
    t, df = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(df, dtype=float))
    out = np.full(t.shape, np.nan)
    ok = ~np.isnan(t) & ~np.isnan(df)
    normal = ok & np.isinf(df)
    out[normal] = normal_sf(t[normal])
    large = ok & ~np.isinf(df) & (df >= HILL_DF)
    if large.any():
        z = _hill_z(t[large], df[large])
        out[large] = np.where(t[large] >= 0, normal_sf(z), 1.0 - normal_sf(z))
    small = ok & (df < HILL_DF)
    if small.any():
        tt, nu = t[small], df[small]
        half = 0.5 * beta_reg(0.5 * nu, 0.5, nu / (nu + tt * tt))
        out[small] = np.where(tt >= 0, half, 1.0 - half)
    return out


def betabinom_sf(k, n, p, rho) -> np.ndarray:
    """P(X ≥ k) for X beta-binomial with n trials, mean chance p and intra-class correlation rho (the chance
    itself Beta(α, β) with α = p(1 − ρ)/ρ, β = (1 − p)(1 − ρ)/ρ: Var X = n p (1 − p)(1 + (n − 1)ρ)), elementwise;
    rho ≤ 0 (or NaN) is the binomial (binom_sf). For counts over a school's participants when honest schools
    differ in their own chance (their marking habits): the binomial's tail is then too thin in large classes.

    The pmf by its ratio of successive terms, summed as logs over a grid 0..max n (no log-gamma per cell):
    log P(0) = Σ_{j<n} log((β + j)/(α + β + j)), P(j + 1)/P(j) = (n − j)(α + j) / ((j + 1)(β + n − j − 1))."""
    k, n, p, rho = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (k, n, p, rho)))
    out = np.full(k.shape, np.nan)
    ok = ~(np.isnan(k) | np.isnan(n) | np.isnan(p)) & (n >= 0)
    plain = ok & ~(rho > 0)
    if plain.any():
        out[plain] = binom_sf(k[plain], n[plain], p[plain])
    over = ok & (rho > 0)
    if not over.any():
        return out
    kk, nn = np.ceil(k[over]), n[over].astype(np.int64)
    pp, rr = np.clip(p[over], 0.0, 1.0), np.clip(rho[over], 1e-12, 1.0 - 1e-9)
    res = np.where(kk <= 0, 1.0, np.where(kk > nn, 0.0, np.nan))
    # a chance of 0 or 1 is a point mass at 0 or n, whatever ρ
    res = np.where(np.isnan(res) & (pp <= 0), 0.0, res)
    res = np.where(np.isnan(res) & (pp >= 1), 1.0, res)
    live = np.flatnonzero(np.isnan(res))
    if len(live):
        kk, nn, pp, rr = kk[live], nn[live], pp[live], rr[live]
        top = int(nn.max())
        tail = np.empty(len(live))
        for a, b in _blocks(len(live), top + 1):
            tail[a:b] = _betabinom_tail(kk[a:b], nn[a:b], pp[a:b], rr[a:b], top)
        res[live] = tail
    out[over] = res
    return out


def _betabinom_tail(kk, nn, pp, rr, top: int) -> np.ndarray:
    """betabinom_sf's sum for a block of rows, on the grid 0..top (the largest n of all the rows)."""
    scale = (1.0 - rr) / rr
    a, b = (pp * scale)[:, None], ((1.0 - pp) * scale)[:, None]
    j = np.arange(top)[None, :]
    inside = j < nn[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        log0 = np.where(inside, np.log(b + j) - np.log(a + b + j), 0.0).sum(axis=1)
        step = np.where(inside, np.log(nn[:, None] - j) + np.log(a + j) - np.log(j + 1.0)
                        - np.log(b + nn[:, None] - j - 1.0), -np.inf)
    logpmf = log0[:, None] + np.concatenate([np.zeros((len(nn), 1)), np.cumsum(step, axis=1)], axis=1)
    grid = np.arange(top + 1)[None, :]
    use = (grid >= kk[:, None]) & (grid <= nn[:, None])
    pmf = np.zeros(logpmf.shape)
    np.exp(logpmf, out=pmf, where=use)
    return np.clip(pmf.sum(axis=1), 0.0, 1.0)

"""Tail probabilities the verdicts need, without scipy: exact binomial upper tails (by a log-factorial
table, vectorised over thousands of units) and the standard normal tail and its inverse (statistics.NormalDist).

All functions take and return numpy arrays; NaN in, NaN out."""

import math
import statistics
from statistics import NormalDist

import numpy as np

_NORMAL = NormalDist()
# The routine NormalDist.inv_cdf calls (CPython 3.11, our only interpreter): called directly per element it skips
# the method's argument checks, which cost more than the computation (a region has ≈ 300,000 tests); same numbers.
_inv_cdf = statistics._normal_dist_inv_cdf
_ERF = np.frompyfunc(math.erf, 1, 1)
_INV = np.frompyfunc(_inv_cdf, 3, 1)
_SQRT2 = math.sqrt(2.0)


def _log_factorials(n: int) -> np.ndarray:
    """log(k!) for k = 0..n, by a cumulative sum of logs (exact enough: relative error ~1e-15 per term)."""
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=float)))])


def binom_sf(k, n, p) -> np.ndarray:
    """P(X ≥ k) for X ~ Binomial(n, p), elementwise. k ≤ 0 gives 1, k > n gives 0; NaN where p or n is NaN.

    Summed exactly over the upper tail in log space (every unit's pmf at once on a padded grid of
    0..max n), so a class of 8 and a class of 120 are judged by the same exact law."""
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
    with np.errstate(divide="ignore", invalid="ignore"):
        logc = lf[nn][:, None] - lf[grid][None, :] - lf[np.clip(nn[:, None] - grid[None, :], 0, top)]
        logpmf = logc + grid[None, :] * np.log(pp)[:, None] + (nn[:, None] - grid[None, :]) * np.log1p(-pp)[:, None]
    # 0·log 0 = 0 (p = 0 or 1): the pmf is then a point mass
    logpmf = np.where((grid[None, :] == 0) & (pp[:, None] == 0), 0.0, logpmf)
    logpmf = np.where((grid[None, :] == nn[:, None]) & (pp[:, None] == 1), 0.0, logpmf)
    pmf = np.exp(np.nan_to_num(logpmf, nan=-np.inf))
    use = (grid[None, :] >= kk[:, None]) & (grid[None, :] <= nn[:, None])
    out[ok] = np.clip((pmf * use).sum(axis=1), 0.0, 1.0)
    return out


def normal_sf(z) -> np.ndarray:
    """P(Z ≥ z) for a standard normal Z, elementwise."""
    z = np.asarray(z, dtype=float)
    # NormalDist.cdf(x) is 0.5·(1 + erf(x / √2)), elementwise here with the same operations (same numbers); the
    # upper tail of a positive z as the lower tail of −z, as before
    out = np.full(z.shape, np.nan)
    ok = ~np.isnan(z)
    v = z[ok]
    x = np.where(v < 0, v, -v)
    cdf = 0.5 * (1.0 + _ERF(x / _SQRT2).astype(float))
    out[ok] = np.where(v < 0, 1.0 - cdf, cdf)
    return out


def normal_isf(p) -> np.ndarray:
    """z with P(Z ≥ z) = p (the inverse of normal_sf); p is clipped to (1e-300, 1 − 1e-16)."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = -_INV(np.clip(p[ok], 1e-300, 1 - 1e-16), 0.0, 1.0).astype(float)
    return out

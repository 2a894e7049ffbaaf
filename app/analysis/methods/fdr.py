"""Combining p-values and controlling the false discovery rate of a list.

- `stouffer`: one p from several independent p-values of the same sign (a weak but consistent sign in
  every work adds up);
- `bonferroni_min`: one p from the smallest of k p-values (one strong sign in one work is not diluted);
- `fisher`: one p from independent p-values (Fisher; no longer used by the verdicts: a school's signs read the
  same works and are not independent, so they are combined by Bonferroni);
- `benjamini_hochberg`: q-values; the schools with q ≤ level form a list whose expected share of false
  entries is at most `level` (Benjamini & Hochberg 1995)."""

import numpy as np

from app.analysis.methods.tails import normal_isf, normal_sf


def stouffer(pvalues) -> float:
    """Stouffer's Z = Σ z_i / √k of the one-sided p-values (NaN ignored); 1.0 when there are none."""
    p = np.asarray(pvalues, dtype=float)
    p = p[~np.isnan(p)]
    if not len(p):
        return 1.0
    return float(normal_sf(normal_isf(p).sum() / np.sqrt(len(p))))


def fisher(pvalues) -> float:
    """Fisher's method: X = −2 Σ ln p has a χ² law with 2k degrees of freedom."""
    p = np.asarray(pvalues, dtype=float)
    p = np.clip(p[~np.isnan(p)], 1e-300, 1.0)
    if not len(p):
        return 1.0
    return float(fisher_many(np.array([-np.log(p).sum()]), np.array([len(p)]))[0])


def fisher_many(half, count) -> np.ndarray:
    """Fisher's p for many sets at once from half = −Σ ln p and count = k: the χ² tail for an even number of
    degrees is exactly e^(−half) Σ_{i<k} half^i / i! (no special functions needed)."""
    half = np.asarray(half, dtype=float)
    count = np.asarray(count)
    term = np.ones(len(half))
    total = np.ones(len(half))
    for i in range(1, int(count.max()) if len(count) else 1):
        term = term * half / i
        total = total + np.where(i < count, term, 0.0)
    return np.minimum(1.0, np.exp(-half) * total)


def bonferroni_min(pvalues) -> float:
    """min(1, k · min p) over the non-missing p-values; 1.0 when there are none."""
    p = np.asarray(pvalues, dtype=float)
    p = p[~np.isnan(p)]
    return float(min(1.0, len(p) * p.min())) if len(p) else 1.0


def benjamini_hochberg(pvalues) -> np.ndarray:
    """BH-adjusted p-values (q-values), same order as given; NaN stays NaN and does not count as a test."""
    p = np.asarray(pvalues, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if not m:
        return q
    order = ok[np.argsort(p[ok], kind="stable")]
    ranked = p[order] * m / np.arange(1, m + 1)
    # the step-up: each q is the smallest adjusted value at its rank or above
    q[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return q

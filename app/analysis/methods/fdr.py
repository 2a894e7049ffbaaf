"""Combining p-values and controlling the false discovery rate of a list.

- `stouffer`: one p from several independent p-values of the same sign (a weak but consistent sign in
  every work adds up);
- `bonferroni_min`: one p from the smallest of k p-values (one strong sign in one work is not diluted);
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

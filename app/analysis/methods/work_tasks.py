"""The task structure of each work (labels and maxima, as the import stored them) for the task-level signs.

A task's maximum is what the work's structure declares; only where it is unknown does K2 fall back to the
highest score anyone in the region got for the task (which understates a task nobody solved fully). The
structures travel on the Prepared frame's cache under "structures": {(procedure, year, subject, grade):
(labels, maxima)}."""

import numpy as np

from app.analysis.methods.aggregates import Prepared


def attach(p: Prepared, structures: dict | None) -> None:
    if structures:
        p.cache["structures"] = structures


def _found(p: Prepared, w: int):
    structures = p.cache.get("structures")
    if not structures:
        return None
    row = p.works.iloc[w]
    return structures.get((row["procedure"], int(row["year"]), row["subject"], int(row["grade"])))


def declared_maxima(p: Prepared, n_tasks: int) -> np.ndarray | None:
    """works × tasks: each task's declared maximum, NaN where the structure does not give it (or None)."""
    if not p.cache.get("structures"):
        return None
    out = np.full((len(p.works), n_tasks), np.nan)
    for w in range(len(p.works)):
        found = _found(p, w)
        if found:
            maxima = [np.nan if m is None else float(m) for m in found[1][:n_tasks]]
            out[w, :len(maxima)] = maxima
    return out


def with_declared(p: Prepared, tmax: np.ndarray) -> np.ndarray:
    declared = declared_maxima(p, tmax.shape[1])
    return tmax if declared is None else np.where(np.isnan(declared), tmax, declared)


def labels(p: Prepared, w: int, mask) -> list[str]:
    """The labels of the tasks of work `w` selected by `mask` (the work's own, e.g. «3(2)», else the number)."""
    found = _found(p, w)
    names = list(found[0]) if found else []
    return [names[k] if k < len(names) else str(k + 1) for k in np.flatnonzero(mask)]

"""Per-school aggregates, and `prepare`: the one pass that turns a results frame into integer codes.

Every method works on units (year, procedure, subject, grade, school) and works (year, procedure,
subject, grade). Factorising the string keys is the costly part of any group-by on 300,000 rows, so it
is done once here and every method then aggregates with np.bincount on the integer codes.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.analysis.methods import stats

RESULT_COLUMNS = ("year", "procedure", "subject", "grade", "school_id", "primary_score", "max_score", "mark",
                  "term_mark", "task_scores")
UNIT_KEYS = ["year", "procedure", "subject", "grade", "school_id"]
EXAMS = ("ОГЭ", "ЕГЭ")


@dataclass
class Prepared:
    """A results frame with its integer codes and unit-level summaries (see module docstring)."""

    results: pd.DataFrame
    pct: np.ndarray        # percent of maximum per row
    score: np.ndarray
    max_score: np.ndarray
    mark: np.ndarray       # float, NaN when missing
    term: np.ndarray       # float, NaN when missing
    work: np.ndarray       # work code per row
    unit: np.ndarray       # unit code per row
    works: pd.DataFrame    # index = work code: procedure, year, subject, grade
    units: pd.DataFrame    # index = unit code: work, year, procedure, subject, grade, school_id, n, …
    cache: dict = field(default_factory=dict)

    @property
    def n_units(self) -> int:
        return len(self.units)

    def unit_order(self):
        """(order, starts): row order that makes each unit's rows contiguous in unit-code order (None when
        they already are, as for data read work by work), and where each unit starts in it."""
        if "unit_order" not in self.cache:
            codes = self.unit
            if len(codes) and (np.diff(codes) >= 0).all():
                order, ordered = None, codes
            else:
                order = np.argsort(codes, kind="stable")
                ordered = codes[order]
            starts = np.flatnonzero(np.diff(ordered, prepend=-1)) if len(ordered) else np.zeros(0, dtype=np.int64)
            self.cache["unit_order"] = (order, starts)
        return self.cache["unit_order"]


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    values = column.to_numpy()
    if values.dtype.kind not in "iuf":
        # pandas' string dtype factorizes through extra checks; the plain object array hashes faster
        values = column.to_numpy(dtype=object)
    codes, uniques = pd.factorize(values, sort=False)
    return codes.astype(np.int64, copy=False), np.asarray(uniques)


def prepare(results) -> Prepared:
    """Codes and unit summaries of a results frame (the columns of data.load_results). Idempotent."""
    if isinstance(results, Prepared):
        return results
    missing = [c for c in RESULT_COLUMNS if c not in results.columns and c != "task_scores"]
    if missing:
        raise ValueError(f"В таблице результатов нет столбцов: {', '.join(missing)}.")
    df = results
    score = df["primary_score"].to_numpy(dtype=float)
    max_score = df["max_score"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(max_score > 0, 100.0 * score / np.where(max_score > 0, max_score, 1.0), np.nan)
    mark = pd.to_numeric(df["mark"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    term = pd.to_numeric(df["term_mark"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    pc, pu = _codes(df["procedure"])
    yc, yu = _codes(df["year"])
    sc, su = _codes(df["subject"])
    gc, gu = _codes(df["grade"])
    wkey = ((pc * len(yu) + yc) * len(su) + sc) * len(gu) + gc
    work, wuniq = pd.factorize(wkey, sort=False)
    work = work.astype(np.int64)
    g_ = wuniq % len(gu)
    rest = wuniq // len(gu)
    s_ = rest % len(su)
    rest //= len(su)
    y_ = rest % len(yu)
    p_ = rest // len(yu)
    works = pd.DataFrame({"procedure": pu[p_].astype(object), "year": yu[y_].astype(int),
                          "subject": su[s_].astype(object), "grade": gu[g_].astype(int)})
    hc, hu = _codes(df["school_id"])
    ukey = work * len(hu) + hc
    unit, uuniq = pd.factorize(ukey, sort=False)
    unit = unit.astype(np.int64)
    u_work = uuniq // len(hu)
    u_school = hu[uuniq % len(hu)].astype(np.int64)
    nu = len(uuniq)
    n, mean_pct, sd_pct = stats.group_stats(pct, unit, nu)
    has_mark = ~np.isnan(mark)
    n_marked = np.bincount(unit[has_mark], minlength=nu).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_mark = np.bincount(unit[has_mark], weights=mark[has_mark], minlength=nu) / n_marked
    units = pd.DataFrame({
        "work": u_work, "year": works["year"].to_numpy()[u_work], "procedure": works["procedure"].to_numpy()[u_work],
        "subject": works["subject"].to_numpy()[u_work], "grade": works["grade"].to_numpy()[u_work],
        "school_id": u_school, "n": n.astype(int), "mean_percent": mean_pct, "sd_percent": sd_pct,
    })
    for m in (2, 3, 4, 5):
        units[f"share_{m}"] = stats.share(mark == m, unit, nu, valid=has_mark)
    units["mean_mark"] = mean_mark
    units["n_marked"] = n_marked.astype(int)
    return Prepared(results=df, pct=pct, score=score, max_score=max_score, mark=mark, term=term, work=work,
                    unit=unit, works=works, units=units)


def school_aggregates(results) -> pd.DataFrame:
    """Per (year, procedure, subject, grade, school_id): n, mean_percent, share_2..share_5, mean_mark.
    Shares are among participants with a mark (NaN when the work has no marks, e.g. ЕГЭ)."""
    p = prepare(results)
    cols = UNIT_KEYS + ["n", "mean_percent", "share_2", "share_3", "share_4", "share_5", "mean_mark"]
    return p.units[cols].reset_index(drop=True)

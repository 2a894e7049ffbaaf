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


def _values(column: pd.Series) -> np.ndarray:
    values = column.to_numpy()
    if values.dtype.kind not in "iuf":
        # pandas' string dtype factorizes through extra checks; the plain object array hashes faster
        values = column.to_numpy(dtype=object)
    return values


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(values, sort=False)
    return codes.astype(np.int64, copy=False), np.asarray(uniques)


def _run_heads(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(heads, lengths): the rows where any key column differs from the row before, and the length of each
    such run. Results are read work by work and school by school, so a region's 300,000 rows are a few
    thousand runs: the keys are then hashed once per run, not once per row. The first row holding a value
    is always a run head, so codes by order of first appearance are the same as over all the rows."""
    n = len(columns[0]) if columns else 0
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for values in columns:
        # an object array compares element by element, but equal keys are mostly the same object
        change[1:] |= np.asarray(values[1:] != values[:-1], dtype=bool)
    heads = np.flatnonzero(change)
    return heads, np.diff(np.append(heads, n))


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
    keys = [_values(df[c]) for c in ("procedure", "year", "subject", "grade", "school_id")]
    heads, lengths = _run_heads(keys)
    (pc, pu), (yc, yu), (sc, su), (gc, gu), (hc, hu) = (_codes(v[heads]) for v in keys)
    wkey = ((pc * len(yu) + yc) * len(su) + sc) * len(gu) + gc
    h_work, wuniq = pd.factorize(wkey, sort=False)
    h_work = h_work.astype(np.int64)
    g_ = wuniq % len(gu)
    rest = wuniq // len(gu)
    s_ = rest % len(su)
    rest //= len(su)
    y_ = rest % len(yu)
    p_ = rest // len(yu)
    works = pd.DataFrame({"procedure": pu[p_].astype(object), "year": yu[y_].astype(int),
                          "subject": su[s_].astype(object), "grade": gu[g_].astype(int)})
    ukey = h_work * len(hu) + hc
    h_unit, uuniq = pd.factorize(ukey, sort=False)
    work = np.repeat(h_work, lengths)
    unit = np.repeat(h_unit.astype(np.int64), lengths)
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
    # the four shares of marks by one bincount over (unit, mark); marks outside 2..5 count only in n_marked
    m_idx = mark[has_mark].astype(np.int64) - 2
    in_range = (m_idx >= 0) & (m_idx <= 3) & (m_idx + 2 == mark[has_mark])
    hits = np.bincount(unit[has_mark][in_range] * 4 + m_idx[in_range], minlength=nu * 4).reshape(nu, 4)
    with np.errstate(invalid="ignore", divide="ignore"):
        for m in (2, 3, 4, 5):
            units[f"share_{m}"] = np.where(n_marked > 0, hits[:, m - 2] / np.where(n_marked > 0, n_marked, 1.0),
                                           np.nan)
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

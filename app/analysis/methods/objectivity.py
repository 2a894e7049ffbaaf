"""Signs of non-objective results K1–K5 (domain.md §8), per school, subject, grade and year.

These are признаки — statistical signs that call for a closer look — never proof. Every marker carries
the statistic that triggered it, the threshold and a Russian sentence with the numbers. Units with fewer
than `min_participants` are skipped (and listed), and a sign that cannot be computed for a unit (no term
marks, no task-level scores, no next year) is listed with the reason rather than silently missing.
"""

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.analysis.methods import stats, work_tasks
from app.analysis.methods.aggregates import EXAMS, prepare
from app.analysis.methods.stats import pct
from app.analysis.methods import row_stats
from app.analysis.methods.tasks import task_block as _task_block, task_columns  # noqa: F401 (their old home)
from app.core.russian import plural

PARTICIPANTS_OF = ("участника", "участников", "участников")  # genitive: «лишь у 21 участника»

UNIT = ["year", "procedure", "school_id", "subject", "grade"]
MARKER_COLUMNS = UNIT + ["sign", "kind", "statistic", "threshold", "detail"]
NOT_COMPUTABLE_COLUMNS = UNIT + ["sign", "reason"]
SKIPPED_COLUMNS = UNIT + ["n", "reason"]
SIGNS = {
    "K1": "высокие результаты, не объяснимые профилем школы и результатами экзаменов",
    "K2": "трудные задания выполнены лучше лёгких",
    "K3": "аномальное распределение первичных баллов",
    "K4": "расхождение отметок за работу и отметок за период",
    "K5": "высокие результаты не подтверждаются той же когортой в следующем году",
}


class _Shared:
    """Holds a frame in DataFrame.attrs without pandas deep-copying it on every operation."""

    def __init__(self, frame):
        self.frame = frame

    def __deepcopy__(self, memo):
        return self


@dataclass
class ObjectivityResult:
    markers: pd.DataFrame
    not_computable: pd.DataFrame
    skipped: pd.DataFrame
    evaluated: pd.DataFrame                      # year, school_id: schools with at least one analysed unit
    units: pd.DataFrame                          # unit statistics (z, shares…) of analysed units
    notes: list[str] = field(default_factory=list)
    flagged_units: np.ndarray | None = field(default=None, repr=False)  # unit codes of `prepared` with markers
    prepared: object = field(default=None, repr=False)


def _frame(rows: list, columns) -> pd.DataFrame:
    """The pending rows of `_rows` (in order) as one frame of `columns`, built once: a small frame per reason
    and their concatenation cost more than the rows themselves."""
    rows = [r for r in rows if len(r[0])]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    u = rows[0][2]
    idx = np.concatenate([r[0] for r in rows])
    out = {}
    for c in columns:
        if c in UNIT:
            out[c] = u[c].to_numpy()[idx]
            continue
        parts = []
        for r_idx, cols, _u in rows:
            value = cols[c]
            value = value(r_idx) if callable(value) else value[r_idx] if isinstance(value, np.ndarray) else (
                np.full(len(r_idx), value, dtype=object if isinstance(value, str) else None))
            parts.append(np.asarray(value, dtype=object) if isinstance(value, list) else value)
        out[c] = np.concatenate(parts)
    return pd.DataFrame(out)


def _rows(u: pd.DataFrame, mask, **cols) -> tuple:
    """Unit rows selected by mask, with extra columns (scalars, arrays over the whole unit frame, or callables
    building the column for the selected units only: texts are not built for all units), pending until `_frame`."""
    return np.flatnonzero(np.asarray(mask, dtype=bool)), cols, u


def _emit(out: list, u: pd.DataFrame, idx, sign: str, kind: str, statistic, threshold, details: list[str]) -> None:
    """One frame of markers for the unit indices `idx` (statistic aligned with idx)."""
    idx = np.asarray(idx, dtype=np.int64)
    if not len(idx):
        return
    out.append((idx, sign, kind, np.asarray(statistic, dtype=float), float(threshold), details))


def _markers_frame(u: pd.DataFrame, parts: list) -> pd.DataFrame:
    """All emitted markers as one frame, built once (not one small frame per sign), in the order of year, school,
    subject, grade, sign and kind (stable): the order computed on the arrays by one lexsort, as pandas' stable
    multi-column sort would give it, without sorting a frame of text columns."""
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in MARKER_COLUMNS}).sort_values(
            ORDER, kind="stable").reset_index(drop=True)
    idx = np.concatenate([p[0] for p in parts])
    columns = {c: u[c].to_numpy()[idx] for c in UNIT}
    sign = np.concatenate([np.full(len(p[0]), p[1], dtype=object) for p in parts])
    kind = np.concatenate([np.full(len(p[0]), p[2], dtype=object) for p in parts])

    def rank(values):  # text keys as their rank in sorted order
        return np.unique(np.asarray(values, dtype=object), return_inverse=True)[1].ravel()

    order = np.lexsort((rank(kind), rank(sign), columns["grade"], rank(columns["subject"]), columns["school_id"],
                        columns["year"]))
    frame = pd.DataFrame({c: values[order] for c, values in columns.items()})
    frame["sign"] = sign[order]
    frame["kind"] = kind[order]
    frame["statistic"] = np.concatenate([p[3] for p in parts])[order]
    frame["threshold"] = np.concatenate([np.full(len(p[0]), p[4]) for p in parts])[order]
    # each part's sentences rewritten and its own list let go as it is taken (a region's sentences are megabytes:
    # all of them rewritten at once beside the originals was the markers' peak, bench/analysis.py --scale)
    detail, at = np.empty(len(idx), dtype=object), 0
    for i, part in enumerate(parts):
        detail[at:at + len(part[0])] = _russian_numbers(part[5])
        at += len(part[0])
        parts[i] = (*part[:5], None)
    frame["detail"] = detail[order]
    return frame


ORDER = ["year", "school_id", "subject", "grade", "sign", "kind"]


# the literal dot first: the engine then scans for dots instead of trying a lookbehind at every character
_DECIMAL = re.compile(r"\.(?<=\d\.)(?=\d)")
_MINUS = re.compile(r"-(?=\d)")


def _russian_numbers(texts: list[str]) -> list[str]:
    """Decimal comma and true minus in the numbers of the detail sentences, in one pass over all of them
    (the sentences are built with plain format specs: thousands of markers, no per-number call)."""
    if not texts:
        return []
    joined = "\n".join(texts).replace("nan", "—").replace("inf", "∞")
    return _MINUS.sub("−", _DECIMAL.sub(",", joined)).split("\n")


def _boundaries(p, given: pd.DataFrame | None) -> np.ndarray:
    """works × marks 3..5 → lowest primary score with that mark (NaN when unknown)."""
    nw = len(p.works)
    out = np.full((nw, 3), np.nan)
    if given is not None and len(given):
        merged = p.works.reset_index(names="work").merge(given, on=["procedure", "year", "subject", "grade"])
        for w, m, c in merged[["work", "mark", "min_score"]].itertuples(index=False):
            if 3 <= m <= 5:
                out[w, int(m) - 3] = c
    # lowest score with each mark, from the units' own lowest (row_stats: the same with or without the rows)
    derived = row_stats.mark_boundaries(row_stats.of(p), p.units["work"].to_numpy(), nw)
    return np.where(np.isnan(out), derived, out)


def _group_median(values: np.ndarray, codes: np.ndarray, ngroups: int) -> np.ndarray:
    """Median per group code 0..ngroups−1 ignoring NaN (NaN for a group without values): the mean of the two
    middle values for an even count, as pandas' group-by median, by one sort instead of a group-by."""
    keep = ~np.isnan(values)
    v, c = values[keep], codes[keep]
    order = np.lexsort((v, c))
    v = v[order]
    count = np.bincount(c, minlength=ngroups)
    start = np.cumsum(count) - count
    lo = np.minimum(start + (count - 1) // 2, max(len(v) - 1, 0))
    hi = np.minimum(start + count // 2, max(len(v) - 1, 0))
    out = np.full(ngroups, np.nan)
    has = count > 0
    out[has] = np.where(lo[has] == hi[has], v[lo[has]], (v[lo[has]] + v[hi[has]]) / 2)
    return out


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    use = mask & ~np.isnan(values)
    count = use.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.where(use, values, 0.0).sum(axis=1) / np.maximum(count, 1), np.nan)


def _k2(p, u, ok, th, nc_rows, marker_rows):
    """K2 on unit × task success rates, from the units' task sums (row_stats: no per-school loop, no rows)."""
    nu = len(u)
    rs = row_stats.of(p)
    gap = np.full(nu, np.nan)
    no_groups = np.zeros(nu, dtype=bool)
    if not rs.tasks or not nu:
        n_tasks = np.zeros(nu, dtype=np.int64)
    else:
        # a task's maximum is the highest score anyone in the region got for it in that work (unless declared)
        uw = u["work"].to_numpy()
        tmax, wsum, wcnt = row_stats.region_tasks(p)
        tmax = work_tasks.with_declared(p, tmax)
        sums, cnts, n_tasks = rs.task_sum, rs.task_cnt, rs.n_tasks
        with np.errstate(invalid="ignore", divide="ignore"):
            p_region = np.where((tmax > 0) & (wcnt > 0), wsum / (np.maximum(wcnt, 1) * np.maximum(tmax, 1)), np.nan)
            p_school = np.where((tmax[uw] > 0) & (cnts > 0),
                                sums / (np.maximum(cnts, 1) * np.maximum(tmax[uw], 1)), np.nan)
        easy, hard = work_tasks.difficulty_groups(p_region, th["k2_easy"], th["k2_hard"], th["k2_relative"])
        groups = easy.any(axis=1) & hard.any(axis=1)
        no_groups = ~groups[uw]
        d = p_school - p_region[uw]
        gap = np.where(groups[uw], _masked_mean(d, hard[uw]) - _masked_mean(d, easy[uw]), np.nan)
        flag = ok & (n_tasks >= th["min_participants"]) & (gap >= th["k2_gap"])
        idx = np.flatnonzero(flag)
        if len(idx):
            u_hard = _masked_mean(p_school[idx], hard[uw[idx]])
            u_easy = _masked_mean(p_school[idx], easy[uw[idx]])
            r_hard = _masked_mean(p_region, hard)
            r_easy = _masked_mean(p_region, easy)
            n_hard, n_easy = hard.sum(axis=1), easy.sum(axis=1)
            # the work's part of the sentence once per work (hundreds of marked schools share a few works)
            hard_text, easy_text = {}, {}
            for w in np.unique(uw[idx]).tolist():
                hard_text[w] = (f"Трудные задания ({n_hard[w]}: {_listed(work_tasks.labels(p, w, hard[w]))}; "
                                f"выполнение по региону {100 * r_hard[w]:.0f} %) выполнены школой на ")
                easy_text[w] = (f" %, лёгкие ({n_easy[w]}: {_listed(work_tasks.labels(p, w, easy[w]))}; по региону "
                                f"{100 * r_easy[w]:.0f} %) — на ")
            _emit(marker_rows, u, idx, "K2", "hard_better", gap[idx], th["k2_gap"], [
                f"{hard_text[w]}{100 * uh:.0f}{easy_text[w]}{100 * ue:.0f} %: превышение "
                f"над регионом по трудным больше, чем по лёгким, на {g:.2f} (порог {th['k2_gap']:.2f})."
                for w, uh, ue, g in zip(uw[idx].tolist(), u_hard.tolist(), u_easy.tolist(), gap[idx].tolist())])
    no_tasks = ok & (n_tasks < th["min_participants"])
    nc_rows.append(_rows(u, no_tasks, sign="K2", reason=lambda idx: [
        "нет баллов по заданиям (поэлементных результатов)" if n_tasks[i] == 0 else
        f"баллы по заданиям есть лишь у {plural(int(n_tasks[i]), PARTICIPANTS_OF)} "
        f"(меньше {th['min_participants']})" for i in idx]))
    nc_rows.append(_rows(u, ok & ~no_tasks & no_groups, sign="K2", reason=(
        f"в работе по региону нет лёгких (выполнение ≥ {pct(th['k2_easy'])}) или трудных "
        f"(≤ {pct(th['k2_hard'])}) заданий")))
    return gap


def _listed(labels: list[str], limit: int = 6) -> str:
    return ", ".join(labels[:limit]) + (" …" if len(labels) > limit else "")


def compute_markers(results, schools: pd.DataFrame, thresholds, *, boundaries: pd.DataFrame | None = None,
                    structures: dict | None = None) -> ObjectivityResult:
    """K1–K5 for every unit with at least `min_participants` participants.

    `results`: the frame of data.load_results (or aggregates.prepare of it); `schools`: data.load_schools
    (id, profile used by K1); `boundaries`: optional given mark boundaries (procedure, year, subject, grade,
    mark, min_score) — otherwise the lowest primary score that received each mark is used; `structures`: the
    works' task labels and maxima (data.load_structures), which K2 uses where they are known."""
    th = thresholds
    p = prepare(results)
    work_tasks.attach(p, structures)
    row_stats.of(p, th["k3_near_max_level"])
    u = p.units
    nu, nw = len(u), len(p.works)
    minp = th["min_participants"]
    n = u["n"].to_numpy()
    ok = n >= minp
    work = u["work"].to_numpy()
    mean_pct = u["mean_percent"].to_numpy()
    exam = u["procedure"].isin(EXAMS).to_numpy()
    markers, nc, notes = [], [], []
    skipped = _rows(u, ~ok, n=n, reason=lambda idx: [
        f"участников {n[i]} — меньше {minp}, единица не анализируется" for i in idx])
    # z of the school's mean percent among the analysed schools of the same work
    z = stats.group_zscores(np.where(ok, mean_pct, np.nan), work, nw)
    _cnt, region_mean, _sd = stats.group_stats(np.where(ok, mean_pct, np.nan), work, nw)
    rmean = region_mean[work]

    # K1
    # the profile test once per school, then looked up per unit (a school missing from `schools` is not exempt)
    exempt = np.zeros(nu, dtype=bool)
    if len(schools):
        pos = pd.Index(schools["id"]).get_indexer(u["school_id"].to_numpy())
        school_exempt = schools["profile"].isin(th["k1_exempt_profiles"]).to_numpy()
        exempt[pos >= 0] = school_exempt[pos[pos >= 0]]
    # the school's exam z in the same subject and year (mean over exam works), by an integer key
    # integer keys: procedure < 2^4, subject < 2^10, year offset < 2^7, grade < 2^4, school code < 2^30
    subj_code = pd.factorize(u["subject"])[0].astype(np.int64)
    years_arr = u["year"].to_numpy().astype(np.int64)
    year_off = years_arr - (years_arr.min() if nu else 0) + 1
    school_arr = pd.factorize(u["school_id"])[0].astype(np.int64)
    key = (((year_off << 10) + subj_code) << 30) + school_arr
    sel = exam & ok & ~np.isnan(z)
    ez = np.full(nu, np.nan)
    if sel.any():
        kc, kinv = np.unique(key[sel], return_inverse=True)
        means = np.bincount(kinv, weights=z[sel]) / np.bincount(kinv)
        pos = np.searchsorted(kc, key).clip(0, len(kc) - 1)
        found = kc[pos] == key
        ez[found] = means[pos[found]]
    high = ok & ~exam & (z >= th["k1_z"])
    k1 = high & ~exempt & (np.isnan(ez) | (ez < th["k1_exam_z"]))
    idx = np.flatnonzero(k1)
    years_u = u["year"].to_numpy()
    _emit(markers, u, idx, "K1", "high_unexplained", z[idx], th["k1_z"], [
        f"Средний процент выполнения {mean_pct[i]:.1f} % при среднем по школам региона "
        f"{rmean[i]:.1f} %: z = {z[i]:.2f} (порог {th['k1_z']:.2f}); школа не лицей, не гимназия и не "
        f"школа с углублённым изучением; " + (
            f"результатов ОГЭ/ЕГЭ школы по этому предмету за {years_u[i]} г. нет — сопоставление с экзаменами "
            "не проведено." if np.isnan(ez[i]) else
            f"по ОГЭ/ЕГЭ по этому предмету z = {ez[i]:.2f} (ниже {th['k1_exam_z']:.2f}).") for i in idx])
    nc.append(_rows(u, k1 & np.isnan(ez), sign="K1", reason=(
        "нет результатов ОГЭ/ЕГЭ школы по предмету: часть признака о сопоставлении с экзаменами не вычислена")))

    # K2
    gap = _k2(p, u, ok, th, nc, markers)

    # K3: heaping at a mark boundary, near-maximal scores, implausibly low spread
    bnd = _boundaries(p, boundaries)
    rs = row_stats.of(p)
    wmax, counts = row_stats.region_scores(p)
    rows = np.arange(nu)
    for m in (3, 4, 5):
        c = bnd[work, m - 3]
        valid = ok & ~np.isnan(c) & (c >= 1) & (c <= wmax[work] - 1)
        ci = np.where(valid, c, 1).astype(np.int64)
        at, below, above = counts[rows, ci], counts[rows, ci - 1], counts[rows, ci + 1]
        nb = (below + above) / 2.0
        flag = valid & (at >= th["k3_heap_min_count"]) & (at >= th["k3_heap_ratio"] * nb)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(nb > 0, at / np.where(nb > 0, nb, 1), np.inf)
        idx = np.flatnonzero(flag)
        _emit(markers, u, idx, "K3", f"heaping_{m}", ratio[idx], th["k3_heap_ratio"], [
            f"Скопление на границе отметки «{m}» (первичный балл {int(ci[i])}): "
            f"{plural(int(at[i]), ('работа', 'работы', 'работ'))} против "
            f"{int(below[i])} и {int(above[i])} с баллами {int(ci[i]) - 1} и {int(ci[i]) + 1} — "
            # no work on either neighbour: the ratio is infinite, which a reader should not meet as «в ∞ раза»
            + (f"в {ratio[i]:.1f} раза больше среднего соседних" if nb[i] > 0 else "соседние баллы не получил никто")
            + f" (порог {th['k3_heap_ratio']:.1f}, не менее {th['k3_heap_min_count']} работ)." for i in idx])
    if ok.any() and np.isnan(bnd).all(axis=1)[work[ok]].any():
        nc.append(_rows(u, ok & np.isnan(bnd).all(axis=1)[work], sign="K3", reason=(
            "нет отметок и заданных границ отметок: скопление баллов на границе отметки не проверено")))
    with np.errstate(invalid="ignore", divide="ignore"):
        u_near = np.where(rs.rows > 0, rs.near / np.maximum(rs.rows, 1), np.nan)
        w_rows = np.bincount(work, weights=rs.rows, minlength=nw)
        r_near = np.where(w_rows > 0, np.bincount(work, weights=rs.near, minlength=nw) / np.maximum(w_rows, 1),
                          np.nan)[work]
    flag = ok & (u_near >= th["k3_near_max_share"]) & (u_near >= th["k3_near_max_ratio"] * r_near)
    idx = np.flatnonzero(flag)
    _emit(markers, u, idx, "K3", "near_max", u_near[idx], th["k3_near_max_share"], [
        f"Доля почти максимальных баллов (не ниже {100 * th['k3_near_max_level']:.0f} % максимума) — "
        f"{100 * u_near[i]:.0f} % "
        f"при {100 * r_near[i]:.1f} % по региону (порог: не ниже {100 * th['k3_near_max_share']:.0f} % и в "
        f"{th['k3_near_max_ratio']:.1f} раза выше региона)." for i in idx])
    sd = u["sd_percent"].to_numpy()
    med = _group_median(np.where(ok, sd, np.nan), work, nw)[work]
    flag = ok & (sd < th["k3_spread_ratio"] * med)
    idx = np.flatnonzero(flag)
    _emit(markers, u, idx, "K3", "low_spread", sd[idx] / med[idx], th["k3_spread_ratio"], [
        f"Неправдоподобно малый разброс: стандартное отклонение процента выполнения {sd[i]:.1f} при "
        f"медианном по школам региона {med[i]:.1f} (отношение {sd[i] / med[i]:.2f}, порог "
        f"{th['k3_spread_ratio']:.2f})." for i in idx])

    # K4
    n_term = rs.term[:, 0].sum(axis=1)
    n_lowered = rs.term[:, 1].sum(axis=1).astype(float)
    n_raised = rs.term[:, 2].sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        lowered = np.where(n_term > 0, n_lowered / np.maximum(n_term, 1), np.nan)
        raised = np.where(n_term > 0, n_raised / np.maximum(n_term, 1), np.nan)
        same = np.where(n_term > 0, 1.0 - lowered - raised, np.nan)
    k4ok = ok & (n_term >= minp)
    for kind, values, limit, text in (
            ("lowered", lowered, th["k4_lowered"], "признак завышения текущих отметок"),
            ("raised", raised, th["k4_raised"], "признак необъективного проведения или проверки работы")):
        idx = np.flatnonzero(k4ok & (values >= limit))
        word = "понизили" if kind == "lowered" else "повысили"
        _emit(markers, u, idx, "K4", kind, values[idx], limit, [
            f"Из {plural(int(n_term[i]), PARTICIPANTS_OF)} отметку за период понизили {100 * lowered[i]:.0f} %, "
            "подтвердили "
            f"{100 * same[i]:.0f} %, повысили {100 * raised[i]:.0f} %; доля «{word}» не ниже {100 * limit:.0f} % — "
            f"{text}." for i in idx])
    nc.append(_rows(u, ok & (n_term < minp), sign="K4", reason=lambda idx: [
        "нет отметок за период (четверть, полугодие)" if n_term[i] == 0 else
        f"отметки за период есть лишь у {plural(int(n_term[i]), PARTICIPANTS_OF)} (меньше {minp})" for i in idx]))

    # K5: the same cohort (grade g+1) the next year
    years_present = set(u["year"].unique().tolist())
    proc_code = pd.factorize(u["procedure"])[0].astype(np.int64)
    grade_arr = u["grade"].to_numpy().astype(np.int64)

    def cohort_key(year, grade):
        return (((((((proc_code << 10) + subj_code) << 7) + year) << 4) + grade) << 30) + school_arr

    this = cohort_key(year_off, grade_arr)
    nxt = np.full(nu, np.nan)
    sel = ok & ~exam
    if sel.any():
        order = np.argsort(this[sel])
        sorted_keys, sorted_z = this[sel][order], z[sel][order]
        want = cohort_key(year_off + 1, grade_arr + 1)
        pos = np.searchsorted(sorted_keys, want).clip(0, len(sorted_keys) - 1)
        found = sorted_keys[pos] == want
        nxt[found] = sorted_z[pos[found]]
    high5 = ok & ~exam & (z >= th["k5_high_z"])
    k5 = high5 & ~np.isnan(nxt) & (z - nxt >= th["k5_drop_z"])
    idx = np.flatnonzero(k5)
    grades_u = u["grade"].to_numpy()
    _emit(markers, u, idx, "K5", "cohort_drop", z[idx] - nxt[idx], th["k5_drop_z"], [
        f"В {years_u[i]} г. в {grades_u[i]} кл. z = {z[i]:.2f} (высокий результат, порог {th['k5_high_z']:.2f}), "
        f"в {years_u[i] + 1} г. та же когорта в {grades_u[i] + 1} кл.: z = {nxt[i]:.2f} — падение на "
        f"{z[i] - nxt[i]:.2f} (порог {th['k5_drop_z']:.2f})." for i in idx])
    nc.append(_rows(u, high5 & np.isnan(nxt), sign="K5", reason=lambda idx: [
        f"нет данных следующего года ({years_u[i] + 1}): подтверждение когортой проверить нельзя"
        if years_u[i] + 1 not in years_present else
        f"нет результатов той же когорты ({grades_u[i] + 1} кл.) в следующем году" for i in idx]))
    if len(years_present) == 1:
        notes.append(f"Данные только за {next(iter(years_present))} г.: признак K5 (подтверждение результатов "
                     "когортой в следующем году) не вычисляется.")
    if (~ok).any():
        notes.append(f"Пропущено единиц анализа с числом участников меньше {minp}: {int((~ok).sum())}.")

    units = u.loc[ok, ["year", "procedure", "school_id", "subject", "grade", "n", "mean_percent"]].copy()
    units["z"] = z[ok]
    units["exam_z"] = ez[ok]
    units["k2_gap"] = gap[ok]
    units["near_max_share"] = u_near[ok]
    units["lowered"] = lowered[ok]
    units["raised"] = raised[ok]
    # (year, school) pairs in order of first appearance, by one integer key
    e_year, e_school = units["year"].to_numpy(), units["school_id"].to_numpy()
    _codes, first = np.unique(pd.factorize(e_year.astype(np.int64) * (int(e_school.max()) + 1 if len(e_school) else 1)
                                           + e_school.astype(np.int64))[0], return_index=True)
    first.sort()
    evaluated = pd.DataFrame({"year": e_year[first], "school_id": e_school[first]})
    result_markers = _markers_frame(u, markers)
    result_markers.attrs["evaluated"] = _Shared(evaluated)
    return ObjectivityResult(markers=result_markers, not_computable=_frame(nc, NOT_COMPUTABLE_COLUMNS),
                             skipped=_frame([skipped], SKIPPED_COLUMNS), evaluated=evaluated,
                             units=units.reset_index(drop=True), notes=notes,
                             flagged_units=np.unique(np.concatenate([m[0] for m in markers])) if markers else
                             np.zeros(0, dtype=np.int64), prepared=p)


def stably_objective(markers, schools: pd.DataFrame, years, *, evaluated: pd.DataFrame | None = None) -> list[int]:
    """Schools with no marker in any of `years` (three years running) that have analysed data in every
    one of them. `markers` is ObjectivityResult.markers (or the result itself); which schools had data
    comes from `evaluated`, the result, or the markers frame's attrs."""
    if isinstance(markers, ObjectivityResult):
        evaluated = markers.evaluated if evaluated is None else evaluated
        markers = markers.markers
    years = sorted(set(int(y) for y in years))
    if evaluated is not None:
        have = evaluated[evaluated["year"].isin(years)].groupby("school_id")["year"].nunique()
        present = set(have[have == len(years)].index.tolist())
    else:
        shared = markers.attrs.get("evaluated")
        known = shared.frame if shared is not None else pd.DataFrame({"year": [], "school_id": []})
        have = known[known["year"].isin(years)].groupby("school_id")["year"].nunique()
        present = set(have[have == len(years)].index.tolist())
    flagged = set(markers.loc[markers["year"].isin(years), "school_id"].tolist())
    ids = set(schools["id"].tolist()) if schools is not None and len(schools) else present
    return sorted(int(s) for s in (present & ids) - flagged)


def municipality_shares(markers, schools: pd.DataFrame, results, year: int) -> pd.DataFrame:
    """Per municipality: schools with results in `year`, schools with at least one marker, their share."""
    if isinstance(markers, ObjectivityResult):
        markers = markers.markers
    p = prepare(results)
    have = set(p.units.loc[p.units["year"] == year, "school_id"].tolist())
    flagged = set(markers.loc[markers["year"] == year, "school_id"].tolist())
    ids = schools["id"].to_numpy()
    present = np.isin(ids, list(have))
    # counts per (municipality id, code) in sorted order, missing keys last, as a group-by with dropna=False
    # would give; by factorised codes and one bincount (a two-key group-by costs milliseconds on a few rows)
    mc, mu = pd.factorize(schools["municipality_id"][present], sort=True, use_na_sentinel=False)
    cc, cu = pd.factorize(schools["municipality_code"][present], sort=True, use_na_sentinel=False)
    pairs, inverse = np.unique(mc.astype(np.int64) * max(len(cu), 1) + cc, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(pairs))
    hits = np.bincount(inverse, weights=np.isin(ids[present], list(flagged)), minlength=len(pairs))
    codes = cu.take(pairs % max(len(cu), 1))
    if codes.dtype == object and len(codes):
        codes = pd.Index(codes.to_numpy())  # inferred again, as the group-by's keys are (text → string dtype)
    out = pd.DataFrame({"municipality_id": mu.take(pairs // max(len(cu), 1)), "municipality_code": codes,
                        "schools": counts.astype(np.int64), "flagged": hits.astype(np.int64)})
    out["share"] = np.where(out["schools"] > 0, out["flagged"] / out["schools"].where(out["schools"] > 0, 1), np.nan)
    out["year"] = year
    return out[["year", "municipality_id", "municipality_code", "schools", "flagged", "share"]]

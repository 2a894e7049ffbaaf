"""Verdicts per school on the objectivity of its results, from the tests of sign_tests.py.

For the year Y the school's tests of the years Y − verdict_years + 1 … Y are combined:
1. per sign: the school's p-values of that sign over its works and years — by Stouffer's method (a weak
   but consistent sign in every work adds up) and by the smallest p × their number (one strong sign in
   one work is not diluted), the better of the two × 2; K1 and K5 compare a school with itself in another
   work (the exam, the next year), so their works are not independent and only the second rule is used;
2. per school: the signs' p by Fisher's method (two moderate signs add up) and by the smallest × their
   number (one strong sign is not diluted), the better × 2 — `combined_p`, the probability that an
   honest school shows signs at least this strong;
3. the region's list: Benjamini–Hochberg over the schools' combined p at `verdict_fdr` (default 5 %):
   the schools with q ≤ level are «признаки необъективности выявлены» — on average at most 5 % of such
   a list are honest schools; the others with combined p ≤ `verdict_watch` are «есть отдельные признаки
   (наблюдение)»; the rest «не выявлены».
Every school's tests are also adjusted by Benjamini–Hochberg across all schools × works × signs: the works
named in the explanation are those that pass it (or the strongest ones when none does).
"""

import numpy as np
import pandas as pd

from app.analysis.methods.fdr import benjamini_hochberg, bonferroni_min, fisher, stouffer

FLAGGED, WATCH, CLEAR = "flagged", "watch", "clear"
VERDICTS = {FLAGGED: "признаки необъективности выявлены", WATCH: "есть отдельные признаки (наблюдение)",
            CLEAR: "признаки не выявлены"}
SIGN_WORDS = {
    ("K1", "high_unexplained"): "высокие результаты, не подтверждённые ОГЭ/ЕГЭ по тому же предмету",
    ("K2", "hard_better"): "трудные задания выполнены лучше, чем лёгкие",
    ("K3", "heaping"): "скопление результатов на границе отметки",
    ("K4", "lowered"): "отметки за период выше отметок за работу (завышение текущих отметок)",
    ("K4", "raised"): "отметки за работу выше отметок за период",
    ("K5", "cohort_drop"): "высокий результат не подтверждён той же когортой через год",
}
CORRELATED = {"K1", "K5"}  # tests of one school against itself: works are not independent
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


def work_label(row) -> str:
    grade = "" if row.grade is None or pd.isna(row.grade) else f" {int(row.grade)} кл."
    return f"{row.procedure} {row.subject}{grade} {int(row.year)}"


def _sign_p(sign: str, pvalues) -> float:
    if sign in CORRELATED:
        return bonferroni_min(pvalues)
    return min(1.0, 2.0 * min(stouffer(pvalues), bonferroni_min(pvalues)))


def compute_verdicts(tests: pd.DataFrame, thresholds, *, year: int, schools=None) -> pd.DataFrame:
    """VERDICT_COLUMNS, one row per school with at least one test in the window (and per school of
    `schools`, an iterable of ids, without tests: «не выявлены», nothing to combine)."""
    th = thresholds
    span = set(range(year - th["verdict_years"] + 1, year + 1))
    t = tests[tests["year"].isin(span)].copy() if len(tests) else tests.copy()
    t["q"] = benjamini_hochberg(t["p"].to_numpy(dtype=float)) if len(t) else []
    rows = []
    for school_id, mine in t.groupby("school_id", sort=True):
        signs = []
        for (sign, kind), group in mine.groupby(["sign", "kind"], sort=True):
            signs.append((sign, kind, _sign_p(sign, group["p"].to_numpy(dtype=float)), group))
        sign_p = [s[2] for s in signs]
        combined = min(1.0, 2.0 * min(fisher(sign_p), bonferroni_min(sign_p))) if signs else 1.0
        rows.append({"school_id": int(school_id), "year": year, "combined_p": combined, "_signs": signs})
    known = {r["school_id"] for r in rows}
    for school_id in sorted(set(int(s) for s in (schools if schools is not None else [])) - known):
        rows.append({"school_id": school_id, "year": year, "combined_p": np.nan, "_signs": []})
    q = benjamini_hochberg(np.array([r["combined_p"] for r in rows], dtype=float))
    out = []
    for r, qv in zip(rows, q):
        p = r["combined_p"]
        verdict = (FLAGGED if qv <= th["verdict_fdr"] else WATCH if p <= th["verdict_watch"] else CLEAR) \
            if not np.isnan(p) else CLEAR
        shown = [] if verdict == CLEAR else sorted(
            [s for s in r["_signs"] if s[2] <= th["verdict_watch"]] or [min(r["_signs"], key=lambda s: s[2])],
            key=lambda s: s[2])
        evidence, works, parts = [], [], []
        for sign, kind, sp, group in shown:
            group = group.sort_values("p", kind="stable")
            strong = group[group["q"] <= th["verdict_fdr"]]
            named = (strong if len(strong) else group[group["p"] <= th["verdict_watch"]]).head(4)
            named = named if len(named) else group.head(1)
            items = [{"work": work_label(g), "p": float(g.p), "detail": g.detail} for g in named.itertuples()]
            works += [i["work"] for i in items if i["work"] not in works]
            more = len(group[group["p"] <= th["verdict_watch"]]) - len(items)
            words = SIGN_WORDS.get((sign, kind), sign)
            parts.append(f"{sign} — {words}: " + "; ".join(f"{i['work']} ({i['detail']})" for i in items)
                         + (f"; ещё в {more} работах" if more > 0 else "") + f"; {chance(sp)}")
            evidence.append({"sign": sign, "kind": kind, "words": words, "p": sp, "chance": chance(sp),
                             "works": items})
        explanation = ""
        if verdict != CLEAR:
            explanation = (". ".join(parts) + f". В целом по школе: {chance(p)} (с учётом числа проверенных "
                           "признаков).")
        out.append({"school_id": r["school_id"], "year": year, "verdict": verdict, "verdict_label": VERDICTS[verdict],
                    "signs": sorted({e["sign"] for e in evidence}), "works": works, "combined_p": p,
                    "q": float(qv) if not np.isnan(qv) else np.nan, "explanation": explanation,
                    "evidence": evidence})
    frame = pd.DataFrame(out, columns=VERDICT_COLUMNS)
    order = frame["verdict"].map({FLAGGED: 0, WATCH: 1, CLEAR: 2})
    return frame.assign(_o=order).sort_values(["_o", "combined_p", "school_id"], kind="stable").drop(
        columns="_o").reset_index(drop=True)


def excluded_units(tests: pd.DataFrame, verdicts, thresholds) -> pd.DataFrame:
    """The works (year, procedure, school_id, subject, grade) low-result indices leave out: those whose
    test has p ≤ verdict_watch in a school whose verdict of that year is «выявлены». `verdicts`: one
    frame of compute_verdicts or a list of them (one per year)."""
    frames = verdicts if isinstance(verdicts, list) else [verdicts]
    flagged = {(int(v.year), int(v.school_id)) for f in frames for v in f.itertuples() if v.verdict == FLAGGED}
    keys = ["year", "procedure", "school_id", "subject", "grade"]
    if not flagged or not len(tests):
        return pd.DataFrame({k: pd.Series(dtype=object) for k in keys})
    t = tests[(tests["p"] <= thresholds["verdict_watch"]) & tests["grade"].notna()]
    mine = [(int(y), int(s)) in flagged for y, s in zip(t["year"], t["school_id"])]
    out = t.loc[mine, keys].drop_duplicates().reset_index(drop=True)
    out["grade"] = out["grade"].astype(int)
    return out

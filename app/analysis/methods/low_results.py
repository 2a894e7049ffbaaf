"""Low results (ШНОР), difficult social conditions (ШНСУ) and resilient schools (domain.md §8).

L(s) = mean over the school's units (subject, grade, procedure) of z(share of "2") − z(mean percent),
z within each work over the region's schools; higher is worse. Units flagged by an objectivity marker
are left out, as are units below `min_participants`: a school is judged on results that can be trusted.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.analysis.methods import stats
from app.analysis.methods.aggregates import prepare
from app.analysis.methods.stats import fmt, pct

CONTEXT = {  # attribute → (Russian name, unit)
    "low_income_share": "доля обучающихся из малообеспеченных семей",
    "non_native_share": "доля обучающихся, для которых русский язык не родной",
    "ovz_share": "доля обучающихся с ОВЗ",
    "village": "сельская местность",
    "remote": "удалённая (труднодоступная) школа",
}
SETTLEMENT_WEIGHT = {"city": 0.0, "town": 0.5, "village": 1.0}


@dataclass
class LowResults:
    index: pd.DataFrame       # year, school_id, L, units, z_share_2, z_mean_percent, components
    shnor: pd.DataFrame       # school_id, L, reasons (list of Russian strings), years (list)
    shnsu: pd.DataFrame       # school_id, social_index, factors (list of Russian strings)
    resilient: pd.DataFrame   # school_id, social_index, L, reason
    notes: list[str] = field(default_factory=list)
    year: int | None = None
    cuts: dict = field(default_factory=dict)   # the thresholds actually applied (decile cut, quartile cut…)


def _flagged_units(u: pd.DataFrame, markers, p=None) -> np.ndarray:
    if markers is None:
        return np.zeros(len(u), dtype=bool)
    if hasattr(markers, "markers"):
        if p is not None and getattr(markers, "prepared", None) is p:
            # computed on this very prepared frame: its unit codes are ours
            out = np.zeros(len(u), dtype=bool)
            out[markers.flagged_units] = True
            return out
        markers = markers.markers
    if not len(markers):
        return np.zeros(len(u), dtype=bool)
    keys = ["year", "procedure", "school_id", "subject", "grade"]
    if p is not None and p.units is u and len(u):
        return _units_of(p, markers)
    flagged = markers[keys].drop_duplicates().assign(_flag=True)
    merged = u[keys].merge(flagged, on=keys, how="left")
    return merged["_flag"].fillna(False).to_numpy(dtype=bool)


def _units_of(p, markers) -> np.ndarray:
    """Per unit of `p`: whether `markers` (rows of year, procedure, school_id, subject, grade) name it. By the
    units' integer codes (work, school) instead of a five-key merge with the units' frame: a work is found by its
    four keys among the few works, a unit by (work, school)."""
    works = p.works
    position = {key: w for w, key in enumerate(zip(works["procedure"].tolist(), works["year"].tolist(),
                                                    works["subject"].tolist(), works["grade"].tolist()))}
    marker_work = np.array([position.get(key, -1) for key in zip(*(markers[c].tolist() for c in
                                                                  ("procedure", "year", "subject", "grade")))],
                           dtype=np.int64)
    school = p.units["school_id"].to_numpy().astype(np.int64)
    low, span = int(school.min()), int(school.max()) - int(school.min()) + 1
    marker_school = markers["school_id"].to_numpy(dtype=float)
    usable = (marker_work >= 0) & (marker_school >= low) & (marker_school < low + span)
    wanted = marker_work[usable] * span + (marker_school[usable].astype(np.int64) - low)
    return np.isin(p.units["work"].to_numpy().astype(np.int64) * span + (school - low), wanted)


def social_index(schools: pd.DataFrame) -> pd.DataFrame:
    """school_id, social_index (mean of standardised context attributes, higher = harder) and the
    standardised attributes; a missing attribute counts as the region's average."""
    frame = pd.DataFrame({"school_id": schools["id"].to_numpy()})

    def column(name) -> pd.Series:
        return schools[name] if name in schools.columns else pd.Series([None] * len(schools), index=schools.index)

    raw = {
        "low_income_share": pd.to_numeric(column("low_income_share"), errors="coerce"),
        "non_native_share": pd.to_numeric(column("non_native_share"), errors="coerce"),
        "ovz_share": pd.to_numeric(column("ovz_share"), errors="coerce"),
        # plain dict look-ups: Series.map on a string column costs more than the 1,500 look-ups themselves
        "village": np.array([SETTLEMENT_WEIGHT.get(v, np.nan) for v in column("settlement").tolist()], dtype=float),
        "remote": np.array([np.nan if v is None or (isinstance(v, float) and np.isnan(v)) else float(bool(v))
                            for v in column("remote").tolist()], dtype=float),
    }
    columns = {"school_id": frame["school_id"].to_numpy()}
    zs = []
    for name, values in raw.items():
        v = np.asarray(values, dtype=float)
        columns[name] = v
        z = np.nan_to_num(stats.zscores(v), nan=0.0)
        columns[f"z_{name}"] = z
        zs.append(z)
    columns["social_index"] = np.mean(zs, axis=0) if len(schools) else np.array([])
    return pd.DataFrame(columns)  # built once, not column by column


def _factors(hard: pd.DataFrame, means: dict) -> list[list[str]]:
    """Per school: the context attributes that make its conditions difficult (z ≥ 0.5, village, remote)."""
    out: list[list[str]] = [[] for _ in range(len(hard))]
    for name in ("low_income_share", "non_native_share", "ovz_share"):
        high = hard[f"z_{name}"].to_numpy() >= 0.5
        values = hard[name].to_numpy()
        for i in np.flatnonzero(high):
            out[i].append(f"{CONTEXT[name]} {fmt(values[i], 1)} % (в среднем по региону {fmt(means[name], 1)} %)")
    for name in ("village", "remote"):
        for i in np.flatnonzero(hard[name].to_numpy() == 1.0):
            out[i].append(CONTEXT[name])
    return out


def compute_low_results(results, schools: pd.DataFrame, markers, thresholds, *, year: int | None = None
                        ) -> LowResults:
    """L(s) per year, ШНОР, ШНСУ and resilient schools for `year` (default: the latest year in results)."""
    th = thresholds
    p = prepare(results)
    u = p.units
    notes: list[str] = []
    nw = len(p.works)
    keep = (u["n"].to_numpy() >= th["min_participants"]) & ~_flagged_units(u, markers, p)
    work = u["work"].to_numpy()
    share2 = u["share_2"].to_numpy()
    z2 = stats.group_zscores(np.where(keep, share2, np.nan), work, nw)
    zm = stats.group_zscores(np.where(keep, u["mean_percent"].to_numpy(), np.nan), work, nw)
    comp = np.nan_to_num(z2, nan=0.0) - zm
    # the kept units as plain arrays (a frame of thousands of rows costs more in selection than in arithmetic)
    units = {"year": u["year"].to_numpy()[keep], "school_id": u["school_id"].to_numpy()[keep],
             "subject": u["subject"].to_numpy(dtype=object)[keep], "comp": comp[keep], "z2": z2[keep],
             "zm": zm[keep], "n_marked": u["n_marked"].to_numpy()[keep], "share_2": share2[keep]}
    # per (year, school) by bincount on one integer key: the units frame has thousands of rows
    ys = units["year"].astype(np.int64)
    ss = units["school_id"].astype(np.int64)
    base = int(ss.max()) + 1 if len(ss) else 1
    codes, keys = pd.factorize(ys * base + ss, sort=True)
    count = np.bincount(codes, minlength=len(keys)).astype(float)

    def mean_of(values):
        v = np.asarray(values, dtype=float)
        ok = ~np.isnan(v)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (np.bincount(codes, weights=np.where(ok, v, 0.0), minlength=len(keys))
                    / np.bincount(codes, weights=ok, minlength=len(keys)))

    index = pd.DataFrame({"year": keys // base, "school_id": keys % base, "L": mean_of(units["comp"]),
                          "units": count.astype(int), "z_share_2": mean_of(units["z2"]),
                          "z_mean_percent": mean_of(units["zm"])})
    # one str.replace over the joined text instead of one number formatting call per value
    index["components"] = "\n".join(
        f"по {k} результатам: средняя z(доля «2») = {a:.2f}, средняя z(средний % выполнения) = {b:.2f}"
        for k, a, b in zip(index["units"].tolist(), index["z_share_2"].tolist(), index["z_mean_percent"].tolist())
    ).replace(".", ",").replace("-", "−").replace("nan", "—").split("\n") if len(index) else []
    years = sorted(index["year"].unique().tolist())
    if year is None:
        year = years[-1] if years else None
    dropped = int((~keep & (u["n"].to_numpy() >= th["min_participants"])).sum())
    if dropped:
        notes.append(f"Из расчёта индекса исключены результаты с признаками необъективности: {dropped} "
                     "(школа, предмет, класс, год).")
    cuts: dict = {}
    # ШНОР, rule 1: worst share of L (decile) in each of the last `shnor_years` years
    span = [year - k for k in range(th["shnor_years"] - 1, -1, -1)] if year is not None else []
    worst_by_year = {}
    i_year, i_school, i_l = index["year"].to_numpy(), index["school_id"].to_numpy(), index["L"].to_numpy()
    for y in years:
        sel = i_year == y
        col_l, col_school = i_l[sel], i_school[sel]
        cut = float(np.quantile(col_l, 1 - th["shnor_worst_share"])) if len(col_l) else np.nan
        cuts[f"L_worst_{y}"] = cut
        worst_by_year[y] = set(col_school[col_l >= cut].tolist())
    rule1: set = set()
    if span and all(y in worst_by_year for y in span):
        rule1 = set.intersection(*(worst_by_year[y] for y in span))
    elif year is not None:
        missing = [y for y in span if y not in worst_by_year]
        notes.append(f"Нет данных за {', '.join(map(str, missing))} г.: правило «индекс низких результатов в "
                     f"худшем дециле {th['shnor_years']} года подряд» применить нельзя; ШНОР не определяются "
                     "(доля отметок «2» лишь подтверждает низкие результаты).")
    # ШНОР, rule 2: share of "2" ≥ threshold in ≥ N subjects (the analysis year, pooled over grades)
    sel = (units["year"] == year) & (units["n_marked"] > 0)
    cur = pd.DataFrame({name: units[name][sel] for name in ("school_id", "subject", "share_2", "n_marked")})
    # per (school, subject) in (school, subject) order: a group-by on one integer key (the same summation
    # as by the two columns, cheaper than grouping by a string column)
    cur = cur[cur["subject"].notna()]
    subj_codes, subj_names = pd.factorize(cur["subject"].to_numpy(dtype=object), sort=True)
    pair = cur["school_id"].to_numpy().astype(np.int64) * max(len(subj_names), 1) + subj_codes
    by_subject = pd.DataFrame({"twos": cur["share_2"].to_numpy() * cur["n_marked"].to_numpy(),
                               "n": cur["n_marked"].to_numpy()}).groupby(pair).sum()
    share = (by_subject["twos"] / by_subject["n"]).to_numpy()
    fail = share >= th["shnor_fail_share"]
    fail_pairs = by_subject.index.to_numpy()[fail]
    fail_subjects: dict = {}
    for school, subject, value in zip((fail_pairs // max(len(subj_names), 1)).tolist(),
                                      subj_names[fail_pairs % max(len(subj_names), 1)].tolist(), share[fail].tolist()):
        fail_subjects.setdefault(school, []).append((subject, value))
    # the share of «2» supports a school's place on the list (FIOKO): it is never a way onto it by itself
    rows = []
    latest = latest_index(index, year)  # once: the list of ШНОР and the resilient schools both read it
    latest_of = dict(zip(latest.index.tolist(), latest.to_numpy(dtype=float).tolist())) if year is not None else {}
    l_of = dict(zip(zip(i_year.tolist(), i_school.tolist()), i_l.tolist())) if rule1 else {}
    for s in sorted(rule1):
        values = "; ".join(f"{y} г.: {fmt(l_of[(y, s)])} (граница дециля {fmt(cuts[f'L_worst_{y}'])})" for y in span)
        reasons = [f"индекс низких результатов в худшем дециле школ региона {len(span)} года подряд: {values}"]
        if s in fail_subjects:
            subj = "; ".join(f"{name} — {pct(v)}" for name, v in fail_subjects[s])
            reasons.append(f"подтверждается долей отметок «2» не ниже {pct(th['shnor_fail_share'])} в {year} г.: "
                           f"{subj}")
        rows.append({"school_id": int(s), "L": float(latest_of.get(s, np.nan)), "reasons": reasons,
                     "years": list(span)})
    shnor = pd.DataFrame(rows, columns=["school_id", "L", "reasons", "years"])
    # ШНСУ and resilient schools
    social = social_index(schools) if len(schools) else pd.DataFrame(columns=["school_id", "social_index"])
    if len(social):
        cut = float(np.quantile(social["social_index"], 1 - th["shnsu_worst_share"]))
        cuts["social_worst"] = cut
        means = {name: float(np.nanmean(social[name])) if social[name].notna().any() else np.nan
                 for name in ("low_income_share", "non_native_share", "ovz_share")}
        hard = social[social["social_index"] >= cut]
        shnsu = pd.DataFrame({"school_id": hard["school_id"].astype(int).to_numpy(),
                              "social_index": hard["social_index"].to_numpy(),
                              "factors": _factors(hard, means)})
        if np.isnan(social[list(CONTEXT)].to_numpy(dtype=float)).all():
            notes.append("Нет контекстных данных школ (доли, тип поселения): индекс социального контекста не "
                         "различает школы.")
    else:
        shnsu = pd.DataFrame(columns=["school_id", "social_index", "factors"])
    if len(latest):
        lcut = float(np.quantile(latest.to_numpy(), th["resilient_max_quantile"]))
        cuts["resilient_L"] = lcut
        l_of_shnsu = shnsu["school_id"].map(latest)
        chosen = (l_of_shnsu.le(lcut) & ~shnsu["school_id"].isin(shnor["school_id"])).to_numpy(dtype=bool)
        res = shnsu[chosen]
        resilient = pd.DataFrame({
            "school_id": res["school_id"].to_numpy(), "social_index": res["social_index"].to_numpy(),
            "L": l_of_shnsu.to_numpy(dtype=float)[chosen]})
        resilient["reason"] = [f"сложный социальный контекст (индекс {fmt(si)}), но индекс низких результатов "
                               f"{fmt(lv)} не выше {fmt(lcut)} (медиана по региону)" for si, lv in
                               zip(resilient["social_index"], resilient["L"])]
    else:
        resilient = pd.DataFrame(columns=["school_id", "social_index", "L", "reason"])
    return LowResults(index=index, shnor=shnor, shnsu=shnsu.reset_index(drop=True),
                      resilient=resilient.reset_index(drop=True), notes=notes, year=year, cuts=cuts)


def latest_index(index: pd.DataFrame, year) -> pd.Series:
    """school_id → L in `year`."""
    if year is None:
        return pd.Series(dtype=float)
    return index[index["year"] == year].set_index("school_id")["L"]

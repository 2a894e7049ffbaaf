"""Context clusters of schools (domain.md §8): schools grouped by standardised context attributes with
k-means (numpy, fixed seed, several k-means++ starts), k chosen by the mean silhouette; or by rules the
region configures. Each school's result is then compared with its cluster («выше / ниже ожидаемого для
школ со схожими условиями»)."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.analysis.methods import stats
from app.analysis.methods.stats import fmt

ATTRIBUTES = {  # column → Russian name used in the cluster descriptions
    "students": "обучающихся",
    "urban": "доля городских школ",
    "remote": "доля удалённых школ",
    "low_income_share": "малообеспеченных, %",
    "non_native_share": "неродной русский, %",
    "ovz_share": "с ОВЗ, %",
}
SILHOUETTE_SAMPLE = 400
URBAN = {"city": 1.0, "town": 0.5, "village": 0.0}
ABOVE = "выше ожидаемого для школ со схожими условиями"
BELOW = "ниже ожидаемого для школ со схожими условиями"
LEVEL = "на уровне ожидаемого для школ со схожими условиями"


@dataclass
class Clusters:
    labels: pd.Series                      # school_id → cluster number (1..k)
    k: int
    criterion: dict = field(default_factory=dict)   # k → mean silhouette ("rules" when configured)
    profiles: pd.DataFrame | None = None   # cluster, size, attribute means (original units), description
    method: str = "kmeans"


def context_matrix(schools: pd.DataFrame) -> pd.DataFrame:
    """The context attributes in original units (students, urban 0/0.5/1, remote 0/1, shares in %),
    missing values filled with the region's mean."""
    frame = pd.DataFrame(index=schools["id"].to_numpy())

    def column(name) -> pd.Series:
        return schools[name] if name in schools.columns else pd.Series([None] * len(schools), index=schools.index)

    frame["students"] = pd.to_numeric(column("students"), errors="coerce").to_numpy(dtype=float)
    frame["urban"] = np.array([URBAN.get(v, np.nan) for v in column("settlement").tolist()], dtype=float)
    frame["remote"] = np.array([np.nan if v is None or (isinstance(v, float) and np.isnan(v)) else float(bool(v))
                                for v in column("remote").tolist()], dtype=float)
    for name in ("low_income_share", "non_native_share", "ovz_share"):
        frame[name] = pd.to_numeric(column(name), errors="coerce").to_numpy(dtype=float)
    return frame.fillna(frame.mean()).fillna(0.0)


def _standardise(frame: pd.DataFrame) -> np.ndarray:
    x = frame.to_numpy(dtype=float).copy()
    x[:, 0] = np.log1p(x[:, 0])  # school size is skewed: compare orders of magnitude
    sd = x.std(axis=0)
    keep = sd > stats.EPS
    return (x[:, keep] - x[:, keep].mean(axis=0)) / sd[keep]


def kmeans(x: np.ndarray, k: int, *, seed: int = 0, n_init: int = 3, max_iter: int = 60):
    """Lloyd's k-means with k-means++ starts; returns (labels, inertia) of the best start."""
    rng = np.random.default_rng(seed)
    n = len(x)
    best = (None, np.inf)
    sq = (x * x).sum(axis=1)
    dims = x.shape[1]
    # loop invariants of the assignment step (up to 60 steps × 3 starts × 5 values of k on 1,500 schools)
    twice = 2 * x
    flat = x.ravel()
    cells = np.arange(dims)
    for _ in range(n_init):
        centres = [x[rng.integers(n)]]
        d2 = ((x - centres[0]) ** 2).sum(axis=1)
        for _j in range(1, k):
            total = d2.sum()
            i = rng.choice(n, p=d2 / total) if total > 0 else rng.integers(n)
            centres.append(x[i])
            d2 = np.minimum(d2, ((x - x[i]) ** 2).sum(axis=1))
        c = np.array(centres)
        labels = np.full(n, -1)
        for _it in range(max_iter):
            dist = sq[:, None] - twice @ c.T + (c * c).sum(axis=1)[None, :]
            new = dist.argmin(axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            counts = np.bincount(labels, minlength=k)
            # every dimension's sums by one bincount over (label, dimension), rows added in order as before
            sums = np.bincount((labels[:, None] * dims + cells).ravel(), weights=flat,
                               minlength=k * dims).reshape(k, dims)
            c = np.where((counts > 0)[:, None], sums / np.maximum(counts, 1)[:, None], c)
        inertia = float(np.maximum(dist[np.arange(n), labels], 0).sum())
        if inertia < best[1]:
            best = (labels.copy(), inertia)
    return best


def _match(value, condition) -> bool:
    if isinstance(condition, dict):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return False
        return (condition.get("min") is None or value >= condition["min"]) and (
            condition.get("max") is None or value <= condition["max"])
    if isinstance(condition, list):
        return value in condition
    return value == condition


def _by_rules(schools: pd.DataFrame, rules: list[dict]) -> pd.Series:
    """Rules: [{"label": "Сельские малокомплектные", "where": {"settlement": ["village"], "students": {"max": 100}}},
    …]; the first matching rule wins; schools matching none form the cluster «Прочие школы»."""
    labels = []
    for _i, row in schools.iterrows():
        found = len(rules) + 1
        for number, rule in enumerate(rules, start=1):
            if all(_match(row.get(attr), cond) for attr, cond in (rule.get("where") or {}).items()):
                found = number
                break
        labels.append(found)
    return pd.Series(labels, index=schools["id"].to_numpy(), name="cluster")


def _profiles(raw: pd.DataFrame, labels: pd.Series, names: dict | None = None) -> pd.DataFrame:
    cluster = labels.reindex(raw.index).to_numpy()
    codes, uniques = pd.factorize(cluster, sort=True)
    size = np.bincount(codes, minlength=len(uniques))
    prof = pd.DataFrame({name: np.bincount(codes, weights=raw[name].to_numpy(dtype=float), minlength=len(uniques))
                         / size for name in raw.columns}, index=pd.Index(uniques, name="cluster"))
    prof.insert(0, "size", size)
    overall = raw.mean()
    descriptions = []
    for cluster, row in prof.iterrows():
        parts = [f"{int(row['size'])} школ", f"в среднем {fmt(row['students'], 0)} обучающихся",
                 f"городских {fmt(100 * row['urban'], 0)} %"]
        if row["remote"] > 0:
            parts.append(f"удалённых {fmt(100 * row['remote'], 0)} %")
        for name, label in (("low_income_share", "малообеспеченных"), ("non_native_share", "с неродным русским"),
                            ("ovz_share", "с ОВЗ")):
            mark = " (выше среднего)" if row[name] > overall[name] * 1.2 else (
                " (ниже среднего)" if row[name] < overall[name] * 0.8 else "")
            parts.append(f"{label} {fmt(row[name], 1)} %{mark}")
        title = (names or {}).get(cluster) or f"Кластер {cluster}"
        descriptions.append(f"{title}: " + ", ".join(parts))
    prof["description"] = descriptions
    return prof.reset_index()


def cluster_schools(schools: pd.DataFrame, *, k: int | None = None, k_range=(2, 6), seed: int = 0,
                    rules: list[dict] | None = None) -> Clusters:
    """Cluster schools by context. With `rules`, the region's rules decide; otherwise k-means on the
    standardised attributes, k fixed or chosen in k_range by the largest mean silhouette."""
    raw = context_matrix(schools)
    if rules:
        labels = _by_rules(schools, rules)
        names = {i: r.get("label") for i, r in enumerate(rules, start=1)} | {len(rules) + 1: "Прочие школы"}
        return Clusters(labels=labels, k=int(labels.nunique()), criterion={"rules": len(rules)},
                        profiles=_profiles(raw, labels, names), method="rules")
    n = len(raw)
    if n == 0:
        return Clusters(labels=pd.Series(dtype=int, name="cluster"), k=0, profiles=pd.DataFrame())
    x = _standardise(raw)
    candidates = [k] if k else list(range(max(1, k_range[0]), k_range[1] + 1))
    candidates = [c for c in candidates if 1 <= c < max(n, 2)] or [1]
    if x.shape[1] == 0 or n < 3:
        candidates = [1]
    # The silhouette needs all pairwise distances; above SILHOUETTE_SAMPLE schools it is computed on a
    # seeded random sample of them (as scikit-learn's silhouette_score(sample_size=…) does).
    sample = np.arange(n) if n <= SILHOUETTE_SAMPLE else np.sort(
        np.random.default_rng(seed).choice(n, SILHOUETTE_SAMPLE, replace=False))
    distances = stats.pairwise_distances(x[sample]) if len(candidates) > 1 or candidates[0] > 1 else None
    criterion, fits = {}, {}
    for c in candidates:
        labels, _inertia = kmeans(x, c, seed=seed) if c > 1 else (np.zeros(n, dtype=int), 0.0)
        fits[c] = labels
        criterion[c] = stats.silhouette(distances, labels[sample]) if c > 1 else float("nan")
    scored = {c: v for c, v in criterion.items() if not np.isnan(v)}
    chosen = max(scored, key=lambda c: (scored[c], -c)) if scored else candidates[0]
    # Number clusters by size, largest first, so the numbering is stable and readable.
    raw_labels = fits[chosen]
    order = np.argsort(-np.bincount(raw_labels, minlength=chosen), kind="stable")
    rank = np.empty(chosen, dtype=int)
    rank[order] = np.arange(1, chosen + 1)
    labels = pd.Series(rank[raw_labels], index=raw.index, name="cluster")
    return Clusters(labels=labels, k=chosen, criterion=criterion, profiles=_profiles(raw, labels))


def compare_with_cluster(values: pd.Series, labels: pd.Series, higher_is_better: bool = True, *,
                         z_threshold: float = 0.5) -> pd.DataFrame:
    """Each school's value against the mean of its cluster: z within the cluster and the position
    phrase. A cluster whose values do not vary (or a school alone in it) gives «на уровне»."""
    values = values.dropna()
    values = values[values.index.isin(labels.index)]
    cluster = labels.reindex(values.index).to_numpy()
    codes, uniques = pd.factorize(cluster)
    count, mean, sd = stats.group_stats(values.to_numpy(dtype=float), codes, len(uniques))
    z = stats.group_zscores(values.to_numpy(dtype=float), codes, len(uniques))
    good = z if higher_is_better else -z
    frame = pd.DataFrame({"school_id": values.index.to_numpy(), "cluster": cluster, "value": values.to_numpy(),
                          "cluster_mean": mean[codes], "cluster_sd": sd[codes], "z": z,
                          "position": np.where(good >= z_threshold, ABOVE, np.where(good <= -z_threshold, BELOW,
                                                                                      LEVEL))})
    return frame[["school_id", "cluster", "value", "cluster_mean", "cluster_sd", "z", "position"]]

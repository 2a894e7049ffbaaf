"""Speed of the full analysis (domain.md §8) against a plain pandas group-by, measured in the same run.

Dataset: a synthetic region (app.analysis.methods.synthetic) of 1,500 schools and ≈300,000 result rows
(two years; ВПР mathematics and Russian in grades 4 and 5, ОГЭ mathematics in grade 9; 14 tasks per work,
term marks), and a municipality of 30 schools and ≈50,000 rows (three years, six works).

Baseline: one plain pandas group-by over (year, procedure, subject, grade, school_id) computing the same
per-school aggregates as aggregates.school_aggregates (n, mean percent, shares of marks 2–5, mean mark).

Full analysis (timed): aggregates.prepare + school_aggregates + objectivity.compute_markers (K1–K5) +
objectivity.stably_objective + municipality_shares + low_results.compute_low_results (L, ШНОР, ШНСУ,
resilient) + clusters.cluster_schools (k chosen in 2..6 by silhouette) + compare_with_cluster of L.
Loading from the database is NOT in these timings; `--db` measures data.load_results separately
(SQLite file, and PostgreSQL when BENCH_DATABASE_URL is set) after inserting the rows.

BENCH_REPEATS pairs of runs (default 15), the two sides interleaved; printed: the best of each side and their
ratio, and the median of the per-pair ratios (what a typical run looks like). On a shared, busy machine the
shorter baseline finds quiet moments more easily, so raise the repeats there. Target: full / baseline ≤ 3×.

Run: .venv/bin/python bench/analysis.py [--db]
"""

import argparse
import os
import sys
import time
from pathlib import Path

# The matrices here are small (schools × clusters); BLAS threads only add hand-off cost, and on a busy
# machine a lot of it. Set before numpy is imported.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from app.analysis.methods import aggregates, clusters, low_results, objectivity  # noqa: E402
from app.analysis.methods.synthetic import DEFAULT_WORKS, as_loaded, generate_region  # noqa: E402
from app.analysis.methods.thresholds import load_thresholds  # noqa: E402

REPEATS = int(os.environ.get("BENCH_REPEATS", "15"))
KEYS = ["year", "procedure", "subject", "grade", "school_id"]
REGION_WORKS = DEFAULT_WORKS[:5]


def baseline(df):
    """The plain pandas group-by: per-school aggregates straight from the rows."""
    marked = df["mark"].notna()
    frame = df[KEYS].assign(
        pct=100.0 * df["primary_score"] / df["max_score"], mark=df["mark"],
        **{f"s{m}": df["mark"].eq(m).where(marked) for m in (2, 3, 4, 5)})
    return frame.groupby(KEYS, sort=False).agg(
        n=("pct", "size"), mean_percent=("pct", "mean"), share_2=("s2", "mean"), share_3=("s3", "mean"),
        share_4=("s4", "mean"), share_5=("s5", "mean"), mean_mark=("mark", "mean"))


def full_analysis(df, schools, thresholds):
    p = aggregates.prepare(df)
    agg = aggregates.school_aggregates(p)
    obj = objectivity.compute_markers(p, schools, thresholds)
    years = sorted(df["year"].unique().tolist())
    objectivity.stably_objective(obj, schools, years)
    objectivity.municipality_shares(obj, schools, p, years[-1])
    low = low_results.compute_low_results(p, schools, obj, thresholds)
    cl = clusters.cluster_schools(schools, k_range=(thresholds["cluster_k_min"], thresholds["cluster_k_max"]))
    latest = low.index[low.index["year"] == low.year].set_index("school_id")["L"]
    clusters.compare_with_cluster(latest, cl.labels, higher_is_better=False)
    return agg, obj, low, cl


def best_once(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def best(fn, *args):
    times = []
    out = None
    for _ in range(REPEATS):
        start = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - start)
    return min(times), out


def measure(name, region, thresholds):
    df, schools = as_loaded(region.results), region.schools
    # interleaved, so that a burst of load on the machine hits both sides alike; best and median of REPEATS
    bases, fulls = [], []
    for _ in range(REPEATS):
        t, base = best_once(baseline, df)
        bases.append(t)
        t, (agg, obj, low, cl) = best_once(full_analysis, df, schools, thresholds)
        fulls.append(t)
    t_base, t_full = min(bases), min(fulls)
    # the median of the ratios of each interleaved pair: what a typical run looks like, not the luckiest one
    ratio_median = float(np.median(np.array(fulls) / np.array(bases)))
    # the two computations agree on the aggregates (checked, not timed)
    merged = agg.merge(base.reset_index(), on=KEYS, suffixes=("", "_b"))
    assert len(merged) == len(agg) == len(base)
    assert np.allclose(merged["mean_percent"], merged["mean_percent_b"])
    assert np.allclose(merged["share_2"], merged["share_2_b"], equal_nan=True)
    print(f"{name}: {len(schools)} школ, {len(df):,} строк результатов".replace(",", " "))
    print(f"  pandas group-by (базовая линия):  лучшее {t_base * 1000:7.1f} мс, медиана "
          f"{np.median(bases) * 1000:7.1f} мс")
    print(f"  полный анализ (K1–K5, ШНОР/ШНСУ, кластеры): лучшее {t_full * 1000:7.1f} мс, медиана "
          f"{np.median(fulls) * 1000:7.1f} мс")
    print(f"  отношение: {t_full / t_base:.2f}× по лучшим, {ratio_median:.2f}× медиана по {REPEATS} парам "
          "(цель ≤ 3×)")
    print(f"  признаков: {len(obj.markers)}, ШНОР: {len(low.shnor)}, ШНСУ: {len(low.shnsu)}, "
          f"кластеров: {cl.k}")
    return t_full, t_base


def load_results_for(years):
    from app.analysis.methods.data import load_results

    return load_results(years=years)


def measure_db(region):
    """data.load_results from a database holding the region's rows (not part of the ratio)."""
    import tempfile

    from flask_migrate import upgrade

    from app import create_app
    from app.analysis.methods.synthetic import insert_results
    from app.extensions import db
    from app.orgs.models import Organisation
    from tests.conftest import make_config

    urls = [f"sqlite:///{tempfile.mkdtemp(prefix='anm-bench-')}/bench.sqlite3"]
    if os.environ.get("BENCH_DATABASE_URL"):
        urls.append(os.environ["BENCH_DATABASE_URL"])
    for url in urls:
        if url.startswith("postgresql"):
            from tests.conftest import reset_postgres_schema

            reset_postgres_schema(url)
        app = create_app(make_config(url))
        with app.app_context():
            upgrade()
            region_org = Organisation(code="BR", name="Регион", kind="region", path="")
            db.session.add(region_org)
            db.session.flush()
            region_org.path = f"/{region_org.id}/"
            ids = {}
            mun = {}
            for m in region.municipalities.itertuples():
                org = Organisation(code=m.code, name=m.name, kind="municipality", parent=region_org, path="")
                db.session.add(org)
                db.session.flush()
                org.path = f"{region_org.path}{org.id}/"
                mun[m.id] = org
            for s in region.schools.itertuples():
                org = Organisation(code=s.code, name=s.name, kind="school", parent=mun[s.municipality_id], path="",
                                   profile=s.profile, settlement=s.settlement, remote=bool(s.remote),
                                   students=int(s.students))
                db.session.add(org)
                db.session.flush()
                org.path = f"{mun[s.municipality_id].path}{org.id}/"
                ids[s.id] = org.id
            insert_results(db.session, region.results, ids)
            db.session.commit()
            years = sorted(region.results["year"].unique().tolist())
            t_load, df = best(load_results_for, years)
            print(f"  загрузка из БД ({db.engine.dialect.name}, data.load_results): {t_load * 1000:8.1f} мс, "
                  f"{len(df):,} строк (в отношение не входит)".replace(",", " "))
            db.session.remove()
            db.engine.dispose()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", action="store_true", help="also time loading the rows from the database")
    args = parser.parse_args()
    thresholds = load_thresholds()
    region = generate_region(n_schools=1500, n_municipalities=50, years=(2024, 2025), works=REGION_WORKS,
                             students=20, seed=1)
    mun = generate_region(n_schools=30, n_municipalities=1, years=(2023, 2024, 2025), works=DEFAULT_WORKS,
                          students=93, seed=2)
    measure("Регион", region, thresholds)
    if args.db:
        measure_db(region)
    measure("Муниципалитет", mun, thresholds)


if __name__ == "__main__":
    main()

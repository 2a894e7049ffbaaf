"""Speed of the full analysis (domain.md §8) against a plain pandas group-by, measured in the same run.

Dataset: a synthetic region (app.analysis.methods.synthetic) of 1,500 schools and ≈300,000 result rows
(two years; ВПР mathematics and Russian in grades 4 and 5, ОГЭ mathematics in grade 9; 14 tasks per work,
term marks), and a municipality of 30 schools and ≈50,000 rows (three years, six works).

Baseline: one plain pandas group-by over (year, procedure, subject, grade, school_id) computing the same
per-school aggregates as aggregates.school_aggregates (n, mean percent, shares of marks 2–5, mean mark).

Full analysis (timed): app.analysis.methods.pipeline.compute, the analysis job's own computation — aggregates.prepare
once, school_aggregates, objectivity.compute_markers (K1–K5), the sign tests and the per-school verdicts of each year
(Benjamini–Hochberg, Stouffer/Bonferroni), stably objective schools, municipality shares, low_results (L, ШНОР, ШНСУ,
resilient), clusters (k chosen by silhouette) and compare_with_cluster. (Before issue 15's last round the bench
timed an older subset without the sign tests and verdicts: its 3.6× was not the job's cost.)
Loading from the database is NOT in these timings; `--db` measures data.load_results separately
(SQLite file, and PostgreSQL when BENCH_DATABASE_URL is set) after inserting the rows.

BENCH_REPEATS pairs of runs (default 15), the two sides interleaved; printed: the best of each side and their
ratio, and the median of the per-pair ratios (what a typical run looks like). On a shared, busy machine the
shorter baseline finds quiet moments more easily, so raise the repeats there. Target: full / baseline ≤ 3×.

Run: .venv/bin/python bench/analysis.py [--db]

`--scale 1,4,16` (issue 15 §4): the analysis run as the application runs it (app.analysis.jobs / fanout: read from
the database, compute, store, rebuild the dashboard) on generated regions of growing size — `--municipalities`
(default 10) × the factor municipalities of 30 schools each, two years of five works, ≈200 rows per school — in
PostgreSQL at BENCH_DATABASE_URL (reset for each size; SQLite when unset). For each size, the same run three ways:
the single job; fanned out (one part per municipality, then the combining job; inline, one after another, as a
worker would run each); and the baseline, a plain SQL group-by per municipality (count and mean percent per
school, subject, grade and year — the least any analysis reads). Printed per size: the rows, the single job's
time and peak memory; per municipality the part's time and statements against the baseline's; the combining
job's time and peak memory; memory per result row and the combining job's peak against the largest part's; how
each grew against the previous size, with the single and combining jobs' statement counts (constant but for the
result rows: bulk reads, one insert per kind of result and 4 MB of it). Peak memory (tracemalloc: Python and numpy
allocations) is measured in a separate pass, so the timings carry no tracing cost.
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

from app.analysis.methods import pipeline  # noqa: E402
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
    """What the analysis job computes (app.analysis.methods.pipeline, the job's own function): prepare once, K1–K5,
    the sign tests and the per-school verdicts of each year, ШНОР/ШНСУ/resilient, the clusters and the comparison
    with the cluster."""
    years = sorted(df["year"].unique().tolist())
    done = pipeline.compute(df, schools, thresholds, boundaries=None, structures=None, years=years)
    return done.aggregates, done.markers, done.low, done.clustering


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


# --- scale: the application's run, single and fanned out, on growing regions ------------------------------

class Statements:
    """Counts the statements an engine executes while active."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.count = 0
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args):
        self.count += 1

    def close(self):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._seen)


def seed_scale(url: str, municipalities: int, seed: int):
    """A fresh database holding a generated region of `municipalities` × 30 schools; (app, cycle id, region id,
    years, rows)."""
    import tempfile

    from flask_migrate import upgrade
    from sqlalchemy import select

    from app.analysis.methods.synthetic import insert_results
    from app.auth.services import create_user
    from app.catalogue.models import MechanismSet
    from app.catalogue.services import load_all
    from app.cycles import services as cycles
    from app.extensions import db
    from app.imports import partitions
    from app.orgs.services import create_organisation
    from bench.web_load import _app, bulk_organisations

    if url.startswith("postgresql"):
        from tests.conftest import reset_postgres_schema

        reset_postgres_schema(url)
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='anm-scale-')}/bench.sqlite3"
    app = _app(url)
    with app.app_context():
        upgrade()
        load_all()
        region = create_organisation(code="SCALE", name="Масштабная область", kind="region")
        official = create_user(login="official", full_name="Специалистова Мария", password="bench-scale-2026",
                               position="Главный специалист", roles=[("official", region)])
        synthetic = generate_region(n_schools=30 * municipalities, n_municipalities=municipalities,
                                    years=(2024, 2025), works=REGION_WORKS, students=20, seed=seed)
        school_ids = bulk_organisations(synthetic, region)
        partitions.ensure_years([2024, 2025])
        rows = insert_results(db.session, synthetic.results, school_ids)
        mset = db.session.scalar(select(MechanismSet).where(MechanismSet.level == "regional",
                                                            MechanismSet.active.is_(True)))
        track = next(track for mech in mset.mechanisms for track in mech.tracks)
        cycle = cycles.create_cycle(track=track, owner=region, period="2024/25", actor=official, responsible=official)
        db.session.commit()
        ids = (cycle.id, region.id, region.path)
    return app, ids, rows


def new_run(cycle_id, region_id, region_path, fanned):
    import uuid

    from app.analysis.models import AnalysisRun
    from app.extensions import db

    run = AnalysisRun(cycle_id=cycle_id, organisation_id=region_id, years=[2023, 2024, 2025], status="queued",
                      progress=0, rq_job_id=uuid.uuid4().hex,
                      params={"years": [2023, 2024, 2025], "reference_organisation_id": region_id,
                              "reference_path": region_path, "scope_path": region_path, "fanout": fanned})
    db.session.add(run)
    db.session.commit()
    return run.id


def timed_parts():
    """Wrap the part and combining jobs (as the queue finds them by name) to time them and count statements."""
    from app.analysis import jobs as fanout
    from app.extensions import db

    log = {"parts": [], "combine": None}
    real_part, real_combine = fanout.run_part, fanout.combine_analysis

    def part(part_id):
        counter = Statements(db.engine)
        start = time.perf_counter()
        real_part(part_id)
        log["parts"].append((part_id, time.perf_counter() - start, counter.count))
        counter.close()

    def combine(run_id):
        counter = Statements(db.engine)
        start = time.perf_counter()
        real_combine(run_id)
        log["combine"] = (time.perf_counter() - start, counter.count)
        counter.close()

    part.job_spec, combine.job_spec = real_part.job_spec, real_combine.job_spec
    fanout.run_part, fanout.combine_analysis = part, combine
    return log, lambda: (setattr(fanout, "run_part", real_part), setattr(fanout, "combine_analysis", real_combine))


def baseline_sql(school_ids):
    """The plain SQL group-by of one municipality: count and mean percent per school, work and year."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.imports.models import AssessmentResult as R

    return db.session.execute(
        select(R.school_id, R.year, R.procedure, R.subject, R.grade, func.count(),
               func.avg(100.0 * R.primary_score / R.max_score))
        .where(R.school_id.in_(school_ids), R.year.in_([2023, 2024, 2025]))
        .group_by(R.school_id, R.year, R.procedure, R.subject, R.grade)).all()


def run_scale(app, ids, traced: bool):
    """One size: the single job, the fanned-out run and the baselines; a dict of figures."""
    import tracemalloc

    from sqlalchemy import select

    from app.analysis.jobs import run_analysis
    from app.analysis.models import AnalysisPart, AnalysisRun
    from app.extensions import db
    from app.jobs.queue import dispatch_ready

    out = {}
    with app.test_request_context():
        if traced:
            tracemalloc.start()
        single = new_run(*ids, False)
        counter = Statements(db.engine)
        start = time.perf_counter()
        run_analysis(single)
        out["single"] = (time.perf_counter() - start, counter.count)
        counter.close()
        if traced:
            out["single_peak"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
        fanned = new_run(*ids, True)
        log, restore = timed_parts()
        peaks = []
        try:
            from app.analysis import jobs as fanout

            if traced:
                inner_part, inner_combine = fanout.run_part, fanout.combine_analysis

                def part(part_id):
                    tracemalloc.reset_peak()
                    inner_part(part_id)
                    peaks.append(tracemalloc.get_traced_memory()[1])

                def combine(run_id):
                    tracemalloc.reset_peak()
                    inner_combine(run_id)
                    out["combine_peak"] = tracemalloc.get_traced_memory()[1]

                part.job_spec, combine.job_spec = inner_part.job_spec, inner_combine.job_spec
                fanout.run_part, fanout.combine_analysis = part, combine
            run_analysis(fanned)
            dispatch_ready()
        finally:
            restore()
            if traced:
                tracemalloc.stop()
        db.session.expire_all()
        runs = {r.id: r for r in db.session.scalars(select(AnalysisRun).where(AnalysisRun.id.in_([single, fanned])))}
        assert runs[single].status == runs[fanned].status == "done", (runs[single].message, runs[fanned].message)
        assert runs[single].fingerprint == runs[fanned].fingerprint
        parts = {p.id: p for p in db.session.scalars(select(AnalysisPart).where(AnalysisPart.run_id == fanned))}
        out["parts"] = [(parts[pid].rows, t, n) for pid, t, n in log["parts"]]
        out["part_peaks"] = peaks
        out["combine"] = log["combine"]
        out["rows"] = runs[single].summary["rows"]
        bases = []
        for p in parts.values():
            counter = Statements(db.engine)
            start = time.perf_counter()
            baseline_sql(p.school_ids)
            bases.append((time.perf_counter() - start, counter.count))
            counter.close()
        out["baseline"] = bases
        db.session.rollback()
    return out


def measure_scale(factors, municipalities: int):
    url = os.environ.get("BENCH_DATABASE_URL", "sqlite")
    print(f"Масштаб: {', '.join(f'{f}×' for f in factors)} региона из {municipalities} муниципалитетов по 30 школ "
          f"({'PostgreSQL' if url.startswith('postgresql') else 'SQLite'})", flush=True)
    previous = None
    rows_table = []
    for factor in factors:
        n = municipalities * factor
        app, ids, _rows = seed_scale(url, n, seed=factor)
        timed = run_scale(app, ids, traced=False)
        traced = run_scale(app, ids, traced=True)
        parts = timed["parts"]
        part_t = np.array([t for _r, t, _n in parts])
        part_n = np.array([k for _r, _t, k in parts])
        base_t = np.array([t for t, _n in timed["baseline"]])
        base_n = np.array([k for _t, k in timed["baseline"]])
        mb = 1024 * 1024
        figures = {"rows": timed["rows"], "single": timed["single"][0], "combine": timed["combine"][0],
                   "part": float(np.median(part_t)), "single_peak": traced["single_peak"] / mb,
                   "combine_peak": traced["combine_peak"] / mb, "part_peak": max(traced["part_peaks"]) / mb,
                   "single_n": timed["single"][1], "combine_n": timed["combine"][1]}
        print(f"\n{factor}×: {n} муниципалитетов, {30 * n} школ, {timed['rows']:,} строк".replace(",", " "))
        print(f"  один расчёт: {figures['single']:.2f} с, {timed['single'][1]} запросов, пик памяти "
              f"{figures['single_peak']:.0f} МБ")
        print(f"  часть (муниципалитет): медиана {figures['part'] * 1000:.0f} мс, макс. {part_t.max() * 1000:.0f} мс; "
              f"запросов {int(np.median(part_n))} (от {part_n.min()} до {part_n.max()}); пик памяти "
              f"{figures['part_peak']:.1f} МБ")
        print(f"  базовая линия (SQL group-by муниципалитета): медиана {np.median(base_t) * 1000:.1f} мс, "
              f"{int(np.median(base_n))} запрос; часть / базовая = {np.median(part_t / base_t):.1f}×")
        print(f"  объединяющая задача: {figures['combine']:.2f} с, {timed['combine'][1]} запросов, пик памяти "
              f"{figures['combine_peak']:.0f} МБ; сумма частей {part_t.sum():.2f} с")
        print(f"  память на строку: один расчёт {traced['single_peak'] / timed['rows']:.0f} Б, объединение "
              f"{traced['combine_peak'] / timed['rows']:.0f} Б; объединение / крупнейшая часть = "
              f"{figures['combine_peak'] / figures['part_peak']:.1f}×")
        if previous:
            grow = figures["rows"] / previous["rows"]
            print(f"  рост к предыдущему размеру: строк ×{grow:.1f}; один расчёт ×"
                  f"{figures['single'] / previous['single']:.1f}, объединение ×"
                  f"{figures['combine'] / previous['combine']:.1f}, часть ×"
                  f"{figures['part'] / previous['part']:.2f}; память: объединение ×"
                  f"{figures['combine_peak'] / previous['combine_peak']:.1f}, часть ×"
                  f"{figures['part_peak'] / previous['part_peak']:.2f}; запросов: один расчёт "
                  f"{previous['single_n']} → {figures['single_n']}, объединение {previous['combine_n']} → "
                  f"{figures['combine_n']}")
        previous = figures
        rows_table.append((factor, figures))
        from app.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return rows_table


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", action="store_true", help="also time loading the rows from the database")
    parser.add_argument("--scale", help="factors of the generated region, e.g. 1,4,16 (the application's run)")
    parser.add_argument("--municipalities", type=int, default=10, help="municipalities of the 1× region")
    args = parser.parse_args()
    if args.scale:
        measure_scale([int(f) for f in args.scale.split(",")], args.municipalities)
        return
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

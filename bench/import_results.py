"""Results import speed and memory, against baselines measured in the same run on the same machine.

Speed (default, 300,000 rows): a results file in the v1 format (§9: 10 task columns, CSV UTF-8 `,`) is
imported through our whole pipeline (start_import: store + SHA-256; run_import: stream, validate every
cell, hash the participant codes, spool, COPY into a staging table, look for duplicated keys,
UPDATE changed and INSERT new rows into assessment_results, derive mark boundaries, audit). Baselines:

- raw PostgreSQL COPY of the same rows, already in the table's shape (school ids, hashes, task JSON
  prepared beforehand, outside the timing), straight into the same empty table with its indexes:
  the fastest the database can take these rows at all;
- SQLite executemany of the same table-shaped rows in batches, one transaction, into the same table
  (and our pipeline on SQLite beside it).

Memory (--memory): the pipeline runs in two fresh processes, on 300,000 and 3,000,000 rows, each
reporting its peak resident set size (getrusage ru_maxrss); the ratio shows whether memory grows
with the file. Targets: pipeline ≥ 0.3 × raw COPY; peak(3M) ≤ 1.2 × peak(300k).

Run:
    .venv/bin/python bench/import_results.py                       # speed, 300k rows
    .venv/bin/python bench/import_results.py --memory              # + memory, 300k vs 3M
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/imp_bench  (the default)
"""

import argparse
import csv
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/imp_bench"
SCHOOLS = 200
GRADES = (4, 5, 6, 7, 8)
SUBJECTS = ("Математика", "Русский язык", "Окружающий мир")
TASKS = 10
MAX_SCORE = 20
SALT = "bench-salt"
REPEATS = int(os.environ.get("BENCH_REPEATS", "2"))
TABLE_COLUMNS = ("procedure", "year", "subject", "grade", "school_id", "class_label", "student_hash", "task_scores",
                 "primary_score", "max_score", "mark", "term_mark")


def _mark(score: int) -> int:
    return 2 if score < 6 else 3 if score < 11 else 4 if score < 16 else 5


def generate(rows: int, directory: Path, school_ids: dict[str, int] | None) -> tuple[Path, Path | None]:
    """The v1 results file, and (when school ids are known) the same rows in the table's shape."""
    per_work = max(1, rows // (SCHOOLS * len(GRADES) * len(SUBJECTS)))
    rnd = random.Random(20261122)
    source = directory / f"results_{rows}.csv"
    shaped = directory / f"results_{rows}_table.csv" if school_ids else None
    base = hashlib.sha256(SALT.encode() + b"\x00")
    with open(source, "w", encoding="utf-8", newline="") as out, \
            (open(shaped, "w", encoding="utf-8", newline="") if shaped else open(os.devnull, "w")) as table:
        writer = csv.writer(out)
        twriter = csv.writer(table)
        writer.writerow(["procedure", "year", "subject", "grade", "school_code", "class_label", "student_code",
                         *[f"task_{i}" for i in range(1, TASKS + 1)], "primary_score", "max_score", "mark",
                         "term_mark"])
        twriter.writerow(TABLE_COLUMNS)
        written = 0
        for s in range(1, SCHOOLS + 1):
            code = f"B{s:04d}"
            for grade in GRADES:
                for subject in SUBJECTS:
                    for k in range(per_work):
                        if written >= rows:
                            break
                        tasks = [rnd.randint(0, 2) for _ in range(TASKS)]
                        score = sum(tasks)
                        student = f"{s:04d}-{grade}-{k:05d}"
                        label = f"{grade}{'АБВГ'[k % 4]}"
                        term = rnd.randint(2, 5)
                        writer.writerow(["ВПР", 2025, subject, grade, code, label, student, *tasks, score, MAX_SCORE,
                                         _mark(score), term])
                        if school_ids:
                            h = base.copy()
                            h.update(student.encode())
                            twriter.writerow(["ВПР", 2025, subject, grade, school_ids[code], label, h.hexdigest(),
                                              json.dumps(tasks, separators=(",", ":")), score, MAX_SCORE,
                                              _mark(score), term])
                        written += 1
        if written < rows:
            raise SystemExit(f"generator produced only {written} rows; raise SCHOOLS")
    return source, shaped


def make_app(url: str, upload_dir: str):
    from app import create_app
    from config import DevelopmentConfig, normalise_database_url

    config = type("BenchConfig", (DevelopmentConfig,), {
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "JOBS_MODE": "inline", "UPLOAD_DIR": upload_dir,
        "STUDENT_CODE_SALT": SALT, "TESTING": True})
    return create_app(config)


def prepare_database(url: str) -> None:
    """An empty database (PostgreSQL: created if missing, schema reset) migrated to head."""
    from sqlalchemy import create_engine, text

    if url.startswith("postgresql"):
        base, name = url.rsplit("/", 1)
        admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


def seed(app) -> dict[str, int]:
    from flask_migrate import upgrade

    from app.auth.services import create_user
    from app.extensions import db
    from app.orgs.services import create_organisation

    with app.app_context():
        upgrade()
        region = create_organisation(code="BREG", name="Регион для замера", kind="region")
        mun = create_organisation(code="BMUN", name="Муниципалитет для замера", kind="municipality", parent=region)
        ids = {}
        for s in range(1, SCHOOLS + 1):
            ids[f"B{s:04d}"] = create_organisation(code=f"B{s:04d}", name=f"Школа {s}", kind="school", parent=mun).id
        create_user(login="bench", full_name="Замеров Иван", password="bench-password-1", roles=[("official", mun)])
        db.session.commit()
        return ids


def clear_results(app) -> None:
    from sqlalchemy import text

    from app.extensions import db

    # Every timed run starts from the same state: an empty table and no checkpoint pending from the
    # previous run's writes.
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("TRUNCATE assessment_results, mark_boundaries, import_runs RESTART IDENTITY"))
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("CHECKPOINT"))
        else:
            db.session.execute(text("DELETE FROM assessment_results"))
            db.session.execute(text("DELETE FROM mark_boundaries"))
            db.session.execute(text("DELETE FROM import_runs"))
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM"))


def count_results(app) -> int:
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        return db.session.execute(text("SELECT count(*) FROM assessment_results")).scalar()


def run_pipeline(app, source: Path) -> tuple[float, str]:
    from sqlalchemy import select

    from app.auth.models import User
    from app.extensions import db
    from app.imports.jobs import run_import
    from app.imports.models import ImportRun
    from app.imports.services import start_import

    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == "bench"))
        started = time.perf_counter()
        with open(source, "rb") as stream:
            run = start_import("results", filename=source.name, stream=stream, actor=user,
                               organisation=user.roles[0].organisation, enqueue=False)
        db.session.commit()
        run_import(run.id)
        elapsed = time.perf_counter() - started
        db.session.expire_all()
        run = db.session.get(ImportRun, run.id)
        if run.status != "done":
            raise SystemExit(f"pipeline import ended {run.status}: {run.message}")
        message = run.message
        db.session.remove()
    return elapsed, message


def raw_copy(app, shaped: Path) -> float:
    from app.extensions import db

    with app.app_context():
        started = time.perf_counter()
        conn = db.engine.raw_connection()
        try:
            raw = conn.driver_connection
            with raw.cursor() as cur, cur.copy(
                    f"COPY assessment_results ({', '.join(TABLE_COLUMNS)}) FROM STDIN (FORMAT csv, HEADER true)"
            ) as copy, open(shaped, "rb") as fh:
                while block := fh.read(1024 * 1024):
                    copy.write(block)
            raw.commit()
        finally:
            conn.close()
        return time.perf_counter() - started


def sqlite_executemany(app, shaped: Path) -> float:
    from app.extensions import db

    sql = (f"INSERT INTO assessment_results ({', '.join(TABLE_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(TABLE_COLUMNS))})")
    with app.app_context():
        started = time.perf_counter()
        conn = db.engine.raw_connection()
        try:
            cur = conn.cursor()
            with open(shaped, encoding="utf-8", newline="") as fh:
                reader = csv.reader(fh)
                next(reader)
                batch = []
                for row in reader:
                    batch.append(row)
                    if len(batch) == 5000:
                        cur.executemany(sql, batch)
                        batch = []
                if batch:
                    cur.executemany(sql, batch)
            conn.commit()
        finally:
            conn.close()
        return time.perf_counter() - started


def speed(rows: int, pg_url: str, with_sqlite: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="imp_bench_"))
    print(f"Файлы и база замера: {work}")
    prepare_database(pg_url)
    app = make_app(pg_url, str(work / "uploads"))
    ids = seed(app)
    t0 = time.perf_counter()
    source, shaped = generate(rows, work, ids)
    print(f"Сгенерировано {rows:,} строк за {time.perf_counter() - t0:.1f} с "
          f"({source.stat().st_size / 1e6:.1f} МБ в формате v1)")

    # Each side runs twice, alternating, and keeps its best time: a shared machine has its noise.
    copy_times, our_times = [], []
    for _ in range(REPEATS):
        clear_results(app)
        copy_times.append(raw_copy(app, shaped))
        assert count_results(app) == rows
        clear_results(app)
        seconds, message = run_pipeline(app, source)
        our_times.append(seconds)
        assert count_results(app) == rows
    copy_seconds, ours = min(copy_times), min(our_times)
    print("Замеры, с: сырой COPY " + ", ".join(f"{t:.2f}" for t in copy_times)
          + "; наш импорт " + ", ".join(f"{t:.2f}" for t in our_times))
    print(f"PostgreSQL: сырой COPY {rows / copy_seconds:,.0f} строк/с ({copy_seconds:.2f} с); "
          f"наш импорт {rows / ours:,.0f} строк/с ({ours:.2f} с) — {message}")
    print(f"PostgreSQL: отношение к сырому COPY = {copy_seconds / ours:.2f}  (цель ≥ 0.30)")
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()

    if with_sqlite:
        sqlite_url = f"sqlite:///{work / 'bench.sqlite3'}"
        sapp = make_app(sqlite_url, str(work / "uploads-sqlite"))
        sids = seed(sapp)
        if sids != ids:  # the table-shaped file holds school ids: rebuild it if SQLite numbered differently
            (work / "sqlite").mkdir()
            _, shaped = generate(rows, work / "sqlite", sids)
        many_times, sqlite_times = [], []
        for _ in range(REPEATS):
            clear_results(sapp)
            many_times.append(sqlite_executemany(sapp, shaped))
            assert count_results(sapp) == rows
            clear_results(sapp)
            sqlite_times.append(run_pipeline(sapp, source)[0])
            assert count_results(sapp) == rows
        many_seconds, sours = min(many_times), min(sqlite_times)
        print(f"SQLite: executemany {rows / many_seconds:,.0f} строк/с ({many_seconds:.2f} с); "
              f"наш импорт {rows / sours:,.0f} строк/с ({sours:.2f} с)")
        print(f"SQLite: отношение к executemany = {many_seconds / sours:.2f}")
        print(f"Наш импорт на PostgreSQL / сырой SQLite executemany = {many_seconds / ours:.2f}")


def memory_child(rows: int, pg_url: str) -> None:
    """One pipeline run in this (fresh) process; prints the peak RSS as JSON on the last line."""
    work = Path(tempfile.mkdtemp(prefix=f"imp_bench_mem_{rows}_"))
    prepare_database(pg_url)
    app = make_app(pg_url, str(work / "uploads"))
    seed(app)
    source, _ = generate(rows, work, None)
    # The process's lifetime peak (ru_maxrss) is mostly set by start-up and migrations; on Linux the
    # peak can be reset, so the figure below is the peak *during the import* (VmHWM after the reset).
    reset = _reset_peak()
    before = _proc_status("VmRSS")
    seconds, _ = run_pipeline(app, source)
    peak = _proc_status("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert count_results(app) == rows
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_kb": peak, "before_kb": before,
                      "lifetime_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "reset": reset}))


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # "5": reset the peak RSS (VmHWM), Linux ≥ 4.0
        return True
    except OSError:
        return False


def _proc_status(field: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory(pg_url: str, small: int, large: int) -> None:
    results = {}
    for rows in (small, large):
        done = subprocess.run([sys.executable, __file__, "--memory-child", str(rows)], capture_output=True,
                              text=True, env={**os.environ, "BENCH_DATABASE_URL": pg_url})
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
        results[rows] = json.loads(done.stdout.strip().splitlines()[-1])
        r = results[rows]
        print(f"Память: {rows:,} строк — пик во время импорта {r['peak_kb'] / 1024:.0f} МБ (перед импортом "
              f"{r['before_kb'] / 1024:.0f} МБ, прирост {(r['peak_kb'] - r['before_kb']) / 1024:.0f} МБ; пик процесса "
              f"за всё время {r['lifetime_peak_kb'] / 1024:.0f} МБ), {rows / r['seconds']:,.0f} строк/с")
    ratio = results[large]["peak_kb"] / results[small]["peak_kb"]
    print(f"Память: пик {large:,} / пик {small:,} = {ratio:.2f}  (цель ≤ 1.20)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--memory", action="store_true", help="also compare peak memory for 300k and 3M rows")
    parser.add_argument("--memory-rows", type=int, nargs=2, default=(300_000, 3_000_000), metavar=("SMALL", "LARGE"))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    pg_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
    import logging

    logging.disable(logging.INFO)
    if args.memory_child:
        memory_child(args.memory_child, pg_url)
        return
    if not args.no_speed:
        speed(args.rows, pg_url, not args.no_sqlite)
    if args.memory:
        memory(pg_url, *args.memory_rows)


if __name__ == "__main__":
    main()

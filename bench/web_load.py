"""Pages under load with a region in the database (issue 15 §3), against a minimal page in the same run.

Seeds a region-scale PostgreSQL database (reset first): 50 municipalities, 1,500 schools with context
attributes (`app.analysis.methods.synthetic`, as bench/analysis.py), ≈300,000 assessment results written by
COPY (`synthetic.insert_results`), an official and a head per municipality, a cycle per municipality ×
municipal mechanism track (`cycles.create_cycle`: stages, tasks, audit), the M1.1 cycle of each municipality
taken through GOAL … MON by the demo's own fillers (so documents, requests and the audit trail are real),
accepted indicator values of every school (bulk insert), the dashboard rebuilt and the analysis run (inline jobs,
as a worker would). Then starts gunicorn (2 sync workers by default) on that database and runs 50 simulated
users — each municipality's head, signed in — for a fixed time over a mix of pages: home, tasks, cycles list,
cycle, stage, analysis dashboard (and its chart images, revalidated with the ETag as a browser does),
objectivity list, school page, audit page, and the baseline: `/password`, the smallest page behind sign-in
(the layout and a two-field form).

Prints each page's p50/p95 and its p95 as a multiple of the baseline's p95 (target ≤ 10×), then a throughput
phase: 4 connections on the dashboard alone, then on the cycles list alone, for the same time each; target:
dashboard requests/s ≥ 50 % of the cycles list's.

The load generator is this script's own (threads over http.client in a few processes; no locust: it would add
gevent and a dozen packages for what 100 lines do). Client and server share the machine: ratios, not absolute
times, are the figures to compare.

Run:  .venv/bin/python bench/web_load.py                     (seed, then load)
      .venv/bin/python bench/web_load.py --reuse             (keep an already seeded database)
      BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_charts (default)
      --duration 60 --users 50 --workers 2 --port 8765
"""

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_charts"
WORK_DIR = Path(os.environ.get("BENCH_WORK_DIR", "/tmp/bench_web_load"))
SECRET = "bench-web-load-secret-key-0123456789abcdef"
PASSWORD = "bench-load-2026"
MANIFEST = "manifest.json"
N_MUNICIPALITIES, N_SCHOOLS = 50, 1500

# page → weight in the mix (a working day: lists and the own cycle often, the audit now and then)
MIX = {"home": 3, "tasks": 3, "cycles": 3, "cycle": 3, "stage": 2, "dashboard": 3, "objectivity": 2,
       "school": 2, "audit": 1, "situation": 2, "public": 1, "baseline": 3}
BASELINE = "baseline"


# --- seeding -------------------------------------------------------------------------------------------

def _env(url: str) -> dict:
    return {"DATABASE_URL": url, "SECRET_KEY": SECRET, "JOBS_MODE": "inline", "APP_CONFIG": "development",
            "STORAGE_DIR": str(WORK_DIR / "storage"), "UPLOAD_DIR": str(WORK_DIR / "uploads"),
            "STUDENT_CODE_SALT": "bench-salt", "MAIL_BACKEND": "console"}


def _app(url: str):
    os.environ.update(_env(url))
    from app import create_app
    from config import TestingConfig, normalise_database_url

    attrs = {"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "JOBS_MODE": "inline", "SECRET_KEY": SECRET,
             "STORAGE_DIR": str(WORK_DIR / "storage"), "UPLOAD_DIR": str(WORK_DIR / "uploads"), "TESTING": False}
    return create_app(type("BenchConfig", (TestingConfig,), attrs))


def _step(label: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {label}: {now - started:.1f} с", flush=True)
    return now


def bulk_organisations(synthetic, region) -> dict[int, int]:
    """The synthetic region's municipalities and schools in two bulk INSERTs (ids returned in order), their
    paths in two bulk UPDATEs and their «create» audit events in one chain append — what
    `synthetic.create_organisations` does one row at a time. Returns synthetic school id → organisation id."""
    from sqlalchemy import bindparam, insert, update

    from app.audit import chain
    from app.extensions import db
    from app.orgs.models import Organisation

    def add(rows: list[dict], parent_path_of) -> list[int]:
        ids = db.session.scalars(insert(Organisation).returning(Organisation.id, sort_by_parameter_order=True),
                                 [{**r, "path": ""} for r in rows]).all()
        db.session.execute(update(Organisation.__table__).where(Organisation.__table__.c.id == bindparam("oid"))
                           .values(path=bindparam("new_path")),
                           [{"oid": i, "new_path": f"{parent_path_of(r)}{i}/"} for i, r in zip(ids, rows)])
        chain.record_many([dict(action="create", object_type="organisation", object_id=i, actor=None,
                                actor_role="system", organisation_id=i,
                                after={"code": r["code"], "name": r["name"], "kind": r["kind"]})
                           for i, r in zip(ids, rows)])
        return ids

    muns = list(synthetic.municipalities.itertuples(index=False))
    mun_ids = add([{"code": m.code, "name": m.name, "kind": "municipality", "parent_id": region.id} for m in muns],
                  lambda r: region.path)
    mun_of = {m.id: (i, f"{region.path}{i}/") for m, i in zip(muns, mun_ids)}
    schools = list(synthetic.schools.itertuples(index=False))
    rows = [{"code": s.code, "name": s.name, "kind": "school", "parent_id": mun_of[s.municipality_id][0],
             "profile": s.profile, "settlement": s.settlement, "remote": bool(s.remote), "students": int(s.students),
             "low_income_share": float(s.low_income_share), "non_native_share": float(s.non_native_share),
             "ovz_share": float(s.ovz_share)} for s in schools]
    paths = {mun_id: path for mun_id, path in mun_of.values()}
    school_ids = add(rows, lambda r: paths[r["parent_id"]])
    return {int(s.id): i for s, i in zip(schools, school_ids)}


def seed(url: str) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app.analysis.methods.synthetic import DEFAULT_WORKS, generate_region, insert_results
    from app.imports import partitions, summaries
    from app.auth.services import create_user
    from app.catalogue.models import MechanismSet
    from app.catalogue.services import load_all
    from app.analysis.services import school_year_end
    from app.core.timeutil import academic_year_of
    from app.cycles import services as cycles
    from app.demo import _advance, _today
    from app.extensions import db
    from app.jobs.queue import dispatch_ready
    from app.monitoring.models import IndicatorValue
    from app.orgs.models import Organisation
    from app.orgs.services import create_organisation
    from tests.conftest import reset_postgres_schema

    reset_postgres_schema(url)
    app = _app(url)
    started = time.perf_counter()
    print(f"Заполнение базы {url.rsplit('/', 1)[-1]}:", flush=True)
    with app.app_context():
        upgrade()
        load_all()
        db.session.commit()
        t = _step("схема и каталог механизмов", started)
        today = _today()
        period = academic_year_of(today)
        end = school_year_end(period)
        region = create_organisation(code="BENCH", name="Министерство образования Нагрузочной области",
                                     short_name="Нагрузочная область", kind="region", timezone="Europe/Moscow")
        synthetic = generate_region(n_schools=N_SCHOOLS, n_municipalities=N_MUNICIPALITIES, years=(end - 1, end),
                                    works=DEFAULT_WORKS[:5], students=20, seed=1)
        school_ids = bulk_organisations(synthetic, region)
        db.session.commit()
        t = _step(f"{N_MUNICIPALITIES} муниципалитетов и {len(school_ids)} школ", t)
        partitions.ensure_years(synthetic.results["year"].unique().tolist())
        rows = insert_results(db.session, synthetic.results, school_ids)
        summaries.refresh_all()  # the situational centre's and the public pages' sums, as an import keeps them
        db.session.commit()
        t = _step(f"{rows:,} результатов (COPY)".replace(",", " "), t)
        municipalities = list(db.session.scalars(select(Organisation).where(Organisation.kind == "municipality")
                                                 .order_by(Organisation.code)))
        users = {}
        for n, mun in enumerate(municipalities, 1):
            users[mun.id] = (
                create_user(login=f"official{n:02d}", full_name=f"Специалистова Мария {n:02d}", password=PASSWORD,
                            position="Главный специалист", roles=[("official", mun)]),
                create_user(login=f"head{n:02d}", full_name=f"Начальников Сергей {n:02d}", password=PASSWORD,
                            position="Начальник управления", roles=[("head", mun)]))
        db.session.commit()
        t = _step(f"{2 * len(users)} пользователей", t)
        mset = db.session.scalar(select(MechanismSet).where(MechanismSet.level == "municipal",
                                                            MechanismSet.active.is_(True)))
        tracks = [track for mech in mset.mechanisms if not mech.optional for track in mech.tracks]
        main = {}
        for mun in municipalities:
            official, _head = users[mun.id]
            for track in tracks:
                cycle = cycles.create_cycle(track=track, owner=mun, period=period, actor=official,
                                            responsible=official)
                if track.mechanism.code == "M1.1" and mun.id not in main:
                    main[mun.id] = cycle
            db.session.commit()
        t = _step(f"{len(municipalities) * len(tracks)} циклов ({len(tracks)} на муниципалитет)", t)
        rng = random.Random(2026)
        for mun in municipalities:
            official, head = users[mun.id]
            _advance(main[mun.id], 4, official, head, rng)  # GOAL, IND, METH, MON approved; ANL open
            db.session.commit()
            dispatch_ready()
        t = _step("циклы M1.1 проведены через этапы GOAL … MON (документы, запросы, журнал)", t)
        values = []
        for mun in municipalities:
            cycle = main[mun.id]
            schools = db.session.scalars(select(Organisation.id).where(Organisation.parent_id == mun.id,
                                                                       Organisation.kind == "school")).all()
            for ind in cycle.indicators:
                base = float(ind.baseline or 50)
                for school_id in schools:
                    values.append({"indicator_id": ind.id, "organisation_id": school_id, "period": period,
                                   "value": round(max(0.0, base + rng.gauss(0, 8)), 1), "source": "form"})
        for start in range(0, len(values), 5000):
            db.session.execute(insert(IndicatorValue), values[start:start + 5000])
        db.session.commit()
        t = _step(f"{len(values)} принятых значений показателей", t)
        t = finish(app, t)
        _step("всего", started)
    return json.loads((WORK_DIR / MANIFEST).read_text())


def finish(app, t: float) -> float:
    """Rebuild the dashboard and run the analysis of every M1.1 cycle that has no finished run yet (inline jobs,
    as a worker would; a run left behind by an interrupted seeding is settled first), then write the manifest.
    Resumable: `--finish` runs this step alone on a database seeded before."""
    from sqlalchemy import select, update

    from app.analysis import services as analysis
    from app.analysis.dashboard import refresh_dashboard
    from app.analysis.models import AnalysisRun
    from app.auth.models import User
    from app.catalogue.models import Mechanism, Track
    from app.core.timeutil import utcnow
    from app.cycles.models import Cycle
    from app.extensions import db
    from app.jobs.queue import dispatch_ready
    from app.orgs.models import Organisation

    with app.app_context():
        db.session.execute(update(AnalysisRun).where(AnalysisRun.status.in_(("queued", "running")))
                           .values(status="failed", message="прервано при заполнении базы", finished_at=utcnow()))
        db.session.commit()
        municipalities = list(db.session.scalars(select(Organisation).where(Organisation.kind == "municipality")
                                                 .order_by(Organisation.code)))
        manifest = {"users": []}
        for n, mun in enumerate(municipalities, 1):
            cycle = db.session.scalar(select(Cycle).join(Cycle.track).join(Track.mechanism).where(
                Cycle.owner_id == mun.id, Mechanism.code == "M1.1").order_by(Cycle.id).limit(1))
            if db.session.scalar(select(AnalysisRun.id).where(AnalysisRun.cycle_id == cycle.id,
                                                              AnalysisRun.status == "done")) is None:
                official = db.session.scalar(select(User).where(User.login == f"official{n:02d}"))
                refresh_dashboard(cycle)
                analysis.start_run(cycle, actor=official)
                db.session.commit()
                dispatch_ready()  # the analysis run and the dashboard's charts, as a worker would
            schools = db.session.scalars(select(Organisation.id).where(Organisation.parent_id == mun.id,
                                                                       Organisation.kind == "school")).all()
            manifest["users"].append({"login": f"head{n:02d}", "cycle": cycle.id, "municipality": mun.id,
                                      "region": mun.parent_id, "stages": [s.id for s in cycle.stages],
                                      "schools": list(schools)})
        (WORK_DIR / MANIFEST).write_text(json.dumps(manifest))
    return _step("анализ и показатели циклов M1.1 (с графиками)", t)


# --- the load ------------------------------------------------------------------------------------------

class Client:
    """One simulated user: a cookie, a connection, the ETags their browser keeps."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""
        self.etags: dict[str, tuple] = {}  # chart URL → (ETag, fresh)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(3):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt == 2:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response, data

    def login(self, login: str) -> None:
        _r, page = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
        body = urllib.parse.urlencode({"csrf_token": token, "login": login, "password": PASSWORD})
        response, _ = self.request("POST", "/login", body)
        assert response.status == 302, f"{login}: вход не удался ({response.status})"


def _paths(user: dict, rng: random.Random) -> dict:
    cycle = user["cycle"]
    return {"home": "/", "tasks": "/tasks/", "cycles": "/cycles", "cycle": f"/cycles/{cycle}",
            "stage": f"/stages/{rng.choice(user['stages'])}", "dashboard": f"/analysis/cycles/{cycle}/dashboard",
            "objectivity": f"/analysis/cycles/{cycle}/objectivity",
            "school": f"/analysis/schools/{rng.choice(user['schools'])}", "audit": "/audit/",
            # the situational centre of the user's municipality (its schools), and the region's public page
            "situation": f"/situation/orgs/{user.get('municipality', 0)}",
            "public": "/public/", BASELINE: "/password"}


def _user_loop(user: dict, port: int, until: float, warm_until: float, out: list, pages=None, seed_: int = 0,
               think: float = 0.0):
    try:
        _browse(user, port, until, warm_until, out, pages, seed_, think)
    except Exception as exc:  # a user that fails is counted, not silently dropped
        print(f"{user['login']}: {exc!r}", file=sys.stderr)
        out.append(("error", 0.0, 599))


def _browse(user: dict, port: int, until: float, warm_until: float, out: list, pages, seed_: int, think: float):
    rng = random.Random(seed_)
    client = Client(port)
    client.login(user["login"])
    names = list(pages or MIX)
    weights = [MIX[n] if pages is None else 1 for n in names]
    while time.time() < until:
        page = rng.choices(names, weights)[0]
        path = _paths(user, rng)[page]
        start = time.perf_counter()
        response, body = client.request("GET", path)
        elapsed = time.perf_counter() - start
        if time.time() >= warm_until:
            out.append((page, elapsed, response.status))
        if page == "dashboard" and pages is None:
            # the browser then loads the chart images: from its cache while fresh (the URL names the data, so a
            # current one is cacheable for long), else asks again with the ETag it has
            for src in re.findall(rb'<img class="img-fluid" src="([^"]+)"', body):
                src = src.decode().replace("&amp;", "&")
                etag, fresh = client.etags.get(src, (None, False))
                if fresh:
                    continue
                start = time.perf_counter()
                chart, _ = client.request("GET", src, headers={"If-None-Match": etag} if etag else {})
                if time.time() >= warm_until:
                    out.append(("dashboard chart", time.perf_counter() - start, chart.status))
                if chart.getheader("ETag"):
                    client.etags[src] = (chart.getheader("ETag"), "max-age" in (chart.getheader("Cache-Control") or ""))
        if think:
            time.sleep(rng.uniform(0, 2 * think))


def _process(users: list[dict], port: int, until: float, warm_until: float, pages, think, queue) -> None:
    out: list = []
    threads = [threading.Thread(target=_user_loop, args=(u, port, until, warm_until, out, pages, i, think))
               for i, u in enumerate(users)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    queue.put(out)


def run_load(users: list[dict], port: int, seconds: float, warm: float, pages=None, processes: int = 5,
             think: float = 0.0) -> list:
    until = time.time() + warm + seconds + 5  # + sign-in time
    warm_until = time.time() + warm + 5
    queue = multiprocessing.Queue()
    groups = [users[i::processes] for i in range(processes)]
    procs = [multiprocessing.Process(target=_process, args=(g, port, until, warm_until, pages, think, queue))
             for g in groups if g]
    for p in procs:
        p.start()
    results = []
    for _p in procs:
        results += queue.get()
    for p in procs:
        p.join()
    return results


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def report(results: list, seconds: float) -> dict:
    by_page: dict[str, list] = {}
    errors: dict[str, int] = {}
    for page, elapsed, status in results:
        by_page.setdefault(page, []).append(elapsed)
        if status >= 400:
            errors[page] = errors.get(page, 0) + 1
    base95 = _pct(by_page[BASELINE], 0.95)
    print(f"\n{'страница':<18}{'запросов':>9}{'в с':>7}{'p50, мс':>10}{'p95, мс':>10}{'p95 / базовая':>15}  цель ≤ 10×")
    figures = {}
    for page in list(MIX) + ["dashboard chart"]:
        times = by_page.get(page)
        if not times:
            continue
        p50, p95 = _pct(times, 0.5), _pct(times, 0.95)
        ratio = p95 / base95
        figures[page] = (p50, p95, ratio)
        mark = "" if page == BASELINE else ("да" if ratio <= 10 else "НЕТ")
        err = f"  ошибок: {errors[page]}" if errors.get(page) else ""
        print(f"{page:<18}{len(times):>9}{len(times) / seconds:>7.1f}{p50 * 1000:>10.1f}{p95 * 1000:>10.1f}"
              f"{ratio:>14.1f}×  {mark}{err}")
    if by_page.get("error"):
        print(f"Пользователей, прервавших работу с ошибкой: {len(by_page['error'])}")
    return figures


# --- gunicorn ------------------------------------------------------------------------------------------

def start_server(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, **_env(url)}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "120",
         "--log-level", "warning", "wsgi:app"], cwd=str(ROOT), env=env, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("gunicorn не запустился за 60 с")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database (manifest in BENCH_WORK_DIR)")
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--finish", action="store_true", help="only finish an interrupted seeding (analysis runs)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of measured load")
    parser.add_argument("--warm", type=float, default=10, help="seconds of load before measuring")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--think", type=float, default=5.0,
                        help="a user's mean pause between pages, s (uniform 0…2×; 0 = back-to-back requests)")
    parser.add_argument("--throughput", type=float, default=20, help="seconds per page of the throughput phase")
    parser.add_argument("--serial", type=float, default=40,
                        help="seconds of one user without pauses: each page's own time, no queue (0 = skip)")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    if args.finish:
        finish(_app(url), time.perf_counter())
    if (args.reuse or args.finish) and (WORK_DIR / MANIFEST).exists():
        manifest = json.loads((WORK_DIR / MANIFEST).read_text())
    else:
        manifest = seed(url)
    if args.seed_only:
        return
    users = manifest["users"][:args.users]
    server = start_server(url, args.port, args.workers)
    try:
        print(f"\nНагрузка: {len(users)} пользователей, gunicorn {args.workers} процесса, {args.duration:.0f} с "
              f"(после {args.warm:.0f} с разогрева), пауза между страницами в среднем {args.think:g} с; "
              "базовая страница — /password", flush=True)
        results = run_load(users, args.port, args.duration, args.warm, think=args.think)
        figures = report(results, args.duration)
        if args.serial:
            print(f"\nОдин пользователь без пауз, {args.serial:.0f} с (время обработки без очереди):", flush=True)
            serial = report(run_load(users[:1], args.port, args.serial, 3, pages=list(MIX), processes=1),
                            args.serial)
            misses_serial = [p for p, (_a, _b, r) in serial.items() if p != BASELINE and r > 10]
            print("Все страницы в пределах 10× базовой." if not misses_serial
                  else f"Выше 10× базовой: {', '.join(misses_serial)}")
        print(f"\nПропускная способность, 4 соединения по {args.throughput:.0f} с на страницу:", flush=True)
        rates = {}
        for page in ("dashboard", "cycles"):
            done = run_load(users[:4], args.port, args.throughput, 3, pages=[page], processes=4)
            rates[page] = len(done) / args.throughput
            p50 = statistics.median(e for _p, e, _s in done) * 1000
            print(f"  {page:<10} {rates[page]:6.1f} запросов/с, p50 {p50:.0f} мс")
        share = rates["dashboard"] / rates["cycles"]
        print(f"  показатели / список циклов = {share:.0%} (цель ≥ 50 %: {'да' if share >= 0.5 else 'НЕТ'})")
        misses = [p for p, (_a, _b, r) in figures.items() if p != BASELINE and r > 10]
        print("Все страницы в пределах 10× базовой." if not misses else f"Выше 10× базовой: {', '.join(misses)}")
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()

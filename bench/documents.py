"""Document generation speed: 1,500 addressed letters made as the application makes them, against bare docxtpl.

A synthetic municipality with 1,500 schools (each with its director) and one recommendation addressed to all of
them, in the database at BENCH_DATABASE_URL (PostgreSQL, reset; a scratch SQLite file when unset). The pipeline side
is what an official's click does: `generate_for_addressees` (check each addressee's data, create the documents and
versions, one transaction, commit) and then the jobs it enqueued (`jobs.generate_versions`, 25 letters each: read
the batch's data at once, build each context, render the Word template strictly, store the file with its SHA-256,
keep the snapshot, one commit) — sent to RQ on Redis at BENCH_REDIS_URL and executed by a real `flask jobs worker`
process (a subprocess on the same database, started and warmed up before the timing, as in production); the
clock stops when the worker has finished the last letter. The baseline renders the same contexts (the ones the
jobs rendered, taken from their snapshots) with the same template bytes through bare docxtpl in one loop:
`DocxTemplate(...)`, `render(ctx)`, `save(BytesIO)`, twice; the ratio uses the mean of the two. Both are warm (one
letter built and rendered in this process before either timing; the worker compiles its templates and loads the
morphology before it takes a job). Also printed: the worker's own time in its jobs (RQ's started/ended stamps;
the rest is RQ's dequeue and fork per job), the same contexts through the pipeline's own renderer alone, and what
the database, the jobs and the file storage add per letter.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/doc_bench \
    BENCH_REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/documents.py   # the issue's figure
    … bench/documents.py --letters 200        # a quick run (BENCH_LETTERS works too)
    … bench/documents.py --inline             # the jobs inline in this process instead of the worker
    … bench/documents.py --inline --profile   # + cProfile of the pipeline (top 25 by cumulative time;
                                              #   BENCH_PROFILE_SORT=tottime … to sort by own time)

Target (issue 12): ratio ≤ 1.2× for 1,500 letters on PostgreSQL with the real worker.
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LETTERS = int(os.environ.get("BENCH_LETTERS", "1500"))
TYPE_KEY = "addressed_recommendations"
TARGET = 1.2
WAIT_LIMIT = float(os.environ.get("BENCH_WAIT_LIMIT", "3600"))  # seconds the worker may take for all the letters


REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")  # a database of its own: flushed


def database_url(work: Path) -> str:
    from config import normalise_database_url

    return normalise_database_url(os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{work / 'bench.sqlite3'}")


def make_app(work: Path, rq: bool = False):
    from app import create_app
    from config import DevelopmentConfig

    url = database_url(work)
    if url.startswith("postgresql"):
        from tests.conftest import reset_postgres_schema

        reset_postgres_schema(url)
    config = type("BenchConfig", (DevelopmentConfig,), {
        "SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": REDIS_URL,
        "JOBS_MODE": "rq" if rq else "inline", "STORAGE_DIR": str(work / "storage"),
        "UPLOAD_DIR": str(work / "uploads"), "TESTING": True})
    return create_app(config)


class RealWorker:
    """`flask jobs worker` in a subprocess on the bench database and a Redis database of its own, started (its
    templates compiled, its morphology loaded) before the timing, as a production worker is; stopped afterwards.
    Its output goes to a file: a pipe nobody reads would fill up and stop the worker in the middle of the run."""

    def __init__(self, work: Path):
        import subprocess

        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        env = {**os.environ, "DATABASE_URL": database_url(work), "FLASK_APP": "wsgi.py", "JOBS_MODE": "rq",
               "REDIS_URL": REDIS_URL, "STORAGE_DIR": str(work / "storage"), "UPLOAD_DIR": str(work / "uploads")}
        self.log = work / "worker.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "flask", "jobs", "worker"], cwd=ROOT, env=env,
                                            stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while "Шаблоны документов" not in self.output():  # ready once it says its templates are compiled
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the RQ worker did not start:\n" + self.output()[-3000:])
            time.sleep(0.2)
        print("  рабочий процесс RQ:", next(line for line in self.output().splitlines() if "Шаблоны" in line))

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def check(self) -> None:
        if self.process.poll() is not None:
            raise SystemExit("the RQ worker exited:\n" + self.output()[-3000:])

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def wait_for(version_ids: list[int], worker: RealWorker) -> None:
    """Until no version of `version_ids` is queued or running (the real worker's jobs are done)."""
    from sqlalchemy import func, select

    from app.documents.models import DocumentVersion
    from app.extensions import db

    deadline = time.monotonic() + WAIT_LIMIT
    # The click's versions are the only ones in the database: their id range is a cheap condition (an IN list of
    # 1,500 ids twenty times a second would take CPU from the worker being timed).
    while db.session.scalar(select(func.count()).select_from(DocumentVersion).where(
            DocumentVersion.id.between(min(version_ids), max(version_ids)),
            DocumentVersion.status.in_(("queued", "running")))):
        db.session.rollback()
        worker.check()
        if time.monotonic() > deadline:
            raise SystemExit(f"the worker has not finished in {WAIT_LIMIT:.0f} s:\n" + worker.output()[-3000:])
        time.sleep(0.2)
    db.session.rollback()


def worker_time(job_ids: set[str]) -> float:
    """Seconds the worker spent inside the jobs (RQ's started_at → ended_at of each job, summed)."""
    import redis
    from rq.job import Job

    jobs = Job.fetch_many(sorted(job_ids), connection=redis.Redis.from_url(REDIS_URL))
    return sum((job.ended_at - job.started_at).total_seconds() for job in jobs
               if job is not None and job.started_at and job.ended_at)


def seed(letters: int):
    """Region → municipality → `letters` schools with a director each; an official and a head; an M1.1 cycle
    whose REC stage is open with one recommendation addressed to every school. Returns (stage id, official id)."""
    from flask_migrate import upgrade

    from app.auth.models import RoleAssignment, User
    from app.auth.services import create_user
    from app.core.timeutil import utcnow
    from app.catalogue.services import load_all
    from app.cycles.models import Stage
    from app.cycles.services import create_cycle
    from app.extensions import db
    from app.followup.models import Recommendation, RecommendationItem
    from app.orgs.models import Organisation
    from app.orgs.services import create_organisation
    from tests.conftest import track_of

    upgrade()
    load_all()
    region = create_organisation(code="BREG", name="Регион для замера", kind="region")
    mun = create_organisation(code="BMUN", name="Муниципалитет для замера", kind="municipality", parent=region,
                              short_name="Муниципалитет")
    official = create_user(login="official", full_name="Замеров Иван Петрович", password="bench-password-1",
                           position="Главный специалист", roles=[("official", mun)])
    create_user(login="head", full_name="Начальникова Анна Сергеевна", password="bench-password-1",
                position="Начальник управления образования", roles=[("head", mun)])
    db.session.flush()
    schools = []
    for n in range(1, letters + 1):
        school = Organisation(code=f"B{n:04d}", name=f"Муниципальное общеобразовательное учреждение «Школа № {n}»",
                              short_name=f"Школа № {n}", kind="school", parent=mun, path="")
        schools.append(school)
    db.session.add_all(schools)
    db.session.flush()
    for n, school in enumerate(schools, 1):
        school.path = f"{mun.path}{school.id}/"
        director = User(login=f"director{n}", full_name=f"Директорова{n} Мария Ивановна", position="Директор",
                        password_hash=official.password_hash)
        director.roles.append(RoleAssignment(role="director", organisation_id=school.id))
        db.session.add(director)
    db.session.flush()
    cycle = create_cycle(track=track_of("M1.1"), owner=mun, period="2025/26", actor=official, responsible=official,
                         deadlines={"GOAL": date.today() + timedelta(days=10)})
    stage = next(s for s in cycle.stages if s.code == "REC")
    stage.state = "draft"  # open (the earlier stages are not what is measured)
    stage.deadline = date.today() + timedelta(days=60)
    rec = Recommendation(cycle_id=cycle.id, stage_id=stage.id, addressee_group="organisations",
                         text="Провести анализ результатов оценочных процедур на заседании педагогического совета и "
                              "скорректировать рабочие программы по математике с учётом выявленных дефицитов",
                         basis="Доля обучающихся 5-х классов, не достигших базового уровня по математике, выше "
                               "региональной на 7 п. п.", response_deadline=date.today() + timedelta(days=45),
                         created_by_id=official.id)
    db.session.add(rec)
    db.session.flush()
    db.session.add_all([RecommendationItem(recommendation_id=rec.id, organisation_id=s.id, state="issued",
                                           issued_at=utcnow(), due_date=date.today() + timedelta(days=45))
                        for s in schools])
    db.session.commit()
    assert db.session.get(Stage, stage.id).state == "draft"
    return stage.id, official.id


def warm_up(stage_id: int) -> None:
    """Outside the timings: imports, the cached template and sidecar, the first connection, one bare render."""
    from app.cycles.models import Stage
    from app.documents import contexts, rendering, services
    from app.extensions import db

    stage = db.session.get(Stage, stage_id)
    addressee = services.recommendation_addressees(stage)[0]
    context = contexts.build_context(TYPE_KEY, stage, addressee=addressee, version={"number": 1})
    rendering.render(TYPE_KEY, context)
    bare_docxtpl([context], rendering.template_bytes(TYPE_KEY))
    db.session.rollback()


def run_pipeline(stage_id: int, official_id: int, worker: RealWorker | None) -> tuple[float, list[int]]:
    """The click (generate for every addressee, commit) and its jobs: sent to the real worker (the clock stops
    when it has finished the last of them), or with `worker` None run inline, each in its own transaction."""
    from app.auth.models import User
    from app.cycles.models import Stage
    from app.documents import services
    from app.extensions import db
    from app.jobs.queue import dispatch_ready

    db.session.remove()
    started = time.perf_counter()
    stage, official = db.session.get(Stage, stage_id), db.session.get(User, official_id)
    docs = services.generate_for_addressees(stage, TYPE_KEY, actor=official,
                                            addressees=services.recommendation_addressees(stage))
    versions = [d.versions[-1] for d in docs]
    version_ids = [v.id for v in versions]  # before the commit expires them, as the view never reloads
    job_ids = {v.rq_job_id for v in versions}
    db.session.commit()
    del docs, versions, stage, official  # as after a request: the view's objects are gone when the jobs run
    clicked = time.perf_counter()
    dispatch_ready()
    if worker is not None:
        wait_for(version_ids, worker)
    elapsed = time.perf_counter() - started
    jobs = elapsed - (clicked - started)
    print(f"  из них нажатие (проверка данных, {len(version_ids)} документов, коммит): {clicked - started:.2f} с, "
          f"задания: {jobs:.2f} с ({len(job_ids)} заданий)")
    if worker is not None:
        inside = worker_time(job_ids)
        print(f"  рабочий процесс внутри заданий: {inside:.2f} с; очередь и fork на задание: "
              f"{(jobs - inside) / len(job_ids) * 1000:.0f} мс ({(jobs - inside) / len(version_ids) * 1000:.1f} "
              "мс/письмо)")
    return elapsed, version_ids


def contexts_of(version_ids: list[int]) -> list[dict]:
    """The contexts the jobs rendered (their snapshots), for the baseline; checks every job succeeded."""
    from app.documents import snapshot
    from app.documents.models import DocumentVersion
    from app.extensions import db

    db.session.remove()
    versions = db.session.query(DocumentVersion).filter(DocumentVersion.id.in_(version_ids)).all()
    failed = [v for v in versions if v.status != "done"]
    if failed:
        raise SystemExit(f"{len(failed)} jobs failed, e.g. version {failed[0].id}: {failed[0].error}")
    return [snapshot.load(v.context_snapshot) for v in versions]


def bare_docxtpl(contexts: list[dict], template: bytes) -> float:
    from docxtpl import DocxTemplate
    from jinja2 import Environment, StrictUndefined

    env = Environment(undefined=StrictUndefined, autoescape=True)
    started = time.perf_counter()
    for ctx in contexts:
        tpl = DocxTemplate(io.BytesIO(template))
        tpl.render(ctx, jinja_env=env, autoescape=True)
        tpl.save(io.BytesIO())
    return time.perf_counter() - started


def our_rendering(contexts: list[dict], template: bytes) -> float:
    """The same contexts through the pipeline's own renderer alone (strict, autoescaped, compiled once per
    process): pipeline time minus this is what the database, the job and the storage cost per letter."""
    from app.documents.rendering import render

    started = time.perf_counter()
    for ctx in contexts:
        render(TYPE_KEY, ctx, template=template)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=LETTERS, help="letters (addressees) to make; default 1,500")
    parser.add_argument("--inline", action="store_true", help="run the jobs inline in this process instead of in "
                                                               "a real RQ worker (`flask jobs worker`)")
    parser.add_argument("--profile", action="store_true", help="cProfile the pipeline and print the top 25 (with "
                                                                "--inline: a worker's jobs run in another process)")
    args = parser.parse_args()
    letters = args.letters
    with tempfile.TemporaryDirectory(prefix="uko-doc-bench-") as work:
        work = Path(work)
        app = make_app(work, rq=not args.inline)
        with app.app_context():
            from app.documents.rendering import template_bytes
            from app.extensions import db

            url = database_url(work)
            note = "" if url.startswith("postgresql") else " (цель задана для PostgreSQL)"
            print(f"база: {url.split('://')[0]}{note}, задания: "
                  f"{'в этом процессе' if args.inline else 'рабочий процесс RQ ' + REDIS_URL}")
            t0 = time.perf_counter()
            stage_id, official_id = seed(letters)
            print(f"данные: {letters} школ, одна рекомендация всем ({time.perf_counter() - t0:.1f} с на подготовку)")
            template = template_bytes(TYPE_KEY)
            warm_up(stage_id)
            worker = None if args.inline else RealWorker(work)
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            try:
                pipeline, version_ids = run_pipeline(stage_id, official_id, worker)
            finally:
                if worker:
                    worker.stop()
            if profiler:
                profiler.disable()
            contexts = contexts_of(version_ids)
            assert len(contexts) == letters
            bare_before = bare_docxtpl(contexts, template)
            bare_after = bare_docxtpl(contexts, template)
            bare = (bare_before + bare_after) / 2
            print(f"конвейер (generate → задания → produce): {pipeline:7.2f} с, "
                  f"{pipeline / letters * 1000:6.1f} мс/письмо")
            print(f"голый docxtpl (те же {letters} контекстов): {bare:7.2f} с "
                  f"(прогоны {bare_before:.2f} и {bare_after:.2f} с), {bare / letters * 1000:6.1f} мс/письмо")
            ours = our_rendering(contexts, template)
            print(f"рендеринг конвейера без базы и заданий (rendering.render): {ours:7.2f} с, "
                  f"{ours / letters * 1000:6.1f} мс/письмо; база, задания и запись файлов: "
                  f"{(pipeline - ours) / letters * 1000:.1f} мс/письмо")
            ratio = pipeline / bare
            print(f"отношение: {ratio:.2f}× (цель ≤ {TARGET:.1f}×".replace(".", ",")
                  + f") — {'OK' if ratio <= TARGET else 'ВЫШЕ ЦЕЛИ'}")
            if profiler:
                pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(25)
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()

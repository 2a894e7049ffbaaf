"""Imports outside the request: `flask import …` exit codes and output, the job through a real RQ
worker on Redis, and progress that other connections see while the import's transaction is open.

These need real commits seen by other processes or connections, so each uses a scratch database."""

import csv
import io
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, select, text

from tests import services
from tests.conftest import PASSWORD, make_config
from tests.test_imports import HEADER, result_row, results_csv

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"


def seeded_app(url: str, upload_dir: Path, **overrides):
    """An app on a fresh scratch database with REG → MUN → SCH-A, SCH-B, an official and a director."""
    from flask_migrate import upgrade

    from app import create_app
    from app.auth.services import create_user
    from app.extensions import db
    from app.orgs.services import create_organisation

    app = create_app(make_config(url, UPLOAD_DIR=str(upload_dir), **overrides))
    with app.app_context():
        upgrade()
        region = create_organisation(code="REG", name="Тестовая область", kind="region")
        mun = create_organisation(code="MUN", name="Тестовый муниципалитет", kind="municipality", parent=region)
        school_a = create_organisation(code="SCH-A", name="Школа А", kind="school", parent=mun)
        create_organisation(code="SCH-B", name="Школа Б", kind="school", parent=mun)
        create_user(login="official", full_name="Официалова Анна", password=PASSWORD, roles=[("official", mun)])
        create_user(login="director", full_name="Директоров Иван", password=PASSWORD,
                    roles=[("director", school_a)])
        db.session.commit()
    return app


def dispose(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def import_runs(app) -> list:
    from app.extensions import db
    from app.imports.models import ImportRun

    with app.app_context():
        db.session.expire_all()
        return [(r.status, r.rows_inserted, r.message) for r in db.session.scalars(select(ImportRun)
                                                                                    .order_by(ImportRun.id))]


@pytest.fixture
def cli_database(tmp_path):
    return services.scratch_database("imp_test_cli", tmp_path)


def test_cli_imports_exit_0_on_success_and_1_with_the_report_on_rejection(cli_database, tmp_path):
    uploads = tmp_path / "uploads"
    app = seeded_app(cli_database, uploads)
    env = {"UPLOAD_DIR": str(uploads), "PYTHONPATH": str(ROOT)}
    try:
        orgs = services.run_flask(["import", "organisations", str(DATA / "organisations_cp1251.csv")], cli_database,
                                  **env)
        assert orgs.returncode == 0, orgs.stderr
        assert "→ REG" in orgs.stdout  # no --as: the import runs as the system, over the root organisation
        assert "Загружено строк: 5 — добавлено 4, обновлено 1, без изменений 0." in orgs.stdout

        results = services.run_flask(["import", "results", str(DATA / "results_utf8.csv"), "--as", "official"],
                                     cli_database, **env)
        assert results.returncode == 0, results.stderr
        assert "… 60 %" in results.stdout and "добавлено 20" in results.stdout

        again = services.run_flask(["import", "results", str(DATA / "results_utf8.csv"), "--as", "official"],
                                   cli_database, **env)
        assert again.returncode == 0, again.stderr
        assert "Файл уже был загружен" in again.stdout

        bad = tmp_path / "bad.csv"
        bad.write_bytes(results_csv([result_row(1), result_row(2, grade="13"), result_row(3, school_code="X")]))
        rejected = services.run_flask(["import", "results", str(bad), "--as", "official"], cli_database, **env)
        assert rejected.returncode == 1
        assert "Файл отклонён: ошибок — 2 в 2 строках; ничего не сохранено." in rejected.stderr
        assert "Файл отклонён" not in rejected.stdout  # the refusal is said once, on stderr
        report_line = next(line for line in rejected.stderr.splitlines() if line.startswith("Отчёт об ошибках: "))
        report = Path(report_line.removeprefix("Отчёт об ошибках: "))
        assert report.is_file() and report.parent == uploads.resolve()
        assert "строка 3, «grade»: класс должен быть целым числом от 1 до 11 (значение «13»)" in rejected.stderr
        assert "строка 4, «school_code»" in rejected.stderr

        missing = services.run_flask(["import", "results", str(tmp_path / "нет.csv")], cli_database, **env)
        assert missing.returncode == 1 and f"Файл «{tmp_path / 'нет.csv'}» не найден" in missing.stderr

        refused = services.run_flask(["import", "results", str(bad), "--as", "director"], cli_database, **env)
        assert refused.returncode == 1 and "нет роли, позволяющей этот импорт" in refused.stderr
        assert [status for status, _n, _m in import_runs(app)] == ["done", "done", "unchanged", "rejected"]
    finally:
        dispose(app)


@pytest.fixture
def worker_database(tmp_path):
    return services.scratch_database("imp_test_rq", tmp_path)


@pytest.mark.redis
def test_an_uploaded_file_is_imported_by_a_real_rq_worker(worker_database, tmp_path):
    services.require_redis()
    from app.extensions import db
    from app.imports.models import AssessmentResult, ImportRun
    from app.imports.services import start_import
    from app.jobs import queue

    uploads = tmp_path / "uploads"
    connection = redis.Redis.from_url(services.REDIS_URL)
    connection.flushdb()
    app = seeded_app(worker_database, uploads, JOBS_MODE="rq", REDIS_URL=services.REDIS_URL)
    try:
        with app.test_request_context():
            from app.auth.models import User
            from app.orgs.models import Organisation

            official = db.session.scalar(select(User).where(User.login == "official"))
            mun = db.session.scalar(select(Organisation).where(Organisation.code == "MUN"))
            good = start_import("results", filename="r.csv", stream=io.BytesIO((DATA / "results_utf8.csv")
                                                                                 .read_bytes()),
                                actor=official, organisation=mun)
            bad = start_import("results", filename="bad.csv", stream=io.BytesIO(b"procedure,year\n2025,1\n"),
                               actor=official, organisation=mun)
            db.session.commit()
            queue.dispatch_ready()
            jobs = queue.get_queue("imports").job_ids
            assert sorted(jobs) == sorted([good.rq_job_id, bad.rq_job_id])
            good_id, bad_id = good.id, bad.id
        assert [status for status, _n, _m in import_runs(app)] == ["queued", "queued"]

        worker = services.run_flask(["jobs", "worker", "--burst"], worker_database, REDIS_URL=services.REDIS_URL,
                                    JOBS_MODE="rq", UPLOAD_DIR=str(uploads), PYTHONPATH=str(ROOT))
        assert worker.returncode == 0, worker.stderr
        with app.app_context():
            db.session.expire_all()
            done, rejected = db.session.get(ImportRun, good_id), db.session.get(ImportRun, bad_id)
            assert (done.status, done.rows_inserted, done.progress) == ("done", 20, 100), done.message
            assert rejected.status == "rejected" and "Нет обязательных столбцов" in rejected.message
            assert db.session.scalar(select(db.func.count()).select_from(AssessmentResult)) == 20
            assert queue.get_queue("imports").count == 0
    finally:
        dispose(app)
        connection.flushdb()


@pytest.fixture
def progress_database(tmp_path):
    return services.scratch_database("imp_test_progress", tmp_path)


def test_progress_is_visible_to_other_connections_while_the_import_runs(progress_database, tmp_path):
    """The page reads the ImportRun row on its own connection while the job's transaction is open: it
    must see the status and a moving percentage, and none of the rows until the commit."""
    from app.extensions import db
    from app.imports.jobs import run_import
    from app.imports.services import start_import

    app = seeded_app(progress_database, tmp_path / "uploads")
    rows = [result_row(n, school_code="SCH-A" if n % 2 else "SCH-B") for n in range(1, 12001)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows([r[h] for h in HEADER] for r in rows)
    seen = []
    observer = create_engine(progress_database)

    postgresql = progress_database.startswith("postgresql")

    def look(percent):
        # SQLite: a big write transaction takes the whole-file lock, so readers wait until it commits;
        # there, progress is shown for reading and checking only (PostgreSQL shows it throughout).
        if percent >= 20 and (postgresql or percent < 60) and len(seen) < 40:
            with observer.connect() as conn:
                status, progress = conn.execute(text("SELECT status, progress FROM import_runs")).one()
                stored = conn.execute(text("SELECT count(*) FROM assessment_results")).scalar()
            seen.append((percent, status, progress, stored))

    try:
        with app.app_context():
            from app.auth.models import User
            from app.orgs.models import Organisation

            official = db.session.scalar(select(User).where(User.login == "official"))
            mun = db.session.scalar(select(Organisation).where(Organisation.code == "MUN"))
            run = start_import("results", filename="big.csv", stream=io.BytesIO(out.getvalue().encode()),
                               actor=official, organisation=mun, enqueue=False)
            db.session.commit()
            run_import(run.id, listener=look)
        with observer.connect() as conn:
            final = conn.execute(text("SELECT status, progress, rows_inserted FROM import_runs")).one()
            assert tuple(final) == ("done", 100, 12000)
        assert seen, "the listener never ran"
        assert all(status == "running" and stored == 0 for _p, status, _progress, stored in seen), seen
        assert max(progress for _p, _s, progress, _n in seen) > 0, seen
        if postgresql:
            # While rows are being loaded (60 % and on) the page still sees progress move.
            loading = [progress for percent, _s, progress, _n in seen if percent >= 60]
            assert loading and max(loading) >= 60, seen
    finally:
        observer.dispose()
        dispose(app)

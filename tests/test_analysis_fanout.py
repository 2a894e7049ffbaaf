"""A region's analysis run fanned out as one job per municipality plus a combining job (app/analysis/fanout.py):
the same stored results as the single job, and a failed municipality fails the run and strands nothing."""

import pytest
from flask import current_app
from sqlalchemy import func, select, update

from app.analysis import fanout, jobs, services
from app.analysis.models import AnalysisPart, AnalysisResult, AnalysisRun
from app.extensions import db
from tests.test_analysis_app import result_set, run_job


@pytest.fixture
def two_municipalities(world, more_schools, make_org, db_session):
    """The world's municipality (12 schools) and a second one of 8 schools, both with results, and a school directly
    under the region without any: three parts, one of them empty."""
    from app.analysis.demo import seed_results

    second = make_org("municipality", parent=world["region"], code="MUN-2", name="Второй район")
    for n in range(8):
        make_org("school", parent=second, code=f"SCH-Y{n}", name=f"Школа Игрек {n}", students=120 + 40 * n,
                 settlement=("city", "village")[n % 2], low_income_share=4 + 2 * n)
    make_org("school", parent=world["region"], code="SCH-REG", name="Областная школа")
    db_session.flush()
    assert seed_results(world["mun"], year=2026, seed=7) > 0
    assert seed_results(second, year=2026, seed=8) > 0
    db_session.commit()
    return second


def fanned(monkeypatch, on: bool):
    monkeypatch.setitem(current_app.config, "ANALYSIS_FANOUT_MIN_SCHOOLS", 1 if on else 0)


def parts_of(session, run_id):
    return list(session.scalars(select(AnalysisPart).where(AnalysisPart.run_id == run_id).order_by(AnalysisPart.id)))


def staged(session, run_id):
    return session.scalar(select(func.count()).select_from(AnalysisPart).where(
        AnalysisPart.run_id == run_id, AnalysisPart.data.is_not(None)))


def test_a_fanned_out_run_stores_exactly_what_the_single_job_stores(world, anl_cycle, two_municipalities,
                                                                    db_session, monkeypatch):
    fanned(monkeypatch, False)
    single = run_job(anl_cycle, world["official"], db_session)
    assert single.status == "done", single.message
    assert not parts_of(db_session, single.id)

    fanned(monkeypatch, True)
    split = run_job(anl_cycle, world["official"], db_session)
    assert split.status == "done", split.message
    assert split.progress == 100 and split.finished_at is not None

    parts = parts_of(db_session, split.id)
    assert sorted(p.organisation_id for p in parts) == sorted(
        [world["mun"].id, two_municipalities.id, world["region"].id])
    assert all(p.status == "done" and p.finished_at for p in parts)
    assert staged(db_session, split.id) == 0, "the combining job clears what the parts staged"
    by_org = {p.organisation_id: p.rows for p in parts}
    assert by_org[world["region"].id] == 0 and by_org[two_municipalities.id] > 0
    assert sum(by_org.values()) == split.summary["rows"] == single.summary["rows"]

    # the same inputs, the same fingerprint and the same numbers, row for row
    assert split.fingerprint == single.fingerprint
    stored = result_set(db_session, split.id)
    assert len(stored) > 100 and stored == result_set(db_session, single.id)
    assert {k: v for k, v in split.summary.items() if k != "parts"} == single.summary
    assert split.summary["parts"] == 3
    assert split.message == single.message


def test_a_failed_municipality_fails_the_run_with_its_name_and_strands_nothing(
        world, anl_cycle, two_municipalities, db_session, monkeypatch):
    fanned(monkeypatch, True)
    real = fanout.encode
    calls = []

    def second_part_breaks(frame):
        calls.append(len(frame))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(frame)

    monkeypatch.setattr(fanout, "encode", second_part_breaks)
    run = run_job(anl_cycle, world["official"], db_session)
    assert run.status == "failed" and run.finished_at is not None
    parts = parts_of(db_session, run.id)
    broken = parts[1]
    assert broken.status == "failed" and "внутренняя ошибка" in broken.message
    assert run.message.startswith(f"Расчёт по муниципалитету «{broken.organisation.name}» не выполнен: "
                                  "внутренняя ошибка при чтении результатов муниципалитета")
    assert "запустите анализ снова" in run.message
    # nothing waits, nothing runs, nothing is staged, no half of the results is stored
    assert [p.status for p in parts] == ["done", "failed", "failed"]
    assert parts[2].message.startswith("Отменено: не выполнен расчёт по муниципалитету")
    assert staged(db_session, run.id) == 0
    assert db_session.scalar(select(func.count()).select_from(AnalysisResult).where(
        AnalysisResult.run_id == run.id)) == 0
    assert len(calls) == 2, "the cancelled part did not read its rows"

    # the failed run does not block the next one, which computes normally
    monkeypatch.setattr(fanout, "encode", real)
    again = run_job(anl_cycle, world["official"], db_session)
    assert again.status == "done", again.message


def test_a_failed_municipality_takes_the_aggregates_the_finished_ones_stored_with_it(
        world, anl_cycle, two_municipalities, db_session, monkeypatch):
    """The parts before the failing one stored their units' aggregate rows and committed: the failure deletes them
    (and a failed combining job likewise)."""
    fanned(monkeypatch, True)
    real, seen = jobs.read_part, []

    def last_part_breaks(part_id):
        rows = real(part_id)
        seen.append((part_id, aggregate_rows(db.session, db.session.get(AnalysisPart, part_id).run_id)))
        if len(seen) == 3:
            raise RuntimeError("disk full")
        return rows

    monkeypatch.setattr(jobs, "read_part", last_part_breaks)
    run = run_job(anl_cycle, world["official"], db_session)
    assert run.status == "failed"
    assert [p.status for p in parts_of(db_session, run.id)] == ["done", "done", "failed"]
    assert seen[1][1] > 0, "the second part stored its aggregates before the third failed"
    assert db_session.scalar(select(func.count()).select_from(AnalysisResult).where(
        AnalysisResult.run_id == run.id)) == 0

    monkeypatch.setattr(jobs, "read_part", real)
    real_combine = jobs.combine

    def combining_breaks(run_id):
        assert aggregate_rows(db.session, run_id) > 0
        raise RuntimeError("out of memory")

    monkeypatch.setattr(jobs, "combine", combining_breaks)
    with pytest.raises(RuntimeError, match="out of memory"):  # inline, the combining job's error is raised on
        run_job(anl_cycle, world["official"], db_session)
    db_session.rollback()
    run = db_session.scalar(select(AnalysisRun).order_by(AnalysisRun.id.desc()).limit(1))
    assert run.status == "failed" and run.message.startswith("Внутренняя ошибка при расчёте")
    assert db_session.scalar(select(func.count()).select_from(AnalysisResult).where(
        AnalysisResult.run_id == run.id)) == 0
    monkeypatch.setattr(jobs, "combine", real_combine)


def test_a_part_whose_worker_died_fails_the_run_through_the_reconciler(world, anl_cycle, two_municipalities,
                                                                       db_session, monkeypatch):
    """Inline, a part still pending after twice its job's timeout died with its process: the reconciler fails it,
    and with it the run and the other parts."""
    from datetime import timedelta

    from app.core.timeutil import utcnow
    from app.jobs.tracked import reconcile_all

    fanned(monkeypatch, True)
    run = services.start_run(anl_cycle, actor=world["official"])
    db_session.commit()
    db_session.info.pop("uko_ready_jobs", None)  # the worker "dies": the jobs are never run
    run.status, run.started_at = "running", utcnow()
    db_session.flush()
    parts = jobs.dispatch(run)
    db_session.commit()
    db_session.info.pop("uko_ready_jobs", None)
    db_session.execute(update(AnalysisPart).where(AnalysisPart.id == parts[0].id)
                       .values(status="running", created_at=utcnow() - timedelta(hours=3)))
    db_session.commit()

    outcomes = reconcile_all(["analysis_part"])
    assert outcomes["analysis_part"].failed == [parts[0].id]
    db_session.expire_all()
    run = db_session.get(AnalysisRun, run.id)
    assert run.status == "failed"
    assert "фоновый процесс, читавший результаты муниципалитета, был остановлен" in run.message
    assert {p.status for p in parts_of(db_session, run.id)} == {"failed"}


def aggregate_rows(session, run_id):
    return session.scalar(select(func.count()).select_from(AnalysisResult).where(
        AnalysisResult.run_id == run_id, AnalysisResult.kind == "aggregate"))


def test_the_parts_store_their_units_aggregates_and_a_lost_combining_job_strands_none(
        world, anl_cycle, two_municipalities, db_session, monkeypatch):
    """Each part stores its units' aggregate rows in its own transaction (the combining job does not make them); when
    the reconciler finds the combining job's worker gone, the run fails and those rows go with it."""
    from datetime import timedelta

    from app.core.timeutil import utcnow
    from app.jobs.tracked import reconcile_all

    fanned(monkeypatch, False)
    single = run_job(anl_cycle, world["official"], db_session)
    fanned(monkeypatch, True)
    monkeypatch.setattr(jobs, "combine", lambda _run_id: False)  # its worker "dies" before it starts
    run = run_job(anl_cycle, world["official"], db_session)
    assert run.status == "running" and {p.status for p in parts_of(db_session, run.id)} == {"done"}
    stored = aggregate_rows(db_session, run.id)
    assert stored == aggregate_rows(db_session, single.id) > 0
    assert db_session.scalar(select(func.count()).select_from(AnalysisResult).where(
        AnalysisResult.run_id == run.id)) == stored, "only the aggregates: the rest is the combining job's"

    db_session.execute(update(AnalysisRun).where(AnalysisRun.id == run.id)
                       .values(created_at=utcnow() - timedelta(hours=3)))
    db_session.commit()
    outcomes = reconcile_all(["analysis_run"])
    assert outcomes["analysis_run"].failed == [run.id]
    db_session.expire_all()
    assert db_session.get(AnalysisRun, run.id).status == "failed"
    assert db_session.scalar(select(func.count()).select_from(AnalysisResult).where(
        AnalysisResult.run_id == run.id)) == 0
    assert staged(db_session, run.id) == 0
    assert aggregate_rows(db_session, single.id) == stored, "another run's rows are left alone"


def test_the_combining_job_of_a_finished_run_does_nothing(world, anl_cycle, two_municipalities, db_session,
                                                          monkeypatch):
    fanned(monkeypatch, True)
    run = run_job(anl_cycle, world["official"], db_session)
    count = db_session.scalar(select(func.count()).select_from(AnalysisResult).where(AnalysisResult.run_id == run.id))
    jobs.combine_analysis(run.id)  # a second delivery
    db_session.expire_all()
    assert db.session.get(AnalysisRun, run.id).status == "done"
    assert db_session.scalar(select(func.count()).select_from(AnalysisResult).where(
        AnalysisResult.run_id == run.id)) == count


def test_result_rows_travel_as_one_statement_a_kind_and_come_back_as_made(world, anl_cycle, db_session):
    """StoredRows builds each kind's JSON array as UTF-8 bytes (PostgreSQL decodes them): Cyrillic, quotes,
    backslashes, a character outside the BMP and exact floats come back as they were made."""
    import pandas as pd

    from app.analysis.methods.verdicts import FLAGGED
    from tests.conftest import counted_statements

    run = AnalysisRun(cycle_id=anl_cycle.id, organisation_id=world["region"].id, years=[2026], status="running",
                      progress=0, params={})
    db_session.add(run)
    db_session.flush()
    school = world["school_a"].id
    made = [{"verdict": FLAGGED, "explanation": 'К2 — «трудные» задания: \\ "кавычки" 𝔸', "p": 0.1 + 0.2},
            {"verdict": "clear", "explanation": "", "p": 1e-300}]
    rows = jobs.StoredRows()
    rows.add(jobs.frame_rows(pd.DataFrame(
        [{"school_id": school, "year": 2026, **m} for m in made]), "verdict", run.id, value_column="p"))
    rows.add([{"run_id": run.id, "kind": "note", "payload": {"text": "Примечание"}, "value": None,
               **{name: None for name in jobs.TYPED}}])
    assert rows.count == {"verdict": 2, "note": 1} and rows.flagged == {school}
    with counted_statements() as statements:
        rows.store()
    assert len(statements) == 2
    stored = db_session.execute(select(AnalysisResult.kind, AnalysisResult.school_id, AnalysisResult.value,
                                       AnalysisResult.payload).where(AnalysisResult.run_id == run.id)
                                .order_by(AnalysisResult.id)).all()
    assert [(k, s, v) for k, s, v, _p in stored] == [("verdict", school, 0.1 + 0.2), ("verdict", school, 1e-300),
                                                   ("note", None, None)]
    assert [p for _k, _s, _v, p in stored] == [{"school_id": school, "year": 2026, **m} for m in made] + [
        {"text": "Примечание"}]


def test_staged_frames_come_back_unchanged(world, two_municipalities, db_session):
    from app.analysis.methods import data

    frame = data.load_results(years=[2024, 2025, 2026], with_ids=True)
    back = fanout.decode(fanout.encode(frame))
    assert list(back.columns) == list(frame.columns)
    assert back.dtypes.tolist() == frame.dtypes.tolist()
    assert back.equals(frame)
    assert back["task_scores"].map(type).isin([str, type(None)]).all()


def test_the_two_rounds_over_municipalities_give_the_single_frames_numbers_to_the_last_bit():
    """The parts' summaries (round 1) and K2's sums (round 2) put together give every method's frame exactly as one
    frame of the region's rows does, on a generated region with planted schools and rows in no particular order."""
    import numpy as np

    from app.analysis.methods import data, pipeline
    from app.analysis.methods.synthetic import generate_region
    from app.analysis.methods.thresholds import load_thresholds

    region = generate_region(seed=5, n_schools=60, size_range=(8, 120))
    frame = data.without_task_text(region.results).sample(frac=1.0, random_state=3).reset_index(drop=True)
    frame.insert(0, "id", np.arange(1, len(frame) + 1, dtype=np.int64))
    whole = frame.drop(columns="id")
    th = load_thresholds()
    municipality = dict(zip(region.schools["id"], region.schools["municipality_id"]))
    parts = [part for _m, part in frame.groupby(frame["school_id"].map(municipality), sort=True)]
    # the municipalities' rows differ in their task count: a part with fewer task columns pads like the region
    parts[0] = parts[0].drop(columns=[c for c in parts[0].columns if c.startswith("task_") and
                                      parts[0][c].isna().all()])
    assert len(parts) == 4
    blobs = [fanout.stage_part(part, th["k3_near_max_level"], jobs.school_digests(part)) for part in parts]
    merged = fanout.merge_parts(iter(blobs))
    rounds = []

    def round2(tmax, easy, hard):
        rounds.append(1)
        return fanout.round2(iter(blobs), merged, tmax, easy, hard)

    merged.prepared.cache["k2_round"] = round2
    years = sorted(region.results["year"].unique().tolist())
    single = pipeline.compute(whole, region.schools, th, boundaries=None, structures=None, years=years)
    split = pipeline.compute(merged.prepared, region.schools, th, boundaries=None, structures=None, years=years)
    assert rounds == [1] and len(merged.prepared.results) == 0, "the split computation never held the rows"
    assert merged.rows == len(whole) and merged.digests == jobs.school_digests(whole)
    assert split.prepared.units.equals(single.prepared.units) and split.prepared.works.equals(single.prepared.works)
    assert split.aggregates.equals(single.aggregates)
    assert (single.tests["sign"] == "K2").sum() > 100
    assert split.tests.equals(single.tests)
    for name in ("markers", "not_computable", "skipped", "units"):
        assert getattr(split.markers, name).equals(getattr(single.markers, name)), name
    assert len(split.judged) == len(single.judged) and all(a.equals(b) for a, b in zip(split.judged, single.judged))
    assert (single.judged[-1]["verdict"] == "flagged").sum() > 0
    assert split.low.index.equals(single.low.index) and split.low.shnor.equals(single.low.shnor)
    assert split.stable == single.stable and split.compared.equals(single.compared)


def test_the_single_and_combining_jobs_statements_do_not_grow_with_the_municipalities(
        world, anl_cycle, two_municipalities, make_org, db_session, monkeypatch):
    """Bulk reads and writes (issue 15 §4): the single job and the combining job issue as many statements for a
    region of five municipalities as for one of two (only the parts, one job per municipality, add up)."""
    from app.analysis.demo import seed_results
    from tests.conftest import counted_statements

    real_combine = jobs.combine
    combined = []

    def counting_combine(run_id):
        with counted_statements() as statements:
            done = real_combine(run_id)
        combined.append(len(statements))
        return done

    monkeypatch.setattr(jobs, "combine", counting_combine)

    def measure():
        fanned(monkeypatch, False)
        with counted_statements() as statements:
            single = run_job(anl_cycle, world["official"], db_session)
        assert single.status == "done", single.message
        fanned(monkeypatch, True)
        split = run_job(anl_cycle, world["official"], db_session)
        assert split.status == "done", split.message
        return len(statements), combined[-1], single.summary["rows"], split.summary["parts"]

    measure()  # the first run of a cycle finds no earlier run: measured from the second on
    few = measure()
    for m in range(3):
        mun = make_org("municipality", parent=world["region"], code=f"MUN-G{m}", name=f"Район роста {m}")
        for n in range(6):
            make_org("school", parent=mun, code=f"SCH-G{m}{n}", name=f"Школа роста {m}-{n}", students=200 + 30 * n,
                     settlement=("city", "village")[n % 2], low_income_share=3 + n)
        db_session.flush()
        assert seed_results(mun, year=2026, seed=20 + m) > 0
    db_session.commit()
    many = measure()
    assert many[2] > few[2] and many[3] == few[3] + 3, (few, many)
    assert many[:2] == few[:2], f"statements (single job, combining job) for {few[2]} → {many[2]} rows: {few} → {many}"


# --- real Redis, real worker ---------------------------------------------------------------------------

@pytest.fixture
def worker_database(tmp_path):
    from tests import services as test_services

    return test_services.scratch_database("fanout_test_rq", tmp_path)


@pytest.mark.redis
def test_a_real_worker_runs_the_parts_and_the_combining_job(worker_database, tmp_path):
    """Parts and the combining job go through Redis to an RQ worker (`flask jobs worker --burst`); the combining
    job waits for the parts (an RQ dependency) and stores what the single job stores."""
    import redis

    from app.analysis.jobs import run_now
    from app.jobs import queue
    from tests import services as test_services
    from tests.test_imports_jobs import ROOT, dispose, seeded_app

    test_services.require_redis()
    redis_url = test_services.own_redis_url(4)
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    app = seeded_app(worker_database, tmp_path / "uploads", JOBS_MODE="rq", REDIS_URL=redis_url,
                     ANALYSIS_FANOUT_MIN_SCHOOLS=1)
    try:
        with app.test_request_context():
            from app.analysis.demo import seed_results
            from app.auth.models import User
            from app.catalogue.services import load_all
            from app.cycles.services import create_cycle
            from app.orgs.models import Organisation
            from app.orgs.services import create_organisation
            from tests.conftest import track_of

            load_all()
            official = db.session.scalar(select(User).where(User.login == "official"))
            region = db.session.scalar(select(Organisation).where(Organisation.code == "REG"))
            mun = db.session.scalar(select(Organisation).where(Organisation.code == "MUN"))
            second = create_organisation(code="MUN-2", name="Второй район", kind="municipality", parent=region)
            for n in range(6):
                create_organisation(code=f"RQ-S{n}", name=f"Школа РК {n}", kind="school", parent=mun,
                                    students=200 + 50 * n, settlement=("city", "village")[n % 2])
                create_organisation(code=f"RQ-T{n}", name=f"Школа РТ {n}", kind="school", parent=second,
                                    students=150 + 30 * n, settlement=("town", "village")[n % 2])
            seed_results(mun, year=2026, seed=11)
            seed_results(second, year=2026, seed=12)
            cycle = create_cycle(track=track_of("M1.1"), owner=mun, period="2025/26", actor=official,
                                 responsible=official)
            run = services.start_run(cycle, actor=official)
            db.session.commit()
            assert run.params["fanout"] is True
            queue.dispatch_ready()
            run_id, cycle_id = run.id, cycle.id
        worker = test_services.run_flask(["jobs", "worker", "--burst"], worker_database,
                                         REDIS_URL=redis_url, JOBS_MODE="rq", PYTHONPATH=str(ROOT))
        assert worker.returncode == 0, worker.stderr
        with app.app_context():
            db.session.expire_all()
            run = db.session.get(AnalysisRun, run_id)
            assert (run.status, run.progress) == ("done", 100), (run.message, worker.stderr[-3000:])
            parts = parts_of(db.session, run_id)
            assert len(parts) == 2 and all(p.status == "done" for p in parts)
            assert staged(db.session, run_id) == 0
            assert run.rq_job_id.endswith("-combine")
            assert queue.get_queue("default").count == 0
            # the single job over the same data, in this process
            from app.cycles.models import Cycle

            single = services.start_run(db.session.get(Cycle, cycle_id), actor=db.session.scalar(
                select(User).where(User.login == "official")), enqueue=False)
            run_now(single)
            db.session.commit()
            assert single.fingerprint == run.fingerprint
            assert result_set(db.session, single.id) == result_set(db.session, run_id)
    finally:
        dispose(app)
        connection.flushdb()

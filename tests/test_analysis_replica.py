"""A read replica for the heavy read-only queries (REPLICA_DATABASE_URL, app/extensions.py `reading`): with it
pointing at the primary's own database everything works, the analysis reads the results through it and the
situational centre its tables, and no write ever reaches it."""

import pytest
from sqlalchemy import event, select, text

from app.extensions import db


@pytest.fixture
def replica_app(tmp_path):
    from tests import services as test_services
    from tests.test_imports_jobs import dispose, seeded_app

    url = test_services.scratch_database("replica_test", tmp_path)
    app = seeded_app(url, tmp_path / "uploads", REPLICA_DATABASE_URL=url)
    yield app
    with app.app_context():
        engine = app.extensions.get("replica", {}).get("engine")
        if engine is not None:
            engine.dispose()
    dispose(app)


def test_with_a_replica_the_analysis_and_the_situational_centre_read_there_and_write_only_to_the_primary(
        replica_app):
    from app.analysis import services
    from app.analysis.demo import seed_results
    from app.analysis.models import AnalysisResult, AnalysisRun
    from app.auth.models import User
    from app.catalogue.services import load_all
    from app.cycles.services import create_cycle
    from app.extensions import reading, replica_engine
    from app.jobs.queue import dispatch_ready
    from app.orgs.models import Organisation
    from app.orgs.services import create_organisation
    from tests.conftest import PASSWORD, track_of

    app = replica_app
    with app.test_request_context():
        load_all()
        official = db.session.scalar(select(User).where(User.login == "official"))
        mun = db.session.scalar(select(Organisation).where(Organisation.code == "MUN"))
        for n in range(6):
            create_organisation(code=f"RP-S{n}", name=f"Школа реплики {n}", kind="school", parent=mun,
                                students=200 + 50 * n, settlement=("city", "village")[n % 2])
        assert seed_results(mun, year=2026, seed=11) > 0
        cycle = create_cycle(track=track_of("M1.1"), owner=mun, period="2025/26", actor=official,
                             responsible=official)
        db.session.commit()

        replica = replica_engine()
        assert replica is not None and replica is not db.engine
        on_replica, on_primary = [], []
        event.listen(replica, "before_cursor_execute", lambda _c, _cur, s, *_a: on_replica.append(s))
        event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, s, *_a: on_primary.append(s))

        run = services.start_run(cycle, actor=official)
        db.session.commit()
        dispatch_ready()
        db.session.expire_all()
        run = db.session.get(AnalysisRun, run.id)
        assert run.status == "done", run.message
        assert run.summary["rows"] > 0
        stored = db.session.scalar(select(db.func.count()).select_from(AnalysisResult)
                                   .where(AnalysisResult.run_id == run.id))
        assert stored > 0
        # the results were read on the replica, the analysis results written on the primary
        def results_read(log):
            return [s for s in log if "FROM assessment_results" in s and "task_scores" in s]

        assert results_read(on_replica) and not results_read(on_primary)
        assert any(s.lstrip().upper().startswith("INSERT INTO ANALYSIS_RESULTS") for s in on_primary)

        # a write through the replica's connection is refused before it is sent
        with pytest.raises(RuntimeError, match="only reads"):
            with reading() as connection:
                connection.execute(text("UPDATE organisations SET name = name WHERE id = 0"))
        mun_id = mun.id

    client = app.test_client()
    response = client.post("/login", data={"login": "official", "password": PASSWORD})
    assert response.status_code in (200, 302)
    before = len(on_replica)
    page = client.get(f"/situation/orgs/{mun_id}?year=2026&procedure=ВПР")
    assert page.status_code == 200
    assert "Школа реплики 0" in page.get_data(as_text=True)
    read_there = on_replica[before:]
    assert any("result_summaries" in s for s in read_there), read_there
    assert any("analysis_results" in s for s in read_there), read_there

    # nothing but reads ever reached the replica
    writes = [s for s in on_replica if not s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert not writes, writes

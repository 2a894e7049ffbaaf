"""Analysis pages over HTTP: running an analysis, the result pages, findings forms, risk profiles,
scoping (a school's director sees only their school; another municipality sees none), fixed query counts,
and a run through a real Redis + RQ worker."""

import io

import pytest
from sqlalchemy import func, select

from app.analysis import services
from app.analysis.models import AnalysisResult, AnalysisRun, Finding, RiskProfile
from tests.test_analysis_app import audit_count
from tests.conftest import counted_statements


@pytest.fixture
def analysed(world, anl_cycle, seeded_results, db_session, client, login):
    """The municipal cycle analysed over HTTP: the official presses «Запустить анализ»."""
    login(world["official"])
    response = client.post(f"/analysis/cycles/{anl_cycle.id}/runs", data={})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    run = db_session.scalar(select(AnalysisRun).where(AnalysisRun.cycle_id == anl_cycle.id))
    db_session.expire_all()
    assert run.status == "done", run.message  # inline job, run after the request's commit
    assert response.headers["Location"].endswith(f"/analysis/runs/{run.id}")
    client.post("/logout")
    return run


def test_official_runs_an_analysis_and_sees_every_result_page(world, anl_cycle, analysed, client, login):
    login(world["official"])
    page = client.get(f"/analysis/runs/{analysed.id}").get_data(as_text=True)
    assert "выполнен" in page and analysed.fingerprint in page and "100 %" in page
    overview = client.get(f"/analysis/cycles/{anl_cycle.id}").get_data(as_text=True)
    assert "<svg" in overview and overview.count("<script") == overview.count("<script src=")  # CSP: no inline JS
    objectivity = client.get(f"/analysis/cycles/{anl_cycle.id}/objectivity")
    assert objectivity.status_code == 200
    text = objectivity.get_data(as_text=True)
    assert "Признаки необъективности" in text and 'id="markers"' in text and "сформулировать вывод" in text
    for word in ("нарушен", "фальсифиц", "списыван"):
        assert word not in text.lower()
    low = client.get(f"/analysis/cycles/{anl_cycle.id}/low-results").get_data(as_text=True)
    assert "ШНОР" in low and "ШНСУ" in low and "Резильентные" in low
    clusters = client.get(f"/analysis/cycles/{anl_cycle.id}/clusters").get_data(as_text=True)
    assert "схожими условиями" in clusters and "<svg" in clusters
    for sort in ("org", "value", "attainment", "cluster_z", "nonsense"):
        assert client.get(f"/analysis/cycles/{anl_cycle.id}/dashboard?sort={sort}&dir=desc").status_code == 200
    school = client.get(f"/analysis/schools/{world['school_a'].id}").get_data(as_text=True)
    assert "Профиль рисков" in school and "Расчёт №" in school
    # The results' counts and shares stand right-aligned under right-aligned headings (they stood left, as text).
    import lxml.html

    table = lxml.html.fromstring(school).xpath("//table[@id='school-aggregates']")[0]
    heads = {th.text_content(): th.get("class") for th in table.xpath(".//thead//th")}
    assert heads["Участников"] == heads["Средний % выполнения"] == "text-end" and heads["Год"] is None


def test_a_marker_prefills_a_finding_which_the_official_saves(world, anl_cycle, analysed, client, login,
                                                              db_session):
    marker = db_session.scalar(select(AnalysisResult).where(AnalysisResult.run_id == analysed.id,
                                                            AnalysisResult.kind == "marker").limit(1))
    login(world["official"])
    page = client.get(f"/analysis/cycles/{anl_cycle.id}/findings/new?result={marker.id}").get_data(as_text=True)
    # the prefill names the sign in words (it is printed into documents), never by its code
    from app.analysis.report import SIGN_TITLES

    assert SIGN_TITLES[marker.sign] in page and "признаки необъективности" in page
    assert f"({marker.sign}" not in page and f"признак {marker.sign}" not in page
    form = {"problem": "Признаки необъективности результатов", "causes": "", "evidence": f"Признак {marker.sign}",
            "organisation_ids": [str(marker.school_id)], "analysis_run_id": str(analysed.id),
            "source_result_id": str(marker.id), "version": ""}
    response = client.post(f"/analysis/cycles/{anl_cycle.id}/findings", data=form)
    assert response.status_code == 302
    finding = db_session.scalar(select(Finding))
    assert finding.source_result_id == marker.id and [o.id for o in finding.organisations] == [marker.school_id]
    # Edit with a stale version: refused with the Russian message, nothing changed.
    before = audit_count(db_session)
    stale = client.post(f"/analysis/findings/{finding.id}/edit", data={**form, "problem": "Другое",
                                                                       "version": str(finding.version + 5)})
    assert stale.status_code == 409 and "изменён другим пользователем" in stale.get_data(as_text=True)
    db_session.expire_all()
    assert finding.problem == "Признаки необъективности результатов" and audit_count(db_session) == before
    # A stale deletion: the finding's page again with the reason and 409 (a redirect answered 302), nothing deleted.
    stale = client.post(f"/analysis/findings/{finding.id}/delete", data={"version": str(finding.version + 5)})
    assert stale.status_code == 409 and "изменён другим пользователем" in stale.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Finding)) == 1
    done = client.post(f"/analysis/findings/{finding.id}/delete", data={"version": str(finding.version)})
    assert done.status_code == 302 and db_session.scalar(select(func.count()).select_from(Finding)) == 0


def test_blank_finding_form_is_refused_with_russian_messages(world, anl_cycle, client, login, db_session):
    login(world["official"])
    before = audit_count(db_session)
    response = client.post(f"/analysis/cycles/{anl_cycle.id}/findings",
                           data={"problem": " ", "evidence": "", "version": ""})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Обязательное поле." in text or "Поле не может быть пустым" in text
    assert "Выберите хотя бы одну затронутую организацию." in text
    assert db_session.scalar(select(func.count()).select_from(Finding)) == 0 and audit_count(db_session) == before


def test_risk_profile_form_and_csv_upload(world, client, login, db_session):
    from app.analysis.risk_profile import risk_factors

    login(world["director_a"])
    school = world["school_a"]
    form = {f"score-{f.key}": "2" for f in risk_factors()}
    form.update({"year": "2026", "priority-1": "teacher_shortage", "programme-1": "Наставничество", "version": ""})
    assert client.post(f"/analysis/schools/{school.id}/risk-profile", data=form).status_code == 302
    profile = db_session.scalar(select(RiskProfile))
    assert profile.priorities == [{"factor": "teacher_shortage", "programme": "Наставничество"}]
    page = client.get(f"/analysis/schools/{school.id}").get_data(as_text=True)
    assert "Наставничество" in page and "Дефицит педагогических кадров" in page
    # Bad input: a score out of range, nothing changes.
    bad = {**form, "score-material_base": "12", "version": str(profile.version)}
    response = client.post(f"/analysis/schools/{school.id}/risk-profile", data=bad, follow_redirects=True)
    assert "должна быть от 0 до 10" in response.get_data(as_text=True)
    db_session.expire_all()
    assert profile.scores["material_base"] == 2.0
    csv = "factor;score;priority\n" + "\n".join(f"{f.key};5;{'1' if f.key == 'low_motivation' else ''}"
                                                  for f in risk_factors())
    response = client.post(f"/analysis/schools/{school.id}/risk-profile/import",
                           data={"year": "2025", "file": (io.BytesIO(csv.encode()), "anketa.csv")})
    assert response.status_code == 302
    imported = db_session.scalar(select(RiskProfile).where(RiskProfile.year == 2025))
    assert imported.source == "csv" and imported.priorities[0]["factor"] == "low_motivation"


# --- scoping -------------------------------------------------------------------------------------

def test_school_a_director_never_sees_school_b(world, anl_cycle, analysed, client, login, db_session):
    login(world["director_a"])
    assert client.get(f"/analysis/schools/{world['school_b'].id}").status_code == 404
    assert client.get(f"/analysis/cycles/{anl_cycle.id}/objectivity").status_code == 404  # the municipal cycle
    assert client.get(f"/analysis/runs/{analysed.id}").status_code == 404
    page = client.get(f"/analysis/schools/{world['school_a'].id}").get_data(as_text=True)
    assert "Школа Б" not in page
    # The school's page lists only its own results, even though the run covers the whole municipality.
    rows = services.results(analysed, ("marker", "aggregate", "cluster_position"), user=world["director_a"])
    assert rows and {r.school_id for r in rows} == {world["school_a"].id}


def test_an_official_of_another_municipality_sees_none_of_its_schools(world, anl_cycle, analysed, make_org,
                                                                      make_user, client, login, db_session):
    other = make_org("municipality", parent=world["region"], code="MUN-2")
    stranger = make_user("official", other, login="official_two")
    db_session.commit()
    login(stranger)
    for path in (f"/analysis/cycles/{anl_cycle.id}", f"/analysis/cycles/{anl_cycle.id}/dashboard",
                 f"/analysis/cycles/{anl_cycle.id}/low-results", f"/analysis/schools/{world['school_a'].id}",
                 f"/analysis/runs/{analysed.id}"):
        assert client.get(path).status_code == 404, path
    assert services.results(analysed, ("marker", "aggregate", "shnor", "cluster"), user=stranger) == [
        r for r in services.results(analysed, ("marker", "aggregate", "shnor", "cluster")) if r.school_id is None]


# --- verdicts ------------------------------------------------------------------------------------

_VERDICT = {
    "verdict": "flagged", "verdict_label": "признаки необъективности выявлены", "signs": ["K3"],
    "works": ["ВПР Математика 4 кл. 2026"], "combined_p": 0.0005,
    "explanation": "K3 — скопление результатов на границе отметки: ВПР Математика 4 кл. 2026 (ровно на границах "
                   "отметок 14 из 16 работ); вероятность случайно ≈ 1 из 2\u00a0000. В целом по школе: вероятность "
                   "случайно ≈ 1 из 2\u00a0000 (с учётом числа проверенных признаков).",
    "evidence": [{"sign": "K3", "kind": "heaping", "words": "скопление результатов на границе отметки", "p": 0.0005,
                  "chance": "вероятность случайно ≈ 1 из 2\u00a0000",
                  "works": [{"work": "ВПР Математика 4 кл. 2026", "p": 0.0001,
                             "detail": "ровно на границах отметок 14 из 16 работ"}]}],
}


def _clear(run, school, db_session) -> None:
    """The school's verdict in the run made «признаки не выявлены»."""
    clear = db_session.scalar(select(AnalysisResult).where(AnalysisResult.run_id == run.id,
                                                           AnalysisResult.kind == "verdict",
                                                           AnalysisResult.school_id == school.id))
    clear.payload = {**_VERDICT, "verdict": "clear", "verdict_label": "признаки не выявлены", "evidence": [],
                     "explanation": ""}
    db_session.commit()


def test_the_objectivity_page_says_why_each_school_is_flagged(world, anl_cycle, more_schools, db_session, client,
                                                              login):
    run = _fake_run(anl_cycle, more_schools[:2], db_session)
    _clear(run, more_schools[1], db_session)
    login(world["official"])
    page = client.get(f"/analysis/cycles/{anl_cycle.id}/objectivity").get_data(as_text=True)
    table = page.split('id="verdicts"', 1)[1].split("</table>", 1)[0]
    assert more_schools[0].display_name in table and more_schools[1].display_name not in table
    assert "признаки необъективности выявлены" in table
    assert "K3 — скопление результатов на границе отметки" in table and "ВПР Математика 4 кл. 2026" in table
    assert "вероятность случайно ≈ 1 из 2\u00a0000" in table and "сформулировать вывод" in table
    flagged = db_session.scalar(select(AnalysisResult).where(AnalysisResult.run_id == run.id,
                                                             AnalysisResult.kind == "verdict",
                                                             AnalysisResult.school_id == more_schools[0].id))
    form = client.get(f"/analysis/cycles/{anl_cycle.id}/findings/new?result={flagged.id}").get_data(as_text=True)
    assert "признаки необъективности выявлены" in form and "скопление результатов на границе отметки" in form
    school = client.get(f"/analysis/schools/{more_schools[0].id}").get_data(as_text=True)
    line = school.split('id="verdict"', 1)[1].split("</li>", 1)[0]
    assert "признаки необъективности выявлены" in line and "скопление результатов на границе отметки" in line



def test_the_objectivity_page_says_the_schools_leniency_where_it_strengthened_k4(world, anl_cycle, more_schools,
                                                                                 db_session, client, login):
    """A K4 shape sign strengthened by the school's leniency (verdicts._folded) carries it in its evidence: the page's
    list of signs said only the shape's works, not the school's term marks against its results in all its works."""
    run = _fake_run(anl_cycle, more_schools[:1], db_session)
    verdict = db_session.scalar(select(AnalysisResult).where(AnalysisResult.run_id == run.id,
                                                             AnalysisResult.kind == "verdict"))
    leniency = {"p": 0.001, "text": "к тому же во всех работах школы вместе отметки за период выше тех, что в школах "
                                    "региона ставят при таком же балле за работу (вероятность случайно ≈ 1 из "
                                    "1\u00a0000) — это усиливает признак"}
    verdict.payload = {**_VERDICT, "evidence": [{
        "sign": "K4", "kind": "shape", "p": 0.0001, "chance": "вероятность случайно ≈ 1 из 9\u00a0200",
        "words": "части учеников отметку за период подняли на целую отметку при том же балле за работу",
        "works": [{"work": "ВПР Математика 4 кл. 2026", "p": 0.003, "detail": "у 10 из 44 участников"}],
        "leniency": leniency}]}
    db_session.commit()
    login(world["official"])
    page = client.get(f"/analysis/cycles/{anl_cycle.id}/objectivity").get_data(as_text=True)
    line = page.split('id="verdicts"', 1)[1].split("</li>", 1)[0]
    assert ("ВПР Математика 4 кл. 2026 (у 10 из 44 участников); к тому же во всех работах школы вместе отметки за "
            "период выше тех") in line
    assert ("(вероятность случайно ≈ 1 из 1\u00a0000) — это усиливает признак; вероятность случайно ≈ 1 из "
            "9\u00a0200") in line


def test_a_stably_objective_school_with_single_threshold_signs_is_not_said_to_have_none(world, anl_cycle, more_schools,
                                                                                       db_session, client, login):
    """«Стабильно объективная» follows the verdicts (three years «признаки не выявлены»), while the table below lists
    single threshold signs: the page said «признаков нет» above a table of signs."""
    _clear(_fake_run(anl_cycle, more_schools[:1], db_session), more_schools[0], db_session)
    login(world["official"])
    page = client.get(f"/analysis/schools/{more_schools[0].id}").get_data(as_text=True)
    stable = page.split('id="stable"', 1)[1].split("</li>", 1)[0]
    markers = page.split('id="school-markers"', 1)[1].split("</table>", 1)[0]
    assert "K1" in markers  # a single threshold sign of the same run
    assert "признаков нет" not in page and "вердикт «признаки не выявлены»" in stable
    assert "может быть случайным" in page.split('id="markers-note"', 1)[1].split("</p>", 1)[0]
    objectivity = client.get(f"/analysis/cycles/{anl_cycle.id}/objectivity").get_data(as_text=True)
    assert "Школы без признаков три года подряд" not in objectivity

def test_no_flagged_school_in_a_region_too_small_to_compare_says_what_was_not_computed(world, anl_cycle, more_schools,
                                                                                       db_session, client, login):
    """A region of a few schools: «Школ с признаками необъективности не выявлено» above a table of signs that could
    not be computed read as «checked, none found»; the line now says that part was not computed and where."""
    run = _fake_run(anl_cycle, more_schools[:1], db_session)
    _clear(run, more_schools[0], db_session)
    login(world["official"])
    none = client.get(f"/analysis/cycles/{anl_cycle.id}/objectivity").get_data(as_text=True)
    line = none.split('id="verdicts-none"', 1)[1].split("</td>", 1)[0]
    assert "рассчитать не удалось" not in line  # every sign computed: «не выявлено» is the whole answer
    db_session.add(AnalysisResult(run_id=run.id, kind="not_computable", school_id=more_schools[0].id, year=2026,
                                  sign="K2", payload={"reason": "в регионе меньше 10 школ с этой работой"}))
    db_session.commit()
    page = client.get(f"/analysis/cycles/{anl_cycle.id}/objectivity").get_data(as_text=True)
    line = page.split('id="verdicts-none"', 1)[1].split("</td>", 1)[0]
    assert "Часть признаков рассчитать не удалось" in line and 'href="#not-computable"' in line
    assert "в регионе меньше 10 школ с этой работой" in page.split('id="not-computable"', 1)[1]


# --- fixed query counts --------------------------------------------------------------------------

def _fake_run(cycle, schools, db_session):
    from app.core.timeutil import utcnow

    run = AnalysisRun(cycle=cycle, organisation=cycle.owner, years=[2024, 2025, 2026], status="done",
                      progress=100, finished_at=utcnow(), params={}, fingerprint="f" * 64)
    db_session.add(run)
    db_session.flush()
    for n, school in enumerate(schools):
        for kind, extra in (("marker", {"sign": "K1", "subject": "Математика", "grade": 5}),
                            ("shnor", {}), ("shnsu", {}), ("resilient", {}), ("low_index", {}),
                            ("cluster", {}), ("cluster_position", {}), ("stably_objective", {}), ("verdict", {}),
                            ("aggregate", {"subject": "Математика", "grade": 5, "procedure": "ВПР"})):
            db_session.add(AnalysisResult(run_id=run.id, kind=kind, school_id=school.id, year=2026, value=n % 3,
                                          payload={"statistic": 1.0, "reasons": ["доля «2»"], "years": [2025, 2026],
                                                   "position": "above", "n": 20, "mean_percent": 50.0,
                                                   **(_VERDICT if kind == "verdict" else {})},
                                          **extra))
    db_session.commit()
    return run


@pytest.mark.parametrize("page", ["objectivity", "low-results", "clusters", "dashboard", ""])
def test_result_pages_issue_a_fixed_number_of_queries(world, anl_cycle, more_schools, db_session, client, login,
                                                      page):
    from app.analysis.dashboard import refresh_dashboard
    from app.monitoring.models import IndicatorValue

    def statements_for(schools):
        db_session.execute(AnalysisRun.__table__.delete())
        _fake_run(anl_cycle, schools, db_session)
        ind = anl_cycle.indicators[0]
        db_session.execute(IndicatorValue.__table__.delete().where(IndicatorValue.indicator_id == ind.id))
        for school in schools:
            db_session.add(IndicatorValue(indicator=ind, organisation=school, period=anl_cycle.period, value=50,
                                          source="form"))
        refresh_dashboard(anl_cycle)
        db_session.commit()
        login(world["official"])
        path = f"/analysis/cycles/{anl_cycle.id}" + (f"/{page}" if page else "")
        # Warm-up: the signed-in user and their roles are loaded once per session, whatever the page shows.
        assert client.get(path).status_code == 200
        with counted_statements() as statements:
            assert client.get(path).status_code == 200
        client.post("/logout")
        return len(statements)

    few = statements_for(more_schools[:2])
    many = statements_for(more_schools)
    assert many == few, f"{page}: {few} statements with 2 schools, {many} with {len(more_schools)}"


# --- a real worker -------------------------------------------------------------------------------

@pytest.fixture
def worker_database(tmp_path):
    from tests import services as test_services

    return test_services.scratch_database("ana_test_rq", tmp_path)


@pytest.mark.redis
def test_an_analysis_is_computed_by_a_real_rq_worker(worker_database, tmp_path):
    import redis

    from app.extensions import db
    from app.jobs import queue
    from tests import services as test_services
    from tests.test_imports_jobs import ROOT, dispose, seeded_app

    test_services.require_redis()
    # A Redis database of its own: other suites running at the same time flush theirs.
    redis_url = test_services.own_redis_url(1)
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    app = seeded_app(worker_database, tmp_path / "uploads", JOBS_MODE="rq", REDIS_URL=redis_url)
    try:
        with app.test_request_context():
            from app.analysis.demo import seed_results
            from app.auth.models import User
            from app.catalogue.services import load_all
            from app.cycles.models import Cycle
            from app.orgs.models import Organisation
            from app.orgs.services import create_organisation
            from tests.conftest import track_of

            load_all()
            official = db.session.scalar(select(User).where(User.login == "official"))
            mun = db.session.scalar(select(Organisation).where(Organisation.code == "MUN"))
            for n in range(6):
                create_organisation(code=f"RQ-S{n}", name=f"Школа РК {n}", kind="school", parent=mun,
                                    students=200 + 50 * n, settlement=("city", "village")[n % 2])
            seed_results(mun, year=2026, seed=11)
            from app.cycles.services import create_cycle

            cycle = create_cycle(track=track_of("M1.1"), owner=mun, period="2025/26", actor=official,
                                 responsible=official)
            run = services.start_run(cycle, actor=official)
            db.session.commit()
            queue.dispatch_ready()
            assert queue.get_queue("default").job_ids == [run.rq_job_id]
            run_id, cycle_id = run.id, cycle.id
            assert db.session.get(Cycle, cycle_id) is not None
        with app.app_context():
            assert db.session.get(AnalysisRun, run_id).status == "queued"
            db.session.remove()
        worker = test_services.run_flask(["jobs", "worker", "--burst"], worker_database,
                                         REDIS_URL=redis_url, JOBS_MODE="rq", PYTHONPATH=str(ROOT))
        assert worker.returncode == 0, worker.stderr
        with app.app_context():
            db.session.expire_all()
            run = db.session.get(AnalysisRun, run_id)
            assert (run.status, run.progress) == ("done", 100), worker.stderr[-3000:]
            assert len(run.fingerprint) == 64
            assert db.session.scalar(select(func.count()).select_from(AnalysisResult).where(
                AnalysisResult.run_id == run_id, AnalysisResult.kind == "cluster")) > 0
            assert queue.get_queue("default").count == 0
    finally:
        dispose(app)
        connection.flushdb()


@pytest.fixture
def progress_database(tmp_path):
    from tests import services as test_services

    return test_services.scratch_database("ana_test_progress", tmp_path)


def test_progress_is_visible_to_other_connections_while_the_analysis_runs(progress_database, tmp_path, monkeypatch):
    """The run page reads the run row on its own connection while the job computes: it sees the status
    and the percentage move, and none of the results until the job's commit."""
    from app.analysis.jobs import run_analysis
    from app.analysis.methods import clusters
    from app.extensions import db
    from tests.test_imports_jobs import dispose, seeded_app

    app = seeded_app(progress_database, tmp_path / "uploads")
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
            mun = db.session.scalar(select(Organisation).where(Organisation.code == "MUN"))
            for n in range(6):
                create_organisation(code=f"PR-S{n}", name=f"Школа П {n}", kind="school", parent=mun,
                                    students=200 + 50 * n, settlement=("city", "village")[n % 2])
            seed_results(mun, year=2026, seed=5)
            cycle = create_cycle(track=track_of("M1.1"), owner=mun, period="2025/26", actor=official,
                                 responsible=official)
            run = services.start_run(cycle, actor=official, enqueue=False)
            db.session.commit()
            run_id = run.id
            seen = []
            original = clusters.cluster_schools

            def watching(*args, **kwargs):
                with db.engine.connect() as page:  # what the run page would read meanwhile
                    seen.append(tuple(page.execute(select(AnalysisRun.status, AnalysisRun.progress)
                                                   .where(AnalysisRun.id == run_id)).one()))
                    seen.append(page.execute(select(func.count()).select_from(AnalysisResult)).scalar())
                return original(*args, **kwargs)

            monkeypatch.setattr(clusters, "cluster_schools", watching)
            run_analysis(run_id)
            assert seen == [("running", 75), 0]
            db.session.expire_all()
            done = db.session.get(AnalysisRun, run_id)
            assert (done.status, done.progress) == ("done", 100)
            assert db.session.scalar(select(func.count()).select_from(AnalysisResult)) > 0
    finally:
        dispose(app)

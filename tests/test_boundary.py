"""The request boundary (app/core/boundary.py) owns the commit: one commit at the end of a successful unsafe
request, a rollback of every write of the request on a refusal, an error or a 4xx answer, never a commit on a
GET, and jobs registered with enqueue_after_commit run only after the commit.

These tests run on an app of their own with a database of their own and real commits (no per-test rollback
around them): what a request kept is read afterwards through a second connection, as another user would."""

import pytest
from flask import flash, redirect, request
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm.exc import StaleDataError

from app.core import access
from app.core.boundary import on_refusal
from app.core.errors import GuardFailed, ValidationFailed
from app.jobs.queue import enqueue_after_commit, job
from tests import services
from tests.conftest import TEST_DB, make_config

JOB_SAW: list[tuple[str, list[str]]] = []


def _write(*notes: str) -> None:
    from app.extensions import db

    for note in notes:
        db.session.execute(text("INSERT INTO boundary_probe (note) VALUES (:note)"), {"note": note})


@job(queue="default")
def probe_job(note: str) -> None:
    """Records what a second connection sees when the job runs: the request's rows must be committed already."""
    JOB_SAW.append((note, _committed_notes()))


_OTHER = {}


def _committed_notes() -> list[str]:
    with _OTHER["engine"].connect() as conn:
        return sorted(conn.execute(text("SELECT note FROM boundary_probe")).scalars())


def _add_probe_routes(app) -> None:
    from app.extensions import db

    def route(rule, methods=("POST",)):
        def register(view):
            app.add_url_rule(rule, view.__name__, access.public(view), methods=list(methods))
            return view
        return register

    @route("/probe/ok")
    def ok():
        _write("a", "b")
        flash("Сохранено.", "success")
        return redirect("/done")

    @route("/probe/refused")
    def refused():
        _write("a")
        on_refusal(lambda exc: redirect("/back"))
        _write("b")
        db.session.flush()
        raise GuardFailed("Этап нельзя отправить.", problems=["Нет целей."])

    @route("/probe/refused-page")
    def refused_page():
        _write("a")
        on_refusal(lambda exc: (f"страница формы, {_committed_notes()}", exc.status_code))
        raise ValidationFailed("Неверная дата.")

    @route("/probe/refused-plain")
    def refused_plain():
        _write("a")
        raise GuardFailed("Переход невозможен.", problems=["Причина."])

    @route("/probe/crash")
    def crash():
        _write("a")
        flash("Сохранено.", "success")
        raise RuntimeError("a bug")

    @route("/probe/commit-fails")
    def commit_fails():
        _write("a")

        def refuse(session):
            raise RuntimeError("the database refused the commit")

        event.listen(db.session(), "before_commit", refuse, once=True)
        flash("Сохранено.", "success")
        return redirect("/done")

    @route("/probe/taken")
    def taken():
        # Another request committed the same key between this one's check and its write (a double click
        # on «Ознакомлен», two registrars at once): the database refuses the insert.
        on_refusal(lambda exc: (f"страница формы: {request.form.get('text', '')}", exc.status_code))
        flash("Сохранено.", "success")
        _write("a")
        db.session.execute(text("INSERT INTO boundary_unique (note) VALUES ('taken')"))
        return redirect("/done")

    @route("/probe/moved")
    def moved():
        # An UPDATE … WHERE version = :seen matched nothing at the commit: another request moved the row.
        on_refusal(lambda exc: (f"страница формы: {request.form.get('text', '')}", exc.status_code))
        _write("a")
        raise StaleDataError("UPDATE statement on table 'x' expected to update 1 row(s); 0 were matched.")

    @route("/api/v1/probe-taken")
    def api_taken():
        _write("a")
        db.session.execute(text("INSERT INTO boundary_unique (note) VALUES ('taken')"))
        return redirect("/done")

    @route("/probe/unprocessable")
    def unprocessable():
        _write("a")
        return "исправьте форму", 422

    @route("/probe/read", methods=("GET",))
    def read():
        _write("a")
        return "страница"

    @route("/probe/job")
    def with_job():
        _write("a")
        enqueue_after_commit(probe_job, "a")
        return redirect("/done")

    @route("/probe/job-refused")
    def with_job_refused():
        _write("a")
        enqueue_after_commit(probe_job, "a")
        raise ValidationFailed("Отказано.")

    @route("/api/v1/probe")
    def api_refused():
        _write("a")
        on_refusal(lambda exc: redirect("/back"))  # a page's answer; an API client gets JSON regardless
        raise ValidationFailed("Данные не прошли проверку; ничего не сохранено.", problems=["поле x"])

    @route("/api/v1/probe-crash")
    def api_crash():
        _write("a")
        raise RuntimeError("a bug")


@pytest.fixture(scope="module")
def probe_app(tmp_path_factory):
    from app import create_app
    from app.extensions import db

    if TEST_DB == "postgresql":
        url = services.scratch_database("uko_test_boundary", None, backend="postgresql")
    else:
        url = services.scratch_database("boundary", tmp_path_factory.mktemp("boundary"))
    app = create_app(make_config(url))
    _add_probe_routes(app)
    _OTHER["engine"] = create_engine(url)
    with _OTHER["engine"].begin() as conn:
        conn.execute(text("CREATE TABLE boundary_probe (note VARCHAR(40) NOT NULL)"))
        conn.execute(text("CREATE TABLE boundary_unique (note VARCHAR(40) NOT NULL UNIQUE)"))
        conn.execute(text("INSERT INTO boundary_unique (note) VALUES ('taken')"))
    yield app
    _OTHER.pop("engine").dispose()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def probe(probe_app):
    with _OTHER["engine"].begin() as conn:
        conn.execute(text("DELETE FROM boundary_probe"))
    JOB_SAW.clear()
    return probe_app.test_client()


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def test_a_successful_post_is_committed_once_at_the_end(probe):
    response = probe.post("/probe/ok")
    assert response.status_code == 302 and response.location == "/done"
    assert _committed_notes() == ["a", "b"]
    assert _flashes(probe) == [("success", "Сохранено.")]


def test_a_refused_post_keeps_none_of_its_writes_and_answers_as_the_view_declared(probe):
    response = probe.post("/probe/refused")
    assert response.status_code == 302 and response.location == "/back"
    assert _committed_notes() == []
    # one message: the reason, the problems listed under it (app.core.web.flash_problems), kept across the redirect
    assert _flashes(probe) == [("danger", 'Этап нельзя отправить. <ul class="mb-0 mt-1 refusal-problems">'
                                          "<li>Нет целей.</li></ul>")]


def test_a_refusal_answer_runs_after_the_rollback_with_the_errors_status(probe):
    response = probe.post("/probe/refused-page")
    assert response.status_code == 422
    # The answer re-renders the page from the rolled-back state: the request's row is gone already.
    assert response.get_data(as_text=True) == "страница формы, []"
    assert _committed_notes() == []


def test_a_refusal_without_a_declared_answer_is_the_error_page_with_its_status(probe):
    response = probe.post("/probe/refused-plain")
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Переход невозможен." in body and "Причина." in body
    assert _committed_notes() == []


def test_an_unexpected_error_rolls_back_and_gives_the_500_page(probe):
    response = probe.post("/probe/crash")
    assert response.status_code == 500
    assert "Внутренняя ошибка сервера" in response.get_data(as_text=True)
    assert _committed_notes() == []


def test_a_commit_that_fails_keeps_nothing_and_drops_the_success_message(probe):
    response = probe.post("/probe/commit-fails")
    assert response.status_code == 500
    assert _committed_notes() == []
    assert ("success", "Сохранено.") not in _flashes(probe)


def test_a_post_answered_with_an_error_status_is_rolled_back(probe):
    response = probe.post("/probe/unprocessable")
    assert response.status_code == 422
    assert _committed_notes() == []


def test_a_get_never_commits(probe):
    response = probe.get("/probe/read")
    assert response.status_code == 200
    assert _committed_notes() == []


def test_a_job_registered_by_a_request_runs_after_its_commit(probe):
    response = probe.post("/probe/job")
    assert response.status_code == 302
    assert JOB_SAW == [("a", ["a"])]  # inline mode: run after the commit, seeing the committed row


def test_a_refused_request_runs_none_of_its_jobs(probe):
    response = probe.post("/probe/job-refused")
    assert response.status_code == 422
    assert JOB_SAW == [] and _committed_notes() == []


def test_api_endpoints_answer_a_refusal_with_a_json_error(probe):
    response = probe.post("/api/v1/probe")
    assert response.status_code == 422
    assert response.get_json() == {"error": "Данные не прошли проверку; ничего не сохранено.", "problems": ["поле x"]}
    assert _committed_notes() == []


def test_api_endpoints_answer_an_unexpected_error_with_a_json_500(probe):
    response = probe.post("/api/v1/probe-crash")
    assert response.status_code == 500
    assert response.get_json()["error"].startswith("Внутренняя ошибка сервера")
    assert _committed_notes() == []


def test_a_write_refused_by_a_concurrent_one_is_a_409_with_the_views_page_and_keeps_nothing(probe):
    response = probe.post("/probe/taken", data={"text": "длинный текст, который пользователь набирал"})
    assert response.status_code == 409
    # The view's own page again, with what the user typed: nothing typed is lost.
    assert response.get_data(as_text=True) == "страница формы: длинный текст, который пользователь набирал"
    assert _committed_notes() == []
    flashes = _flashes(probe)
    assert ("success", "Сохранено.") not in flashes
    assert flashes == [("danger", "Это действие только что выполнено или данные изменены другим запросом; ничего не "
                                  "сохранено. Обновите страницу и проверьте результат.")]


def test_a_row_moved_by_a_concurrent_request_is_a_409_with_the_views_page(probe):
    response = probe.post("/probe/moved", data={"text": "комментарий к возврату"})
    assert response.status_code == 409
    assert response.get_data(as_text=True) == "страница формы: комментарий к возврату"
    assert _flashes(probe) == [("danger", "Объект изменён другим пользователем, обновите страницу.")]
    assert _committed_notes() == []


def test_api_endpoints_answer_a_concurrent_write_with_a_json_409(probe):
    response = probe.post("/api/v1/probe-taken")
    assert response.status_code == 409
    assert response.get_json()["error"].startswith("Это действие только что выполнено")
    assert _committed_notes() == []

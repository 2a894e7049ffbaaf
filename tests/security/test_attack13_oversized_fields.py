"""Attack 13: a refused form is drawn again with what was typed, so a 1.4 MB field came back as a 5 MB page (11–40 MB
with a few such fields, 6–14 s each); a hand-made score comment of 1.4 MB was stored cut to its first 4000
characters without a word; a 200 MB URL-encoded form (Werkzeug applies no MAX_FORM_MEMORY_SIZE to one) kept a web
worker parsing until gunicorn killed it. Now: a value past 50 000 characters is refused before any view (422, the
error page: nothing echoed, nothing stored); a form without files is held to MAX_FORM_BODY_BYTES (413, in words that
speak of the form, not of a file); a score comment past its limit is refused, not cut. Uploads keep their limit."""

from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.test_assessment_access import _as, two  # noqa: F401  (the fixture)

MB = 1024 * 1024


def test_a_huge_field_is_refused_without_echoing_it(app, world, db_session):
    from app.auth.models import LoginAttempt

    huge = '<&"x' * 350_000  # 1.4 MB; escaped in a page it was 5 MB
    response = app.test_client().post("/login", data={"login": huge, "password": PASSWORD})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "в поле «login» 1\u00a0400\u00a0000 символов, допустимо не более 50\u00a0000" in text
    assert len(response.data) < 50_000
    assert db_session.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_a_form_body_past_its_limit_is_refused_as_a_form(app, world):
    fields = {f"f{n}": "я" * 40_000 for n in range(app.config["MAX_FORM_BODY_BYTES"] // (40_000 * 6) + 2)}
    response = app.test_client().post("/login", data={"login": "head", "password": PASSWORD, **fields})
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "Форма слишком велика" in text and "Файл" not in text


def test_uploads_keep_the_upload_limit(app):
    with app.test_request_context("/", method="POST", content_type="multipart/form-data; boundary=x"):
        from flask import request

        assert request.max_content_length == app.config["MAX_CONTENT_LENGTH"] > app.config["MAX_FORM_BODY_BYTES"]
    with app.test_request_context("/", method="POST", content_type="application/x-www-form-urlencoded"):
        assert request.max_content_length == app.config["MAX_FORM_BODY_BYTES"] == 8 * MB


def test_a_score_comment_past_its_limit_is_refused_not_cut(app, world, two, db_session):  # noqa: F811
    from app.assessment import services

    client = app.test_client()
    _as(client, world["official"])
    sa = two["sa_a"]
    score = services.scores_of(sa.campaign, sa.municipality_id, "M1.1")[0]
    response = client.post(f"/assessment/self/{sa.id}/scores", data={
        f"points-{score.id}": "1", f"comment-{score.id}": "я" * (services.MAX_COMMENT + 1),
        f"version-{score.id}": score.version, "version": sa.version})
    assert response.status_code == 422
    assert f"комментарий длиннее {services.MAX_COMMENT} символов" in response.get_data(as_text=True)
    db_session.expire_all()
    assert score.self_points is None and score.self_comment is None

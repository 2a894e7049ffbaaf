"""An uploaded Word template cannot make the server work without end. The sandbox kept templates from Python's
internals but not from work: `{% for i in range(100000) %}{% for j in range(100000) %}…` or `{{ "x" * 400000000 }}`
held the web worker (the upload's check renders at once, in the web process) until gunicorn killed it, and the
administrator got a 500 or a dropped connection (attack 7). Now a rendering has a time and size budget, and such a
template is stored as not valid with a Russian reason."""

import io

import pytest
from sqlalchemy import select

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
from tests.security.test_template_sandbox import _regulation_with

LOOPS = "{% set r = range(3000)|list %}{% for a in r %}{% for b in r %}{% endfor %}{% endfor %}"
HUGE_STRING = '{{ "x" * 3000000 }}'
HUGE_WIDTH = '{{ "x"|center(3000000) }}'
DOUBLING = '{% set ns = namespace(s="ab") %}{% for i in range(30) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}'
HUGE_NUMBER = "{{ 7 ** 100000 }}"


def _uploaded(client, db_session, payload: str):
    """The regulation's built-in template with `payload` as a paragraph, uploaded: its stored version."""
    from app.documents.template_admin import TemplateVersion

    response = client.post("/documents/templates/regulation/upload",
                           data={"file": (io.BytesIO(_regulation_with(payload)), "regulation.docx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    db_session.expire_all()
    (tv,) = db_session.scalars(select(TemplateVersion))
    return tv


@pytest.mark.parametrize("payload", [LOOPS, HUGE_STRING, HUGE_WIDTH, DOUBLING, HUGE_NUMBER],
                         ids=["loops", "string", "width", "doubling", "number"])
def test_a_template_asking_for_endless_work_is_refused_with_a_reason(world, client, login, db_session, monkeypatch,
                                                                     payload):
    from app.documents import rendering

    # the loops take about a second unchecked; a short budget keeps the test fast (raising=False: the old code has
    # no budget, and its upload then passes the check)
    monkeypatch.setattr(rendering, "RENDER_SECONDS", 0.05, raising=False)
    login(world["admin"])
    tv = _uploaded(client, db_session, payload)
    assert not tv.valid and not tv.active
    assert len(tv.problems) == 1 and "слишком много работы (цикл в цикле, строка или список" in tv.problems[0]


def test_ordinary_template_arithmetic_and_loops_still_render(app):
    from app.documents.rendering import jinja_env

    source = ('{% for a in [1, 2, 3] %}{{ a }}{{ loop.index }};{% endfor %} {{ "a" ~ "b" }} {{ 2 ** 10 }} '
              '{{ 3 * "ab" }} {{ ([1] + [2])|length }} {{ "x"|center(5) }}')
    with app.app_context():
        assert jinja_env().from_string(source).render() == "11;22;33; ab 1024 ababab 2   x  "


@pytest.mark.parametrize("payload, message", [
    ('{% include "letterhead.docx" %}', "нельзя подключать другие шаблоны"),
    ('{% import "macros" as m %}', "нельзя подключать другие шаблоны"),
    ('{{ "%s и %s"|format(1) }}', "выражение в шаблоне не вычисляется"),
    ("{{ 1 / 0 }}", "выражение в шаблоне не вычисляется"),
], ids=["include", "import", "format", "division"])
def test_a_template_whose_own_code_fails_is_stored_as_not_valid(world, client, login, db_session, payload, message):
    """These raised TypeError or ZeroDivisionError out of the upload's check: a 500, and nothing said why."""
    login(world["admin"])
    tv = _uploaded(client, db_session, payload)
    assert not tv.valid and len(tv.problems) == 1 and message in tv.problems[0]

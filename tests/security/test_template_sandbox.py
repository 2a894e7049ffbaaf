"""A Word template an administrator uploads is Jinja code run by the server: it renders in a sandbox, so it
cannot reach Python's internals. Before, the upload's own check rendered
`{% for c in ''.__class__.__mro__[1].__subclasses__() %}…Popen…` in the web process and ran a program on the
server (attack 4)."""

import io

import pytest
from docx import Document as Docx
from sqlalchemy import select

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)

POPEN = ("{% for c in ''.__class__.__mro__[1].__subclasses__() %}{% if c.__name__ == 'Popen' %}"
         "{{ c(['touch', 'MARKER']).wait() }}{% endif %}{% endfor %}")
GLOBALS = "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}"
FORMAT = "{{ '{0.__class__.__mro__[1].__subclasses__}'.format('') }}"


def _regulation_with(text: str) -> bytes:
    from app.documents.catalogue import get_type

    doc = Docx(io.BytesIO(get_type("regulation").template_path.read_bytes()))
    doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@pytest.mark.parametrize("payload", [POPEN, GLOBALS, FORMAT], ids=["subclasses", "globals", "format"])
def test_an_uploaded_template_cannot_run_code_on_the_server(world, client, login, db_session, tmp_path, payload):
    from app.documents.template_admin import TemplateVersion

    marker = tmp_path / "ran"
    login(world["admin"])
    response = client.post("/documents/templates/regulation/upload",
                           data={"file": (io.BytesIO(_regulation_with(payload.replace("MARKER", str(marker)))),
                                          "regulation.docx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert not marker.exists()
    db_session.expire_all()
    (tv,) = db_session.scalars(select(TemplateVersion))
    assert not tv.valid and not tv.active
    assert len(tv.problems) == 1 and "обращается к внутренним атрибутам" in tv.problems[0]
    page = client.get("/documents/templates/regulation").get_data(as_text=True)
    assert "не пройдена" in page and "внутренним атрибутам" in page


def test_the_shipped_templates_render_in_the_sandbox(app):
    from app.documents import rendering

    with app.app_context():
        assert rendering.warm_up() == len(rendering.document_types())

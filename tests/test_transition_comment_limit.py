"""A transition's comment has one limit, kept by the workflow engine for every path: the assessment's action forms
promised 4,000 characters (maxlength) but the server took up to the request's 50,000 into the audit event and the
approval sheets. A longer comment is refused with the limit named, nothing changes, and the form shows the text
whole so the reader can shorten it."""

import lxml.html
import pytest
from sqlalchemy import func, select

from tests.test_assessment import _self_assessment_submitted, assess  # noqa: F401  (a fixture)


def _audit_count(session):
    from app.audit.models import AuditEvent

    return session.scalar(select(func.count()).select_from(AuditEvent))


def test_the_engine_refuses_a_comment_past_the_limit_and_names_it(world, assess, db_session):  # noqa: F811
    from app.assessment import services
    from app.core.errors import ValidationFailed
    from workflows.engine import COMMENT_MAX_CHARS

    sa, _assignment = _self_assessment_submitted(world, assess, db_session)
    before = _audit_count(db_session)
    with pytest.raises(ValidationFailed, match=f"длиннее {COMMENT_MAX_CHARS} символов \\({COMMENT_MAX_CHARS + 1}\\)"):
        services.transition_self(sa, "return", actor=world["expert"], today=None,
                                 comment="а" * (COMMENT_MAX_CHARS + 1), expected_version=sa.version)
    db_session.rollback()
    assert sa.state == "submitted" and _audit_count(db_session) == before


def test_a_long_comment_on_the_evaluation_page_is_refused_and_shown_again_whole(world, assess, client, login,  # noqa: F811
                                                                               db_session):
    from app.assessment import services

    sa, assignment = _self_assessment_submitted(world, assess, db_session)
    login(world["expert"])
    before = _audit_count(db_session)
    form = lxml.html.fromstring(client.get(f"/assessment/evaluations/{assignment.id}").data).xpath(
        "//form[@id='return-self']")[0]
    data = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
    typed = "Приложите приказ об утверждении показателей. " * 100  # 4,500 characters
    data.update(trigger="return", comment=typed)
    response = client.post(form.get("action"), data=data)

    assert response.status_code == 422
    page = lxml.html.fromstring(response.data)
    text = " ".join(page.text_content().split())
    assert f"длиннее 4000 символов ({len(typed.strip())}); сократите текст" in text
    assert page.xpath("//form[@id='return-self']//textarea[@name='comment']")[0].text_content() == typed
    db_session.expire_all()
    assert services.self_assessment_for(sa.campaign, sa.municipality_id, "M1.1").state == "submitted"
    assert _audit_count(db_session) == before


def test_line_breaks_count_as_the_browser_counts_them(world, assess, db_session):  # noqa: F811
    # A textarea's maxlength counts a line break as one character; the form sends it as two (\r\n). Ten lines that
    # the browser let through (3,999 characters) were refused as 4,008.
    from app.assessment import services

    sa, _assignment = _self_assessment_submitted(world, assess, db_session)
    typed = "\r\n".join(["а" * 399] * 10)
    assert len(typed) > 4000 >= len(typed.replace("\r\n", "\n"))
    services.transition_self(sa, "return", actor=world["expert"], today=None, comment=typed,
                             expected_version=sa.version)
    assert sa.state == "returned"

"""The demo walked as the roles least walked (walk 22): the experts and the auditor on the 08-70 side, the
administrator, the second municipality; what the page offered and said, read from the HTML the server sends."""

import lxml.html
from sqlalchemy import select

from tests.test_screens3_pages import _login, _page, _text


def _unscored_evaluation(demo):
    from app.assessment.models import Assignment

    return demo.scalars(select(Assignment).where(Assignment.state == "draft", Assignment.mechanism_code == "M1.2")
                        .order_by(Assignment.id)).first()


def test_an_unscored_sheet_offers_no_sending_and_says_what_is_missing(demo, client):
    """The expert's empty 08-70 sheet offered «Направить на утверждение» (in the summary and under the sheet): the
    click could only be refused. The page names the unscored criteria in its place now."""
    assignment = _unscored_evaluation(demo)
    _login(client, assignment.expert_user.login)
    page = _page(client, f"/assessment/evaluations/{assignment.id}")
    assert not page.xpath("//button[@name='trigger'][@value='submit']")
    (problems,) = page.xpath("//ul[@id='evaluation-problems']")
    assert "Не выставлены баллы по критериям: 1.1, 1.2, 1.3, 2.1" in _text(problems)
    (summary,) = page.xpath("//p[@id='evaluation-summary']")
    assert "Направить на утверждение»" not in _text(summary)
    assert summary.xpath(".//a[@href='#evaluation-actions']")  # the way to what is missing


def test_an_evaluation_without_points_says_so_not_a_double_dash(demo, client):
    """«Итого из 22: эксперт — —;» — the separator and the missing number side by side."""
    assignment = _unscored_evaluation(demo)
    _login(client, assignment.expert_user.login)
    (summary,) = _page(client, f"/assessment/evaluations/{assignment.id}").xpath("//p[@id='evaluation-summary']")
    assert "— —" not in _text(summary)
    assert "эксперт — баллы не выставлены" in _text(summary)


def test_a_fully_scored_sheet_is_offered_for_approval(demo, client):
    from app.assessment.models import Assignment

    returned = demo.scalars(select(Assignment).where(Assignment.state == "returned").order_by(Assignment.id)).first()
    _login(client, returned.expert_user.login)
    page = _page(client, f"/assessment/evaluations/{returned.id}")
    assert page.xpath("//button[@name='trigger'][@value='resubmit']")
    assert not page.xpath("//ul[@id='evaluation-problems']")


def test_a_municipality_saved_as_it_stands_is_saved_with_its_shares_left_empty(demo, client):
    """The administrator opened «ГО Северный» and pressed «Сохранить» changing nothing: the four shares of students
    (for schools; a municipality has none) each answered «Введите число (например, 75 или 12,5).» — an empty
    optional decimal field was refused everywhere (the organisation form, an indicator's baseline and target)."""
    from app.orgs.models import Organisation

    org = demo.scalars(select(Organisation).where(Organisation.code == "MUN01")).one()
    _login(client, "admin")
    page = _page(client, f"/orgs/{org.id}/edit")
    (form,) = page.xpath("//form[.//input[@name='name']]")
    data = dict(form.form_values())
    assert data.get("low_income_share", "") == ""
    response = client.post(f"/orgs/{org.id}/edit", data=data)
    assert response.status_code == 302, [_text(e) for e in lxml.html.fromstring(
        response.get_data(as_text=True)).xpath("//*[contains(@class, 'invalid-feedback')]")]
    # A share typed wrong is still refused, by its own message.
    response = client.post(f"/orgs/{org.id}/edit", data={**data, "ovz_share": "много"})
    assert response.status_code == 422
    assert "Введите число цифрами 0–9 (например, 75 или 12,5)." in response.get_data(as_text=True)


def test_an_empty_decimal_field_is_no_value_and_no_error(app):
    from app.core.forms import Form, RuDecimalField, optional

    class Shares(Form):
        share = RuDecimalField("Доля", places=None, validators=[optional()])

    with app.test_request_context(method="POST", data={"share": "  "}):
        form = Shares(meta={"csrf": False})
        assert form.validate(), form.errors
        assert form.share.data is None


def test_a_refused_sending_gives_the_typed_comment_back(demo, client):
    """«Направить на утверждение» sent from a page opened while it was offered (the window closed meanwhile, a score
    cleared in another tab) is refused: the page now has no button, and the comment typed went with the box."""
    assignment = _unscored_evaluation(demo)
    _login(client, assignment.expert_user.login)
    response = client.post(f"/assessment/evaluations/{assignment.id}/transition",
                           data={"trigger": "submit", "version": assignment.version,
                                 "comment": "Замечания по критерию 2.1 согласованы с координатором"})
    assert response.status_code == 409  # the guards refused it: the page again, with the reasons
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert "Не выставлены баллы по критериям" in page.text_content()
    (box,) = page.xpath("//textarea[@id='ev-comment']")
    assert box.text_content() == "Замечания по критерию 2.1 согласованы с координатором"

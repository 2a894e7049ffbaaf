"""A working day on the demo, as the municipal and school people go through it (walk 21): what they typed and what
the page answered, read from the HTML the server sends."""

from datetime import date, timedelta

import lxml.html
from sqlalchemy import func, select

from app.deadlines.models import StandIn
from tests.test_screens3_pages import _login
from tests.test_screens4_pages import _feedback


def test_a_mistyped_absence_date_is_called_mistyped_and_stays_as_typed(demo, client):
    """A director naming a deputy typed «31.02.2027»: the page said «Укажите дату начала.» over the very date typed,
    as if the field were empty."""
    from app.auth.models import User
    from app.deadlines.standins import deputy_candidates

    _login(client, "director")
    director = demo.scalars(select(User).where(User.login == "director")).one()
    deputy = deputy_candidates(director)[0]
    end = (date.today() + timedelta(days=40)).strftime("%d.%m.%Y")
    before = demo.scalar(select(func.count()).select_from(StandIn))
    response = client.post("/deadlines/standins/new", data={
        "deputy_id": str(deputy.id), "start": "31.02.2027", "end": end, "reason": "отпуск"})
    assert response.status_code == 422
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    assert _feedback(doc, "start") == ["Введите корректную дату."]
    assert _feedback(doc, "end") == []
    assert doc.get_element_by_id("start").get("value") == "31.02.2027"  # kept, to be corrected
    assert doc.get_element_by_id("reason").get("value") == "отпуск"
    assert demo.scalar(select(func.count()).select_from(StandIn)) == before
    # An empty date is still asked for by name.
    response = client.post("/deadlines/standins/new", data={
        "deputy_id": str(deputy.id), "start": "", "end": end, "reason": ""})
    assert _feedback(lxml.html.fromstring(response.get_data(as_text=True)), "start") == ["Укажите дату начала."]


def test_a_kindergarten_head_finds_her_only_mechanism_chosen(demo, client):
    """The kindergarten's head has one mechanism (I2.4): the form left its only radio unchosen, and «Открыть цикл»
    answered with a refusal to choose what there was no choice about."""
    _login(client, "kindergarten")
    doc = lxml.html.fromstring(client.get("/cycles/new").get_data(as_text=True))
    radios = doc.xpath("//input[@name='track_id']")
    assert len(radios) == 1
    assert radios[0].get("checked") is not None


def test_where_there_is_a_choice_of_mechanism_none_is_made_for_the_reader(demo, client):
    _login(client, "official")
    doc = lxml.html.fromstring(client.get("/cycles/new").get_data(as_text=True))
    assert len(doc.xpath("//input[@name='track_id']")) > 1
    assert doc.xpath("//input[@name='track_id'][@checked]") == []


def test_a_responsible_without_a_position_has_no_trailing_comma(demo, client):
    from app.auth.models import User

    colleague = demo.scalars(select(User).where(User.login == "head")).one()
    colleague.position = None
    demo.flush()
    _login(client, "official")
    doc = lxml.html.fromstring(client.get("/cycles/new").get_data(as_text=True))
    options = [o.text_content() for o in doc.xpath("//select[@name='responsible_id']/option")]
    assert colleague.full_name in options, options
    assert not any(text.rstrip().endswith(",") for text in options)

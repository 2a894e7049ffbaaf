"""The demo walked as the school and kindergarten directors, the deputy, the teacher and the regional roles
(walk 23): what the page offered and said, read from the HTML the server sends."""

from tests.test_screens3_pages import _login, _page, _text


def test_a_director_alone_in_the_school_is_not_offered_a_deputy_form_that_can_only_refuse(demo, client):
    """director2 (Лицей № 2) is the only person of the school with an account: «Заместитель» listed «— выберите —»
    alone, and «Назначить заместителя» could only answer «Укажите заместителя.». The page says why instead."""
    _login(client, "director2")
    page = _page(client, "/deadlines/standins")
    assert not page.xpath("//form[contains(@action, '/standins/new')]")
    (note,) = page.xpath("//p[@id='no-deputy-candidates']")
    assert "Назначить некого" in _text(note)


def test_a_director_with_a_deputy_at_school_is_offered_the_form(demo, client):
    _login(client, "director3")
    page = _page(client, "/deadlines/standins")
    (form,) = page.xpath("//form[contains(@action, '/standins/new')]")
    assert len(form.xpath(".//select[@name='deputy_id']/option")) > 1
    assert not page.xpath("//p[@id='no-deputy-candidates']")

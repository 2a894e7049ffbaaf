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


def test_a_new_campaign_starts_with_the_current_academic_year_filled_in(demo, client):
    """The period showed the current academic year only as the grey example: it read as filled in, and «Создать
    кампанию» answered «Укажите период оцениваемых циклов (например, 2025/26).». It is the field's value now."""
    _login(client, "region_head")
    page = _page(client, "/assessment/campaigns/new")
    (period,) = page.xpath("//input[@id='period']")
    assert period.get("value") == period.get("placeholder")
    assert len(period.get("value")) == 7  # «2026/27»


def test_a_kindergartens_requests_keep_its_number_on_the_line_of_the_sign(demo, client):
    """«Сбор сведений» of kindergarten: the narrow «Организация» column broke «Детский сад №» | «7»."""
    _login(client, "kindergarten")
    page = _page(client, "/monitoring/")
    cells = [cell.text_content() for cell in page.xpath("//table[@id='my-submissions']/tbody/tr/td[2]")]
    assert cells and all("Детский сад №\u00a07" in cell for cell in cells), cells

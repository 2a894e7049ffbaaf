"""The demo walked as the regional and municipal roles, the experts, the auditor and the administrator (walk 24):
what the page offered and said, read from the HTML the server sends."""

from datetime import timezone
from zoneinfo import ZoneInfo

from app.api import services as api_services
from app.auth.models import User
from tests.test_screens3_pages import _login, _page, _text


def _token_row(page, prefix: str):
    (row,) = [tr for tr in page.xpath("//table//tr") if prefix in _text(tr)]
    return _text(row)


def test_an_issued_tokens_history_names_its_fields_and_dates_its_expiry_where_the_reader_works(demo, client):
    """«Журнал аудита» showed an API token's issue as «expires_at: 07.03.2027 23:29» — the field's code, and the
    moment in UTC beside a «Время» column in Moscow time (the token page said «Действует до 08.03.2027 02:29»)."""
    auditor = demo.query(User).filter_by(login="auditor").one()
    issued = api_services.issue_token(auditor, name="Выгрузка для отчёта", actor=auditor)
    demo.commit()
    expires = issued.token.expires_at
    _login(client, "minister")
    row = _token_row(_page(client, "/audit/"), issued.token.prefix)
    assert "expires_at" not in row and "начало ссылки" not in row
    assert "начало токена: " + issued.token.prefix in row
    # the demo's organisations keep Moscow time: the expiry reads as the token page and the «Время» column read it
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=timezone.utc)
    assert "действует до: " + expires.astimezone(ZoneInfo("Europe/Moscow")).strftime("%d.%m.%Y %H:%M") in row


def test_the_results_import_names_the_works_with_a_declared_structure_not_a_source_file(demo, client):
    """«Импорт: результаты оценочных процедур» (rcoko, region_official) said the tasks must match the structure
    declared in «app/imports/data/work_structures.yaml»: a path in the program's sources nobody at the РЦОКО can
    open. It names the works instead."""
    _login(client, "rcoko")
    page = _page(client, "/imports/results/new")
    text = _text(page)
    assert "work_structures" not in text and "app/imports" not in text
    assert "ВПР, математика, 4 класс" in text and "ОГЭ, математика, 9 класс" in text

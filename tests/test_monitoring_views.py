"""Data request and submission pages over HTTP: the official's form and grid, the school's form and XLSX
round trip, bad files, access by scope, stale forms, and a grid whose query count does not grow."""

import io
import re
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, update

from app.audit.models import AuditEvent
from app.core.russian import deputy_for
from app.monitoring import services
from app.monitoring.models import DataRequest, IndicatorValue, Submission
from app.monitoring.values import save_values
from app.tasks.models import Task
from tests.conftest import counted_statements
from tests.test_monitoring import (FUTURE, cycle_indicator, fill_all, make_request, open_tasks,
                                   submission_of)


def page(response) -> str:
    return response.get_data(as_text=True)


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def values_of(session, org):
    session.expire_all()
    return {v.indicator.code: (v.value, v.comment, v.source) for v in session.scalars(
        select(IndicatorValue).where(IndicatorValue.organisation_id == org.id))}


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(folder))
    return folder


def sign_in(client, login, user):
    """Switch the test client to another user (a signed-in client is not shown the log-in form again)."""
    client.post("/logout")
    login(user)


def _form(mon, **overrides):
    data = {"title": "Кадровое обеспечение", "period": mon.period, "deadline": FUTURE.isoformat(),
            "organisation_ids": [], "all_organisations": "y"}
    if "indicator_ids" not in overrides:
        data["indicator_ids"] = [str(mon.indicators[0].id), str(cycle_indicator(mon, "N-01").id)]
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- the official: create, send, grid -------------------------------------------------------------

def test_official_creates_and_sends_a_request(client, login, world, mon, db_session):
    sign_in(client, login, world["official"])
    stage_page = page(client.get(f"/stages/{mon.stage('MON').id}"))
    assert "Запросы сведений" in stage_page and "Не создано ни одного запроса сведений." in stage_page

    response = client.get(f"/monitoring/cycles/{mon.id}/requests/new")
    assert response.status_code == 200
    assert "Все образовательные организации: Тестовый муниципалитет (2)" in page(response)

    response = client.post(f"/monitoring/cycles/{mon.id}/requests/new", data=_form(mon))
    assert response.status_code == 302
    req = db_session.scalar(select(DataRequest))
    assert response.headers["Location"].endswith(f"/monitoring/requests/{req.id}")
    assert req.state == "draft" and sorted(s.organisation.code for s in req.submissions) == ["SCH-A", "SCH-B"]
    assert [i.indicator.code for i in req.items] == [mon.indicators[0].code, "N-01"]

    detail = page(client.get(f"/monitoring/requests/{req.id}"))
    assert "Кадровое обеспечение" in detail and "черновик" in detail and "Школа А" in detail

    response = client.post(f"/monitoring/requests/{req.id}/transition", data={"trigger": "send",
                                                                               "version": req.version})
    assert response.status_code == 302
    db_session.expire_all()
    assert req.state == "sent"
    assert {t.assignee_id for s in req.submissions for t in open_tasks(db_session, s)} == {
        world["director_a"].id, world["director_b"].id}
    stage_page = page(client.get(f"/stages/{mon.stage('MON').id}"))
    assert "Кадровое обеспечение" in stage_page
    assert "Запрос «Кадровое обеспечение» не закрыт: ответили 0 из 2 адресатов (ожидает ответа — 2)." in stage_page


def test_choosing_some_addressees_only(client, login, world, mon, db_session):
    sign_in(client, login, world["official"])
    response = client.post(f"/monitoring/cycles/{mon.id}/requests/new", data=_form(
        mon, all_organisations=None, organisation_ids=[str(world["school_b"].id)]))
    assert response.status_code == 302
    req = db_session.scalar(select(DataRequest))
    assert [s.organisation.code for s in req.submissions] == ["SCH-B"]


@pytest.mark.parametrize("overrides, message", [
    ({"indicator_ids": []}, "Выберите хотя бы один показатель."),
    ({"all_organisations": None}, "Выберите хотя бы одну организацию-адресата или отметьте «все»."),
    ({"deadline": (date.today() - timedelta(days=2)).isoformat()}, "Срок не может быть в прошлом."),
    ({"deadline": "завтра"}, "Введите корректную дату."),
    ({"title": "  "}, "Обязательное поле."),
    ({"period": "2025-26"}, "Период указывается как учебный год (2025/26) или календарный год (2025)."),
    ({"period": "2025/27"}, "Период указывается как учебный год (2025/26) или календарный год (2025)."),
    # four digits let a year no monitoring collects through (attack 20)
    ({"period": "0000"}, "Год периода — от 2000 до 2099."),
    ({"period": "9999/00"}, "Год периода — от 2000 до 2099."),
])
def test_bad_request_form_is_refused_with_a_russian_message(client, login, world, mon, db_session, overrides,
                                                            message):
    sign_in(client, login, world["official"])
    before = (count(db_session, DataRequest), count(db_session, AuditEvent))
    response = client.post(f"/monitoring/cycles/{mon.id}/requests/new", data=_form(mon, **overrides))
    assert response.status_code == 422
    assert message in page(response)
    assert (count(db_session, DataRequest), count(db_session, AuditEvent)) == before


def test_new_request_page_when_the_stage_is_not_open(client, login, world, make_cycle, db_session):
    cycle = make_cycle(world["mun"], world["official"])
    db_session.commit()
    sign_in(client, login, world["official"])
    response = client.get(f"/monitoring/cycles/{cycle.id}/requests/new", follow_redirects=True)
    assert response.status_code == 200
    assert "пока этап «Мониторинг показателей» открыт" in page(response)
    response = client.post(f"/monitoring/cycles/{cycle.id}/requests/new", data=_form(cycle, indicator_ids=[]))
    assert response.status_code == 422
    assert count(db_session, DataRequest) == 0


def test_grid_shows_status_overdue_who_and_counts_and_sends_reminders(client, login, world, sent, db_session):
    sub_a = submission_of(sent, world["school_a"])
    fill_all(sub_a, world["director_a"])
    services.transition_submission(sub_a, "submit", actor=world["director_a"])
    db_session.execute(update(DataRequest).where(DataRequest.id == sent.id)
                       .values(deadline=date.today() - timedelta(days=3)))
    db_session.commit()
    sign_in(client, login, world["official"])
    html = page(client.get(f"/monitoring/requests/{sent.id}"))
    assert 'data-count="submitted">1<' in html and 'data-count="pending">1<' in html
    assert "Всего адресатов: <b>2</b>; " in html  # not «2 ;»: no space before the semicolon
    assert 'data-count="overdue" class="text-danger">1<' in html
    row_a = html[html.index('data-organisation="SCH-A"'):html.index('data-organisation="SCH-B"')]
    row_b = html[html.index('data-organisation="SCH-B"'):]
    assert "на проверке" in row_a and world["director_a"].full_name in row_a and "просрочено" not in row_a
    assert "просрочено" in row_b and "ожидает ответа" in row_b

    audited = count(db_session, AuditEvent)
    response = client.post(f"/monitoring/requests/{sent.id}/remind", data={})
    assert response.status_code == 302
    assert "Напоминание отправлено 1 адресату." in page(client.get(response.headers["Location"]))
    db_session.expire_all()
    sub_b = submission_of(sent, world["school_b"])
    assert sub_b.last_reminded_at is not None and sub_a.last_reminded_at is None
    assert count(db_session, AuditEvent) == audited + 1
    (task,) = open_tasks(db_session, sub_b)
    assert task.assignee_id == world["director_b"].id


def test_grid_names_the_stand_in_of_a_director_on_leave_as_the_executor(client, login, world, sent, make_user,
                                                                       db_session):
    """A director on leave: «Исполнитель» names who acts for them, as their task goes to the deputy."""
    from app.deadlines.standins import create_stand_in

    deputy = make_user("staff", world["school_a"], login="deputy_a", full_name="Замова Ирина Петровна")
    create_stand_in(absent=world["director_a"], deputy=deputy, start=date.today() - timedelta(days=1),
                    end=date.today() + timedelta(days=5), actor=world["director_a"], today=date.today())
    db_session.commit()
    sign_in(client, login, world["official"])
    html = page(client.get(f"/monitoring/requests/{sent.id}"))
    row_a = html[html.index('data-organisation="SCH-A"'):html.index('data-organisation="SCH-B"')]
    row_b = html[html.index('data-organisation="SCH-B"'):html.index("</table>")]
    executor_a = re.findall(r'<td class="small">([^<]*)</td>', row_a)[-1]
    assert executor_a == f"{deputy.full_name} ({deputy_for(world['director_a'])})"
    assert world["director_b"].full_name in row_b


def test_grid_lists_the_addressees_by_the_names_it_shows_numbers_by_value(client, login, world, mon, make_org,
                                                                         db_session):
    """The table of answers was ordered by the full legal names: «СОШ № 10» came before «СОШ № 1» and the
    kindergartens before the gymnasium, while the form that chose them listed «СОШ № 1, № 2, № 10»."""
    mun = world["mun"]
    tenth = make_org("school", parent=mun, code="SCH-10", name="МОУ «Основная школа № 10»", short_name="СОШ № 10")
    second = make_org("school", parent=mun, code="SCH-02", name="МОУ «Средняя школа № 2»", short_name="СОШ № 2")
    garden = make_org("preschool", parent=mun, code="DOU-7", name="МДОУ «Детский сад № 7»", short_name="Д/с № 7")
    req = make_request(mon, world["official"], [tenth, garden, second])
    db_session.commit()
    sign_in(client, login, world["official"])
    html = page(client.get(f"/monitoring/requests/{req.id}"))
    shown = re.findall(r'data-organisation="([^"]+)"', html)
    assert shown == ["DOU-7", "SCH-02", "SCH-10"]


def test_a_draft_request_does_not_show_its_addressees_as_waiting_for_an_answer(client, login, world, mon,
                                                                               db_session):
    """A saved draft listed every addressee «ожидает ответа» and counted them waiting: the official could take the
    request for sent. A draft says it is not sent yet and what sends it."""
    req = make_request(mon, world["official"], [world["school_a"], world["school_b"]])
    db_session.commit()
    sign_in(client, login, world["official"])
    html = page(client.get(f"/monitoring/requests/{req.id}"))
    grid = html[html.index('id="grid-counts"'):html.index("</table>")]
    assert "ожидает ответа" not in grid and grid.count('<span class="text-muted">не направлен</span>') == 2
    assert "Запрос ещё не направлен" in grid and "Направить запрос" in grid


def test_reminder_is_post_only_and_for_the_owner(client, login, world, sent, db_session):
    sign_in(client, login, world["official"])
    assert client.get(f"/monitoring/requests/{sent.id}/remind").status_code == 405
    sign_in(client, login, world["methodologist"])
    assert client.post(f"/monitoring/requests/{sent.id}/remind", data={}).status_code == 403
    db_session.expire_all()
    assert all(s.last_reminded_at is None for s in sent.submissions)


def test_grid_query_count_does_not_grow_with_addressees(client, login, world, mon, make_org, make_user, db_session):
    schools = [world["school_a"], world["school_b"]]
    for n in range(18):
        school = make_org("school", parent=world["mun"], code=f"SCH-{n:02d}", name=f"Школа № {n}")
        make_user("director", school)
        make_user("staff", school)
        schools.append(school)
    db_session.commit()

    def statements_for(orgs, title):
        req = make_request(mon, world["official"], orgs, title=title)
        services.transition_request(req, "send", actor=world["official"], today=date.today())
        # A mix of states: one answer submitted, one delegated, one marked not provided.
        first = submission_of(req, orgs[0])
        fill_all(first, world["director_a"])
        services.transition_submission(first, "submit", actor=world["director_a"])
        services.delegate_submission(submission_of(req, orgs[1]), delegate=None, actor=world["director_b"])
        services.transition_submission(submission_of(req, orgs[2]), "mark_not_provided", actor=world["official"],
                                       comment="нет данных")
        db_session.commit()
        sign_in(client, login, world["official"])
        with counted_statements() as statements:
            response = client.get(f"/monitoring/requests/{req.id}")
        assert response.status_code == 200
        assert page(response).count('data-organisation="') == len(orgs)
        client.post("/logout")
        return len(statements)

    few = statements_for(schools[:3], "Малый запрос")
    many = statements_for(schools, "Большой запрос")
    assert many == few, f"{few} statements for 3 addressees, {many} for 20"


# --- the school: form, submit, return, XLSX -----------------------------------------------------------

def test_director_sees_only_own_submission_and_fills_the_form(client, login, world, sent, db_session):
    sub_a = submission_of(sent, world["school_a"])
    sign_in(client, login, world["director_a"])
    index = page(client.get("/monitoring/"))
    assert f"/monitoring/submissions/{sub_a.id}" in index
    assert f"/monitoring/submissions/{submission_of(sent, world['school_b']).id}" not in index
    assert f"/monitoring/requests/{sent.id}\"" not in index  # the grid is the official's

    i1, i2, n1 = (cycle_indicator(sent.cycle, c) for c in ("I-01", "I-02", "N-01"))
    form = {"version": sub_a.version, f"value-{i1.id}": "12,5", f"comment-{i1.id}": "по данным ОО-1",
            f"value-{i2.id}": "101", f"value-{n1.id}": "3,5"}
    response = client.post(f"/monitoring/submissions/{sub_a.id}/values", data=form)
    assert response.status_code == 422
    html = page(response)
    assert "Значение: Значение в процентах должно быть от 0 до 100." in html
    assert "Значение: Количество (чел.) должно быть целым неотрицательным числом." in html
    assert 'value="12,5"' in html  # what the user typed is kept in the form
    assert values_of(db_session, world["school_a"]) == {}

    form.update({f"value-{i2.id}": "99", f"value-{n1.id}": "35"})
    response = client.post(f"/monitoring/submissions/{sub_a.id}/values", data=form)
    assert response.status_code == 302
    assert values_of(db_session, world["school_a"]) == {
        "I-01": (Decimal("12.5"), "по данным ОО-1", "form"), "I-02": (Decimal("99"), None, "form"),
        "N-01": (Decimal("35"), None, "form")}
    db_session.expire_all()
    response = client.post(f"/monitoring/submissions/{sub_a.id}/transition",
                           data={"trigger": "submit", "version": sub_a.version})
    assert response.status_code == 302
    db_session.expire_all()
    assert sub_a.state == "submitted"
    html = page(client.get(f"/monitoring/submissions/{sub_a.id}"))
    assert "на проверке" in html and "сведения отправлены" in html and "значение внесено" in html
    assert 'name="value-' not in html  # locked while under review


def test_return_with_comment_resubmit_and_accept_over_http(client, login, world, sent, db_session):
    sub_a = submission_of(sent, world["school_a"])
    fill_all(sub_a, world["director_a"])
    services.transition_submission(sub_a, "submit", actor=world["director_a"])
    db_session.commit()
    sign_in(client, login, world["official"])
    # the page marks the return's comment required, as the server holds it
    assert 'id="comment-return" rows="2" maxlength="2000" required' in page(
        client.get(f"/monitoring/submissions/{sub_a.id}"))
    response = client.post(f"/monitoring/submissions/{sub_a.id}/transition",
                           data={"trigger": "return", "comment": "", "version": sub_a.version})
    assert response.status_code == 422
    assert "Для действия «Вернуть на доработку» обязателен комментарий." in page(response)
    response = client.post(f"/monitoring/submissions/{sub_a.id}/transition",
                           data={"trigger": "return", "comment": "Уточните I-02", "version": sub_a.version})
    assert response.status_code == 302
    db_session.expire_all()
    assert sub_a.state == "returned"

    sign_in(client, login, world["director_a"])
    html = page(client.get(f"/monitoring/submissions/{sub_a.id}"))
    assert "Возвращено на доработку:" in html and "Уточните I-02" in html
    response = client.post(f"/monitoring/submissions/{sub_a.id}/transition",
                           data={"trigger": "resubmit", "version": sub_a.version})
    assert response.status_code == 302

    sign_in(client, login, world["official"])
    db_session.expire_all()
    response = client.post(f"/monitoring/submissions/{sub_a.id}/transition",
                           data={"trigger": "accept", "version": sub_a.version})
    assert response.status_code == 302
    db_session.expire_all()
    assert sub_a.state == "accepted"


def test_director_cannot_accept_own_answer_over_http(client, login, world, sent, db_session):
    sub_a = submission_of(sent, world["school_a"])
    fill_all(sub_a, world["director_a"])
    services.transition_submission(sub_a, "submit", actor=world["director_a"])
    db_session.commit()
    sign_in(client, login, world["director_a"])
    response = client.post(f"/monitoring/submissions/{sub_a.id}/transition",
                           data={"trigger": "accept", "version": sub_a.version})
    assert response.status_code == 403
    db_session.expire_all()
    assert sub_a.state == "submitted"


def test_delegation_over_http(client, login, world, sent, db_session):
    sub_a = submission_of(sent, world["school_a"])
    sign_in(client, login, world["director_a"])
    response = client.post(f"/monitoring/submissions/{sub_a.id}/delegate",
                           data={"delegate_id": world["staff_a"].id, "version": sub_a.version})
    assert response.status_code == 302
    db_session.expire_all()
    assert sub_a.delegate_id == world["staff_a"].id
    sign_in(client, login, world["staff_a"])
    assert "(поручено вам)" in page(client.get("/monitoring/"))
    assert 'name="value-' in page(client.get(f"/monitoring/submissions/{sub_a.id}"))


def _xlsx(client, sub_id) -> Workbook:
    response = client.get(f"/monitoring/submissions/{sub_id}/xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.data))


def _bytes(wb) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(client, sub, data: bytes, name="svedeniya.xlsx", **fields):
    return client.post(f"/monitoring/submissions/{sub.id}/upload",
                       data={"file": (io.BytesIO(data), name), "version": sub.version, **fields},
                       content_type="multipart/form-data")


def test_xlsx_round_trip(client, login, world, sent, db_session, uploads):
    sub_a = submission_of(sent, world["school_a"])
    # One value is already there: the download is pre-filled with it.
    save_values([{"indicator_code": "I-01", "organisation_code": "SCH-A", "period": sent.period, "value": "7,5"}],
                actor=world["director_a"], source="form", submission=sub_a)
    db_session.commit()
    sign_in(client, login, world["director_a"])
    wb = _xlsx(client, sub_a.id)
    ws = wb["Сведения"]
    assert [c.value for c in ws[1]] == ["indicator_code", "organisation_code", "period", "value", "comment",
                                        "indicator_name", "unit"]
    assert [c.value for c in ws[2]][:5] == ["Код показателя", "Код организации", "Период", "Значение", "Комментарий"]
    # the machine keys the upload reads are hidden: the school sees the Russian headings on top
    assert ws.row_dimensions[1].hidden and not ws.row_dimensions[2].hidden
    # printable: the Russian header repeated on every page, landscape on the width of one page (fifth review)
    assert ws.freeze_panes == "A3" and (ws.print_title_rows or "").replace("$", "") == "2:2"
    assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
    assert [(r[0].value, r[1].value, r[2].value, r[3].value, r[6].value) for r in ws.iter_rows(min_row=3)] == [
        ("I-01", "SCH-A", sent.period, 7.5, "%"), ("I-02", "SCH-A", sent.period, None, "%"),
        ("N-01", "SCH-A", sent.period, None, "чел.")]
    assert ws.protection.sheet is True
    assert ws["A3"].protection.locked is True and ws["D3"].protection.locked is False
    assert "Численность педагогов" in ws["F5"].value

    ws["D3"], ws["D4"], ws["E4"], ws["D5"] = 80, "66,6", "оценка", 41
    response = _upload(client, sub_a, _bytes(wb), name="../../отчёт школы.xlsx")
    assert response.status_code == 302, page(response)[:2000]
    assert values_of(db_session, world["school_a"]) == {
        "I-01": (Decimal("80"), None, "xlsx"), "I-02": (Decimal("66.6"), "оценка", "xlsx"),
        "N-01": (Decimal("41"), None, "xlsx")}
    kept = list((uploads / "monitoring" / f"submission-{sub_a.id}").glob("*.xlsx"))
    assert len(kept) == 1 and kept[0].read_bytes()[:2] == b"PK"
    html = page(client.get(f"/monitoring/submissions/{sub_a.id}"))
    assert "«../../отчёт школы.xlsx»" in html and "загружен" in html
    assert not (uploads.parent / "отчёт школы.xlsx").exists()


def test_xlsx_with_errors_saves_nothing_unless_asked(client, login, world, sent, db_session, uploads):
    sub_a = submission_of(sent, world["school_a"])
    sign_in(client, login, world["director_a"])
    wb = _xlsx(client, sub_a.id)
    ws = wb["Сведения"]
    ws.protection.sheet = False
    ws["D3"] = 55                  # valid
    ws["D4"] = "пятьдесят"         # not a number
    ws["D5"] = 12.5                # a headcount must be whole
    ws.append(["I-01", "SCH-B", sent.period, 10])       # row 6: another school's code
    ws.append(["I-02", "SCH-A", "2019/20", 10])         # row 7: wrong period
    ws.append(["X-99", "SCH-A", sent.period, 10])       # row 8: indicator not requested
    ws.append(["I-02", "SCH-A", sent.period, "=D3*2"])  # row 9: formula
    data = _bytes(wb)
    audited = count(db_session, AuditEvent)

    response = _upload(client, sub_a, data)
    assert response.status_code == 422
    html = page(response)
    assert "ничего не сохранено" in html
    for row, column, message in [
        (4, "Значение", "Ожидается число (например, 75 или 12,5), указано «пятьдесят»."),
        (5, "Значение", "Количество (чел.) должно быть целым неотрицательным числом."),
        (6, "Код организации", "Организация «SCH-B» не является адресатом этой формы (ожидается «SCH-A»)."),
        (7, "Период", f"Период «2019/20» не совпадает с периодом запроса «{sent.period}»."),
        (8, "Код показателя", "Показатель «X-99» не входит в запрос «Сведения о результатах»."),
        (9, "Значение", "Формулы не допускаются: введите значение числом."),
    ]:
        assert f"<tr><td>{row}</td><td>{column}</td><td>{message}</td></tr>" in html
    assert values_of(db_session, world["school_a"]) == {}
    assert count(db_session, AuditEvent) == audited
    assert len(list((uploads / "monitoring" / f"submission-{sub_a.id}").glob("*.xlsx"))) == 1  # kept anyway

    db_session.expire_all()
    response = _upload(client, sub_a, data, save_valid_rows="y")
    assert response.status_code == 302
    flashed = page(client.get(response.headers["Location"]))
    assert "Не сохранено — Строка 4, столбец «Значение»" in flashed
    assert values_of(db_session, world["school_a"]) == {"I-01": (Decimal("55"), None, "xlsx")}


def _workbook_with_header(header, *rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    return _bytes(wb)


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    return out.getvalue()


def _entity_bomb() -> bytes:
    good = io.BytesIO(_workbook_with_header(["indicator_code", "organisation_code", "period", "value"]))
    out = io.BytesIO()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == "xl/workbook.xml":
                content = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>' + content
            dst.writestr(item, content)
    return out.getvalue()


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.mark.parametrize("data, message", [
    (PNG, "Файл не является книгой Excel (.xlsx)."),
    (b"", "Файл пуст."),
    (b"PK\x03\x04 not really a zip", "Файл повреждён или не является книгой Excel (.xlsx)."),
    ("zip-bomb", "подозрительно высокая степень сжатия"),
    ("entity-bomb", "недопустимые XML-конструкции"),
    ("missing", "В первой строке нет обязательных столбцов: «Значение»."),
    ("extra", "Неизвестные столбцы в заголовке: «Примечание»."),
    ("no-rows", "В файле нет строк со значениями."),
])
def test_broken_files_are_rejected_with_a_clear_message(client, login, world, sent, db_session, uploads, data,
                                                        message):
    builders = {
        "zip-bomb": _zip_bomb, "entity-bomb": _entity_bomb,
        "missing": lambda: _workbook_with_header(["indicator_code", "organisation_code", "period"],
                                                 ["I-01", "SCH-A", sent.period]),
        "extra": lambda: _workbook_with_header(["indicator_code", "organisation_code", "period", "value",
                                                "Примечание"], ["I-01", "SCH-A", sent.period, 5, "x"]),
        "no-rows": lambda: _workbook_with_header(["indicator_code", "organisation_code", "period", "value"]),
    }
    if isinstance(data, str):
        data = builders[data]()
    sub_a = submission_of(sent, world["school_a"])
    sign_in(client, login, world["director_a"])
    audited = count(db_session, AuditEvent)
    response = _upload(client, sub_a, data)
    assert response.status_code == 422
    assert message in page(response)
    assert values_of(db_session, world["school_a"]) == {}
    assert count(db_session, AuditEvent) == audited
    if data:
        (kept,) = (uploads / "monitoring" / f"submission-{sub_a.id}").glob("*.xlsx")
        assert kept.read_bytes() == data


def test_russian_headers_are_accepted(client, login, world, sent, db_session, uploads):
    sub_a = submission_of(sent, world["school_a"])
    sign_in(client, login, world["director_a"])
    data = _workbook_with_header(["Код показателя", "Код организации", "Период", "Значение", "Комментарий"],
                                 ["I-01", "sch-a", sent.period, "12,5", None])
    assert _upload(client, sub_a, data).status_code == 302
    assert values_of(db_session, world["school_a"]) == {"I-01": (Decimal("12.5"), None, "xlsx")}


def test_file_over_the_limit_is_413(client, login, world, sent, db_session, uploads, app, monkeypatch):
    monkeypatch.setitem(app.config, "MONITORING_UPLOAD_MAX_BYTES", 1000)
    sub_a = submission_of(sent, world["school_a"])
    sign_in(client, login, world["director_a"])
    response = _upload(client, sub_a, b"PK\x03\x04" + b"\0" * 5000)
    assert response.status_code == 413
    assert "Файл слишком большой." in page(response)
    assert values_of(db_session, world["school_a"]) == {}


# --- access and stale forms ------------------------------------------------------------------------------

def _submission_urls(sub_id):
    return [("GET", f"/monitoring/submissions/{sub_id}"), ("GET", f"/monitoring/submissions/{sub_id}/xlsx"),
            ("POST", f"/monitoring/submissions/{sub_id}/values"), ("POST", f"/monitoring/submissions/{sub_id}/upload"),
            ("POST", f"/monitoring/submissions/{sub_id}/transition"),
            ("POST", f"/monitoring/submissions/{sub_id}/delegate")]


def _request_urls(req_id):
    return [("GET", f"/monitoring/requests/{req_id}"), ("GET", f"/monitoring/requests/{req_id}/edit"),
            ("POST", f"/monitoring/requests/{req_id}/edit"), ("POST", f"/monitoring/requests/{req_id}/transition"),
            ("POST", f"/monitoring/requests/{req_id}/remind"), ("POST", f"/monitoring/requests/{req_id}/delete")]


def test_school_a_cannot_see_or_change_school_b(client, login, world, sent, db_session):
    sub_b = submission_of(sent, world["school_b"])
    sign_in(client, login, world["director_a"])
    audited = count(db_session, AuditEvent)
    data = {"version": sub_b.version, "trigger": "submit", "comment": "x", "delegate_id": world["staff_a"].id}
    for method, url in _submission_urls(sub_b.id) + _request_urls(sent.id):
        response = client.open(url, method=method, data=data)
        assert response.status_code == 404, (method, url)
    assert client.get(f"/monitoring/cycles/{sent.cycle_id}/requests").status_code == 404
    db_session.expire_all()
    assert sub_b.state == "pending" and sub_b.delegate_id is None
    assert count(db_session, AuditEvent) == audited
    # The same pages answer for school A's own submission: the 404s come from scope alone.
    assert client.get(f"/monitoring/submissions/{submission_of(sent, world['school_a']).id}").status_code == 200


def test_official_of_another_municipality_gets_404(client, login, world, sent, make_org, make_user, db_session):
    mun2 = make_org("municipality", parent=world["region"], code="MUN2")
    outsider = make_user("official", mun2)
    db_session.commit()
    sign_in(client, login, outsider)
    for method, url in _submission_urls(submission_of(sent, world["school_a"]).id) + _request_urls(sent.id):
        assert client.open(url, method=method, data={"version": "1", "trigger": "send"}).status_code == 404, url
    assert client.get(f"/monitoring/cycles/{sent.cycle_id}/requests/new").status_code == 404
    assert "Сведения о результатах" not in page(client.get("/monitoring/"))


def test_school_does_not_see_a_draft_request(client, login, world, mon, db_session):
    req = make_request(mon, world["official"], [world["school_a"]])
    db_session.commit()
    sign_in(client, login, world["director_a"])
    assert client.get(f"/monitoring/submissions/{req.submissions[0].id}").status_code == 404
    assert "Сведения о результатах" not in page(client.get("/monitoring/"))


def test_stale_forms_get_409(client, login, world, sent, db_session):
    sub_a = submission_of(sent, world["school_a"])
    seen = sub_a.version
    fill_all(sub_a, world["director_a"])  # someone else saved values meanwhile
    db_session.commit()
    sign_in(client, login, world["director_a"])
    i1 = cycle_indicator(sent.cycle, "I-01")
    response = client.post(f"/monitoring/submissions/{sub_a.id}/values", data={"version": seen, f"value-{i1.id}": "1"})
    assert response.status_code == 409
    assert "Объект изменён другим пользователем" in page(response)
    response = client.post(f"/monitoring/submissions/{sub_a.id}/transition", data={"trigger": "submit",
                                                                                   "version": seen})
    assert response.status_code == 409
    db_session.expire_all()
    assert sub_a.state == "pending" and values_of(db_session, world["school_a"])["I-01"][0] == Decimal("50")

    sign_in(client, login, world["official"])
    req_version = sent.version
    db_session.execute(update(DataRequest).where(DataRequest.id == sent.id).values(version=req_version + 1))
    db_session.commit()
    response = client.post(f"/monitoring/requests/{sent.id}/transition", data={"trigger": "close",
                                                                               "version": req_version})
    assert response.status_code == 409


def test_unknown_trigger_is_refused(client, login, world, sent, db_session):
    sign_in(client, login, world["official"])
    sub_a = submission_of(sent, world["school_a"])
    for trigger in ("issue", "delegate", "frobnicate"):
        response = client.post(f"/monitoring/submissions/{sub_a.id}/transition",
                               data={"trigger": trigger, "version": sub_a.version})
        assert response.status_code == 400, trigger
    assert client.post(f"/monitoring/requests/{sent.id}/transition",
                       data={"trigger": "issue", "version": sent.version}).status_code == 400
    db_session.expire_all()
    assert sub_a.state == "pending"
    assert count(db_session, Task) >= 2 and count(db_session, Submission) == 2


def test_pages_render_through_the_whole_flow(client, login, world, sent, db_session, uploads):
    sub_a, sub_b = submission_of(sent, world["school_a"]), submission_of(sent, world["school_b"])
    services.delegate_submission(sub_a, delegate=world["staff_a"], actor=world["director_a"])
    fill_all(sub_a, world["staff_a"])
    services.transition_submission(sub_a, "submit", actor=world["staff_a"])
    db_session.commit()
    sign_in(client, login, world["official"])
    html = page(client.get(f"/monitoring/submissions/{sub_a.id}"))
    for trigger in ("accept", "return"):
        assert f'data-trigger="{trigger}"' in html
    assert "поручено исполнителю" in html and world["staff_a"].full_name in html
    html = page(client.get(f"/monitoring/submissions/{sub_b.id}"))
    assert 'data-trigger="mark_not_provided"' in html and 'data-trigger="accept"' not in html

    services.transition_submission(sub_a, "accept", actor=world["official"])
    services.transition_submission(sub_b, "mark_not_provided", actor=world["official"], comment="Карантин")
    db_session.commit()
    html = page(client.get(f"/monitoring/requests/{sent.id}"))
    assert "Карантин" in html and 'data-count="accepted">1<' in html and "Закрыть запрос" in html
    response = client.post(f"/monitoring/requests/{sent.id}/transition", data={"trigger": "close",
                                                                               "version": sent.version})
    assert response.status_code == 302
    html = page(client.get(f"/monitoring/requests/{sent.id}"))
    assert 'data-state="closed"' in html and "Закрыть запрос" not in html
    assert "Сведения о результатах" in page(client.get("/monitoring/"))
    assert "закрыт" in page(client.get(f"/monitoring/cycles/{sent.cycle_id}/requests"))
    assert client.get(f"/cycles/{sent.cycle_id}/history").status_code == 200
    stage_html = page(client.get(f"/stages/{sent.cycle.stage('MON').id}"))
    assert "Не создано ни одного запроса" not in stage_html and 'data-trigger="submit"' in stage_html

    sign_in(client, login, world["director_b"])
    html = page(client.get(f"/monitoring/submissions/{sub_b.id}"))
    assert "Отмечено как не представленное:" in html and "Карантин" in html and 'name="value-' not in html


def test_draft_request_can_be_edited_and_deleted(client, login, world, mon, db_session):
    req = make_request(mon, world["official"], [world["school_a"]])
    db_session.commit()
    sign_in(client, login, world["official"])
    assert "Изменить черновик запроса" in page(client.get(f"/monitoring/requests/{req.id}/edit"))
    response = client.post(f"/monitoring/requests/{req.id}/edit", data=_form(
        mon, title="Уточнённый запрос", all_organisations=None, organisation_ids=[str(world["school_b"].id)],
        version=req.version))
    assert response.status_code == 302
    db_session.expire_all()
    assert req.title == "Уточнённый запрос" and [s.organisation.code for s in req.submissions] == ["SCH-B"]
    stale = client.post(f"/monitoring/requests/{req.id}/edit", data=_form(mon, version=req.version - 1))
    assert stale.status_code == 409
    assert client.post(f"/monitoring/requests/{req.id}/delete", data={"version": req.version}).status_code == 302
    assert count(db_session, DataRequest) == 0 and count(db_session, Submission) == 0


# --- monitoring objects in the task inbox and the cycle history ---------------------------------------------

def test_inbox_link_of_a_submission_task_opens_the_submission(client, login, world, sent, db_session):
    sub_a = submission_of(sent, world["school_a"])
    (task,) = open_tasks(db_session, sub_a)
    sign_in(client, login, world["director_a"])
    response = client.get(f"/tasks/{task.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/monitoring/submissions/{sub_a.id}")


def test_inbox_names_the_monitoring_task_kinds_in_russian(client, login, world, sent, db_session):
    sign_in(client, login, world["director_a"])
    html = page(client.get("/tasks/"))
    assert "Сведения о результатах" in html
    assert "fill_submission" not in html


def test_submission_tasks_carry_the_mechanism(world, sent, db_session):
    (task,) = open_tasks(db_session, submission_of(sent, world["school_a"]))
    assert task.mechanism_code == "M1.1"


def test_cycle_history_names_monitoring_events_in_russian(client, login, world, sent, db_session):
    sign_in(client, login, world["official"])
    html = page(client.get(f"/cycles/{sent.cycle_id}/history"))
    text = re.sub(r"<[^>]+>", " ", html)  # the words, not the links' addresses (/monitoring/submissions/…)
    assert "data_request" not in text and "submission" not in text and " issue " not in text


def test_the_reminder_message_counts_the_addressees_skipped_as_reminded_lately(client, login, world, sent,
                                                                                db_session):
    """«Напомнить всем» after one addressee was reminded an hour ago: the message says how many got the reminder and
    how many were skipped and why, in agreeing Russian forms."""
    from app.core.timeutil import utcnow

    submission_of(sent, world["school_a"]).last_reminded_at = utcnow() - timedelta(hours=1)
    db_session.commit()
    sign_in(client, login, world["official"])
    response = client.post(f"/monitoring/requests/{sent.id}/remind", data={})
    assert response.status_code == 302
    assert ("Напоминание отправлено 1 адресату; 1 адресат пропущен: ему напоминали менее 12 часов назад."
            in page(client.get(response.headers["Location"])))

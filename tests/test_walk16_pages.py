"""Walk 16 (the working day of the other roles at 1366 px: a school's and a kindergarten's head, the director's deputy
signing for her, a teacher, the methodologist, the ИМЦ, the РЦОКО analyst, the minister, the administrator): what the
rendered pages found wanting.

«Ознакомлен» pressed with the password field left empty answered «Неверный пароль» and counted a guess against the
throttle. A kindergarten's head opening «Данные → Импорт данных» read only «Импортов пока не было.»: nothing said
that her role loads nothing there, nor who does."""

import io

import lxml.html
from sqlalchemy import select

from app.demo import DEMO_PASSWORD


def _doc(response, status: int = 200):
    assert response.status_code == status, response.status_code
    return lxml.html.fromstring(response.get_data(as_text=True))


def _words(node) -> str:
    return " ".join(node.text_content().split())


def _log_in(client, login: str) -> None:
    response = client.post("/login", data={"login": login, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.status_code


def _flash(doc) -> str:
    return " ".join(_words(a) for a in doc.xpath("//div[contains(@class, 'alert')]"))


def _issued_to(demo, login: str):
    """A recommendation item the user's organisation has still to sign off («Ознакомлен»)."""
    from app.auth.models import User
    from app.followup.models import RecommendationItem

    user = demo.scalar(select(User).where(User.login == login))
    return next(i for i in demo.scalars(select(RecommendationItem).where(RecommendationItem.state == "issued")
                                        .order_by(RecommendationItem.id))
                if i.organisation_id in {r.organisation_id for r in user.roles})


def test_an_empty_password_at_ознакомлен_asks_for_it_and_is_no_guess(demo, client):
    from app.auth.models import LoginAttempt

    item = _issued_to(demo, "director")
    _log_in(client, "director")
    page = _doc(client.get(f"/followup/items/{item.id}"))
    (field,) = page.xpath("//form[contains(@action, '/acknowledge')]//input[@type='password']")
    assert field.get("required") is not None  # the browser asks before sending

    before = demo.scalar(select(LoginAttempt.id).order_by(LoginAttempt.id.desc()).limit(1)) or 0
    refused = _doc(client.post(f"/followup/items/{item.id}/acknowledge",
                               data={"password": "", "version": item.version}), 422)
    said = _flash(refused)
    assert "Пароль (для подтверждения ознакомления): Обязательное поле." in said, said
    assert "Неверный пароль" not in said
    assert not demo.scalars(select(LoginAttempt).where(LoginAttempt.id > before)).all()
    demo.refresh(item)
    assert item.state == "issued"


def test_a_heads_empty_import_list_says_her_role_loads_nothing_and_who_does(demo, client):
    _log_in(client, "kindergarten")
    empty = _words(_doc(client.get("/imports/")).get_element_by_id("imports-empty"))
    assert empty.startswith("Импортов пока не было."), empty
    assert "Вашей роли загрузка файлов недоступна: результаты загружают орган управления образованием, ИМЦ или РЦОКО" \
        in empty


def test_the_audit_log_says_in_russian_what_a_refused_password_was_for(demo, client):
    _log_in(client, "director")
    item = _issued_to(demo, "director")
    client.post(f"/followup/items/{item.id}/acknowledge", data={"password": "не тот", "version": item.version})
    client.post("/logout")
    _log_in(client, "admin")
    (row,) = _doc(client.get("/audit/?action=reauth_failed")).xpath(
        "//tr[td[contains(., 'неверный пароль при подтверждении действия')]]")
    said = _words(row)
    assert "подтверждалось" in said and "ознакомление с рекомендацией" in said and "IP-адрес" in said, said
    assert "acknowledge_recommendation" not in said and "purpose" not in said, said


CSV = ("procedure;year;subject;grade;school_code;student_code;primary_score;max_score;mark\n"
       "ВПР;2027;Математика;4;MUN01-S01;W16-1;20;27;4\n"
       "ВПР;2027;Математика;4;MUN01-S02;W16-2;12;27;3\n").encode()


def test_the_rcoko_analyst_loads_the_regions_results_with_the_organisation_the_form_offers(demo, client, app,
                                                                                           tmp_path, monkeypatch):
    """The form offered РЦОКО alone — a centre without schools — and every row was refused «школа с таким кодом
    не найдена»; the region the centre supports, where the service admits the analyst, was not in the list."""
    from app.imports.models import ImportRun

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    _log_in(client, "rcoko")
    form = _doc(client.get("/imports/results/new"))
    offered = [_words(o) for o in form.xpath("//select[@name='organisation_id']//option")]
    assert offered == ["—", "Демонстрационная область", "РЦОКО"], offered
    (chosen,) = form.xpath("//select[@name='organisation_id']//option[@selected]/@value")
    response = client.post("/imports/results/new", content_type="multipart/form-data",
                           data={"organisation_id": chosen, "file": (io.BytesIO(CSV), "впр.csv")})
    assert response.status_code == 302, response.status_code
    run = demo.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first()
    assert (run.status, run.rows_inserted, run.rows_rejected) == ("done", 2, 0), run.message


def test_the_imc_methodologist_is_offered_the_municipality_her_centre_supports(demo, client):
    _log_in(client, "imc")
    form = _doc(client.get("/imports/results/new"))
    (chosen,) = form.xpath("//select[@name='organisation_id']//option[@selected]")
    assert _words(chosen).startswith("ГО Северный"), _words(chosen)


def test_a_campaign_documents_task_names_the_campaign_once_a_cycles_names_its_cycle(demo):
    """The minister's «Подписать документ: «Приказ … — Мониторинг …, 2026/27» (Мониторинг …, 2026/27)»."""
    from app.documents.models import Document
    from workflows.document import task_title

    order = demo.scalars(select(Document).where(Document.owner_type.is_not(None)).order_by(Document.id)).first()
    campaign = order.subject_title
    assert task_title(order, "sign_document") == f"Подписать документ: «{order.title}»"
    assert task_title(order, "sign_document").count(campaign) == 1
    regulation = demo.scalars(select(Document).where(Document.cycle_id.is_not(None)).order_by(Document.id)).first()
    assert task_title(regulation, "approve_document") == \
        f"Согласовать документ: «{regulation.title}» ({regulation.cycle.short_title})"


def test_a_requisite_refused_beside_its_field_reads_as_a_sentence(demo, client):
    """Under «Электронная почта» the administrator read «адрес вида name@example.ru.», a fragment in lower case."""
    from app.orgs.models import Organisation

    school = demo.scalar(select(Organisation).where(Organisation.code == "MUN01-S01"))
    _log_in(client, "admin")
    (form,) = _doc(client.get(f"/orgs/{school.id}/edit")).xpath("//form[.//input[@name='email']]")
    data = dict(form.form_values())
    data.update(email="не почта", inn="1234567890")
    refused = _doc(client.post(f"/orgs/{school.id}/edit", data=data), 422)

    def said(name):
        (feedback,) = refused.xpath(f"//input[@name='{name}']/following-sibling::div[contains(@class, "
                                    "'invalid-feedback')]")
        return _words(feedback)

    assert said("email") == "Адрес вида name@example.ru."
    assert said("inn") == "Неверное контрольное число — проверьте ИНН."
    assert refused.xpath("//input[@name='email']/@value") == ["не почта"]  # what was typed stays


def test_a_kindergartens_number_stays_on_the_line_of_its_name_in_her_task_list(demo, client):
    """At 1366 px the organisation column of «Мои задачи» and «Рекомендации, адресованные моей организации» broke
    «Детский сад №» | «14»."""
    _log_in(client, "kindergarten2")
    for path, column in (("/", 4), ("/followup/my", 4)):
        cells = {cell.text_content().strip() for cell in _doc(client.get(path)).xpath(
            f"//table[.//th[normalize-space()='Организация']]//tbody/tr/td[{column}]")}
        assert cells == {"Детский сад №\u00a014"}, (path, cells)

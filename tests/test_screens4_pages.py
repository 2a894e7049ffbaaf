"""Screens, fourth review: what a user meets on the demo's pages at 1366 px — a way back from every page that is
not a section's own start, and the words of a landmark in the reader's language."""

import lxml.html
from sqlalchemy import select

from tests.test_screens3_pages import _login, _page, _text


def _crumbs(doc) -> list[tuple[str, str | None]]:
    return [(_text(li), (li.xpath("./a/@href") or [None])[0])
            for li in doc.xpath("//ol[contains(@class, 'breadcrumb')]/li")]


def _school(demo, code="MUN01-S01"):
    from app.orgs.models import Organisation

    return demo.scalars(select(Organisation).where(Organisation.code == code)).one()


# --- a way back -----------------------------------------------------------------------------------------------------

def test_a_schools_analysis_leads_back_through_the_cycle_the_official_opened(demo, client):
    from app.analysis.services import latest_run_for_school

    school = _school(demo)
    run = latest_run_for_school(school)
    _login(client, "official")
    crumbs = _crumbs(_page(client, f"/analysis/schools/{school.id}"))
    assert crumbs == [("Циклы", "/cycles"), (run.cycle.short_title, f"/cycles/{run.cycle_id}"),
                      ("Анализ", f"/analysis/cycles/{run.cycle_id}"), ("СОШ № 1", None)]
    assert all(client.get(href).status_code == 200 for _, href in crumbs if href)


def test_a_schools_analysis_leads_the_director_back_through_what_she_may_open(demo, client):
    """The run is the municipality's: its cycle's page answers 404 to the school's director."""
    school = _school(demo)
    _login(client, "director")
    crumbs = _crumbs(_page(client, f"/analysis/schools/{school.id}"))
    assert crumbs == [("Организации", "/orgs/"), ("СОШ № 1", f"/orgs/{school.id}"), ("Результаты анализа", None)]
    assert all(client.get(href).status_code == 200 for _, href in crumbs if href)


def test_the_import_pages_lead_back_to_the_list(demo, client, app, tmp_path, monkeypatch):
    import io

    from app.auth.models import User
    from app.imports.services import start_import

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    rcoko = demo.scalars(select(User).where(User.login == "rcoko")).one()
    run = start_import("results", filename="впр.csv", stream=io.BytesIO(b"procedure\n"), actor=rcoko,
                       organisation=rcoko.roles[0].organisation, enqueue=False)
    demo.commit()
    _login(client, "rcoko")
    listing = _page(client, "/imports/")
    assert _text(listing.xpath("//h1")[0]) == "Импорт данных"  # the navigation's name, not «Импорт файлов»
    assert _crumbs(_page(client, "/imports/results/new")) == [
        ("Импорт данных", "/imports/"), ("Импорт: результаты оценочных процедур", None)]
    assert _crumbs(_page(client, f"/imports/{run.id}")) == [("Импорт данных", "/imports/"),
                                                            (f"Импорт № {run.id}", None)]


def test_every_page_of_a_cycle_leads_back_through_the_cycles_list(demo, client):
    """Follow-up, history, a content form and a data request began with the cycle itself, other pages of the same
    cycle with «Циклы»; the decision form's last step read «Решение» where the page creates one."""
    from app.cycles.models import Cycle
    from app.followup.models import Decision, Measure, Recommendation
    from app.followup.services import stage_content_refusal
    from app.monitoring.models import DataRequest

    measure = demo.scalars(select(Measure).order_by(Measure.id)).first()
    cycle = measure.cycle
    decision = demo.scalars(select(Decision).order_by(Decision.id)).first()
    rec = demo.scalars(select(Recommendation).order_by(Recommendation.id)).first()
    req = demo.scalars(select(DataRequest).order_by(DataRequest.id)).first()
    goals_cycle = demo.scalars(select(Cycle).where(Cycle.owner_id == _school(demo).parent_id)
                               .order_by(Cycle.id)).first()
    # The forms of new measures and decisions open where their save would be accepted (a measure's own cycle is
    # past its roadmap: there the address leads back to the stage with the reason).
    planning = next(c for c in demo.scalars(select(Cycle).where(Cycle.owner_id == cycle.owner_id).order_by(Cycle.id))
                    if stage_content_refusal(c, "MEAS") is None and stage_content_refusal(c, "DEC") is None)
    _login(client, "official")
    pages = [f"/followup/cycles/{cycle.id}/measures", f"/followup/measures/{measure.id}",
             f"/followup/cycles/{planning.id}/measures/new", f"/followup/cycles/{cycle.id}/decisions",
             f"/followup/decisions/{decision.id}", f"/followup/cycles/{planning.id}/decisions/new",
             f"/followup/recommendations/{rec.id}", f"/followup/cycles/{cycle.id}/recommendations",
             f"/cycles/{cycle.id}/history", f"/cycles/{goals_cycle.id}/goals/new", f"/monitoring/requests/{req.id}"]
    for url in pages:
        doc = _page(client, url)
        crumbs = _crumbs(doc)
        assert crumbs[0] == ("Циклы", "/cycles"), (url, crumbs)
        assert crumbs[1][1].startswith("/cycles/"), (url, crumbs)
        # the landmark is announced in Russian («breadcrumb» was read out in English)
        assert doc.xpath("//nav[ol[contains(@class, 'breadcrumb')]]/@aria-label") == ["Навигационная цепочка"], url
    assert _crumbs(_page(client, f"/followup/cycles/{planning.id}/decisions/new"))[-1] == ("Новое решение", None)


def test_forms_of_the_administration_and_a_new_cycle_lead_back(demo, client):
    """A new user, a user's page, an organisation's forms and a new cycle had no way back but the navigation."""
    from app.auth.models import User

    school = _school(demo)
    user = demo.scalars(select(User).where(User.login == "director")).one()
    _login(client, "admin")
    expected = {"/admin/users/new": [("Пользователи", "/admin/users"), ("Новый пользователь", None)],
                f"/admin/users/{user.id}": [("Пользователи", "/admin/users"), (user.full_name, None)],
                "/orgs/new": [("Организации", "/orgs/"), ("Новая организация", None)],
                f"/orgs/{school.id}/edit": [("Организации", "/orgs/"), ("СОШ № 1", f"/orgs/{school.id}"),
                                            ("Изменение", None)]}
    for url, crumbs in expected.items():
        assert _crumbs(_page(client, url)) == crumbs, url
        assert all(client.get(href).status_code == 200 for _, href in crumbs if href)
    client.post("/logout")
    _login(client, "official")
    assert _crumbs(_page(client, "/cycles/new")) == [("Циклы", "/cycles"), ("Новый цикл", None)]


def _feedback(doc, field_id) -> list[str]:
    return [_text(d) for d in doc.xpath(f"//*[@id='{field_id}']/following-sibling::div[contains(@class, "
                                        "'invalid-feedback')]")]


def test_a_refused_stand_in_says_what_is_wrong_beside_the_field_at_fault(demo, client):
    """«Укажите период…» stood under «Заместитель», and the empty dates were not marked."""
    from datetime import date, timedelta

    from app.auth.models import User
    from app.deadlines.standins import deputy_candidates

    _login(client, "head")
    head = demo.scalars(select(User).where(User.login == "head")).one()
    deputy = deputy_candidates(head)[0]
    response = client.post("/deadlines/standins/new", data={"deputy_id": "0", "start": "", "end": "", "reason": ""})
    assert response.status_code == 422
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    assert _feedback(doc, "deputy_id") == ["Укажите заместителя."]
    assert _feedback(doc, "start") == ["Укажите дату начала."]
    assert _feedback(doc, "end") == ["Укажите дату окончания."]
    assert "is-invalid" in doc.get_element_by_id("end").get("class")
    # a period the service refuses (it is over) is said beside the dates, not beside the deputy
    past = date.today() - timedelta(days=30)
    response = client.post("/deadlines/standins/new", data={
        "deputy_id": str(deputy.id), "start": past.isoformat(), "end": (past + timedelta(days=3)).isoformat(),
        "reason": ""})
    assert response.status_code == 422
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    assert _feedback(doc, "deputy_id") == []
    assert any("уже закончился" in text for text in _feedback(doc, "end")), _feedback(doc, "end")


def test_forms_leave_their_messages_to_the_server_which_puts_them_beside_the_field(demo, client):
    """The forms drawn whole by render_form let the browser refuse an empty field first, with its own bubble in the
    browser's language («Please fill out this field.» in an English browser), gone as soon as the reader clicks;
    every other form of the application is novalidate and gets «Обязательное поле.» beside the field."""
    from app.auth.models import User

    def post_forms(url):
        return [f for f in _page(client, url).xpath("//main//form") if (f.get("method") or "").lower() == "post"]

    assert all(f.get("novalidate") is not None for f in post_forms("/login"))
    _login(client, "admin")
    user = demo.scalars(select(User).where(User.login == "director")).one()
    for url in ("/password", "/admin/users/new", f"/admin/users/{user.id}", "/tokens/", "/deadlines/standins",
                "/catalogue/"):
        forms = [f for f in post_forms(url) if f.xpath(".//*[@required]")]
        assert all(f.get("novalidate") is not None for f in forms), url
    client.post("/logout")
    _login(client, "official")
    assert all(f.get("novalidate") is not None for f in post_forms("/cycles/new"))


def test_an_edition_is_said_to_be_made_in_the_feminine(demo, client):
    """«Редакция 1 сформирован»: the badge beside an edition agreed with «документ», not with «редакция»."""
    from app.documents.models import Document, DocumentVersion

    doc = demo.scalars(select(Document).join(DocumentVersion, DocumentVersion.document_id == Document.id)
                       .where(DocumentVersion.status == "done").order_by(Document.id)).first()
    _login(client, "admin")
    page = _page(client, f"/documents/{doc.id}")
    badges = {_text(b) for b in page.xpath("//span[@data-status='done']")}
    assert badges == {"сформирована"}, badges


def test_a_stage_that_cannot_go_for_approval_does_not_offer_to_send_it(demo, client):
    """«Отправить на утверждение» stood active under «Чтобы отправить этап на утверждение: не сформулировано ни
    одной цели…», and pressing it only brought the same list back as a refusal."""
    from app.cycles.models import Cycle

    cycle = demo.scalars(select(Cycle).where(Cycle.owner_id == _school(demo).id).order_by(Cycle.id)).first()
    stage = cycle.stage("GOAL")
    # the demo writes the goal linked to ГО Северный's (README, «The vertical») and leaves the положение undrafted
    assert stage.state == "draft", "the demo leaves the school's goals stage to be finished"
    _login(client, "director")
    page = _page(client, f"/stages/{stage.id}")
    assert page.xpath("//*[@id='submit-problems']//li")
    (button,) = page.xpath("//button[@data-trigger='submit']")
    assert button.get("disabled") is not None and button.get("aria-describedby") == "submit-problems"

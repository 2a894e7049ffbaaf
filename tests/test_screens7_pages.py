"""Screens, seventh walk (the regional expert, auditor, administrators, ИМЦ and the public pages at 1366 px): table
headers a screen reader can name, and public pages a citizen can read without the system's codes and jargon."""

import pathlib
import re

from sqlalchemy import select

from tests.test_screens3_pages import _page, _text

APP = pathlib.Path(__file__).resolve().parents[1] / "app"
EMPTY_HEADER = re.compile(r"<th[^>]*>\s*</th>")


def test_no_table_has_a_header_cell_without_a_name():
    """A column of buttons had an empty <th>: a screen reader announced nothing for it (axe «empty-table-header» on
    the stand-ins, notifications, tokens, stage, campaign, effectiveness and analysis pages)."""
    empty = sorted(f"{p.relative_to(APP)}: {m.group(0)}" for p in APP.rglob("*.html")
                   for m in EMPTY_HEADER.finditer(p.read_text(encoding="utf-8")))
    assert empty == []


def _published_evaluation(demo):
    """The demo's closed M2.3 cycle: its effectiveness evaluation is approved, so the public page shows it."""
    from app.cycles.models import Cycle
    from app.effectiveness.models import EffectivenessEvaluation

    evaluation = demo.scalars(select(EffectivenessEvaluation).join(Cycle, Cycle.id == EffectivenessEvaluation.cycle_id)
                              .where(Cycle.state == "closed").order_by(Cycle.id)).first()
    return demo.get(Cycle, evaluation.cycle_id)


def test_the_public_effectiveness_text_names_the_indicators_it_cites(demo, client):
    """«Не удалось улучшить: M2.3-02.» — a citizen has no list of codes: the text cites each indicator by its name,
    the indicators' table shows the codes, and each line of the conclusions is its own paragraph (one <p> ran them
    into one sentence)."""
    cycle = _published_evaluation(demo)
    doc = _page(client, f"/public/cycles/{cycle.id}")
    (heading,) = doc.xpath("//h2[normalize-space()='Эффективность принятых мер']")
    paragraphs = [_text(p) for p in heading.xpath("following-sibling::p[following-sibling::h2]")]
    assert len(paragraphs) >= 2, paragraphs
    names = {i.code: i.name for i in cycle.indicators}
    cited = [(code, line) for line in paragraphs for code in re.findall(r"\b[MRI]\d\.\d-\d+\b", line)]
    assert cited, paragraphs  # the demo's evaluation has an indicator it failed to improve
    for code, line in cited:
        assert f"«{names[code]}» ({code})" in line, line
    table = _text(doc.xpath("//h2[normalize-space()='Показатели']/following-sibling::div[1]//table")[0])
    assert all(code in table for code in names)


def test_the_public_page_offers_a_subscription_in_plain_words(demo, client):
    """«Лента новых документов (Atom)» meant nothing to a citizen."""
    doc = _page(client, "/public/orgs/MUN01")
    (link,) = doc.xpath("//a[contains(@href, 'feed.atom')]")
    assert _text(link).startswith("Подписка на новые документы")
    assert "Лента" not in _text(doc.body)


def test_the_user_forms_preselect_no_role(app, world, db_session):
    """The role list opened on «Администратор» (its first entry) over the region (the first organisation): the
    administrator who sent «Назначить роль» as it opened made the user an administrator of the whole region."""
    from tests.test_auth import signed_in_client

    staff = world["staff_a"]
    client = signed_in_client(app, world["admin"])
    for url in ("/admin/users/new", f"/admin/users/{staff.id}"):
        (role,) = _page(client, url).xpath("//select[@name='role']")
        chosen = role.xpath("./option[@selected]") or role.xpath("./option[1]")
        assert chosen[0].get("value") == "" and _text(chosen[0]) == "— выберите роль —", url
    before = sorted(r.role for r in staff.roles)
    response = client.post(f"/admin/users/{staff.id}", data={"role": "", "organisation_id": str(world["region"].id)})
    assert response.status_code == 422 and "Обязательное поле." in response.get_data(as_text=True)
    db_session.refresh(staff)
    assert sorted(r.role for r in staff.roles) == before == ["staff"]


def test_going_back_to_the_shipped_template_names_its_own_version(app, world, db_session, client, login):
    """«Действует встроенный шаблон (версия 1)» was said of every type, and the list said «Версия 1 — встроенный
    шаблон», while the shipped analytic report is version 3 (the number the list's own column shows)."""
    import io

    from app.documents import rendering, template_admin

    builtin = template_admin.builtin_number("analytic_report")
    assert builtin != 1  # the case the fixed text got wrong
    upload = template_admin.upload("analytic_report", stream=io.BytesIO(rendering.template_bytes("analytic_report")),
                                   filename="own.docx", actor=world["admin"])
    template_admin.activate(upload, actor=world["admin"])
    db_session.commit()
    login(world["admin"])
    page = client.post("/documents/templates/analytic_report/builtin/activate", data={}, follow_redirects=True)
    assert f"Действует встроенный шаблон (версия {builtin})." in page.get_data(as_text=True)
    listing = _text(_page(client, "/documents/templates").body)
    assert "Версия 1 — встроенный" not in listing
    (row,) = [r for r in _page(client, "/documents/templates").xpath("//tr[.//a[contains(@href, 'analytic_report')]]")]
    assert _text(row.xpath(".//td[contains(@class, 'active-version')]")[0]) == f"{builtin} (встроенный)"



def test_the_region_pictures_problem_zones_say_of_how_many_municipalities(demo, client):
    """«(ниже границы у 2 из 2)» left the reader to guess two of what."""
    from app.assessment.models import Campaign
    from tests.test_screens3_pages import _login

    campaign = demo.scalars(select(Campaign).order_by(Campaign.id)).first()
    _login(client, "region_official")
    zones = [_text(li) for li in _page(client, f"/assessment/campaigns/{campaign.id}/picture")
             .xpath("//ol[@id='region-zones']/li")]
    assert zones and all(re.search(r"\(ниже границы у \d+ из \d+ муниципалитет(а|ов)\)$", z) for z in zones), zones

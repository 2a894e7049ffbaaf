"""Screens, third review: what a user reads on the demo's pages at 1366 px — dates on the reader's calendar, numbers
in the Russian form, a way back from pages that had none, and no action offered to a role the service then refuses."""

from datetime import datetime, timezone

import lxml.html
from sqlalchemy import select

from app.demo import DEMO_PASSWORD


def _login(client, login):
    response = client.post("/login", data={"login": login, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return lxml.html.fromstring(response.get_data(as_text=True))


def _text(node) -> str:
    return " ".join(node.text_content().split())


def _crumbs(doc) -> list[tuple[str, str | None]]:
    return [(_text(li), (li.xpath("./a/@href") or [None])[0]) for li in doc.xpath("//ol[@class='breadcrumb small']/li")]


# --- a moment shown as a date is dated where the reader works ---------------------------------------------------

def test_a_moment_is_dated_on_the_readers_calendar_not_in_utc(app):
    """01:10 in Moscow on 6 December is 22:10 UTC on the 5th: the public list showed a document registered on the
    06.12 as «Опубликован 05.12»; the catalogue's «загружена» did the same."""
    from flask import render_template_string

    from app.core.timeutil import format_date

    moment = datetime(2026, 12, 5, 22, 10, tzinfo=timezone.utc)
    assert format_date(moment, "Europe/Moscow") == "06.12.2026"
    assert format_date(moment, "Europe/Kaliningrad") == "06.12.2026"
    assert format_date(moment, "Europe/London") == "05.12.2026"
    assert format_date(moment) == "05.12.2026"              # no zone given: as it is
    assert format_date(moment.date(), "Asia/Vladivostok") == "05.12.2026"  # a calendar date is never shifted
    with app.test_request_context("/"):
        assert render_template_string("{{ m | date }}", m=moment) == "06.12.2026"  # APP_TIMEZONE: Moscow


def test_the_evidence_workbook_dates_signatures_on_the_owners_calendar(app):
    from types import SimpleNamespace

    from app.evidence.exports import _people

    signature = SimpleNamespace(signer_name="Иванов И.И.", signer_position="Начальник", meaning="утверждаю",
                                signed_at=datetime(2026, 12, 5, 22, 10, tzinfo=timezone.utc))
    assert _people([signature], "signer_name", "signer_position", "signed_at", "Europe/Moscow",
                   extra=lambda s: s.meaning) == "Начальник Иванов И.И. — утверждаю, 06.12.2026"


def test_the_public_list_dates_publication_as_the_registration_is_dated(demo, db_session, client):
    from app.documents.models import Document

    doc = db_session.scalars(select(Document).where(Document.published_at.is_not(None)).order_by(Document.id)).first()
    doc.published_at = datetime(2026, 12, 5, 22, 10, tzinfo=timezone.utc)
    db_session.commit()
    page = _page(client, "/public/")
    published = [_text(tr.xpath("td")[-1]) for tr in page.xpath("//table//tr[td]") if doc.title in _text(tr)]
    assert published and set(published) == {"06.12.2026"}, published


# --- numbers in the Russian form ----------------------------------------------------------------------------------

def test_the_organisation_page_prints_shares_with_a_decimal_comma(demo, client):
    _login(client, "director")
    from app.orgs.models import Organisation

    school = demo.scalars(select(Organisation).where(Organisation.code == "MUN01-S01")).one()
    page = _page(client, f"/orgs/{school.id}")
    cells = {_text(tr.xpath("th")[0]): _text(tr.xpath("td")[0]) for tr in page.xpath("//table//tr[th and td]")}
    assert cells["Доля обучающихся из малообеспеченных семей, %"] == "8,4"   # was «8.40»
    assert cells["Доля педагогов без требуемой квалификации, %"] == "7,6"
    assert cells["Число обучающихся"] == "471"


# --- a way back -----------------------------------------------------------------------------------------------------

def test_the_organisation_page_leads_back_to_what_the_reader_may_open(demo, client):
    from app.orgs.models import Organisation

    school = demo.scalars(select(Organisation).where(Organisation.code == "MUN01-S01")).one()
    _login(client, "director")  # the school's director cannot open the municipality's page (404)
    assert _crumbs(_page(client, f"/orgs/{school.id}")) == [("Организации", "/orgs/"), ("СОШ № 1", None)]
    client.post("/logout")
    _login(client, "official")
    crumbs = _crumbs(_page(client, f"/orgs/{school.id}"))
    assert crumbs[0] == ("Организации", "/orgs/") and crumbs[-1] == ("СОШ № 1", None)
    assert ("ГО Северный", f"/orgs/{school.parent_id}") in crumbs
    assert all(client.get(href).status_code == 200 for _, href in crumbs if href)


def test_a_recommendation_to_a_school_leads_back(demo, client):
    from app.followup.models import RecommendationItem
    from app.orgs.models import Organisation

    school = demo.scalars(select(Organisation).where(Organisation.code == "MUN01-S01")).one()
    item = demo.scalars(select(RecommendationItem).where(RecommendationItem.organisation_id == school.id)
                        .order_by(RecommendationItem.id)).first()
    _login(client, "director")
    crumbs = _crumbs(_page(client, f"/followup/items/{item.id}"))
    assert crumbs == [("Рекомендации", "/followup/my"), ("СОШ № 1", None)]
    client.post("/logout")
    _login(client, "official")
    crumbs = _crumbs(_page(client, f"/followup/items/{item.id}"))
    assert ("Рекомендация", f"/followup/recommendations/{item.recommendation_id}") in crumbs
    assert all(client.get(href).status_code == 200 for _, href in crumbs if href)


# --- no action offered that the service refuses ---------------------------------------------------------------------

def test_the_auditor_is_not_offered_to_attach_proof_to_a_measure(demo, client):
    from app.followup.models import Measure

    measure = demo.scalars(select(Measure).where(Measure.state.not_in(("verified", "cancelled")))
                           .order_by(Measure.id)).first()
    _login(client, "auditor")
    page = _page(client, f"/followup/measures/{measure.id}")
    assert not page.xpath("//form[@id='attach-form']")  # was offered, then «Недостаточно прав…» after the upload
    client.post("/logout")
    _login(client, "official")
    assert _page(client, f"/followup/measures/{measure.id}").xpath("//form[@id='attach-form']")


def test_the_auditor_is_not_offered_to_acknowledge_a_signed_document(demo, client):
    from app.documents.models import Document, DocumentVersion

    doc = demo.scalars(select(Document).join(DocumentVersion, DocumentVersion.document_id == Document.id)
                       .where(DocumentVersion.signed.is_(True), DocumentVersion.superseded_at.is_(None))
                       .order_by(Document.id)).first()

    def acknowledge_buttons(login):
        _login(client, login)
        page = _page(client, f"/documents/{doc.id}")
        client.post("/logout")
        return [b for b in page.xpath("//form[contains(@action, '/acknowledge')]//button")]

    assert acknowledge_buttons("auditor") == []  # was offered, then «Недостаточно прав для ознакомления»
    assert acknowledge_buttons("region_official") or acknowledge_buttons("official")


# --- the journals' names are not cut -----------------------------------------------------------------------------

def test_the_journal_number_columns_are_narrow(demo, client):
    _login(client, "admin")
    from app.orgs.models import Organisation

    region = demo.scalars(select(Organisation).where(Organisation.code == "DEMO")).one()
    page = _page(client, f"/documents/journals/{region.id}")
    heads = {_text(th): th.get("style") or "" for th in page.xpath("//table[@id='journals']//th")}
    assert heads, "the demo's region has its journals"
    if heads:
        assert all("width" in heads[name] for name in ("Префикс", "Индекс дела", "Суффикс", "Пример"))
        assert "width" not in heads["Название"]


# --- file sizes and the signature sheet -------------------------------------------------------------------------------

def test_file_sizes_are_grouped_and_agree_with_their_number(app):
    from flask import render_template_string

    with app.test_request_context("/"):
        shown = [render_template_string("{{ n | bytes }}", n=n) for n in (1, 482, 9967, 39967, 40482, None)]
    assert shown == ["1 байт", "482 байта", "9967 байт", "39\u00a0967 байт", "40\u00a0482 байта", ""]


def test_the_document_page_groups_sizes_and_names_the_signers_column_as_it_reads(demo, client):
    import re

    from app.documents.models import Document, DocumentVersion

    doc = demo.scalars(select(Document).join(DocumentVersion, DocumentVersion.document_id == Document.id)
                       .where(DocumentVersion.signed.is_(True)).order_by(Document.id)).first()
    _login(client, "official")
    page = _page(client, f"/documents/{doc.id}")
    text = _text(page)
    assert not re.search(r"\d{5,} байт", text), "«39967 байт» reads as one long number"
    assert re.search(r"\d{1,3}\u00a0\d{3} байт", page.text_content())
    heads = [_text(th) for th in page.xpath("//table[contains(@class, 'signature-sheet')]//th")]
    # The column holds the full name («Иванов Сергей Петрович»), not «И.О. Фамилия».
    assert "Фамилия, имя, отчество" in heads and "И.О. Фамилия" not in heads


# --- the audit log: a score without a comment -----------------------------------------------------------------------

def test_a_logged_score_without_a_comment_reads_as_the_score(app):
    from app.audit import labels

    with app.test_request_context("/"):
        assert labels.value_text("expert_evaluation", "GOAL.1", [0, None], {}) == "0"      # was «0, —»
        assert labels.value_text("expert_evaluation", "GOAL.1", [1, ""], {}) == "1"
        assert labels.value_text("expert_evaluation", "GOAL.2", [0, "Обоснование не найдено."], {}) == \
            "0, Обоснование не найдено."
        assert labels.value_text("expert_evaluation", "GOAL.1", [None, None], {}) == "—"


# --- an empty analysis page offers «Запустить анализ» only to whoever may start it ------------------------------------

def test_an_unanalysed_cycle_offers_the_run_only_to_an_analyst(demo, client):
    from app.analysis.models import AnalysisRun
    from app.cycles.models import Cycle

    analysed = set(demo.scalars(select(AnalysisRun.cycle_id)))
    # the official's own (the demo's first cycle is the region's R1.1, which she does not see)
    cycle = next(c for c in demo.scalars(select(Cycle).where(Cycle.state == "open", Cycle.id.not_in(analysed or {0}))
                                         .order_by(Cycle.id)) if c.owner.code == "MUN01")

    def empty_state(login):
        _login(client, login)
        pages = [_page(client, f"/analysis/cycles/{cycle.id}/{tab}") for tab in ("objectivity", "low-results",
                                                                                 "clusters")]
        client.post("/logout")
        return [(" ".join(_text(a) for a in p.xpath("//div[contains(@class, 'alert-secondary')]//a")),
                 _text(p.xpath("//div[contains(@class, 'alert-secondary')]")[0])) for p in pages]

    for links, text in empty_state("auditor"):  # was «Запустить анализ» → a page without the button
        assert links == "" and "ещё не выполнен" in text and "когда анализ запустят" in text
    for links, _ in empty_state("official"):
        assert links == "Запустить анализ"


# --- a long cycle history comes in pages ------------------------------------------------------------------------------

def test_a_finished_cycles_history_comes_in_pages_that_reach_its_start(demo, client):
    from sqlalchemy import func

    from app.audit.models import AuditEvent

    cycle_id, count = demo.execute(select(AuditEvent.cycle_id, func.count()).where(AuditEvent.cycle_id.is_not(None))
                                   .group_by(AuditEvent.cycle_id).order_by(func.count().desc())).first()
    assert count > 100
    _login(client, "official")
    url, seen, pages = f"/cycles/{cycle_id}/history", 0, 0
    while url:
        page = _page(client, url)
        rows = page.xpath("//table[@id='history']/tbody/tr")
        assert 0 < len(rows) <= 50       # was every event on one page (191 rows, 40 000 px at 1366)
        seen, pages = seen + len(rows), pages + 1
        older = page.xpath("//nav[@id='history-pages']//a[contains(., 'Более ранние')]/@href")
        url = older[0] if older else None
        if pages > 1:
            assert page.xpath("//nav[@id='history-pages']//a[contains(., 'К последним')]")
    assert seen == count and pages == -(-count // 50)


# --- the situational centre lists organisations in the order of the names it shows ------------------------------------

def test_the_situational_centre_orders_rows_by_the_names_it_shows(demo, client):
    from app.core.russian import sort_key
    from app.orgs.models import Organisation

    region = demo.scalars(select(Organisation).where(Organisation.code == "DEMO")).one()
    mun = demo.scalars(select(Organisation).where(Organisation.code == "MUN01")).one()
    _login(client, "region_official")

    def first_columns(url):
        page = _page(client, url)
        tables = page.xpath("//main//table[contains(@class, 'situation')]")
        names = []
        for table in tables:
            rows = table.xpath("./tbody/tr[td][not(@id='idle-organisations')]")
            cells = [_text(tr.xpath("td")[0]) for tr in rows]
            # the page's organisation's own cycles come first, before the organisations under it
            own = [i for i, c in enumerate(cells) if c.endswith("(собственные циклы)")]
            assert own in ([], [0]), cells
            names.append([c for c in cells[len(own):] if c and not c.startswith("Итого")])
        return names

    for names in first_columns(f"/situation/orgs/{region.id}"):
        assert names[:2] == ["ГО Северный", "Озёрный МР"]      # was Озёрный first: «Администрация…» < «Управление…»
    both = 0
    for names in first_columns(f"/situation/orgs/{mun.id}"):
        shown = [n for i, n in enumerate(names) if n not in names[:i]]   # the cycles table repeats no name
        assert shown == sorted(shown, key=sort_key), shown
        if {"СОШ № 4", "СОШ № 10"} <= set(shown):  # (the cycles table names the schools without one in its last line)
            assert shown.index("СОШ № 4") < shown.index("СОШ № 10")    # was «СОШ № 10» before «СОШ № 1»
            both += 1
    assert both
    names = first_columns(f"/situation/orgs/{mun.id}?sort=name&dir=desc")[0]
    assert names == sorted(names, key=sort_key, reverse=True)


def test_analysis_tables_and_the_organisation_page_list_schools_by_the_names_shown(demo, client):
    from app.analysis.models import AnalysisRun
    from app.core.russian import sort_key
    from app.orgs.models import Organisation

    run = demo.scalars(select(AnalysisRun).where(AnalysisRun.status == "done").order_by(AnalysisRun.id.desc())).first()
    mun = demo.scalars(select(Organisation).where(Organisation.code == "MUN01")).one()
    _login(client, "official")
    page = _page(client, f"/analysis/cycles/{run.cycle_id}/low-results")
    # The ШНОР, ШНСУ and resilient lists by name (the social index table is ordered by its value).
    lists = [[_text(tr.xpath("td")[0]) for tr in table.xpath("./tbody/tr[td]")]
             for table in page.xpath("//main//table[@id='shnor' or @id='shnsu' or @id='resilient']")]
    assert any(len(names) > 1 for names in lists), lists
    for names in lists:
        assert names == sorted(names, key=sort_key), names
    page = _page(client, f"/orgs/{mun.id}")
    children = [_text(a) for a in page.xpath("//h2[contains(., 'Подведомственные')]/following-sibling::ul[1]/li/a")]
    assert "СОШ № 10" in children and children == sorted(children, key=sort_key), children

"""Registration journals by kind of document: defaults, number formats, the type → journal mapping, the admin page."""

import pytest
from sqlalchemy import func, select

from app.core.errors import ValidationFailed
from app.documents import journals
from app.documents.models import DocumentJournal, JournalType


def test_defaults_are_created_once_and_every_type_has_a_journal(world, db_session):
    from app.documents.catalogue import document_types

    org = world["mun"]
    assert not journals.is_set_up(org)
    journals.ensure_journals(org)
    journals.ensure_journals(org)
    codes = [j.code for j in journals.journals_of(org)]
    assert codes == ["orders", "letters", "protocols", "local_acts", "plans", "reports", "conclusions", "other"]
    mapping = journals.mapping_of(org)
    assert set(mapping) == set(document_types())
    assert {k: mapping[k].code for k in ("monitoring_order", "decision_order", "data_request_letter", "protocol",
                                         "regulation", "roadmap", "analytic_report")} == {
        "monitoring_order": "orders", "decision_order": "orders", "data_request_letter": "letters",
        "protocol": "protocols", "regulation": "local_acts", "roadmap": "plans", "analytic_report": "reports"}
    assert mapping["monitoring_order"].format(12) == "12-од"
    assert mapping["data_request_letter"].format(123) == "01-15/123"
    assert mapping["protocol"].format(3) == "3"
    db_session.rollback()


def test_a_type_added_later_goes_to_the_other_journal(world, db_session):
    org = world["mun"]
    journals.ensure_journals(org)
    db_session.execute(JournalType.__table__.delete().where(JournalType.type_key == "roadmap"))
    assert journals.journal_for(org, "roadmap").code == "other"
    db_session.rollback()


def test_administrator_changes_formats_and_mapping_with_russian_refusals(world, db_session):
    org, admin = world["mun"], world["admin"]
    journals.ensure_journals(org)
    orders = journals.journal_for(org, "monitoring_order")
    journals.update_journal(orders, data={"title": "Приказы по основной деятельности", "prefix": "",
                                          "suffix": "-о", "file_index": "01-09"}, actor=admin)
    assert orders.format(7) == "01-09/7-о"
    with pytest.raises(ValidationFailed) as refused:
        journals.update_journal(orders, data={"title": " ", "prefix": "А Б", "suffix": "", "file_index": ""},
                                actor=admin)
    assert refused.value.problems == ["Префикс: только буквы, цифры и знаки «-», «/», «.» без пробелов.",
                                      "Укажите название журнала."]
    protocols = journals.journal_for(org, "protocol")
    with pytest.raises(ValidationFailed) as same:
        journals.update_journal(orders, data={"title": "Приказы", "prefix": "", "suffix": "", "file_index": ""},
                                actor=admin)
    assert "Такой же формат номера уже у журнала «Протоколы совещаний»" in same.value.problems[0]
    assert orders.suffix == "-о"
    staff = journals.create_journal(org, code="orders_staff", actor=admin,
                                    data={"title": "Приказы по личному составу", "suffix": "-лс"})
    with pytest.raises(ValidationFailed, match="не сохранён"):
        journals.create_journal(org, code="orders_staff", actor=admin, data={"title": "Ещё", "suffix": "-x"})
    with pytest.raises(ValidationFailed):
        journals.create_journal(org, code="Плохой код", actor=admin, data={"title": "Ещё", "suffix": "-y"})
    assert journals.set_type_journals(org, {"event_order": staff.id, "protocol": protocols.id}, actor=admin) == 1
    assert journals.journal_for(org, "event_order").code == "orders_staff"
    other_org_journal = journals.journal_for(world["school_a"], "protocol")
    with pytest.raises(ValidationFailed) as foreign:
        journals.set_type_journals(org, {"protocol": other_org_journal.id, "nonsense": staff.id}, actor=admin)
    assert foreign.value.problems == ["Неизвестный вид документа «nonsense».",
                                      "«Протокол совещания»: журнал не найден в этой организации."]
    db_session.rollback()


def test_journals_page_for_administrators(world, client, login, db_session):
    org = world["mun"]
    login(world["admin"])
    page = client.get(f"/documents/journals/{org.id}").get_data(as_text=True)
    assert "Журналы ещё не настроены" in page and "№ 12-од" in page and "№ 01-15/12" in page
    assert client.post(f"/documents/journals/{org.id}/setup").status_code == 302
    page = client.get(f"/documents/journals/{org.id}").get_data(as_text=True)
    assert 'data-journal="orders"' in page and "Какой вид документа в каком журнале" in page
    orders = db_session.scalar(select(DocumentJournal).where(DocumentJournal.organisation_id == org.id,
                                                             DocumentJournal.code == "orders"))
    bad = client.post(f"/documents/journals/edit/{orders.id}", data={"title": "Приказы", "suffix": "- од"})
    assert bad.status_code == 422 and "Суффикс: только буквы" in bad.get_data(as_text=True)
    ok = client.post(f"/documents/journals/edit/{orders.id}", data={"title": "Приказы (основная деятельность)",
                                                                    "suffix": "-ОД", "prefix": "", "file_index": ""})
    assert ok.status_code == 302
    db_session.refresh(orders)
    assert (orders.title, orders.format(5)) == ("Приказы (основная деятельность)", "5-ОД")
    new = client.post(f"/documents/journals/{org.id}/new", data={"code": "orders_staff", "title": "Приказы по л/с",
                                                                "suffix": "-лс"})
    assert new.status_code == 302
    staff = db_session.scalar(select(DocumentJournal).where(DocumentJournal.code == "orders_staff"))
    moved = client.post(f"/documents/journals/{org.id}/types", data={"type-event_order": str(staff.id)})
    assert moved.status_code == 302
    assert journals.journal_for(org, "event_order").id == staff.id
    assert db_session.scalar(select(func.count()).select_from(JournalType)
                             .where(JournalType.organisation_id == org.id, JournalType.journal_id == staff.id)) == 1
    # Numbers themselves: tests/test_documents.py and the PostgreSQL race in tests/test_documents_jobs.py.
    client.post("/logout")
    login(world["official"])
    assert client.get(f"/documents/journals/{org.id}").status_code in (403, 404)
    assert client.post(f"/documents/journals/{org.id}/setup").status_code in (403, 404)

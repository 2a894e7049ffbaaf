"""Russian of names and positions on documents made from harder data than the demo's (PDF review of 5 December
2026): a double given name, a position that starts with an adverb, a deputy who signs for the absent head."""

import pytest

from app.core import russian as ru
from tests.conftest import PASSWORD


@pytest.mark.parametrize("position, dative, genitive", [
    # «Временно» in front kept the whole position in the nominative: «Временно исполняющий обязанности директора»
    # stood in the addressee block of a letter.
    ("Временно исполняющий обязанности начальника управления", "Временно исполняющему обязанности начальника "
     "управления", "Временно исполняющего обязанности начальника управления"),
    ("Временно исполняющая обязанности директора", "Временно исполняющей обязанности директора",
     "Временно исполняющей обязанности директора"),
    ("Исполняющий обязанности директора", "Исполняющему обязанности директора",
     "Исполняющего обязанности директора"),
    ("Заместитель министра образования Камчатского края", "Заместителю министра образования Камчатского края",
     "Заместителя министра образования Камчатского края"),
])
def test_a_position_is_declined_with_an_adverb_in_front(position, dative, genitive):
    assert ru.dative(position) == dative
    assert ru.genitive(position) == genitive


def test_a_double_given_name_keeps_an_initial_for_each_part():
    # «А.С. Римская-Корсакова» for Анна-Мария Сергеевна lost the second name's initial
    name = "Римская-Корсакова Анна-Мария Сергеевна"
    assert ru.initials_surname(name) == "А.-М.С. Римская-Корсакова"
    assert ru.name_dative(name) == "А.-М.С. Римской-Корсаковой"
    assert ru.surname_initials(name) == "Римская-Корсакова А.-М.С."
    # an already shortened name is read back the same way
    assert ru.name_dative("А.-М.С. Римская-Корсакова") == "А.-М.С. Римской-Корсаковой"
    assert ru.initials_surname("Ковалёва Наталья Ивановна") == "Н.И. Ковалёва"


def test_the_acting_position_of_a_deputy():
    assert ru.acting_position("Начальник управления образования") == \
        "Исполняющий обязанности начальника управления образования"
    assert ru.acting_position("Министр образования Демонстрационной области") == \
        "Исполняющий обязанности министра образования Демонстрационной области"
    # the absent one who was acting themselves: said once
    assert ru.acting_position("Временно исполняющий обязанности директора") == \
        "Временно исполняющий обязанности директора"


def test_a_deputy_signs_for_the_absent_head_as_acting_head(world, goal_stage, head_on_leave, deputy_of_head,
                                                            db_session):
    """The deputy (a specialist standing in for the head on leave) signed the положение under their own position;
    the registered copy's signature block and лист удостоверения said «Главный специалист … А.С. Заместова» under the
    head's УТВЕРЖДАЮ. They sign as «Исполняющий обязанности начальника управления образования» (a deputy whose own
    position says «Заместитель …» keeps it: tests/test_documents.py)."""
    from app.documents import services
    from app.jobs.queue import dispatch_ready
    from tests.test_document_templates import document_text
    from tests.test_documents_registered import register

    world["head"].position = "Начальник управления образования"
    deputy_of_head.position = "Главный специалист управления образования"
    db_session.commit()
    doc = services.generate_document(goal_stage, "regulation", actor=world["official"])
    db_session.commit()
    dispatch_ready()
    db_session.refresh(doc)
    services.transition(doc, "to_approval", actor=world["official"])
    services.decide_step(doc, "approved", actor=world["methodologist"])
    signature = services.sign_document(doc, actor=deputy_of_head, password=PASSWORD)
    db_session.commit()
    assert signature.signer_name == deputy_of_head.full_name
    assert signature.signer_position == "Исполняющий обязанности начальника управления образования"
    version = register(doc, world, db_session)
    assert version.registered_status == "done", version.registered_error
    _, text = document_text(services.registered_path(version).read_bytes())
    assert "Исполняющий обязанности начальника управления образования" in text
    assert "А.С.\u00a0Заместова" in text
    assert "Главный специалист управления образования" not in text


def test_the_signing_position_of_a_deputy():
    assert ru.signing_position("Методист ИМЦ", "Начальник управления образования") == \
        "Исполняющий обязанности начальника управления образования"
    # ГОСТ Р 7.0.97, п. 5.23: a deputy's actual position is theirs («Заместитель …»), an acting one's too
    assert ru.signing_position("Заместитель начальника", "Начальник управления образования") == \
        "Заместитель начальника"
    assert ru.signing_position("Первый заместитель министра", "Министр") == "Первый заместитель министра"
    assert ru.signing_position("И.о. директора", "Директор") == "И.о. директора"
    assert ru.signing_position(None, None) == "Исполняющий обязанности руководителя"


def test_the_head_signing_in_person_keeps_their_own_position(world, goal_stage, db_session):
    from tests.test_documents_registered import signed_regulation

    world["head"].position = "Начальник управления образования"
    db_session.commit()
    doc = signed_regulation(world, goal_stage, db_session)
    assert doc.current.signatures[-1].signer_position == "Начальник управления образования"


@pytest.mark.parametrize("executor, label", [
    ("руководители образовательных организаций", "Ответственные"),
    ("муниципальные координаторы (приложение № 2)", "Ответственные"),
    ("М.И. Петрова, главный специалист управления образования", "Ответственный"),
    ("Методист ИМЦ", "Ответственный"),
    ("", "Ответственный"),
])
def test_the_responsible_label_agrees_with_the_executor(executor, label):
    assert ru.responsible_label(executor) == label


def test_the_lists_of_the_registered_copy_keep_a_signers_name_whole(demo):
    """The лист удостоверения of the demo's registered 08-70 order ended a line with «…области, В.Н.» and began the
    next with «Полякова»: the signer's and the approvers' names keep their initials with the surname."""
    from sqlalchemy import select

    from app.documents import storage
    from app.documents.models import Document
    from app.documents.registered import approval_rows, stamp_lines
    from tests.test_document_templates import document_text

    version = next(d.current for d in demo.scalars(select(Document).where(Document.type_key == "assessment_order")))
    signature = next(s for s in version.signatures if s.meaning == "подписано")
    # the lines themselves stay plain (the evidence package's manifest reads them); the page glues the names
    lines = dict(stamp_lines(version, signature))
    assert lines["Документ подписал (отметка «подписано»)"] == \
        "Министр образования Демонстрационной области, В.Н. Полякова"
    doc, text = document_text(storage.registered_path(version).read_bytes())
    assert "Документ подписал (отметка «подписано»): Министр образования Демонстрационной области, " \
           "В.Н.\u00a0Полякова" in text
    visas = doc.tables[-1]
    names = [row.cells[1].text for row in visas.rows[1:]]
    assert names == [row[1].replace(" ", "\u00a0") for row in approval_rows(version)] and names

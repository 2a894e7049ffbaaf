"""Documents of the demo's closed cycle made from harder data than the demo's own (PDF review of 5 December 2026):
an addressee with a long full name and no abbreviation in front, double-barrelled names of the head and the
addressee, forty recommendations."""

from sqlalchemy import select

from app.documents import lint


def _closed_cycle(db):
    from app.cycles.models import Cycle

    return next(c for c in db.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")


def _org(db, code):
    from app.orgs.models import Organisation

    return db.scalars(select(Organisation).where(Organisation.code == code)).one()


def _user(db, login):
    from app.auth.models import User

    return db.scalars(select(User).where(User.login == login)).one()


LONG = ("Муниципальное бюджетное общеобразовательное учреждение «Средняя общеобразовательная школа № 12 "
        "с углублённым изучением отдельных предметов имени Героя Советского Союза Ивана Степановича Полбина»")


def test_addressed_recommendations_to_a_long_full_name_and_double_barrelled_people(demo):
    from app.documents import contexts, rendering
    from tests.test_document_templates import document_text

    school = _org(demo, "MUN01-S03")
    school.name, school.short_name = LONG, "МБОУ «СОШ № 12 имени Героя Советского Союза И.С. Полбина»"
    head = _user(demo, "head")
    head.full_name = "Римская-Корсакова Анна-Мария Сергеевна"
    _user(demo, "director3").full_name = "Ким-Ковалевская Ирина Вячеславовна"
    demo.flush()
    stage = _closed_cycle(demo).stage("REC")
    ctx = contexts.build_context("addressed_recommendations", stage, addressee=school)
    data = rendering.render("addressed_recommendations", ctx)
    _, text = document_text(data)
    # «для» governs the genitive: it printed «для Муниципальное бюджетное общеобразовательное учреждение «…»»
    assert "адресные рекомендации для муниципального бюджетного общеобразовательного учреждения «Средняя" in text
    assert "для Муниципальное" not in text
    # the head's double given name has two initials, the names do not part at the hyphen or after the initials
    assert "А.\u2011М.С.\u00a0Римская\u2011Корсакова" in text
    assert "И.В.\u00a0Ким\u2011Ковалевской" in text
    assert not lint.lint(data)


def test_a_deputy_in_the_addressee_block_is_in_the_dative(demo):
    from app.documents import contexts, rendering
    from tests.test_document_templates import document_text

    school = _org(demo, "MUN01-S03")
    school.head_position = "Временно исполняющий обязанности директора"
    demo.flush()
    stage = _closed_cycle(demo).stage("REC")
    ctx = contexts.build_context("addressed_recommendations", stage, addressee=school)
    _, text = document_text(rendering.render("addressed_recommendations", ctx))
    assert "Временно исполняющему обязанности директора МОУ «Гимназия №\u00a03»" in text


def test_a_long_position_wraps_beside_the_name_and_the_name_stays_whole(demo, tmp_path):
    """The signature block with a long position and a double-barrelled name, read in LibreOffice: with a tab stop the
    name went past the margin and broke at its hyphen («… молодёжной политики  А.С. Римская-» / «Корсакова»). The
    position wraps in its own cell and the name stands whole at the right margin, on the level of the position's
    last line (ГОСТ Р 7.0.97, п. 5.23)."""
    from app.documents import contexts, rendering
    from tests import services as svc
    from tests.test_documents_pdf import _convert_all

    soffice = svc.require_soffice()
    head = _user(demo, "head")
    head.full_name = "Римская-Корсакова Анна-Мария Сергеевна"
    head.position = "Начальник управления образования и молодёжной политики"
    _org(demo, "MUN01").head_position = head.position
    demo.flush()
    cycle = _closed_cycle(demo)
    files = {key: rendering.render(key, contexts.build_context(key, cycle.stage(stage)))
             for key, stage in (("monitoring_order", "MON"), ("decision_order", "DEC"))}
    # In a narrow table column the name may break at its hyphen (unbreakable, LibreOffice cut «Римская-Корсако» /
    # «ва» in the roadmap's «Ответственный»): only the signature's and the addressee's hyphens are glued (the
    # initials keep to the surname everywhere).
    from tests.test_document_templates import document_text

    doc, _ = document_text(files["decision_order"])
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    assert any("А.-М.С.\u00a0Римская-Корсакова, начальник" in cell for cell in cells), cells
    for key, pages in _convert_all(soffice, files, tmp_path).items():
        # pdftotext gives the non-breaking hyphen back as «-»
        lines = [line.strip().replace("\u2011", "-") for page in pages for line in page.splitlines() if line.strip()]
        signed = [line for line in lines if "Римская-Корсакова" in line]
        assert signed, (key, lines[-12:])
        line = signed[-1]
        assert line.startswith("молодёжной политики") and line.endswith("А.-М.С. Римская-Корсакова"), \
            (key, lines[-12:])
        assert not any(line.endswith("Римская-") for line in lines), key


def test_an_order_names_a_group_of_executors_in_the_plural(demo):
    """«Ответственный: руководители образовательных организаций» (the monitoring and event orders), «Ответственный:
    муниципальные координаторы» (the 08-70 order): the label agrees with a plural group; one person keeps it
    singular."""
    from app.documents import contexts, lint, rendering
    from app.documents.catalogue import document_types
    from tests.test_document_templates import document_text

    cycle = _closed_cycle(demo)
    texts = {}
    for key in ("monitoring_order", "event_order"):
        ctx = contexts.build_context(key, cycle.stage(document_types()[key].stages[0]))
        texts[key] = document_text(rendering.render(key, ctx))[1]
    texts["assessment_order"] = next(document_text(data)[1] for label, data, registered in lint.demo_documents()
                                     if label.startswith("Приказ о проведении мониторинга механизмов")
                                     and "(проект," in label)
    for key, text in texts.items():
        assert "Ответственный: руководители" not in text and "Ответственный: муниципальные" not in text, key
        assert "Ответственные: " in text and "Ответственный: " in text, key
    assert "Ответственные: руководители образовательных организаций." in texts["monitoring_order"]
    assert "Ответственные: муниципальные координаторы" in texts["assessment_order"]


def test_the_ministry_order_names_the_minister_who_signs_it(demo):
    """Two users hold the head role at the ministry: a head of department (created first) and the minister. The 08-70
    order's draft — the file the minister then signs — named «Начальник отдела … министерства К.Б. Зайцев» under
    the ministry's ПРИКАЗ. The organisation's «должность руководителя» («Министр») picks the minister."""
    from app.documents import lint
    from tests.test_document_templates import document_text, plain

    text = plain(next(document_text(data)[1] for label, data, registered in lint.demo_documents()
                      if label.startswith("Приказ о проведении мониторинга механизмов") and "(проект," in label))
    assert "В.Н. Полякова" in text and "Министр образования Демонстрационной области" in text
    assert "К.Б. Зайцев" not in text


def test_the_place_of_issue_is_the_town_of_the_issuers_address(demo):
    """ГОСТ Р 7.0.97 место составления: the town, not the territory's short name («ГО Северный»; a ministry's order
    said «Демонстрационная область»). An issuer without an address keeps its territory's name."""
    from app.documents import contexts, lint, rendering
    from tests.test_document_templates import document_text

    cycle = _closed_cycle(demo)
    ctx = contexts.build_context("monitoring_order", cycle.stage("MON"))
    assert ctx["org"]["place"] == "г. Северный"
    lines = document_text(rendering.render("monitoring_order", ctx))[1].splitlines()
    assert "г. Северный" in lines and "ГО Северный" not in lines
    order = next(document_text(data)[1] for label, data, registered in lint.demo_documents()
                 if label.startswith("Приказ о проведении мониторинга механизмов") and "(проект," in label)
    assert "г. Демоград" in order.splitlines() and "Демонстрационная область" not in order.splitlines()
    mun = _org(demo, "MUN01")
    mun.address = None
    demo.flush()
    assert contexts.build_context("monitoring_order", cycle.stage("MON"))["org"]["place"] == "ГО Северный"

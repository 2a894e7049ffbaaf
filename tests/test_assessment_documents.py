"""The documents of an assessment campaign (issue 16, item 9; app/assessment/documents.py) made through the documents
feature: the regional order, the expert's conclusion per municipality and the region's analytical report — their
content, approval / signature / registration, the closing guard of the campaign, access, and LibreOffice opening them.
"""

import io
import re
import subprocess
from datetime import date, timedelta

import pytest
from docx import Document as Docx
from sqlalchemy import select

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
from tests import services as svc
from tests.conftest import PASSWORD


def text_of(data: bytes) -> str:
    docx = Docx(io.BytesIO(data))
    parts = [p.text for p in docx.paragraphs]
    for table in docx.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    for section in docx.sections:
        parts += [p.text for part in (section.header, section.first_page_header) for p in part.paragraphs]
    return "\n".join(parts)


@pytest.fixture
def camp(world, make_org, make_user, db_session):
    """A published campaign of world["region"] (window opening today) over two municipalities, M1.1 and M1.2: A is
    world["mun"] coordinated by world["official"], B a second municipality with its own coordinator; one expert
    each. The region's official manages it, the region's head signs the orders and approves the evaluations."""
    from app.assessment import services
    from app.assessment.criteria import load_criteria, published_sets

    load_criteria()
    cset = published_sets()[0]
    region, mun_a = world["region"], world["mun"]
    region.phone = "+7 (351) 263-42-04"  # the executor mark's phone (a registered copy has no blank requisite)
    mun_b = make_org("municipality", parent=region, code="MUN-B", name="Управление образования Заречного района")
    coordinator_b = make_user("official", mun_b, login="official_b", full_name="Заречная Анна Сергеевна")
    manager = make_user("official", region, login="reg_official", full_name="Регионова Ольга Петровна",
                        position="Консультант отдела оценки качества")
    head = make_user("head", region, login="reg_head", full_name="Начальникова Ирина Львовна",
                     position="Начальник управления")
    # agrees the region's documents the manager prepares (who prepares a document does not agree it)
    lawyer = make_user("official", region, login="reg_lawyer", full_name="Правова Елена Сергеевна",
                       position="Консультант правового отдела")
    expert2 = make_user("expert", region, login="expert2", full_name="Экспертова Галина Викторовна")
    today = date.today()
    campaign = services.create_campaign(
        region, actor=manager, title="Мониторинг механизмов 2026", period="2025/26", window_start=today,
        window_end=today + timedelta(days=45), criteria_set_id=cset.id, mechanisms=["M1.1", "M1.2"],
        municipality_ids=[mun_a.id, mun_b.id])
    services.appoint_coordinator(campaign, municipality_id=mun_a.id, user_id=world["official"].id, actor=manager)
    services.appoint_coordinator(campaign, municipality_id=mun_b.id, user_id=coordinator_b.id, actor=manager)
    entries = [services.add_expert(region, actor=manager, user_id=user.id, organisation_id=region.id,
                                   position="Региональный эксперт", competences=list(cset.mechanism_codes()),
                                   included_on=today, basis="приказ от 01.06.2026 № 1-од",
                                   mechanism_codes=cset.mechanism_codes()) for user in (world["expert"], expert2)]
    for mun, entry in ((mun_a, entries[0]), (mun_b, entries[1])):
        for code in ("M1.1", "M1.2"):
            services.assign_expert(campaign, municipality_id=mun.id, mechanism_code=code, expert_id=entry.id,
                                   actor=manager)
    services.publish_campaign(campaign, actor=manager)
    db_session.commit()
    return {"campaign": campaign, "manager": manager, "head": head, "lawyer": lawyer, "mun_a": mun_a, "mun_b": mun_b,
            "coordinator_a": world["official"], "coordinator_b": coordinator_b, "expert_a": world["expert"],
            "expert_b": expert2}


def approve_a(camp, world, db_session, code="M1.1"):
    """Municipality A's self-assessment of `code` (the proposed points) and the expert's evaluation: one criterion
    scored lower with a comment; approved by the region's head."""
    from app.assessment import services

    campaign, mun, today = camp["campaign"], camp["mun_a"], date.today()
    sa = services.self_assessment_for(campaign, mun.id, code)
    scores = services.scores_of(campaign, mun.id, code)
    services.save_self_scores(sa, actor=camp["coordinator_a"], today=today,
                              entries={s.id: (s.criterion.max_points, None, s.version) for s in scores})
    services.transition_self(sa, "submit", actor=camp["coordinator_a"], today=today)
    scores = services.scores_of(campaign, mun.id, code)
    entries = {s.id: (s.criterion.max_points, None, s.version) for s in scores}
    entries[scores[0].id] = (0, "Положение о системе оценки не зарегистрировано", scores[0].version)
    assignment = services.assignment_for(campaign, mun.id, code)
    services.save_expert_scores(assignment, actor=camp["expert_a"], entries=entries, today=today)
    services.transition_evaluation(assignment, "submit", actor=camp["expert_a"], today=today)
    services.transition_evaluation(assignment, "approve", actor=camp["head"], today=today)
    db_session.commit()
    return scores


def generated(doc, db_session):
    from app.jobs.queue import dispatch_ready

    db_session.commit()
    dispatch_ready()  # the generation job, inline, after the commit (as after a request)
    db_session.refresh(doc)
    assert doc.current.status == "done", doc.current.error
    return doc


def register(doc, actor, db_session):
    from app.documents import services
    from app.jobs.queue import dispatch_ready

    services.transition(doc, "register", actor=actor)
    db_session.commit()
    dispatch_ready()
    db_session.refresh(doc.current)
    assert doc.current.registered_status == "done", doc.current.registered_error
    return doc.current


def route_and_sign(doc, camp, db_session, *, signer):
    from app.documents import services

    if doc.doc_type.approval_route:
        services.transition(doc, "to_approval", actor=camp["manager"])
        services.decide_step(doc, "approved", actor=camp["lawyer"])
    else:
        services.transition(doc, "to_signature", actor=camp["manager"])
    services.sign_document(doc, actor=signer, password=PASSWORD)
    db_session.commit()


# --- the order --------------------------------------------------------------------------------------------------

def test_the_order_names_the_window_the_order_the_coordinators_and_the_experts_and_is_registered_as_an_order(
        camp, world, db_session):
    from app.assessment import documents
    from app.documents import lint, storage

    campaign = camp["campaign"]
    doc = generated(documents.generate_campaign_document(campaign, documents.ORDER, actor=camp["manager"]),
                    db_session)
    assert doc.owner_type == "assessment_campaign" and doc.owner_id == campaign.id and doc.cycle_id is None
    assert doc.organisation.id == world["region"].id
    text = text_of(storage.version_path(doc.current).read_bytes())
    start, end = campaign.window_start, campaign.window_end
    for expected in ("ПРИКАЗ", "ПРОЕКТ", "О проведении мониторинга муниципальных механизмов управления качеством "
                     "образования в 2025/26 учебном году", f"с {start:%d.%m.%Y} по {end:%d.%m.%Y}",
                     "Приложение №\u00a01", "Порядок проведения мониторинга", "Приложение №\u00a02",
                     "Приложение №\u00a03",
                     camp["coordinator_a"].full_name, camp["coordinator_b"].full_name, camp["expert_a"].full_name,
                     camp["expert_b"].full_name, camp["mun_b"].name, "ПРИКАЗЫВАЮ", "письмом Рособрнадзора"):
        assert expected in text, expected
    assert "M1.1" not in text and "M1.2" not in text  # mechanisms in words, never their codes
    route_and_sign(doc, camp, db_session, signer=camp["head"])
    version = register(doc, camp["manager"], db_session)
    assert doc.state == "registered" and re.fullmatch(r"\d+-од", version.registration_number)
    data = storage.registered_path(version).read_bytes()
    registered = text_of(data)
    assert f"№\u00a0{version.registration_number}" in registered and "ПРОЕКТ" not in registered
    assert "Лист согласования" in registered and "Регионова" in registered.split("Лист согласования")[1]
    assert lint.lint(data, registered=True) == []


def test_an_order_dated_after_the_window_opened_is_refused(camp, world, db_session):
    from app.assessment import documents
    from app.core.errors import ValidationFailed

    campaign = camp["campaign"]
    campaign.window_start = date.today() - timedelta(days=1)
    with pytest.raises(ValidationFailed) as refused:
        documents.generate_campaign_document(campaign, documents.ORDER, actor=camp["manager"])
    assert any("не может быть исполнен" in p for p in refused.value.problems)


def test_only_the_regions_editors_make_the_campaigns_documents(camp, world, db_session):
    from app.assessment import documents
    from app.core.errors import PermissionDenied, ValidationFailed

    with pytest.raises(PermissionDenied):
        documents.generate_campaign_document(camp["campaign"], documents.ORDER, actor=camp["coordinator_a"])
    with pytest.raises(ValidationFailed):
        documents.generate_campaign_document(camp["campaign"], documents.CONCLUSION, actor=camp["manager"])


# --- the expert's conclusion -----------------------------------------------------------------------------------

def test_the_conclusion_reports_the_approved_scores_per_mechanism_and_block_and_the_expert_signs_it(
        camp, world, db_session):
    from app.assessment import documents
    from app.assessment.criteria import level_label, level_of
    from app.core.errors import ValidationFailed
    from app.documents import lint, storage

    campaign, mun = camp["campaign"], camp["mun_a"]
    with pytest.raises(ValidationFailed) as refused:
        documents.generate_conclusion(campaign, mun.id, actor=camp["manager"])
    assert "нет утверждённой экспертной оценки" in refused.value.problems[0]
    scores = approve_a(camp, world, db_session)
    maximum = sum(s.criterion.max_points for s in scores)
    got = maximum - scores[0].criterion.max_points
    doc = generated(documents.generate_conclusion(campaign, mun.id, actor=camp["manager"]), db_session)
    assert doc.owner_type == "assessment_municipality" and doc.organisation.id == world["region"].id
    text = text_of(storage.version_path(doc.current).read_bytes())
    level = level_label(level_of(100 * got / maximum, campaign.criteria_set.thresholds))
    for expected in ("ЭКСПЕРТНОЕ ЗАКЛЮЧЕНИЕ", mun.name, camp["expert_a"].full_name, f"{got} из {maximum}",
                     f"уровень сформированности механизмов\u00a0— {level}", "Положение о системе оценки не "
                     "зарегистрировано", "Цели", "2. Оценка по блокам управленческого цикла", "4. Рекомендации"):
        assert expected in text, expected
    # the campaign's window is named as such: «Оценка проведена с 07.12.2026 по 05.02.2027» on a conclusion dated
    # 7 December said the evaluation had run to February
    assert f"Оценка проведена в рамках кампании «{campaign.title}» (срок проведения мониторинга\u00a0— с " in text
    assert "Оценка проведена с " not in text
    # M1.2 is not evaluated yet: the conclusion says so rather than reporting it (one mechanism: «по нему»)
    assert "Экспертная оценка механизма «" in text
    assert "не утверждена: заключение по нему составляется после утверждения оценки" in text
    assert camp["mun_b"].name not in text
    # no approval route: the manager passes it to the expert, who signs; registered in the conclusions' journal
    from app.core.errors import PermissionDenied
    from app.documents import services

    services.transition(doc, "to_signature", actor=camp["manager"])
    db_session.commit()
    with pytest.raises(PermissionDenied):
        services.sign_document(doc, actor=camp["head"], password=PASSWORD)
    db_session.rollback()
    # another expert of the region (assigned to B) holds the signer role but is not the one the conclusion names
    with pytest.raises(PermissionDenied) as refused:
        services.sign_document(doc, actor=camp["expert_b"], password=PASSWORD)
    assert camp["expert_a"].full_name in str(refused.value)
    db_session.rollback()
    services.sign_document(doc, actor=camp["expert_a"], password=PASSWORD)
    db_session.commit()
    version = register(doc, camp["manager"], db_session)
    assert version.registration_number.endswith("-эз")
    data = storage.registered_path(version).read_bytes()
    assert camp["expert_a"].full_name.split()[0] in text_of(data)  # the expert signed it (signature block)
    assert lint.lint(data, registered=True) == []


def test_every_row_of_the_conclusions_block_table_stands_under_its_mechanism_on_any_page(camp, world, db_session):
    """The table by blocks named the mechanism in its first row only (a column left blank below it): a reader of
    the next page saw scores without their mechanism. Each mechanism is a row across the table above its blocks,
    its rows keep together (a page never starts inside a mechanism) and the header row repeats on every page."""
    from docx.oxml.ns import qn

    from app.assessment import documents
    from app.assessment.documents import mechanism_titles
    from app.documents import storage

    approve_a(camp, world, db_session, "M1.1")
    approve_a(camp, world, db_session, "M1.2")
    doc = generated(documents.generate_conclusion(camp["campaign"], camp["mun_a"].id, actor=camp["manager"]),
                    db_session)
    docx = Docx(io.BytesIO(storage.version_path(doc.current).read_bytes()))
    table = next(t for t in docx.tables if "Блок" in [c.text for c in t.rows[0].cells])
    header, *rows = table.rows
    assert [c.text for c in header.cells] == ["№", "Блок", "Самооценка", "Эксперт", "Макс.", "Доля"]
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None
    titles = mechanism_titles(["M1.1", "M1.2"])
    groups = []  # (mechanism, its rows)
    for row in rows:
        cells = row._tr.findall(qn("w:tc"))
        if len(cells) == 1:  # one cell across the table: the mechanism's row
            assert cells[0].grid_span == 6
            groups.append((row.cells[0].text, []))
        else:
            assert groups, "a block row before any mechanism"
            groups[-1][1].append(row)
    assert [g for g, _ in groups] == [titles["M1.1"], titles["M1.2"]]

    def keeps(row):
        return all(p.paragraph_format.keep_with_next for c in row.cells for p in c.paragraphs)

    for _, block_rows in groups:
        assert block_rows and all(keeps(r) for r in block_rows[:-1]) and not keeps(block_rows[-1])


def registered_conclusion(camp, world, db_session):
    """The conclusion on municipality A, signed by its expert and registered: (the document, its registered edition)."""
    from app.assessment import documents
    from app.documents import services

    approve_a(camp, world, db_session)
    doc = generated(documents.generate_conclusion(camp["campaign"], camp["mun_a"].id, actor=camp["manager"]),
                    db_session)
    services.transition(doc, "to_signature", actor=camp["manager"])
    services.sign_document(doc, actor=camp["expert_a"], password=PASSWORD)
    db_session.commit()
    return doc, register(doc, camp["manager"], db_session)


def test_coordinators_and_schools_cannot_read_another_municipalitys_conclusion(camp, world, db_session, app):
    from app.documents import services

    doc, _version = registered_conclusion(camp, world, db_session)
    campaign_id, mun_a = camp["campaign"].id, camp["mun_a"].id
    page = f"/assessment/campaigns/{campaign_id}/municipalities/{mun_a}/conclusion"

    def client_of(user):
        client = app.test_client()
        assert client.post("/login", data={"login": user.login, "password": PASSWORD}).status_code in (200, 302)
        return client

    own = client_of(camp["coordinator_a"])
    response = own.get(page)
    assert response.status_code == 200 and doc.current.registration_number in response.get_data(as_text=True)
    download = own.get(page + "?download=1")
    assert download.status_code == 200 and download.data == services.registered_path(doc.current).read_bytes()
    # the coordinator has no role at the issuing region: the document's own page stays closed to them
    assert own.get(f"/documents/{doc.id}").status_code == 404
    for outsider in (camp["coordinator_b"], world["director_a"]):
        client = client_of(outsider)
        assert client.get(page).status_code == 404, outsider.login
        assert client.get(page + "?download=1").status_code == 404, outsider.login
        assert client.get(f"/documents/{doc.id}").status_code == 404, outsider.login
        assert client.get(f"/documents/versions/{doc.current.id}/registered").status_code == 404, outsider.login
    # an expert of the region assigned to B only: the conclusion on A is closed to them (the expert role counts at
    # the issuing region only for its own objects, not for documents about unassigned municipalities)
    other_expert = client_of(camp["expert_b"])
    for url in (page, f"/documents/{doc.id}", f"/documents/versions/{doc.current.id}/registered"):
        assert other_expert.get(url).status_code == 404, url
    assert client_of(camp["expert_a"]).get(f"/documents/{doc.id}").status_code == 200
    # the region's administrator and auditor read it
    assert client_of(world["auditor"]).get(f"/documents/{doc.id}").status_code == 200
    assert client_of(world["admin"]).get(page).status_code == 200


# --- the analytical report and the closing ---------------------------------------------------------------------

def test_the_campaign_closes_only_once_its_analytical_report_is_registered(camp, world, db_session):
    from app.assessment import documents
    from app.core.errors import GuardFailed
    from app.documents import lint, storage
    from workflows import engine

    campaign = camp["campaign"]
    approve_a(camp, world, db_session)
    with pytest.raises(GuardFailed) as refused:
        engine.fire(campaign, "close", actor=camp["manager"])
    assert refused.value.problems == ["Кампанию нельзя завершить: нет документа «Аналитический отчёт по результатам "
                                      "оценки механизмов управления качеством образования»: сформируйте его, "
                                      "подпишите и зарегистрируйте."]
    db_session.rollback()
    doc = generated(documents.generate_campaign_document(campaign, documents.REPORT, actor=camp["manager"]),
                    db_session)
    text = text_of(storage.version_path(doc.current).read_bytes())
    for expected in ("АНАЛИТИЧЕСКИЙ ОТЧЁТ", camp["mun_a"].name, "Проблемные зоны", "Самооценка и экспертная оценка",
                     "Динамика", "Рекомендуемые меры", "Предыдущая кампания мониторинга в системе не проводилась",
                     "срок проведения\u00a0— с"):
        assert expected in text, expected
    route_and_sign(doc, camp, db_session, signer=camp["head"])
    with pytest.raises(GuardFailed) as refused:  # signed is not enough: registered
        engine.fire(campaign, "close", actor=camp["manager"])
    assert "не зарегистрирован" in refused.value.problems[0]
    db_session.rollback()
    version = register(doc, camp["manager"], db_session)
    assert version.registration_number.endswith("-с")
    assert lint.lint(storage.registered_path(version).read_bytes(), registered=True) == []
    engine.fire(campaign, "close", actor=camp["manager"])
    db_session.commit()
    assert campaign.state == "closed"


def test_the_campaign_page_lists_its_documents_and_makes_them_for_the_manager_only(camp, world, db_session, app):
    from app.documents.models import Document

    campaign = camp["campaign"]

    def client_of(user):
        client = app.test_client()
        client.post("/login", data={"login": user.login, "password": PASSWORD})
        return client

    manager = client_of(camp["manager"])
    page = manager.get(f"/assessment/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="campaign-documents"' in page and "Приказ о проведении мониторинга" in page
    response = manager.post(f"/assessment/campaigns/{campaign.id}/documents", data={"type_key": "assessment_order"})
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.scalar(select(Document.type_key).where(Document.owner_id == campaign.id,
                                                              Document.owner_type == "assessment_campaign")) \
        == "assessment_order"
    coordinator = client_of(camp["coordinator_a"])
    response = coordinator.post(f"/assessment/campaigns/{campaign.id}/documents",
                                data={"type_key": "assessment_report"}, follow_redirects=True)
    assert "Недостаточно прав" in response.get_data(as_text=True)
    outsider = client_of(world["director_b"])
    assert outsider.post(f"/assessment/campaigns/{campaign.id}/documents",
                         data={"type_key": "assessment_report"}).status_code == 404


# --- the catalogue and the templates ---------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["assessment_order", "expert_conclusion", "assessment_report"])
def test_the_templates_use_exactly_the_variables_their_sidecars_declare(key):
    from app.documents import rendering
    from app.documents.catalogue import get_type

    assert get_type(key).owner in ("assessment_campaign", "assessment_municipality")
    assert rendering.undeclared_variables(key) == rendering.declared_variables(key)


def test_an_owner_type_names_its_owner_and_no_stages(tmp_path):
    from app.core.errors import ValidationFailed
    from app.documents import catalogue

    entry = {"key": "x", "title": "Икс", "family": "procedural", "stages": ["GOAL"], "mandatory_for": [],
             "per_addressee": False, "approval_route": [], "signer_roles": ["head"], "sign_meaning": "подписано",
             "registered": True, "template": "x", "subject": "owner"}
    with pytest.raises(ValidationFailed) as refused:
        catalogue.parse_catalogue({"types": [entry]})
    assert "называет владельца в поле «owner»" in refused.value.problems[0]
    parsed = catalogue.parse_catalogue({"types": [{**entry, "stages": [], "owner": "assessment_campaign"}]})
    assert parsed["x"].owner == "assessment_campaign"
    with pytest.raises(ValidationFailed):
        catalogue.parse_catalogue({"types": [{**entry, "subject": "stage", "owner": "assessment_campaign"}]})


def test_libreoffice_opens_the_three_documents(camp, world, db_session, tmp_path):
    from app.assessment import documents
    from app.documents import storage

    soffice = svc.require_soffice()
    approve_a(camp, world, db_session)
    campaign = camp["campaign"]
    docs = [generated(documents.generate_campaign_document(campaign, documents.ORDER, actor=camp["manager"]),
                      db_session),
            generated(documents.generate_conclusion(campaign, camp["mun_a"].id, actor=camp["manager"]), db_session),
            generated(documents.generate_campaign_document(campaign, documents.REPORT, actor=camp["manager"]),
                      db_session)]
    for doc in docs:
        (tmp_path / f"{doc.type_key}.docx").write_bytes(storage.version_path(doc.current).read_bytes())
    result = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                             "--convert-to", "pdf", "--outdir", str(tmp_path),
                             *sorted(str(p) for p in tmp_path.glob("*.docx"))],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for doc in docs:
        pdf = (tmp_path / f"{doc.type_key}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and re.search(rb"/Type\s*/Page\b", pdf), doc.type_key


def test_a_published_conclusion_is_not_served_on_the_public_portal(camp, world, db_session, client):
    """The portal lists the cycles' documents only (an assessment's documents are about named municipalities and
    experts): its download by id keeps to the same rule, even for a conclusion its registrar published."""
    from app.documents import services

    doc, version = registered_conclusion(camp, world, db_session)
    services.transition(doc, "publish", actor=camp["manager"])
    db_session.commit()
    assert doc.state == "published"
    assert client.get(f"/public/documents/{version.id}").status_code == 404
    assert doc.title not in client.get(f"/public/orgs/{camp['mun_a'].code}").get_data(as_text=True)

"""Access to the assessment of municipal mechanisms, through the pages: coordinators only their municipality,
experts only the municipalities assigned to them, the regional head approves, auditors read everything, schools
see nothing; and the pages a working day needs render for each of them."""

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD


@pytest.fixture
def two(world, make_org, make_user, db_session):
    """A published campaign over two municipalities: A (world «mun», coordinator «official», expert «expert») and
    B (coordinator «official_b», expert «expert_b»), mechanism M1.1."""
    from app.assessment import services
    from app.assessment.criteria import load_criteria, published_sets

    load_criteria()
    cset = published_sets()[0]
    region, mun_a = world["region"], world["mun"]
    mun_b = make_org("municipality", parent=region, code="MUN-B", name="Район Б")
    official_b = make_user("official", mun_b, login="official_b", full_name="Бэтова Дарья Сергеевна")
    expert_b = make_user("expert", region, login="expert_b", full_name="Экспертова Бэлла Андреевна")
    manager = make_user("official", region, login="reg_official", full_name="Регионова Ольга Петровна")
    head = make_user("head", region, login="reg_head", full_name="Начальникова Ирина Львовна")
    campaign = services.create_campaign(
        region, actor=manager, title="Мониторинг 2026", period="2025/26", window_start=date.today() - timedelta(days=1),
        window_end=date.today() + timedelta(days=30), criteria_set_id=cset.id, mechanisms=["M1.1"],
        municipality_ids=[mun_a.id, mun_b.id])
    services.appoint_coordinator(campaign, municipality_id=mun_a.id, user_id=world["official"].id, actor=manager)
    services.appoint_coordinator(campaign, municipality_id=mun_b.id, user_id=official_b.id, actor=manager)
    codes = cset.mechanism_codes()
    ea = services.add_expert(region, actor=manager, user_id=world["expert"].id, organisation_id=region.id,
                             position="эксперт", competences=["M1.1"], included_on=date.today(), basis="приказ № 1",
                             mechanism_codes=codes)
    eb = services.add_expert(region, actor=manager, user_id=expert_b.id, organisation_id=region.id,
                             position="эксперт", competences=["M1.1"], included_on=date.today(), basis="приказ № 1",
                             mechanism_codes=codes)
    services.assign_expert(campaign, municipality_id=mun_a.id, mechanism_code="M1.1", expert_id=ea.id, actor=manager)
    services.assign_expert(campaign, municipality_id=mun_b.id, mechanism_code="M1.1", expert_id=eb.id, actor=manager)
    services.publish_campaign(campaign, actor=manager)
    sa_b = services.self_assessment_for(campaign, mun_b.id, "M1.1")
    criterion = services.scores_of(campaign, mun_b.id, "M1.1")[0].criterion
    item_b = services.add_evidence(sa_b, actor=official_b, criterion_id=criterion.id, comment="протокол Б",
                                   stream=io.BytesIO(b"%PDF evidence of B"), filename="protokol-b.pdf")
    db_session.commit()
    return {"campaign": campaign, "manager": manager, "head": head, "official_b": official_b, "expert_b": expert_b,
            "expert_a_entry": ea, "mun_b": mun_b,
            "sa_a": services.self_assessment_for(campaign, mun_a.id, "M1.1"), "sa_b": sa_b,
            "as_a": services.assignment_for(campaign, mun_a.id, "M1.1"),
            "as_b": services.assignment_for(campaign, mun_b.id, "M1.1"), "item_b": item_b}


def _as(client, user):
    client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _pages_of_b(two):
    return [f"/assessment/self/{two['sa_b'].id}", f"/assessment/evaluations/{two['as_b'].id}",
            f"/assessment/evidence/{two['item_b'].id}"]


def test_an_expert_of_a_cannot_read_b_evidence_unless_assigned(app, world, two, db_session):
    from app.assessment import services

    expert_a = app.test_client()
    _as(expert_a, world["expert"])
    for path in _pages_of_b(two):
        assert expert_a.get(path).status_code == 404, path
    assert expert_a.get(f"/assessment/self/{two['sa_a'].id}").status_code == 200
    page = expert_a.get(f"/assessment/campaigns/{two['campaign'].id}").get_data(as_text=True)
    assert "Район Б" not in page and world["mun"].display_name in page
    # Assigned to B as well (the mechanism's expert replaced before any score): B's evidence opens.
    services.assign_expert(two["campaign"], municipality_id=two["mun_b"].id, mechanism_code="M1.1",
                           expert_id=two["expert_a_entry"].id, actor=two["manager"])
    db_session.commit()
    for path in _pages_of_b(two):
        assert expert_a.get(path).status_code == 200, path
    assert expert_a.get(f"/assessment/evidence/{two['item_b'].id}").data == b"%PDF evidence of B"


def test_evidence_whose_file_is_lost_from_storage_is_404_not_500(app, world, two, db_session):
    """Attack 2026-12: an evidence item whose file is missing from STORAGE_DIR (a restore without the files) was a
    500 (FileNotFoundError in the download); every stored-file download now answers 404 for a missing file."""
    from app.documents.attachments import attachment_path
    from app.documents.models import Attachment

    attachment_path(db_session.get(Attachment, two["item_b"].attachment_id)).unlink()
    auditor = app.test_client()
    _as(auditor, world["auditor"])
    assert auditor.get(f"/assessment/evidence/{two['item_b'].id}").status_code == 404


def test_an_expert_reads_cycles_documents_and_audit_only_of_assigned_municipalities(app, world, two, make_cycle,
                                                                                   db_session):
    """The expert role is valid only over the municipalities assigned to the expert in a published (or closed)
    campaign — through the one access policy, so cycles, documents and the audit log follow; a draft campaign's
    assignment grants nothing, and exclusion from the register takes it all away."""
    from app.assessment import services
    from app.documents.models import Document
    from tests.conftest import fill_goal

    cycle_a = make_cycle(world["mun"], world["official"])
    cycle_b = make_cycle(two["mun_b"], two["official_b"], mechanism="M1.2")
    fill_goal(cycle_b, two["official_b"])
    doc_b = db_session.scalar(select(Document).where(Document.cycle_id == cycle_b.id).limit(1))
    assert doc_b is not None
    # A draft campaign assigning the expert to B: not yet appointed by a published order.
    draft = services.create_campaign(
        world["region"], actor=two["manager"], title="Черновик", period="2025/26", window_start=date.today(),
        window_end=date.today() + timedelta(days=30), criteria_set_id=two["campaign"].criteria_set_id,
        mechanisms=["M1.1"], municipality_ids=[two["mun_b"].id])
    services.assign_expert(draft, municipality_id=two["mun_b"].id, mechanism_code="M1.1",
                           expert_id=two["expert_a_entry"].id, actor=two["manager"])
    db_session.commit()
    b_pages = [f"/cycles/{cycle_b.id}", f"/cycles/{cycle_b.id}/history", f"/documents/{doc_b.id}",
               f"/evidence/cycles/{cycle_b.id}", f"/situation/orgs/{two['mun_b'].id}"]

    expert_a = app.test_client()
    _as(expert_a, world["expert"])
    for path in b_pages:
        assert expert_a.get(path).status_code == 404, path
    assert expert_a.get(f"/cycles/{cycle_a.id}").status_code == 200
    audit = expert_a.get("/audit/").get_data(as_text=True)
    assert "Район Б" not in audit and world["mun"].name in audit
    assert expert_a.get(f"/situation/orgs/{world['region'].id}").status_code == 404  # not the whole region

    services.assign_expert(two["campaign"], municipality_id=two["mun_b"].id, mechanism_code="M1.1",
                           expert_id=two["expert_a_entry"].id, actor=two["manager"])
    db_session.commit()
    for path in b_pages:
        assert expert_a.get(path).status_code == 200, path
    assert "Район Б" in expert_a.get("/audit/").get_data(as_text=True)

    services.exclude_expert(two["expert_a_entry"], actor=two["manager"], on=date.today(), reason="приказ № 9")
    db_session.commit()
    for path in [*b_pages, f"/cycles/{cycle_a.id}", f"/assessment/evaluations/{two['as_a'].id}"]:
        assert expert_a.get(path).status_code == 404, path


def test_a_coordinator_sees_only_their_municipality(app, world, two):
    coordinator_a = app.test_client()
    _as(coordinator_a, world["official"])
    for path in _pages_of_b(two):
        assert coordinator_a.get(path).status_code == 404, path
    assert coordinator_a.get(f"/assessment/self/{two['sa_a'].id}").status_code == 200
    # Not the manager: appointing is refused, nothing changes.
    response = coordinator_a.post(f"/assessment/campaigns/{two['campaign'].id}/coordinator",
                                  data={"municipality_id": two["mun_b"].id, "user_id": world["official"].id})
    assert response.status_code == 403  # the campaign's page again with the reason (a redirect lost the choice)
    assert two["campaign"].municipalities[1].coordinator_id == two["official_b"].id


def test_schools_see_nothing_and_auditors_read_everything(app, world, two):
    school = app.test_client()
    _as(school, world["director_b"])
    assert "Мониторинг 2026" not in school.get("/assessment/").get_data(as_text=True)
    for path in [f"/assessment/campaigns/{two['campaign'].id}", *_pages_of_b(two),
                 f"/assessment/self/{two['sa_a'].id}"]:
        assert school.get(path).status_code == 404, path
    assert school.get("/assessment/experts").status_code == 403
    auditor = app.test_client()
    _as(auditor, world["auditor"])
    for path in [f"/assessment/campaigns/{two['campaign'].id}", *_pages_of_b(two), "/assessment/experts",
                 f"/assessment/criteria/{two['campaign'].criteria_set_id}"]:
        assert auditor.get(path).status_code == 200, path


def test_bad_scores_through_the_page_are_refused_with_a_russian_message(app, world, two, db_session):
    from app.assessment import services
    from app.audit.models import AuditEvent

    coordinator = app.test_client()
    _as(coordinator, world["official"])
    sa = two["sa_a"]
    score = services.scores_of(sa.campaign, sa.municipality_id, "M1.1")[0]
    audited = db_session.scalar(select(func.count()).select_from(AuditEvent))
    response = coordinator.post(f"/assessment/self/{sa.id}/scores", follow_redirects=True,
                                data={f"points-{score.id}": "7", f"version-{score.id}": score.version,
                                      "version": sa.version})
    assert "балл — целое число от 0 до 1" in response.get_data(as_text=True)
    db_session.expire_all()
    assert score.self_points is None
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == audited
    response = coordinator.post(f"/assessment/self/{sa.id}/scores", follow_redirects=True,
                                data={f"points-{score.id}": "1", f"comment-{score.id}": "есть приказ",
                                      f"version-{score.id}": score.version, "version": sa.version})
    assert "Самооценка сохранена" in response.get_data(as_text=True)
    db_session.expire_all()
    assert score.self_points == 1


def test_assessment_forms_without_their_versions_are_refused_as_incomplete(app, world, two, db_session):
    """The sheet's own version, a score's version and a transition's version: a form that sends none (absent or
    blank) is refused — it skipped the staleness check and overwrote what changed meanwhile — as an incomplete form,
    not as a stale one (nobody changed anything)."""
    from app.assessment import services
    from app.audit.models import AuditEvent

    coordinator = app.test_client()
    _as(coordinator, world["official"])
    sa = two["sa_a"]
    score = services.scores_of(sa.campaign, sa.municipality_id, "M1.1")[0]
    manager = app.test_client()
    _as(manager, two["manager"])
    audited = db_session.scalar(select(func.count()).select_from(AuditEvent))
    posts = [(f"/assessment/self/{sa.id}/scores", {f"points-{score.id}": "1", f"version-{score.id}": score.version}),
             (f"/assessment/self/{sa.id}/scores", {f"points-{score.id}": "1", f"version-{score.id}": score.version,
                                                   "version": " "}),
             (f"/assessment/self/{sa.id}/scores", {f"points-{score.id}": "1", "version": sa.version}),
             (f"/assessment/self/{sa.id}/scores", {f"points-{score.id}": "1", f"version-{score.id}": "",
                                                   "version": sa.version}),
             (f"/assessment/self/{sa.id}/transition", {"trigger": "submit"})]
    for client, (url, data) in [*((coordinator, post) for post in posts),
                                (manager, (f"/assessment/campaigns/{sa.campaign_id}/coordinator",
                                           {"municipality_id": sa.municipality_id, "user_id": world["official"].id}))]:
        response = client.post(url, data=data, follow_redirects=True)
        assert "Форма отправлена не полностью" in response.get_data(as_text=True), (url, data)
    db_session.expire_all()
    assert score.self_points is None and sa.state == "draft"
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == audited
    # The campaign page's own coordinator form sends its version (it sent none, which the check let through).
    import lxml.html

    page = lxml.html.fromstring(manager.get(f"/assessment/campaigns/{sa.campaign_id}").data)
    (form,) = [f for f in page.xpath("//form[contains(@action, '/coordinator')]")
               if f.xpath(f".//input[@name='municipality_id'][@value='{sa.municipality_id}']")]
    data = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
    response = manager.post(form.get("action"), data={**data, "user_id": world["official"].id}, follow_redirects=True)
    assert "Координатор назначен." in response.get_data(as_text=True)


def test_a_refused_save_shows_the_scores_and_comments_that_were_typed(app, world, two, db_session):
    """Nothing typed is lost: a self-assessment refused (a score out of range, or the sheet changed meanwhile) came back
    as a redirect to the stored sheet, and every comment typed into it was gone. The sheet comes back as sent."""
    import html
    import re

    from app.assessment import services

    coordinator = app.test_client()
    _as(coordinator, world["official"])
    sa = two["sa_a"]
    first, second = services.scores_of(sa.campaign, sa.municipality_id, "M1.1")[:2]
    comment = "Приказ от 01.09 № 15 и протокол совета; " * 10
    response = coordinator.post(f"/assessment/self/{sa.id}/scores", data={
        f"points-{first.id}": "7", f"version-{first.id}": first.version,
        f"points-{second.id}": "1", f"comment-{second.id}": comment, f"version-{second.id}": second.version,
        "version": sa.version})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "балл — целое число от 0 до 1" in body
    assert re.search(rf'name="points-{first.id}"[^>]*value="7"', body)
    typed = re.search(rf'name="comment-{second.id}"[^>]*>([^<]*)</textarea>', body).group(1)
    assert html.unescape(typed) == comment
    response = coordinator.post(f"/assessment/self/{sa.id}/transition", data={
        "trigger": "submit", "version": sa.version - 1, "comment": comment})
    assert response.status_code == 409
    typed = re.search(r'id="sa-comment"[^>]*>([^<]*)</textarea>', response.get_data(as_text=True)).group(1)
    assert html.unescape(typed) == comment
    db_session.expire_all()
    assert first.self_points is None and second.self_points is None and sa.state == "draft"


def test_working_pages_render_for_each_role(app, world, two):
    paths = {
        two["manager"]: ["/assessment/", "/assessment/campaigns/new", f"/assessment/campaigns/{two['campaign'].id}",
                         "/assessment/experts", "/assessment/criteria"],
        world["official"]: [f"/assessment/self/{two['sa_a'].id}"],
        world["expert"]: [f"/assessment/evaluations/{two['as_a'].id}"],
        two["head"]: [f"/assessment/evaluations/{two['as_a'].id}", f"/assessment/campaigns/{two['campaign'].id}"],
        world["admin"]: [f"/assessment/criteria/{two['campaign'].criteria_set_id}"],
    }
    for user, pages in paths.items():
        client = app.test_client()
        _as(client, user)
        for path in pages:
            response = client.get(path)
            assert response.status_code == 200, (user.login, path)


@pytest.mark.parametrize("hostile", ["²", "①", "١٢", "9" * 30])
def test_digits_that_are_not_ascii_in_the_forms_are_refused_not_500(app, world, two, db_session, hostile):
    """Attack 2026-12: «²».isdigit() is true and int("²") raises, so a version, score id, points or criterion id of
    «²» was a 500 on the scores, transition and evidence forms; a 30-digit id overflowed the id column."""
    from app.assessment import services
    from app.audit.models import AuditEvent

    coordinator = app.test_client()
    _as(coordinator, world["official"])
    sa = two["sa_a"]
    score = services.scores_of(sa.campaign, sa.municipality_id, "M1.1")[0]
    audited = db_session.scalar(select(func.count()).select_from(AuditEvent))
    forms = [
        (f"/assessment/self/{sa.id}/scores", {"points-" + hostile: "1", "version": sa.version}),
        (f"/assessment/self/{sa.id}/scores", {f"points-{score.id}": "", f"version-{score.id}": score.version,
                                               "version": hostile}),
        (f"/assessment/self/{sa.id}/scores", {f"points-{score.id}": hostile, f"version-{score.id}": hostile,
                                               "version": sa.version}),
        (f"/assessment/self/{sa.id}/transition", {"trigger": "submit", "version": hostile}),
        (f"/assessment/self/{sa.id}/evidence", {"criterion_id": hostile, "comment": "x", "document_id": hostile,
                                                 "file": (io.BytesIO(b"%PDF-1.7\n"), "a.pdf")}),
        (f"/assessment/self/{sa.id}/evidence", {"criterion_id": score.criterion_id, "document_id": hostile}),
        (f"/assessment/campaigns/{two['campaign'].id}/packages/request", {"municipality_id": hostile}),
    ]
    for path, data in forms:
        response = coordinator.post(path, data=data, content_type="multipart/form-data")
        # 303 done (or refused back to the campaign page), 404 no such id, 409/422 the form's page with the refusal
        assert response.status_code in (303, 404, 409, 422), (path, data, response.status_code)
    db_session.expire_all()
    assert score.self_points is None and sa.state == "draft"
    events = db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.id).offset(audited)).all()
    assert set(events) <= {"submit"}  # «version» left out is not a refusal: only the transition may have run

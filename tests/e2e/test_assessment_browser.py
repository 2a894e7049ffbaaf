"""The assessment of municipal mechanisms (issue 16) as its users see it in headless Chromium against the live demo
server (CSRF on): the regional official creates a campaign over ГО Северный (M2.3, its complete cycle) and publishes
it; the municipal coordinator self-assesses starting from the proposed scores and submits; the expert opens a
criterion's evidence document, scores one criterion differently with a comment and submits; the regional head
approves; the heat map shows the level; the evidence package of the municipality downloads and every file's
SHA-256 in its manifest matches the file.

Objects are located on the server's side (ids of the new campaign's rows), the actions are the browser's."""

import hashlib
import io
import json
import re
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.e2e.test_loop_browser import expect, log_in, log_out

pytestmark = pytest.mark.browser

TITLE = "Мониторинг механизмов (e2e)"
MUNICIPALITY = "ГО Северный"
MECHANISM = "M2.3"


def _ids(live_app):
    """The new campaign's objects: the campaign, the municipality, its self-assessment and evaluation of M2.3."""
    from sqlalchemy import select

    from app.assessment import services
    from app.assessment.models import Campaign

    with live_app.app_context():
        from app.extensions import db

        campaign = db.session.scalar(select(Campaign).where(Campaign.title == TITLE))
        mun = campaign.municipalities[0].municipality_id
        sa = services.self_assessment_for(campaign, mun, MECHANISM)
        assignment = services.assignment_for(campaign, mun, MECHANISM)
        out = {"campaign": campaign.id, "mun": mun, "sa": sa.id if sa else None,
               "assignment": assignment.id if assignment else None}
        db.session.remove()
        return out


def _people(live_app):
    from sqlalchemy import select

    from app.assessment.models import Expert
    from app.auth.models import User
    from app.extensions import db

    with live_app.app_context():
        coordinator = db.session.scalar(select(User.id).where(User.login == "official"))
        expert_user = db.session.scalar(select(User.id).where(User.login == "expert2"))
        expert = db.session.scalar(select(Expert.id).where(Expert.user_id == expert_user))
        db.session.remove()
        return coordinator, expert


def test_campaign_from_creation_to_the_heat_map_and_the_evidence_package(page, live_server, live_app):
    from app.core.timeutil import academic_year_of

    today = date.today()
    # 1. The regional official creates the campaign and publishes it.
    log_in(page, "region_official")
    page.goto("/assessment/campaigns/new")
    form = page.locator("#campaign-form")
    form.get_by_label("Название").fill(TITLE)
    form.get_by_label("Период оцениваемых циклов").fill(academic_year_of(today))
    form.get_by_label("Начало оценки").fill(today.isoformat())
    form.get_by_label("Окончание оценки").fill((today + timedelta(days=30)).isoformat())
    for box in form.locator("input[name=mechanisms]").all():
        box.set_checked(box.get_attribute("value") == MECHANISM)
    for box in form.locator("input[name=municipality_ids]").all():
        label = form.locator(f"label[for='{box.get_attribute('id')}']").inner_text()
        box.set_checked("Северный" in label)  # ГО Северный, by its full name here
    form.get_by_role("button", name="Создать кампанию").click()
    assert page.locator(".alert-danger").count() == 0, page.locator(".alert-danger").all_inner_texts()
    expect(page.locator("h1")).to_contain_text(TITLE)
    coordinator_id, expert_id = _people(live_app)
    page.get_by_label(re.compile(r"^Координатор: ")).select_option(str(coordinator_id))
    page.locator("#appointments form").filter(has=page.locator("select[name=user_id]")).get_by_role(
        "button", name="Назначить").click()
    expect(page.locator(".alert-success")).to_contain_text("Координатор назначен.")
    page.get_by_label(re.compile(rf"^Эксперт: .*, {re.escape(MECHANISM)}$")).select_option(str(expert_id))
    page.locator("#appointments form").filter(has=page.locator("select[name=expert_id]")).get_by_role(
        "button", name="Назначить").click()
    expect(page.locator(".alert-success")).to_contain_text("Эксперт назначен.")
    page.locator("#campaign-actions").get_by_role("button", name=re.compile("Опубликовать")).click()
    expect(page.locator(".alert-success")).to_contain_text("Кампания опубликована")
    ids = _ids(live_app)
    log_out(page)

    # 2. The coordinator self-assesses from the proposed scores (the form starts from them) and submits.
    log_in(page, "official")
    page.goto(f"/assessment/self/{ids['sa']}")
    proposed = [int(t) for t in page.locator("#self-form td span.fw-bold").all_inner_texts() if t.strip().isdigit()]
    points = page.locator("#self-form input[type=number]")
    assert proposed and [int(v) for v in points.evaluate_all("els => els.map(e => e.value)")] == proposed
    page.locator("#self-form").get_by_role("button", name="Сохранить самооценку").click()
    expect(page.locator(".alert-success")).to_contain_text("Самооценка сохранена")
    page.get_by_role("button", name=re.compile("^Представить")).click()
    expect(page.locator("#self-state")).not_to_contain_text("черновик")
    log_out(page)

    # 3. The expert opens the evidence of a criterion, scores one criterion differently with a comment, submits.
    log_in(page, "expert2")
    page.goto(f"/assessment/evaluations/{ids['assignment']}")
    evidence = page.locator("form td a[target=_blank]").first
    with page.expect_popup() as popup:
        evidence.click()
    document = popup.value
    document.wait_for_load_state()
    expect(document.locator("h1")).to_be_visible()
    assert "/documents/" in document.url
    document.close()
    rows = page.locator("form tr").filter(has=page.get_by_label(re.compile(r"^Балл эксперта ")))
    selves = [row.locator("td:nth-child(3)").inner_text() for row in rows.all()]
    inputs = page.get_by_label(re.compile(r"^Балл эксперта "))
    comments = page.get_by_label(re.compile(r"^Комментарий эксперта "))
    count = inputs.count()
    assert count == len(selves) and count > 1
    first_self = int(re.search(r"\d+", selves[0]).group())
    for n in range(count):
        own = int(re.search(r"\d+", selves[n]).group())
        inputs.nth(n).fill(str(own))
    different = 0 if first_self else 1
    inputs.nth(0).fill(str(different))
    comments.nth(0).fill("Документ не подтверждает выполнение критерия (e2e)")
    page.get_by_role("button", name="Сохранить оценку").click()
    expect(page.locator(".alert-success")).to_contain_text("Оценка сохранена")
    page.get_by_role("button", name=re.compile("^Направить")).first.click()
    expect(page.locator(".alert-success")).to_be_visible()
    log_out(page)

    # 4. The regional head approves.
    log_in(page, "region_head")
    page.goto(f"/assessment/evaluations/{ids['assignment']}")
    page.get_by_role("button", name="Утвердить оценку").click()
    expect(page.locator(".alert-success")).to_be_visible()

    # 5. The heat map shows the municipality's level for the mechanism.
    page.goto(f"/assessment/campaigns/{ids['campaign']}/picture")
    cell = page.locator("#heatmap tr").filter(has_text="Северный").locator("td[data-source=expert]")
    expect(cell).to_have_count(1)  # the approved expert evaluation of M2.3, the campaign's one mechanism
    assert cell.get_attribute("data-level") in ("high", "medium", "low", "none")
    assert re.search(r"\d", cell.inner_text()) and MECHANISM in cell.get_attribute("title")
    log_out(page)

    # 6. The expert downloads the municipality's evidence package; the manifest's hashes match the files.
    log_in(page, "expert2")
    page.goto(f"/assessment/campaigns/{ids['campaign']}/packages")
    page.locator("#municipality_id").select_option(str(ids["mun"]))
    page.get_by_role("button", name="Собрать пакет").click()
    download_link = page.locator("#package-download")
    for _ in range(30):
        if download_link.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    with page.expect_download() as info:
        download_link.click()
    data = Path(info.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["files"], manifest
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"], entry["path"]

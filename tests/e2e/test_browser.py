"""The issue's "done when", end to end in headless Chromium against a live server with CSRF on:
the demo official fills and submits the GOAL stage of the M1.1 cycle of «ГО Северный», the head
approves it from his task list, the next stage opens, and the cycle history shows both steps.
Every request the page makes must go to the live server (closed municipal networks)."""

import re

import pytest

from app.demo import DEMO_PASSWORD
from tests.e2e.conftest import confirm_dialog, nav_to

pytestmark = pytest.mark.browser

OFFICIAL_NAME = "Петрова Мария Ивановна"
HEAD_NAME = "Иванов Сергей Петрович"
MUNICIPALITY = "ГО Северный"
GOAL = {
    "Направление": "Повышение качества подготовки по математике",
    "Цель (формулировка изменения)": "Создание условий для снижения доли обучающихся 4 классов, "
                                     "не достигших базового уровня по математике (браузерный тест)",
    "Обоснование (данные о проблеме, нормативная база, местная специфика)":
        "ВПР-2025: 9,4 % обучающихся 4 классов не достигли базового уровня по математике, по региону 6,1 %.",
    "Реалистичность (ресурсы, имеющийся опыт)": "Есть сеть методических объединений и опыт ИМЦ.",
}


def log_in(page, login):
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Логин", exact=True).fill(login)
    page.get_by_label("Пароль", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("button", name="Выйти")).to_be_visible()


def stage_block(page, code):
    return page.locator(f".stage-line [data-stage='{code}']")


def test_official_submits_goal_and_head_approves_it(page, live_server, request_log, tmp_path):
    from playwright.sync_api import expect

    # --- the official finds the demo M1.1 cycle of «ГО Северный» through the cycles list ---
    log_in(page, "official")
    nav_to(page, "Циклы", "Все циклы")
    row = (page.locator("table tbody tr")
           .filter(has=page.locator("td:first-child", has_text=re.compile(r"^\s*M1\.1\s*$")))
           .filter(has=page.get_by_role("cell", name=MUNICIPALITY, exact=True)))
    expect(row).to_have_count(1)
    row.get_by_role("link").click()
    cycle_url = page.url
    expect(page.locator("h1")).to_contain_text("M1.1")
    expect(stage_block(page, "GOAL")).to_have_attribute("data-state", "draft")
    expect(stage_block(page, "IND")).to_have_attribute("data-state", "waiting")

    # --- the GOAL stage: add a goal through the form ---
    stage_block(page, "GOAL").click()
    stage_url = page.url
    assert re.search(r"/stages/\d+$", stage_url), stage_url
    expect(page.locator("#stage-state")).to_have_attribute("data-state", "draft")
    # the demo's draft holds one goal already: the one linked to the region's (README, «The vertical»)
    goals = page.locator("#goals tbody tr")
    expect(goals).to_have_count(1)
    page.get_by_role("link", name="Добавить цель").click()
    for label, value in GOAL.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Сохранить").click()
    expect(page).to_have_url(stage_url)
    expect(goals).to_have_count(2)
    for value in GOAL.values():
        expect(goals.last).to_contain_text(value)
    page.screenshot(path=str(tmp_path / "stage-goal-draft.png"), full_page=True)

    # --- the stage's mandatory document (the regulation) must exist, at least as a draft ---
    page.get_by_role("button", name="Сформировать: Положение о муниципальной системе оценки качества образования")\
        .click()
    expect(page.get_by_text("Положение о муниципальной системе оценки качества образования").first).to_be_visible()
    page.goto(stage_url)
    expect(page.locator("#stage-documents-table")).not_to_contain_text("не сформирован")

    # --- submit for approval ---
    page.get_by_role("button", name="Отправить на утверждение").click()
    expect(page).to_have_url(stage_url)
    expect(page.locator("#stage-state")).to_have_attribute("data-state", "on_review")
    expect(page.locator("#stage-state")).to_have_text("на рассмотрении")
    # The goal can no longer be edited while it is under review.
    expect(page.get_by_role("link", name="Добавить цель")).to_have_count(0)
    expect(page.get_by_role("button", name="Отправить на утверждение")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "stage-on-review.png"), full_page=True)

    page.get_by_role("button", name="Выйти").click()
    expect(page.get_by_label("Логин", exact=True)).to_be_visible()

    # --- the head approves it from his task list ---
    log_in(page, "head")
    nav_to(page, "Работа", "Мои задачи")
    task = (page.locator("table tbody tr")
            .filter(has=page.get_by_role("link", name=re.compile(
                # "." for the period's "/", which would end the selector's regex literal
                rf"^Рассмотреть этап «Цели» \(M1\.1, {MUNICIPALITY}, \d{{4}}.\d{{2}}\)$")))
            .filter(has=page.get_by_role("cell", name=MUNICIPALITY, exact=True)))
    expect(task).to_have_count(1)
    task.get_by_role("link").click()
    expect(page).to_have_url(stage_url)
    expect(page.locator("#stage-state")).to_have_attribute("data-state", "on_review")
    expect(page.locator("#goals")).to_contain_text(GOAL["Цель (формулировка изменения)"])
    page.get_by_role("button", name="Утвердить").click()
    confirm_dialog(page, "Утвердить этап?")
    expect(page).to_have_url(stage_url)
    expect(page.locator("#stage-state")).to_have_attribute("data-state", "approved")
    expect(page.locator("#stage-state")).to_have_text("утверждён")
    page.screenshot(path=str(tmp_path / "stage-approved.png"), full_page=True)

    # --- the cycle page: GOAL approved, «Показатели» open (and METH, which runs in parallel with it) ---
    page.locator("nav[aria-label='Навигационная цепочка']").get_by_role("link", name=re.compile(MUNICIPALITY)).click()
    expect(page).to_have_url(cycle_url)
    expect(stage_block(page, "GOAL")).to_have_attribute("data-state", "approved")
    expect(stage_block(page, "GOAL")).to_contain_text("утверждён")
    expect(stage_block(page, "IND")).to_have_attribute("data-state", "draft")
    expect(stage_block(page, "IND")).to_contain_text("Показатели")
    expect(stage_block(page, "IND")).to_contain_text("черновик")
    expect(stage_block(page, "METH")).to_have_attribute("data-state", "draft")
    expect(stage_block(page, "MON")).to_have_attribute("data-state", "waiting")
    page.screenshot(path=str(tmp_path / "cycle.png"), full_page=True)

    # --- the history lists both steps with the people who took them ---
    page.get_by_role("link", name="История цикла").click()
    history = page.locator("#history tbody tr")

    def step(actor, action):
        return (history.filter(has=page.get_by_role("cell", name=actor, exact=True))
                .filter(has=page.get_by_role("cell", name=action, exact=True)))

    submitted = step(OFFICIAL_NAME, "отправлено на утверждение")
    expect(submitted).to_have_count(1)
    expect(submitted).to_contain_text("черновик → на рассмотрении")
    approved = step(HEAD_NAME, "утверждено")
    expect(approved).to_have_count(1)
    expect(approved).to_contain_text("на рассмотрении → утверждён")
    page.screenshot(path=str(tmp_path / "history.png"), full_page=True)

    # --- closed networks: nothing but the live server was ever asked for anything ---
    assert request_log.requests, "the page recorded no requests at all"
    foreign = [url for url in request_log.requests if not url.startswith(live_server + "/")]
    assert foreign == [], f"requests to other hosts: {foreign}"
    assert any("bootstrap" in url and url.endswith(".css") for url in request_log.requests), \
        "Bootstrap's CSS was not loaded from the live server"
    assert request_log.server_errors == []

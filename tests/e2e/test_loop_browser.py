"""The closed loop of session 2, as its users see it in headless Chromium against the live demo server (CSRF on):
an addressed recommendation reaches a school director, who signs off «ознакомлен» with the password and states
the actions; the official's roll-up shows it and the director of another school cannot open it; a registered
document of the closed M2.3 cycle shows its signature sheet and downloads as the signed .docx; the analysis pages
show flagged schools with their statistics, ШНОР/ШНСУ and cluster positions; the integrity panel lists the gaps
of an incomplete cycle with links to where they are fixed; the calendar and the notifications bell render.

Every test logs in itself and works on demo objects no other browser test touches (the live server and its
database are shared by the whole session)."""

import hashlib
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from app.demo import DEMO_PASSWORD
from tests.e2e.conftest import confirm_dialog, nav_to

pytestmark = pytest.mark.browser

MUNICIPALITY = "ГО Северный"
SCHOOL = "СОШ № 1"  # MUN01-S01, director `director`
DIRECTOR_NAME = "Смирнов Андрей Владимирович"
HEAD_NAME = "Иванов Сергей Петрович"
HEAD_POSITION = "Начальник управления образования"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SHA256 = re.compile(r"\b[0-9a-f]{64}\b")


def expect(target):
    from playwright.sync_api import expect as _expect

    return _expect(target)


def log_in(page, login, password=DEMO_PASSWORD):
    page.goto("/login")
    page.get_by_label("Логин", exact=True).fill(login)
    page.get_by_label("Пароль", exact=True).fill(password)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("button", name="Выйти")).to_be_visible()


def log_out(page):
    page.get_by_role("button", name="Выйти").click()
    expect(page.get_by_label("Логин", exact=True)).to_be_visible()


def open_cycle(page, mechanism, direction):
    """From the navigation: «Циклы» → the row of the municipality's cycle of that mechanism and direction."""
    nav_to(page, "Циклы", "Все циклы")
    row = (page.locator("table tbody tr")
           .filter(has=page.locator("td:first-child", has_text=re.compile(rf"^\s*{re.escape(mechanism)}\s*$")))
           .filter(has=page.get_by_role("cell", name=direction, exact=True))
           .filter(has=page.get_by_role("cell", name=MUNICIPALITY, exact=True)))
    expect(row).to_have_count(1)
    row.get_by_role("link").first.click()
    expect(page.locator("h1")).to_contain_text(mechanism)


def open_stage(page, code):
    page.locator(f".stage-line [data-stage='{code}']").click()
    expect(page).to_have_url(re.compile(r"/stages/\d+$"))


# --- 1. addressed recommendation: issued → «ознакомлен» (password) → actions and dates → the official's roll-up ---

REC_TEXT = "Провести педсовет по итогам анализа и утвердить план устранения дефицитов (e2e)"
ACTION_PLAN = "1. Педсовет по итогам анализа — до конца месяца.\n2. План устранения дефицитов — к педсовету."
M22 = ("M2.2", "Система обеспечения профессионального развития педагогических работников")


def _rollup_counts(page) -> dict[str, int]:
    """СОШ № 1's counts in the roll-up by status (an empty cell is none; no row, none at all): the demo leaves
    recommendations of its own to the school there, issued and in progress."""
    row = page.locator("#rollup tbody tr").filter(has=page.get_by_role("cell", name=SCHOOL, exact=True))
    expect(page.locator("#rollup")).to_be_visible()
    if row.count() == 0:
        return {"issued": 0, "in_progress": 0}
    return {s: int(row.locator(f"td[data-count='{s}']").inner_text().strip() or 0) for s in ("issued", "in_progress")}


def _shown(n: int) -> str:
    return str(n) if n else ""


def _letter_registered(live_app, rec_url: str) -> None:
    """The letter «Адресные рекомендации» to the recommendation's addressee made anew, signed by the head and
    registered by the official, server-side (the document's own pages are walked elsewhere): a recommendation goes
    out only with its addressee's registered letter carrying it."""
    from app.auth.models import User
    from app.documents import services as documents
    from app.documents.demo import complete_document
    from app.extensions import db
    from app.followup.models import Recommendation

    rec_id = int(rec_url.rstrip("/").rsplit("/", 1)[1])
    with live_app.app_context():
        rec = db.session.get(Recommendation, rec_id)
        official, head = (db.session.query(User).filter_by(login=login).one() for login in ("official", "head"))
        (item,) = rec.items
        doc = documents.generate_document(rec.stage, "addressed_recommendations", actor=official,
                                          addressee=item.organisation, inline=True)
        complete_document(doc, official=official, head=head)
        db.session.commit()


def test_director_signs_off_a_recommendation_and_the_official_sees_it_in_the_rollup(page, live_server, live_app):
    deadline = date.today() + timedelta(days=30)
    planned = date.today() + timedelta(days=20)

    # The demo leaves M2.2's «Адресные рекомендации» on review; the head returns it so the official can add one.
    log_in(page, "head")
    open_cycle(page, *M22)
    open_stage(page, "REC")
    stage_url = page.url
    expect(page.locator("#stage-state")).to_have_attribute("data-state", "on_review")
    page.get_by_label("Комментарий (обязательно)", exact=True).fill("Добавьте рекомендацию СОШ № 1 по итогам анализа.")
    page.get_by_role("button", name="Вернуть на доработку").click()
    expect(page.locator("#stage-state")).to_have_attribute("data-state", "draft")
    log_out(page)

    # The official writes the recommendation to СОШ № 1, answering a finding of the analysis.
    log_in(page, "official")
    page.goto(stage_url)
    page.get_by_role("link", name="Составить рекомендацию").click()
    page.get_by_label("Текст рекомендации", exact=True).fill(REC_TEXT)
    page.get_by_label("Адресат", exact=True).select_option(label="Выбранные организации")
    page.get_by_label("Срок ответа (исполнения)", exact=True).fill(deadline.isoformat())
    # The tree picker tells same-named schools apart by their municipality (read to screen readers only).
    page.locator("#recommendation-form").get_by_label(re.compile("^" + re.escape(SCHOOL) + "(,|$)")).check()
    page.locator("input[name='finding_ids']").first.check()
    page.get_by_role("button", name="Сохранить черновик").click()
    expect(page.locator(".alert-success")).to_contain_text("Рекомендация сохранена (черновик), адресатов: 1.")
    rec_url = page.url
    assert re.search(r"/recommendations/\d+$", rec_url), rec_url
    page.goto(stage_url)
    page.get_by_role("link", name="Все рекомендации").click()
    before = _rollup_counts(page)
    log_out(page)
    _letter_registered(live_app, rec_url)

    # The head issues it from the stage page's list.
    log_in(page, "head")
    page.goto(stage_url)
    page.locator("#recommendations").get_by_role("link", name=REC_TEXT, exact=True).click()
    expect(page).to_have_url(rec_url)
    # The URL changes when the navigation commits, before the page's script that asks for confirmation has run.
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Направить адресатам (1)").click()
    confirm_dialog(page, "Направить рекомендацию адресатам (1)?")
    expect(page.locator(".alert-success")).to_contain_text("Рекомендация направлена адресатам: 1.")
    school_row = page.locator("#items tbody tr").filter(has=page.get_by_role("link", name=SCHOOL, exact=True))
    expect(school_row.locator("[data-state]")).to_have_text("направлена, ожидает ознакомления")
    log_out(page)

    # The official's roll-up: СОШ № 1 has one more recommendation waiting for its director.
    log_in(page, "official")
    page.goto(stage_url)
    page.get_by_role("link", name="Все рекомендации").click()
    rollup_row = page.locator("#rollup tbody tr").filter(has=page.get_by_role("cell", name=SCHOOL, exact=True))
    expect(rollup_row).to_have_count(1)
    expect(rollup_row.locator("td[data-count='issued']")).to_have_text(_shown(before["issued"] + 1))
    expect(rollup_row.locator("td[data-count='in_progress']")).to_have_text(_shown(before["in_progress"]))
    log_out(page)

    # The director finds it in his tasks and in his school's recommendations.
    log_in(page, "director")
    nav_to(page, "Работа", "Мои задачи")
    task = page.get_by_role("link", name=f"Ознакомиться с рекомендацией: «{REC_TEXT}»", exact=True)
    expect(task).to_have_count(1)
    page.goto("/followup/my")
    mine = page.locator("#my-items tbody tr").filter(has=page.get_by_role("link", name=REC_TEXT, exact=True))
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("направлена, ожидает ознакомления")
    expect(mine).to_contain_text(deadline.strftime("%d.%m.%Y"))
    mine.get_by_role("link").click()
    item_url = page.url
    assert re.search(r"/followup/items/\d+$", item_url), item_url
    expect(page.locator("#rec-text")).to_have_text(REC_TEXT)
    expect(page.locator("#item-state [data-state]")).to_have_text("направлена, ожидает ознакомления")
    expect(page.locator("#acknowledged")).to_have_text("—")

    # A wrong password: refused in Russian, nothing changes.
    page.get_by_label("Пароль (для подтверждения ознакомления)", exact=True).fill("не-тот-пароль")
    page.get_by_role("button", name="Ознакомлен", exact=True).click()
    expect(page.locator(".alert-danger")).to_contain_text("Неверный пароль: ознакомление не подтверждено.")
    page.goto(item_url)
    expect(page.locator("#item-state [data-state]")).to_have_text("направлена, ожидает ознакомления")
    expect(page.locator("#acknowledged")).to_have_text("—")
    expect(page.locator("#start-form")).to_have_count(0)

    # The right password: «ознакомлен» with his name, date and time.
    page.get_by_label("Пароль (для подтверждения ознакомления)", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Ознакомлен", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Ознакомление подтверждено.")
    expect(page.locator("#item-state [data-state]")).to_have_text("ознакомлен")
    expect(page.locator("#acknowledged")).to_have_text(
        re.compile(rf"^{DIRECTOR_NAME}, \d{{2}}\.\d{{2}}\.\d{{4}} \d{{2}}:\d{{2}}$"))
    expect(page.locator("#acknowledge-form")).to_have_count(0)

    # The school states its actions and dates.
    page.get_by_label("Планируемые действия и сроки", exact=True).fill(ACTION_PLAN)
    page.get_by_label("Планируемый срок исполнения", exact=True).fill(planned.isoformat())
    page.get_by_role("button", name="Приступить к исполнению").click()
    expect(page.locator(".alert-success")).to_contain_text("План исполнения сохранён.")
    expect(page.locator("#item-state [data-state]")).to_have_text("исполняется")
    expect(page.get_by_text("Педсовет по итогам анализа — до конца месяца.")).to_be_visible()
    expect(page.get_by_text(f"(срок {planned:%d.%m.%Y})")).to_be_visible()
    log_out(page)

    # The director of another school does not see it: 404 on its address, absent from his list.
    log_in(page, "director2")
    response = page.goto(item_url)
    assert response.status == 404
    expect(page.get_by_text("Страница или объект не найдены.")).to_be_visible()
    page.goto("/followup/my")
    expect(page.locator("#my-items")).to_be_visible()
    expect(page.locator("#my-items").get_by_role("link", name=REC_TEXT, exact=True)).to_have_count(0)
    log_out(page)

    # The official's roll-up (addressees × status): СОШ № 1 moved from «направлена» to «исполняется».
    log_in(page, "official")
    page.goto(rec_url)
    school_row = page.locator("#items tbody tr").filter(has=page.get_by_role("link", name=SCHOOL, exact=True))
    expect(school_row.locator("[data-state]")).to_have_text("исполняется")
    expect(school_row.locator("td").nth(3)).to_have_text(re.compile(r"^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}$"))
    page.locator("nav[aria-label='Навигационная цепочка']").get_by_role("link", name="Адресные рекомендации").click()
    rollup_row = page.locator("#rollup tbody tr").filter(has=page.get_by_role("cell", name=SCHOOL, exact=True))
    expect(rollup_row.locator("td[data-count='issued']")).to_have_text(_shown(before["issued"]))
    expect(rollup_row.locator("td[data-count='in_progress']")).to_have_text(_shown(before["in_progress"] + 1))
    headers = page.locator("#rollup thead th")
    expect(headers.nth(0)).to_have_text("Организация")
    expect(page.locator("#rollup thead")).to_contain_text("исполняется")


# --- 2. documents: the signature sheet and the signed .docx of a registered document of the closed M2.3 cycle ---

M23 = ("M2.3", "Организация воспитания обучающихся")


def test_registered_document_shows_its_signature_sheet_and_downloads_the_signed_docx(page, live_server):
    log_in(page, "official")
    open_cycle(page, *M23)
    open_stage(page, "GOAL")
    row = page.locator("#stage-documents-table tbody tr").filter(
        has=page.get_by_role("link", name="Положение о муниципальной системе оценки качества образования"))
    # registered, then published: the demo puts its положение on the public pages
    expect(row).to_contain_text("опубликован")
    # the journal's own number format (положения «2-лна»: app/documents/data/journals.yaml)
    expect(row).to_contain_text(re.compile(r"№ \d+-лна от \d{2}\.\d{2}\.\d{4}"))
    row.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/documents/\d+$"))
    expect(page.locator("#document-state")).to_contain_text("опубликован")

    # The signature sheet: meaning, position, name, date and time, SHA-256 of the signed file.
    sheet = page.locator("table.signature-sheet").first
    expect(sheet.locator("caption")).to_have_text("Лист подписания")
    signature = sheet.locator("tbody tr").filter(has=page.get_by_role("cell", name=HEAD_NAME, exact=True))
    expect(signature).to_have_count(1)
    cells = signature.locator("td")
    expect(cells.nth(0)).to_have_text("УТВЕРЖДАЮ")
    expect(cells.nth(1)).to_have_text(HEAD_POSITION)
    expect(cells.nth(3)).to_have_text(re.compile(r"^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}$"))
    expect(cells.nth(4)).to_have_text(SHA256)
    signed_hash = cells.nth(4).inner_text().strip()
    expect(page.locator(".verification").first).to_contain_text("контрольная сумма совпадает")

    # The signed original downloads as a Word file whose SHA-256 is the one on the signature sheet.
    link = page.get_by_role("link", name="Скачать DOCX — подписанный оригинал").first
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".docx"), download.suggested_filename
    body = Path(download.path()).read_bytes()
    assert body[:2] == b"PK", body[:8]
    assert hashlib.sha256(body).hexdigest() == signed_hash
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"].startswith(DOCX), response.headers["content-type"]
    assert response.body() == body


# --- 3. analysis: flagged schools with their statistics, ШНОР/ШНСУ, cluster positions ---

M21 = ("M2.1", "Система мониторинга эффективности руководителей образовательных организаций")


def test_official_sees_flagged_schools_low_result_lists_and_cluster_positions(page, live_server):
    log_in(page, "official")
    open_cycle(page, *M21)  # the demo's calculation: M2.1's analysis stage, filled in its draft
    cycle_url = page.url
    analysis = page.locator("#cycle-analysis")

    analysis.get_by_role("link", name="расчёты и выводы").click()
    expect(page.locator("main, body").first).to_contain_text("Последний выполненный расчёт")
    expect(page.get_by_text(re.compile(r"Отпечаток входных данных \(SHA-256\): [0-9a-f]{64}"))).to_be_visible()

    # Objectivity: признаки per school with the statistic and the threshold that triggered them.
    page.goto(cycle_url)
    analysis.get_by_role("link", name="объективность результатов").click()
    expect(page.get_by_text("Признаки — это статистические сигналы для внимательного рассмотрения")).to_be_visible()
    markers = page.locator("#markers tbody tr")
    expect(markers.first).to_be_visible()
    assert markers.count() >= 3
    first = markers.first.locator("td")
    expect(first.nth(5)).to_have_text(re.compile(r"^K[1-5] \S"))
    expect(first.nth(6)).to_have_text(re.compile(r"^(-?\d+,\d+|—)$"))
    expect(first.nth(7)).to_have_text(re.compile(r"^\d+,\d+$"))
    expect(first.nth(8)).to_contain_text("порог")
    expect(page.locator("#history tbody tr").first).to_contain_text(re.compile(r"K[1-5]"))
    share = page.locator("#shares tbody tr").filter(has=page.get_by_role("cell", name=MUNICIPALITY, exact=True))
    expect(share).to_have_count(1)
    expect(share.locator("td").nth(3)).to_have_text(re.compile(r"^\d+(,\d+)?$"))
    expect(page.locator("#stable li").first).to_be_visible()

    # ШНОР and ШНСУ with the reasons and factors per school.
    page.goto(cycle_url)
    analysis.get_by_role("link", name="ШНОР и ШНСУ").click()
    expect(page.get_by_text("Индекс низких результатов рассчитан по результатам без признаков необъективности"))\
        .to_be_visible()
    shnor = page.locator("#shnor tbody tr")
    expect(shnor.first).to_contain_text("индекс низких результатов")
    shnsu = page.locator("#shnsu tbody tr")
    expect(shnsu.first.locator("td").nth(1)).to_have_text(re.compile(r"^\d+,\d+$"))
    expect(shnsu.first.locator("td").nth(2)).not_to_be_empty()
    expect(page.locator("#low-index tbody tr").first).to_be_visible()

    # Clusters: each school's position against schools with similar conditions.
    page.goto(cycle_url)
    analysis.get_by_role("link", name="кластеры").click()
    positions = page.locator("#positions tbody tr")
    expect(positions.first).to_be_visible()
    expect(positions.filter(has_text="выше ожидаемого для школ со схожими условиями").first).to_be_visible()
    expect(positions.filter(has_text="ниже ожидаемого для школ со схожими условиями").first).to_be_visible()
    expect(page.locator("#profiles")).to_contain_text("Кластер 1")
    assert page.locator("svg").count() >= 1, "the cluster chart (inline SVG) is missing"


# --- 4. the cycle integrity panel ---

M24 = ("M2.4", "Повышение качества образовательных программ дошкольного образования")


def test_integrity_panel_lists_the_gaps_of_an_incomplete_cycle_with_links_to_fix_them(page, live_server):
    log_in(page, "official")

    # A complete cycle (the closed M2.3) has none.
    open_cycle(page, *M23)
    expect(page.locator("#cycle-integrity")).to_contain_text("разрывов нет")
    page.locator("#cycle-integrity").get_by_role("link", name="Панель целостности").click()
    expect(page.locator("#integrity-ok")).to_have_text("Разрывов цепочки не найдено.")

    # M2.4 (дошкольное образование) stopped at «Меры»: recommendations issued, no measures yet.
    open_cycle(page, *M24)
    cycle_url = page.url
    expect(page.locator("#cycle-integrity")).to_contain_text(re.compile(r"разрывов: \d+"))
    page.locator("#cycle-integrity").get_by_role("link", name="Панель целостности").click()
    expect(page.locator("h1")).to_have_text("Целостность цикла")
    expect(page.locator("#integrity-count")).to_contain_text("Найдено разрывов цепочки:")
    meas = page.locator("table.integrity-defects[data-stage='MEAS'] tbody tr")
    no_measures = meas.filter(has=page.get_by_role("cell", name="Нет мер", exact=True))
    expect(no_measures).to_have_count(1)
    without = meas.filter(has=page.get_by_role("cell", name="Рекомендация без мер", exact=True))
    expect(without.first).to_be_visible()
    assert without.count() >= 1

    # «Исправить» opens the very form that fixes the gap: a new measure of this cycle.
    no_measures.get_by_role("link", name="Исправить").click()
    expect(page).to_have_url(re.compile(r"/followup/cycles/\d+/measures/new$"))
    expect(page.get_by_label("Мероприятие", exact=True)).to_be_visible()
    expect(page.get_by_label("Ответственный", exact=True)).to_be_visible()

    # The recommendation row's link leads there too.
    page.goto(cycle_url)
    page.locator("#cycle-integrity").get_by_role("link", name="Панель целостности").click()
    without.first.get_by_role("link", name="Исправить").click()
    expect(page).to_have_url(re.compile(r"/followup/cycles/\d+/measures/new$"))
    expect(page.get_by_label("Мероприятие", exact=True)).to_be_visible()


# --- 5. calendar and the notifications bell ---

def test_calendar_and_notifications_bell_render_for_the_official(page, live_server):
    log_in(page, "official")
    bell = page.get_by_role("navigation").get_by_role("link", name="Уведомления", exact=True)
    expect(bell).to_be_visible()

    nav_to(page, "Работа", "Календарь")
    expect(page.get_by_role("link", name="Календарь сроков", exact=True)).to_have_class(re.compile(r"\bactive\b"))
    expect(page.locator("h1")).to_have_text(re.compile(r"^\S+ \d{4}$"))  # the month, «Ноябрь 2026»
    count = page.get_by_text(re.compile(r"Сроков: \d+"))
    expect(count).to_be_visible()
    assert int(re.search(r"Сроков: (\d+)", count.inner_text()).group(1)) >= 1
    items = page.locator(".cal-item")
    expect(items.first).to_be_visible()
    expect(items.first.get_by_role("link")).not_to_be_empty()
    page.get_by_role("link", name="Неделя", exact=True).click()
    expect(page.locator("table tbody tr")).to_have_count(7)

    # The demo opens with its reminders sent: the bell carries the official's unread count.
    badge = page.locator("#unread-notifications")
    expect(badge).to_have_text(re.compile(r"^\d+$"))
    unread = int(badge.inner_text())
    assert unread >= 1
    bell.click()
    expect(page).to_have_url(re.compile(r"/deadlines/notifications$"))
    expect(page.locator("h1")).to_have_text("Уведомления")
    expect(page.get_by_text(f"Непрочитанных: {unread}", exact=True)).to_be_visible()
    rows = page.locator("tr[data-notification]")
    expect(rows.first).to_be_visible()
    assert rows.count() >= unread
    expect(rows.first.locator("td").nth(1)).not_to_be_empty()  # its kind: напоминание / просрочка / эскалация

    # Reading one takes it off the bell.
    rows.filter(has=page.get_by_role("button", name="Прочитано")).first.get_by_role("button", name="Прочитано").click()
    expect(page.get_by_text(f"Непрочитанных: {unread - 1}", exact=True)).to_be_visible()
    if unread > 1:
        expect(page.locator("#unread-notifications")).to_have_text(str(unread - 1))
    else:
        expect(page.locator("#unread-notifications")).to_have_count(0)

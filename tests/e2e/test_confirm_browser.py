"""An irreversible action asks first even when it is clicked before the page has finished loading: the
question comes from a script in <head>, so a quick click on a slow network (Bootstrap still on its way)
is held and asked about once the page is there — never sent unasked."""

import pytest

from app.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_a_click_before_the_page_has_loaded_is_asked_about_not_sent(page, live_app, request_log):
    from playwright.sync_api import expect

    from app.auth.models import User
    from app.extensions import db

    with live_app.app_context():
        teacher_id = db.session.execute(db.select(User.id).filter_by(login="teacher")).scalar_one()
    page.goto("/login")
    page.get_by_label("Логин", exact=True).fill("admin")
    page.get_by_label("Пароль", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("button", name="Выйти")).to_be_attached()

    held = []  # Bootstrap's script is held back: the page is shown, its dialog cannot open yet
    page.route("**/*bootstrap*.js", lambda route: held.append(route))
    page.goto(f"/admin/users/{teacher_id}", wait_until="commit")
    switch_off = page.get_by_role("button", name="Отключить")
    switch_off.click()
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the page never asked for Bootstrap's script"
    page.wait_for_timeout(500)
    posted = f"/admin/users/{teacher_id}/active"
    assert not any(url.endswith(posted) for url in request_log.requests), "submitted without asking"

    for route in held:
        route.continue_()
    dialog = page.locator("#confirm-modal")
    expect(dialog).to_be_visible(timeout=15_000)
    expect(dialog.locator("#confirm-modal-text")).to_contain_text("Отключить пользователя?")
    dialog.get_by_role("button", name="Отмена").click()
    expect(dialog).to_be_hidden()
    assert not any(url.endswith(posted) for url in request_log.requests)
    with live_app.app_context():
        assert db.session.execute(db.select(User.active).filter_by(id=teacher_id)).scalar_one() is True

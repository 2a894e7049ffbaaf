"""Browser fixtures: Debian's Chromium (installed on demand), a live server on its own SQLite file
with the demo seeded and CSRF on, and a page that records every request it makes.

The live server does not use the suite's `app`/`db_session` fixtures: a real browser needs real
commits, and the per-test rollback would hide them from the server's other connections."""

import logging
import os
import shutil
import subprocess
import threading
import time

import pytest

from tests import services as svc
from tests.conftest import make_config

log = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
L10N = "/usr/share/doc/chromium-l10n"  # Debian's package of Chromium's translations
# Playwright's own browser download is not available here; Debian's package is.
# --lang: the browser of a Russian office (date fields «дд.мм.гггг», not «mm/dd/yyyy»; the context's locale alone
# sets navigator.language and Accept-Language only); its Russian resources come with Debian's chromium-l10n.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--lang=ru-RU",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _unavailable(message: str) -> None:
    if svc.in_ci():
        pytest.fail(message + " (CI=true: a missing browser is a failure, not a skip)")
    pytest.skip(message)


def _say(config, message: str) -> None:
    """A line the developer sees even with output captured (apt-get can take a while)."""
    log.warning(message)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"[e2e] {message}")


def ensure_chromium(say, path: str = CHROMIUM) -> str:
    """Return the Chromium executable, installing Debian's packages (chromium, chromium-l10n) first when missing."""
    if os.path.exists(path) and os.path.isdir(L10N):
        return path
    if shutil.which("apt-get") is None:
        _unavailable(f"{path} is missing and apt-get is not available to install it")
    say(f"{path} or its Russian resources are missing: installing Debian's chromium and chromium-l10n with apt-get "
        "(this may take a minute or two)")
    started = time.monotonic()
    try:
        result = subprocess.run("apt-get update -qq && apt-get install -y -qq chromium chromium-l10n", shell=True,  # noqa: S602 (fixed)
                                capture_output=True, text=True, timeout=900,
                                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    except subprocess.TimeoutExpired:
        _unavailable("installing chromium with apt-get timed out after 900 s")
    if result.returncode != 0 or not os.path.exists(path):
        tail = (result.stderr or result.stdout or "").strip()[-800:]
        _unavailable(f"could not install chromium with apt-get (exit {result.returncode}, "
                     f"{path} exists: {os.path.exists(path)}): {tail}")
    say(f"chromium installed in {time.monotonic() - started:.0f} s")
    return path


@pytest.fixture(scope="session")
def chromium_executable(pytestconfig):
    return ensure_chromium(lambda message: _say(pytestconfig, message))


# The live server's app, for tests that prepare data on the server's side before the browser looks.
_LIVE: dict = {}


@pytest.fixture(scope="session")
def live_app(live_server):
    return _LIVE["app"]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The real app on 127.0.0.1:<free port>, fresh SQLite file, migrated, demo seeded; yields its base URL."""
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from app import create_app
    from app.demo import seed_demo
    from app.extensions import db

    path = tmp_path_factory.mktemp("e2e-db") / "e2e.sqlite3"
    # Static files fresh for an hour: without a max-age every page load revalidated each of its eight stylesheets
    # and scripts one after another on the single-threaded server below (a page opened in ~180 ms instead of
    # ~130 ms in the screen walk); they never change while the suite runs. Pages themselves stay no-store.
    app = create_app(make_config(f"sqlite:///{path}", WTF_CSRF_ENABLED=True, SEND_FILE_MAX_AGE_DEFAULT=3600))
    with app.app_context():
        upgrade()
        assert seed_demo() is True
        db.session.commit()
    # Port 0: the OS picks a free port, so parallel runs never collide. Single-threaded on purpose:
    # SQLite and one browser tab need no concurrency, and it keeps requests strictly ordered. (Measured: with
    # static files cached, a threaded server opened the screen walk's pages only ~8 % faster, within the noise.)
    server = make_server("127.0.0.1", 0, app)
    _LIVE["app"] = app
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser(chromium_executable):
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is a dev dependency
        _unavailable(f"playwright is not installed: {exc}")
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS)
        except Error as exc:
            _unavailable(f"chromium did not start: {exc}")
        yield browser
        browser.close()


class PageLog:
    """Every URL the page requested and every server error it got back."""

    def __init__(self):
        self.requests: list[str] = []
        self.server_errors: list[str] = []

    def on_request(self, request):
        self.requests.append(request.url)

    def on_response(self, response):
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.url}")


@pytest.fixture
def request_log():
    return PageLog()


@pytest.fixture
def page(browser, live_server, request_log, tmp_path):
    context = browser.new_context(base_url=live_server, locale="ru-RU", viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("request", request_log.on_request)
    page.on("response", request_log.on_response)
    try:
        yield page
    finally:
        # Keep the last screen of a run (failed or not) for whoever has to look at it.
        try:
            page.screenshot(path=str(tmp_path / "last.png"), full_page=True)
        except Exception:  # noqa: BLE001, S110 - a dead page must not hide the test's own failure
            pass
        context.close()


OFFICE_SCREEN = {"width": 1366, "height": 768}  # the office monitor every screen review looks at


def office_page(browser, live_server):
    """A page at 1366×768 for a screen review's own `page` fixture (`yield from office_page(browser, live_server)`),
    without the request log of the general one."""
    context = browser.new_context(base_url=live_server, locale="ru-RU", viewport=OFFICE_SCREEN)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def nav_to(page, group: str, entry: str) -> None:
    """Follow an entry of the navigation bar: open its group's dropdown, click the entry."""
    page.wait_for_load_state("load")  # the dropdown needs Bootstrap's script, which runs after the page is shown
    nav = page.locator("#nav")
    nav.get_by_role("button", name=group, exact=True).click()
    nav.get_by_role("link", name=entry, exact=True).click()


def confirm_dialog(page, question: str) -> None:
    """An irreversible action asks first: the dialog shows the question; «Подтвердить» goes ahead."""
    from playwright.sync_api import expect

    dialog = page.locator("#confirm-modal")
    expect(dialog).to_be_visible(timeout=15_000)  # a loaded machine may take a while to run the page's script
    expect(dialog.locator("#confirm-modal-text")).to_contain_text(question)
    dialog.locator("#confirm-modal-ok").click()

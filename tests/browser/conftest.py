"""Browser tests: headless Chromium against the real app, started as a user would start it.

One server for the whole session: a fresh SQLite file, ``flask db upgrade``, ``flask demo
seed``, then ``python wsgi.py``. Chromium is Debian's (``/usr/bin/chromium``); without it
the tests are skipped, or fail when ``REQUIRE_BROWSER=1``. A failing test leaves a
full-page screenshot in ``test-artifacts/screenshots/`` and shows the server log's tail.
``UPDATE_SCREENSHOTS=1`` also refreshes the README screenshots in ``docs/screenshots/``.
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.browser.accessibility import assert_accessible
from tests.live_server import REPO_ROOT, LiveServer, serve_demo

SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
]
VIEWPORT = {"width": 1280, "height": 900}
DEMO_PASSWORD = "cohort-demo"


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium, or skip (fail with REQUIRE_BROWSER=1) when it is not installed."""
    if not CHROMIUM.exists():
        reason = (f"browser tests skipped: {CHROMIUM} is missing "
                  "(install it with: apt-get install chromium)")
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but " + reason)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def live_server(chromium_path: Path, tmp_path_factory) -> Iterator[LiveServer]:
    """The app served by ``python wsgi.py`` on a free port, with the demo data."""
    workdir = tmp_path_factory.mktemp("live")
    # Every test signs in from the same address; the default limit is for humans.
    with serve_demo(f"sqlite:///{workdir / 'live.db'}", workdir / "server.log",
                    login_rate_limit="300 per minute") as server:
        yield server


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Browser]:
    """One headless Chromium for the session."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path),
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer, request) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh browser context (its own cookies: a separate person).

    Keyword arguments go to the context, e.g. ``color_scheme="dark"`` or ``viewport``.
    """
    contexts: list[BrowserContext] = []
    request.node.browser_pages = []

    def open_page(**options) -> Page:
        # The app's CSP forbids inline scripts, axe is injected as one: bypass it in tests.
        settings = {"viewport": VIEWPORT, "locale": "en-GB", "timezone_id": "Europe/London",
                    **options}
        context = browser.new_context(base_url=live_server.url, bypass_csp=True, **settings)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        request.node.browser_pages.append(page)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A page of a visitor who has not signed in."""
    return new_page()


@pytest.fixture
def sign_in(live_server: LiveServer) -> Callable[..., None]:
    """Sign in through the login form and check the landing page is the home page."""

    def submit(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
        page.goto("/login")
        assert_accessible(page)
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{live_server.url}/")

    return submit


def _artefact_name(nodeid_name: str) -> str:
    """A file-system friendly version of a test's name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid_name).strip("_")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, keep a full-page screenshot of each of the test's pages."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    pages = [p for p in getattr(item, "browser_pages", []) if not p.is_closed()]
    if pages:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for number, page in enumerate(pages, start=1):
        suffix = "" if number == 1 else f"-{number}"
        path = SCREENSHOT_DIR / f"{_artefact_name(item.name)}{suffix}.png"
        try:
            page.screenshot(path=path, full_page=True)
        except Exception as error:  # the report must survive a page that died
            report.sections.append(("screenshot", f"could not save {path}: {error}"))
        else:
            report.sections.append(("screenshot", f"saved {path} ({page.url})"))
    server = item.funcargs.get("live_server")
    if server is not None:
        report.sections.append(("live server log (tail)", server.log_tail()))

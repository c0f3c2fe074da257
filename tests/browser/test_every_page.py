"""Every page of every role, at 1280 and at 390 pixels wide.

Each role signs in and follows the links of the pages it reaches, breadth first from its
home page (one page per address shape: ``/threads/7`` and ``/threads/8`` are the same
page), so a page added later is checked as soon as something links to it. On each page, at
both widths: the link answered below 400, nothing scrolls sideways, and axe-core finds
nothing serious or critical. A screenshot of each page at each width is kept in
``test-artifacts/pages/<role>/<width>/`` (JPEG, quicker to write than PNG; CI keeps that
folder).
"""

import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from tests.browser.accessibility import assert_accessible, assert_no_sideways_scrolling
from tests.browser.conftest import REPO_ROOT

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "pages"
WIDTHS = {"wide": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
ROLES = {"admin": "admin@demo.test", "owner": "owner@demo.test",
         "facilitator": "facilitator@demo.test", "learner": "learner1@demo.test"}
#: Addresses that are not pages to look at: files, feeds, the API, signing out.
NOT_PAGES = re.compile(r"^/(api/|static/|logout)|\.(csv|ics|json)$|/attachment$|/export")
#: More than enough for any role today; a runaway crawl fails instead of running on.
MOST_PAGES = 60


def shape(path: str) -> str:
    """The address with its numbers blanked: one visit per kind of page."""
    return re.sub(r"/\d+", "/N", path)


def links_on(page: Page, origin: str) -> list[str]:
    """Same-site page addresses linked from the page, without fragments or queries."""
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin or NOT_PAGES.search(parts.path):
            continue
        paths.append(parts.path)
    return paths


def check(page: Page, role: str, width: str, path: str) -> list[str]:
    """What is wrong with the page: it must answer, reflow to the width and pass axe. Keeps
    a screenshot either way."""
    response = page.goto(path)
    if response is None or response.status >= 400:
        return [f"{role} followed a link to {path} and got "
                f"{response.status if response else 'nothing'}"]
    problems = []
    for assertion in (assert_no_sideways_scrolling, assert_accessible):
        try:
            assertion(page)
        except AssertionError as error:
            problems.append(f"{width}: {error}")
    name = shape(path).strip("/").replace("/", "_") or "home"
    folder = SCREENSHOTS / role / width
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / f"{name}.jpg", full_page=True, type="jpeg", quality=70)
    return problems


@pytest.mark.parametrize("role", ROLES)
def test_every_page_reflows_and_passes_axe_at_both_widths(new_page, sign_in, live_server,
                                                         role):
    pages = {width: new_page(viewport=viewport) for width, viewport in WIDTHS.items()}
    for page in pages.values():
        sign_in(page, ROLES[role])
    seen = {shape("/")}
    queue = deque(["/"])
    visited, problems = [], []
    while queue:
        path = queue.popleft()
        visited.append(path)
        assert len(visited) <= MOST_PAGES, f"more than {MOST_PAGES} kinds of page: {visited}"
        for width, page in pages.items():
            problems.extend(check(page, role, width, path))
        for link in links_on(pages["wide"], live_server.url):
            if shape(link) not in seen:
                seen.add(shape(link))
                queue.append(link)
    # Each role reaches more than its home page (a broken crawl would pass with nothing).
    assert len(visited) >= 5, visited
    assert not problems, "\n".join(problems)

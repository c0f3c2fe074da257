"""The live connection (Socket.IO) of a signed-in page."""

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_accessible

pytestmark = pytest.mark.browser


def test_cohort_page_connects_to_live_updates(page, sign_in):
    sign_in(page, "learner3@demo.test")
    assert_accessible(page)

    page.get_by_role("link", name="Autumn cohort").click()

    expect(page.get_by_role("heading", level=1, name="Autumn cohort")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-live", "connected", timeout=10_000)
    assert_accessible(page)

"""Signing in and out in a real browser, for every demo role."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible

pytestmark = pytest.mark.browser

README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "home.png"

# (e-mail, heading of the role's section on the home page, role shown on the cohort page)
ROLES = [
    pytest.param("admin@demo.test", "Site administration", None, id="admin"),
    pytest.param("owner@demo.test", "Your programs", "owner", id="owner"),
    pytest.param("facilitator@demo.test", "Cohorts you facilitate", "facilitator",
                 id="facilitator"),
    pytest.param("learner1@demo.test", "My cohorts", "learner", id="learner"),
]


def save_readme_screenshot(page: Page, path: Path) -> None:
    """Refresh a README screenshot when asked to (UPDATE_SCREENSHOTS=1)."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=path)


@pytest.mark.parametrize(("email", "section", "cohort_role"), ROLES)
def test_each_role_lands_on_its_home_page(page, sign_in, live_server, email, section,
                                          cohort_role):
    sign_in(page, email)

    assert page.url == f"{live_server.url}/"
    expect(page.get_by_role("heading", level=2, name=section)).to_be_visible()
    assert_accessible(page)
    if email == "owner@demo.test":
        save_readme_screenshot(page, README_SCREENSHOT)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1, name="Settings")).to_be_visible()
    expect(page.get_by_text(f"Signed in as {email}")).to_be_visible()
    expect(page.get_by_label("Time zone")).to_have_value("Europe/London")
    assert_accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    cohort_link = page.get_by_role("link", name="Autumn cohort")
    if cohort_role is None:
        expect(cohort_link).to_have_count(0)
        return
    cohort_link.click()
    expect(page.get_by_role("heading", level=1, name="Autumn cohort")).to_be_visible()
    expect(page.get_by_text(f"your role: {cohort_role}")).to_be_visible()
    roster = page.get_by_role("heading", level=2, name="Roster")
    if cohort_role == "learner":
        expect(roster).to_have_count(0)
    else:
        expect(roster).to_be_visible()
        page.get_by_role("link", name="Manage the roster").click()
        expect(page.get_by_role("cell", name="learner8@demo.test", exact=True)).to_be_visible()
    assert_accessible(page)


def test_wrong_password_shows_an_error_and_stays_on_login(page, live_server):
    response = page.goto("/login")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert_accessible(page)

    page.get_by_label("E-mail").fill("learner1@demo.test")
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("That e-mail and password do not match an account")
    assert page.url == f"{live_server.url}/login"
    expect(page.get_by_label("E-mail")).to_have_value("learner1@demo.test")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    assert_accessible(page)


def test_sign_out_ends_the_session(page, sign_in, live_server):
    sign_in(page, "learner2@demo.test")
    assert_accessible(page)

    page.get_by_role("banner").get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(f"{live_server.url}/login")
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert_accessible(page)

    page.goto("/settings")
    expect(page).to_have_url(f"{live_server.url}/login?next=%2Fsettings")
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(page.get_by_text("Please sign in to see that page.")).to_be_visible()
    assert_accessible(page)


def test_first_tab_reaches_a_visible_skip_link(page):
    page.goto("/login")
    assert_accessible(page)
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).not_to_be_in_viewport()

    page.keyboard.press("Tab")

    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport(ratio=1)
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("E-mail")).to_be_focused()

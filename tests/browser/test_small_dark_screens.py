"""Pages on a phone-sized screen in the dark colour scheme: readable, and no sideways scrolling."""

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_accessible, assert_no_sideways_scrolling

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


def test_errors_and_tables_on_a_dark_phone_screen(new_page, sign_in):
    page = new_page(viewport=PHONE, color_scheme="dark")
    page.goto("/login")
    page.get_by_label("E-mail").fill("admin@demo.test")
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    assert_accessible(page)
    assert_no_sideways_scrolling(page)

    sign_in(page, "admin@demo.test")
    page.goto("/admin/users")
    expect(page.get_by_role("region", name="Users and their site-wide rights")).to_be_visible()
    assert_accessible(page)
    assert_no_sideways_scrolling(page)

    create_form = page.get_by_role("region", name="Create a user")
    create_form.get_by_role("button", name="Create user").click()
    create_form = page.get_by_role("region", name="Create a user")
    expect(create_form.get_by_text("This field is required.")).to_have_count(3)
    expect(create_form.get_by_label("E-mail")).to_have_accessible_description(
        "This field is required.")
    expect(create_form.get_by_label("Initial password")).to_have_accessible_description(
        "This field is required. At least 8 characters; tell the person to change it.")
    assert_accessible(page)
    assert_no_sideways_scrolling(page)


def test_roster_scrolls_inside_its_own_region_on_a_phone(new_page, sign_in):
    page = new_page(viewport=PHONE, color_scheme="dark")
    sign_in(page, "facilitator@demo.test")
    page.get_by_role("link", name="Autumn cohort").click()
    page.get_by_role("link", name="Manage the roster").click()

    roster = page.get_by_role("region", name="Members of Autumn cohort, sorted by name")
    expect(roster).to_be_visible()
    expect(roster.get_by_role("cell", name="learner8@demo.test", exact=True)).to_be_attached()
    assert_accessible(page)
    assert_no_sideways_scrolling(page)

"""A facilitator's moderation pages in the browser: the flag queue and a mute, start to end."""

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_accessible

pytestmark = pytest.mark.browser


def test_a_facilitator_opens_the_flag_queue_and_mutes_a_learner_for_a_while(new_page, sign_in):
    page = new_page()
    sign_in(page, "facilitator@demo.test")
    page.get_by_role("link", name="Autumn cohort").click()
    page.get_by_role("link", name="Open the flag queue").click()
    expect(page.get_by_role("heading", name="Flag queue")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="roster").click()
    page.get_by_role("link", name="Mute learner8@demo.test").click()
    assert_accessible(page)
    page.get_by_role("button", name="Mute").click()
    expect(page.get_by_label("Reason")).to_have_accessible_description(
        "Give a reason for the mute. Kept in the audit log with your name.")
    assert_accessible(page)
    page.get_by_label("Mute for").select_option(label="1 week")
    page.get_by_label("Reason").fill("A heated exchange; a week to cool off")
    page.get_by_role("button", name="Mute").click()
    expect(page.get_by_role("status")).to_contain_text("is muted for 1 week")
    expect(page.get_by_text("A heated exchange; a week to cool off")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="End the mute").click()
    expect(page.get_by_role("status")).to_contain_text("The mute has ended")
    expect(page.get_by_text("Nobody is muted.")).to_be_visible()

"""A program's whole journey: authored, launched, staffed, and released live to a learner.

The owner creates a program with three weekly modules and launches a cohort; the roster
gets two learners and a facilitator. A learner sees only the first module, and while the
learner's cohort page stays open, the facilitator releases the second one: it turns into a
link on that page without a reload.
"""

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.accessibility import assert_accessible

pytestmark = pytest.mark.browser

COHORT_ZONE = "Europe/London"
LIVE_TIMEOUT = 10_000


def add_module(page: Page, title: str, content: str, offset_days: int) -> None:
    """Add a module through the overview's "Add a module" page, released at 09:00."""
    # The overview's actions are links styled as buttons, so that is their role.
    page.get_by_role("button", name="Add a module").click()
    expect(page.get_by_role("heading", level=1, name="Add a module")).to_be_visible()
    form = page.locator("main form")
    form.get_by_label("Title").fill(title)
    form.get_by_label("Content").fill(content)
    form.get_by_label("Opens after").fill(str(offset_days))
    form.get_by_label("Opening time (cohort time)").fill("09:00")
    form.get_by_role("button", name="Add module").click()
    expect(page.get_by_role("status")).to_have_text(f"Module “{title}” added.")
    expect(page.get_by_role("heading", level=3, name=title, exact=True)).to_be_visible()


def add_member(page: Page, email: str, role: str) -> None:
    """Enrol an existing account through the roster's "Add a member" form."""
    form = page.get_by_role("region", name="Add a member")
    form.get_by_label("E-mail").fill(email)
    form.get_by_label("Role").select_option(label=role)
    form.get_by_role("button", name="Add to the cohort").click()
    expect(page.get_by_role("status")).to_have_text(f"{email} was added to the cohort.")


def roster_row(page: Page, email: str) -> Locator:
    """The roster table's row of one member, found by the e-mail cell itself."""
    # The row's "Remove" link also names the e-mail, so only an exact cell match is unique.
    return page.get_by_role("row").filter(
        has=page.get_by_role("cell", name=email, exact=True))


def timeline_item(page: Page, title: str) -> Locator:
    """A module's entry on the cohort page's timeline (not the "This week" list)."""
    return (page.get_by_role("region", name="Modules").get_by_role("listitem")
            .filter(has_text=title))


def test_module_released_by_a_facilitator_reaches_an_open_learner_page(new_page, sign_in):
    suffix = uuid.uuid4().hex[:8]
    program_title = f"Listening at work {suffix}"
    cohort_name = f"Journey cohort {suffix}"
    week_1 = f"Week 1: Hearing people out {suffix}"
    week_2 = f"Week 2: Giving feedback {suffix}"
    week_3 = f"Week 3: Hard conversations {suffix}"
    secret = f"The owl delivers feedback at midnight {suffix}."
    # Yesterday, so that week 1 (09:00 on the start day) is open whatever the hour now is,
    # and week 2 is still six days away.
    starts_on = (datetime.now(ZoneInfo(COHORT_ZONE)).date() - timedelta(days=1)).isoformat()

    owner = new_page()
    sign_in(owner, "owner@demo.test")
    # These navigation links carry role="button" (styled as buttons), so that is their role.
    owner.get_by_role("button", name="New program").click()
    expect(owner.get_by_role("heading", level=1, name="New program")).to_be_visible()
    assert_accessible(owner)
    owner.get_by_label("Title").fill(program_title)
    owner.get_by_label("Summary").fill("Practise listening with colleagues, week by week.")
    owner.get_by_label("Goals").fill("Listen before answering\nGive useful feedback")
    owner.get_by_role("button", name="Create program").click()

    expect(owner.get_by_role("heading", level=1, name=program_title)).to_be_visible()
    expect(owner.get_by_role("status")).to_have_text("Program created. Now add its modules.")
    add_module(owner, week_1, "Notice when you interrupt, and **wait** instead.", 0)
    add_module(owner, week_2, f"## Before you start\n\n{secret}\n\n- Ask first\n- Be specific",
               7)
    add_module(owner, week_3, "Prepare one difficult conversation.", 14)
    expect(owner.get_by_role("heading", level=1, name=program_title)).to_be_visible()
    expect(owner.get_by_text("3 modules · 0 cohorts launched")).to_be_visible()
    assert_accessible(owner)

    owner.get_by_role("button", name="Launch a cohort").click()
    expect(owner.get_by_role("heading", level=1, name="Launch a cohort")).to_be_visible()
    assert_accessible(owner)
    owner.get_by_label("Cohort name").fill(cohort_name)
    owner.get_by_label("Start date").fill(starts_on)
    owner.get_by_label("Time zone").select_option(COHORT_ZONE)
    owner.get_by_label("Anonymous to peers").check()
    owner.get_by_role("button", name="Launch cohort").click()

    expect(owner.get_by_role("heading", level=1, name=cohort_name)).to_be_visible()
    expect(owner.get_by_role("status")).to_have_text(
        f"Cohort “{cohort_name}” launched. Next: add its people.")
    assert_accessible(owner)
    # Staff see every module as a link, so the owner's page gives week 2's address.
    week_2_url = timeline_item(owner, week_2).get_by_role("link", name=week_2).get_attribute(
        "href")
    assert week_2_url

    owner.get_by_role("button", name="Add people").click()
    expect(owner.get_by_role("heading", level=1, name="Members")).to_be_visible()
    expect(owner.get_by_text("Nobody is enrolled yet.")).to_be_visible()
    add_member(owner, "learner1@demo.test", "Learner")
    add_member(owner, "learner2@demo.test", "Learner")
    add_member(owner, "facilitator@demo.test", "Facilitator")
    for email, role in (("learner1@demo.test", "learner"), ("learner2@demo.test", "learner"),
                        ("facilitator@demo.test", "facilitator")):
        row = roster_row(owner, email)
        expect(row).to_have_count(1)
        expect(row.get_by_role("cell", name=role, exact=True)).to_be_visible()
    expect(owner.get_by_text(f"{cohort_name} · 2 learners, 1 facilitator")).to_be_visible()
    assert_accessible(owner)

    learner = new_page()
    sign_in(learner, "learner1@demo.test")
    learner.get_by_role("region", name="My cohorts").get_by_role(
        "link", name=cohort_name).click()
    expect(learner.get_by_role("heading", level=1, name=cohort_name)).to_be_visible()
    expect(learner.get_by_text("your role: learner")).to_be_visible()
    cohort_url = learner.url
    expect(timeline_item(learner, week_1).get_by_role("link", name=week_1)).to_be_visible()
    expect(timeline_item(learner, week_2)).to_contain_text(week_2)
    expect(timeline_item(learner, week_2).get_by_role("link")).to_have_count(0)
    expect(timeline_item(learner, week_3).get_by_role("link")).to_have_count(0)
    assert_accessible(learner)

    # A member who follows a future module's address learns when it opens, not a 404.
    response = learner.goto(week_2_url)
    assert response.status == 200
    expect(learner.get_by_role("heading", level=2, name="Not open yet")).to_be_visible()
    expect(learner.get_by_text("This module opens on")).to_be_visible()
    expect(learner.locator(".open-modules").get_by_role("link", name=week_1)).to_be_visible()
    assert secret not in learner.content()
    assert_accessible(learner)

    learner.goto(cohort_url)
    timeline_item(learner, week_1).get_by_role("link", name=week_1).click()
    expect(learner.get_by_role("heading", level=1, name=week_1)).to_be_visible()
    expect(learner.locator(".module-content")).to_contain_text(
        "Notice when you interrupt, and wait instead.")
    assert_accessible(learner)

    learner.get_by_role("link", name=f"Back to {cohort_name}").click()
    expect(learner.get_by_role("heading", level=1, name=cohort_name)).to_be_visible()
    expect(learner.locator("html")).to_have_attribute("data-live", "connected",
                                                      timeout=LIVE_TIMEOUT)
    # A reload would wipe this flag: it proves the page that changes is the one left open.
    learner.evaluate("() => { window.journeyStillOpen = true; }")

    facilitator = new_page()
    sign_in(facilitator, "facilitator@demo.test")
    facilitator.get_by_role("region", name="Cohorts you facilitate").get_by_role(
        "link", name=cohort_name).click()
    expect(facilitator.get_by_text("your role: facilitator")).to_be_visible()
    assert_accessible(facilitator)
    # Chromium names it "Release now : <title>" (the hidden span is positioned, so it counts
    # as a separate block): find it within week 2's timeline entry rather than by full name.
    release_week_2 = timeline_item(facilitator, week_2).get_by_role(
        "button", name="Release now")
    expect(release_week_2).to_contain_text(week_2)
    release_week_2.click()
    # It asks first, on its own page, saying who will be notified.
    expect(facilitator.get_by_role("heading", level=1)).to_contain_text("now?")
    expect(facilitator.get_by_text("will be notified")).to_be_visible()
    assert_accessible(facilitator)
    facilitator.get_by_role("button", name=re.compile(r"^Release now and notify")).click()
    expect(facilitator.get_by_role("status")).to_have_text(
        "Opened. Members are being notified.")
    expect(release_week_2).to_have_count(0)
    assert_accessible(facilitator)

    # No reload: only the Socket.IO event can change the learner's open page.
    week_2_item = timeline_item(learner, week_2)
    week_2_link = week_2_item.get_by_role("link", name=week_2)
    expect(week_2_link).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(week_2_item.get_by_text("New", exact=True)).to_be_visible()
    assert learner.evaluate("() => window.journeyStillOpen === true")
    assert_accessible(learner)
    week_2_link.click()
    expect(learner.get_by_role("heading", level=1, name=week_2)).to_be_visible()
    expect(learner.get_by_text(secret)).to_be_visible()
    assert_accessible(learner)

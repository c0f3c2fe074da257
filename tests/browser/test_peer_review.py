"""Practice work and peer review in a real browser: learners submit, ask for a peer's work,
review it with the rubric from the keyboard, and rate the feedback they got; the
facilitator's open review board follows along without a reload.

The demo's assignment "Write a feedback request" (module "Asking for feedback", released a
week ago) asks each learner for 2 reviews, and authors read theirs once they have done
their own. Learners 1 to 5 submitted in the demo and some of their work already has a
review; learners 6, 7 and 8 (Amara, Jonas, Sofia) submit now. Allocation serves the work
with the fewest reviews first, oldest first, so each newcomer's two reviews go to Yuki's
work (learner 5, whose demo reviewer let the review expire), to one of the newcomers, and
to older work; each newcomer's own work gets one review from another newcomer.
"""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible

pytestmark = pytest.mark.browser

ASSIGNMENT = "Write a feedback request"
LIVE_TIMEOUT = 10_000
LEARNERS = (("learner6@demo.test", "Amara"), ("learner7@demo.test", "Jonas"),
            ("learner8@demo.test", "Sofia"))


def open_assignment(page: Page) -> None:
    """From the home page to the assignment: cohort, module, assignment."""
    page.get_by_role("link", name="Autumn cohort").first.click()
    page.get_by_role("link", name="Asking for feedback").first.click()
    page.get_by_role("link", name=ASSIGNMENT).click()
    expect(page.get_by_role("heading", level=1, name=ASSIGNMENT)).to_be_visible()


def review_with_the_keyboard(page: Page, mark: str) -> None:
    """Choose the rubric's levels with the arrow keys and write the comments, then submit."""
    expect(page.get_by_role("heading", level=1, name="A peer's work")).to_be_visible()
    specific = page.get_by_role("group", name="Specific")
    first = specific.get_by_role("radio", name="Vague (0 points)")
    first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(specific.get_by_role("radio", name="Clear and specific (2 points)")).to_be_checked()
    expect(specific.get_by_role("radio", name="Clear and specific (2 points)")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("textbox", name="Comment on specific (optional)")).to_be_focused()
    page.keyboard.type("You name the slide deck and the one question you have about it.")
    safe = page.get_by_role("group", name="Safe to answer")
    safe.get_by_role("radio", name="Not yet (0 points)").focus()
    page.keyboard.press("ArrowDown")
    expect(safe.get_by_role("radio", name="Somewhat (1 point)")).to_be_checked()
    page.get_by_role("textbox", name="Overall comment").fill(
        f"Clear ask. Saying you will thank them whatever they say would help ({mark}).")
    page.get_by_role("button", name="Submit review").click()
    expect(page.get_by_role("status").first).to_contain_text("Your review is submitted.")


def review_with_the_mouse(page: Page, mark: str) -> None:
    """Click the rubric's levels, write the overall comment, and submit."""
    page.get_by_role("radio", name="Partly specific (1 point)").check()
    page.get_by_role("radio", name="Inviting (2 points)").check()
    page.get_by_role("textbox", name="Overall comment").fill(
        f"The question is specific; name the deadline in the first line ({mark}).")
    page.get_by_role("button", name="Submit review").click()
    expect(page.get_by_role("status").first).to_contain_text("Your review is submitted.")


def test_learners_review_each_other_and_the_board_follows_live(new_page, sign_in):
    mark = uuid.uuid4().hex[:6]

    board = new_page()
    sign_in(board, "facilitator@demo.test")
    open_assignment(board)
    board.get_by_role("link", name="Open the review board").click()
    expect(board.get_by_role("heading", level=1, name="Review board")).to_be_visible()
    assert_accessible(board)
    expect(board.locator("html")).to_have_attribute("data-live", "connected",
                                                    timeout=LIVE_TIMEOUT)
    board.evaluate("() => { window.boardStillOpen = true; }")
    board.evaluate("""() => {
        const region = document.getElementById("live-announcer");
        window.announced = [];
        new MutationObserver(() => window.announced.push(region.textContent))
            .observe(region, {childList: true, characterData: true, subtree: true});
    }""")

    learners = {}
    for email, name in LEARNERS:
        page = new_page()
        sign_in(page, email)
        open_assignment(page)
        page.get_by_role("textbox", name="Your work").fill(
            f"Hi Sam, could you tell me by Friday whether the opening of my demo made the "
            f"problem clear? Any answer helps. ({mark})")
        page.get_by_role("button", name="Submit your work").click()
        expect(page.get_by_role("status").first).to_have_text("Your work is submitted.")
        if not learners:  # the same page for each learner: checked once
            assert_accessible(page)
        learners[name] = page

    # Each learner gives two reviews; the facilitator's open board counts them as they come.
    for number, name in enumerate(("Jonas", "Sofia", "Amara")):
        page = learners[name]
        for done in range(2):
            page.get_by_role("button", name="Review a peer's work").click()
            if number == 0 and done == 0:
                assert_accessible(page)
                # Double-blind: Jonas reviews Yuki's work and reads no name of its author.
                assert "Yuki" not in page.content()
            (review_with_the_keyboard if done == 0 else review_with_the_mouse)(page, mark)
        row = board.get_by_role("region", name="Each learner's submission and reviews"
                                ).get_by_role("row", name=re.compile(name))
        expect(row.get_by_role("cell").nth(1)).to_have_text("2", timeout=LIVE_TIMEOUT)
    board.wait_for_function("() => window.announced.some(said => said === 'Board updated')",
                            timeout=LIVE_TIMEOUT)
    assert board.evaluate("() => window.boardStillOpen === true")
    # Six pieces of work still have 1 of their 2 reviews: three from the demo, three new.
    expect(board.get_by_role("heading", name=re.compile("^Short of reviews"))).to_have_text(
        "Short of reviews (6)")
    assert_accessible(board)

    # Each author has done their two reviews, so reads the review of their work and rates it.
    for _, name in LEARNERS:
        page = learners[name]
        page.goto(page.url.split("#")[0])
        page.get_by_role("link", name="Your reviews and results").click()
        expect(page.get_by_role("heading", name="Reviewer 1")).to_be_visible()
        for _, other in LEARNERS:
            if other != name:
                assert other not in page.content()  # no reviewer's name
        if name == LEARNERS[0][1]:
            assert_accessible(page)
        first = page.locator("article", has=page.get_by_role("heading", name="Reviewer 1"))
        first.get_by_role("radio", name="5 — very helpful").check()
        first.get_by_role("button", name="Rate this review").click()
        expect(page.get_by_role("status").first).to_have_text(
            "Thank you for rating this review.")
        expect(first.get_by_role("radio", name="5 — very helpful")).to_be_checked()

    # Every reviewer now sees how helpful authors found their feedback.
    page = learners["Jonas"]
    page.get_by_role("link", name=ASSIGNMENT).first.click()
    expect(page.get_by_text(re.compile(r"Authors rated your feedback \d\.\d of 5 on average"))
           ).to_be_visible()

"""A staged discussion in a real browser: post first, anonymity, a reply arriving live and
a facilitator's hide reaching the open page; replying without the page's script.

The demo's second discussion ("What stops us asking?") has replies open and four
reflections by learners 1 to 4. Learner 7 posts anonymously; learner 8 sees only how many
peers have posted until posting too, then sees learner 7's post under its pseudonym; when
learner 7 replies to it, the reply appears on learner 8's open page without a reload; when
the facilitator hides learner 7's reflection with a reason, it disappears from learner 8's
page, again without a reload.
"""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible

pytestmark = pytest.mark.browser

THREAD = "What stops us asking?"
LIVE_TIMEOUT = 10_000


def open_thread(page: Page) -> None:
    """From the home page to the thread: cohort, module, discussion."""
    page.get_by_role("link", name="Autumn cohort").first.click()
    page.get_by_role("link", name="Asking for feedback").first.click()
    page.get_by_role("link", name=THREAD).click()
    expect(page.get_by_role("heading", level=1, name=THREAD)).to_be_visible()


def post_of(page: Page, text: str):
    """The top-level post that says ``text``."""
    return page.locator("[data-post-list] > li > article", has_text=text)


def test_post_first_then_a_pseudonymous_reply_arrives_live(new_page, sign_in):
    mark = uuid.uuid4().hex[:6]
    a_text = f"Asking feels like admitting I am stuck ({mark})."
    b_text = f"I never know when a good moment to ask is ({mark})."
    reply_text = f"A fixed slot after each demo would help me too ({mark})."

    a = new_page()
    sign_in(a, "learner7@demo.test")
    open_thread(a)
    expect(a.get_by_text("A few peers have posted")).to_be_visible()
    assert "Honestly: I am afraid" not in a.content()  # post first: no peer's words
    composer = a.get_by_role("region", name="Your reflection")
    expect(composer.get_by_text("Learners will see a pseudonym.")).to_be_visible()
    expect(composer.get_by_text("Everyone in the cohort will see your name")).to_be_visible()
    assert_accessible(a)
    composer.get_by_role("textbox", name="Your reflection").fill(a_text)
    composer.get_by_label("Post anonymously").check()
    composer.get_by_role("button", name="Post your reflection").click()
    expect(a.get_by_role("status").first).to_have_text("Your reflection is posted.")
    mine = post_of(a, a_text)
    label = mine.locator("[data-slot=author]").first.inner_text()
    assert re.fullmatch(r"Anonymous [A-Za-z]+ \(you\)", label), label
    pseudonym = label.removesuffix(" (you)")
    expect(post_of(a, "Honestly: I am afraid")).to_be_visible()  # the thread opened
    assert_accessible(a)

    b = new_page()
    sign_in(b, "learner8@demo.test")
    open_thread(b)
    expect(b.get_by_text("5 peers have posted")).to_be_visible()
    for secret in (a_text, pseudonym, "Jonas"):
        assert secret not in b.content(), secret
    b.get_by_role("textbox", name="Your reflection").fill(b_text)
    b.get_by_role("button", name="Post your reflection").click()
    expect(post_of(b, a_text).locator("[data-slot=author]").first).to_have_text(pseudonym)
    assert "Jonas" not in b.content()
    expect(b.locator("html")).to_have_attribute("data-live", "connected", timeout=LIVE_TIMEOUT)
    # A reload would wipe this flag: it proves the page that changes is the one left open.
    b.evaluate("() => { window.threadStillOpen = true; }")
    # Everything the polite live region says from now on.
    b.evaluate("""() => {
        const region = document.getElementById("live-announcer");
        window.announced = [];
        new MutationObserver(() => window.announced.push(region.textContent))
            .observe(region, {childList: true, characterData: true, subtree: true});
    }""")

    a.reload()
    target = post_of(a, b_text)
    target.get_by_role("link", name="Reply", exact=True).click()
    # The script puts the reply form under the post, on this page.
    expect(target.get_by_role("textbox", name="Your reply")).to_be_focused()
    assert "/reply" not in a.url, a.url
    target.get_by_role("textbox", name="Your reply").fill(reply_text)
    target.get_by_label("Post anonymously").check()
    target.get_by_role("button", name="Post reply").click()
    expect(a.get_by_role("status").first).to_have_text("Your reply is posted.")

    # No reload on B's side: only the Socket.IO event can put the reply there.
    reply = post_of(b, b_text).locator("[data-replies-for] article", has_text=reply_text)
    expect(reply).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(reply.locator("[data-slot=author]")).to_have_text(pseudonym)
    expect(reply.get_by_text("New", exact=True)).to_be_visible()
    b.wait_for_function("text => window.announced.some(said => said.includes(text))",
                        arg=f"New post by {pseudonym}.", timeout=LIVE_TIMEOUT)
    assert b.evaluate("() => window.threadStillOpen === true")
    assert "Jonas" not in b.content()
    assert_accessible(b)

    # The facilitator hides learner 7's reflection; learner 8's open page follows.
    f = new_page()
    sign_in(f, "facilitator@demo.test")
    open_thread(f)
    hidden = post_of(f, a_text)
    expect(hidden.locator("[data-slot=author]").first).to_contain_text(pseudonym)
    hidden.locator("summary", has_text="Moderate").first.click()
    hidden.get_by_label("Why hide it (the author reads this)").first.fill(
        "Names a colleague; please rewrite it without the name")
    hidden.get_by_role("button", name=re.compile("^Hide")).first.click()
    expect(f.get_by_role("status").first).to_be_visible()
    gone = post_of(b, "This post was hidden by a facilitator.")
    expect(gone).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(b.get_by_text(a_text)).to_have_count(0)
    assert b.evaluate("() => window.threadStillOpen === true")
    assert_accessible(b)


def test_a_page_that_lost_its_connection_catches_up_when_it_returns(new_page, sign_in):
    mark = uuid.uuid4().hex[:6]
    reader = new_page()
    sign_in(reader, "learner1@demo.test")
    open_thread(reader)
    expect(reader.locator("html")).to_have_attribute("data-live", "connected",
                                                     timeout=LIVE_TIMEOUT)
    reader.evaluate("() => { window.threadStillOpen = true; }")
    own = reader.locator("[data-post-list] > li > article",
                         has=reader.locator("[data-slot=author]", has_text="(you)")).first
    own_text = own.locator("[data-slot=body]").first.inner_text()[:40]
    reader.evaluate("() => window.cohortLive.socket.disconnect()")

    # While learner 1's page is offline, learner 2 replies to learner 1's reflection.
    writer = new_page()
    sign_in(writer, "learner2@demo.test")
    open_thread(writer)
    target = post_of(writer, own_text)
    target.get_by_role("link", name="Reply", exact=True).click()
    reply_text = f"Missed while you were away ({mark})."
    target.get_by_role("textbox", name="Your reply").fill(reply_text)
    target.get_by_role("button", name="Post reply").click()
    expect(writer.get_by_role("status").first).to_have_text("Your reply is posted.")
    assert reply_text not in reader.content()

    reader.evaluate("() => window.cohortLive.socket.connect()")
    expect(reader.get_by_text(reply_text)).to_be_visible(timeout=LIVE_TIMEOUT)
    assert reader.evaluate("() => window.threadStillOpen === true")


def test_without_the_thread_script_reply_leads_to_a_reply_page(new_page, sign_in):
    mark = uuid.uuid4().hex[:6]
    reply_text = f"Replied from the reply page ({mark})."
    page = new_page()
    # As if the script had not loaded (or JavaScript were off): the link is a plain link.
    page.route("**/js/thread.js", lambda route: route.abort())
    sign_in(page, "learner3@demo.test")
    open_thread(page)
    target = page.locator("[data-post-list] > li > article",
                          has_not=page.locator("[data-slot=author]", has_text="(you)")).first
    author = target.locator("[data-slot=author]").first.inner_text()
    target.get_by_role("link", name="Reply", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Reply to {author}")
    expect(page.get_by_role("article", name="The post you are replying to")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("textbox", name="Your reply").fill(reply_text)
    page.get_by_role("button", name="Post reply").click()
    expect(page.get_by_role("status").first).to_have_text("Your reply is posted.")
    expect(page.get_by_text(reply_text)).to_be_visible()


def test_a_facilitator_pins_and_highlights_a_post_and_readers_see_it_live(new_page, sign_in):
    reader = new_page()
    sign_in(reader, "learner1@demo.test")
    open_thread(reader)
    expect(reader.locator("html")).to_have_attribute("data-live", "connected",
                                                     timeout=LIVE_TIMEOUT)
    reader.evaluate("() => { window.threadStillOpen = true; }")
    text = "Honestly: I am afraid"
    watched = post_of(reader, text)
    expect(watched.locator("[data-slot=pinned]").first).to_be_hidden()

    staff = new_page()
    sign_in(staff, "facilitator@demo.test")
    open_thread(staff)
    target = post_of(staff, text)
    target.locator("summary", has_text="Moderate").first.click()
    target.get_by_role("button", name=re.compile("^Pin to the top")).click()
    expect(staff.get_by_role("status").first).to_be_visible()
    pinned = post_of(staff, text)
    pinned.locator("summary", has_text="Moderate").first.click()
    pinned.get_by_role("button", name=re.compile("^Highlight")).click()
    expect(staff.locator("[data-post-list] > li").first).to_contain_text(text)  # on top now

    expect(watched.locator("[data-slot=pinned]").first).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(watched.locator("[data-slot=highlighted]").first).to_be_visible(
        timeout=LIVE_TIMEOUT)
    assert reader.evaluate("() => window.threadStillOpen === true")
    assert_accessible(staff)

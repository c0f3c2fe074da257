"""The sanitiser corpus in a real browser: a thread holding every known injection payload
renders in Chromium and no script runs.

Each payload of ``tests/sanitize_corpus.txt`` is posted (through the posting service, so
it is cleaned on write as any post is) into a thread of its own in the demo cohort. The
page is opened with the Content-Security-Policy bypassed, so only the cleaning stands
between a payload and the browser. Before any page script, ``alert``, ``confirm``,
``prompt`` and ``print`` are replaced by recorders; after the page has loaded (and
``onerror``, ``onload``, ``onfocus`` and ``ontoggle`` had their chance), the browser's own
DOM is searched for event-handler attributes, ``style`` attributes, elements outside the
allowlist and links whose protocol — as the browser parses it — is not http, https or
mailto.
"""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.accounts.models import User
from app.db import get_session, utcnow
from app.discussions.models import Post, Thread
from app.discussions.posting import create_post
from app.sanitize import ALLOWED_TAGS
from tests.conftest import new_app
from tests.test_sanitize_corpus import load_corpus

pytestmark = pytest.mark.browser

RECORD_SCRIPT_RUNS = """
window.__ran = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__ran.push(name + ":" + args.join(",")); };
}
"""

FIND_EXECUTABLE = """allowed => {
  const found = [];
  for (const article of document.querySelectorAll("article[id^=post-]")) {
    const body = article.querySelector("[data-slot=body]");
    if (!body) { continue; }
    for (const element of body.querySelectorAll("*")) {
      const tag = element.tagName.toLowerCase();
      if (!allowed.includes(tag)) { found.push(article.id + ": <" + tag + ">"); }
      for (const attribute of element.attributes) {
        const name = attribute.name.toLowerCase();
        if (name.startsWith("on") || name === "style" || name === "srcdoc") {
          found.push(article.id + ": " + tag + "[" + name + "]");
        }
      }
      if (tag === "a" && element.hasAttribute("href") &&
          !["http:", "https:", "mailto:"].includes(element.protocol)) {
        found.push(article.id + ": link to " + element.protocol);
      }
    }
  }
  return found;
}"""


@pytest.fixture
def corpus_thread(live_server) -> int:
    """A thread of the demo cohort holding every payload, posted by its facilitator."""
    app = new_app(DATABASE_URL=live_server.database_url)
    with app.app_context():
        session = get_session()
        model = session.scalar(select(Thread).where(Thread.title == "What stops us asking?"))
        facilitator = session.scalar(select(User).where(User.email == "facilitator@demo.test"))
        thread = Thread(cohort_id=model.cohort_id, cohort_module_id=model.cohort_module_id,
                        position=model.position + 100, title="Injection corpus",
                        body="Every payload.", body_html="<p>Every payload.</p>",
                        respond_after_days=0, synthesize_after_days=30, close_after_days=30,
                        min_replies=0)
        session.add(thread)
        session.commit()
        thread_id = thread.id
        now = utcnow() + timedelta(seconds=1)
        for _kind, payload in load_corpus():
            create_post(facilitator, thread_id, body=payload or "(empty payload)", now=now)
        posted = session.scalar(select(func.count(Post.id)).where(Post.thread_id == thread_id))
        assert posted == len(load_corpus())
    return thread_id


def test_a_thread_of_injection_payloads_runs_no_script(new_page, sign_in, corpus_thread):
    page = new_page()
    page.add_init_script(RECORD_SCRIPT_RUNS)
    sign_in(page, "facilitator@demo.test")
    page.goto(f"/threads/{corpus_thread}")
    expect(page.get_by_role("heading", level=1, name="Injection corpus")).to_be_visible()
    articles = page.locator("[data-post-list] article[id^=post-]")
    expect(articles).to_have_count(len(load_corpus()))
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)  # onerror of a broken image, ontoggle, autofocus…
    assert page.evaluate("() => window.__ran") == []
    assert page.evaluate(FIND_EXECUTABLE, sorted(ALLOWED_TAGS)) == []

"""Thread pages through HTTP: post first on the HTML, writing through plain forms, refused
writes that keep the text, access, the module page's thread facts, and a fixed query count.

Requests run on the real clock, so the world is released relative to it (``live_release``).
"""

import html
import re

import pytest
from sqlalchemy import func, insert, select

from app.db import utcnow
from app.discussions import posting
from app.discussions.anonymity import who_sees_the_name
from app.discussions.models import Draft, Post, PostRevision, ThreadParticipant
from tests.discussions.world import discussion, live_release


def discussion_now(session, *, days: float = 1, **settings):
    """The discussion, its thread released ``days`` before the real clock (1: reflect,
    2.5: respond)."""
    return discussion(session, released_at=live_release(days), **settings)


@pytest.fixture
def d(db):
    """The discussion in its reflect stage (a day after release)."""
    with db() as session:
        return discussion_now(session)


@pytest.fixture
def respond(db):
    """The discussion in its respond stage: replies are open."""
    with db() as session:
        return discussion_now(session, days=2.5)


def _post(app, user, thread, body, **kwargs):
    """Post through the service (the page tests' set-up), on the real clock."""
    with app.app_context():
        return posting.create_post(user, thread.id, body=body, now=utcnow(), **kwargs)


def _page(client, thread_id: int) -> str:
    """The thread page's HTML with its entities decoded (and it must answer 200)."""
    response = client.get(f"/threads/{thread_id}")
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def _textarea(page: str, element_id: str) -> str | None:
    """The text inside the textarea with this id, as a browser reads it (a newline right
    after the opening tag is not part of it)."""
    match = re.search(rf'<textarea id="{re.escape(element_id)}"[^>]*>(.*?)</textarea>', page,
                      re.S)
    return match.group(1).removeprefix("\r\n").removeprefix("\n") if match else None


# --- post first ------------------------------------------------------------------------------

def test_a_learner_who_has_not_posted_sees_no_post_no_name_and_no_pseudonym(app, client,
                                                                           login, d):
    named, anonymous = d.people["peer_1"], d.people["peer_2"]
    _post(app, named, d.thread, "Named secret reflection")
    hidden = _post(app, anonymous, d.thread, "Anonymous secret reflection", anonymous=True)
    login(client, d.people["learner_a"])
    page = _page(client, d.thread.id)
    # Nothing of the posts anywhere in the HTML: text, attributes, data-*, templates.
    for leak in ("secret reflection", named.name, anonymous.name, hidden.author.pseudonym,
                 "Anonymous ", f"post-{hidden.id}", "<template", "data-post-id"):
        assert leak not in page, leak
    assert "What changed for you?" in page  # the prompt
    assert 'data-peers-posted>A few peers have posted<' in page
    assert "Post your reflection to see your peers'." in page
    assert 'id="composer-body"' in page and "Post your reflection" in page
    # Posting unlocks the thread: the peers' posts, the pseudonym but not its owner's name.
    response = client.post_form(f"/threads/{d.thread.id}/posts",
                                {"body": "My own reflection"},
                                token_from=f"/threads/{d.thread.id}")
    assert response.status_code == 302
    assert re.fullmatch(rf"/threads/{d.thread.id}#post-\d+", response.headers["Location"])
    page = _page(client, d.thread.id)
    assert "Your reflection is posted." in page
    assert "Named secret reflection" in page and "Anonymous secret reflection" in page
    assert named.name in page and hidden.author.pseudonym in page
    assert anonymous.name not in page
    assert "My own reflection" in page and f"{d.people['learner_a'].name} (you)</span>" in page
    assert 'id="composer-body"' not in page  # one reflection each


def test_the_page_loads_its_script_and_has_no_inline_code(app, client, login, d):
    login(client, d.people["learner_a"])
    page = _page(client, d.thread.id)
    assert '<script src="/static/js/thread.js" defer></script>' in page
    assert "<script>" not in page and " style=" not in page and "onclick" not in page
    assert f'data-live-room="thread:{d.thread.id}"' in page
    assert f'data-draft-url="/api/v1/threads/{d.thread.id}/draft"' in page
    # The breadcrumb leads back to the module page.
    module_path = f"/cohorts/{d.world.cohort_a.id}/modules/{d.thread.cohort_module_id}"
    assert f'href="{module_path}"' in page


def test_staff_see_every_post_with_who_wrote_it_under_the_peers_policy(app, client, login, d):
    author = d.people["peer_1"]
    post = _post(app, author, d.thread, "Said in confidence", anonymous=True)
    login(client, d.people["facilitator_a"])
    page = _page(client, d.thread.id)
    assert f"{post.author.pseudonym} ({author.name})" in page
    assert "Said in confidence" in page


# --- the composer ----------------------------------------------------------------------------

@pytest.mark.parametrize("policy", ["peers", "everyone"])
def test_the_composer_says_who_will_see_the_name_for_each_choice(app, db, client, login,
                                                                policy):
    with db() as session:
        d = discussion_now(session, anonymity=policy)
    login(client, d.people["learner_a"])
    page = _page(client, d.thread.id)
    texts = who_sees_the_name(policy)
    assert 'name="anonymous"' in page and "Post anonymously" in page
    assert texts["named"] in page
    assert texts["anonymous"] in page
    assert 'aria-describedby="composer-who-named composer-who-anonymous"' in page


def test_without_anonymity_the_composer_offers_no_choice_and_says_so(app, db, client, login):
    with db() as session:
        d = discussion_now(session, anonymity="off")
    login(client, d.people["learner_a"])
    page = _page(client, d.thread.id)
    assert 'name="anonymous"' not in page
    assert who_sees_the_name("off")["named"] in page


def test_an_anonymous_post_shows_its_pseudonym_and_you_to_its_author(app, db, client, login, d):
    login(client, d.people["learner_a"])
    response = client.post_form(f"/threads/{d.thread.id}/posts",
                                {"body": "Quietly", "anonymous": "y"},
                                token_from=f"/threads/{d.thread.id}")
    assert response.status_code == 302
    with db() as session:
        post = session.scalars(select(Post)).one()
        assert post.anonymity == "peers" and post.pseudonym
    page = _page(client, d.thread.id)
    assert f"{post.pseudonym} (you)" in page


def test_a_draft_saved_as_the_script_does_fills_the_composer(app, db, client, login, d):
    login(client, d.people["learner_a"])
    token = client.csrf_token(f"/threads/{d.thread.id}")
    saved = client.put(f"/api/v1/threads/{d.thread.id}/draft", json={"body": "Half a thought"},
                       headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert saved.status_code == 200
    assert _textarea(_page(client, d.thread.id), "composer-body") == "Half a thought"
    with db() as session:
        assert session.scalars(select(Draft.body)).all() == ["Half a thought"]


# --- writing through the forms -----------------------------------------------------------------

def test_a_reply_goes_under_its_post_and_counts_towards_the_gate(app, client, login, respond):
    d = respond
    peer = _post(app, d.people["peer_1"], d.thread, "Peer's reflection")
    _post(app, d.people["learner_a"], d.thread, "Mine")
    login(client, d.people["learner_a"])
    page = _page(client, d.thread.id)
    assert "reply to at least 2 peers; you have given 0 replies." in page
    # A link to the reply page, and one reply form for the script to put under a post.
    assert (f'<a class="reply-link" href="/posts/{peer.id}/reply" data-reply-to="{peer.id}"'
            in page)
    assert page.count('name="parent_id"') == 1 and "<template data-reply-template" in page
    response = client.post_form(f"/threads/{d.thread.id}/posts",
                                {"body": "A thoughtful reply", "parent_id": str(peer.id)},
                                token_from=f"/threads/{d.thread.id}")
    assert response.status_code == 302
    reply_id = int(response.headers["Location"].rsplit("-", 1)[1])
    page = _page(client, d.thread.id)
    assert "Your reply is posted." in page and "you have given 1 reply." in page
    replies = page.split(f'data-replies-for="{peer.id}"', 1)[1].split("</ol>", 1)[0]
    assert f'id="post-{reply_id}"' in replies and "A thoughtful reply" in replies


def test_a_refused_reply_keeps_its_text_and_says_why(app, client, login, d):
    peer = _post(app, d.people["peer_1"], d.thread, "Peer's reflection")
    _post(app, d.people["learner_a"], d.thread, "Mine")
    login(client, d.people["learner_a"])
    page = _page(client, d.thread.id)
    assert f"/posts/{peer.id}/reply" not in page  # replies open in the next stage
    assert "data-reply-template" not in page
    assert client.get(f"/posts/{peer.id}/reply").status_code == 403
    response = client.post_form(f"/threads/{d.thread.id}/posts",
                                {"body": "Too early", "parent_id": str(peer.id)},
                                token_from=f"/threads/{d.thread.id}")
    assert response.status_code == 403
    page = html.unescape(response.get_data(as_text=True))
    assert "Replies open in the next stage" in page and 'role="alert"' in page
    assert _textarea(page, "kept-body") == "Too early"


def test_the_reply_page_shows_the_post_the_draft_and_who_will_see_the_name(app, client,
                                                                           login, respond):
    d = respond
    peer = _post(app, d.people["peer_1"], d.thread, "Peer's reflection")
    _post(app, d.people["learner_a"], d.thread, "Mine")
    login(client, d.people["learner_a"])
    path = f"/posts/{peer.id}/reply"
    token = client.csrf_token(f"/threads/{d.thread.id}")
    client.put(f"/api/v1/threads/{d.thread.id}/draft",
               json={"body": "Half a reply", "parent_id": peer.id},
               headers={"X-CSRFToken": token, "Accept": "application/json"})
    # The draft comes back under its post on the thread page, and on the reply page.
    page = _page(client, d.thread.id)
    assert _textarea(page, f"reply-{peer.id}-body") == "Half a reply"
    assert f'href="{path}"' not in page
    response = client.get(path)
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "Peer's reflection" in page and d.people["peer_1"].name in page
    assert _textarea(page, "reply-body") == "Half a reply"
    assert 'aria-describedby="reply-who-named reply-who-anonymous"' in page
    assert who_sees_the_name("peers")["anonymous"] in page
    # Refused: the text stays, with why, next to the textarea.
    refused = client.post(path, data={"csrf_token": token, "body": "  ", "anonymous": "y"})
    assert refused.status_code == 422
    page = html.unescape(refused.get_data(as_text=True))
    assert 'id="reply-body-error"' in page and "Write something before posting." in page
    assert 'id="reply-anonymous" name="anonymous" value="y"' in page
    assert 'reply-who-anonymous" checked>' in page
    posted = client.post(path, data={"csrf_token": token, "body": "A reply from its page"})
    assert posted.status_code == 302
    reply_id = int(posted.headers["Location"].rsplit("-", 1)[1])
    page = _page(client, d.thread.id)
    assert "Your reply is posted." in page
    replies = page.split(f'data-replies-for="{peer.id}"', 1)[1].split("</ol>", 1)[0]
    assert f'id="post-{reply_id}"' in replies and "A reply from its page" in replies
    assert f'href="{path}"' in page  # the draft went with the reply


def test_an_empty_post_is_refused_next_to_the_composer(app, client, login, d):
    login(client, d.people["learner_a"])
    response = client.post_form(f"/threads/{d.thread.id}/posts", {"body": "   "},
                                token_from=f"/threads/{d.thread.id}")
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert 'id="composer-body-error"' in page and "Write something before posting." in page
    assert 'aria-invalid="true"' in page


def test_the_author_edits_and_reads_the_earlier_versions(app, db, client, login, d):
    post = _post(app, d.people["learner_a"], d.thread, "First words")
    login(client, d.people["learner_a"])
    edit = f"/posts/{post.id}/edit"
    form = html.unescape(client.get(edit).get_data(as_text=True))
    assert _textarea(form, "body") == "First words"
    assert 'name="version" type="hidden" value="1"' in form
    response = client.post_form(edit, {"body": "Better words", "version": "1"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/threads/{d.thread.id}#post-{post.id}"
    page = _page(client, d.thread.id)
    assert "Better words" in page and "First words" not in page
    assert f'<a href="/posts/{post.id}/revisions">earlier versions</a>' in page
    revisions = html.unescape(client.get(f"/posts/{post.id}/revisions").get_data(as_text=True))
    assert "Version 2 (now)" in revisions and "First words" in revisions
    with db() as session:
        assert session.scalar(select(func.count(PostRevision.id))) == 1


def test_a_stale_edit_shows_both_texts_and_saves_on_the_second_try(app, db, client, login, d):
    author = d.people["learner_a"]
    post = _post(app, author, d.thread, "Version one")
    login(client, author)
    edit = f"/posts/{post.id}/edit"
    token = client.csrf_token(edit)
    with app.app_context():  # saved in another tab meanwhile
        posting.edit_post(author, post.id, body="Version two, from the other tab", version=1,
                          now=utcnow())
    response = client.post(edit, data={"csrf_token": token, "body": "My careful rewrite",
                                       "version": "1"})
    assert response.status_code == 409
    page = html.unescape(response.get_data(as_text=True))
    assert "changed somewhere else" in page
    assert "The current text (version 2)" in page and "Version two, from the other tab" in page
    assert _textarea(page, "body") == "My careful rewrite"
    assert 'name="version" type="hidden" value="2"' in page
    again = client.post(edit, data={"csrf_token": token, "body": "My careful rewrite",
                                    "version": "2"})
    assert again.status_code == 302
    with db() as session:
        assert session.get(Post, post.id).body == "My careful rewrite"


def test_others_cannot_edit_and_do_not_see_the_revisions(app, client, login, d):
    post = _post(app, d.people["peer_1"], d.thread, "Peer's words")
    _post(app, d.people["learner_a"], d.thread, "Mine")
    login(client, d.people["learner_a"])
    assert client.get(f"/posts/{post.id}/edit").status_code == 403
    assert client.post_form(f"/posts/{post.id}/edit", {"body": "Mine now", "version": "1"},
                            token_from=f"/threads/{d.thread.id}").status_code == 403
    assert client.get(f"/posts/{post.id}/revisions").status_code == 404


def test_deleting_asks_first_then_leaves_a_placeholder_above_the_replies(app, db, client,
                                                                        login, respond):
    d = respond
    author = d.people["learner_a"]
    post = _post(app, author, d.thread, "Soon gone")
    _post(app, d.people["peer_1"], d.thread, "Peer")
    _post(app, d.people["peer_1"], d.thread, "A reply that stays", parent_id=post.id)
    login(client, author)
    confirm = client.get(f"/posts/{post.id}/delete")
    assert confirm.status_code == 200 and "Delete this post?" in confirm.get_data(as_text=True)
    response = client.post_form(f"/posts/{post.id}/delete", {})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/threads/{d.thread.id}#posts"
    page = _page(client, d.thread.id)
    assert "Soon gone" not in page and "This post was deleted." in page
    assert "A reply that stays" in page
    assert client.post_form(f"/posts/{post.id}/delete", {},
                            token_from=f"/threads/{d.thread.id}").status_code == 302


def test_reactions_toggle_through_the_pages_one_form(app, db, client, login, d):
    post = _post(app, d.people["peer_1"], d.thread, "Worth a thanks")
    _post(app, d.people["learner_a"], d.thread, "Mine")
    login(client, d.people["learner_a"])
    path = f"/threads/{d.thread.id}/reactions"
    page = _page(client, d.thread.id)
    assert page.count('id="react-form"') == 1 and f'action="{path}"' in page
    response = client.post_form(path, {"reaction": f"{post.id}:thanks:1"},
                                token_from=f"/threads/{d.thread.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/threads/{d.thread.id}#post-{post.id}"
    article = _page(client, d.thread.id).split(f'id="post-{post.id}"', 1)[1]
    assert re.search(rf'<button type="submit" form="react-form" name="reaction" [^>]*'
                     rf'value="{post.id}:thanks:0" aria-pressed="true">Thanks '
                     r'<span data-count="thanks">1</span>', article)
    client.post_form(path, {"reaction": f"{post.id}:thanks:0"},
                     token_from=f"/threads/{d.thread.id}")
    article = _page(client, d.thread.id).split(f'id="post-{post.id}"', 1)[1]
    assert (f'value="{post.id}:thanks:1" aria-pressed="false">Thanks '
            '<span data-count="thanks">0</span>') in article
    bad = client.post_form(path, {"reaction": f"{post.id}:applause:1"},
                           token_from=f"/threads/{d.thread.id}")
    assert bad.status_code == 422 and "React with one of" in bad.get_data(as_text=True)
    # A post the address's thread does not hold, or no post at all: not found.
    with db() as session:
        elsewhere = discussion_now(session)
    other = _post(app, elsewhere.people["peer_1"], elsewhere.thread, "In another thread")
    for value in (f"{other.id}:thanks:1", "thanks", f"{2**40}:thanks:1", ""):
        assert client.post_form(path, {"reaction": value},
                                token_from=f"/threads/{d.thread.id}").status_code == 404, value


def test_staff_posts_carry_a_badge_and_highlighted_posts_a_mark(app, db, client, login, d):
    note = _post(app, d.people["facilitator_a"], d.thread, "From the facilitator")
    peer = _post(app, d.people["peer_1"], d.thread, "A fine reflection")
    with db() as session:
        session.get(Post, peer.id).highlighted = True
    login(client, d.people["peer_2"])
    _post(app, d.people["peer_2"], d.thread, "Mine")
    page = _page(client, d.thread.id)
    staff = page.split(f'id="post-{note.id}"', 1)[1].split("</header>", 1)[0]
    assert 'data-slot="staff">Staff</span>' in staff
    opening_tag = page.split(f'id="post-{peer.id}"', 1)[1].split(">", 1)[0]
    assert "post-highlighted" in opening_tag
    assert ('data-slot="highlighted">Highlighted by a facilitator</span>'
            in page.split(f'id="post-{peer.id}"', 1)[1].split("</header>", 1)[0])


# --- refused before the view: expired form tokens and the rate limit ---------------------------

def test_an_expired_form_token_keeps_the_text_of_a_new_post(app, client, login, d):
    login(client, d.people["learner_a"])
    response = client.post(f"/threads/{d.thread.id}/posts",
                           data={"csrf_token": "stale", "body": "Long careful text",
                                 "anonymous": "y"})
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "Your session's form token expired; your text is below — post again." in page
    assert _textarea(page, "composer-body") == "Long careful text"
    assert 'id="composer-anonymous" name="anonymous" value="y" aria-describedby=' in page
    assert "composer-who-anonymous\" checked>" in page
    # The page carries a fresh token: posting again works.
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    again = client.post(f"/threads/{d.thread.id}/posts",
                        data={"csrf_token": token, "body": "Long careful text"})
    assert again.status_code == 302


def test_an_expired_form_token_keeps_the_text_of_a_reply_and_an_edit(app, client, login,
                                                                     respond):
    d = respond
    peer = _post(app, d.people["peer_1"], d.thread, "Peer")
    mine = _post(app, d.people["learner_a"], d.thread, "Mine")
    login(client, d.people["learner_a"])
    reply = client.post(f"/threads/{d.thread.id}/posts",
                        data={"body": "Reply text", "parent_id": str(peer.id)})
    assert reply.status_code == 400
    page = html.unescape(reply.get_data(as_text=True))
    assert _textarea(page, f"reply-{peer.id}-body") == "Reply text"
    edit = client.post(f"/posts/{mine.id}/edit", data={"body": "Edited text", "version": "1"})
    assert edit.status_code == 400
    page = html.unescape(edit.get_data(as_text=True))
    assert "form token expired" in page and _textarea(page, "body") == "Edited text"
    # The reply page keeps it too.
    page = html.unescape(client.post(f"/posts/{peer.id}/reply",
                                     data={"body": "Reply there"}).get_data(as_text=True))
    assert "form token expired" in page and _textarea(page, "reply-body") == "Reply there"
    # Other forms get the usual refusal.
    react = client.post(f"/threads/{d.thread.id}/reactions",
                        data={"reaction": f"{peer.id}:thanks:1"})
    assert react.status_code == 400 and "no valid CSRF token" in react.get_data(as_text=True)


class TestTheRateLimit:
    @pytest.fixture
    def config_overrides(self):
        return {"POSTING_RATE_LIMIT": "2 per minute"}

    def test_posting_too_fast_keeps_the_text_and_says_when(self, app, client, login, d):
        login(client, d.people["facilitator_a"])
        path = f"/threads/{d.thread.id}/posts"
        token = client.csrf_token(f"/threads/{d.thread.id}")
        for n in range(2):
            assert client.post(path, data={"csrf_token": token,
                                           "body": f"Note {n}"}).status_code == 302
        response = client.post(path, data={"csrf_token": token, "body": "Third note"})
        assert response.status_code == 429 and response.headers["Retry-After"]
        page = html.unescape(response.get_data(as_text=True))
        assert "faster than the limit allows" in page
        assert _textarea(page, "composer-body") == "Third note"


# --- who may see the thread ------------------------------------------------------------------

@pytest.mark.parametrize("role", ["learner_b", "facilitator_b", "owner_b", "outsider", "admin"])
def test_other_cohorts_and_outsiders_get_404_everywhere(app, client, login, respond, role):
    d = respond
    post = _post(app, d.people["peer_1"], d.thread, "Inside cohort A")
    login(client, d.people[role])
    token = client.csrf_token("/")
    assert client.get(f"/threads/{d.thread.id}").status_code == 404
    for path in (f"/posts/{post.id}/edit", f"/posts/{post.id}/delete",
                 f"/posts/{post.id}/revisions", f"/posts/{post.id}/reply"):
        assert client.get(path).status_code == 404, path
    writes = {f"/threads/{d.thread.id}/posts": {"body": "x", "parent_id": str(post.id)},
              f"/posts/{post.id}/reply": {"body": "x"},
              f"/threads/{d.thread.id}/reactions": {"reaction": f"{post.id}:thanks:1"},
              f"/posts/{post.id}/delete": {}, f"/posts/{post.id}/edit": {"body": "x",
                                                                         "version": "1"}}
    for path, data in writes.items():
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 404, path


def test_learners_cannot_open_a_thread_before_its_module_is_released(app, client, login, d):
    login(client, d.people["learner_a"])
    assert client.get(f"/threads/{d.future_thread.id}").status_code == 404
    client.post_form("/logout", {}, token_from="/")
    login(client, d.people["facilitator_a"])
    page = _page(client, d.future_thread.id)
    assert "This discussion opens when its module opens." in page


def test_signed_out_visitors_are_sent_to_sign_in(client, d):
    response = client.get(f"/threads/{d.thread.id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_learners_who_have_not_posted_cannot_reach_posts_by_address(app, client, login, d):
    post = _post(app, d.people["peer_1"], d.thread, "Not yet for you")
    login(client, d.people["learner_a"])
    for path in (f"/posts/{post.id}/edit", f"/posts/{post.id}/delete",
                 f"/posts/{post.id}/revisions", f"/posts/{post.id}/reply"):
        response = client.get(path)
        assert response.status_code == 404 and "Not yet for you" not in response.get_data(
            as_text=True)


# --- the module page ---------------------------------------------------------------------------

def _module_page(client, d) -> str:
    """The thread's module page (HTML, entities decoded)."""
    response = client.get(f"/cohorts/{d.world.cohort_a.id}/modules/{d.thread.cohort_module_id}")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def _facts(page: str, thread_id: int) -> list[str]:
    """The facts listed under a thread on a module page."""
    part = page.split(f'id="part-thread-{thread_id}"', 1)[1].split("</article>", 1)[0]
    facts = part.split('<ul class="part-facts">', 1)[1].split("</ul>", 1)[0]
    return re.findall(r"<li>(.*?)</li>", facts)


def test_the_module_page_links_the_thread_with_what_it_means_for_the_viewer(app, client,
                                                                           login, d):
    _post(app, d.people["peer_1"], d.thread, "One")
    login(client, d.people["learner_a"])
    page = _module_page(client, d)
    assert f'<a href="/threads/{d.thread.id}">{d.thread.title}</a>' in page
    assert _facts(page, d.thread.id)[:2] == ["Post your reflection to see your peers'",
                                             "Reply to at least 2 peers"]
    client.post_form(f"/threads/{d.thread.id}/posts", {"body": "Mine"},
                     token_from=f"/threads/{d.thread.id}")
    _post(app, d.people["peer_2"], d.thread, "Two")
    _post(app, d.people["peer_3"], d.thread, "Three")
    assert _facts(_module_page(client, d), d.thread.id)[:2] == ["2 new posts", "Stage: Reflect"]
    _page(client, d.thread.id)  # reading the thread moves the marker
    assert _facts(_module_page(client, d), d.thread.id)[:2] == ["No new posts", "Stage: Reflect"]
    client.post_form("/logout", {}, token_from="/")
    login(client, d.people["facilitator_a"])
    assert _facts(_module_page(client, d), d.thread.id)[:2] == ["4 new posts", "Stage: Reflect"]


# --- what a read writes, and what it costs -----------------------------------------------------

def test_the_unread_marker_is_written_after_the_response_and_only_when_it_moves(
        app, db, client, login, query_counter, d):
    post = _post(app, d.people["peer_1"], d.thread, "One")
    login(client, d.people["facilitator_a"])
    _page(client, d.thread.id)
    with db() as session:
        marker = session.scalar(select(ThreadParticipant.last_seen_post_id).where(
            ThreadParticipant.user_id == d.people["facilitator_a"].id))
        assert marker == post.id
    with query_counter.counting():
        _page(client, d.thread.id)
    writes = [s for s in query_counter.statements if s.startswith(("INSERT", "UPDATE"))
              and "thread_participants" in s]
    assert writes == []


def _bulk_posts(session, d, count: int) -> None:
    """``count`` posts by five peers (a third anonymous, every fourth a reply), inserted at once."""
    peers = [d.people[f"peer_{n}"] for n in range(1, 6)]
    first = None
    rows = []
    for n in range(count):
        anonymous = n % 3 == 0
        rows.append({"thread_id": d.thread.id, "cohort_id": d.thread.cohort_id,
                     "author_id": peers[n % 5].id, "kind": "reflection", "body": f"Post {n}",
                     "body_html": f"<p>Post {n}</p>", "anonymity": "peers" if anonymous
                     else "off", "pseudonym": f"Anonymous Owl {n % 5}" if anonymous else "",
                     "created_at": utcnow()})
    session.execute(insert(Post), rows[:1])
    first = session.scalar(select(func.min(Post.id)).where(Post.thread_id == d.thread.id))
    for n, row in enumerate(rows[1:], start=1):
        if n % 4 == 0:
            row.update(kind="reply", parent_id=first)
    if rows[1:]:
        session.execute(insert(Post), rows[1:])


def test_the_thread_page_costs_the_same_for_5_50_or_500_posts(app, db, client, login,
                                                              query_counter):
    counts = {}
    for size in (5, 50, 500):
        with db() as session:
            d = discussion_now(session)
            reader = d.people["peer_1"]
            _bulk_posts(session, d, size)
        _post(app, reader, d.thread, "The reader's own reflection")
        browser = app.test_client()
        login(browser, reader)
        browser.get(f"/threads/{d.thread.id}")  # warm up (and move the unread marker)
        with query_counter.counting():
            response = browser.get(f"/threads/{d.thread.id}")
        assert response.status_code == 200
        # The posts, the reader's own, and the page's two templates of a live post.
        assert response.get_data(as_text=True).count('class="post post-shown') == size + 3
        counts[size] = len([s for s in query_counter.statements
                            if not s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))])
    assert counts[5] == counts[50] == counts[500], (counts, query_counter.statements)


def test_a_post_sent_after_the_session_ended_comes_back_with_its_text(app, db, client, login):
    from tests.discussions.world import discussion, live_release

    with db() as session:
        d = discussion(session, released_at=live_release(2.5))
    login(client, d.people["peer_1"])
    token = client.csrf_token(f"/threads/{d.thread.id}")
    client.post("/logout", data={"csrf_token": token})
    typed = "A long reflection typed while the session quietly ended."
    for path in (f"/threads/{d.thread.id}/posts", "/posts/1/edit", "/posts/1/reply"):
        answer = client.post(path, data={"csrf_token": token, "body": typed})
        page = answer.get_data(as_text=True)
        assert answer.status_code == 401, path
        assert typed in page and "You were signed out" in page
        assert "/login?next=" in page

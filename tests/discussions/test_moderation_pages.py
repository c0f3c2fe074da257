"""Moderation pages: the report form, facilitators' forms, the flag queue, mutes, reveals,
the thread page's tools, and who gets 403 or 404 from every page."""

from datetime import timedelta

import pytest
from flask import render_template_string
from sqlalchemy import select

from app.db import utcnow
from app.discussions import moderation, reveals
from app.discussions.models import Post, Thread
from app.discussions.posts import list_posts
from app.discussions.thread_views import post_urls
from app.discussions.threads import get_thread_for
from tests.discussions.moderation_world import OUTSIDERS, REASON, Live, live_discussion


@pytest.fixture
def w(db) -> Live:
    return live_discussion(db)


def test_a_member_reports_a_post_through_the_form(client, db, login, w):
    path = f"/posts/{w.post_id}/flag"
    login(client, w.people["peer_2"])
    page = client.get(path).get_data(as_text=True)
    assert 'for="reason"' in page and "Anonymous words" in page
    assert w.people["peer_1"].name not in page
    assert client.post_form(path, {"reason": ""}).status_code == 422
    assert client.post(path, data={"reason": "x"}).status_code == 400  # no CSRF token
    sent = client.post_form(path, {"reason": "It mocks a colleague"})
    assert sent.status_code == 302
    assert sent.headers["Location"] == f"/threads/{w.thread_id}#post-{w.post_id}"
    again = client.post_form(path, {"reason": "Still"})
    assert again.status_code == 302  # told, kindly, that it is already reported
    with db() as session:
        assert session.get(Post, w.post_id).flag_count == 1


def test_report_form_access(client, login, w):
    path = f"/posts/{w.post_id}/flag"
    for name, status in (("learner_a", 404), ("facilitator_a", 200), ("peer_1", 403),
                         ("learner_b", 404), ("outsider", 404), ("admin", 404)):
        login(client, w.people[name])
        assert client.get(path).status_code == status, name
        client.post_form("/logout", {}, token_from="/")


def test_facilitators_moderate_from_the_forms_and_return_where_they_were(client, db, login, w):
    login(client, w.people["facilitator_a"])
    path = f"/posts/{w.post_id}/moderate"
    hidden = client.post_form(path, {"action": "hide", "reason": "Names a colleague"},
                              token_from="/")
    assert hidden.headers["Location"] == f"/threads/{w.thread_id}#post-{w.post_id}"
    queue = f"/cohorts/{w.cohort_id}/flags"
    back = client.post_form(path, {"action": "restore", "reason": "Fixed", "next": queue},
                            token_from="/")
    assert back.headers["Location"] == queue
    refused = client.post_form(path, {"action": "hide", "reason": "", "next": queue},
                               token_from="/")
    assert refused.headers["Location"] == queue
    assert "Give a reason" in client.get(queue).get_data(as_text=True)
    away = client.post_form(path, {"action": "pin", "next": "https://evil.example/"},
                            token_from="/")
    assert away.headers["Location"] == f"/threads/{w.thread_id}#post-{w.post_id}"
    locked = client.post_form(f"/threads/{w.thread_id}/moderate",
                              {"action": "lock", "reason": "Pausing"}, token_from="/")
    assert locked.headers["Location"] == f"/threads/{w.thread_id}"
    with db() as session:
        post = session.get(Post, w.post_id)
        assert post.pinned and post.hidden_at is None
        assert session.get(Thread, w.thread_id).locked_reason == "Pausing"


def test_the_flag_queue_page_shows_reasons_and_mutes_to_staff(client, db, login, w):
    with db():
        for name in ("peer_2", "peer_3"):
            moderation.flag_post(w.people[name], w.post_id, f"Reason of {name}", now=utcnow())
        moderation.mute_member(w.people["facilitator_a"], w.cohort_id, w.people["peer_4"].id,
                               until=utcnow() + timedelta(days=1), reason="Cooling off",
                               now=utcnow())
    path = f"/cohorts/{w.cohort_id}/flags"
    login(client, w.people["owner_a"])
    page = client.get(path).get_data(as_text=True)
    assert "Reason of peer_2" in page and "Reason of peer_3" in page
    assert w.people["peer_2"].name not in page  # flaggers are never named
    assert "Cooling off" in page and w.people["peer_4"].name in page
    assert f'action="/posts/{w.post_id}/moderate"' in page
    assert path in client.get(f"/cohorts/{w.cohort_id}").get_data(as_text=True)
    client.post_form("/logout", {}, token_from="/")
    login(client, w.people["peer_2"])
    assert client.get(path).status_code == 403
    assert path not in client.get(f"/cohorts/{w.cohort_id}").get_data(as_text=True)


def test_mute_pages(client, db, login, w):
    learner = w.people["peer_2"]
    path = f"/cohorts/{w.cohort_id}/members/{learner.id}/mute"
    login(client, w.people["facilitator_a"])
    roster = client.get(f"/cohorts/{w.cohort_id}/members").get_data(as_text=True)
    assert path in roster
    assert 'for="days"' in client.get(path).get_data(as_text=True)
    assert client.post_form(path, {"days": "3", "reason": ""}).status_code == 422
    assert client.post_form(path, {"days": "3", "reason": "Heated"}).status_code == 302
    with db():
        assert get_thread_for(learner, w.thread_id, now=utcnow()).is_muted
    assert "Muted until" in client.get(path).get_data(as_text=True)
    ended = client.post_form(f"/cohorts/{w.cohort_id}/members/{learner.id}/unmute", {},
                             token_from=path)
    assert ended.headers["Location"] == f"/cohorts/{w.cohort_id}/flags"
    with db():
        assert not get_thread_for(learner, w.thread_id, now=utcnow()).is_muted


def test_reveal_pages(client, db, login):
    w = live_discussion(db, anonymity="everyone")
    login(client, w.people["owner_a"])
    path = f"/posts/{w.post_id}/reveal"
    assert 'for="reason"' in client.get(path).get_data(as_text=True)
    assert client.post_form(path, {"reason": "Too short"}).status_code == 422
    asked = client.post_form(path, {"reason": REASON})
    reveal_path = asked.headers["Location"]
    assert reveal_path.startswith("/reveals/")
    page = client.get(reveal_path).get_data(as_text=True)
    assert "Waiting for a second owner" in page and "Approve the reveal" not in page
    client.post_form("/logout", {}, token_from="/")
    login(client, w.people["admin"])
    page = client.get(reveal_path).get_data(as_text=True)
    assert "Approve the reveal" in page
    assert client.post_form(f"{reveal_path}/approve", {}, token_from=reveal_path
                            ).status_code == 302
    assert w.people["peer_1"].name not in client.get(reveal_path).get_data(as_text=True)
    client.post_form("/logout", {}, token_from="/")
    login(client, w.people["owner_a"])
    assert w.people["peer_1"].name in client.get(reveal_path).get_data(as_text=True)


def test_every_page_answers_each_role(client, db, login):
    w = live_discussion(db, anonymity="everyone")
    with db():
        reveal = reveals.request_reveal(w.people["owner_a"], w.post_id, REASON, now=utcnow())
    learner = w.people["peer_3"].id
    pages = [f"/cohorts/{w.cohort_id}/flags",
             f"/cohorts/{w.cohort_id}/members/{learner}/mute",
             f"/posts/{w.post_id}/reveal", f"/reveals/{reveal.id}"]
    posts = [f"/posts/{w.post_id}/moderate", f"/threads/{w.thread_id}/moderate",
             f"/cohorts/{w.cohort_id}/members/{learner}/unmute",
             f"/reveals/{reveal.id}/approve", f"/reveals/{reveal.id}/decline"]
    for name in ("peer_2", *OUTSIDERS):
        login(client, w.people[name])
        for path in pages:
            assert client.get(path).status_code == (403 if name == "peer_2" else 404), (
                name, path)
        for path in posts:
            answer = client.post_form(path, _action_for(path), token_from="/")
            assert answer.status_code == (403 if name == "peer_2" else 404), (name, path)
        client.post_form("/logout", {}, token_from="/")
    login(client, w.people["admin"])  # no member: reveals only, by id
    for path in pages + posts:
        answer = (client.get(path) if path in pages
                  else client.post_form(path, _action_for(path), token_from="/"))
        assert (answer.status_code == 404) != ("/reveal" in path), path


def _action_for(path: str) -> dict:
    """A valid action for a moderation form (the forms check it before who asks)."""
    return {"action": "unlock" if path.startswith("/threads/") else "pin"}


# --- the thread page's tools -------------------------------------------------------------------

TOOLS = ('{% from "discussions/_moderation_tools.html" import post_tools, thread_tools '
         'with context %}'
         '{% for post in posts %}{{ post_tools(post, access) }}{% endfor %}'
         '{{ thread_tools(access) }}')


def _tools(app, user, thread_id) -> str:
    with app.test_request_context():
        access = get_thread_for(user, thread_id, now=utcnow())
        return render_template_string(TOOLS, posts=list_posts(access), access=access,
                                      csrf="token", post_url=post_urls())


def test_the_thread_page_tools_fit_the_viewer(app, db, client, login):
    w = live_discussion(db, anonymity="everyone")
    staff = _tools(app, w.people["facilitator_a"], w.thread_id)
    assert f'action="/posts/{w.post_id}/moderate"' in staff and 'value="hide"' in staff
    # Actions without a reason are buttons of the page's one form, naming their post.
    assert staff.count('id="moderate-form"') == 1
    assert (f'form="moderate-form" formaction="/posts/{w.post_id}/moderate" name="action" '
            'value="pin"') in staff
    assert f'action="/threads/{w.thread_id}/moderate"' in staff and "Lock the discussion" in staff
    assert 'for="lock-reason"' in staff and "/reveal" not in staff
    owner = _tools(app, w.people["owner_a"], w.thread_id)
    assert f"/posts/{w.post_id}/reveal" in owner
    assert _tools(app, w.people["learner_a"], w.thread_id).strip() == ""
    # Members report others' posts from the thread page; nobody else moderates.
    for name, reports in (("peer_2", True), ("peer_1", False)):
        login(client, w.people[name])
        page = client.get(f"/threads/{w.thread_id}").get_data(as_text=True)
        assert (f'href="/posts/{w.post_id}/flag"' in page) is reports, name
        assert "moderate" not in page, name
        client.post_form("/logout", {}, token_from="/")


def test_the_flag_queue_costs_the_same_however_many_posts_wait(client, db, login, w,
                                                               query_counter):
    path = f"/cohorts/{w.cohort_id}/flags"
    with db() as session:
        post_ids = list(session.scalars(select(Post.id).where(Post.thread_id == w.thread_id)))
    login(client, w.people["facilitator_a"])

    def cost() -> int:
        with query_counter.counting() as counted:
            assert client.get(path).status_code == 200
        return counted.count

    with db():
        moderation.flag_post(w.people["peer_2"], post_ids[0], "One", now=utcnow())
    one = cost()
    with db():
        for post_id in post_ids[2:]:
            moderation.flag_post(w.people["peer_2"], post_id, "More", now=utcnow())
    assert cost() == one

"""Live thread events: each audience receives its own presentation of the same post, and a
learner's sockets move to the readers once they have posted."""

from dataclasses import asdict
from datetime import UTC, datetime

import pytest

from app.discussions.anonymity import AuthorView
from app.discussions.live import post_payload
from app.discussions.posts import PostView
from app.extensions import socketio
from tests.discussions.world import discussion_in_respond
from tests.http import bearer


@pytest.fixture
def d(db):
    with db() as session:
        return discussion_in_respond(session)


def _socket(app, d, role):
    connection = socketio.test_client(app, flask_test_client=app.test_client(),
                                      auth={"token": d.world.tokens[role]})
    assert connection.emit("join", {"room": f"thread:{d.thread.id}"}, callback=True)["ok"]
    connection.get_received()
    return connection


def _events(connection):
    return [(event["name"], event["args"][0]) for event in connection.get_received()]


def test_each_audience_gets_its_own_presentation(app, call, d):
    client = app.test_client()
    call(client, "POST", f"/api/v1/threads/{d.thread.id}/posts",
         headers=bearer(d.world.tokens["peer_2"]), json={"body": "I posted first"})
    staff, reader, waiting = (_socket(app, d, role)
                              for role in ("facilitator_a", "peer_2", "peer_3"))
    author = d.people["peer_1"]
    call(client, "POST", f"/api/v1/threads/{d.thread.id}/posts",
         headers=bearer(d.world.tokens["peer_1"]),
         json={"body": "Anonymous thoughts", "anonymous": True})
    (name, staff_event), = _events(staff)
    assert name == "post_created"
    assert staff_event["post"]["author"]["name"] == author.name
    (name, reader_event), = _events(reader)
    assert reader_event["post"]["author"]["name"] is None
    assert reader_event["post"]["author"]["user_id"] is None
    assert reader_event["post"]["author"]["label"].startswith("Anonymous ")
    assert reader_event["post"]["body_html"].strip() == "<p>Anonymous thoughts</p>"
    assert _events(waiting) == [("thread_activity", {"thread_id": d.thread.id,
                                                      "peers_posted": "A few peers have posted"})]


def test_joining_is_refused_to_outsiders_and_before_release(app, d):
    for role in ("learner_b", "outsider", "facilitator_b"):
        connection = socketio.test_client(app, flask_test_client=app.test_client(),
                                          auth={"token": d.world.tokens[role]})
        assert connection.emit("join", {"room": f"thread:{d.thread.id}"},
                               callback=True) == {"ok": False, "error": "not_found"}
    connection = socketio.test_client(app, flask_test_client=app.test_client(),
                                      auth={"token": d.world.tokens["learner_a"]})
    assert not connection.emit("join", {"room": f"thread:{d.future_thread.id}"},
                               callback=True)["ok"]


def test_a_learner_who_posts_starts_receiving_posts(app, call, d):
    client = app.test_client()
    waiting = _socket(app, d, "peer_3")
    call(client, "POST", f"/api/v1/threads/{d.thread.id}/posts",
         headers=bearer(d.world.tokens["peer_3"]), json={"body": "Now I have posted"})
    _events(waiting)
    call(client, "POST", f"/api/v1/threads/{d.thread.id}/posts",
         headers=bearer(d.world.tokens["peer_4"]), json={"body": "A later reflection"})
    names = [name for name, _payload in _events(waiting)]
    assert names == ["post_created"]


def _view(post_id, *, parent_id=None, replies=()):
    author = AuthorView(label="Anonymous Fox", pseudonym="Anonymous Fox", name=None,
                        user_id=None, is_you=False, anonymous=True, is_staff=False)
    return PostView(id=post_id, thread_id=1, parent_id=parent_id, kind="reflection",
                    author=author, state="shown", body_html="<p>Hi</p>",
                    created_at=datetime(2026, 3, 2, 9, tzinfo=UTC), edited=False, version=1,
                    pinned=False, highlighted=False, reactions={"insightful": 2, "thanks": 0},
                    my_reactions=frozenset({"thanks", "insightful"}), replies=list(replies))


def test_a_post_payload_holds_every_field_of_the_view_and_its_replies():
    view = _view(1, replies=[_view(2, parent_id=1)])

    def expected(v):
        data = asdict(v)
        data.update(created_at="2026-03-02T09:00:00+00:00",
                    my_reactions=["insightful", "thanks"], placeholder=None,
                    replies=[expected(reply) for reply in v.replies])
        return data

    payload = post_payload(view)
    assert payload == expected(view)
    assert list(payload) == [*expected(view)]
    payload["reactions"]["thanks"] = 5  # a payload is the caller's to change
    payload["author"]["name"] = "someone"
    assert view.reactions["thanks"] == 0 and view.author.name is None


def test_locking_and_unlocking_reach_every_audience(app, call, d):
    from app.db import utcnow
    from app.discussions import moderation

    client = app.test_client()
    call(client, "POST", f"/api/v1/threads/{d.thread.id}/posts",
         headers=bearer(d.world.tokens["peer_2"]), json={"body": "I posted"})
    listeners = [_socket(app, d, role) for role in ("facilitator_a", "peer_2", "peer_3")]
    with app.app_context():
        moderation.moderate_thread(d.people["facilitator_a"], d.thread.id, "lock",
                                   "A pause while we check something", now=utcnow())
        moderation.moderate_thread(d.people["facilitator_a"], d.thread.id, "unlock",
                                   now=utcnow())
    for connection in listeners:
        assert _events(connection) == [
            ("thread_locked", {"thread_id": d.thread.id, "locked": True,
                               "reason": "A pause while we check something"}),
            ("thread_locked", {"thread_id": d.thread.id, "locked": False, "reason": ""})]


def test_the_authors_own_tabs_also_get_the_post_as_theirs(app, call, d):
    client = app.test_client()
    call(client, "POST", f"/api/v1/threads/{d.thread.id}/posts",
         headers=bearer(d.world.tokens["peer_1"]), json={"body": "First, named"})
    other_tab = _socket(app, d, "peer_1")
    call(client, "POST", f"/api/v1/threads/{d.thread.id}/posts",
         headers=bearer(d.world.tokens["facilitator_a"]), json={"body": "A note"})
    _events(other_tab)
    call(client, "POST", f"/api/v1/threads/{d.thread.id}/posts",
         headers=bearer(d.world.tokens["peer_2"]), json={"body": "Mine"})
    first = call(client, "GET", f"/api/v1/threads/{d.thread.id}/posts",
                 headers=bearer(d.world.tokens["peer_2"])).get_json()["items"][0]
    assert call(client, "PUT", f"/api/v1/posts/{first['id']}/reactions/thanks",
                headers=bearer(d.world.tokens["peer_2"])).status_code == 200
    events = _events(other_tab)
    mine = [payload["post"]["author"] for name, payload in events
            if name == "post_updated" and payload["post"]["id"] == first["id"]]
    # The readers' view (not "you"), then the author's own.
    assert [author["is_you"] for author in mine] == [False, True]
    others = [payload["post"]["author"]["is_you"] for name, payload in events
              if name == "post_created"]
    assert others == [False]  # someone else's post is never sent as "yours"

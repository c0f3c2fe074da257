"""Live thread events: each audience receives its own presentation of the same post, and a
learner's sockets move to the readers once they have posted."""

import pytest

from app.extensions import socketio
from tests.discussions.world import discussion, live_release
from tests.http import bearer


@pytest.fixture
def d(db):
    with db() as session:
        built = discussion(session, released_at=live_release(2.5))
        built.world.with_tokens(session)
        return built


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

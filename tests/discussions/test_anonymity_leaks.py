"""The anonymity leak matrix: policy × viewer × channel.

An anonymous author writes a reflection, edits it, and replies anonymously to a peer, who
is told of the reply by notification and e-mail. Every channel each viewer can reach is
collected as text — the API's thread and posts (with reactions), revisions, the Socket.IO
payloads their sockets received, their inbox rows and outbox e-mails — and searched for
anything that identifies the author: name, e-mail address, user id. Only the author
themselves and, under the ``peers`` policy, the cohort's staff may find it.
"""

import json

import pytest
from sqlalchemy import select

from app.db import get_session
from app.extensions import socketio
from app.mail import OutboxEmail
from app.notifications.models import Notification, NotificationPreference
from tests.discussions.world import discussion, live_release
from tests.http import bearer

#: Viewer → may they know who wrote the post, under (peers, everyone)?
MAY_KNOW = {
    "peer_2": (False, False),       # a learner who has posted, and was replied to
    "peer_3": (False, False),       # a learner who has not posted
    "facilitator_a": (True, False),
    "owner_a": (True, False),
}


def _identifiers(author) -> list[str]:
    """What would give the author away in a JSON or text payload."""
    return [author.name, author.email, f'"user_id": {author.id}', f'"user_id":{author.id}',
            f"/users/{author.id}"]


@pytest.mark.parametrize("policy", ["peers", "everyone"])
def test_no_channel_names_an_anonymous_author_to_those_who_may_not_know(app, db, call,
                                                                       policy):
    with db() as session:
        d = discussion(session, anonymity=policy, released_at=live_release(2.5))
        d.world.with_tokens(session)
        peer_2 = d.people["peer_2"]
        session.add(NotificationPreference(user_id=peer_2.id, kind="post_reply",
                                           delivery="email"))
    author = d.people["peer_1"]
    # Each viewer listens to the thread on a socket of their own.
    sockets = {}
    for role in MAY_KNOW:
        sockets[role] = socketio.test_client(app, flask_test_client=app.test_client(),
                                             auth={"token": d.world.tokens[role]})
        assert sockets[role].emit("join", {"room": f"thread:{d.thread.id}"},
                                  callback=True)["ok"]
    client = app.test_client()

    def as_(role):
        return bearer(d.world.tokens[role])

    peer_post = call(client, "POST", f"/api/v1/threads/{d.thread.id}/posts",
                     headers=as_("peer_2"), json={"body": "Peer's reflection"}).get_json()
    secret = call(client, "POST", f"/api/v1/threads/{d.thread.id}/posts",
                  headers=as_("peer_1"),
                  json={"body": "An honest reflection", "anonymous": True}).get_json()
    assert secret["author"]["is_you"] and secret["author"]["user_id"] == author.id
    assert call(client, "PATCH", f"/api/v1/posts/{secret['id']}", headers=as_("peer_1"),
                json={"body": "An honest reflection, edited", "version": 1}
                ).status_code == 200
    call(client, "PUT", f"/api/v1/posts/{secret['id']}/reactions/thanks",
         headers=as_("peer_2"))
    reply = call(client, "POST", f"/api/v1/threads/{d.thread.id}/posts",
                 headers=as_("peer_1"),
                 json={"body": "A reply", "anonymous": True, "parent_id": peer_post["id"]})
    assert reply.status_code == 201

    may_know_index = 0 if policy == "peers" else 1
    for role, may_know in MAY_KNOW.items():
        viewer = d.people[role]
        seen = []
        for path in (f"/api/v1/threads/{d.thread.id}", f"/api/v1/threads/{d.thread.id}/posts",
                     f"/api/v1/posts/{secret['id']}/revisions"):
            seen.append(call(client, "GET", path, headers=as_(role)).get_data(as_text=True))
        seen.append(json.dumps(sockets[role].get_received()))
        with app.app_context():
            session = get_session()
            seen.extend(f"{n.title} {n.body} {n.link}" for n in session.scalars(
                select(Notification).where(Notification.user_id == viewer.id)))
            seen.extend(f"{m.subject} {m.body_text}" for m in session.scalars(
                select(OutboxEmail).where(OutboxEmail.user_id == viewer.id)))
        everything = "\n".join(seen)
        leaked = [thing for thing in _identifiers(author) if thing in everything]
        if may_know[may_know_index]:
            assert author.name in everything, role  # the duty-of-care view does show it
        else:
            assert leaked == [], f"{policy}: {role} can find {leaked}"
        if role == "peer_2":
            # The channels were really exercised: the reply reached the inbox and e-mail.
            assert "replied to your post" in everything and "Anonymous " in everything
        if role == "peer_3":
            assert "An honest reflection" not in everything  # post first, every channel
    for connection in sockets.values():
        connection.disconnect()

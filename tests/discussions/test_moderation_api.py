"""Moderation through the JSON API: flags, actions on posts and threads, the queue, mutes
and reveals, and who gets 403 or 404 from every endpoint."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.discussions import reveals
from app.discussions.models import Post, Thread
from app.notifications.models import Notification
from tests.discussions.moderation_world import OUTSIDERS, REASON, Live, live_discussion


@pytest.fixture
def w(db) -> Live:
    return live_discussion(db)


def _codes(response) -> tuple[int, str | None]:
    body = response.get_json(silent=True) or {}
    return response.status_code, body.get("error", {}).get("code")


def test_flags_hide_a_post_and_a_restore_shows_it(call, client, db, w):
    path = f"/api/v1/posts/{w.post_id}/flags"
    first = call(client, "POST", path, json={"reason": "Hurtful"}, headers=w.headers("peer_2"))
    assert first.status_code == 201 and first.get_json() == {"post_id": w.post_id,
                                                              "hidden": False}
    assert _codes(call(client, "POST", path, json={"reason": "Again"},
                       headers=w.headers("peer_2"))) == (409, "already_flagged")
    assert _codes(call(client, "POST", path, json={"reason": "Mine"},
                       headers=w.headers("peer_1"))) == (403, "own_post")
    assert _codes(call(client, "POST", path, json={"reason": ""},
                       headers=w.headers("peer_3")))[0] == 422
    for name in ("learner_a", *OUTSIDERS, "admin"):  # learner_a has not posted: post first
        assert call(client, "POST", path, json={"reason": "x"},
                    headers=w.headers(name)).status_code == 404, name
    call(client, "POST", path, json={"reason": "Unkind"}, headers=w.headers("peer_3"))
    third = call(client, "POST", path, json={"reason": "Names someone"},
                 headers=w.headers("peer_4"))
    assert third.get_json()["hidden"] is True
    queue_path = f"/api/v1/cohorts/{w.cohort_id}/flags"
    queue = call(client, "GET", queue_path, headers=w.headers("facilitator_a")).get_json()
    [item] = queue["items"]
    assert item["reasons"] == ["Hurtful", "Unkind", "Names someone"]
    assert item["flag_count"] == 3 and item["post"]["state"] == "hidden"
    assert item["post"]["author"]["name"] == w.people["peer_1"].name  # "peers": staff see it
    assert queue["next_cursor"] is None
    assert call(client, "GET", queue_path, headers=w.headers("peer_2")).status_code == 403
    for name in (*OUTSIDERS, "admin"):
        assert call(client, "GET", queue_path, headers=w.headers(name)).status_code == 404
    restored = call(client, "POST", f"/api/v1/posts/{w.post_id}/moderation",
                    json={"action": "restore", "reason": "Fair, in context."},
                    headers=w.headers("facilitator_a"))
    assert restored.status_code == 200 and restored.get_json()["state"] == "shown"
    assert call(client, "GET", queue_path,
                headers=w.headers("owner_a")).get_json()["items"] == []
    with db() as session:
        [notice] = session.scalars(select(Notification).where(
            Notification.user_id == w.people["peer_1"].id,
            Notification.kind == "post_moderated")).all()
        assert notice.title.endswith("Fair, in context.")


def test_the_queue_pages_with_a_cursor(call, client, db, w):
    with db() as session:
        session.get(Thread, w.thread_id).cohort.flag_threshold = 10
        post_ids = list(session.scalars(select(Post.id).where(Post.thread_id == w.thread_id)
                                        .order_by(Post.id)))
    for post_id in post_ids[1:]:
        moderation_path = f"/api/v1/posts/{post_id}/flags"
        call(client, "POST", moderation_path, json={"reason": "x"},
             headers=w.headers("peer_1"))
    path = f"/api/v1/cohorts/{w.cohort_id}/flags"
    first = call(client, "GET", f"{path}?limit=2", headers=w.headers("facilitator_a"))
    page = first.get_json()
    assert [item["post"]["id"] for item in page["items"]] == post_ids[1:3]
    rest = call(client, "GET", f"{path}?limit=2&cursor={page['next_cursor']}",
                headers=w.headers("facilitator_a")).get_json()
    assert [item["post"]["id"] for item in rest["items"]] == post_ids[3:]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize("config_overrides", [{"FLAG_RATE_LIMIT": "2 per hour"}])
def test_flags_are_rate_limited_per_person(call, client, db, w, config_overrides):
    with db() as session:
        post_ids = list(session.scalars(select(Post.id).where(
            Post.thread_id == w.thread_id, Post.author_id != w.people["peer_2"].id)))
    answers = [call(client, "POST", f"/api/v1/posts/{post_id}/flags", json={"reason": "x"},
                    headers=w.headers("peer_2")) for post_id in post_ids]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[-1].get_json()["error"]["code"] == "rate_limited"
    assert int(answers[-1].headers["Retry-After"]) > 0
    other = call(client, "POST", f"/api/v1/posts/{post_ids[0]}/flags", json={"reason": "x"},
                 headers=w.headers("peer_3"))
    assert other.status_code == 201  # another person has their own allowance


def test_thread_moderation_through_the_api(call, client, db, w):
    path = f"/api/v1/threads/{w.thread_id}/moderation"
    staff = w.headers("facilitator_a")
    assert call(client, "POST", path, json={"action": "lock"}, headers=staff).status_code == 422
    locked = call(client, "POST", path, json={"action": "lock", "reason": "Pausing"},
                  headers=staff).get_json()
    assert locked["locked"] is True and locked["locked_reason"] == "Pausing"
    posts = f"/api/v1/threads/{w.thread_id}/posts"
    assert _codes(call(client, "POST", posts, json={"body": "Mine"},
                       headers=w.headers("learner_a"))) == (403, "cannot_post")
    assert call(client, "POST", posts, json={"body": "A note from your facilitator"},
                headers=staff).status_code == 201
    assert call(client, "POST", path, json={"action": "unlock"},
                headers=staff).get_json()["locked"] is False
    advanced = call(client, "POST", path, json={"action": "advance_stage"},
                    headers=w.headers("owner_a")).get_json()
    assert (advanced["stage"], advanced["stage_label"]) == ("respond", "Respond")
    assert _codes(call(client, "POST", path, json={"action": "shred"}, headers=staff))[0] == 422


def test_mutes_through_the_api(call, client, db, w):
    learner = w.people["peer_2"]
    path = f"/api/v1/cohorts/{w.cohort_id}/members/{learner.id}/mute"
    until = (utcnow() + timedelta(hours=5)).replace(microsecond=0)
    muted = call(client, "POST", path, json={"until": until.isoformat(), "reason": "Calm down"},
                 headers=w.headers("facilitator_a"))
    assert muted.status_code == 200 and muted.get_json()["user_id"] == learner.id
    newcomer = f"/api/v1/cohorts/{w.cohort_id}/members/{w.people['learner_a'].id}/mute"
    call(client, "POST", newcomer, json={"until": until.isoformat(), "reason": "Wait"},
         headers=w.headers("facilitator_a"))
    posts = f"/api/v1/threads/{w.thread_id}/posts"
    assert _codes(call(client, "POST", posts, json={"body": "Mine"},
                       headers=w.headers("learner_a"))) == (403, "cannot_post")
    reaction = f"/api/v1/posts/{w.post_id}/reactions/thanks"
    assert call(client, "PUT", reaction, headers=w.headers("peer_2")).status_code == 403
    past = call(client, "POST", path, json={"until": "2020-01-01T00:00:00+00:00",
                                            "reason": "x"}, headers=w.headers("facilitator_a"))
    assert past.status_code == 422 and "until" in past.get_json()["error"]["fields"]
    assert call(client, "DELETE", path, headers=w.headers("owner_a")).status_code == 204
    assert call(client, "PUT", reaction, headers=w.headers("peer_2")).status_code == 200
    assert _codes(call(client, "DELETE", path,
                       headers=w.headers("owner_a"))) == (409, "not_muted")
    staff_path = f"/api/v1/cohorts/{w.cohort_id}/members/{w.people['facilitator_a'].id}/mute"
    assert _codes(call(client, "POST", staff_path,
                       json={"until": until.isoformat(), "reason": "x"},
                       headers=w.headers("owner_a"))) == (409, "not_a_learner")


def test_the_reveal_flow_through_the_api(call, client, db):
    w = live_discussion(db, anonymity="everyone")
    path = f"/api/v1/posts/{w.post_id}/reveal"
    short = call(client, "POST", path, json={"reason": "Because"}, headers=w.headers("owner_a"))
    assert short.status_code == 422
    asked = call(client, "POST", path, json={"reason": REASON}, headers=w.headers("owner_a"))
    assert asked.status_code == 201
    reveal = asked.get_json()
    assert reveal["status"] == "pending" and reveal["author_name"] is None
    reveal_path = f"/api/v1/reveals/{reveal['id']}"
    assert _codes(call(client, "POST", f"{reveal_path}/approve",
                       headers=w.headers("owner_a"))) == (403, "second_person_required")
    approved = call(client, "POST", f"{reveal_path}/approve", headers=w.headers("admin"))
    assert approved.status_code == 200 and approved.get_json()["author_name"] is None
    mine = call(client, "GET", reveal_path, headers=w.headers("owner_a")).get_json()
    assert mine["author_name"] == w.people["peer_1"].name
    assert call(client, "GET", reveal_path,
                headers=w.headers("admin")).get_json()["author_name"] is None
    assert _codes(call(client, "POST", f"{reveal_path}/decline",
                       headers=w.headers("admin")))[0] == 409
    queue = call(client, "GET", f"/api/v1/cohorts/{w.cohort_id}/flags",
                 headers=w.headers("facilitator_a"))
    assert w.people["peer_1"].name not in queue.get_data(as_text=True)


def test_reveals_need_the_everyone_policy(call, client, w):
    answer = call(client, "POST", f"/api/v1/posts/{w.post_id}/reveal", json={"reason": REASON},
                  headers=w.headers("owner_a"))
    assert _codes(answer) == (409, "reveal_not_needed")


def _api_routes(w: Live, reveal_id: int, learner_id: int):
    """(method, path, body) of every moderation endpoint about cohort A."""
    return [
        ("POST", f"/api/v1/posts/{w.post_id}/moderation", {"action": "pin"}),
        ("POST", f"/api/v1/threads/{w.thread_id}/moderation", {"action": "unlock"}),
        ("GET", f"/api/v1/cohorts/{w.cohort_id}/flags", None),
        ("POST", f"/api/v1/cohorts/{w.cohort_id}/members/{learner_id}/mute",
         {"until": (utcnow() + timedelta(days=1)).isoformat(), "reason": "x"}),
        ("DELETE", f"/api/v1/cohorts/{w.cohort_id}/members/{learner_id}/mute", None),
        ("POST", f"/api/v1/posts/{w.post_id}/reveal", {"reason": REASON}),
        ("GET", f"/api/v1/reveals/{reveal_id}", None),
        ("POST", f"/api/v1/reveals/{reveal_id}/approve", None),
        ("POST", f"/api/v1/reveals/{reveal_id}/decline", None),
    ]


def test_every_endpoint_answers_each_role(
        call, client, db):
    w = live_discussion(db, anonymity="everyone")
    with db():
        reveal = reveals.request_reveal(w.people["owner_a"], w.post_id, REASON, now=utcnow())
    routes = _api_routes(w, reveal.id, w.people["peer_3"].id)
    for method, path, body in routes:
        kwargs = {"json": body} if body is not None else {}
        for name in ("peer_2", "learner_a"):
            status = call(client, method, path, headers=w.headers(name), **kwargs).status_code
            assert status == 403, (method, path, name, status)
        for name in OUTSIDERS:
            status = call(client, method, path, headers=w.headers(name), **kwargs).status_code
            assert status == 404, (method, path, name, status)
        for name in ("facilitator_a",):
            if "/reveal" in path:
                status = call(client, method, path, headers=w.headers(name), **kwargs)
                assert status.status_code == 403, (method, path, name)
    for method, path, body in routes:  # the admin is no member: reveals only, by id
        status = call(client, method, path, headers=w.headers("admin"),
                      **({"json": body} if body is not None else {})).status_code
        assert (status == 404) != ("/reveal" in path), (method, path, status)
    for method, path, body in routes:
        assert call(client, method, path, **({"json": body} if body else {})).status_code == 401

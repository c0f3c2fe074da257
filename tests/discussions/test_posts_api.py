"""The thread and post endpoints: what each caller gets, post first, edits with versions,
reactions, drafts and revisions — through HTTP, validated against the OpenAPI document."""

import pytest

from tests.discussions.world import discussion, discussion_in_respond, live_release
from tests.http import bearer


@pytest.fixture
def d(db):
    with db() as session:
        return discussion_in_respond(session)


def _as(d, role):
    return bearer(d.world.tokens[role])


def _post(call, client, d, role, body, **extra):
    return call(client, "POST", f"/api/v1/threads/{d.thread.id}/posts",
                headers=_as(d, role), json={"body": body, **extra})


def test_the_thread_says_what_i_may_do_now(call, client, d):
    got = call(client, "GET", f"/api/v1/threads/{d.thread.id}", headers=_as(d, "peer_1"))
    assert got.status_code == 200
    thread = got.get_json()
    assert thread["stage"] == "respond" and thread["can_post"] and not thread["can_see_posts"]
    assert thread["what_now"] == "Post your reflection to see your peers'."
    assert thread["anonymity"]["policy"] == "peers"
    assert "Facilitators" in thread["anonymity"]["who_sees_the_name"]["anonymous"]
    staff = call(client, "GET", f"/api/v1/threads/{d.thread.id}",
                 headers=_as(d, "facilitator_a")).get_json()
    assert staff["can_see_posts"] and staff["anonymity"]["policy"] == "off"


def test_post_first_through_the_api(call, client, d):
    assert _post(call, client, d, "peer_1", "First **reflection**").status_code == 201
    before = call(client, "GET", f"/api/v1/threads/{d.thread.id}/posts",
                  headers=_as(d, "peer_2"))
    assert before.status_code == 200 and before.get_json()["items"] == []
    assert "First" not in before.get_data(as_text=True)
    _post(call, client, d, "peer_2", "Mine")
    after = call(client, "GET", f"/api/v1/threads/{d.thread.id}/posts",
                 headers=_as(d, "peer_2")).get_json()
    assert [p["body_html"].strip() for p in after["items"]] == [
        "<p>First <strong>reflection</strong></p>", "<p>Mine</p>"]


def test_replies_edits_and_stale_versions(call, client, d):
    first = _post(call, client, d, "peer_1", "A").get_json()
    _post(call, client, d, "peer_2", "B")
    reply = _post(call, client, d, "peer_2", "a reply", parent_id=first["id"])
    assert reply.status_code == 201 and reply.get_json()["kind"] == "reply"
    listed = call(client, "GET", f"/api/v1/threads/{d.thread.id}/posts",
                  headers=_as(d, "peer_1")).get_json()["items"]
    assert listed[0]["replies"][0]["id"] == reply.get_json()["id"]
    path = f"/api/v1/posts/{first['id']}"
    assert call(client, "PATCH", path, headers=_as(d, "peer_1"),
                json={"body": "A, better", "version": 1}).get_json()["version"] == 2
    stale = call(client, "PATCH", path, headers=_as(d, "peer_1"),
                 json={"body": "typed in another tab", "version": 1})
    assert stale.status_code == 409
    error = stale.get_json()["error"]
    assert error["code"] == "stale_version"
    assert error["details"] == {"current_version": 2, "current_body": "A, better",
                                "your_body": "typed in another tab"}
    assert call(client, "PATCH", path, headers=_as(d, "peer_2"),
                json={"body": "not mine", "version": 2}).status_code == 403
    revisions = call(client, "GET", f"{path}/revisions", headers=_as(d, "peer_1")).get_json()
    assert [r["body"] for r in revisions["items"]] == ["A"]
    assert call(client, "GET", f"{path}/revisions",
                headers=_as(d, "peer_2")).status_code == 404
    assert call(client, "GET", f"{path}/revisions",
                headers=_as(d, "facilitator_a")).status_code == 200


def test_delete_and_reactions(call, client, d):
    first = _post(call, client, d, "peer_1", "A").get_json()
    _post(call, client, d, "peer_2", "B")
    path = f"/api/v1/posts/{first['id']}"
    liked = call(client, "PUT", f"{path}/reactions/insightful", headers=_as(d, "peer_2"))
    assert liked.get_json() == {"insightful": 1, "thanks": 0}
    assert call(client, "PUT", f"{path}/reactions/angry",
                headers=_as(d, "peer_2")).status_code == 422
    assert call(client, "DELETE", f"{path}/reactions/insightful",
                headers=_as(d, "peer_2")).get_json() == {"insightful": 0, "thanks": 0}
    assert call(client, "DELETE", path, headers=_as(d, "peer_2")).status_code == 403
    assert call(client, "DELETE", path, headers=_as(d, "peer_1")).status_code == 204
    items = call(client, "GET", f"/api/v1/threads/{d.thread.id}/posts",
                 headers=_as(d, "peer_2")).get_json()["items"]
    assert first["id"] not in [p["id"] for p in items]


def test_bad_input_is_a_clear_4xx(call, client, d):
    assert _post(call, client, d, "peer_1", "").status_code == 422
    too_long = _post(call, client, d, "peer_1", "x" * 20_001)
    assert too_long.status_code == 422 and "20,000" in too_long.get_json()["error"]["fields"][
        "body"]
    assert _post(call, client, d, "peer_1", "x", parent_id=2**31).status_code == 422
    assert _post(call, client, d, "peer_1", "x", anonymous="yes").status_code == 422
    # Replies before posting one's reflection: the post is not there for them.
    staff = _post(call, client, d, "facilitator_a", "A note").get_json()
    assert _post(call, client, d, "peer_1", "x", parent_id=staff["id"]).status_code == 404


def test_other_cohorts_and_outsiders_get_404(call, client, d):
    post = _post(call, client, d, "peer_1", "A").get_json()
    for role in ("learner_b", "facilitator_b", "owner_b", "outsider", "admin"):
        headers = _as(d, role)
        assert call(client, "GET", f"/api/v1/threads/{d.thread.id}",
                    headers=headers).status_code == 404
        assert call(client, "GET", f"/api/v1/threads/{d.thread.id}/posts",
                    headers=headers).status_code == 404
        assert _post(call, client, d, role, "x").status_code == 404
        assert call(client, "PATCH", f"/api/v1/posts/{post['id']}", headers=headers,
                    json={"body": "x", "version": 1}).status_code == 404
        assert call(client, "DELETE", f"/api/v1/posts/{post['id']}",
                    headers=headers).status_code == 404
        assert call(client, "PUT", f"/api/v1/posts/{post['id']}/reactions/thanks",
                    headers=headers).status_code == 404
        assert call(client, "GET", f"/api/v1/posts/{post['id']}/revisions",
                    headers=headers).status_code == 404
        assert call(client, "GET", f"/api/v1/threads/{d.thread.id}/draft",
                    headers=headers).status_code == 404
    assert call(client, "GET", f"/api/v1/threads/{d.future_thread.id}",
                headers=_as(d, "learner_a")).status_code == 404
    assert call(client, "GET", f"/api/v1/threads/{d.thread.id}").status_code == 401


def test_drafts_round_trip(call, client, d):
    path = f"/api/v1/threads/{d.thread.id}/draft"
    assert call(client, "PUT", path, headers=_as(d, "peer_1"),
                json={"body": "half"}).status_code == 200
    assert call(client, "GET", path, headers=_as(d, "peer_1")).get_json() == {"body": "half"}
    assert call(client, "GET", path, headers=_as(d, "peer_2")).get_json() == {"body": ""}
    assert call(client, "PUT", path, headers=_as(d, "learner_b"),
                json={"body": "x"}).status_code == 404


def test_staff_export_posts_with_authors_as_they_may_see_them(call, client, db):
    with db() as session:
        d = discussion(session, anonymity="everyone", released_at=live_release(2.5))
        d.world.with_tokens(session)
    _post(call, client, d, "peer_1", "=HYPERLINK(\"http://evil\")", anonymous=True)
    _post(call, client, d, "peer_2", "Named post")
    path = f"/api/v1/cohorts/{d.world.cohort_a.id}/export.csv"
    got = call(client, "GET", path, headers=_as(d, "facilitator_a"))
    assert got.status_code == 200 and got.mimetype == "text/csv"
    text = got.get_data(as_text=True)
    assert d.people["peer_1"].name not in text and d.people["peer_2"].name in text
    assert "'=HYPERLINK" in text  # a formula is kept as text
    assert call(client, "GET", path, headers=_as(d, "peer_2")).status_code == 403
    assert call(client, "GET", path, headers=_as(d, "owner_b")).status_code == 404
    assert call(client, "GET", f"{path}?what=participation",
                headers=_as(d, "owner_a")).status_code == 422


def test_a_weaker_policy_never_exposes_posts_already_written(call, client, db):
    with db() as session:
        d = discussion(session, anonymity="everyone", released_at=live_release(2.5))
        d.world.with_tokens(session)
    old = _post(call, client, d, "peer_1", "Written under everyone", anonymous=True).get_json()
    path = f"/api/v1/cohorts/{d.world.cohort_a.id}/discussion-settings"
    weaker = call(client, "PATCH", path, headers=_as(d, "facilitator_a"),
                  json={"anonymity": "peers", "flag_threshold": 2})
    assert weaker.status_code == 200
    assert weaker.get_json()["anonymity"] == "peers" and weaker.get_json()["note"]
    new = _post(call, client, d, "peer_2", "Written under peers", anonymous=True).get_json()
    seen = {p["id"]: p["author"] for p in call(
        client, "GET", f"/api/v1/threads/{d.thread.id}/posts",
        headers=_as(d, "facilitator_a")).get_json()["items"]}
    assert seen[old["id"]]["name"] is None  # still under "everyone"
    assert seen[new["id"]]["name"] == d.people["peer_2"].name  # "peers": staff see it
    stronger = call(client, "PATCH", path, headers=_as(d, "owner_a"),
                    json={"anonymity": "everyone"}).get_json()
    assert stronger["note"] == "" and stronger["flag_threshold"] == 2
    assert call(client, "PATCH", path, headers=_as(d, "peer_1"),
                json={"anonymity": "off"}).status_code == 403
    assert call(client, "PATCH", path, headers=_as(d, "owner_b"),
                json={"anonymity": "off"}).status_code == 404
    assert call(client, "PATCH", path, headers=_as(d, "owner_a"),
                json={"flag_threshold": 0}).status_code == 422


def test_posting_is_rate_limited_per_person(app, call, client, d):
    app.config["POSTING_RATE_LIMIT"] = "2 per minute"
    first = _post(call, client, d, "peer_1", "One").get_json()
    assert call(client, "PATCH", f"/api/v1/posts/{first['id']}", headers=_as(d, "peer_1"),
                json={"body": "One, again", "version": 1}).status_code == 200
    limited = call(client, "PATCH", f"/api/v1/posts/{first['id']}", headers=_as(d, "peer_1"),
                   json={"body": "One, thrice", "version": 2})
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    assert _post(call, client, d, "peer_2", "Someone else").status_code == 201


def test_the_posts_page_through_with_pinned_first(app, call, client, d):
    from app.db import utcnow
    from app.discussions import moderation

    ids = [_post(call, client, d, f"peer_{n}", f"Reflection {n}").get_json()["id"]
           for n in range(1, 6)]
    with app.app_context():
        moderation.moderate_post(d.people["facilitator_a"], ids[3], "pin", now=utcnow())
    path = f"/api/v1/threads/{d.thread.id}/posts?limit=2"
    seen, cursor = [], None
    for _ in range(5):
        got = call(client, "GET", path + (f"&cursor={cursor}" if cursor else ""),
                   headers=_as(d, "peer_1")).get_json()
        seen.extend(post["id"] for post in got["items"])
        cursor = got["next_cursor"]
        if cursor is None:
            break
    assert seen == [ids[3], ids[0], ids[1], ids[2], ids[4]]


def test_a_page_goes_on_when_the_post_it_ended_at_is_deleted(call, client, d):
    ids = [_post(call, client, d, f"peer_{n}", f"Reflection {n}").get_json()["id"]
           for n in range(1, 5)]
    path = f"/api/v1/threads/{d.thread.id}/posts?limit=2"
    first = call(client, "GET", path, headers=_as(d, "peer_3")).get_json()
    assert [post["id"] for post in first["items"]] == ids[:2]
    assert call(client, "DELETE", f"/api/v1/posts/{ids[1]}",
                headers=_as(d, "peer_2")).status_code == 204
    rest = call(client, "GET", f"{path}&cursor={first['next_cursor']}",
                headers=_as(d, "peer_3")).get_json()
    assert ids[0] not in [post["id"] for post in rest["items"]]  # never starts over

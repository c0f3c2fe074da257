"""A thread's posts cost a fixed number of SQL statements, however many posts it has."""

from sqlalchemy import insert

from app.db import utcnow
from app.discussions.models import Post, Reaction, Thread, ThreadParticipant
from tests.discussions.world import discussion, live_release
from tests.http import bearer

SIZES = (5, 50, 500)


def _thread_of(session, d, position: int, posts: int) -> int:
    """A thread on the open module with ``posts`` posts (a fifth of them replies, some
    anonymous, some reacted to by the viewer), which the viewer ``peer_1`` has posted in."""
    thread = Thread(cohort_id=d.thread.cohort_id, cohort_module_id=d.thread.cohort_module_id,
                    position=position, title=f"Thread of {posts}", body="Why?",
                    body_html="<p>Why?</p>")
    session.add(thread)
    session.flush()
    viewer = d.people["peer_1"]
    authors = [d.people[f"peer_{n}"].id for n in range(1, 6)] + [d.people["learner_a"].id]
    now = utcnow()
    replies = posts // 5

    def row(n: int, parent_id: int | None) -> dict:
        anonymous = n % 3 == 1
        return {"thread_id": thread.id, "cohort_id": thread.cohort_id,
                "author_id": authors[n % len(authors)], "parent_id": parent_id,
                "kind": "reply" if parent_id else "reflection", "body": f"Post {n}",
                "body_html": f"<p>Post {n}</p>", "anonymity": "peers" if anonymous else "off",
                "pseudonym": f"Anonymous {n % len(authors)}" if anonymous else "",
                "by_staff": False, "version": 1, "created_at": now, "hidden_reason": "",
                "flag_count": 0, "pinned": n == 2, "highlighted": False,
                "insightful_count": n % 2, "thanks_count": 0}

    top = session.scalars(
        insert(Post).returning(Post.id, sort_by_parameter_order=True),
        [row(n, None) for n in range(posts - replies)]).all()
    if replies:
        session.execute(insert(Post), [row(n, top[n % len(top)])
                                       for n in range(posts - replies, posts)])
    session.execute(insert(Reaction), [{"post_id": post_id, "user_id": viewer.id,
                                        "kind": "insightful", "created_at": now}
                                       for post_id in top[1::2]])
    session.add(ThreadParticipant(thread_id=thread.id, user_id=viewer.id, posted_at=now,
                                  replies_given=0, last_seen_post_id=0))
    session.flush()
    return thread.id


def test_a_threads_posts_cost_the_same_for_5_50_or_500_posts(client, db, query_counter):
    with db() as session:
        d = discussion(session, released_at=live_release(2.5))
        threads = {size: _thread_of(session, d, n + 1, size) for n, size in enumerate(SIZES)}
        headers = bearer(d.world.with_tokens(session).tokens["peer_1"])
    counts = {}
    for size, thread_id in threads.items():
        path = f"/api/v1/threads/{thread_id}/posts?limit=200"
        client.get(path, headers=headers)  # first use: the token's "last used" write
        with query_counter.counting():
            response = client.get(path, headers=headers)
        counts[size] = query_counter.count
        assert response.status_code == 200
        items = response.get_json()["items"]
        assert len(items) == min(200, size - size // 5)
        assert items[0]["pinned"] and items[0]["my_reactions"] == []
        assert any(item["my_reactions"] == ["insightful"] for item in items)
        if size > 5:
            assert sum(len(item["replies"]) for item in items) > 0
    assert counts[5] == counts[50] == counts[500], (counts, query_counter.statements)

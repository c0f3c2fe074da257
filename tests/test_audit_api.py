"""The audit log through the API: program owners read their cohorts', site admins read
everything, nobody else reads any; and no entry about an anonymous post names its author."""

import pytest

from app.db import utcnow
from app.discussions import moderation, posting
from tests.discussions.world import discussion, live_release
from tests.http import bearer

PATH = "/api/v1/audit"


@pytest.fixture
def d(app, db):
    with db() as session:
        built = discussion(session, anonymity="everyone", released_at=live_release(2.5))
        built.world.with_tokens(session)
    with app.app_context():
        people = built.people
        flagged = posting.create_post(people["peer_1"], built.thread.id,
                                      body="Something I would not sign", anonymous=True,
                                      now=utcnow())
        posting.create_post(people["peer_2"], built.thread.id, body="Mine", now=utcnow())
        moderation.flag_post(people["peer_2"], flagged.id, "It names a colleague",
                             now=utcnow())
        moderation.moderate_post(people["facilitator_a"], flagged.id, "hide",
                                 "Names a colleague", now=utcnow())
        moderation.moderate_post(people["facilitator_a"], flagged.id, "restore",
                                 "Rewritten", now=utcnow())
    return built


def test_the_owner_reads_the_cohorts_log_without_the_anonymous_author(call, client, d):
    cohort = d.world.cohort_a.id
    got = call(client, "GET", f"{PATH}?cohort_id={cohort}",
               headers=bearer(d.world.tokens["owner_a"]))
    assert got.status_code == 200
    entries = got.get_json()["items"]
    assert {"post.hidden", "post.restored"} <= {e["action"] for e in entries}
    hidden = next(e for e in entries if e["action"] == "post.hidden")
    assert hidden["actor"]["name"] == d.people["facilitator_a"].name
    author = d.people["peer_1"]
    text = got.get_data(as_text=True)
    assert author.name not in text and author.email not in text
    assert all(e["actor"] is None or e["actor"]["id"] != author.id for e in entries)


def test_pages_follow_the_cursor(call, client, d):
    headers = bearer(d.world.tokens["owner_a"])
    first = call(client, "GET", f"{PATH}?cohort_id={d.world.cohort_a.id}&limit=1",
                 headers=headers).get_json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = call(client, "GET", f"{PATH}?cohort_id={d.world.cohort_a.id}&limit=1"
                                 f"&cursor={first['next_cursor']}", headers=headers).get_json()
    assert second["items"][0]["id"] > first["items"][0]["id"]


@pytest.mark.parametrize(("role", "with_cohort", "without"), [
    ("owner_a", 200, 403),
    ("admin", 200, 200),
    ("owner_b", 404, 403),
    ("facilitator_a", 404, 403),
    ("peer_2", 404, 403),
    ("outsider", 404, 403),
])
def test_who_reads_the_log(call, client, d, role, with_cohort, without):
    headers = bearer(d.world.tokens[role])
    assert call(client, "GET", f"{PATH}?cohort_id={d.world.cohort_a.id}",
                headers=headers).status_code == with_cohort
    assert call(client, "GET", PATH, headers=headers).status_code == without
    assert call(client, "GET", PATH).status_code == 401

"""The discussion world at the real clock, for moderation's HTTP tests (requests run at the
real time; services in the other tests take a fixed ``now``)."""

from dataclasses import dataclass

from app.db import utcnow
from app.discussions import posting
from tests.discussions.world import discussion, live_release
from tests.http import bearer

REASON = "A colleague's safety is at risk and HR must reach the author."
#: People of cohort B and nobody's: they find nothing of cohort A.
OUTSIDERS = ("learner_b", "facilitator_b", "owner_b", "outsider")


@dataclass
class Live:
    """The discussion world at the real clock, with posts and everyone's API token."""

    cohort_id: int
    thread_id: int
    post_id: int
    people: dict
    tokens: dict

    def headers(self, name: str) -> dict:
        """Bearer headers of a person."""
        return bearer(self.tokens[name])


def live_discussion(db, anonymity: str = "peers") -> Live:
    """The world a day into the reflect stage by the real clock; peers 1 to 4 have posted
    their reflections (peer 1 anonymously)."""
    now = utcnow()
    with db() as session:
        d = discussion(session, anonymity=anonymity, released_at=live_release())
        d.world.with_tokens(session)
    with db():
        first = posting.create_post(d.people["peer_1"], d.thread.id, body="Anonymous words",
                                    anonymous=True, now=now)
        for name in ("peer_2", "peer_3", "peer_4"):
            posting.create_post(d.people[name], d.thread.id, body=f"From {name}", now=now)
    return Live(d.world.cohort_a.id, d.thread.id, first.id, d.people, d.world.tokens)

"""A cohort in discussion: a released module with a thread, and people in every role.

``discussion(session)`` builds it (flushed, not committed): cohort A of the shared
``two_cohorts`` world, with five more learners so that counts reach the group size, a
module released a day before ``NOW`` and one thread on it (replies open 2 days after the
release, synthesis after 5, closed after 7), and a second thread on a module not yet
released.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from app.cohorts.models import CohortModule
from app.db import utcnow
from app.discussions.models import Thread
from tests.factories import add_member
from tests.worlds import TwoCohorts, two_cohorts

#: "Now" in discussion tests: a day after the module's release.
RELEASED_AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NOW = RELEASED_AT + timedelta(days=1)
#: Moments inside each later stage (Europe/Berlin days; no DST change in these weeks).
IN_RESPOND = RELEASED_AT + timedelta(days=2, hours=1)
IN_SYNTHESIZE = RELEASED_AT + timedelta(days=5, hours=1)
CLOSED_AT = RELEASED_AT + timedelta(days=7, hours=1)


def live_release(stage_days: float = 1) -> datetime:
    """A release moment that puts the real clock ``stage_days`` after it (1: reflect, 2.5:
    respond, 5.5: synthesize, 7.5: closed)."""
    return utcnow() - timedelta(days=stage_days)


@dataclass
class Discussion:
    """The world, the open thread and a thread of a module still to come."""

    world: TwoCohorts
    thread: Thread
    future_thread: Thread

    @property
    def people(self):
        """Everyone by role name (``learner_a``, ``peer_1`` … ``peer_5`` and the rest)."""
        return self.world.people


def _module(session, cohort, position: int, release_at: datetime,
            now: datetime) -> CohortModule:
    """A cohort module released (or to be released) at ``release_at``."""
    module = CohortModule(cohort_id=cohort.id, position=position, title=f"Week {position + 1}",
                          body="Read this.", release_offset_days=7 * position,
                          release_time=time(9, 0), release_at=release_at,
                          released_at=release_at if release_at <= now else None)
    session.add(module)
    session.flush()
    return module


def _thread(session, module: CohortModule, title: str, **settings) -> Thread:
    """A thread on the module with the default stages (2, 5, 7 days)."""
    thread = Thread(cohort_id=module.cohort_id, cohort_module_id=module.id, position=0,
                    title=title, body="What changed for you?",
                    body_html="<p>What changed for you?</p>", **settings)
    session.add(thread)
    session.flush()
    return thread


def discussion(session, *, anonymity: str = "peers", released_at: datetime = RELEASED_AT,
               **thread_settings) -> Discussion:
    """Build the discussion world (see the module docstring).

    Services take ``now``; requests run at the real time, so HTTP tests pass
    ``released_at=live_release()`` to put the real "now" a day into the reflect stage.
    """
    world = two_cohorts(session)
    cohort = world.cohort_a
    cohort.anonymity = anonymity
    for n in range(1, 6):
        world.people[f"peer_{n}"] = add_member(session, cohort, role="learner").user
    now = released_at + (NOW - RELEASED_AT)
    released = _module(session, cohort, 0, released_at, now)
    future = _module(session, cohort, 1, released_at + timedelta(days=7), now)
    thread = _thread(session, released, "What feedback changed how you work?",
                     **thread_settings)
    future_thread = _thread(session, future, "Next week's question")
    return Discussion(world, thread, future_thread)


def discussion_in_respond(session) -> Discussion:
    """The discussion world with the real clock in its respond stage, everyone with an API
    token (HTTP and live tests)."""
    built = discussion(session, released_at=live_release(2.5))
    built.world.with_tokens(session)
    return built

"""A cohort practising: a released module with a practice assignment, and people in every
role.

``practice(session)`` builds it (flushed, not committed): cohort A of the shared
``two_cohorts`` world with four more learners (``peer_1`` … ``peer_4``), a module released
at ``RELEASED_AT`` (Europe/Berlin; no daylight-saving change in these weeks) holding one
assignment (2 reviews each, submissions due 7 days after the release, reviews 4 days after
that, unfinished reviews expire after 48 hours) with a rubric of two criteria, and a second
assignment on a module not yet released.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from app.cohorts.models import CohortModule
from app.db import utcnow
from app.peer_review.models import CohortAssignment, Rubric, RubricCriterion, RubricLevel
from tests.factories import add_member
from tests.worlds import TwoCohorts, two_cohorts

RELEASED_AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
#: "Now" in these tests: a day after the release, submissions open.
NOW = RELEASED_AT + timedelta(days=1)
DUE = RELEASED_AT + timedelta(days=7)
REVIEWS_DUE = DUE + timedelta(days=4)
#: Levels of the two criteria, by points.
CLARITY = {0: "Unclear", 2: "Mostly clear", 4: "Crystal clear"}
KINDNESS = {0: "Harsh", 1: "Kind"}


def live_release(days: float = 1) -> datetime:
    """A release moment that puts the real clock ``days`` after it (HTTP tests)."""
    return utcnow() - timedelta(days=days)


@dataclass
class Practice:
    """The world, the open assignment (with its criteria ids) and one still to come."""

    world: TwoCohorts
    assignment: CohortAssignment
    future: CohortAssignment
    clarity_id: int
    kindness_id: int

    @property
    def people(self):
        """Everyone by role name (``learner_a``, ``peer_1`` … ``peer_4`` and the rest)."""
        return self.world.people

    @property
    def learners(self):
        """The five learners of cohort A."""
        return [self.people["learner_a"]] + [self.people[f"peer_{n}"] for n in range(1, 5)]

    def scores(self, clarity: int | None = 4, kindness: int | None = 1) -> dict:
        """A rubric form's levels by criterion id (points)."""
        return {self.clarity_id: clarity, self.kindness_id: kindness}


def _rubric(session) -> Rubric:
    rubric = Rubric()
    for position, (title, levels) in enumerate((("Clarity", CLARITY), ("Kindness", KINDNESS))):
        criterion = RubricCriterion(position=position, title=title, description="")
        criterion.levels = [RubricLevel(position=n, label=label, points=points)
                            for n, (points, label) in enumerate(levels.items())]
        rubric.criteria.append(criterion)
    session.add(rubric)
    session.flush()
    return rubric


def _module(session, cohort, position: int, release_at: datetime) -> CohortModule:
    module = CohortModule(cohort_id=cohort.id, position=position, title=f"Week {position + 1}",
                          body="Read this.", release_offset_days=7 * position,
                          release_time=time(9, 0), release_at=release_at,
                          released_at=None)
    session.add(module)
    session.flush()
    return module


def _assignment(session, module: CohortModule, position: int = 0,
                **settings) -> CohortAssignment:
    assignment = CohortAssignment(
        cohort_id=module.cohort_id, cohort_module_id=module.id, position=position,
        title="Give feedback on a real message", instructions="Rewrite the message.",
        instructions_html="<p>Rewrite the message.</p>", rubric=_rubric(session),
        **{"reviews_required": 2, "submit_days": 7, "review_days": 4,
           "review_expiry_hours": 48, **settings})
    session.add(assignment)
    session.flush()
    return assignment


def practice(session, *, released_at: datetime = RELEASED_AT, **settings) -> Practice:
    """Build the practice world (see the module docstring)."""
    world = two_cohorts(session)
    cohort = world.cohort_a
    for n in range(1, 5):
        world.people[f"peer_{n}"] = add_member(session, cohort, role="learner").user
    released = _module(session, cohort, 0, released_at)
    future = _module(session, cohort, 1, released_at + timedelta(days=14))
    assignment = _assignment(session, released, **settings)
    criteria = assignment.rubric.criteria
    return Practice(world, assignment, _assignment(session, future), criteria[0].id,
                    criteria[1].id)


def another_assignment(session, practice: Practice, position: int,
                       **settings) -> CohortAssignment:
    """One more open assignment beside ``practice.assignment`` (at ``position`` of the released
    module), with nothing submitted yet: a fresh start for each example of a property test."""
    module = session.get(CohortModule, practice.assignment.cohort_module_id)
    return _assignment(session, module, position, **settings)

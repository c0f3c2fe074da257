"""Fixtures for peer review tests: the shared authoring world, and the practice world of
the work pages (a day after its release on the real clock: requests run at it) with names
that stand out, and a review allocated in it."""

import pytest

from app.db import utcnow
from app.peer_review import reviewing, submitting
from tests.authoring import NOT_OWNERS, authoring, tokens  # noqa: F401  (fixtures)
from tests.peer_review.world import live_release, practice

#: Names nobody's page shows by accident (no name is a part of another).
NAMES = {"learner_a": "Aurelia Quenby", "peer_1": "Bartholomew Ixworth",
         "peer_2": "Cressida Vantongeren", "peer_3": "Desmond Yarrowby",
         "peer_4": "Eulalie Pendergast"}


@pytest.fixture
def p(db):
    """The practice world a day after its release (submissions open), with names that
    stand out."""
    with db() as session:
        world = practice(session, released_at=live_release(1))
        for role, name in NAMES.items():
            world.people[role].name = name
            world.people[role].email = f"{role.replace('_', '.')}@work.test"
        session.flush()
        return world


@pytest.fixture
def allocated(app, p):
    """learner_a reviews peer_1's work (both submitted); returns the review."""
    with app.app_context():
        for role, body in (("peer_1", "Bartholomew's *careful* work"),
                           ("learner_a", "Aurelia's work")):
            submitting.submit_work(p.people[role], p.assignment.id, body=body, now=utcnow())
        return reviewing.request_review(p.people["learner_a"], p.assignment.id, now=utcnow())

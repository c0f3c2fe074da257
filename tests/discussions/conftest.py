"""Fixtures for discussion tests: the shared authoring world, the discussion world and the
live events the services queue."""

import pytest

from app.discussions import live
from tests.authoring import NOT_OWNERS, authoring, tokens  # noqa: F401  (fixtures)
from tests.discussions.world import discussion


@pytest.fixture
def d(db):
    """The discussion world (tests/discussions/world.py) at its default moments."""
    with db() as session:
        return discussion(session)


@pytest.fixture
def events(monkeypatch):
    """Live events queued by the discussion services: (event, payload, room)."""
    sent = []
    monkeypatch.setattr(live, "notify", lambda event, payload, room: sent.append(
        (event, payload, room)))
    return sent

"""Fixtures for prompt authoring tests: the shared authoring world."""

from tests.authoring import NOT_OWNERS, authoring, tokens  # noqa: F401  (fixtures)

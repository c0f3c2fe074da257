"""Fixtures of the cohort tests: a program module with people around it, for launch tests."""

from tests.authoring import authoring  # noqa: F401 (fixture)

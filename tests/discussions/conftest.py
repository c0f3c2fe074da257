"""Fixtures for prompt authoring tests: the shared authoring world and the API's checks."""

from tests.api.conftest import (  # noqa: F401  (fixtures)
    call,
    openapi,
    query_counter,
    response_validator,
)
from tests.authoring import NOT_OWNERS, authoring, tokens  # noqa: F401  (fixtures)

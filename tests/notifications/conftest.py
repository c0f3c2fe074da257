"""Fixtures of the notification tests: the API's response checks."""

from tests.api.conftest import (  # noqa: F401 (fixtures shared with the API tests)
    call,
    openapi,
    query_counter,
    response_validator,
)

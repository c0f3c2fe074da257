"""Fixtures of the notification tests: the API's response checks."""

import pytest

from tests.api.conftest import (  # noqa: F401 (fixtures shared with the API tests)
    call,
    openapi,
    query_counter,
    response_validator,
)


@pytest.fixture
def new_client(app):
    """``new_client()``: another browser with its own cookies (and the CSRF helpers)."""
    return app.test_client

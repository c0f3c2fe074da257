"""Fixtures of the cohort tests: the API's response checks and query counter."""

from tests.api.conftest import (  # noqa: F401 (fixtures shared with the API tests)
    call,
    openapi,
    query_counter,
    response_validator,
    table_counts,
)
from tests.authoring import authoring  # noqa: F401 (a program module, for launch tests)

"""API test fixtures: every JSON response is checked against the OpenAPI document.

``call(client, method, path, **kwargs)`` makes a request and validates the response
against the schema the served document declares for that path, method and status; an
undocumented status, a wrong content type or a body that does not match fails the test.
"""

import functools
import json
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection
from werkzeug.test import TestResponse

from app.accounts.tokens import issue_api_token
from app.db import Model, get_database, utcnow

#: The base URI under which the served document is registered for ``$ref`` resolution.
DOCUMENT_URI = "urn:cohort-commons:openapi"
OPENAPI_PATH = "/api/v1/openapi.json"


def _pointer(*parts: str) -> str:
    """A JSON pointer to the given keys, escaped per RFC 6901."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


@dataclass
class Operation:
    """One documented operation, and where it sits in the document."""

    path: str
    method: str
    spec: dict


class ResponseValidator:
    """Checks responses against the OpenAPI document they claim to follow."""

    def __init__(self, document: dict):
        """Index the document's paths and register it for ``$ref`` resolution."""
        self.document = document
        self.registry = Registry().with_resource(
            DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012))
        self._paths = [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"), path)
            for path in document["paths"]
        ]

    def operation(self, method: str, path: str) -> Operation | None:
        """The documented operation answering ``method path``, if any."""
        path = path.split("?", 1)[0]
        for pattern, template in self._paths:
            if pattern.match(path):
                spec = self.document["paths"][template].get(method.lower())
                return Operation(template, method.lower(), spec) if spec else None
        return None

    def validator_for(self, *pointer_parts: str) -> Draft202012Validator:
        """A validator for the schema at a place in the document (refs resolve)."""
        ref = {"$ref": DOCUMENT_URI + "#" + _pointer(*pointer_parts)}
        return Draft202012Validator(ref, registry=self.registry,
                                    format_checker=Draft202012Validator.FORMAT_CHECKER)

    def validate(self, method: str, path: str, response: TestResponse) -> None:
        """Fail unless the response is one the document declares, in the declared shape."""
        operation = self.operation(method, path)
        status = str(response.status_code)
        if operation is None:
            # Unknown paths and methods answer with the error envelope (404, 405).
            assert response.status_code >= 400, (
                f"{method} {path} is not documented but answered {status}")
            assert response.mimetype == "application/json", response.mimetype
            self.validator_for("components", "schemas", "ErrorResponse").validate(
                response.get_json())
            return
        responses = operation.spec["responses"]
        assert status in responses, (
            f"{method} {operation.path} answered {status}, which the document does not "
            f"declare (declared: {', '.join(sorted(responses))})")
        content = responses[status].get("content")
        if not content:
            assert response.get_data() == b"", (
                f"{method} {operation.path} {status} should have no body")
            return
        assert response.mimetype in content, (
            f"{method} {operation.path} {status} sent {response.mimetype}, "
            f"documented {', '.join(content)}")
        if response.mimetype == "application/json":
            self.validator_for("paths", operation.path, operation.method, "responses", status,
                               "content", "application/json", "schema",
                               ).validate(response.get_json())


@functools.cache
def served_openapi() -> str:
    """The OpenAPI document as a test app serves it, fetched once per test process.

    It follows from the code alone (every test app has the same BASE_URL), and building it
    takes longer than most tests.
    """
    from tests.conftest import new_app  # here: conftest imports this module's fixtures

    response = new_app().test_client().get(OPENAPI_PATH)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def openapi(app) -> dict:
    """The OpenAPI document the app serves: a copy of its own for each test to change."""
    return json.loads(served_openapi())


@pytest.fixture
def response_validator(openapi) -> ResponseValidator:
    """Validates responses against the served OpenAPI document."""
    return ResponseValidator(openapi)


@pytest.fixture
def call(response_validator) -> Callable[..., TestResponse]:
    """``call(client, method, path, **kwargs)``: make a request and validate the response."""
    def request(client, method: str, path: str, **kwargs) -> TestResponse:
        """Send the request through ``client`` and check the answer."""
        response = client.open(path, method=method, **kwargs)
        response_validator.validate(method, path, response)
        return response
    return request


def bearer(secret: str) -> dict:
    """Headers authenticating with a personal API token."""
    return {"Authorization": f"Bearer {secret}"}


def token_for(session, user) -> str:
    """Issue an API token for a user (inside a ``db()`` block) and return its secret."""
    _, secret = issue_api_token(user, name="tests", now=utcnow())
    return secret


@pytest.fixture
def table_counts(db) -> Callable[[], dict[str, int]]:
    """``table_counts()``: the number of rows in every table, to prove nothing changed."""
    def counts() -> dict[str, int]:
        """Count the rows of each table now."""
        with db() as session:
            return {table.name: session.scalar(select(func.count()).select_from(table))
                    for table in Model.metadata.sorted_tables}
    return counts


class QueryCounter:
    """Counts the SQL statements the application sends while it is active."""

    def __init__(self):
        """Start idle, with nothing counted."""
        self.statements: list[str] = []
        self.active = False

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        """The ``before_cursor_execute`` listener."""
        if self.active:
            self.statements.append(statement)

    @property
    def count(self) -> int:
        """How many statements were counted."""
        return len(self.statements)

    @contextmanager
    def counting(self):
        """Count the statements sent within the block (starting from zero)."""
        self.statements = []
        self.active = True
        try:
            yield self
        finally:
            self.active = False


@pytest.fixture
def query_counter(app):
    """A :class:`QueryCounter` listening on the engine the app's sessions use."""
    bind = get_database(app).session_factory.kw["bind"]
    # On PostgreSQL the tests bind sessions to one connection (a transaction per test).
    engine = bind.engine if isinstance(bind, Connection) else bind
    counter = QueryCounter()
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)

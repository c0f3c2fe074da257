"""Shared fixtures: an app per test on SQLite, and again on PostgreSQL.

Every test that uses ``app`` runs once per backend: ``[sqlite]`` on a fresh in-memory
database, ``[postgresql]`` inside a transaction that is rolled back afterwards (set
``TEST_DATABASE_URL``; ``REQUIRE_POSTGRES=1`` makes its absence a failure). Either way the
schema is built once per test process: SQLite copies it from an in-memory template.

Each backend keeps one engine per test process, so SQLAlchemy's compiled statements (cached
per engine) are compiled once per process rather than once per test.
"""

import contextlib
import itertools
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from sqlalchemy.engine import Engine
from werkzeug.routing import Rule

from app import create_app
from app.db import Database, Model, get_database, get_session, make_engine
from app.extensions import socketio
from app.models import import_all_models
from tests.factories import FAST_PASSWORD_HASH_METHOD, PASSWORD
from tests.http import (  # noqa: F401 (the API's response checks, for every feature's tests)
    call,
    openapi,
    query_counter,
    response_validator,
    table_counts,
)

import_all_models()


def _compile_routes_once() -> None:
    """Compile each route once per test process, not once per app.

    Werkzeug parses every rule of every new app into regular expressions and generates
    Python code for its URL builder, which is most of what ``create_app`` costs. All of it
    follows from the rule alone (its pattern, defaults and the map's converters and
    settings), so every test's app shares the first compilation. Converters keep no state
    of their own, so their instances can be shared too.
    """
    compile_rule = getattr(Rule, "compile", None)
    if compile_rule is None or not hasattr(Rule, "_compile_builder"):
        return  # another Werkzeug: only the speed-up is lost
    compiled: dict = {}

    def shared_compile(rule: Rule) -> None:
        key = (rule.rule, rule.host, rule.subdomain, rule.merge_slashes,
               rule.map.host_matching, repr(sorted((rule.defaults or {}).items())),
               tuple(sorted(rule.map.converters.items())))
        if key not in compiled:
            before = set(rule.arguments)
            compile_rule(rule)
            compiled[key] = (rule._parts, rule._trace, rule._converters,
                             set(rule.arguments) - before,
                             rule._build.__func__, rule._build_unknown.__func__)
            return
        parts, trace, converters, variables, build, build_unknown = compiled[key]
        rule._parts, rule._trace = list(parts), list(trace)
        rule._converters = dict(converters)
        rule.arguments.update(variables)
        rule._build = build.__get__(rule, None)
        rule._build_unknown = build_unknown.__get__(rule, None)

    Rule.compile = shared_compile


_compile_routes_once()

#: Attachments stored by this test process (never the instance folder).
UPLOADS = tempfile.mkdtemp(prefix="cohort-commons-uploads-")

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass
class Backend:
    """The database a test run uses."""

    name: str
    url: str
    #: PostgreSQL: the engine of the session's schema. SQLite: the in-memory template.
    engine: Engine
    #: SQLite: the in-memory database every test's app uses, refilled from the template.
    shared: Engine | None = None


def pytest_xdist_make_scheduler(config, log):
    """Run the browser tests in one xdist worker, the rest test by test wherever is free.

    The browser tests share one live server and one Chromium per worker; a second set would
    cost more than it saves, except for the crawl of every page, which takes as long as all
    the others together: its roles go wherever a worker is free (each worker that takes
    one starts its own server). (xdist's
    ``loadgroup`` no longer sees its groups under pytest 9, whose node ids cannot be
    renamed, so the grouping is done by the scheduler here.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith("tests/browser/test_every_page.py"):
                return nodeid  # the long crawl, one role at a time: beside the others
            return "browser" if nodeid.startswith("tests/browser/") else nodeid

    return BrowserTestsTogether(config, log)


def postgres_url() -> str | None:
    """The PostgreSQL URL for the second pass, or None."""
    return os.environ.get("TEST_DATABASE_URL") or None


def with_search_path(url: str, schema: str) -> str:
    """The URL with its connections confined to one schema."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def require_postgres_url(what: str) -> str:
    """The PostgreSQL URL, or skip (with the reason shown) — a failure under REQUIRE_POSTGRES=1."""
    url = postgres_url()
    if url is None:
        reason = (f"{what} skipped: TEST_DATABASE_URL is not set "
                  "(e.g. TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test)")
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but " + reason)
        pytest.skip(reason)
    return url


@contextmanager
def postgres_schema(prefix: str, what: str = "PostgreSQL pass") -> Iterator[str]:
    """A new, empty PostgreSQL schema: yields a URL confined to it and drops it afterwards.

    Named after the test process (and numbered), so parallel runs never share tables.
    """
    url = require_postgres_url(what)
    schema = f"{prefix}_{os.getpid()}_{next(_schema_numbers)}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(url, schema)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


_schema_numbers = itertools.count(1)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request) -> Iterator[Backend]:
    """One database backend for the whole session."""
    if request.param == "sqlite":
        template = make_engine("sqlite://")
        Model.metadata.create_all(template)
        shared = make_engine("sqlite://")
        yield Backend("sqlite", "sqlite://", template, shared)
        shared.dispose()
        template.dispose()
        return
    with postgres_schema("test") as schema_url:
        engine = make_engine(schema_url)
        Model.metadata.create_all(engine)
        yield Backend("postgresql", schema_url, engine)
        engine.dispose()


def copy_sqlite_database(source: Engine, target: Engine) -> None:
    """Copy an in-memory SQLite database into another, page by page (far quicker than DDL)."""
    with source.connect() as origin, target.connect() as copy:
        origin.connection.dbapi_connection.backup(copy.connection.dbapi_connection)


class CompiledTemplates(BytecodeCache):
    """Templates compiled once per test process, shared by every test's new app.

    Jinja checks each entry against the template's source, so an edit is never missed.
    """

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        """Fill the bucket from an earlier compilation, if any."""
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        """Keep a compilation for the next app."""
        self.code[bucket.key] = bucket.bytecode_to_string()


_compiled_templates = CompiledTemplates()


def new_app(**overrides) -> Flask:
    """A test application (``test_config`` plus overrides) that reuses compiled templates."""
    application = create_app(test_config(**overrides))
    application.jinja_env.bytecode_cache = _compiled_templates
    return application


def test_config(**overrides) -> dict:
    """Configuration for a test application."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": "sqlite://",
        "SCHEDULER_ENABLED": False,
        "REALTIME_EMIT_INLINE": True,
        "BASE_URL": "http://localhost",
        "RATELIMIT_STORAGE_URI": "memory://",
        "REDIS_URL": None,
        "MAIL_SERVER": None,
        "LOG_LEVEL": "WARNING",
        "PASSWORD_HASH_METHOD": FAST_PASSWORD_HASH_METHOD,
        "UPLOAD_FOLDER": UPLOADS,
    }
    config.update(overrides)
    return config


@pytest.fixture
def config_overrides() -> dict:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(backend: Backend, config_overrides: dict):
    """An application with an empty database of the current backend."""
    if backend.name == "sqlite":
        application = new_app(**config_overrides)
        get_database(application).engine.dispose()
        # The backup replaces the whole database: nothing of the last test's data is left.
        copy_sqlite_database(backend.engine, backend.shared)
        application.extensions["database"] = Database(backend.shared)
        yield application
        return
    application = new_app(DATABASE_URL=backend.url, **config_overrides)
    get_database(application).engine.dispose()
    connection = backend.engine.connect()
    outer = connection.begin()
    get_database(application).bind_to(connection, join_transaction_mode="create_savepoint")
    yield application
    outer.rollback()
    connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """A new, empty database (no tables): a SQLite file, or a PostgreSQL schema of its own.

    For tests that build the schema themselves (migrations) or run the app as a separate
    process (API fuzzing).
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with postgres_schema("empty") as url:
        yield url


@pytest.fixture
def own_database(backend, tmp_path):
    """An app on a database of its own that many connections really share.

    A SQLite file, or a PostgreSQL schema of its own, instead of the rolled-back
    transaction of ``app``: for threads, real job stores and concurrent requests.
    """
    from app import scheduler

    with contextlib.ExitStack() as stack:
        url = (f"sqlite:///{tmp_path / 'own.db'}" if backend.name == "sqlite"
               else stack.enter_context(postgres_schema("own")))
        application = new_app(DATABASE_URL=url)
        Model.metadata.create_all(get_database(application).engine)
        yield application
        scheduler.stop(application)
        get_database(application).engine.dispose()


@contextmanager
def in_app(app) -> Iterator:
    """Run service or factory code in an app context, committing at the end.

    Leave the block before making client requests: requests inside an active app
    context would share its database session.
    """
    with app.app_context():
        session = get_session()
        yield session
        session.commit()


@pytest.fixture
def db(app):
    """``with db() as session:`` — an app context and its session, committed on exit."""
    return lambda: in_app(app)


class Client(FlaskClient):
    """A test client that knows how to find its CSRF token.

    It reads each response whole and then closes it, as a WSGI server does, so work the
    app does after the response (``app.db.after_response``) has run when a request returns.
    """

    def open(self, *args, buffered: bool = True, **kwargs):
        """Make a request; by default the response is read and closed, as a server does."""
        return super().open(*args, buffered=buffered, **kwargs)

    def csrf_token(self, path: str = "/login") -> str:
        """Fetch a page and return the CSRF token in its meta tag."""
        response = self.get(path)
        match = CSRF_META.search(response.get_data(as_text=True))
        assert match, f"no CSRF token on {path} ({response.status_code})"
        return match.group(1)

    def post_form(self, path: str, data: dict, *, token_from: str | None = None, **kwargs):
        """POST a form with a valid CSRF token taken from ``token_from`` (default: path)."""
        data = {"csrf_token": self.csrf_token(token_from or path), **data}
        return self.post(path, data=data, **kwargs)


@pytest.fixture
def client(app) -> Client:
    """A browser-like client with cookies."""
    app.test_client_class = Client
    return app.test_client()


@pytest.fixture
def login(app):
    """``login(client, user)`` signs a client in through the sign-in form."""
    def sign_in(client: Client, user, password: str = PASSWORD, remember: bool = False):
        data = {"email": user.email, "password": password}
        if remember:
            data["remember"] = "y"
        response = client.post_form("/login", data)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response
    return sign_in


@pytest.fixture
def api_headers(client):
    """Headers for cookie-authenticated API writes (session + X-CSRFToken)."""
    def headers() -> dict:
        return {"X-CSRFToken": client.csrf_token("/"), "Content-Type": "application/json"}
    return headers


@pytest.fixture
def socket_client(app, client):
    """``socket_client(auth=None)``: a Socket.IO test client sharing the HTTP cookies."""
    clients = []

    def connect(auth=None, flask_client=client):
        sc = socketio.test_client(app, flask_test_client=flask_client, auth=auth)
        clients.append(sc)
        return sc

    yield connect
    for sc in clients:
        if sc.is_connected():
            sc.disconnect()

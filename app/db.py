"""Database: the model base, one session per app context, transactions, and what runs
after a commit or after the response."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Flask, after_this_request, current_app, g, has_request_context, request
from sqlalchemy import DateTime, MetaData, create_engine, event, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, MappedColumn, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

#: The largest value of an INTEGER primary key (PostgreSQL's int4): ids in URLs, cursors
#: and room names beyond it are refused before they reach the database.
MAX_ID = 2**31 - 1


def parse_id(text: str) -> int:
    """An id (or a cursor made of one) from a query string or form field: 0 to MAX_ID.

    Anything else raises ValueError, so ``request.args.get(name, 0, type=parse_id)`` falls
    back to the default instead of sending an out-of-range number to the database.
    """
    value = int(text)
    if not 0 <= value <= MAX_ID:
        raise ValueError(f"{text!r} is not an id")
    return value


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def lock_for_update(session: Session, model, row_id: int) -> None:
    """Hold a row until the transaction ends: writers that lock the same row queue up.

    Use it before reading what a write depends on (the next free position, who is already
    enrolled), so two concurrent requests never both act on the same stale answer.
    PostgreSQL locks the row (``SELECT … FOR UPDATE``; reads after it, in READ COMMITTED,
    see what earlier holders committed). SQLite has no row locks: any write takes the
    database's write lock, so a write that changes nothing does the same, queueing other
    writers for up to ``busy_timeout``.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(model.id).where(model.id == row_id).with_for_update())
    else:
        session.execute(update(model).where(model.id == row_id).values(id=model.id)
                        .execution_options(synchronize_session=False))


def insert_for(session: Session):
    """The ``insert`` of the session's dialect, which offers ``ON CONFLICT DO NOTHING``."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert
    return sqlite_insert


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no offset, so values are normalised to UTC on the way in and
    marked UTC on the way out; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Normalise to UTC; refuse naive datetimes, which are ambiguous."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        """Attach UTC to values read back."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Model(DeclarativeBase):
    """Base class of every model; constraints are named by convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def columns_of(mixin: type) -> tuple[str, ...]:
    """The columns a declarative mixin declares, in order (e.g. the settings a copy takes)."""
    return tuple(name for name, value in vars(mixin).items() if isinstance(value, MappedColumn))


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    """Turn on foreign keys and WAL for every SQLite connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode")
    if cursor.fetchone()[0] not in ("memory", "wal"):
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for the URL with the settings each backend needs."""
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        kwargs: dict = {"connect_args": {"check_same_thread": False}}
        if in_memory:
            # One shared connection, so every session sees the same in-memory database.
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


class Database:
    """Holds the engine and session factory of one application."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.session_factory = sessionmaker(bind=engine, expire_on_commit=False)

    def bind_to(self, connection, **session_kwargs) -> None:
        """Make sessions use one connection (tests: a transaction per test)."""
        self.session_factory = sessionmaker(
            bind=connection, expire_on_commit=False, **session_kwargs
        )


def init_app(app: Flask) -> None:
    """Create the engine and close the session at the end of each app context."""
    app.extensions["database"] = Database(make_engine(app.config["DATABASE_URL"]))
    app.teardown_appcontext(_close_session)


def get_database(app: Flask | None = None) -> Database:
    """Return the application's database."""
    return (app or current_app).extensions["database"]


def get_session() -> Session:
    """Return the session of the current app context, opening it on first use."""
    if "db_session" not in g:
        g.db_session = get_database().session_factory()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    """Close the app context's session."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def transaction() -> Iterator[Session]:
    """Run one business action: commit at the outermost level, roll back on error.

    Nested calls join the outer transaction, so services can call each other.
    """
    session = get_session()
    depth = session.info.get("tx_depth", 0)
    session.info["tx_depth"] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info["tx_depth"] = depth


# --- after the commit ------------------------------------------------------------------------
#
# Side effects that must not happen for data that was never saved (live events, changes to
# the scheduler's jobs, closing sockets) are queued on the session and run once the
# outermost transaction commits. A rolled-back savepoint drops exactly the callbacks queued
# inside it; a rolled-back transaction drops them all.

_CALLBACKS = "after_commit_callbacks"
#: Savepoint -> how many callbacks were queued when it began.
_SAVEPOINT_MARKS = "after_commit_savepoint_marks"


def after_commit(callback: Callable[[], object]) -> None:
    """Run ``callback()`` once the current transaction commits; never if it rolls back.

    Outside a :func:`transaction` there is nothing to wait for: it runs at once.
    """
    _queue(callback, None)


def after_commit_batch(callback: Callable[[list], object], item) -> None:
    """Pass ``item`` to ``callback`` after the commit, in one call with the transaction's
    other items for the same callback (in the order they were queued).

    For effects that are cheaper together, such as emitting many live events from one
    background task. Savepoints drop their own items, as with :func:`after_commit`.
    """
    _queue(callback, [item])


def _queue(callback: Callable, items: list | None) -> None:
    """Queue a callback (with its items, for a batch) or run it now outside a transaction."""
    session = get_session()
    if not session.info.get("tx_depth"):
        _run([(callback, items)])
        return
    if not session.in_transaction():
        session.begin()  # what autobegin would do at the first statement: commit runs us
    session.info.setdefault(_CALLBACKS, []).append((callback, items))


def _run(queued: list[tuple[Callable, list | None]]) -> None:
    """Run queued callbacks in order; a batch runs once, where its first item was queued."""
    batches: dict[Callable, list] = {}
    order: list[tuple[Callable, list | None]] = []
    for callback, items in queued:
        if items is None:
            order.append((callback, None))
        elif callback in batches:
            batches[callback].extend(items)
        else:
            batches[callback] = list(items)
            order.append((callback, batches[callback]))
    for callback, items in order:
        try:
            callback() if items is None else callback(items)
        except Exception:  # the data is saved; a failed side effect must not undo the request
            log.exception("an after-commit callback failed")


@event.listens_for(Session, "after_transaction_create")
def _note_savepoint(session: Session, transaction) -> None:
    """Note how many callbacks were queued when a savepoint began."""
    if transaction.nested:
        marks = session.info.setdefault(_SAVEPOINT_MARKS, {})
        marks[id(transaction)] = len(session.info.get(_CALLBACKS, ()))


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    """Run the committed transaction's callbacks (a released savepoint commits nothing)."""
    if session.in_nested_transaction():
        return
    session.info.pop(_SAVEPOINT_MARKS, None)
    queued = session.info.pop(_CALLBACKS, None)
    if queued:
        _run(queued)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous) -> None:
    """Drop the callbacks of what was undone: a savepoint's own, or the whole transaction's."""
    # A failed flush rolls back its own subtransaction up to the nearest savepoint or the
    # outermost transaction: that boundary is what was undone.
    undone = previous
    while not undone.nested and undone.parent is not None:
        undone = undone.parent
    if undone.nested:
        mark = session.info.get(_SAVEPOINT_MARKS, {}).pop(id(undone), None)
        queued = session.info.get(_CALLBACKS)
        if mark is not None and queued is not None:
            del queued[mark:]
        return
    session.info.pop(_SAVEPOINT_MARKS, None)
    session.info.pop(_CALLBACKS, None)


def after_response(callback: Callable[[], object]) -> None:
    """Run ``callback()`` once the response has been sent, in an app context of its own.

    For coarse bookkeeping (visits, last active) that a plain read must neither commit nor
    wait for: the WSGI server calls it when it closes the response, after the body went
    out, and the callback opens its own transaction. A failure is logged, never shown.
    Outside a request, and in a Socket.IO event (a request context that sends no
    response), it runs at once.
    """
    if not has_request_context() or getattr(request, "sid", None) is not None:
        callback()
        return
    app = current_app._get_current_object()

    def run() -> None:
        """The callback in a fresh app context (the request's one is gone by now)."""
        with app.app_context():
            try:
                callback()
            except Exception:
                log.exception("A write after the response failed")

    @after_this_request
    def _on_close(response):
        """Hand the callback to the response, which runs it when the server closes it."""
        response.call_on_close(run)
        return response

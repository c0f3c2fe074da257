"""DATA-8: the migrations build exactly the models' schema, safely, on both databases.

SQLite runs on a temporary file; PostgreSQL in a schema of its own (``empty_<pid>_<n>``),
created and dropped here. ``TEST_DATABASE_URL`` enables PostgreSQL; without it that
variant is skipped, unless ``REQUIRE_POSTGRES=1`` makes its absence a failure.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError

import app.db as app_db
from app import audit, create_app, migrate
from app.db import Model, get_database, get_session, make_engine
from tests.conftest import test_config as app_config
from tests.factories import add_member, create_cohort, create_module, create_user

APPEND_ONLY_TRIGGERS = {
    "sqlite": {"audit_log_no_update", "audit_log_no_delete"},
    "postgresql": {"audit_log_no_change"},
}


def _include_name(name, type_, parent_names) -> bool:
    """The filter of migrations/env.py: the scheduler's job table is not ours."""
    return not (type_ == "table" and name == "apscheduler_jobs")


def _diff(engine: Engine, metadata: MetaData = Model.metadata) -> list:
    """What autogenerate would change to bring the database to ``metadata``."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_name": _include_name, "compare_type": True,
            "compare_server_default": True,
        })
        return compare_metadata(context, metadata)


def _head() -> str:
    """The one head revision of the migrations."""
    heads = ScriptDirectory.from_config(migrate.alembic_config(create_app(app_config()))
                                        ).get_heads()
    assert len(heads) == 1, f"the migrations have branched: {heads}"
    return heads[0]


def _current(engine: Engine) -> str | None:
    """The revision the database is at."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _tables(engine: Engine) -> set[str]:
    """The tables of the database (of its search path's first schema on PostgreSQL)."""
    return set(inspect(engine).get_table_names())


@pytest.fixture
def engine(database_url) -> Iterator[Engine]:
    """An engine on the test database, for looking at it."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated_app(database_url, engine):
    """An application whose database has been migrated to head."""
    application = create_app(app_config(DATABASE_URL=database_url))
    migrate.upgrade(application)
    yield application
    get_database(application).engine.dispose()


def _populate(application) -> None:
    """Put users, programs, cohorts, memberships and an audit entry in the database."""
    with application.app_context():
        session = get_session()
        for _ in range(2):
            cohort = create_cohort(session)
            create_module(session, cohort.program)
            for role in ("facilitator", "learner", "learner"):
                add_member(session, cohort, role=role)
        create_user(session, password=None)
        audit.record(session, None, "test.populated")
        session.commit()


def _snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every model table, in id order (a checksum that shows any change)."""
    with engine.connect() as connection:
        return {table.name: [tuple(row) for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns))]
                for table in Model.metadata.sorted_tables}


# --- the schema ----------------------------------------------------------------------------------

def test_upgrading_an_empty_database_gives_exactly_the_models_schema(migrated_app, engine):
    assert _diff(engine) == []
    assert _tables(engine) == set(Model.metadata.tables) | {"alembic_version"}
    assert _current(engine) == _head()
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            schema = connection.scalar(text("SELECT current_schema()"))
            in_schema = set(connection.scalars(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": schema}))
        assert schema.startswith("empty_")  # the test's own, not public
        assert set(Model.metadata.tables) <= in_schema


def test_the_drift_check_notices_a_difference(migrated_app, engine):
    changed = MetaData(naming_convention=Model.metadata.naming_convention)
    for table in Model.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["users"].append_column(Column("nickname", String(40)))
    Table("extras", changed, Column("id", String(10), primary_key=True))
    changes = {change[0] for change in _diff(engine, changed)}
    assert {"add_column", "add_table"} <= changes


def test_the_scheduler_job_table_is_not_drift(migrated_app, engine):
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, next_run_time FLOAT)")
    assert _diff(engine) == []


def test_check_constraints_exist_after_migrating(migrated_app, engine):
    inspector = inspect(engine)
    for table in Model.metadata.sorted_tables:
        expected = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        found = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert expected <= found, table.name


def test_foreign_keys_are_named_in_the_database(migrated_app, engine):
    inspector = inspect(engine)
    for table in Model.metadata.sorted_tables:
        for foreign_key in inspector.get_foreign_keys(table.name):
            assert foreign_key["name"], f"unnamed foreign key on {table.name}"
            assert foreign_key["name"].startswith(f"fk_{table.name}_")


def test_the_audit_log_is_append_only_after_migrating(migrated_app, engine):
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            triggers = set(connection.scalars(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'audit_log'")))
        else:
            triggers = set(connection.scalars(text(
                "SELECT trigger_name FROM information_schema.triggers "
                "WHERE event_object_table = 'audit_log' "
                "AND trigger_schema = current_schema()")))
    assert triggers == APPEND_ONLY_TRIGGERS[engine.dialect.name]
    _populate(migrated_app)
    for statement in ("UPDATE audit_log SET action = 'changed'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT action FROM audit_log")) == "test.populated"


# --- data survives -------------------------------------------------------------------------------

def test_upgrading_a_populated_database_again_changes_nothing(migrated_app, engine):
    _populate(migrated_app)
    before = _snapshot(engine)
    assert before["memberships"] and before["users"] and before["audit_log"]
    migrate.upgrade(migrated_app)
    assert _snapshot(engine) == before
    assert _current(engine) == _head()


def test_downgrading_a_populated_database_and_upgrading_again_works(migrated_app, engine):
    _populate(migrated_app)
    migrate.downgrade(migrated_app, "base")
    assert _tables(engine) == {"alembic_version"}
    assert _current(engine) is None
    migrate.upgrade(migrated_app)
    assert _diff(engine) == []
    assert _current(engine) == _head()
    _populate(migrated_app)
    assert len(_snapshot(engine)["memberships"]) == 6


def test_titles_stored_with_line_breaks_are_made_one_line_by_0004(database_url, engine):
    """Text saved before one-line fields refused line breaks keeps its words, on one line."""
    application = create_app(app_config(DATABASE_URL=database_url))
    migrate.upgrade(application, "0003")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO users (id, email, name, timezone, is_admin, can_own_programs, "
            "is_disabled, created_at) VALUES (1, 'a@example.com', :name, 'UTC', false, true, "
            "false, CURRENT_TIMESTAMP)"), {"name": "Ada\r\nLovelace"})
        connection.execute(text(
            "INSERT INTO programs (id, owner_id, title, summary, created_at, updated_at) "
            "VALUES (1, 1, :title, :summary, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
            {"title": "Week 1\nBcc: x@example.com\t ", "summary": "Line one\nline two"})
    migrate.upgrade(application)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM users")).scalar() == "Ada Lovelace"
        title, summary = connection.execute(text("SELECT title, summary FROM programs")).one()
    assert title == "Week 1 Bcc: x@example.com"
    assert summary == "Line one\nline two"  # Markdown text keeps its lines
    get_database(application).engine.dispose()


def test_0005_stores_the_cleaned_html_of_content_written_before(database_url, engine):
    """Content saved before render on write gets its HTML from the migration, cleaned."""
    application = create_app(app_config(DATABASE_URL=database_url))
    migrate.upgrade(application, "0004")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO users (id, email, name, timezone, is_admin, can_own_programs, "
            "is_disabled, created_at) VALUES (1, 'a@example.com', 'A', 'UTC', false, true, "
            "false, CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO programs (id, owner_id, title, summary, created_at, updated_at) "
            "VALUES (1, 1, 'P', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO modules (id, program_id, position, title, body, release_offset_days, "
            "release_time) VALUES (1, 1, 0, 'Week 1', :body, 0, '09:00:00'), "
            "(2, 1, 1, 'Week 2', '', 0, '09:00:00')"),
            {"body": "**Hi** <script>x</script>"})
    migrate.upgrade(application)
    with engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT id, body_html FROM modules")).all())
    assert rows == {1: "<p><strong>Hi</strong> &lt;script&gt;x&lt;/script&gt;</p>\n", 2: ""}
    get_database(application).engine.dispose()


# --- SQLite specifics ----------------------------------------------------------------------------

def test_app_connections_enforce_foreign_keys(tmp_path):
    for url in ("sqlite://", f"sqlite:///{tmp_path / 'fk.db'}"):
        application = create_app(app_config(DATABASE_URL=url))
        with application.app_context():
            assert get_session().scalar(text("PRAGMA foreign_keys")) == 1
        get_database(application).engine.dispose()


def test_sqlite_migrations_run_with_foreign_keys_off(tmp_path, monkeypatch):
    """Batch migrations copy and drop tables: with foreign keys on, children would vanish."""
    states: list[int] = []
    real_make_engine = app_db.make_engine

    def recording_engine(url: str) -> Engine:
        """The migration engine, noting the foreign-key setting at each table change."""
        engine = real_make_engine(url)

        @event.listens_for(engine, "before_cursor_execute")
        def note(conn, cursor, statement, parameters, context, executemany):
            """Record ``PRAGMA foreign_keys`` before DDL runs."""
            if statement.lstrip().upper().startswith(("CREATE", "DROP", "ALTER")):
                states.append(cursor.connection.execute("PRAGMA foreign_keys").fetchone()[0])
        return engine

    application = create_app(app_config(DATABASE_URL=f"sqlite:///{tmp_path / 'batch.db'}"))
    monkeypatch.setattr(app_db, "make_engine", recording_engine)
    migrate.upgrade(application)
    _populate(application)
    migrate.downgrade(application, "base")
    migrate.upgrade(application)
    monkeypatch.undo()
    assert len(states) > 20
    assert set(states) == {0}
    with application.app_context():
        assert get_session().scalar(text("PRAGMA foreign_keys")) == 1
    get_database(application).engine.dispose()


# --- the metadata and the scripts ----------------------------------------------------------------

def test_every_constraint_and_index_in_the_metadata_has_a_name():
    kinds = (CheckConstraint, ForeignKeyConstraint, PrimaryKeyConstraint, UniqueConstraint)
    for table in Model.metadata.sorted_tables:
        for constraint in table.constraints:
            assert isinstance(constraint, kinds)
            assert isinstance(constraint.name, str) and constraint.name, (
                f"unnamed {type(constraint).__name__} on {table.name}")
        for index in table.indexes:
            assert index.name, f"unnamed index on {table.name}"


def test_every_migration_can_be_reverted():
    script = ScriptDirectory.from_config(migrate.alembic_config(create_app(app_config())))
    revisions = list(script.walk_revisions())
    assert revisions
    for revision in revisions:
        assert callable(getattr(revision.module, "downgrade", None)), revision.revision
        assert revision.doc, f"migration {revision.revision} has no message"


# --- the command line ----------------------------------------------------------------------------

def test_flask_db_upgrade_and_check_through_the_cli(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    application = create_app(app_config(DATABASE_URL=url))
    runner = application.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Database is at head." in result.output
    engine = make_engine(url)
    try:
        assert _current(engine) == _head()
        assert set(Model.metadata.tables) <= _tables(engine)
        check = runner.invoke(args=["db", "check"])
        assert check.exit_code == 0, check.output
        assert "Models and migrations agree." in check.output
        again = runner.invoke(args=["db", "upgrade"])
        assert again.exit_code == 0, again.output
    finally:
        engine.dispose()
        get_database(application).engine.dispose()


def test_commands_other_than_db_do_not_load_alembic():
    """Alembic logs each plugin as it loads; ``flask users token`` output should stay clean."""
    code = ("import sys; from app import create_app; create_app({'TESTING': True}); "
            "print('alembic' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent.parent, check=True,
                            env={**os.environ, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})
    assert result.stdout.strip() == "False", result.stderr

"""Alembic environment: the application's models are the target schema."""

from alembic import context

from app.db import Model, make_engine
from app.models import import_all_models

import_all_models()
config = context.config
target_metadata = Model.metadata


def run_migrations() -> None:
    """Run migrations on a connection given by the caller, or on the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.attributes["database_url"])
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations copy tables; with foreign keys on, dropping the old
            # table would cascade deletes into its children.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            _run(connection)
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    engine.dispose()


def _include_name(name, type_, parent_names) -> bool:
    """Leave out tables owned by libraries (the scheduler's job store)."""
    return not (type_ == "table" and name == "apscheduler_jobs")


def _run(connection) -> None:
    """Configure the context on a connection and run the migrations in a transaction."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        compare_server_default=True,
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `flask db upgrade`.")
run_migrations()

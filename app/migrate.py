"""Alembic, driven from the application's own engine (``flask db …``)."""

import logging
from pathlib import Path

from flask import Flask

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _alembic():
    """Alembic's ``command`` and ``Config``, imported on first use.

    Importing Alembic logs a line per autogenerate plugin at INFO; every ``flask``
    command loads this module, and none but ``flask db …`` should print that.
    """
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    from alembic import command
    from alembic.config import Config

    return command, Config


def alembic_config(app: Flask):
    """An Alembic configuration that uses the app's database URL."""
    _, config_class = _alembic()
    config = config_class()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = app.config["DATABASE_URL"]
    return config


def upgrade(app: Flask, revision: str = "head") -> None:
    """Create or migrate the schema up to a revision."""
    command, _ = _alembic()
    command.upgrade(alembic_config(app), revision)


def downgrade(app: Flask, revision: str) -> None:
    """Migrate the schema down to a revision."""
    command, _ = _alembic()
    command.downgrade(alembic_config(app), revision)


def revision(app: Flask, message: str) -> None:
    """Write a new migration from the difference between models and database."""
    command, _ = _alembic()
    command.revision(alembic_config(app), message=message, autogenerate=True)


def check(app: Flask) -> None:
    """Fail if the models and the migrated database differ."""
    command, _ = _alembic()
    command.check(alembic_config(app))

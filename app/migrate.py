"""Alembic, driven from the application's own engine (``flask db …``)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import Flask

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(app: Flask) -> Config:
    """An Alembic configuration that uses the app's database URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = app.config["DATABASE_URL"]
    return config


def upgrade(app: Flask, revision: str = "head") -> None:
    """Create or migrate the schema up to a revision."""
    command.upgrade(alembic_config(app), revision)


def downgrade(app: Flask, revision: str) -> None:
    """Migrate the schema down to a revision."""
    command.downgrade(alembic_config(app), revision)


def revision(app: Flask, message: str) -> None:
    """Write a new migration from the difference between models and database."""
    command.revision(alembic_config(app), message=message, autogenerate=True)


def check(app: Flask) -> None:
    """Fail if the models and the migrated database differ."""
    command.check(alembic_config(app))

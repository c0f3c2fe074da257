"""Commands shared by every feature: ``flask db …`` and ``flask demo seed``."""

import logging
import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import migrate

db_cli = AppGroup("db", help="Create and migrate the database schema.")
demo_cli = AppGroup("demo", help="Demo data for trying the product.")
scheduler_cli = AppGroup("scheduler", help="The release and delivery scheduler.")
content_cli = AppGroup("content", help="Stored user and author content.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema (to REVISION, default: head)."""
    migrate.upgrade(current_app, revision)
    click.echo(f"Database is at {revision}.")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the schema down to REVISION."""
    migrate.downgrade(current_app, revision)


@db_cli.command("migrate")
@click.option("-m", "--message", required=True, help="What the migration changes.")
def db_migrate(message: str) -> None:
    """Write a new migration from the models (review it before committing)."""
    migrate.revision(current_app, message)


@db_cli.command("check")
def db_check() -> None:
    """Fail when the models and the migrations differ."""
    migrate.check(current_app)
    click.echo("Models and migrations agree.")


@demo_cli.command("seed")
def demo_seed() -> None:
    """Create the demo users, program and cohort (safe to run again)."""
    from app.demo import DEMO_PASSWORD, seed_demo

    logins = seed_demo()
    click.echo(f"Demo ready. Every demo account uses the password: {DEMO_PASSWORD}")
    for email, role in logins:
        click.echo(f"  {email:28} {role}")


@scheduler_cli.command("run")
def scheduler_run() -> None:
    """Run the scheduler as its own process (production; web workers set SCHEDULER_ENABLED=0)."""
    from app.scheduler import run_blocking

    if not run_blocking(current_app._get_current_object()):
        # A job thread still running would keep the interpreter from exiting (it joins the
        # job threads on the way out), which is what the stop limit is there to prevent.
        logging.shutdown()
        os._exit(1)


@content_cli.command("rerender")
def content_rerender() -> None:
    """Render every stored Markdown text to cleaned HTML again (after the rules changed)."""
    from app.models import import_all_models
    from app.sanitize import RULES_VERSION, rerender_all

    import_all_models()
    changed = rerender_all()
    click.echo(f"Rendered with the cleaning rules of version {RULES_VERSION}: "
               f"{changed} stored HTML text(s) changed.")


def init_app(app: Flask) -> None:
    """Register the shared command groups."""
    app.cli.add_command(db_cli)
    app.cli.add_command(content_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(scheduler_cli)

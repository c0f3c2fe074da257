"""``flask users …``: create accounts and print API tokens."""

import click
from flask import Flask
from flask.cli import AppGroup

from app.accounts import services, tokens
from app.db import utcnow
from app.errors import Invalid

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Display name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Password (asked for when omitted).")
@click.option("--admin", is_flag=True, help="Make the user a site admin.")
@click.option("--owner", is_flag=True, help="Let the user own programs.")
def create(email: str, name: str, password: str, admin: bool, owner: bool) -> None:
    """Create a user with a password."""
    try:
        user = services.create_user(None, email=email, name=name, password=password,
                                    is_admin=admin, can_own_programs=owner, now=utcnow())
    except Invalid as error:
        problems = "; ".join(f"{k}: {v}" for k, v in error.fields.items()) or error.message
        raise click.ClickException(problems) from error
    click.echo(f"Created user {user.id} <{user.email}>.")


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="command line", help="A label for the token.")
def token(email: str, name: str) -> None:
    """Print a new API token for EMAIL."""
    user = services.get_user_by_email(email)
    if user is None or user.is_disabled:
        raise click.ClickException(f"No active account for {email}.")
    _, secret = tokens.issue_api_token(user, name=name, now=utcnow())
    click.echo(secret)


def init_app(app: Flask) -> None:
    """Register the users command group."""
    app.cli.add_command(users_cli)

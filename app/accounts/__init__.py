"""Accounts: people, sign-in, invitations, password resets, API tokens, user admin."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the account pages, API and commands."""
    from app.accounts import api, cli, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    cli.init_app(app)

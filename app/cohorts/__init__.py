"""Cohorts: programs, modules, cohorts, membership and (later) releases."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the cohort pages and API, and its live rooms."""
    from app.cohorts import api, events, views  # noqa: F401  (events registers rooms)

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)

"""Cohorts: programs, modules, cohorts, membership and (later) releases."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the cohort pages and API, its live rooms, and its release jobs' hook."""
    from app.cohorts import (  # noqa: F401  (events registers rooms; the APIs their endpoints)
        api,
        authoring_api,
        community_api,
        community_views,
        events,
        roster_api,
        views,
    )
    from app.cohorts.jobs import on_releases_scheduled
    from app.cohorts.signals import releases_scheduled

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    # A module-level function: connecting it again (one app per test) changes nothing.
    releases_scheduled.connect(on_releases_scheduled)

"""Cohorts: programs, modules, cohorts, membership and (later) releases."""

from datetime import datetime

from flask import Flask
from flask_login import current_user


def _by_day(items: list, now: datetime) -> list:
    """``items|by_day(now)``: "this week" grouped by day in the viewer's zone."""
    from app.cohorts.progress import by_day

    return by_day(items, now, getattr(current_user, "timezone", None) or "UTC")


def init_app(app: Flask) -> None:
    """Register the cohort pages and API, its live rooms, and its release jobs' hook."""
    from app.cohorts import (  # noqa: F401  (events registers rooms; the APIs their endpoints)
        api,
        authoring_api,
        authoring_views,
        community_api,
        community_views,
        events,
        roster_api,
        site_views,
        views,
    )
    from app.cohorts.jobs import on_releases_scheduled
    from app.cohorts.signals import releases_scheduled

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(site_views.bp)
    app.add_template_filter(_by_day, "by_day")
    # A module-level function: connecting it again (one app per test) changes nothing.
    releases_scheduled.connect(on_releases_scheduled)

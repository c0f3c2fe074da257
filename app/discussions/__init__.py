"""Discussions: prompts in program modules, one staged thread per prompt per cohort."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the discussion pages (prompts, threads, moderation) and API, their counts
    on the Members view, and copy prompts when a cohort launches."""
    from app.cohorts import members, parts
    from app.cohorts.signals import cohort_launched
    from app.discussions import (
        api,
        live,
        moderation_api,
        moderation_views,
        participation,
        posts_api,
        services,
        thread_views,
        views,
    )

    app.register_blueprint(views.bp)
    app.register_blueprint(thread_views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(posts_api.bp)
    app.register_blueprint(moderation_api.bp)
    app.register_blueprint(moderation_views.bp)
    parts.register(services.provider)
    members.register(participation.provider)
    assert live.authorise_thread  # importing it registered the thread room's authoriser
    # A module-level function: connecting it again (one app per test) changes nothing.
    cohort_launched.connect(services.on_cohort_launched)

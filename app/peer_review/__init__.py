"""Peer review: practice assignments with rubrics, submissions and reviews."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the assignment pages (authoring, and the work of submitting and reviewing)
    and API, and copy assignments when a cohort launches."""
    from app.cohorts import parts
    from app.cohorts.signals import cohort_launched
    from app.peer_review import api, live, services, views, work_views

    app.register_blueprint(views.bp)
    app.register_blueprint(work_views.bp)
    app.register_blueprint(api.bp)
    parts.register(services.provider)
    assert live.authorise_board  # importing it registered the board room's authoriser
    # A module-level function: connecting it again (one app per test) changes nothing.
    cohort_launched.connect(services.on_cohort_launched)

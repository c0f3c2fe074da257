"""Peer review: practice assignments with rubrics, submissions and reviews."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the assignment pages and API (authoring, the work of submitting and
    reviewing, the review board), the reviews owed on the Members view, and copy
    assignments when a cohort launches."""
    from app.cohorts import members, parts
    from app.cohorts.signals import cohort_launched
    from app.peer_review import (
        api,
        board_api,
        live,
        overview,
        services,
        views,
        work_api,
        work_views,
    )

    app.register_blueprint(views.bp)
    app.register_blueprint(work_views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(work_api.bp)
    app.register_blueprint(board_api.bp)
    parts.register(services.provider)
    members.register(overview.provider)
    assert live.authorise_board  # importing it registered the board room's authoriser
    # A module-level function: connecting it again (one app per test) changes nothing.
    cohort_launched.connect(services.on_cohort_launched)

"""Notifications: release notices in the inbox and by e-mail, and outbox delivery."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the inbox pages and API, the header badge, and the event listeners."""
    from app.cohorts.signals import module_released
    from app.notifications import api, views
    from app.notifications.services import notify_module_released

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.context_processor(views.unread_for_header)

    def on_module_released(cohort_module, **kwargs):
        """Forward the signal to the service."""
        notify_module_released(cohort_module, **kwargs)

    # Connected once per process (blinker keeps a weak reference unless told not to).
    if not module_released.receivers:
        module_released.connect(on_module_released, weak=False)

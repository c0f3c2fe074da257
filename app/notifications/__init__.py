"""Notifications: release notices in the inbox and by e-mail, and outbox delivery."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the inbox pages and API, the header badge, and the event listeners."""
    from app import realtime
    from app.cohorts.signals import announcement_posted, member_removed, module_released
    from app.notifications import api, views
    from app.notifications.services import (
        leave_notice_room,
        notice_rooms_of,
        notify_announcement_posted,
        notify_module_released,
    )

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.context_processor(views.unread_for_header)
    # Whatever else listens: blinker keeps one connection per receiver, so connecting the
    # same module-level function again (one app per test, say) changes nothing.
    module_released.connect(notify_module_released, weak=False)
    announcement_posted.connect(notify_announcement_posted, weak=False)
    member_removed.connect(leave_notice_room, weak=False)
    realtime.connect_rooms(notice_rooms_of)

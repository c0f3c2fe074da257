"""Notification pages: the inbox."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.db import utcnow
from app.notifications import services
from app.security import is_local_path

bp = Blueprint("notifications", __name__)
PAGE_SIZE = 30


@bp.get("/notifications")
@login_required
def inbox():
    """My notifications, newest first."""
    user = current_user._get_current_object()
    rows = services.list_notifications(user, before_id=request.args.get("before", 0, type=int),
                                       limit=PAGE_SIZE + 1)
    older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return render_template("notifications/inbox.html", notifications=rows[:PAGE_SIZE],
                           older=older)


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark one notification (``id``) or all of them read, then go back or follow its link."""
    user = current_user._get_current_object()
    one = request.form.get("id", type=int)
    services.mark_read(user, ids=[one] if one else None, now=utcnow())
    target = request.form.get("next", "")
    if is_local_path(target):
        return redirect(target)
    return redirect(url_for("notifications.inbox"))


def unread_for_header() -> dict:
    """The unread count for the header badge (one query, signed-in pages only)."""
    if not current_user.is_authenticated:
        return {}
    return {"unread_notifications": services.unread_count(current_user._get_current_object())}



"""Notification pages: the inbox, the personal calendar feed, and the staff's nudge button
on the Members view."""

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from app.accounts.services import hash_secret
from app.db import parse_id, utcnow
from app.errors import Conflict, Invalid
from app.extensions import limiter
from app.notifications import nudges, preferences, services
from app.notifications.calendar import build_calendar
from app.notifications.models import DELIVERIES, KINDS
from app.security import is_local_path

bp = Blueprint("notifications", __name__)
PAGE_SIZE = 30


@bp.get("/notifications")
@login_required
def inbox():
    """My notifications, newest first."""
    user = current_user._get_current_object()
    rows = services.list_notifications(
        user, before_id=request.args.get("before", 0, type=parse_id), limit=PAGE_SIZE + 1)
    older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return render_template("notifications/inbox.html", notifications=rows[:PAGE_SIZE],
                           older=older)


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark one notification (``id``) or all of them read, then go back or follow its link."""
    user = current_user._get_current_object()
    if "id" in request.form:
        # One notification; an id that cannot be one marks nothing (never everything).
        one = request.form.get("id", type=parse_id)
        services.mark_read(user, ids=[one] if one is not None else [], now=utcnow())
    else:
        services.mark_read(user, ids=None, now=utcnow())
    target = request.form.get("next", "")
    if is_local_path(target):
        return redirect(target)
    return redirect(url_for("notifications.inbox"))


@bp.post("/cohorts/<int:cohort_id>/members/<int:user_id>/nudge")
@login_required
def nudge_member(cohort_id: int, user_id: int):
    """Nudge a member (once a day), then go back to the Members view where the click was."""
    user = current_user._get_current_object()
    try:
        nudges.nudge_member(user, cohort_id, user_id, now=utcnow(),
                            message=request.form.get("message", ""))
    except Invalid as error:
        flash(next(iter(error.fields.values()), error.message), "error")
    except Conflict as error:
        flash("Already nudged today: " + error.message if error.code == "already_nudged"
              else error.message, "info")
    else:
        flash("Nudge sent. They will see it in their notifications.", "success")
    target = request.form.get("next", "")
    if is_local_path(target):
        return redirect(target)
    return redirect(url_for("cohorts.roster", cohort_id=cohort_id))


def unread_for_header() -> dict:
    """The unread count for the header badge (one query, signed-in pages only)."""
    if not current_user.is_authenticated:
        return {}
    return {"unread_notifications": services.unread_count(current_user._get_current_object())}


# --- the personal calendar feed -----------------------------------------------------------------

def calendar_rate_limit() -> str:
    """The configured limit on fetches of one feed address."""
    return current_app.config["CALENDAR_RATE_LIMIT"]


def _feed_key() -> str:
    """Limit per feed address, not per IP: one calendar service fetches for many people.

    The limiter's storage sees a hash, never the secret itself.
    """
    return "calendar:" + hash_secret((request.view_args or {}).get("secret", ""))[:32]


@bp.get("/calendar/<secret>.ics")
@limiter.limit(calendar_rate_limit, key_func=_feed_key)
def calendar_feed(secret: str):
    """The private iCalendar feed (no sign-in: the secret address is the key)."""
    now = utcnow()
    events = services.calendar_for_token(secret, now)
    response = make_response(build_calendar(events, name=services.FEED_NAME, now=now))
    response.mimetype = "text/calendar"
    response.headers["Content-Disposition"] = 'inline; filename="cohort-commons.ics"'
    response.headers["Cache-Control"] = "private"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.route("/settings/calendar", methods=["GET", "POST"])
@login_required
def calendar_settings():
    """Turn the calendar feed on (the address is shown once), reset it, or turn it off."""
    user = current_user._get_current_object()
    new_url = None
    if request.method == "POST":
        if request.form.get("action") == "revoke":
            if services.revoke_calendar_feed(user):
                flash("Calendar feed turned off. Its address no longer works.", "success")
            return redirect(url_for("notifications.calendar_settings"))
        new_url = services.calendar_feed_url(services.create_calendar_feed(user, utcnow()))
    return render_template("notifications/calendar.html",
                           feed=services.get_calendar_feed(user), new_url=new_url,
                           webcal_url=services.webcal_url(new_url) if new_url else None)


# --- how notices reach me -----------------------------------------------------------------------

#: The choices of the settings page, in its words.
DELIVERY_LABELS = {"app": "In the app only", "email": "By e-mail at once",
                   "digest": "In my daily digest e-mail"}


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
def notification_settings():
    """Per kind: in the app only, e-mail at once, or the daily digest; and the digest hour."""
    user = current_user._get_current_object()
    errors, status = {}, 200
    chosen = preferences.get_notification_preferences(user)
    if request.method == "POST":
        kinds = {kind: request.form.get(f"kind-{kind}", "") for kind in KINDS}
        hour = request.form.get("digest_hour", "")
        try:
            preferences.set_notification_preferences(
                user, kinds=kinds, digest_hour=int(hour) if hour.isdigit() else -1)
        except Invalid as error:
            errors, status = error.fields or {}, 422
            chosen = preferences.Preferences(kinds={**chosen.kinds, **kinds},
                                             digest_hour=chosen.digest_hour)
        else:
            flash("Notification settings saved.", "success")
            return redirect(url_for("notifications.notification_settings"))
    return render_template("notifications/settings.html", kinds=KINDS, chosen=chosen,
                           deliveries=[(d, DELIVERY_LABELS[d]) for d in DELIVERIES],
                           errors=errors), status

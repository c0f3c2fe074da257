"""Nudges: a cohort's staff remind a member, in one click, that the cohort is waiting for
them — at most once per member, cohort and day (the cohort's local day), through the one
notification path, so it reaches their inbox, their open pages and (by default) their
e-mail."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, literal, select

from app.accounts.models import User
from app.cohorts.access import require_staff
from app.cohorts.models import Cohort, Membership
from app.db import get_session, transaction
from app.errors import Conflict, Invalid, NotFound
from app.links import cohort_target
from app.notifications.models import Notification
from app.notifications.services import NOTIFICATION_TITLE_MAX, notify
from app.text import as_one_line

#: The longest message a nudge may carry.
NUDGE_MESSAGE_MAX = 500
#: What a nudge says when its sender writes nothing.
DEFAULT_NUDGE = "checking in — pick up where you left off when you have a moment."


def clean_nudge_message(message: str | None) -> str:
    """A nudge's own text on one line (spaces tidied), or Invalid when it is too long.

    Pages and e-mails show it as plain text (escaped where it is shown), never as HTML.
    """
    text = as_one_line(message or "")
    if len(text) > NUDGE_MESSAGE_MAX:
        raise Invalid(fields={"message": f"Keep the message to {NUDGE_MESSAGE_MAX} "
                                         f"characters (it has {len(text)})."})
    return text


def nudge_key(cohort: Cohort, now: datetime) -> str:
    """The dedupe key of a nudge: one per member, cohort and the cohort's local day."""
    day = now.astimezone(ZoneInfo(cohort.timezone)).date()
    return f"nudge:{cohort.id}:{day.isoformat()}"


def nudge_member(user: User, cohort_id: int, member_user_id: int, *, now: datetime,
                 message: str = "") -> Notification:
    """Send a member of the cohort a nudge from one of its staff; returns their notice.

    NotAllowed for learners, NotFound for outsiders and for people who are not members;
    Conflict ``already_nudged`` when the member was nudged in this cohort today (nothing is
    sent again), ``cannot_nudge_self`` for oneself.
    """
    access = require_staff(user, cohort_id, "Only the cohort's facilitators nudge its members.")
    text = clean_nudge_message(message)
    session = get_session()
    member = session.scalar(select(Membership.user_id).where(
        Membership.cohort_id == cohort_id, Membership.user_id == member_user_id))
    if member is None:
        raise NotFound()
    if member_user_id == user.id:
        raise Conflict("You cannot nudge yourself.", code="cannot_nudge_self")
    cohort = access.cohort
    key = nudge_key(cohort, now)
    title = f"{user.display_name} from {cohort.name}: {text or DEFAULT_NUDGE}"
    # The whole message goes in the body when the title has to be cut short.
    body = (text if len(title) > NOTIFICATION_TITLE_MAX
            else f"Open {cohort.name} to see what is new and what is next for you.")
    with transaction():
        told = notify("nudge", select(literal(member_user_id, Integer).label("user_id")),
                      dedupe_key=key, title=title, body=body,
                      target=cohort_target(cohort.id), now=now)
        if not told:
            raise Conflict("This member was already nudged in this cohort today; a new "
                           "nudge can go out tomorrow.", code="already_nudged")
    return session.scalar(select(Notification).where(Notification.user_id == member_user_id,
                                                     Notification.dedupe_key == key))

"""Live events of peer review.

- ``assignment:ID:staff`` — the facilitators and owner watching an assignment's review
  board. They get ``review_status`` ``{assignment_id}`` whenever a submission, allocation,
  review, rating or hold changes, and the board fetches its counts again. The event names
  nobody, so it cannot carry an identity anywhere it should not go.

Learners are told about their own work through the notification path
(``review_received``), which respects the results gate.
"""

from app.errors import NotAllowed, NotFound
from app.realtime import notify, room_kind


def staff_room(assignment_id: int) -> str:
    """The room of those watching an assignment's board."""
    return f"assignment:{assignment_id}:staff"


@room_kind("assignment")
def authorise_board(user, assignment_id: int) -> str | bool:
    """Staff of the assignment's cohort join its board room; anyone else is refused."""
    from app.db import utcnow
    from app.peer_review.access import get_assignment_for

    try:
        access = get_assignment_for(user, assignment_id, now=utcnow())
    except (NotFound, NotAllowed):
        return False
    return staff_room(assignment_id) if access.viewer.is_staff else False


def review_status_changed(assignment_id: int) -> None:
    """Tell the board's watchers to fetch its counts again (sent after the commit)."""
    notify("review_status", {"assignment_id": assignment_id}, staff_room(assignment_id))

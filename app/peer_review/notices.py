"""What peer review tells people, all through the one notification path (``notify``):

- ``review_received`` — to an author when a review of their work is published. The notice
  names no reviewer, and says when the reviews can be read if the results gate is still
  closed for them.
- ``reviews_waiting`` — to the cohort's staff when a review is held by the kindness check
  or flagged by its author, and when work is still short of reviews at its feedback-by
  date.
- ``review_moderated`` — to a reviewer when a facilitator releases or hides their review.
- ``reviews_reminder`` — to learners who still owe reviews, a day before the window closes.
"""

from datetime import datetime

from sqlalchemy import Integer, literal, select

from app.accounts.models import User
from app.cohorts.access import staff_recipients
from app.db import get_session
from app.links import assignment_target, review_board_target, submission_target
from app.notifications.services import notify
from app.peer_review.access import AssignmentAccess
from app.peer_review.work_models import Review, Submission


def _one(user_id: int):
    return select(literal(user_id, Integer).label("user_id"))


def review_received(access: AssignmentAccess, submission: Submission, review: Review, *,
                    now: datetime) -> None:
    """Tell the author a review of their work is in (never who wrote it)."""
    from app.peer_review.results import gate_sentence

    title = access.assignment.title
    author_zone = get_session().scalar(select(User.timezone).where(
        User.id == submission.author_id)) or "UTC"
    notify("review_received", _one(submission.author_id),
           dedupe_key=f"review_received:{review.id}",
           title=f"A peer reviewed your work on “{title}” ({access.cohort.name})",
           body=gate_sentence(access.assignment, access.dates, submission.author_id, now,
                              author_zone),
           target=submission_target(access.cohort.id, submission.id), now=now)


def review_held(access: AssignmentAccess, review: Review, *, now: datetime) -> None:
    """Tell the staff a review waits for them after the kindness check."""
    notify("reviews_waiting", staff_recipients(access.cohort),
           dedupe_key=f"review_held:{review.id}",
           title=f"A review on “{access.assignment.title}” ({access.cohort.name}) waits for "
                 "you before its author sees it",
           body=("The reviewer kept phrasings the kindness check asked them to reconsider: "
                 f"{review.held_phrases}. Pass it on to the author, or hide it with a reason."),
           target=review_board_target(access.cohort.id, access.assignment.id), now=now)


def review_flagged(access: AssignmentAccess, review: Review, *, now: datetime) -> None:
    """Tell the staff an author flagged a review of their work as harmful."""
    notify("reviews_waiting", staff_recipients(access.cohort),
           dedupe_key=f"review_flagged:{review.id}",
           title=f"A review on “{access.assignment.title}” ({access.cohort.name}) was "
                 "flagged as harmful",
           body=(f"Its author said: {review.flag_reason} It is hidden from them until you "
                 "pass it on or hide it with a reason."),
           target=review_board_target(access.cohort.id, access.assignment.id), now=now)


def review_moderated(access: AssignmentAccess, review: Review, verb: str, *,
                     now: datetime) -> None:
    """Tell a reviewer a facilitator released or hid their review, and why."""
    title = access.assignment.title
    if verb == "released":
        headline = f"Your review on “{title}” ({access.cohort.name}) was passed on to its author"
        body = "A facilitator read it and passed it on. Thank you for reviewing."
    else:
        headline = f"Your review on “{title}” ({access.cohort.name}) was hidden by a facilitator"
        body = f"Reason: {review.hidden_reason}"
    notify("review_moderated", _one(review.reviewer_id),
           dedupe_key=f"review_{verb}:{review.id}:{now.isoformat()}",
           title=headline, body=body,
           target=assignment_target(access.cohort.id, access.assignment.id), now=now)


def short_at_feedback_by(access: AssignmentAccess, submissions: list[Submission], *,
                         now: datetime) -> None:
    """Tell the staff which work reached its feedback-by date still short of reviews."""
    for submission in submissions:
        notify("reviews_waiting", staff_recipients(access.cohort),
               dedupe_key=f"feedback_due:{submission.id}",
               title=f"Work on “{access.assignment.title}” ({access.cohort.name}) reached its "
                     "feedback-by date with "
                     f"{submission.completed_reviews} of "
                     f"{access.assignment.reviews_required} reviews",
               body="Review it yourself or assign it to a learner from the review board.",
               target=review_board_target(access.cohort.id, access.assignment.id), now=now)


def remind_reviewers(access: AssignmentAccess, owing: list[tuple[int, int]], *,
                     now: datetime) -> None:
    """Remind each (learner, reviews still owed) before the review window closes."""
    for user_id, owed in owing:
        notify("reviews_reminder", _one(user_id),
               dedupe_key=f"reviews_reminder:{access.assignment.id}",
               title=f"You still owe {owed} review{'s' if owed != 1 else ''} on "
                     f"“{access.assignment.title}” ({access.cohort.name})",
               body=(f"The review window closes {access.dates.reviews_due:%d %b %Y, %H:%M} "
                     "UTC. Your peers are waiting for your feedback."),
               target=assignment_target(access.cohort.id, access.assignment.id), now=now)

"""Helpers of the peer review work page tests (their world is ``conftest.py``'s ``p``):
work, allocations and reviews made through the services, pages read and forms filled."""

import html
import re

from sqlalchemy import update

from app.db import utcnow
from app.peer_review import reviewing, submitting
from app.peer_review.models import CohortAssignment


def text_of(response) -> str:
    """A response's HTML with its entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def page_of(client, path: str, status: int = 200) -> str:
    """A page's HTML (entities decoded); it must answer ``status``."""
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return text_of(response)


def sign_in_as(client, login, user) -> None:
    """Sign the client out (if signed in) and in again as ``user``."""
    client.post_form("/logout", {}, token_from="/")
    login(client, user)


def submit(app, user, assignment, body="My work", *, upload=None, now=None):
    """Submit work through the service (the set-up of page tests)."""
    with app.app_context():
        return submitting.submit_work(user, assignment.id, body=body, upload=upload,
                                      now=now or utcnow())


def allocate(app, user, assignment):
    """Give the learner a peer's work to review, through the service."""
    with app.app_context():
        return reviewing.request_review(user, assignment.id, now=utcnow())


def give_review(app, user, review, p, *, comment="Clear and kind: the second line helps most.",
            clarity=4, kindness=1):
    """Submit a review through the service."""
    with app.app_context():
        return reviewing.save_review(user, review.id, scores=p.scores(clarity, kindness),
                                     comment=comment, submit=True, now=utcnow())


def reviewed_pair(app, p):
    """learner_a and peer_1 submit and review each other (results open for both); returns
    (a's submission, the review of it by peer_1, peer_1's submission, a's review of it)."""
    a, b = p.people["learner_a"], p.people["peer_1"]
    mine, theirs = submit(app, a, p.assignment, "Aurelia's work"), submit(
        app, b, p.assignment, "Bartholomew's work")
    by_a, by_b = allocate(app, a, p.assignment), allocate(app, b, p.assignment)
    give_review(app, a, by_a, p)
    give_review(app, b, by_b, p, comment="The opening works; the ask could be sooner.")
    return mine, by_b, theirs, by_a


def open_results(db, p):
    """Open every author's results now: the assignment needs one review each."""
    with db() as session:
        session.execute(update(CohortAssignment)
                        .where(CohortAssignment.id == p.assignment.id)
                        .values(reviews_required=1))


def review_form(p, *, clarity="4", kindness="1", comment="Kind and clear.", **extra) -> dict:
    """The review form's fields."""
    data = {f"comment-{p.clarity_id}": "The opening is clear.",
            f"comment-{p.kindness_id}": "", "comment": comment, **extra}
    if clarity is not None:
        data[f"score-{p.clarity_id}"] = clarity
    if kindness is not None:
        data[f"score-{p.kindness_id}"] = kindness
    return data


def textarea(page: str, element_id: str) -> str | None:
    """The text of the textarea with this id, as a browser reads it."""
    match = re.search(rf'<textarea[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</textarea>',
                      page, re.S)
    return match.group(1).removeprefix("\r\n").removeprefix("\n") if match else None



"""Peer review work pages through HTTP: the assignment page (submit, ask for a peer's work),
the rubric review (draft, nudge, hold, expiry), the author's results (ratings and flags),
the attachment download, the facilitators' board and its actions; refusals that keep what
was typed, and what every role gets from every route.

Requests run on the real clock, so the world is released relative to it (``live_release``).
"""

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.db import utcnow
from app.peer_review import results, reviewing, submitting
from app.peer_review.models import CohortAssignment
from app.peer_review.submitting import Upload
from app.peer_review.work_models import Review, Submission
from tests.peer_review.test_attachments import png_1x1
from tests.peer_review.work_pages import (
    allocate,
    give_review,
    open_results,
    page_of,
    review_form,
    reviewed_pair,
    sign_in_as,
    submit,
    text_of,
    textarea,
)

# --- the module page and the assignment page ---------------------------------------------------

def test_the_module_page_links_the_assignment(client, login, p):
    login(client, p.people["learner_a"])
    page = page_of(client, f"/cohorts/{p.world.cohort_a.id}/modules/"
                         f"{p.assignment.cohort_module_id}")
    assert f'href="/assignments/{p.assignment.id}">Give feedback on a real message</a>' in page


def test_a_learner_meets_the_assignment_and_submits_then_resubmits(app, client, login, p):
    login(client, p.people["learner_a"])
    path = f"/assignments/{p.assignment.id}"
    page = page_of(client, path)
    assert "Rewrite the message." in page  # the stored instructions
    assert "Crystal clear" in page and "Kind <small>(1 point)</small>" in page  # rubric
    assert 'enctype="multipart/form-data"' in page and 'for="body"' in page
    assert "Submissions due" in page and "UTC" in page  # dates in the viewer's zone
    assert "Review a peer's work" in page
    assert "/board" not in page
    response = client.post_form(f"{path}/submission", {"body": "First *draft*"},
                                token_from=path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"{path}#your-work"
    page = page_of(client, path)
    assert "Your work is submitted." in page
    assert "<em>draft</em>" in page and "version 1" in page
    assert "Your reviews and results" in page
    assert "once you have done 2 more reviews" in page  # the gate sentence
    client.post_form(f"{path}/submission", {"body": "Second version"}, token_from=path)
    page = page_of(client, path)
    assert "version 2" in page and "Earlier versions (1)" in page
    assert re.search(r"<details class=\"versions\">.*First <em>draft</em>", page, re.S)


def test_refused_submissions_come_back_with_the_text_and_the_reason(app, db, client, login,
                                                                    p):
    login(client, p.people["learner_a"])
    path = f"/assignments/{p.assignment.id}"
    empty = client.post_form(f"{path}/submission", {"body": "  "}, token_from=path)
    assert empty.status_code == 422
    page = text_of(empty)
    assert 'id="body-error"' in page and "Write your work here" in page
    long = "x" * (submitting.MAX_SUBMISSION + 1)
    too_long = client.post_form(f"{path}/submission", {"body": long}, token_from=path)
    assert too_long.status_code == 422
    assert long in text_of(too_long) and "Keep the text under 50,000 characters" in text_of(
        too_long)
    # A file over 10 MB: the service's sentence, next to the field, with the text kept.
    big = png_1x1() + b"\0" * (10 * 1024 * 1024)
    response = client.post(f"{path}/submission", data={
        "csrf_token": client.csrf_token(path), "body": "Text with a big file",
        "attachment": (io.BytesIO(big), "scan.png")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    page = text_of(response)
    assert 'id="attachment-error"' in page and "at most 10 MB" in page
    assert "Text with a big file" in page
    # Past the due date, work already in stands: 409 with the text typed kept.
    submit(app, p.people["peer_1"], p.assignment, "On time")
    with db() as session:
        session.execute(update(Submission).values(submitted_at=utcnow() - timedelta(days=9)))
        session.execute(update(CohortAssignment).values(submit_days=0))
    sign_in_as(client, login, p.people["peer_1"])
    late = client.post_form(f"{path}/submission", {"body": "A late change"}, token_from=path)
    assert late.status_code == 409
    assert "the work you submitted stands" in text_of(late) and "A late change" in text_of(late)


def test_an_expired_form_token_keeps_the_work(client, login, p):
    login(client, p.people["learner_a"])
    response = client.post(f"/assignments/{p.assignment.id}/submission",
                           data={"body": "Typed before lunch", "csrf_token": "stale"})
    assert response.status_code == 400
    assert "Typed before lunch" in text_of(response) and "form token expired" in text_of(response)


def test_asking_for_work_leads_to_the_review_or_says_why_not(app, client, login, p):
    login(client, p.people["learner_a"])
    path = f"/assignments/{p.assignment.id}"
    refused = client.post_form(f"{path}/reviews", {}, token_from=path)
    assert refused.status_code == 409
    page = text_of(refused)
    assert 'id="refused"' in page and "submit your own work" in page.lower()
    submit(app, p.people["learner_a"], p.assignment)
    nothing = client.post_form(f"{path}/reviews", {}, token_from=path)
    assert nothing.status_code == 409 and 'id="refused"' in text_of(nothing)
    submit(app, p.people["peer_1"], p.assignment)
    given = client.post_form(f"{path}/reviews", {}, token_from=path)
    assert given.status_code == 302 and re.fullmatch(r"/reviews/\d+", given.headers["Location"])
    page = page_of(client, path)
    assert f'href="{given.headers["Location"]}">Continue your review' in page
    # Asking again gives back the same review.
    again = client.post_form(f"{path}/reviews", {}, token_from=path)
    assert again.headers["Location"] == given.headers["Location"]


def test_the_growth_signal_and_review_one_more(app, db, client, login, p):
    open_results(db, p)
    mine, by_b, theirs, by_a = reviewed_pair(app, p)
    with app.app_context():
        results.rate_review(p.people["peer_1"], by_a.id, helpfulness=4, comment="Useful",
                            now=utcnow())
    waiting = submit(app, p.people["peer_2"], p.assignment)
    login(client, p.people["learner_a"])
    path = f"/assignments/{p.assignment.id}"
    page = page_of(client, path)
    assert "Authors rated your feedback 4.0 of 5 on average (1 rating)." in page
    assert "the author rated it 4 of 5" in page
    assert "The author rated it 4 of 5: “Useful”." in page_of(client, f"/reviews/{by_a.id}")
    assert "Review one more for a peer who is still waiting" in page
    assert 'name="only_short" value="1"' in page
    one_more = client.post_form(f"{path}/reviews", {"only_short": "1"}, token_from=path)
    assert one_more.status_code == 302
    with db() as session:
        review = session.get(Review, int(one_more.headers["Location"].rsplit("/", 1)[1]))
        assert review.submission_id == waiting.id and review.reviewer_id == p.people[
            "learner_a"].id


def test_staff_get_the_board_link_instead_of_the_forms(client, login, p):
    login(client, p.people["facilitator_a"])
    page = page_of(client, f"/assignments/{p.assignment.id}")
    assert f'href="/assignments/{p.assignment.id}/board"' in page
    assert "Submit your work" not in page and "Review a peer's work" not in page
    path = f"/assignments/{p.assignment.id}"
    for action in ("submission", "reviews"):
        refused = client.post_form(f"{path}/{action}", {"body": "x"}, token_from=path)
        assert refused.status_code == 403
        assert "facilitators and owners use the assignment's review board" in text_of(refused)


# --- the review form ---------------------------------------------------------------------------

def test_the_review_form_is_a_labelled_rubric_with_draft_and_submit(app, db, client, login,
                                                                    p, allocated):
    login(client, p.people["learner_a"])
    path = f"/reviews/{allocated.id}"
    page = page_of(client, path)
    assert "<h1>A peer's work</h1>" in page and "<em>careful</em>" in page
    assert page.count("<legend>") == 2 and "<legend>Clarity</legend>" in page
    assert re.search(rf'<input type="radio" id="score-{p.clarity_id}-\d+" '
                     rf'name="score-{p.clarity_id}" value="4">', page)
    assert "Crystal clear <span class=\"level-points\">(4 points)</span>" in page
    assert f'for="comment-{p.clarity_id}"' in page and 'for="comment"' in page
    assert "Save draft" in page and "Submit review" in page and "Submit as it is" not in page
    saved = client.post_form(path, {**review_form(p, kindness=None), "save": "y"})
    assert saved.status_code == 302 and saved.headers["Location"] == path
    page = page_of(client, path)
    assert "Your draft is saved." in page
    assert re.search(rf'name="score-{p.clarity_id}" value="4" checked', page)
    assert textarea(page, f"comment-{p.clarity_id}") == "The opening is clear."
    assert textarea(page, "comment") == "Kind and clear."
    # Submitting without every level: the errors next to their groups, the text kept.
    refused = client.post_form(path, {**review_form(p, kindness=None, comment="Typed again"),
                                      "submit": "y"})
    assert refused.status_code == 422
    page = text_of(refused)
    assert f'id="criterion-{p.kindness_id}-error"' in page and "Choose a level." in page
    assert f'aria-describedby="criterion-{p.kindness_id}-error"' in page
    assert textarea(page, "comment") == "Typed again"
    with db() as session:
        assert session.get(Review, allocated.id).comment == "Typed again"  # draft kept
    done = client.post_form(path, {**review_form(p), "submit": "y"})
    assert done.status_code == 302
    assert done.headers["Location"] == f"/assignments/{p.assignment.id}"
    assert "Your review is submitted." in page_of(client, done.headers["Location"])
    page = page_of(client, path)
    assert "Submit review" not in page and "Crystal clear</strong>" in page  # read-only
    again = client.post_form(path, {**review_form(p, comment="One more thing"), "submit": "y"},
                             token_from=f"/assignments/{p.assignment.id}")
    assert again.status_code == 409
    assert "submitted already" in text_of(again) and "One more thing" in text_of(again)


def test_the_kindness_nudge_then_submit_as_it_is_is_held(app, db, client, login, p,
                                                        allocated):
    login(client, p.people["learner_a"])
    path = f"/reviews/{allocated.id}"
    harsh = "Honestly this is useless and you never explain."
    nudged = client.post_form(path, {**review_form(p, comment=harsh), "submit": "y"})
    assert nudged.status_code == 200
    page = text_of(nudged)
    assert 'id="nudge"' in page and "“this is useless” — " in page
    assert "“you never” — " in page and "Submit as it is" in page
    assert textarea(page, "comment") == harsh
    held = client.post_form(path, {**review_form(p, comment=harsh), "submit_anyway": "y"})
    assert held.status_code == 302
    page = page_of(client, held.headers["Location"])
    assert "A facilitator will read it before the author does." in page
    with db() as session:
        review = session.get(Review, allocated.id)
        assert review.status == "submitted" and review.held_at is not None


def test_an_expired_review_shows_the_text_back_with_why(app, db, client, login, p,
                                                        allocated):
    with db() as session:
        session.execute(update(Review).values(status="expired"))
    login(client, p.people["learner_a"])
    path = f"/reviews/{allocated.id}"
    assert "This review expired" in page_of(client, path)
    refused = client.post_form(path, {**review_form(p, comment="My careful words"), "submit": "y"})
    assert refused.status_code == 409
    page = text_of(refused)
    assert "can no longer be saved" in page
    assert textarea(page, "kept-comment") == "My careful words"
    assert textarea(page, f"kept-{p.clarity_id}") == "The opening is clear."


# --- the author's results ----------------------------------------------------------------------

def test_results_open_with_reviews_medians_and_a_rating_form(app, db, client, login, p):
    open_results(db, p)
    login(client, p.people["learner_a"])
    mine = submit(app, p.people["learner_a"], p.assignment, "Aurelia's work")
    path = f"/submissions/{mine.id}"
    page = page_of(client, path)
    assert "Aurelia's work" in page
    assert "You can read your reviews once you have done 1 more review" in page
    submit(app, p.people["peer_1"], p.assignment, "Bartholomew's work")
    by_b = allocate(app, p.people["peer_1"], p.assignment)
    give_review(app, p.people["peer_1"], by_b, p, comment="The *opening* works.", clarity=2)
    give_review(app, p.people["learner_a"], allocate(app, p.people["learner_a"], p.assignment),
            p)
    page = page_of(client, path)
    assert "Reviewer 1" in page and "<em>opening</em>" in page
    assert "Mostly clear (2 points)" in page  # the median of the one review
    assert "<legend>How helpful was this review?</legend>" in page
    rate = f"/reviews/{by_b.id}/rating"
    refused = client.post_form(rate, {f"rate-{by_b.id}-comment": "Thanks!"}, token_from=path)
    assert refused.status_code == 422
    page = text_of(refused)
    assert f'id="rate-{by_b.id}-helpfulness-error"' in page and "Thanks!" in page
    rated = client.post_form(rate, {f"rate-{by_b.id}-helpfulness": "5",
                                    f"rate-{by_b.id}-comment": "Thanks!"}, token_from=path)
    assert rated.status_code == 302 and rated.headers["Location"] == f"{path}#review-{by_b.id}"
    page = page_of(client, path)
    assert "Thank you for rating this review." in page
    assert (f'<input checked id="rate-{by_b.id}-helpfulness-0" '
            f'name="rate-{by_b.id}-helpfulness" type="radio" value="5">') in page
    # A flag needs a reason; with one, the review is hidden from the author pending a
    # facilitator.
    empty = client.post_form(rate, {f"flag-{by_b.id}-flag_reason": " "}, token_from=path)
    assert empty.status_code == 422
    assert f'id="flag-{by_b.id}-flag_reason-error"' in text_of(empty)
    flagged = client.post_form(rate, {f"flag-{by_b.id}-flag_reason": "It mocks my accent"},
                               token_from=path)
    assert flagged.status_code == 302
    page = page_of(client, path)
    assert "You flagged this review as harmful." in page and "<em>opening</em>" not in page


# --- the attachment ----------------------------------------------------------------------------

def test_the_attachment_downloads_with_safe_headers_and_a_neutral_name_for_reviewers(
        app, db, client, login, p):
    login(client, p.people["learner_a"])
    path = f"/assignments/{p.assignment.id}"
    sent = client.post(f"{path}/submission", data={
        "csrf_token": client.csrf_token(path), "body": "See the scan",
        "attachment": (io.BytesIO(png_1x1()), "Aurelia Quenby draft.png")},
        content_type="multipart/form-data")
    assert sent.status_code == 302
    with db() as session:
        submission = session.scalars(select(Submission)).one()
    download = f"/submissions/{submission.id}/attachment"
    assert "Aurelia Quenby draft.png" in page_of(client, path)
    response = client.get(download)
    assert response.status_code == 200 and response.data == png_1x1()
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="Aurelia Quenby draft.png"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    # A reviewer it was allocated to gets it under a name that does not give the author away.
    submit(app, p.people["peer_1"], p.assignment)
    review = allocate(app, p.people["peer_1"], p.assignment)
    sign_in_as(client, login, p.people["peer_1"])
    page = page_of(client, f"/reviews/{review.id}")
    assert f"submission-{submission.id}.png" in page and "Quenby" not in page
    response = client.get(download)
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert f'filename="submission-{submission.id}.png"' in disposition
    assert "Quenby" not in disposition
    # Anyone else: not found.
    sign_in_as(client, login, p.people["peer_2"])
    assert client.get(download).status_code == 404
    sign_in_as(client, login, p.people["facilitator_a"])
    response = client.get(download)
    assert "Aurelia Quenby draft.png" in response.headers["Content-Disposition"]


# --- the review board --------------------------------------------------------------------------

def test_the_board_lists_the_work_and_its_actions_redirect_back(app, db, client, login, p):
    a, b = p.people["learner_a"], p.people["peer_1"]
    mine = submit(app, a, p.assignment, "Aurelia's work")
    theirs = submit(app, b, p.assignment, "Bartholomew's work")
    held = allocate(app, a, p.assignment)
    with app.app_context():
        reviewing.save_review(a, held.id, scores=p.scores(), comment="This is useless.",
                              submit=True, submit_anyway=True, now=utcnow())
    in_progress = allocate(app, b, p.assignment)
    board = f"/assignments/{p.assignment.id}/board"
    login(client, p.people["facilitator_a"])
    page = page_of(client, board)
    assert 'data-live-room="assignment:' in page and f'data-board-url="{board}"' in page
    assert '<script src="/static/js/review_board.js" defer></script>' in page
    assert "<script>" not in page and "onclick" not in page
    assert 'aria-live="polite"' in page  # the announcer the script speaks through
    assert "Short of reviews <small>(2)</small>" in page
    assert "this is useless" in page  # the held phrasing
    assert f"Reviewer 1 ({a.name})" in page and f"Reviewer 1 ({b.name})" in page
    assert f'<option value="{p.people["peer_2"].id}">' in page
    # Assign to a learner; then "review it myself" leads to the review form.
    assigned = client.post_form(f"{board}/assign", {"submission_id": str(mine.id),
                                                    "reviewer_id": str(p.people["peer_2"].id)},
                                token_from=board)
    assert assigned.status_code == 302 and assigned.headers["Location"] == board
    assert "The work is assigned" in page_of(client, board)
    again = client.post_form(f"{board}/assign", {"submission_id": str(mine.id),
                                                 "reviewer_id": str(p.people["peer_2"].id)},
                             token_from=board)
    assert again.status_code == 409
    assert "already has (or had) this submission" in text_of(again)
    author = client.post_form(f"{board}/assign", {"submission_id": str(theirs.id),
                                                  "reviewer_id": str(b.id)}, token_from=board)
    assert author.status_code == 422
    assert re.search(rf'id="assign-{theirs.id}-error"[^>]*>This learner wrote the work.<',
                     text_of(author))
    myself = client.post_form(f"{board}/assign", {"submission_id": str(mine.id)},
                              token_from=board)
    assert myself.status_code == 302 and re.fullmatch(r"/reviews/\d+",
                                                      myself.headers["Location"])
    # Hide needs a reason: the board comes back with the error and what was typed.
    refused = client.post_form(f"/reviews/{held.id}/hide", {"reason": "   "},
                               token_from=board)
    assert refused.status_code == 422
    page = text_of(refused)
    assert f'id="hide-held-{held.id}-error"' in page
    released = client.post_form(f"/reviews/{held.id}/release", {}, token_from=board)
    assert released.status_code == 302 and released.headers["Location"] == board
    assert "The review is passed on to its author." in page_of(client, board)
    reassigned = client.post_form(f"/reviews/{in_progress.id}/reassign", {}, token_from=board)
    assert reassigned.status_code == 302
    # A second click (another tab, a stale board) says what happened instead of failing.
    for action, said in (("release", "This review is not held or flagged."),
                         ("reassign", "This review is no longer open.")):
        target = held if action == "release" else in_progress
        twice = client.post_form(f"/reviews/{target.id}/{action}", {}, token_from=board)
        assert twice.status_code == 302 and twice.headers["Location"] == board
        assert said in page_of(client, board)
    with db() as session:
        assert session.get(Review, in_progress.id).status == "expired"
        assert session.get(Review, held.id).released_at is not None
    hidden = client.post_form(f"/reviews/{held.id}/hide", {"reason": "Names a colleague"},
                              token_from=board)
    assert hidden.status_code == 302
    assert "The review is hidden" in page_of(client, board)
    # A submission of another assignment is not this board's to assign.
    with app.app_context():
        other = submit(app, p.people["peer_3"], p.assignment)
    foreign = client.post_form(f"/assignments/{p.future.id}/board/assign",
                               {"submission_id": str(other.id)}, token_from=board)
    assert foreign.status_code == 404


def test_learners_get_403_on_the_board_and_outsiders_404(client, login, p):
    board = f"/assignments/{p.assignment.id}/board"
    login(client, p.people["learner_a"])
    page = page_of(client, board, 403)
    assert "Only the cohort's facilitators and owner" in page
    sign_in_as(client, login, p.people["learner_b"])
    page_of(client, board, 404)


# --- access: every route, every role -----------------------------------------------------------

ROLES = ("learner_a", "peer_1", "peer_3", "facilitator_a", "owner_a", "learner_b",
         "facilitator_b", "admin", "outsider")
#: Who gets what: (method, path, form, {role: status}); roles not named get 404.
#: learner_a wrote work A (with a file) and holds a review of peer_1's work (held);
#: peer_1 is reviewing A (R1); peer_2 reviewed A (R3, published); peer_3 took no part.
STAFF = {"facilitator_a": 200, "owner_a": 200}
LEARNERS = ("learner_a", "peer_1", "peer_3")


def _access_world(app, db, p):
    """The set-up the access table describes; returns the ids it names."""
    open_results(db, p)
    a, b, c = p.people["learner_a"], p.people["peer_1"], p.people["peer_2"]
    work = submit(app, a, p.assignment, "Work A", upload=Upload("a.png", png_1x1()))
    submit(app, b, p.assignment, "Work B")
    submit(app, c, p.assignment, "Work C")
    r2 = allocate(app, a, p.assignment)
    with app.app_context():
        reviewing.save_review(a, r2.id, scores=p.scores(), comment="This is useless.",
                              submit=True, submit_anyway=True, now=utcnow())
    r1 = allocate(app, b, p.assignment)
    with app.app_context():
        r3 = reviewing.assign_review(p.people["facilitator_a"], work.id, reviewer_id=c.id,
                                     now=utcnow())
    give_review(app, c, r3, p)
    return {"A": work.id, "R1": r1.id, "R2": r2.id, "R3": r3.id, "asg": p.assignment.id,
            "peer_4": p.people["peer_4"].id}


def _table(ids) -> list[tuple[str, str, dict, dict]]:
    learners_403 = dict.fromkeys(LEARNERS, 403)
    staff_302 = {"facilitator_a": 302, "owner_a": 302}
    return [
        ("GET", "/assignments/{asg}", {}, {**dict.fromkeys(LEARNERS, 200), **STAFF}),
        ("GET", "/reviews/{R1}", {}, {"peer_1": 200, **STAFF}),
        ("GET", "/reviews/{R2}", {}, {"learner_a": 200, **STAFF}),
        ("GET", "/submissions/{A}", {}, {"learner_a": 200, **STAFF}),
        ("GET", "/submissions/{A}/attachment", {}, {"learner_a": 200, "peer_1": 200,
                                                    **STAFF}),
        ("GET", "/assignments/{asg}/board", {}, {**learners_403, **STAFF}),
        ("POST", "/reviews/{R3}/rating", {"rate-{R3}-helpfulness": "4"}, {"learner_a": 302}),
        ("POST", "/assignments/{asg}/submission", {"body": "Again"},
         {**dict.fromkeys(LEARNERS, 302), "facilitator_a": 403, "owner_a": 403}),
        ("POST", "/assignments/{asg}/reviews", {},
         {**dict.fromkeys(LEARNERS, 302), "facilitator_a": 403, "owner_a": 403}),
        ("POST", "/reviews/{R1}", {"save": "y", "comment": "Draft"},
         {"peer_1": 302, "facilitator_a": 403, "owner_a": 403}),
        ("POST", "/assignments/{asg}/board/assign",
         {"submission_id": "{A}", "reviewer_id": "{peer_4}"}, {**learners_403, **staff_302}),
        ("POST", "/reviews/{R2}/release", {}, {**learners_403, **staff_302}),
        ("POST", "/reviews/{R3}/hide", {"reason": "Unkind"}, {**learners_403, **staff_302}),
        ("POST", "/reviews/{R1}/reassign", {}, {**learners_403, **staff_302}),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_work_route_answers_each_role_as_it_should(app, db, client, login, p, role):
    ids = _access_world(app, db, p)
    login(client, p.people[role])
    token = client.csrf_token("/")
    for method, path, form, expected in _table(ids):
        address = path.format(**ids)
        if method == "GET":
            response = client.get(address)
        else:
            data = {key.format(**ids): value.format(**ids) for key, value in form.items()}
            response = client.post(address, data={"csrf_token": token, **data})
        assert response.status_code == expected.get(role, 404), (role, method, address)



def test_the_boards_room_admits_staff_who_hear_of_a_review_sent_from_its_page(
        app, client, login, p, allocated, socket_client):
    room = {"room": f"assignment:{p.assignment.id}"}
    login(client, p.people["learner_a"])
    learner = socket_client()
    assert not learner.emit("join", room, callback=True)["ok"]
    staff_client = app.test_client()
    login(staff_client, p.people["facilitator_a"])
    staff = socket_client(flask_client=staff_client)
    assert staff.emit("join", room, callback=True)["ok"]
    staff.get_received()
    sent = client.post_form(f"/reviews/{allocated.id}", {**review_form(p), "submit": "y"})
    assert sent.status_code == 302
    events = [(event["name"], event["args"][0]) for event in staff.get_received()]
    assert events == [("review_status", {"assignment_id": p.assignment.id})]

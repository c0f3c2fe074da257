"""What the peer review work pages guard: no name crosses the double-blind on any page
(text, attributes, data-*), the assignment page and the board cost a fixed number of SQL
statements however much work there is, and malformed input is a clear 4xx, never a 500.
"""

from sqlalchemy import update

from app.db import utcnow
from app.peer_review import results, reviewing
from app.peer_review.models import CohortAssignment
from app.peer_review.submitting import Upload
from tests.factories import add_member
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

# --- double-blind: no name crosses over on any page --------------------------------------------

def _identity(person) -> tuple[str, str]:
    return person.name, person.email


def test_names_never_cross_the_double_blind_on_any_page(app, db, client, login, p):
    open_results(db, p)
    author, reviewer = p.people["learner_a"], p.people["peer_1"]
    work = submit(app, author, p.assignment, "Aurelia's work",
                   upload=Upload("Aurelia Quenby - draft.png", png_1x1()))
    submit(app, reviewer, p.assignment, "Bartholomew's work")
    of_author = allocate(app, reviewer, p.assignment)
    give_review(app, reviewer, of_author, p)
    of_reviewer = allocate(app, author, p.assignment)
    give_review(app, author, of_reviewer, p)
    facilitator = p.people["facilitator_a"]
    with app.app_context():
        results.rate_review(author, of_author.id, helpfulness=2, comment="Meh", now=utcnow())
        by_staff = reviewing.assign_review(facilitator, work.id, now=utcnow())
    give_review(app, facilitator, by_staff, p)
    login(client, author)
    for path in (f"/assignments/{p.assignment.id}", f"/submissions/{work.id}",
                 f"/reviews/{of_reviewer.id}"):
        page = page_of(client, path)
        for secret in (*_identity(reviewer), *_identity(facilitator), "marker-staff"):
            assert secret not in page, (path, secret)
    results_page = page_of(client, f"/submissions/{work.id}")
    assert "Reviewer 1" in results_page and "Reviewer 2" in results_page
    sign_in_as(client, login, reviewer)
    for path in (f"/assignments/{p.assignment.id}", f"/reviews/{of_author.id}"):
        page = page_of(client, path)
        for secret in (*_identity(author), "Quenby"):
            assert secret not in page, (path, secret)
    # The staff see both sides, with names.
    sign_in_as(client, login, p.people["facilitator_a"])
    page = page_of(client, f"/submissions/{work.id}")
    assert f"Reviewer 1 ({reviewer.name})" in page and author.name in page
    board = page_of(client, f"/assignments/{p.assignment.id}/board")
    assert reviewer.name in board and author.name in board
    assert author.name in page_of(client, f"/reviews/{of_author.id}")


# --- a fixed number of statements --------------------------------------------------------------

def _statements(client, query_counter, path: str) -> int:
    """The statements one request for ``path`` sends (after a first request warms up)."""
    assert client.get(path).status_code == 200
    with query_counter.counting():
        assert client.get(path).status_code == 200
    return query_counter.count


def test_the_assignment_page_and_the_board_cost_the_same_for_2_or_6_submissions(
        app, db, client, login, p, query_counter):
    with db() as session:
        extra = add_member(session, p.world.cohort_a, role="learner").user
    a = p.people["learner_a"]
    learners = [a, *[p.people[f"peer_{n}"] for n in range(1, 5)], extra]
    for person in learners[:2]:
        submit(app, person, p.assignment, f"Work of {person.name}")
    give_review(app, a, allocate(app, a, p.assignment), p)
    give_review(app, learners[1], allocate(app, learners[1], p.assignment), p)
    paths = {"learner": f"/assignments/{p.assignment.id}",
             "staff": f"/assignments/{p.assignment.id}/board"}
    counts = {}
    for size in (2, 6):
        if size == 6:
            for person in learners[2:]:
                submit(app, person, p.assignment, f"Work of {person.name}")
            for person in learners[2:5]:
                review = allocate(app, person, p.assignment)
                with app.app_context():
                    reviewing.save_review(person, review.id, scores=p.scores(),
                                          comment="This is useless.", submit=True,
                                          submit_anyway=person is learners[2], now=utcnow())
            allocate(app, a, p.assignment)
        login(client, a)
        counts[("learner", size)] = _statements(client, query_counter, paths["learner"])
        sign_in_as(client, login, p.people["facilitator_a"])
        counts[("staff", size)] = _statements(client, query_counter, paths["staff"])
        client.post_form("/logout", {}, token_from="/")
    assert counts[("learner", 2)] == counts[("learner", 6)], counts
    assert counts[("staff", 2)] == counts[("staff", 6)], counts


# --- input edges -------------------------------------------------------------------------------

def test_malformed_input_is_a_clear_4xx_never_a_500(app, client, login, p, allocated):
    login(client, p.people["learner_a"])
    path = f"/reviews/{allocated.id}"
    for level in ("abc", "99999999999", "-1", "3"):
        response = client.post_form(path, {**review_form(p, clarity=level), "save": "y"})
        assert response.status_code == 422, level
        assert f'id="criterion-{p.clarity_id}-error"' in text_of(response)
        assert "Choose one of the levels (0, 2, 4 points)." in text_of(response)
    huge = client.post_form(path, {**review_form(p, comment="x" * 10_001), "save": "y"})
    assert huge.status_code == 422 and 'id="comment-error"' in text_of(huge)
    nul = client.post_form(path, {**review_form(p, comment="a\x00b"), "save": "y"})
    assert nul.status_code == 400
    assert client.get("/reviews/2147483648").status_code == 404
    stale = client.post(path, data={**review_form(p, comment="Kept despite the token"),
                                    "csrf_token": "stale", "submit": "y"})
    assert stale.status_code == 400
    assert textarea(text_of(stale), "comment") == "Kept despite the token"
    sign_in_as(client, login, p.people["facilitator_a"])
    board = f"/assignments/{p.assignment.id}/board"
    for submission_id, reviewer_id, status in (("x", "", 404), ("", "", 404),
                                               (str(allocated.submission_id), "abc", 422),
                                               (str(allocated.submission_id), "-4", 422)):
        response = client.post_form(f"{board}/assign", {"submission_id": submission_id,
                                                        "reviewer_id": reviewer_id},
                                    token_from=board)
        assert response.status_code == status, (submission_id, reviewer_id)


def test_a_rating_out_of_range_is_refused_next_to_the_choice(app, db, client, login, p):
    open_results(db, p)
    mine, by_b, theirs, by_a = reviewed_pair(app, p)
    login(client, p.people["learner_a"])
    for value in ("9", "0", "x", "123456"):
        response = client.post_form(f"/reviews/{by_b.id}/rating",
                                    {f"rate-{by_b.id}-helpfulness": value},
                                    token_from=f"/submissions/{mine.id}")
        assert response.status_code == 422, value
        assert "Choose how helpful the review was, from 1 to 5." in text_of(response)



def test_a_form_sent_after_signing_out_is_refused_not_an_error(client, login, p):
    login(client, p.people["learner_a"])
    path = f"/assignments/{p.assignment.id}"
    token = client.csrf_token(path)
    client.post_form("/logout", {}, token_from="/")
    response = client.post(f"{path}/submission", data={"csrf_token": token, "body": "x"})
    assert response.status_code == 400
    assert "no valid CSRF token" in text_of(response)


def test_without_double_blind_both_sides_see_names_and_the_file_keeps_its_own(
        app, db, client, login, p):
    with db() as session:
        session.execute(update(CohortAssignment).where(CohortAssignment.id == p.assignment.id)
                        .values(double_blind=False, reviews_required=1))
    author, reviewer = p.people["learner_a"], p.people["peer_1"]
    work = submit(app, author, p.assignment, "Aurelia's work",
                  upload=Upload("quenby-draft.png", png_1x1()))
    submit(app, reviewer, p.assignment, "Bartholomew's work")
    of_author = allocate(app, reviewer, p.assignment)
    give_review(app, reviewer, of_author, p)
    give_review(app, author, allocate(app, author, p.assignment), p)
    login(client, reviewer)
    page = page_of(client, f"/reviews/{of_author.id}")
    assert f"Work by {author.name}" in page and "quenby-draft.png" in page
    sign_in_as(client, login, author)
    assert reviewer.name in page_of(client, f"/submissions/{work.id}")

"""The staff's side of peer review through the JSON API — the review board, its actions and a
cohort's review status — and the access matrix of every peer review work endpoint."""

from io import BytesIO

import pytest

from tests.peer_review.work_http import GOOD_COMMENT, PDF, Work, live_practice


@pytest.fixture
def w(db, call, client) -> Work:
    """Two reviews per submission (the world's setting)."""
    with db() as session:
        return Work(call, client, live_practice(session))


def _held_review(w) -> dict:
    """peer_1, peer_2 and peer_3 submit; peer_2 reviews peer_1's work harshly and sends it
    anyway, so it is held for a facilitator."""
    for role in ("peer_1", "peer_2", "peer_3"):
        w.submit(role)
    review_id = w.ask("peer_2").get_json()["id"]
    harsh = {"scores": w.p.scores(clarity=0, kindness=0), "comment": "This is useless.",
             "submit": True}
    harsh["scores"] = {str(k): v for k, v in harsh["scores"].items()}
    assert w.save("peer_2", review_id, **harsh).status_code == 409
    held = w.save("peer_2", review_id, **harsh, submit_anyway=True).get_json()
    assert held["status"] == "held"
    return held["review"]


def test_the_board_shows_everything_with_names_and_releases_a_held_review(w):
    held = _held_review(w)
    path = f"{w.assignment}/board"
    board = w.get("facilitator_a", path)
    assert board.status_code == 200
    got = board.get_json()
    peer_1, peer_2 = w.p.people["peer_1"], w.p.people["peer_2"]
    authors = {row["id"]: row["author"] for row in got["submissions"]}
    assert sorted(authors.values()) == sorted(w.p.people[f"peer_{n}"].name for n in (1, 2, 3))
    assert [r["id"] for r in got["held"]] == [held["id"]]
    on_board = got["held"][0]
    assert on_board["reviewer"]["label"] == f"Reviewer 1 ({peer_2.name})"
    assert on_board["reviewer"]["user_id"] == peer_2.id
    assert on_board["held_phrases"] == "this is useless"
    assert on_board["submission_id"] == held["work"]["submission_id"]
    assert got["reviews_required"] == 2 and len(got["short"]) == 3
    learners = {row["user_id"]: row for row in got["learners"]}
    assert learners[peer_2.id]["reviews_done"] == 1 and learners[peer_2.id]["owed"] == 1
    assert learners[w.p.people["learner_a"].id]["submitted"] is False
    staff_view = w.get("facilitator_a", f"/api/v1/reviews/{held['id']}").get_json()
    assert staff_view["work"]["author"]["name"] == peer_1.name
    assert staff_view["reviewer"]["name"] == peer_2.name
    released = w.send("facilitator_a", "POST", f"/api/v1/reviews/{held['id']}/release")
    assert released.status_code == 200
    assert released.get_json()["held"] is False and released.get_json()["reviewer_id"] == (
        peer_2.id)
    again = w.send("owner_a", "POST", f"/api/v1/reviews/{held['id']}/release")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_held"
    assert w.get("owner_a", path).get_json()["held"] == []


def test_review_it_myself_assign_to_and_reassign(w):
    first = w.submit("peer_1").get_json()
    w.submit("peer_2")
    path = f"/api/v1/submissions/{first['id']}/reviewers"
    mine = w.send("facilitator_a", "POST", path, json={})
    assert mine.status_code == 201
    assert mine.get_json()["by_staff"] is True
    assert mine.get_json()["reviewer_id"] == w.p.people["facilitator_a"].id
    peer_4 = w.p.people["peer_4"]
    assigned = w.send("owner_a", "POST", path, json={"reviewer_id": peer_4.id})
    assert assigned.status_code == 201
    assert (assigned.get_json()["reviewer_id"], assigned.get_json()["by_staff"]) == (
        peer_4.id, False)
    assert w.get("peer_4", w.assignment).get_json()["open_review_id"] == (
        assigned.get_json()["id"])
    twice = w.send("owner_a", "POST", path, json={"reviewer_id": peer_4.id})
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == (
        "already_allocated")
    for body, field in (({"reviewer_id": w.p.people["peer_1"].id}, "reviewer_id"),
                        ({"reviewer_id": w.p.people["facilitator_b"].id}, "reviewer_id"),
                        ({"reviewer_id": 2**31}, "reviewer_id"),
                        ({"reviewer_id": "3"}, "reviewer_id")):
        refused = w.send("facilitator_a", "POST", path, json=body)
        assert refused.status_code == 422 and field in refused.get_json()["error"]["fields"]
    reassign = f"/api/v1/reviews/{assigned.get_json()['id']}/reassign"
    ended = w.send("facilitator_a", "POST", reassign)
    assert ended.status_code == 200 and ended.get_json()["status"] == "expired"
    assert w.get("peer_4", w.assignment).get_json()["open_review_id"] is None
    assert w.send("facilitator_a", "POST", reassign).get_json()["error"]["code"] == (
        "not_active")


def test_hiding_a_review_needs_a_reason_and_sends_the_work_back(w):
    for role in ("peer_1", "peer_2"):
        w.submit(role)
    review = w.review("peer_2")
    hide = f"/api/v1/reviews/{review['id']}/hide"
    for body, status in (({"reason": ""}, 422), ({"reason": "x" * 501}, 422), ({}, 422),
                         ({"reason": 5}, 422), ({"reason": "a\x00b"}, 400)):
        assert w.send("facilitator_a", "POST", hide, json=body).status_code == status, body
    hidden = w.send("facilitator_a", "POST", hide, json={"reason": "It attacks the person."})
    assert hidden.status_code == 200
    assert hidden.get_json()["hidden"] is True
    assert hidden.get_json()["hidden_reason"] == "It attacks the person."
    mine = w.get("peer_2", w.assignment).get_json()["my_reviews"][0]
    assert mine["hidden"] is True and mine["hidden_reason"] == "It attacks the person."
    assert w.send("owner_a", "POST", hide, json={"reason": "Again"}).status_code == 409
    short = w.get("facilitator_a", f"{w.assignment}/board").get_json()["short"]
    assert review["work"]["submission_id"] in [row["id"] for row in short]


def test_the_cohort_review_status_lists_what_is_short(w):
    first = w.submit("peer_1").get_json()
    w.submit("peer_2")
    w.review("peer_2")
    path = f"/api/v1/cohorts/{w.p.world.cohort_a.id}/review-status"
    got = w.get("facilitator_a", path)
    assert got.status_code == 200
    status = got.get_json()
    assert status["cohort_id"] == w.p.world.cohort_a.id
    assert [a["assignment_id"] for a in status["assignments"]] == [w.p.assignment.id,
                                                                  w.p.future.id]
    rows = {row["id"]: row for row in status["assignments"][0]["short"]}
    assert rows[first["id"]]["completed"] == 1 and rows[first["id"]]["author"] == (
        w.p.people["peer_1"].name)
    assert rows[first["id"]]["feedback_by"] == first["feedback_by"]
    assert w.get("peer_1", path).status_code == 403
    assert w.get("facilitator_b", path).status_code == 404


# --- the access matrix -------------------------------------------------------------------------

#: Roles in the order they call (staff after learners: their actions change what follows).
A_ROLES = ("author", "reviewer", "other", "facilitator_a", "owner_a")
#: Everyone outside cohort A, who must find nothing.
OUTSIDE = ("learner_b", "facilitator_b", "owner_b", "admin", "outsider")
PERSON = {"author": "peer_1", "reviewer": "peer_2", "other": "peer_3"}


def _matrix(ids: dict) -> list[tuple[str, str, dict, tuple[int, ...]]]:
    """(method, path, request, statuses of A_ROLES), in the order they are called."""
    a, s, r = ids["assignment"], ids["submission"], ids["review"]
    return [
        ("GET", f"/api/v1/assignments/{a}", {}, (200, 200, 200, 200, 200)),
        ("GET", f"/api/v1/reviews/{r}", {}, (404, 200, 404, 200, 200)),
        ("GET", f"/api/v1/submissions/{s}", {}, (200, 404, 404, 200, 200)),
        ("GET", f"/api/v1/submissions/{s}/attachment", {}, (200, 200, 404, 200, 200)),
        ("POST", f"/api/v1/reviews/{r}/rating", {"json": {"helpfulness": 4}},
         (200, 404, 404, 404, 404)),
        ("PUT", f"/api/v1/reviews/{r}", {"json": {"comment": "x"}}, (404, 409, 404, 403, 403)),
        ("GET", f"/api/v1/assignments/{a}/board", {}, (403, 403, 403, 200, 200)),
        ("GET", f"/api/v1/cohorts/{ids['cohort']}/review-status", {},
         (403, 403, 403, 200, 200)),
        ("POST", f"/api/v1/reviews/{r}/release", {}, (403, 403, 403, 409, 409)),
        ("POST", f"/api/v1/assignments/{a}/submissions", {"json": {"body": "Again"}},
         (200, 200, 201, 403, 403)),
        ("POST", f"/api/v1/assignments/{a}/reviews", {"json": {}}, (201, 201, 201, 403, 403)),
        ("POST", f"/api/v1/submissions/{s}/reviewers", {"json": {}},
         (403, 403, 403, 201, 201)),
        ("POST", f"/api/v1/reviews/{r}/hide", {"json": {"reason": "Unkind"}},
         (403, 403, 403, 200, 409)),
    ]


def test_every_work_endpoint_answers_each_role(db, call, client):
    with db() as session:
        p = live_practice(session, reviews_required=1)
    w = Work(call, client, p)
    first = w.upload("peer_1", "essay.pdf", PDF).get_json()
    w.submit("peer_2")
    review = w.review("peer_2")
    w.review("peer_1")
    ids = {"assignment": p.assignment.id, "submission": first["id"], "review": review["id"],
           "cohort": p.world.cohort_a.id}
    for method, path, kwargs, expected in _matrix(ids):
        for role in OUTSIDE:
            got = w.send(role, method, path, **kwargs)
            assert got.status_code == 404, (method, path, role, got.get_json())
        for role, status in zip(A_ROLES, expected, strict=True):
            got = w.send(PERSON.get(role, role), method, path, **kwargs)
            assert got.status_code == status, (method, path, role, got.get_data()[:300])
        assert call(client, method, path, **kwargs).status_code == 401
    # Reassigning: the facilitator ends their own unfinished "review it myself".
    mine = next(r for r in w.get("facilitator_a", f"{w.assignment}/board").get_json()[
        "in_progress"] if r["by_staff"] and r["reviewer"]["user_id"] == (
            p.people["facilitator_a"].id))
    reassign = f"/api/v1/reviews/{mine['id']}/reassign"
    for role in OUTSIDE:
        assert w.send(role, "POST", reassign).status_code == 404
    for role in ("author", "reviewer", "other"):
        assert w.send(PERSON[role], "POST", reassign).status_code == 403
    assert w.send("facilitator_a", "POST", reassign).status_code == 200
    assert w.send("owner_a", "POST", reassign).status_code == 409
    # Ids nobody can have are 404 on every route, as are unknown ones.
    for bad in ("987654", "2147483648"):
        for method, template in (
                ("GET", "/api/v1/assignments/{}"), ("POST", "/api/v1/assignments/{}/reviews"),
                ("GET", "/api/v1/assignments/{}/board"), ("GET", "/api/v1/reviews/{}"),
                ("POST", "/api/v1/reviews/{}/release"), ("POST", "/api/v1/reviews/{}/reassign"),
                ("GET", "/api/v1/submissions/{}"), ("GET", "/api/v1/submissions/{}/attachment"),
                ("GET", "/api/v1/cohorts/{}/review-status")):
            assert w.send("facilitator_a", method, template.format(bad),
                          **({"json": {}} if method == "POST" else {})).status_code == 404


def test_the_session_cookie_reaches_the_same_answers(db, call, client, login, api_headers):
    with db() as session:
        p = live_practice(session, reviews_required=1)
    w = Work(call, client, p)
    first = w.submit("peer_1").get_json()
    w.submit("peer_2")
    login(client, p.people["peer_2"])
    asked = call(client, "POST", f"{w.assignment}/reviews", json={}, headers=api_headers())
    assert asked.status_code == 201
    review_path = f"/api/v1/reviews/{asked.get_json()['id']}"
    form = {"scores": {str(k): v for k, v in p.scores().items()}, "comment": GOOD_COMMENT,
            "submit": True}
    assert call(client, "PUT", review_path, json=form).status_code == 400  # no CSRF header
    assert call(client, "PUT", review_path, json=form, headers=api_headers()
                ).get_json()["status"] == "submitted"
    assert call(client, "GET", review_path).status_code == 200
    assert call(client, "GET", f"/api/v1/submissions/{first['id']}").status_code == 404
    assert call(client, "GET", f"{w.assignment}/board").status_code == 403
    upload = call(client, "POST", f"{w.assignment}/submissions",
                  headers={"X-CSRFToken": client.csrf_token("/")},
                  data={"body": "x", "attachment": (BytesIO(PDF), "mine.pdf")},
                  content_type="multipart/form-data")
    assert upload.status_code == 200


def test_a_review_by_the_staff_is_not_marked_as_such_for_its_author(w):
    scores = {str(k): v for k, v in w.p.scores().items()}
    comment = "The example in your second paragraph made it clear."
    work = w.submit("peer_1").get_json()
    w.submit("peer_2")
    w.submit("peer_3")
    mine = w.send("facilitator_a", "POST", f"/api/v1/submissions/{work['id']}/reviewers",
                  json={}).get_json()
    done = w.save("facilitator_a", mine["id"], scores=scores, comment=comment, submit=True)
    assert done.status_code == 200
    for _ in range(2):  # the author's own reviews open their results
        review = w.ask("peer_1").get_json()
        assert w.save("peer_1", review["id"], scores=scores, comment=comment,
                      submit=True).status_code == 200
    path = f"/api/v1/submissions/{work['id']}"
    staff_view = [r for r in w.get("facilitator_a", path).get_json()["reviews"]
                  if r["id"] == mine["id"]]
    author_view = [r for r in w.get("peer_1", path).get_json()["reviews"]
                   if r["id"] == mine["id"]]
    assert staff_view[0]["by_staff"] is True
    assert author_view and author_view[0]["by_staff"] is False
    assert author_view[0]["reviewer"]["label"] == f"Reviewer {mine['number']}"

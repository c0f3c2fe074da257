"""Peer review work through the JSON API: submitting (JSON and a form with a file), the
assignment overview, asking for work to review, the rubric form with the kindness check,
results and ratings — each response validated against the OpenAPI document."""

import pytest
from sqlalchemy import select

from app.peer_review.work_models import Review, Submission
from tests.peer_review.work_http import EXE, GOOD_COMMENT, PDF, PNG, Work, live_practice


@pytest.fixture
def w(db, call, client) -> Work:
    """One required review per submission, so two learners who review each other can read
    their results."""
    with db() as session:
        return Work(call, client, live_practice(session, reviews_required=1))


@pytest.fixture
def w2(db, call, client) -> Work:
    """The world's own setting: two reviews per submission."""
    with db() as session:
        return Work(call, client, live_practice(session))


# --- submitting --------------------------------------------------------------------------------

def test_submit_then_resubmit_until_due(w):
    first = w.submit("peer_1", "First **draft**")
    assert first.status_code == 201
    work = first.get_json()
    assert (work["version"], work["late"], work["attachment"]) == (1, False, None)
    assert work["body"] == "First **draft**"
    assert work["body_html"].strip() == "<p>First <strong>draft</strong></p>"
    assert work["submitted_at"] == work["updated_at"] and work["feedback_by"]
    again = w.submit("peer_1", "Second draft")
    assert again.status_code == 200
    assert (again.get_json()["id"], again.get_json()["version"]) == (work["id"], 2)
    assert again.get_json()["submitted_at"] == work["submitted_at"]
    overview = w.get("peer_1", w.assignment).get_json()
    assert overview["submission"]["version"] == 2 and overview["can_submit"]


def test_a_resubmission_after_the_due_date_is_a_conflict(app, db, w):
    from datetime import timedelta

    from app.cohorts.models import CohortModule

    assert w.submit("peer_1").status_code == 201
    with db() as session:
        module = session.get(CohortModule, w.p.assignment.cohort_module_id)
        module.release_at -= timedelta(days=8)
    late = w.submit("peer_1", "After the due date")
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "submissions_closed"
    first_late = w.submit("peer_2", "Late, but welcome").get_json()
    assert first_late["late"] is True and first_late["version"] == 1


def test_submission_input_edges_are_clear_4xx(w):
    path = f"{w.assignment}/submissions"
    assert w.submit("peer_1", "").status_code == 422
    too_long = w.submit("peer_1", "x" * 50_001)
    assert too_long.status_code == 422 and "50,000" in too_long.get_json()["error"]["fields"][
        "body"]
    assert w.send("peer_1", "POST", path, json={"body": 5}).status_code == 422
    assert w.send("peer_1", "POST", path, json={"body": "x", "extra": 1}).status_code == 422
    assert w.send("peer_1", "POST", path, json={"body": "x",
                                                "keep_attachment": "no"}).status_code == 422
    assert w.send("peer_1", "POST", path, json=["x"]).status_code == 400
    assert w.send("peer_1", "POST", path, data="body=x",
                  content_type="text/plain").status_code == 400
    nul = w.submit("peer_1", "a\x00b")
    assert nul.status_code == 400 and nul.get_json()["error"]["code"] == "nul_character"
    huge = w.send("peer_1", "POST", path, data=b'{"body": "' + b"x" * (12 * 1024 * 1024)
                  + b'"}', content_type="application/json")
    assert huge.status_code == 413 and huge.get_json()["error"]["code"] == "too_large"
    for missing in ("/api/v1/assignments/987654/submissions",
                    f"/api/v1/assignments/{w.p.future.id}/submissions",
                    "/api/v1/assignments/2147483648/submissions"):
        assert w.send("peer_1", "POST", missing, json={"body": "x"}).status_code == 404
    assert w.submit("facilitator_a").get_json()["error"]["code"] == "learners_only"


def test_an_attachment_is_checked_stored_and_served_as_a_download(w):
    sent = w.upload("peer_1", "../../etc/My essay.pdf", PDF)
    assert sent.status_code == 201, sent.get_json()
    work = sent.get_json()
    assert work["attachment"] == {
        "name": "My essay.pdf", "type": "pdf", "size": len(PDF),
        "url": f"/api/v1/submissions/{work['id']}/attachment"}
    got = w.get("peer_1", work["attachment"]["url"])
    assert got.status_code == 200 and got.get_data() == PDF
    assert got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"].startswith('attachment; filename="My essay.pdf"')
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Cache-Control"] == "private, no-store"
    # A re-submission keeps the file unless told otherwise, or replaces it.
    kept = w.upload("peer_1", "", b"", body="New text", keep_attachment="true").get_json()
    assert kept["attachment"]["name"] == "My essay.pdf" and kept["version"] == 2
    replaced = w.upload("peer_1", "diagram.png", PNG).get_json()
    assert replaced["attachment"]["type"] == "png"
    assert w.get("peer_1", replaced["attachment"]["url"]).mimetype == "image/png"
    dropped = w.submit("peer_1", "Text only now", keep_attachment=False).get_json()
    assert dropped["attachment"] is None
    assert w.get("peer_1", work["attachment"]["url"]).status_code == 404


def test_bad_attachments_are_refused_with_what_to_do(w):
    disguised = w.upload("peer_1", "essay.pdf", EXE)
    assert disguised.status_code == 422
    assert "a Windows program" in disguised.get_json()["error"]["fields"]["attachment"]
    wrong_name = w.upload("peer_1", "picture.pdf", PNG)
    assert wrong_name.status_code == 422
    assert ".png" in wrong_name.get_json()["error"]["fields"]["attachment"]
    over = w.upload("peer_1", "big.pdf", PDF + b"x" * (10 * 1024 * 1024))
    assert over.status_code == 422 and "10 MB" in over.get_json()["error"]["fields"][
        "attachment"]
    way_over = w.upload("peer_1", "huge.pdf", PDF + b"x" * (12 * 1024 * 1024))
    assert way_over.status_code == 413 and way_over.get_json()["error"]["code"] == "too_large"
    assert w.upload("peer_1", "essay.pdf", PDF, keep_attachment="maybe").status_code == 422
    assert w.upload("peer_1", "a\x00.pdf", PDF).status_code == 400
    # A file between the app's general 2 MB limit and the attachment limit goes through.
    big = w.upload("peer_1", "long essay.pdf", PDF + b"x" * (5 * 1024 * 1024))
    assert big.status_code == 201 and big.get_json()["attachment"]["size"] > 5 * 1024 * 1024
    assert w.get("peer_1", w.assignment).get_json()["submission"]["version"] == 1


def test_a_session_cookie_submission_needs_the_csrf_header(w, client, login, api_headers):
    login(client, w.p.people["peer_1"])
    path = f"{w.assignment}/submissions"
    refused = w.call(client, "POST", path, json={"body": "From the browser"})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf_failed"
    sent = w.call(client, "POST", path, json={"body": "From the browser"},
                  headers=api_headers())
    assert sent.status_code == 201
    from io import BytesIO

    form = w.call(client, "POST", path, headers={"X-CSRFToken": client.csrf_token("/")},
                  data={"body": "With a file", "attachment": (BytesIO(PDF), "notes.pdf")},
                  content_type="multipart/form-data")
    assert form.status_code == 200 and form.get_json()["attachment"]["name"] == "notes.pdf"


# --- the overview ------------------------------------------------------------------------------

def test_the_overview_says_what_i_have_done_and_owe(w2):
    w = w2
    before = w.get("peer_1", w.assignment)
    assert before.status_code == 200
    mine = before.get_json()
    assert mine["my_role"] == "learner" and mine["submission"] is None and mine["can_submit"]
    assert mine["settings"] == {"reviews_required": 2, "review_expiry_hours": 48,
                                "submit_first": True, "results_after": "reviews_done",
                                "double_blind": True}
    assert [c["criterion"] for c in mine["rubric"]] == ["Clarity", "Kindness"]
    assert [lv["points"] for lv in mine["rubric"][0]["levels"]] == [0, 2, 4]
    assert mine["max_points"] == 5 and mine["owed"] == 2 and mine["reviews_done"] == 0
    assert mine["dates"]["opens"] < mine["dates"]["due"] < mine["dates"]["reviews_due"]
    assert mine["open_review_id"] is None and mine["gate"] == ""
    w.submit("peer_1")
    w.submit("peer_2")
    w.submit("peer_3")
    done = w.review("peer_1")
    asked = w.ask("peer_1").get_json()
    now = w.get("peer_1", w.assignment).get_json()
    assert now["reviews_done"] == 1 and now["owed"] == 1
    assert now["open_review_id"] == asked["id"]
    assert [r["id"] for r in now["my_reviews"]] == [asked["id"], done["id"]]
    assert now["results_open"] is False and "1 more review" in now["gate"]
    assert now["helpfulness"] == {"average": None, "ratings": 0}
    staff = w.get("facilitator_a", w.assignment).get_json()
    assert staff["my_role"] == "facilitator" and staff["can_submit"] is False
    for role in ("learner_b", "facilitator_b", "owner_b", "admin", "outsider"):
        assert w.get(role, w.assignment).status_code == 404
    assert w.get("peer_1", f"/api/v1/assignments/{w.p.future.id}").status_code == 404
    assert w.get("facilitator_a", f"/api/v1/assignments/{w.p.future.id}").status_code == 200


# --- asking for work to review -----------------------------------------------------------------

def test_asking_for_work_allocates_once_and_says_why_not(w2):
    w = w2
    not_yet = w.ask("peer_1")
    assert not_yet.status_code == 409
    assert not_yet.get_json()["error"]["code"] == "not_submitted"
    assert not_yet.get_json()["error"]["message"]
    w.submit("peer_1")
    none_yet = w.ask("peer_1").get_json()["error"]
    assert none_yet["code"] == "none_submitted_yet"
    w.submit("peer_2")
    given = w.ask("peer_1")
    assert given.status_code == 201
    review = given.get_json()
    assert review["status"] == "active" and review["is_open"]
    assert review["number"] == 1 and review["work"]["author"]["label"] == "A peer"
    assert review["scores"] == {} and review["comment"] == ""
    again = w.ask("peer_1")
    assert again.status_code == 200 and again.get_json()["id"] == review["id"]
    assert w.ask("peer_1", only_short="yes").status_code == 422
    assert w.ask("facilitator_a").status_code == 403
    assert w.ask("learner_b").status_code == 404


# --- the rubric form ---------------------------------------------------------------------------

def _form(w, **extra) -> dict:
    return {"scores": {str(w.p.clarity_id): 4, str(w.p.kindness_id): 1},
            "comment": GOOD_COMMENT, **extra}


def test_a_draft_is_saved_then_submitted(w):
    w.submit("peer_1")
    w.submit("peer_2")
    review_id = w.ask("peer_2").get_json()["id"]
    draft = w.save("peer_2", review_id, scores={str(w.p.clarity_id): 2},
                   comments={str(w.p.clarity_id): "The *second* line."}, comment="So far")
    assert draft.status_code == 200 and draft.get_json()["status"] == "saved"
    read = w.get("peer_2", f"/api/v1/reviews/{review_id}").get_json()
    assert read["scores"] == {str(w.p.clarity_id): 2}
    assert read["comments"] == {str(w.p.clarity_id): "The *second* line."}
    assert read["comment"] == "So far" and read["saved_at"]
    incomplete = w.save("peer_2", review_id, submit=True, comment="Now with more",
                        scores={str(w.p.clarity_id): 2})
    assert incomplete.status_code == 422
    assert set(incomplete.get_json()["error"]["fields"]) == {f"scores.{w.p.kindness_id}"}
    # "Your draft is kept": what was sent with the refused submit is there.
    assert w.get("peer_2", f"/api/v1/reviews/{review_id}").get_json()["comment"] == (
        "Now with more")
    sent = w.save("peer_2", review_id, submit=True, **_form(w))
    assert sent.status_code == 200
    answer = sent.get_json()
    assert answer["status"] == "submitted" and "author" in answer["message"]
    assert answer["review"]["status"] == "submitted" and not answer["review"]["is_open"]
    again = w.save("peer_2", review_id, **_form(w))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_submitted"


def test_rubric_form_edges_are_clear_4xx(w):
    w.submit("peer_1")
    w.submit("peer_2")
    review_id = w.ask("peer_2").get_json()["id"]
    path = f"/api/v1/reviews/{review_id}"
    cases = [
        ({"scores": {"987654": 4}}, "scores.987654"),
        ({"scores": {str(w.p.clarity_id): 3}}, f"scores.{w.p.clarity_id}"),
        ({"comments": {"987654": "x"}}, "comments.987654"),
        ({"comment": "x" * 10_001}, "comment"),
    ]
    for body, field in cases:
        got = w.save("peer_2", review_id, **body)
        assert got.status_code == 422 and field in got.get_json()["error"]["fields"], body
    for body in ({"scores": {"clarity": 4}}, {"scores": {str(w.p.clarity_id): "4"}},
                 {"scores": {str(w.p.clarity_id): 2.5}}, {"scores": {"2147483648": 1}},
                 {"submit": "yes"}, {"comment": None}, {"unknown": 1}, {"scores": []}):
        assert w.save("peer_2", review_id, **body).status_code == 422, body
    assert w.send("peer_2", "PUT", path, data="x", content_type="application/json"
                  ).status_code == 400
    assert w.save("peer_2", review_id, comment="a\x00b").status_code == 400
    for missing in ("/api/v1/reviews/987654", "/api/v1/reviews/2147483648"):
        assert w.send("peer_2", "PUT", missing, json={}).status_code == 404
        assert w.get("peer_2", missing).status_code == 404


def test_the_kindness_check_keeps_the_draft_and_submit_anyway_sends_it(db, w):
    w.submit("peer_1")
    w.submit("peer_2")
    review_id = w.ask("peer_2").get_json()["id"]
    harsh = _form(w, comment="This is useless and makes no sense.", submit=True)
    nudged = w.save("peer_2", review_id, **harsh)
    assert nudged.status_code == 409
    error = nudged.get_json()["error"]
    assert error["code"] == "kindness_check"
    assert "draft is saved" in error["message"] and "submit_anyway" in error["message"]
    assert "facilitator" in error["message"]  # the cohort's hold is on
    phrases = [f["phrase"] for f in error["details"]["findings"]]
    assert "this is useless" in phrases and "makes no sense" in phrases
    assert all(f["suggestion"] for f in error["details"]["findings"])
    kept = w.get("peer_2", f"/api/v1/reviews/{review_id}").get_json()
    assert kept["status"] == "active" and kept["comment"] == harsh["comment"]
    assert kept["scores"] == {str(w.p.clarity_id): 4, str(w.p.kindness_id): 1}
    held = w.save("peer_2", review_id, **harsh, submit_anyway=True)
    assert held.status_code == 200
    assert held.get_json()["status"] == "held" and "facilitator" in held.get_json()["message"]
    assert held.get_json()["review"]["held"] is True
    with db() as session:
        assert session.get(Review, review_id).held_phrases


def test_without_the_hold_submit_anyway_goes_straight_to_the_author(db, w):
    with db() as session:
        session.get(type(w.p.world.cohort_a), w.p.world.cohort_a.id).kindness_hold = False
    w.submit("peer_1")
    w.submit("peer_2")
    review_id = w.ask("peer_2").get_json()["id"]
    harsh = _form(w, comment="Honestly this is useless.", submit=True)
    nudged = w.save("peer_2", review_id, **harsh).get_json()["error"]
    assert "goes to its author" in nudged["message"]
    sent = w.save("peer_2", review_id, **harsh, submit_anyway=True).get_json()
    assert sent["status"] == "submitted" and sent["review"]["held"] is False


def test_posting_and_review_saves_share_the_per_person_rate_limit(app, w):
    w.submit("peer_1")
    w.submit("peer_2")
    review_id = w.ask("peer_2").get_json()["id"]
    app.config["POSTING_RATE_LIMIT"] = "2 per minute"
    assert w.save("peer_2", review_id, comment="one").status_code == 200
    assert w.submit("peer_2", "again").status_code == 200
    limited = w.save("peer_2", review_id, comment="three")
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    assert w.submit("peer_3").status_code == 201  # someone else


# --- results and ratings -----------------------------------------------------------------------

def test_the_author_reads_results_behind_the_gate_and_rates_them(w2):
    w = w2
    mine = w.submit("peer_1").get_json()
    w.submit("peer_2")
    w.submit("peer_3")
    review = w.review("peer_2", clarity=2)  # peer_1's work, the oldest
    w.review("peer_3")  # peer_2's work, now the one with the fewest reviews
    w.review("peer_3", clarity=4)  # peer_1's again
    path = f"/api/v1/submissions/{mine['id']}"
    closed = w.get("peer_1", path).get_json()
    assert closed["results_open"] is False and closed["reviews"] == []
    assert closed["medians"] == [] and "2 more reviews" in closed["gate"]
    rating = f"/api/v1/reviews/{review['id']}/rating"
    assert w.send("peer_1", "POST", rating, json={"helpfulness": 4}).status_code == 404
    w.review("peer_1")
    w.review("peer_1")
    opened = w.get("peer_1", path).get_json()
    assert opened["results_open"] is True and opened["gate"] == ""
    assert [r["reviewer"]["label"] for r in opened["reviews"]] == ["Reviewer 1", "Reviewer 2"]
    assert opened["medians"][0]["points"] == 2 and opened["medians"][0]["reviews"] == 2
    assert opened["versions"] == 1 and opened["author"]["is_you"]
    for bad in (0, 6, "x", 2.5, True, None):
        got = w.send("peer_1", "POST", rating, json={"helpfulness": bad})
        assert got.status_code == 422, bad
    assert w.send("peer_1", "POST", rating,
                  json={"helpfulness": 3, "comment": "x" * 2_001}).status_code == 422
    rated = w.send("peer_1", "POST", rating, json={"helpfulness": 5, "comment": "Thanks!"})
    assert rated.status_code == 200
    assert rated.get_json() | {"rated_at": None} == {
        "review_id": review["id"], "helpfulness": 5, "comment": "Thanks!", "rated_at": None,
        "flagged": False, "flag_reason": ""}
    reviewer = w.get("peer_2", w.assignment).get_json()
    assert reviewer["helpfulness"] == {"average": 5.0, "ratings": 1}
    flagged = w.send("peer_1", "POST", rating, json={"flag_reason": "It mocks me."})
    assert flagged.get_json()["flagged"] is True
    again = w.send("peer_1", "POST", rating, json={"flag_reason": "Still."})
    assert again.status_code == 409
    shown = w.get("peer_1", path).get_json()["reviews"]
    assert [r["flagged"] for r in shown] == [True, False]


def test_stored_rows_match_what_the_api_said(db, w):
    work = w.submit("peer_1").get_json()
    with db() as session:
        stored = session.scalars(select(Submission)).one()
        assert (stored.id, stored.version, stored.body) == (work["id"], 1,
                                                            "My rewritten message.")


def test_the_document_describes_both_bodies_and_both_answers_of_a_submission(openapi):
    operation = openapi["paths"]["/api/v1/assignments/{assignment_id}/submissions"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json",
                                                        "multipart/form-data"}
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["attachment"]["format"] == "binary"
    assert operation["responses"]["201"] == operation["responses"]["200"]
    assert {"413", "422", "429"} <= set(operation["responses"])
    download = openapi["paths"]["/api/v1/submissions/{submission_id}/attachment"]["get"]
    assert {"application/pdf", "image/png", "text/plain"} <= set(
        download["responses"]["200"]["content"])
    staff = [operation["summary"] for path, item in openapi["paths"].items()
             for operation in item.values()
             if path.endswith(("/board", "/reviewers", "/release", "/hide", "/reassign"))]
    assert len(staff) == 5 and all(s.startswith("Staff action:") for s in staff)

"""The cohort's peer review settings and data for its staff: the reviews export (one row
per review, authors and reviewers as the person exporting may see them, formulas kept as
text) and the kindness hold, changed with the cohort's other safety settings."""

import csv
import io
from datetime import timedelta

from app.peer_review import reviewing, submitting
from tests.http import bearer
from tests.peer_review.world import live_release, practice


def test_staff_export_every_review_with_levels_ratings_and_names(call, client, db, app):
    with db() as session:
        p = practice(session, released_at=live_release(2))
        p.world.with_tokens(session)
    now = live_release(0)
    a, b = p.people["learner_a"], p.people["peer_1"]
    with app.app_context():
        submitting.submit_work(a, p.assignment.id, body="Mine", now=now - timedelta(hours=2))
        submitting.submit_work(b, p.assignment.id, body="Theirs", now=now - timedelta(hours=1))
        review = reviewing.request_review(b, p.assignment.id, now=now)
        reviewing.save_review(b, review.id, scores=p.scores(2, 1),
                              comment="=SUM(A1) clear and kind", submit=True, now=now)
        reviewing.request_review(a, p.assignment.id, now=now)  # still open
    path = f"/api/v1/cohorts/{p.world.cohort_a.id}/export.csv?what=reviews"
    got = call(client, "GET", path, headers=bearer(p.world.tokens["facilitator_a"]))
    assert got.status_code == 200 and got.mimetype == "text/csv"
    assert "cohort-" in got.headers["Content-Disposition"] and "reviews" in \
        got.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(got.get_data(as_text=True))))
    assert [(r["author"], r["reviewer"], r["status"], r["state"]) for r in rows] == [
        (f"A peer ({a.name})", f"Reviewer 1 ({b.name})", "submitted", "published"),
        (f"A peer ({b.name})", f"Reviewer 1 ({a.name})", "active", "")]
    assert rows[0]["levels"] == "Clarity: Mostly clear; Kindness: Kind"
    assert rows[0]["points"] == "3"
    assert rows[0]["comment"] == "'=SUM(A1) clear and kind"
    for role, status in (("learner_a", 403), ("peer_1", 403), ("owner_a", 200),
                         ("facilitator_b", 404), ("owner_b", 404)):
        assert call(client, "GET", path,
                    headers=bearer(p.world.tokens[role])).status_code == status, role


def test_staff_turn_the_kindness_hold_off_and_kept_harsh_feedback_then_goes_out(
        call, client, db, app):
    with db() as session:
        p = practice(session, released_at=live_release(2))
        p.world.with_tokens(session)
    path = f"/api/v1/cohorts/{p.world.cohort_a.id}/discussion-settings"
    assert call(client, "GET", path, headers=bearer(p.world.tokens["facilitator_a"])
                ).get_json()["kindness_hold"] is True
    assert call(client, "PATCH", path, headers=bearer(p.world.tokens["learner_a"]),
                json={"kindness_hold": False}).status_code == 403
    assert call(client, "PATCH", path, headers=bearer(p.world.tokens["facilitator_a"]),
                json={"kindness_hold": "no"}).status_code == 422
    changed = call(client, "PATCH", path, headers=bearer(p.world.tokens["facilitator_a"]),
                   json={"kindness_hold": False})
    assert changed.status_code == 200 and changed.get_json()["kindness_hold"] is False
    now = live_release(0)
    a, b = p.people["learner_a"], p.people["peer_1"]
    with app.app_context():
        submitting.submit_work(a, p.assignment.id, body="Mine", now=now - timedelta(hours=1))
        submitting.submit_work(b, p.assignment.id, body="Theirs", now=now)
        review = reviewing.request_review(b, p.assignment.id, now=now)
        outcome = reviewing.save_review(b, review.id, scores=p.scores(),
                                        comment="This is useless.", submit=True,
                                        submit_anyway=True, now=now)
        assert outcome.status == "submitted" and outcome.findings

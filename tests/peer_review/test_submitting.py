"""Submitting practice work through the services: text and one checked attachment, versions
until the due date, late work with its own feedback-by date, and who may read what."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.peer_review import reviewing, submitting
from app.peer_review.submitting import Upload
from app.peer_review.work_models import Submission, SubmissionVersion
from tests.peer_review.world import DUE, NOW, REVIEWS_DUE, practice

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def p(db):
    """The practice world (tests/peer_review/world.py)."""
    with db() as session:
        return practice(session)


def _stored_files(app) -> set[str]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return {f.name for f in folder.iterdir()} if folder.exists() else set()


def test_a_learner_submits_and_resubmits_until_the_due_date_keeping_versions(app, db, p):
    learner = p.people["learner_a"]
    with app.app_context():
        first = submitting.submit_work(learner, p.assignment.id, body="My **first** try",
                                       now=NOW)
        assert (first.version, first.late, first.feedback_by) == (1, False, REVIEWS_DUE)
        work_id = first.id
        again = submitting.submit_work(learner, p.assignment.id, body="Better", now=DUE)
        assert again.id == first.id and again.version == 2
        versions = submitting.list_versions(learner, first.id, now=DUE)
        assert [(v.version, v.body) for v in versions] == [(1, "My **first** try")]
        assert "<strong>first</strong>" in versions[0].body_html
        with pytest.raises(Conflict) as closed:
            submitting.submit_work(learner, p.assignment.id, body="Too late",
                                   now=DUE + timedelta(seconds=1))
        assert closed.value.code == "submissions_closed"
    with db() as session:
        stored = session.get(Submission, work_id)
        assert (stored.body, stored.version, stored.submitted_at) == ("Better", 2, NOW)


def test_late_work_is_accepted_marked_late_with_a_feedback_by_date_of_its_own(app, p):
    with app.app_context():
        late_at = DUE + timedelta(days=3)
        late = submitting.submit_work(p.people["peer_1"], p.assignment.id, body="Sorry",
                                      now=late_at)
        assert late.late is True
        # Its own review window, as long as the assignment's, from when it came in.
        assert late.feedback_by == late_at + timedelta(days=4)
        very_late = submitting.submit_work(p.people["peer_2"], p.assignment.id, body="Oops",
                                           now=REVIEWS_DUE + timedelta(days=10))
        assert very_late.feedback_by == REVIEWS_DUE + timedelta(days=14)


@pytest.mark.parametrize("body, field", [("", "body"), ("   \n ", "body"),
                                         ("x" * 50_001, "body")])
def test_empty_or_oversize_text_is_refused_with_what_to_do(app, db, p, body, field):
    with app.app_context(), pytest.raises(Invalid) as refused:
        submitting.submit_work(p.people["learner_a"], p.assignment.id, body=body, now=NOW)
    assert field in refused.value.fields
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 0


def test_nul_bytes_are_dropped_from_the_text(app, p):
    with app.app_context():
        work = submitting.submit_work(p.people["learner_a"], p.assignment.id,
                                      body="a\x00b", now=NOW)
        assert work.body == "ab"


def test_a_checked_attachment_is_stored_under_a_random_name_and_served_to_those_allowed(
        app, db, p):
    author, reviewer, other = p.people["learner_a"], p.people["peer_1"], p.people["peer_2"]
    with app.app_context():
        work = submitting.submit_work(author, p.assignment.id, body="See the file",
                                      upload=Upload("../../etc/My plan.pdf", PDF), now=NOW)
        assert (work.attachment_name, work.attachment_type, work.attachment_size) == (
            "My plan.pdf", "pdf", len(PDF))
        assert work.attachment_key in _stored_files(app)
        path, name, media = submitting.get_attachment_for(author, work.id, now=NOW)
        assert path.read_bytes() == PDF and media == "application/pdf"
        assert path.parent == Path(app.config["UPLOAD_FOLDER"])
        submitting.get_attachment_for(p.people["facilitator_a"], work.id, now=NOW)
        for outsider in (other, p.people["learner_b"], p.people["outsider"]):
            with pytest.raises(NotFound):
                submitting.get_attachment_for(outsider, work.id, now=NOW)
        # A peer the work was allocated to may download it.
        submitting.submit_work(reviewer, p.assignment.id, body="Mine", now=NOW)
        review = reviewing.request_review(reviewer, p.assignment.id, now=NOW)
        assert review.submission_id == work.id
        assert submitting.get_attachment_for(reviewer, work.id, now=NOW)[0] == path


def test_a_refused_attachment_leaves_nothing_behind(app, db, p, monkeypatch):
    before = _stored_files(app)
    with app.app_context():
        with pytest.raises(Invalid) as refused:
            submitting.submit_work(p.people["learner_a"], p.assignment.id, body="x",
                                   upload=Upload("notes.pdf", b"MZ\x90\x00" + b"\x00" * 60),
                                   now=NOW)
        assert "attachment" in refused.value.fields
        # Refused before anything is stored: a staff member cannot submit.
        with pytest.raises(NotAllowed):
            submitting.submit_work(p.people["facilitator_a"], p.assignment.id, body="x",
                                   upload=Upload("plan.pdf", PDF), now=NOW)
        # Stored, then the transaction failed: the file is removed again.
        def fail(*_args, **_kwargs):
            raise RuntimeError("the database went away")
        monkeypatch.setattr(submitting.audit, "record", fail)
        with pytest.raises(RuntimeError):
            submitting.submit_work(p.people["learner_a"], p.assignment.id, body="x",
                                   upload=Upload("plan.pdf", PDF), now=NOW)
    assert _stored_files(app) == before
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 0


def test_a_resubmission_keeps_or_removes_the_attachment_and_versions_keep_theirs(app, db, p):
    learner = p.people["learner_a"]
    with app.app_context():
        work_id = submitting.submit_work(learner, p.assignment.id, body="v1",
                                         upload=Upload("plan.pdf", PDF), now=NOW).id
        kept = submitting.submit_work(learner, p.assignment.id, body="v2", now=NOW)
        assert kept.attachment_name == "plan.pdf"
        dropped = submitting.submit_work(learner, p.assignment.id, body="v3",
                                         keep_attachment=False, now=NOW)
        assert dropped.attachment_key is None
        with pytest.raises(Invalid):  # no text and no file left
            submitting.submit_work(learner, p.assignment.id, body="", keep_attachment=False,
                                   now=NOW)
    with db() as session:
        versions = session.scalars(select(SubmissionVersion).where(
            SubmissionVersion.submission_id == work_id).order_by(SubmissionVersion.version))
        assert [(v.version, v.attachment_name) for v in versions] == [
            (1, "plan.pdf"), (2, "plan.pdf")]


def test_only_learners_of_the_cohort_submit_and_only_once_the_module_is_released(app, p):
    with app.app_context():
        for role in ("facilitator_a", "owner_a"):
            with pytest.raises(NotAllowed) as refused:
                submitting.submit_work(p.people[role], p.assignment.id, body="x", now=NOW)
            assert refused.value.code == "learners_only"
        for role in ("learner_b", "facilitator_b", "owner_b", "admin", "outsider"):
            with pytest.raises(NotFound):
                submitting.submit_work(p.people[role], p.assignment.id, body="x", now=NOW)
        with pytest.raises(NotFound):
            submitting.submit_work(p.people["learner_a"], p.future.id, body="x", now=NOW)
        with pytest.raises(NotFound):
            submitting.submit_work(p.people["learner_a"], 2**31 - 1, body="x", now=NOW)


def test_the_work_is_read_by_its_author_and_the_staff_only(app, p):
    with app.app_context():
        work = submitting.submit_work(p.people["learner_a"], p.assignment.id, body="x",
                                      now=NOW)
        for role in ("learner_a", "facilitator_a", "owner_a"):
            assert submitting.get_submission_for(p.people[role], work.id, now=NOW)[0].id == \
                work.id
        for role in ("peer_1", "learner_b", "facilitator_b", "admin", "outsider"):
            with pytest.raises(NotFound):
                submitting.get_submission_for(p.people[role], work.id, now=NOW)

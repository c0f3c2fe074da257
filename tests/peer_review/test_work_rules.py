"""Rules the work API relies on, through the services: the attachment's name a reviewer
meets, the draft kept when a submit is incomplete, and a cohort's review status."""

from datetime import timedelta

import pytest

from app.errors import Invalid, NotAllowed, NotFound
from app.peer_review import board, reviewing, submitting
from app.peer_review.submitting import Upload
from app.peer_review.work_models import Review
from tests.peer_review.world import NOW, practice

PDF = b"%PDF-1.4\n% essay\n"


@pytest.fixture
def p(db):
    with db() as session:
        return practice(session)


def _submit(p, role, *, filename=None, now=NOW):
    upload = Upload(filename, PDF) if filename else None
    return submitting.submit_work(p.people[role], p.assignment.id, body="My work",
                                  upload=upload, now=now)


def _attachment_names(db, p, double_blind: bool) -> dict[str, str]:
    with db() as session:
        session.get(type(p.assignment), p.assignment.id).double_blind = double_blind
    with db():
        submission = _submit(p, "peer_1", filename="Essay - Jane Doe.pdf")
        _submit(p, "peer_2")
        reviewing.request_review(p.people["peer_2"], p.assignment.id, now=NOW)
        return {role: submitting.get_attachment_for(p.people[role], submission.id,
                                                    now=NOW)[1]
                for role in ("peer_1", "peer_2", "facilitator_a", "owner_a")}, submission.id


def test_under_double_blind_a_reviewer_gets_a_neutral_file_name(db, p):
    names, submission_id = _attachment_names(db, p, double_blind=True)
    assert names == {"peer_1": "Essay - Jane Doe.pdf", "peer_2": f"submission-{submission_id}.pdf",
                     "facilitator_a": "Essay - Jane Doe.pdf", "owner_a": "Essay - Jane Doe.pdf"}


def test_without_double_blind_the_reviewer_sees_the_file_name(db, p):
    names, _ = _attachment_names(db, p, double_blind=False)
    assert set(names.values()) == {"Essay - Jane Doe.pdf"}


def test_nobody_else_gets_the_file_and_a_lost_file_is_not_found(db, p):
    with db():
        submission = _submit(p, "peer_1", filename="essay.pdf")
        for role in ("peer_3", "learner_b", "facilitator_b", "admin", "outsider"):
            with pytest.raises(NotFound):
                submitting.get_attachment_for(p.people[role], submission.id, now=NOW)
        path, _, media_type = submitting.get_attachment_for(p.people["peer_1"], submission.id,
                                                            now=NOW)
        assert media_type == "application/pdf"
        path.unlink()
        with pytest.raises(NotFound):
            submitting.get_attachment_for(p.people["peer_1"], submission.id, now=NOW)


def test_an_incomplete_submit_is_refused_and_keeps_the_draft(db, p):
    with db():
        _submit(p, "peer_1")
        _submit(p, "peer_2")
        review = reviewing.request_review(p.people["peer_2"], p.assignment.id, now=NOW)
        review_id = review.id
        with pytest.raises(Invalid) as refused:
            reviewing.save_review(p.people["peer_2"], review_id, submit=True,
                                  scores={p.clarity_id: 2}, comment="Half of it", now=NOW)
        assert set(refused.value.fields) == {f"scores.{p.kindness_id}"}
        assert "draft is kept" in refused.value.message
    with db() as session:
        kept = session.get(Review, review_id)
        assert (kept.status, kept.comment, kept.saved_at is not None) == (
            "active", "Half of it", True)
        assert [(s.criterion_id, s.level_id is not None) for s in kept.scores] == [
            (p.clarity_id, True)]


def _complete(p, role, review_id):
    reviewing.save_review(p.people[role], review_id, scores=p.scores(),
                          comment="Clear and kind.", submit=True, now=NOW)


def test_the_review_status_lists_work_short_of_reviews_for_staff_only(db, p):
    with db():
        first = _submit(p, "peer_1")
        second = _submit(p, "peer_2", now=NOW + timedelta(hours=1))
        third = _submit(p, "peer_3", now=NOW + timedelta(hours=2))
        _complete(p, "peer_2", reviewing.request_review(p.people["peer_2"], p.assignment.id,
                                                        now=NOW).id)
        _complete(p, "peer_4", reviewing.assign_review(
            p.people["facilitator_a"], first.id, reviewer_id=p.people["peer_4"].id,
            now=NOW).id)
        in_progress = reviewing.request_review(p.people["peer_1"], p.assignment.id, now=NOW)
        assert in_progress.submission_id == second.id
        statuses = board.get_review_status(p.people["facilitator_a"], p.world.cohort_a.id,
                                           now=NOW)
        assert [s.assignment_id for s in statuses] == [p.assignment.id, p.future.id]
        rows = {row.id: row for row in statuses[0].short}
        assert set(rows) == {second.id, third.id}  # the first has its two reviews
        assert (rows[second.id].completed, rows[second.id].in_progress,
                rows[second.id].short) == (0, 1, True)
        assert (rows[third.id].completed, rows[third.id].in_progress) == (0, 0)
        assert rows[second.id].author == p.people["peer_2"].name
        assert [row.id for row in statuses[0].short] == [second.id, third.id]
        assert statuses[1].short == []
        assert board.get_review_status(p.people["owner_a"], p.world.cohort_a.id, now=NOW)
        with pytest.raises(NotAllowed):
            board.get_review_status(p.people["peer_1"], p.world.cohort_a.id, now=NOW)
        for role in ("facilitator_b", "owner_b", "admin", "outsider"):
            with pytest.raises(NotFound):
                board.get_review_status(p.people[role], p.world.cohort_a.id, now=NOW)

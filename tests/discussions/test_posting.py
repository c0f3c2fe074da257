"""Posting rules through the services: post first, stages and gates, anonymity,
edits with versions, soft delete, reactions and drafts."""

import pytest

from app.discussions import posting
from app.discussions.posts import list_posts
from app.discussions.threads import get_thread_for
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from tests.discussions.world import CLOSED_AT, IN_RESPOND, IN_SYNTHESIZE, NOW, discussion


def _view(user, thread, now=NOW):
    return get_thread_for(user, thread.id, now=now)


def test_a_learner_sees_no_posts_until_they_have_posted(app, d):
    with app.app_context():
        author, reader = d.people["peer_1"], d.people["peer_2"]
        posting.create_post(author, d.thread.id, body="My reflection", now=NOW)
        access = _view(reader, d.thread)
        assert not access.can_see_posts and list_posts(access) == []
        assert access.what_now() == "Post your reflection to see your peers'."
        assert access.peers_posted == "A few peers have posted"
        posting.create_post(reader, d.thread.id, body="Mine too", now=NOW)
        bodies = [p.body_html.strip() for p in list_posts(_view(reader, d.thread))]
        assert bodies == ["<p>My reflection</p>", "<p>Mine too</p>"]


def test_staff_always_see_posts(app, d):
    with app.app_context():
        posting.create_post(d.people["peer_1"], d.thread.id, body="Hello", now=NOW)
        for role in ("facilitator_a", "owner_a"):
            assert len(list_posts(_view(d.people[role], d.thread))) == 1


def test_the_counter_says_a_few_below_five_posters_then_the_number(app, d):
    with app.app_context():
        for n in range(1, 5):
            posting.create_post(d.people[f"peer_{n}"], d.thread.id, body="x", now=NOW)
        assert _view(d.people["learner_a"], d.thread).peers_posted == "A few peers have posted"
        posting.create_post(d.people["peer_5"], d.thread.id, body="x", now=NOW)
        assert _view(d.people["learner_a"], d.thread).peers_posted == "5 peers have posted"


def test_outsiders_and_other_cohorts_get_404_and_future_threads_are_hidden(app, d):
    with app.app_context():
        for role in ("learner_b", "facilitator_b", "owner_b", "outsider", "admin"):
            with pytest.raises(NotFound):
                _view(d.people[role], d.thread)
        with pytest.raises(NotFound):
            _view(d.people["learner_a"], d.future_thread)
        assert not _view(d.people["facilitator_a"], d.future_thread).can_post_reflection


def test_replies_open_at_the_respond_stage_and_count_towards_synthesis(app, d):
    with app.app_context():
        a, b = d.people["peer_1"], d.people["peer_2"]
        first = posting.create_post(a, d.thread.id, body="A", now=NOW)
        posting.create_post(b, d.thread.id, body="B", now=NOW)
        with pytest.raises(NotAllowed):
            posting.create_post(b, d.thread.id, body="reply", parent_id=first.id, now=NOW)
        assert _view(b, d.thread, IN_RESPOND).stage_name == "respond"
        posting.create_post(b, d.thread.id, body="reply", parent_id=first.id, now=IN_RESPOND)
        access = _view(b, d.thread, IN_SYNTHESIZE)
        assert access.replies_given == 1 and access.replies_needed == 1
        assert not access.can_synthesize
        assert "Reply to 1 more peer" in access.what_now()
        with pytest.raises(NotAllowed):
            posting.create_post(b, d.thread.id, body="take-away", now=IN_SYNTHESIZE)
        third = posting.create_post(d.people["peer_3"], d.thread.id, body="C", now=IN_RESPOND)
        posting.create_post(b, d.thread.id, body="r2", parent_id=third.id, now=IN_RESPOND)
        take_away = posting.create_post(b, d.thread.id, body="take-away", now=IN_SYNTHESIZE)
        assert take_away.kind == "synthesis"


def test_a_reply_to_a_reply_joins_its_conversation(app, d):
    with app.app_context():
        a, b = d.people["peer_1"], d.people["peer_2"]
        top = posting.create_post(a, d.thread.id, body="A", now=NOW)
        posting.create_post(b, d.thread.id, body="B", now=NOW)
        reply = posting.create_post(b, d.thread.id, body="r", parent_id=top.id, now=IN_RESPOND)
        again = posting.create_post(a, d.thread.id, body="r2", parent_id=reply.id,
                                    now=IN_RESPOND)
        assert again.parent_id == top.id


def test_a_closed_thread_is_read_only(app, d):
    with app.app_context():
        posting.create_post(d.people["peer_1"], d.thread.id, body="A", now=NOW)
        with pytest.raises(NotAllowed) as error:
            posting.create_post(d.people["peer_2"], d.thread.id, body="late", now=CLOSED_AT)
        assert "closed" in error.value.message
        # Someone who never posted is told plainly that the posts stay with those who did.
        assert "closed before you posted" in error.value.message
        assert list_posts(_view(d.people["peer_2"], d.thread, CLOSED_AT)) == []
        assert _view(d.people["peer_1"], d.thread, CLOSED_AT).what_now() == (
            "This discussion has closed; it stays here to read.")


def test_bodies_are_checked_and_cleaned(app, d):
    with app.app_context():
        with pytest.raises(Invalid):
            posting.create_post(d.people["peer_1"], d.thread.id, body="   ", now=NOW)
        with pytest.raises(Invalid) as error:
            posting.create_post(d.people["peer_1"], d.thread.id, body="x" * 20_001, now=NOW)
        assert "20,000" in error.value.fields["body"]
        view = posting.create_post(d.people["peer_1"], d.thread.id,
                                   body="<script>alert(1)</script> **hi**", now=NOW)
        assert "<script" not in view.body_html and "<strong>hi</strong>" in view.body_html


def test_anonymous_posts_carry_a_pseudonym_stable_in_the_thread(app, d):
    with app.app_context():
        a, b = d.people["peer_1"], d.people["peer_2"]
        first = posting.create_post(a, d.thread.id, body="A", anonymous=True, now=NOW)
        assert first.author.is_you and first.author.pseudonym.startswith("Anonymous ")
        posting.create_post(b, d.thread.id, body="B", now=NOW)
        reply = posting.create_post(a, d.thread.id, body="r", anonymous=True,
                                    parent_id=first.id, now=IN_RESPOND)
        assert reply.author.pseudonym == first.author.pseudonym
        seen = {p.id: p.author for p in list_posts(_view(b, d.thread, IN_RESPOND))}
        assert seen[first.id].label == first.author.pseudonym
        assert seen[first.id].user_id is None and seen[first.id].name is None


def test_anonymity_needs_the_cohort_policy_and_the_prompt(app, db):
    with db() as session:
        off = discussion(session, anonymity="off")
    with app.app_context(), pytest.raises(Invalid):
        posting.create_post(off.people["peer_1"], off.thread.id, body="x", anonymous=True,
                            now=NOW)
    with db() as session:
        not_here = discussion(session, anonymity_allowed=False)
    with app.app_context(), pytest.raises(Invalid):
        posting.create_post(not_here.people["peer_1"], not_here.thread.id, body="x",
                            anonymous=True, now=NOW)


def test_a_stale_edit_is_refused_with_both_texts(app, d):
    with app.app_context():
        a = d.people["peer_1"]
        post = posting.create_post(a, d.thread.id, body="v1", now=NOW)
        edited = posting.edit_post(a, post.id, body="v2", version=1, now=NOW)
        assert edited.version == 2 and edited.edited
        with pytest.raises(Conflict) as error:
            posting.edit_post(a, post.id, body="my other tab", version=1, now=NOW)
        assert error.value.details == {"current_version": 2, "current_body": "v2",
                                       "your_body": "my other tab"}
        with pytest.raises(NotAllowed):
            posting.edit_post(d.people["facilitator_a"], post.id, body="x", version=2, now=NOW)


def test_deleting_keeps_replies_and_takes_back_the_reply_count(app, d):
    with app.app_context():
        a, b = d.people["peer_1"], d.people["peer_2"]
        top = posting.create_post(a, d.thread.id, body="A", now=NOW)
        posting.create_post(b, d.thread.id, body="B", now=NOW)
        reply = posting.create_post(b, d.thread.id, body="r", parent_id=top.id, now=IN_RESPOND)
        assert _view(b, d.thread, IN_RESPOND).replies_given == 1
        posting.delete_post(b, reply.id, now=IN_RESPOND)
        assert _view(b, d.thread, IN_RESPOND).replies_given == 0
        with pytest.raises(NotAllowed):
            posting.delete_post(b, top.id, now=IN_RESPOND)
        posting.delete_post(d.people["facilitator_a"], top.id, now=IN_RESPOND)
        shown = list_posts(_view(b, d.thread, IN_RESPOND))
        assert [p.id for p in shown if p.state == "deleted"] == [top.id]
        assert shown[0].body_html is None and shown[0].author.label == "Deleted"


def test_reactions_are_counts(app, d):
    with app.app_context():
        a, b = d.people["peer_1"], d.people["peer_2"]
        post = posting.create_post(a, d.thread.id, body="A", anonymous=True, now=NOW)
        with pytest.raises(NotFound):  # b has not posted: the post is not there for them
            posting.react(b, post.id, "insightful", on=True, now=NOW)
        posting.create_post(b, d.thread.id, body="B", now=NOW)
        assert posting.react(b, post.id, "insightful", on=True, now=NOW)["insightful"] == 1
        assert posting.react(b, post.id, "insightful", on=True, now=NOW)["insightful"] == 1
        assert posting.react(b, post.id, "insightful", on=False, now=NOW)["insightful"] == 0
        with pytest.raises(Invalid):
            posting.react(b, post.id, "angry", on=True, now=NOW)


def test_drafts_are_kept_per_person_and_dropped_once_posted(app, d):
    with app.app_context():
        a = d.people["peer_1"]
        posting.save_draft(a, d.thread.id, body="half a thought", now=NOW)
        assert posting.get_draft(a, d.thread.id) == "half a thought"
        assert posting.get_draft(d.people["peer_2"], d.thread.id) == ""
        posting.create_post(a, d.thread.id, body="the whole thought", now=NOW)
        assert posting.get_draft(a, d.thread.id) == ""


def test_a_reply_notice_names_the_replier_as_the_recipient_may_see_them_now(app, db, d):
    from sqlalchemy import delete, func, select

    from app.cohorts.models import Membership
    from app.db import get_session
    from app.notifications.models import Notification

    a, b = d.people["peer_1"], d.people["peer_2"]
    with app.app_context():
        top = posting.create_post(a, d.thread.id, body="A", now=NOW)
        posting.create_post(b, d.thread.id, body="B", anonymous=True, now=NOW)
        posting.create_post(b, d.thread.id, body="r", anonymous=True, parent_id=top.id,
                            now=IN_RESPOND)
        titles = list(get_session().scalars(select(Notification.title).where(
            Notification.user_id == a.id, Notification.kind == "post_reply")))
        assert len(titles) == 1 and titles[0].startswith("Anonymous ")
        assert b.name not in titles[0]
    with db() as session:  # the author of the reflection leaves the cohort
        session.execute(delete(Membership).where(Membership.user_id == a.id))
    with app.app_context():
        posting.create_post(d.people["facilitator_a"], d.thread.id, body="r2",
                            parent_id=top.id, now=IN_RESPOND)
        assert get_session().scalar(select(func.count(Notification.id)).where(
            Notification.user_id == a.id, Notification.kind == "post_reply")) == 1

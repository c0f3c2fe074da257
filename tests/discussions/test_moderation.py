"""Moderation through the services: flags and the threshold, the queue, facilitators'
actions on posts and threads, mutes, and the stage announcements."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit import AuditEntry
from app.discussions import moderation, posting, stages
from app.discussions.models import Flag, Post
from app.discussions.posts import list_posts
from app.discussions.threads import get_thread_for
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.notifications.models import Notification
from tests.discussions.world import IN_RESPOND, NOW

OTHERS = ("learner_b", "facilitator_b", "owner_b", "outsider", "admin")


def _posted(d, *names, anonymous=False, now=NOW):
    """Each named person posts a reflection; the first one's post."""
    views = [posting.create_post(d.people[name], d.thread.id, body=f"From {name}",
                                 anonymous=anonymous, now=now) for name in names]
    return views[0]


def _notices(db, user, kind=None):
    with db() as session:
        query = select(Notification).where(Notification.user_id == user.id)
        if kind:
            query = query.where(Notification.kind == kind)
        return list(session.scalars(query.order_by(Notification.id)))


def _audit(db, action=None):
    with db() as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(session.scalars(query))


def test_flags_hide_at_the_threshold_wait_in_the_queue_and_a_restore_reaches_the_author(
        app, db, d, events):
    with app.app_context():
        post = _posted(d, "peer_1", "peer_2", "peer_3", "peer_4")
        for name in ("peer_2", "peer_3"):
            result = moderation.flag_post(d.people[name], post.id, f"{name} finds it unkind",
                                          now=NOW)
            assert not result.hidden
        _, queue = moderation.list_flag_queue(d.people["facilitator_a"], d.world.cohort_a.id)
        assert [(item.post.id, item.flag_count) for item in queue] == [(post.id, 2)]
        assert queue[0].reasons == ["peer_2 finds it unkind", "peer_3 finds it unkind"]
        assert queue[0].post.state == "shown" and queue[0].thread_title == d.thread.title
        assert moderation.flag_post(d.people["peer_4"], post.id, "Not OK", now=NOW).hidden
    assert ("post_hidden", f"thread:{d.thread.id}:readers") in {
        (event, room) for event, _, room in events}
    with db() as session:
        stored = session.get(Post, post.id)
        assert stored.hidden_at == NOW and stored.hidden_by_id is None
        assert stored.hidden_reason == moderation.FLAG_HIDDEN_REASON and stored.flag_count == 3
    for name in ("facilitator_a", "owner_a"):
        [notice] = _notices(db, d.people[name], "flags_waiting")
        assert d.thread.title in notice.title and notice.link.endswith("/flags")
    for name in ("peer_1", "peer_2", "learner_a", "facilitator_b"):
        assert _notices(db, d.people[name], "flags_waiting") == []
    [hidden] = _audit(db, "post.hidden_by_flags")
    assert hidden.actor_id is None and hidden.target_id == post.id
    with app.app_context():
        peer_view = list_posts(get_thread_for(d.people["peer_2"], d.thread.id, now=NOW))
        assert peer_view[0].body_html is None and peer_view[0].state == "hidden"
        restored = moderation.moderate_post(d.people["facilitator_a"], post.id, "restore",
                                            "Read in context it is fair criticism.", now=NOW)
        assert restored.state == "shown"
        assert moderation.list_flag_queue(d.people["facilitator_a"],
                                          d.world.cohort_a.id)[1] == []
    [notice] = _notices(db, d.people["peer_1"], "post_moderated")
    assert notice.title == (f"A facilitator restored your post in “{d.thread.title}” "
                            f"({d.world.cohort_a.name}): "
                            "Read in context it is fair criticism.")
    with db() as session:
        assert {flag.resolution for flag in session.scalars(select(Flag))} == {"restored"}
        assert session.get(Post, post.id).flag_count == 0
    [entry] = _audit(db, "post.restored")
    assert entry.actor_id == d.people["facilitator_a"].id
    assert entry.details == {"reason": "Read in context it is fair criticism.", "flags": 3}


def test_one_flag_per_member_never_ones_own_and_only_what_one_can_see(app, d):
    with app.app_context():
        post = _posted(d, "peer_1", "peer_2")
        moderation.flag_post(d.people["peer_2"], post.id, "Hurtful", now=NOW)
        with pytest.raises(Conflict) as again:
            moderation.flag_post(d.people["peer_2"], post.id, "Still hurtful", now=NOW)
        assert again.value.code == "already_flagged"
        with pytest.raises(NotAllowed) as own:
            moderation.flag_post(d.people["peer_1"], post.id, "Mine", now=NOW)
        assert own.value.code == "own_post"
        with pytest.raises(NotFound):  # learner_a has not posted: post first
            moderation.flag_post(d.people["learner_a"], post.id, "Hurtful", now=NOW)
        for name in OTHERS:
            with pytest.raises(NotFound):
                moderation.flag_post(d.people[name], post.id, "Hurtful", now=NOW)
        with pytest.raises(Invalid) as empty:
            moderation.flag_post(d.people["peer_2"], post.id, "   ", now=NOW)
        assert "reason" in empty.value.fields
        with pytest.raises(Invalid):
            moderation.flag_post(d.people["peer_2"], post.id, "x" * 501, now=NOW)
        with pytest.raises(NotAllowed) as staff:
            moderation.flag_post(d.people["facilitator_a"], post.id, "Hmm", now=NOW)
        assert staff.value.code == "staff_moderate_directly"
        with pytest.raises(NotFound):
            moderation.flag_post(d.people["peer_2"], 987654, "Hurtful", now=NOW)


def test_a_facilitator_hides_with_a_reason_the_author_reads(app, db, d, events):
    with app.app_context():
        post = _posted(d, "peer_1", "peer_2", "peer_3")
        moderation.flag_post(d.people["peer_2"], post.id, "Names a colleague", now=NOW)
        with pytest.raises(Invalid):
            moderation.moderate_post(d.people["facilitator_a"], post.id, "hide", "", now=NOW)
        view = moderation.moderate_post(d.people["facilitator_a"], post.id, "hide",
                                        "It names a colleague.", now=NOW)
        assert view.state == "hidden" and view.hidden_reason == "It names a colleague."
        with pytest.raises(Conflict) as twice:
            moderation.moderate_post(d.people["owner_a"], post.id, "hide", "Again", now=NOW)
        assert twice.value.code == "already_hidden"
        mine = list_posts(get_thread_for(d.people["peer_1"], d.thread.id, now=NOW))
        assert [p.hidden_reason for p in mine if p.id == post.id] == ["It names a colleague."]
        with pytest.raises(Conflict):  # a hidden post takes no new flags
            moderation.flag_post(d.people["peer_3"], post.id, "Also", now=NOW)
    [notice] = _notices(db, d.people["peer_1"], "post_moderated")
    assert notice.title == (f"A facilitator hid your post in “{d.thread.title}” "
                            f"({d.world.cohort_a.name}): "
                            "It names a colleague.")
    assert notice.link == f"/threads/{d.thread.id}#post-{post.id}"
    with db() as session:
        assert [f.resolution for f in session.scalars(select(Flag))] == ["hidden"]
    [entry] = _audit(db, "post.hidden")
    assert entry.actor_id == d.people["facilitator_a"].id and entry.details["flags"] == 1
    assert [event for event, _, room in events if room.endswith(":readers")][-1] == "post_hidden"


def test_pin_and_highlight_are_audited_and_only_staff_moderate(app, db, d):
    with app.app_context():
        post = _posted(d, "peer_1", "peer_2")
        staff = d.people["owner_a"]
        assert moderation.moderate_post(staff, post.id, "pin", now=NOW).pinned
        assert moderation.moderate_post(staff, post.id, "pin", now=NOW).pinned  # no change
        assert moderation.moderate_post(staff, post.id, "highlight", "Great", now=NOW).highlighted
        assert not moderation.moderate_post(staff, post.id, "unpin", now=NOW).pinned
        assert not moderation.moderate_post(staff, post.id, "unhighlight", now=NOW).highlighted
        with pytest.raises(Conflict) as not_hidden:
            moderation.moderate_post(staff, post.id, "restore", "Why not", now=NOW)
        assert not_hidden.value.code == "not_hidden"
        with pytest.raises(Invalid):
            moderation.moderate_post(staff, post.id, "burn", now=NOW)
        for name in ("peer_1", "peer_2", "learner_a"):
            with pytest.raises(NotAllowed):
                moderation.moderate_post(d.people[name], post.id, "pin", now=NOW)
        for name in OTHERS:
            with pytest.raises(NotFound):
                moderation.moderate_post(d.people[name], post.id, "pin", now=NOW)
        reply = posting.create_post(d.people["peer_2"], d.thread.id, body="r",
                                    parent_id=post.id, now=IN_RESPOND)
        with pytest.raises(Conflict):
            moderation.moderate_post(staff, reply.id, "pin", now=IN_RESPOND)
    assert [(e.action, e.actor_id) for e in _audit(db) if e.action.startswith("post.")] == [
        ("post.pinned", staff.id), ("post.highlighted", staff.id),
        ("post.unpinned", staff.id), ("post.unhighlighted", staff.id)]


def test_restoring_a_post_still_shown_dismisses_its_flags_without_a_notice(app, db, d):
    with app.app_context():
        post = _posted(d, "peer_1", "peer_2")
        moderation.flag_post(d.people["peer_2"], post.id, "Meh", now=NOW)
        moderation.moderate_post(d.people["facilitator_a"], post.id, "restore",
                                 "Nothing wrong here.", now=NOW)
    with db() as session:
        assert [f.resolution for f in session.scalars(select(Flag))] == ["dismissed"]
    assert _notices(db, d.people["peer_1"], "post_moderated") == []
    assert [e.action for e in _audit(db) if e.action.startswith("post.")] == [
        "post.flags_dismissed"]


def test_a_mute_stops_posting_and_reacting_until_its_end(app, db, d):
    facilitator, muted = d.people["facilitator_a"], d.people["peer_2"]
    cohort_id = d.world.cohort_a.id
    with app.app_context():
        post = _posted(d, "peer_1")
        until = NOW + timedelta(hours=6)
        moderation.mute_member(facilitator, cohort_id, muted.id, until=until,
                               reason="Cooling off after a heated exchange", now=NOW)
        access = get_thread_for(muted, d.thread.id, now=NOW)
        assert access.is_muted and not access.can_post_reflection
        with pytest.raises(NotAllowed):
            posting.create_post(muted, d.thread.id, body="Let me speak", now=NOW)
        later = NOW + timedelta(hours=7)
        posting.create_post(muted, d.thread.id, body="Back again", now=later)
        moderation.mute_member(facilitator, cohort_id, muted.id, until=later + timedelta(1),
                               reason="Again", now=later)
        with pytest.raises(NotAllowed):
            posting.react(muted, post.id, "thanks", on=True, now=later)
        assert [person.id for _, person in
                moderation.list_mutes(facilitator, cohort_id, now=later)] == [muted.id]
        with pytest.raises(NotAllowed):
            moderation.list_mutes(d.people["peer_1"], cohort_id, now=later)
        moderation.unmute_member(facilitator, cohort_id, muted.id, now=later)
        assert posting.react(muted, post.id, "thanks", on=True, now=later)["thanks"] == 1
        with pytest.raises(Conflict):
            moderation.unmute_member(facilitator, cohort_id, muted.id, now=later)
    assert [(e.action, e.actor_id, e.target_id) for e in _audit(db)
            if e.action.startswith("member.")] == [
        ("member.muted", facilitator.id, muted.id), ("member.muted", facilitator.id, muted.id),
        ("member.unmuted", facilitator.id, muted.id)]
    # The learner is told each time, with the reason, and named the cohort.
    with db() as session:
        told = list(session.scalars(select(Notification.title).where(
            Notification.user_id == muted.id, Notification.kind == "member_muted")
            .order_by(Notification.id)))
        body = session.scalar(select(Notification.body).where(
            Notification.user_id == muted.id, Notification.kind == "member_muted"))
    cohort_name = d.world.cohort_a.name
    assert len(told) == 3 and all(cohort_name in title for title in told)
    assert "Cooling off after a heated exchange" in body


def test_mutes_are_checked(app, d):
    facilitator, cohort_id = d.people["facilitator_a"], d.world.cohort_a.id
    learner = d.people["peer_2"]
    with app.app_context():
        def mute(user=facilitator, member=learner, until=NOW + timedelta(days=1),
                 reason="A reason"):
            return moderation.mute_member(user, cohort_id, member.id, until=until,
                                          reason=reason, now=NOW)
        for until in (NOW, NOW - timedelta(days=1), NOW + timedelta(days=366),
                      NOW.replace(tzinfo=None) + timedelta(days=1)):
            with pytest.raises(Invalid) as error:
                mute(until=until)
            assert "until" in error.value.fields
        with pytest.raises(Invalid):
            mute(reason=" ")
        with pytest.raises(NotAllowed):
            mute(user=d.people["learner_a"])
        for name in OTHERS:
            with pytest.raises(NotFound):
                mute(user=d.people[name])
        with pytest.raises(NotFound):  # not a member of this cohort
            mute(member=d.people["learner_b"])
        with pytest.raises(Conflict):  # staff are not muted
            mute(member=d.people["facilitator_a"])
        assert mute(until=NOW + timedelta(days=365)).until == NOW + timedelta(days=365)


def test_a_locked_thread_stops_learners_not_staff(app, db, d):
    with app.app_context():
        staff = d.people["facilitator_a"]
        with pytest.raises(Invalid):
            moderation.moderate_thread(staff, d.thread.id, "lock", " ", now=NOW)
        access = moderation.moderate_thread(staff, d.thread.id, "lock", "Heated; pausing",
                                            now=NOW)
        assert access.is_locked and access.thread.locked_reason == "Heated; pausing"
        with pytest.raises(Conflict):
            moderation.moderate_thread(staff, d.thread.id, "lock", "again", now=NOW)
        with pytest.raises(NotAllowed):
            posting.create_post(d.people["peer_1"], d.thread.id, body="x", now=NOW)
        posting.create_post(staff, d.thread.id, body="A note from your facilitator", now=NOW)
        with pytest.raises(NotAllowed):
            moderation.moderate_thread(d.people["peer_1"], d.thread.id, "unlock", now=NOW)
        for name in OTHERS:
            with pytest.raises(NotFound):
                moderation.moderate_thread(d.people[name], d.thread.id, "unlock", now=NOW)
        moderation.moderate_thread(staff, d.thread.id, "unlock", now=NOW)
        posting.create_post(d.people["peer_1"], d.thread.id, body="x", now=NOW)
        with pytest.raises(Conflict):
            moderation.moderate_thread(staff, d.thread.id, "unlock", now=NOW)
    assert [(e.action, e.details) for e in _audit(db) if e.action.startswith("thread.")] == [
        ("thread.locked", {"reason": "Heated; pausing"}), ("thread.unlocked", {"reason": ""})]


def _members(d):
    return [d.people[name] for name in ("peer_1", "learner_a", "facilitator_a")]


def test_advancing_moves_the_stage_and_announces_it_once(app, db, d, events):
    with app.app_context():
        access = moderation.moderate_thread(d.people["owner_a"], d.thread.id, "advance_stage",
                                            now=NOW)
        assert access.stage_name == "respond"
        assert get_thread_for(d.people["peer_1"], d.thread.id, now=NOW).stage_name == "respond"
        assert stages.announce_due_stages(now=IN_RESPOND) == 0
    for person in _members(d):
        [notice] = _notices(db, person, "discussion_stage")
        assert notice.title == f"Replies are open in {d.world.cohort_a.name}: “{d.thread.title}”"
    assert _notices(db, d.people["owner_a"], "discussion_stage") == []  # not a member
    assert ("thread_stage_changed", {"thread_id": d.thread.id, "stage": "respond",
                                     "stage_label": "Respond"},
            f"thread:{d.thread.id}:waiting") in events
    [entry] = _audit(db, "thread.stage_advanced")
    assert entry.details == {"reason": "", "stage": "respond"}
    with app.app_context():
        for _ in range(2):
            moderation.moderate_thread(d.people["owner_a"], d.thread.id, "advance_stage",
                                       now=NOW)
        with pytest.raises(Conflict) as closed:
            moderation.moderate_thread(d.people["owner_a"], d.thread.id, "advance_stage",
                                       now=NOW)
        assert closed.value.code == "already_closed"
        with pytest.raises(Conflict):  # its module is not released yet
            moderation.moderate_thread(d.people["owner_a"], d.future_thread.id,
                                       "advance_stage", now=NOW)
    titles = [n.title for n in _notices(db, d.people["peer_1"], "discussion_stage")]
    name = d.world.cohort_a.name
    assert titles == [f"Replies are open in {name}: “{d.thread.title}”",
                      f"Synthesis is open in {name}: “{d.thread.title}”",
                      f"A discussion has closed in {name}: “{d.thread.title}”"]

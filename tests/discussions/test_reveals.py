"""Break-glass reveals, and the anonymity of "everyone" posts through moderation: the queue,
the staff's notices and the audit log name no author."""

import json

import pytest
from sqlalchemy import select

from app.audit import AuditEntry
from app.cohorts.models import Cohort
from app.discussions import moderation, posting, reveals
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.notifications.models import Notification
from tests.discussions.world import NOW, discussion

REASON = "A colleague's safety is at risk and HR must reach the author."


@pytest.fixture
def d(db):
    with db() as session:
        return discussion(session, anonymity="everyone")


@pytest.fixture
def post(app, d):
    """peer_1's anonymous reflection; peers 2 to 4 have posted theirs."""
    with app.app_context():
        first = posting.create_post(d.people["peer_1"], d.thread.id, body="Anonymous words",
                                    anonymous=True, now=NOW)
        for name in ("peer_2", "peer_3", "peer_4"):
            posting.create_post(d.people[name], d.thread.id, body=name, now=NOW)
        return first


def _notices(db, user, kind):
    with db() as session:
        return list(session.scalars(select(Notification).where(
            Notification.user_id == user.id, Notification.kind == kind)))


def test_a_second_person_approves_and_only_the_requester_sees_the_name(app, db, d, post):
    owner, admin, author = d.people["owner_a"], d.people["admin"], d.people["peer_1"]
    with app.app_context():
        with pytest.raises(Invalid):
            reveals.request_reveal(owner, post.id, "Because.", now=NOW)
        asked = reveals.request_reveal(owner, post.id, REASON, now=NOW)
        assert asked.status == "pending" and asked.author_name is None
        with pytest.raises(Conflict) as pending:
            reveals.request_reveal(admin, post.id, REASON, now=NOW)
        assert pending.value.code == "reveal_pending"
        with pytest.raises(NotAllowed) as same:
            reveals.approve_reveal(owner, asked.id, now=NOW)
        assert same.value.code == "second_person_required"
        approved = reveals.approve_reveal(admin, asked.id, now=NOW)
        assert approved.status == "approved" and approved.author_name is None
        assert reveals.get_reveal(owner, asked.id).author_name == author.display_name
        assert reveals.get_reveal(admin, asked.id).author_name is None
        with pytest.raises(Conflict):
            reveals.decline_reveal(admin, asked.id, now=NOW)
    [request_notice] = _notices(db, admin, "reveal_requested")
    assert request_notice.link == f"/reveals/{asked.id}"
    assert author.display_name not in request_notice.title + request_notice.body
    [told] = _notices(db, author, "identity_revealed")
    assert owner.display_name in told.title
    assert REASON in told.body and admin.display_name in told.body
    [decided] = _notices(db, owner, "reveal_decided")
    assert "approved" in decided.title
    with db() as session:
        [entry] = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "identity.revealed")).all()
    assert entry.actor_id == admin.id and entry.target_id == post.id
    assert entry.details == {"reveal_id": asked.id, "requested_by_id": owner.id,
                             "decided_by_id": admin.id, "reason": REASON}
    for person in (d.people["facilitator_a"], d.people["peer_2"], admin):
        for kind in ("identity_revealed", "reveal_decided", "reveal_requested",
                     "flags_waiting"):
            for notice in _notices(db, person, kind):
                assert author.display_name not in notice.title + notice.body


def test_only_owners_and_admins_take_part_and_outsiders_find_nothing(app, d, post):
    with app.app_context():
        for name in ("facilitator_a", "learner_a", "peer_2"):
            with pytest.raises(NotAllowed):
                reveals.request_reveal(d.people[name], post.id, REASON, now=NOW)
        for name in ("owner_b", "facilitator_b", "learner_b", "outsider"):
            with pytest.raises(NotFound):
                reveals.request_reveal(d.people[name], post.id, REASON, now=NOW)
        asked = reveals.request_reveal(d.people["admin"], post.id, REASON, now=NOW)
        for name in ("owner_b", "outsider"):
            with pytest.raises(NotFound):
                reveals.approve_reveal(d.people[name], asked.id, now=NOW)
            with pytest.raises(NotFound):
                reveals.get_reveal(d.people[name], asked.id)
        with pytest.raises(NotAllowed):
            reveals.decline_reveal(d.people["facilitator_a"], asked.id, now=NOW)
        declined = reveals.decline_reveal(d.people["owner_a"], asked.id, now=NOW)
        assert declined.status == "declined"
        assert reveals.get_reveal(d.people["admin"], asked.id).author_name is None
        with pytest.raises(NotFound):
            reveals.get_reveal(d.people["admin"], 987654)


def test_reveals_exist_only_under_everyone(app, db):
    with db() as session:
        peers = discussion(session, anonymity="peers")
    with app.app_context():
        anonymous = posting.create_post(peers.people["peer_1"], peers.thread.id, body="x",
                                        anonymous=True, now=NOW)
        named = posting.create_post(peers.people["peer_2"], peers.thread.id, body="y", now=NOW)
        with pytest.raises(Conflict) as not_needed:
            reveals.request_reveal(peers.people["owner_a"], anonymous.id, REASON, now=NOW)
        assert not_needed.value.code == "reveal_not_needed"
        with pytest.raises(Conflict) as not_anonymous:
            reveals.request_reveal(peers.people["owner_a"], named.id, REASON, now=NOW)
        assert not_anonymous.value.code == "not_anonymous"


def test_a_post_written_under_peers_is_revealable_once_the_policy_is_everyone(app, db):
    with db() as session:
        peers = discussion(session, anonymity="peers")
    with app.app_context():
        anonymous = posting.create_post(peers.people["peer_1"], peers.thread.id, body="x",
                                        anonymous=True, now=NOW)
    with db() as session:
        session.get(Cohort, peers.world.cohort_a.id).anonymity = "everyone"
    with app.app_context():
        asked = reveals.request_reveal(peers.people["owner_a"], anonymous.id, REASON, now=NOW)
        assert asked.pseudonym == anonymous.author.pseudonym


def test_under_everyone_the_staff_see_no_name_in_the_queue_notices_or_audit(app, db, d, post):
    author = d.people["peer_1"]
    with app.app_context():
        for name in ("peer_2", "peer_3", "peer_4"):
            moderation.flag_post(d.people[name], post.id, "Hurtful words", now=NOW)
        for name in ("facilitator_a", "owner_a"):
            _, queue = moderation.list_flag_queue(d.people[name], d.world.cohort_a.id)
            shown = queue[0].post.author
            assert shown.name is None and shown.user_id is None
            assert shown.label == post.author.pseudonym
            assert author.display_name not in repr(queue)
        moderation.moderate_post(d.people["facilitator_a"], post.id, "hide", "Hurtful",
                                 now=NOW)
        moderation.moderate_post(d.people["facilitator_a"], post.id, "restore",
                                 "Fine after all", now=NOW)
    for name in ("facilitator_a", "owner_a"):
        [notice] = _notices(db, d.people[name], "flags_waiting")
        assert post.author.pseudonym in notice.body
        assert author.display_name not in notice.title + notice.body
    with db() as session:
        entries = session.scalars(select(AuditEntry)).all()
    assert entries
    for entry in entries:
        assert entry.actor_id != author.id
        text = json.dumps(entry.details)
        assert author.display_name not in text and author.email not in text
        assert author.id not in [value for key, value in entry.details.items()
                                 if key.endswith("_id")]

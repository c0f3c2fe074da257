"""The audit log is append-only, enforced by the database itself, on both backends."""

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from app import audit
from app.accounts import services, tokens
from app.audit import AuditEntry
from app.db import utcnow
from tests.factories import create_user


@pytest.fixture
def entry_id(db) -> int:
    """One committed audit entry."""
    with db() as session:
        entry = audit.record(session, None, "user.created", target_type="user", target_id=1,
                             is_admin=False)
        session.flush()
        return entry.id


def _assert_unchanged(db, entry_id) -> None:
    """The entry is still there, as written."""
    with db() as session:
        entry = session.get(AuditEntry, entry_id)
        assert (entry.action, entry.target_id, entry.details) == \
            ("user.created", 1, {"is_admin": False})


def test_record_appends_an_entry_in_the_callers_transaction(app, db):
    with db() as session:
        user = create_user(session)
        entry = audit.record(session, user.id, "member.role_changed", cohort_id=4,
                             target_type="membership", target_id=9, role="facilitator")
        session.flush()
        assert entry.at is not None
    with db() as session:
        saved = session.scalars(select(AuditEntry)).one()
        assert (saved.actor_id, saved.action, saved.cohort_id, saved.target_type,
                saved.target_id, saved.details) == \
            (user.id, "member.role_changed", 4, "membership", 9, {"role": "facilitator"})


@pytest.mark.parametrize("statement", [
    update(AuditEntry).values(action="user.deleted"),
    update(AuditEntry).values(details={}),
    update(AuditEntry).values(actor_id=None),
    delete(AuditEntry),
    text("DELETE FROM audit_log"),
    text("UPDATE audit_log SET target_id = 2"),
], ids=["update-action", "update-details", "update-actor", "delete", "raw-delete",
        "raw-update"])
def test_the_database_refuses_changes(app, db, entry_id, statement):
    with db() as session:
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(statement)
        session.rollback()
    _assert_unchanged(db, entry_id)


def test_the_orm_cannot_change_or_delete_an_entry(app, db, entry_id):
    with db() as session:
        session.get(AuditEntry, entry_id).action = "tampered"
        with pytest.raises(DatabaseError, match="append-only"):
            session.flush()
        session.rollback()
        session.delete(session.get(AuditEntry, entry_id))
        with pytest.raises(DatabaseError, match="append-only"):
            session.flush()
        session.rollback()
    _assert_unchanged(db, entry_id)


def test_new_entries_can_still_be_added_after_a_refusal(app, db, entry_id):
    with db() as session:
        with pytest.raises(DatabaseError):
            session.execute(delete(AuditEntry))
        session.rollback()
        audit.record(session, None, "user.invited")
    with db() as session:
        assert session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all() == \
            ["user.created", "user.invited"]


def test_account_actions_leave_a_trail(app, db, link_for):
    now = utcnow()
    with db() as session:
        admin = create_user(session, is_admin=True)
    with db():
        user, _ = services.invite_user(admin, "trail@example.com", now=now)
    with db():
        services.accept_invitation(link_for("trail@example.com").rsplit("/", 1)[1],
                                   name="Trail", password="a good passphrase", now=now)
    with db():
        services.set_site_roles(admin, user.id, can_own_programs=True, now=now)
        token, _ = tokens.issue_api_token(user, name="", now=now)
    with db():
        tokens.revoke_api_token(user, token.id, now=now)
    with db() as session:
        trail = session.execute(select(AuditEntry.action, AuditEntry.actor_id)
                                .order_by(AuditEntry.id)).all()
    assert trail == [("user.invited", admin.id), ("user.invitation_accepted", user.id),
                     ("user.site_roles_changed", admin.id), ("token.issued", user.id),
                     ("token.revoked", user.id)]

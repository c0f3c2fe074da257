"""Account rules at the service layer: sign-in, login sessions, profile, password, site roles."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts import services
from app.accounts.models import LoginSession, User
from app.audit import AuditEntry
from app.db import utcnow
from app.errors import Invalid, NotAllowed, NotFound
from tests.factories import PASSWORD, create_user

HOUR = timedelta(hours=1)
NEW_PASSWORD = "a brand new passphrase"


def _start(user, now=None):
    """Start a login session for a user, now."""
    return services.start_login_session(user, user_agent="pytest", now=now or utcnow(),
                                        lifetime=HOUR)


# --- sign-in ---------------------------------------------------------------------------------

def test_authenticate_returns_the_user_for_the_right_password(app, db):
    with db() as session:
        user = create_user(session)
        assert services.authenticate(user.email.upper(), PASSWORD).id == user.id


@pytest.mark.parametrize("kind", ["unknown", "wrong_password", "disabled_wrong_password",
                                  "invited", "blank"])
def test_authenticate_refuses_with_one_message(app, db, kind):
    with db() as session:
        user = create_user(session, is_disabled=kind.startswith("disabled"),
                           password=None if kind == "invited" else PASSWORD)
        email = {"unknown": "nobody@example.com", "blank": ""}.get(kind, user.email)
        password = {"wrong_password": "not the password", "blank": "",
                    "disabled_wrong_password": "not the password"}.get(kind, PASSWORD)
        with pytest.raises(Invalid) as caught:
            services.authenticate(email, password)
    assert caught.value.code == "sign_in_failed"
    assert caught.value.message == services.SIGN_IN_ERROR
    assert caught.value.fields == {}


def test_sign_in_records_a_login_session_with_a_hashed_key(app, db):
    now = utcnow()
    with db() as session:
        user = create_user(session)
        start = services.sign_in(user.email, PASSWORD, user_agent="Firefox", now=now,
                                 lifetime=HOUR)
        row_id, secret = start.session_key.split(".", 1)
        row = session.get(LoginSession, int(row_id))
        assert row.token_hash == services.hash_secret(secret)
        assert secret not in row.token_hash
        assert row.expires_at == now + HOUR
        assert row.user_agent == "Firefox"
        assert session.get(User, user.id).last_seen_at == now


def test_load_session_user_follows_the_session_lifecycle(app, db):
    now = utcnow()
    with db() as session:
        user = create_user(session)
        key = _start(user, now).session_key
        assert services.load_session_user(key, now).id == user.id
        assert services.load_session_user(key, now + HOUR) is None
        row_id, secret = key.split(".", 1)
        assert services.load_session_user(secret, now) is None
        assert services.load_session_user(str(user.id), now) is None
        assert services.load_session_user(f"{row_id}.wrong-secret", now) is None
        assert services.load_session_user("", now) is None
        services.end_login_session(key, now)
        assert services.load_session_user(key, now) is None


def test_a_disabled_users_sessions_stop_loading(app, db):
    now = utcnow()
    with db() as session:
        user = create_user(session)
        key = _start(user, now).session_key
        user.is_disabled = True
        assert services.load_session_user(key, now) is None


def test_load_session_user_touches_last_seen_only_now_and_then(app, db):
    now = utcnow()
    with db() as session:
        user = create_user(session)
        key = _start(user, now).session_key
        row = session.scalars(select(LoginSession)).one()
        services.load_session_user(key, now + timedelta(minutes=1))
        assert row.last_seen_at == now
        later = now + services.TOUCH_INTERVAL + timedelta(seconds=1)
        services.load_session_user(key, later)
        assert row.last_seen_at == later


def test_end_login_session_revokes_only_that_session(app, db):
    now = utcnow()
    with db() as session:
        user = create_user(session)
        first, second = _start(user, now).session_key, _start(user, now).session_key
        services.end_login_session(first, now)
        assert services.load_session_user(first, now) is None
        assert services.load_session_user(second, now).id == user.id


def test_get_id_is_the_session_key_never_the_user_id(app, db):
    with db() as session:
        user = create_user(session)
        assert user.get_id() is None
        key = _start(user).session_key
        loaded = services.load_session_user(key, utcnow())
        loaded.session_key = key
        assert loaded.get_id() == key != str(user.id)


# --- profile and password ----------------------------------------------------------------------

def test_update_profile_saves_name_and_time_zone(app, db):
    with db() as session:
        user = create_user(session)
        services.update_profile(user, name="  Ada Lovelace ", timezone="Europe/London")
    with db() as session:
        saved = session.get(User, user.id)
        assert (saved.name, saved.timezone) == ("Ada Lovelace", "Europe/London")


@pytest.mark.parametrize(("name", "timezone", "fields"), [
    ("Ada", "Mars/Olympus_Mons", {"timezone"}),
    ("", "UTC", {"name"}),
    ("   ", "Europe/Berlin", {"name"}),
    ("x" * 121, "UTC", {"name"}),
    ("", "Nowhere", {"name", "timezone"}),
])
def test_update_profile_refuses_bad_values(app, db, name, timezone, fields):
    with db() as session:
        user = create_user(session, name="Before")
        with pytest.raises(Invalid) as caught:
            services.update_profile(user, name=name, timezone=timezone)
    assert set(caught.value.fields) == fields
    with db() as session:
        assert session.get(User, user.id).name == "Before"


def test_change_password_needs_the_current_one(app, db):
    now = utcnow()
    with db() as session:
        user = create_user(session)
        with pytest.raises(Invalid) as caught:
            services.change_password(user, current_password="not it", new_password=NEW_PASSWORD,
                                     user_agent="", now=now, lifetime=HOUR)
    assert set(caught.value.fields) == {"current_password"}
    with db():
        assert services.authenticate(user.email, PASSWORD).id == user.id


@pytest.mark.parametrize("new_password", ["short", "password1", "PASSWORD", "x" * 257])
def test_change_password_applies_the_password_rules(app, db, new_password):
    with db() as session:
        user = create_user(session)
        with pytest.raises(Invalid) as caught:
            services.change_password(user, current_password=PASSWORD, new_password=new_password,
                                     user_agent="", now=utcnow(), lifetime=HOUR)
    assert set(caught.value.fields) == {"new_password"}


def test_change_password_ends_every_session_and_starts_a_new_one(app, db):
    now = utcnow()
    with db() as session:
        user = create_user(session)
        old_keys = [_start(user, now).session_key for _ in range(2)]
        other = create_user(session)
        other_key = _start(other, now).session_key
        start = services.change_password(user, current_password=PASSWORD,
                                         new_password=NEW_PASSWORD, user_agent="",
                                         now=now, lifetime=HOUR)
    with db() as session:
        assert all(services.load_session_user(key, now) is None for key in old_keys)
        assert services.load_session_user(start.session_key, now).id == user.id
        assert services.load_session_user(other_key, now).id == other.id
        assert services.authenticate(user.email, NEW_PASSWORD).id == user.id
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "user.password_changed")).one()
        assert (entry.actor_id, entry.target_id) == (user.id, user.id)


def test_passwords_are_stored_with_scrypt(app, db, real_password_hashing):
    with db():
        user = services.create_user(None, email="new@example.com", name="New",
                                    password=PASSWORD, now=utcnow())
        assert user.password_hash.startswith("scrypt:32768:8:1$")
        assert PASSWORD not in user.password_hash


def test_a_64_character_password_is_accepted(app, db):
    long_password = "correct horse battery staple " * 2 + "abcdef"
    assert len(long_password) == 64
    with db() as session:
        user = create_user(session)
        services.change_password(user, current_password=PASSWORD, new_password=long_password,
                                 user_agent="", now=utcnow(), lifetime=HOUR)
    with db():
        assert services.authenticate(user.email, long_password).id == user.id


# --- site administration -------------------------------------------------------------------------

def test_create_user_makes_an_account_that_can_sign_in(app, db):
    with db() as session:
        admin = create_user(session, is_admin=True)
        user = services.create_user(admin, email=" New@Example.com ", name=" New Person ",
                                    password=PASSWORD, can_own_programs=True,
                                    timezone="Europe/Berlin", now=utcnow())
    with db() as session:
        saved = session.get(User, user.id)
        assert (saved.email, saved.name, saved.can_own_programs, saved.is_admin) == \
            ("new@example.com", "New Person", True, False)
        assert services.authenticate("new@example.com", PASSWORD).id == user.id
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "user.created")).one()
        assert (entry.actor_id, entry.target_id) == (admin.id, user.id)
        assert entry.details == {"is_admin": False, "can_own_programs": True}


def test_only_admins_create_users(app, db):
    with db() as session:
        member = create_user(session)
        with pytest.raises(NotAllowed):
            services.create_user(member, email="new@example.com", name="New",
                                 password=PASSWORD, now=utcnow())
        assert services.get_user_by_email("new@example.com") is None


@pytest.mark.parametrize(("values", "fields", "code"), [
    ({"email": "not-an-email"}, {"email"}, "invalid"),
    ({"email": "taken@example.com"}, {"email"}, "email_taken"),
    ({"email": "TAKEN@example.com"}, {"email"}, "email_taken"),
    ({"name": ""}, {"name"}, "invalid"),
    ({"password": "short"}, {"password"}, "invalid"),
    ({"timezone": "Moon/Base"}, {"timezone"}, "invalid"),
    ({"email": "bad", "name": "", "password": "x"}, {"email", "name", "password"}, "invalid"),
])
def test_create_user_validates(app, db, values, fields, code):
    with db() as session:
        admin = create_user(session, is_admin=True)
        create_user(session, email="taken@example.com")
        arguments = {"email": "new@example.com", "name": "New", "password": PASSWORD,
                     "timezone": "UTC", **values}
        with pytest.raises(Invalid) as caught:
            services.create_user(admin, now=utcnow(), **arguments)
        assert set(caught.value.fields) == fields
        assert caught.value.code == code
        assert session.scalar(select(User).where(User.email == "new@example.com")) is None


def test_set_site_roles_grants_owner_rights_and_audits(app, db):
    with db() as session:
        admin = create_user(session, is_admin=True)
        user = create_user(session)
        services.set_site_roles(admin, user.id, can_own_programs=True, now=utcnow())
    with db() as session:
        assert session.get(User, user.id).can_own_programs
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "user.site_roles_changed")).one()
        assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "user", user.id)
        assert entry.details == {"can_own_programs": True}


def test_set_site_roles_without_a_change_writes_no_audit_entry(app, db):
    with db() as session:
        admin = create_user(session, is_admin=True)
        user = create_user(session, can_own_programs=True)
        services.set_site_roles(admin, user.id, is_admin=False, can_own_programs=True,
                                is_disabled=False, now=utcnow())
        assert session.scalars(select(AuditEntry)).all() == []


def test_only_admins_change_site_roles(app, db):
    with db() as session:
        member = create_user(session)
        other = create_user(session)
        with pytest.raises(NotAllowed):
            services.set_site_roles(member, other.id, is_admin=True, now=utcnow())
        with pytest.raises(NotAllowed):
            services.set_site_roles(member, member.id, is_admin=True, now=utcnow())
    with db() as session:
        assert not session.get(User, member.id).is_admin


@pytest.mark.parametrize("change", [{"is_admin": False}, {"is_disabled": True}])
def test_admins_cannot_demote_or_disable_themselves(app, db, change):
    with db() as session:
        admin = create_user(session, is_admin=True)
    with db():
        with pytest.raises(Invalid) as caught:
            services.set_site_roles(admin, admin.id, now=utcnow(), **change)
        assert caught.value.code == "self_demotion"
    with db() as session:
        saved = session.get(User, admin.id)
        assert saved.is_admin and not saved.is_disabled


def test_disabling_revokes_sessions_and_blocks_sign_in(app, db):
    now = utcnow()
    with db() as session:
        admin = create_user(session, is_admin=True)
        user = create_user(session)
        key = _start(user, now).session_key
        services.set_site_roles(admin, user.id, is_disabled=True, now=now)
    with db() as session:
        assert services.load_session_user(key, now) is None
        assert session.scalars(select(LoginSession)).one().revoked_at == now
        with pytest.raises(NotAllowed) as refused:
            services.authenticate(user.email, PASSWORD)
        assert refused.value.code == "account_disabled"


def test_set_site_roles_of_an_unknown_user_is_not_found(app, db):
    with db() as session:
        admin = create_user(session, is_admin=True)
        with pytest.raises(NotFound):
            services.set_site_roles(admin, admin.id + 1000, can_own_programs=True, now=utcnow())


def test_list_users_pages_and_searches(app, db):
    with db() as session:
        admin = create_user(session, is_admin=True, email="admin@example.com", name="Admin")
        users = [create_user(session, email=f"person{n}@example.com", name=f"Person {n}")
                 for n in range(5)]
        create_user(session, email="under_score@example.com", name="Zed")
        first = services.list_users(admin, limit=3)
        assert [u.id for u in first] == [admin.id, users[0].id, users[1].id]
        rest = services.list_users(admin, after_id=first[-1].id, limit=3)
        assert [u.id for u in rest] == [users[2].id, users[3].id, users[4].id]
        assert [u.email for u in services.list_users(admin, search="PERSON 3")] == \
            ["person3@example.com"]
        assert [u.name for u in services.list_users(admin, search="zed")] == ["Zed"]
        assert [u.name for u in services.list_users(admin, search="_")] == ["Zed"]
        assert services.list_users(admin, search="%") == []
        with pytest.raises(NotAllowed):
            services.list_users(users[0])

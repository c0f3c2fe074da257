"""The settings page: name, time zone and password (AUTH-11)."""

import pytest
from sqlalchemy import select

from app.accounts.models import LoginSession, User
from tests.factories import PASSWORD, create_user

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def user(db):
    """A person with a known name and zone."""
    with db() as session:
        return create_user(session, name="Before", timezone="UTC")


@pytest.fixture
def signed_in(client, login, user):
    """The client, signed in as ``user``."""
    login(client, user)
    return client


def _profile(client, name="After", timezone="Europe/Berlin"):
    """Submit the profile form."""
    return client.post_form("/settings", {"profile-name": name, "profile-timezone": timezone,
                                          "profile-submit": "Save profile"})


def _password(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    """Submit the password form."""
    return client.post_form("/settings", {
        "password-current_password": current, "password-new_password": new,
        "password-confirm": new if confirm is None else confirm,
        "password-submit": "Change password"})


def _saved(db, user) -> User:
    """The user as stored now."""
    with db() as session:
        return session.get(User, user.id)


def test_settings_need_sign_in(app, client):
    response = client.get("/settings")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_change_name_and_time_zone(app, db, signed_in, user):
    response = _profile(signed_in)
    assert response.status_code == 302
    assert "Profile saved." in signed_in.get("/settings").get_data(as_text=True)
    saved = _saved(db, user)
    assert (saved.name, saved.timezone) == ("After", "Europe/Berlin")


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "europe/berlin", "", "UTC; DROP"])
def test_an_unknown_time_zone_is_refused_with_a_field_message(app, db, signed_in, user, zone):
    response = _profile(signed_in, timezone=zone)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="profile-timezone-error"' in body
    assert _saved(db, user).timezone == "UTC"
    assert _saved(db, user).name == "Before"


def test_a_blank_name_is_refused(app, db, signed_in, user):
    response = _profile(signed_in, name="   ")
    assert response.status_code == 422
    assert 'id="profile-name-error"' in response.get_data(as_text=True)
    assert _saved(db, user).name == "Before"


def test_a_wrong_current_password_is_refused(app, db, signed_in, user):
    response = _password(signed_in, current="not my password")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "That is not your current password." in body
    assert 'id="password-current_password-error"' in body
    with db() as session:
        assert session.scalars(select(LoginSession)).one().revoked_at is None
    assert signed_in.get("/settings").status_code == 200


@pytest.mark.parametrize(("new", "confirm", "message"), [
    ("password", None, "too common"),
    ("iloveyou", None, "too common"),
    ("short", None, "Use at least 8 characters."),
    (NEW_PASSWORD, "not the same", "The two passwords differ."),
])
def test_bad_new_passwords_are_refused(app, db, signed_in, user, new, confirm, message):
    before = _saved(db, user).password_hash
    response = _password(signed_in, new=new, confirm=confirm)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _saved(db, user).password_hash == before


def test_a_64_character_password_is_accepted(app, db, signed_in, new_client, login, user):
    long_password = "x" * 30 + " and some more words to reach " + "64"
    long_password = long_password.ljust(64, "!")
    assert len(long_password) == 64
    response = _password(signed_in, new=long_password)
    assert response.status_code == 302
    assert "Password changed." in signed_in.get("/settings").get_data(as_text=True)
    login(new_client(), user, password=long_password)


def test_changing_the_password_keeps_this_browser_signed_in(app, db, signed_in, user):
    assert _password(signed_in).status_code == 302
    assert signed_in.get("/settings").status_code == 200
    with db() as session:
        rows = session.scalars(select(LoginSession).order_by(LoginSession.id)).all()
        assert [row.revoked_at is None for row in rows] == [False, True]


def test_changing_the_password_revokes_every_api_token(app, db, signed_in, user):
    """A token made by whoever knew the old password stops working with it."""
    from app.accounts.tokens import issue_api_token
    from app.db import utcnow

    with db():
        _, first = issue_api_token(user, name="laptop script", now=utcnow())
        _, second = issue_api_token(user, name="HR sync", now=utcnow())
    for secret in (first, second):
        assert signed_in.get("/api/v1/me", headers={
            "Authorization": f"Bearer {secret}"}).status_code == 200
    assert _password(signed_in).status_code == 302
    assert "API tokens were revoked" in signed_in.get("/settings").get_data(as_text=True)
    for secret in (first, second):
        assert signed_in.get("/api/v1/me", headers={
            "Authorization": f"Bearer {secret}"}).status_code == 401


def test_stored_hash_is_scrypt(app, db, signed_in, user, real_password_hashing):
    assert _password(signed_in).status_code == 302
    stored = _saved(db, user).password_hash
    assert stored.startswith("scrypt:32768:8:1$")
    assert NEW_PASSWORD not in stored


def test_a_post_without_a_submit_button_changes_nothing(app, db, signed_in, user):
    response = signed_in.post_form("/settings", {"profile-name": "Sneaky",
                                                 "profile-timezone": "UTC"})
    assert response.status_code == 422
    assert _saved(db, user).name == "Before"

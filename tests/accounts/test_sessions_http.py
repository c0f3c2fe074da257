"""Login sessions end for real: sign-out, password change, disabling (AUTH-6, AUTH-7)."""

from flask.sessions import SecureCookieSessionInterface
from flask_login.utils import encode_cookie
from sqlalchemy import select

from app.accounts.models import LoginSession, User
from tests.factories import PASSWORD, create_user

NEW_PASSWORD = "a brand new passphrase"


def _signed_in(client) -> bool:
    """Whether the client reaches a page that needs sign-in."""
    return client.get("/settings").status_code == 200


def _session_cookie(app, data: dict) -> str:
    """A session cookie signed with the app's key (what a forger with the key could make)."""
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return serializer.dumps(data)


def _change_password(client, current=PASSWORD, new=NEW_PASSWORD):
    """Submit the password form of the settings page."""
    return client.post_form("/settings", {
        "password-current_password": current, "password-new_password": new,
        "password-confirm": new, "password-submit": "Change password"})


def test_session_cookie_replay_after_sign_out_is_refused(app, db, client, new_client, login):
    with db() as session:
        user = create_user(session)
    login(client, user, remember=True)
    session_cookie = client.get_cookie("cc_session").value
    remember_cookie = client.get_cookie("cc_remember").value
    response = client.post_form("/logout", {}, token_from="/")
    assert response.status_code == 302
    assert not _signed_in(client)
    for name, value in (("cc_session", session_cookie), ("cc_remember", remember_cookie)):
        thief = new_client()
        thief.set_cookie(name, value)
        assert not _signed_in(thief), name


def test_sign_out_deletes_the_remember_cookie(app, db, client, login):
    with db() as session:
        user = create_user(session)
    login(client, user, remember=True)
    assert client.get_cookie("cc_remember") is not None
    client.post_form("/logout", {}, token_from="/")
    assert client.get_cookie("cc_remember") is None


def test_remember_cookie_alone_signs_in_and_keeps_working(app, db, client, new_client, login):
    with db() as session:
        user = create_user(session)
    login(client, user, remember=True)
    later = new_client()
    later.set_cookie("cc_remember", client.get_cookie("cc_remember").value)
    for _ in range(3):
        page = later.get("/settings")
        assert page.status_code == 200
        assert user.email in page.get_data(as_text=True)


def test_password_change_ends_other_sessions_and_remember_cookies(app, db, client, new_client,
                                                                   login):
    with db() as session:
        user = create_user(session)
    laptop = new_client()
    login(laptop, user, remember=True)
    remember_cookie = laptop.get_cookie("cc_remember").value
    session_cookie = laptop.get_cookie("cc_session").value
    login(client, user)
    response = _change_password(client)
    assert response.status_code == 302
    assert _signed_in(client)
    assert not _signed_in(laptop)
    for name, value in (("cc_session", session_cookie), ("cc_remember", remember_cookie)):
        thief = new_client()
        thief.set_cookie(name, value)
        assert not _signed_in(thief), name
    with db() as session:
        rows = session.scalars(select(LoginSession).order_by(LoginSession.id)).all()
        assert [row.revoked_at is None for row in rows] == [False, False, True]


def test_the_new_password_works_and_the_old_one_does_not(app, db, client, new_client, login):
    with db() as session:
        user = create_user(session)
    login(client, user)
    _change_password(client)
    old = new_client().post_form("/login", {"email": user.email, "password": PASSWORD})
    assert old.status_code == 401
    login(new_client(), user, password=NEW_PASSWORD)


def test_disabling_an_account_ends_its_sessions(app, db, client, new_client, login):
    with db() as session:
        admin = create_user(session, is_admin=True)
        user = create_user(session)
    victim = new_client()
    login(victim, user, remember=True)
    remember_cookie = victim.get_cookie("cc_remember").value
    login(client, admin)
    response = client.post_form(f"/admin/users/{user.id}/roles", {"is_disabled": "y"},
                                token_from="/admin/users")
    assert response.status_code == 302
    assert not _signed_in(victim)
    thief = new_client()
    thief.set_cookie("cc_remember", remember_cookie)
    assert not _signed_in(thief)
    with db() as session:
        assert session.get(User, user.id).is_disabled
        assert all(row.revoked_at is not None for row in session.scalars(
            select(LoginSession).where(LoginSession.user_id == user.id)))


def test_the_cookie_holds_a_login_session_key_not_the_user_id(app, db, client, login):
    with db() as session:
        user = create_user(session)
    login(client, user)
    with client.session_transaction() as cookie:
        key = cookie["_user_id"]
    assert key != str(user.id)
    session_id, secret = key.split(".", 1)
    assert len(secret) >= 40
    with db() as session:
        row = session.get(LoginSession, int(session_id))
        assert row.user_id == user.id
        assert secret not in row.token_hash
        assert session.get(User, user.id).get_id() is None


def test_a_forged_cookie_with_a_bare_user_id_is_refused(app, db, client):
    with db() as session:
        user = create_user(session)
    client.set_cookie("cc_session", _session_cookie(app, {"_user_id": str(user.id),
                                                          "_fresh": True}))
    assert not _signed_in(client)
    client.set_cookie("cc_remember", encode_cookie(str(user.id), key=app.secret_key))
    assert not _signed_in(client)


def test_an_expired_login_session_is_refused(app, db, client, login):
    with db() as session:
        user = create_user(session)
    login(client, user)
    with db() as session:
        row = session.scalars(select(LoginSession)).one()
        row.expires_at = row.created_at
    assert not _signed_in(client)

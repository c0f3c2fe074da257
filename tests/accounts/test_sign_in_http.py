"""Signing in and out through the pages."""

from app.accounts.models import LoginSession
from tests.factories import PASSWORD, create_user


def test_sign_in_lands_on_home(app, db, client, login):
    with db() as session:
        user = create_user(session, name="Lena")
    response = login(client, user)
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Welcome, Lena" in page


def test_wrong_password_and_unknown_email_get_the_same_answer(app, db, client):
    with db() as session:
        user = create_user(session)
    wrong = client.post_form("/login", {"email": user.email, "password": "not the password"})
    unknown = client.post_form("/login", {"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    message = "That e-mail and password do not match an account"
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_sign_out_ends_the_session_on_the_server(app, db, client, login):
    with db() as session:
        user = create_user(session)
    login(client, user)
    stolen_cookie = client.get_cookie("cc_session").value
    client.post_form("/logout", {}, token_from="/")
    with db() as session:
        assert session.query(LoginSession).one().revoked_at is not None
    thief = app.test_client()
    thief.set_cookie("cc_session", stolen_cookie)
    response = thief.get("/settings")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]

"""CSRF on forms and cookie-authenticated API writes (AUTH-9); headers on every response."""

import pytest
from sqlalchemy import select

from app.accounts import tokens
from app.accounts.models import ApiToken, User
from app.db import utcnow
from tests.factories import PASSWORD, create_user


@pytest.fixture
def admin(db):
    """A site admin."""
    with db() as session:
        return create_user(session, is_admin=True, name="Admin")


def _new_user_body(email="api-made@example.com") -> dict:
    """A valid body for POST /api/v1/users."""
    return {"email": email, "name": "Api Made", "password": PASSWORD}


def _user_exists(db, email) -> bool:
    """Whether an account with this e-mail exists."""
    with db() as session:
        return session.scalar(select(User.id).where(User.email == email)) is not None


# --- forms -----------------------------------------------------------------------------------

@pytest.mark.parametrize("token", [None, "", "forged-token-value"])
def test_a_form_post_without_a_valid_token_is_refused(app, db, client, login, admin, token):
    login(client, admin)
    data = {"profile-name": "Changed", "profile-timezone": "UTC",
            "profile-submit": "Save profile"}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/settings", data=data)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    with db() as session:
        assert session.get(User, admin.id).name == "Admin"


def test_the_sign_in_form_needs_a_token_too(app, db, client):
    with db() as session:
        user = create_user(session)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/settings").status_code == 302


def test_a_token_from_another_browser_does_not_work(app, db, client, new_client, login, admin):
    login(client, admin)
    other = new_client()
    other_token = other.csrf_token("/login")
    response = client.post("/admin/users", data={
        "csrf_token": other_token, "create-email": "x@example.com", "create-name": "X",
        "create-password": PASSWORD, "create-submit": "Create user"})
    assert response.status_code == 400
    assert not _user_exists(db, "x@example.com")


# --- the JSON API ----------------------------------------------------------------------------

def test_cookie_api_write_without_the_header_is_refused(app, db, client, login, admin):
    login(client, admin)
    response = client.post("/api/v1/users", json=_new_user_body())
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"
    assert not _user_exists(db, "api-made@example.com")


def test_cookie_api_write_with_a_wrong_header_is_refused(app, db, client, login, admin):
    login(client, admin)
    response = client.post("/api/v1/users", json=_new_user_body(),
                           headers={"X-CSRFToken": "not-the-token"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"
    assert not _user_exists(db, "api-made@example.com")


def test_cookie_api_write_with_the_header_passes(app, db, client, login, admin, api_headers):
    login(client, admin)
    response = client.post("/api/v1/users", json=_new_user_body(), headers=api_headers())
    assert response.status_code == 201
    assert response.get_json()["email"] == "api-made@example.com"
    assert _user_exists(db, "api-made@example.com")


def test_cookie_api_delete_needs_the_header(app, db, client, login, admin, api_headers):
    with db():
        token, _ = tokens.issue_api_token(admin, name="", now=utcnow())
    login(client, admin)
    assert client.delete(f"/api/v1/tokens/{token.id}").status_code == 400
    with db() as session:
        assert session.get(ApiToken, token.id).revoked_at is None
    assert client.delete(f"/api/v1/tokens/{token.id}", headers=api_headers()).status_code == 204
    with db() as session:
        assert session.get(ApiToken, token.id).revoked_at is not None


def test_cookie_api_reads_need_no_header(app, db, client, login, admin):
    login(client, admin)
    assert client.get("/api/v1/me").status_code == 200


def test_bearer_api_writes_need_no_csrf_token(app, db, client, admin):
    with db():
        _, secret = tokens.issue_api_token(admin, name="", now=utcnow())
    response = client.post("/api/v1/users", json=_new_user_body(),
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 201
    assert _user_exists(db, "api-made@example.com")


def test_non_admins_cannot_create_users_through_the_api(app, db, client):
    with db() as session:
        member = create_user(session)
        _, secret = tokens.issue_api_token(member, name="", now=utcnow())
    response = client.post("/api/v1/users", json=_new_user_body(),
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_allowed"
    assert not _user_exists(db, "api-made@example.com")


# --- headers ---------------------------------------------------------------------------------

def _responses(client, login, user):
    """A sample of every kind of response: pages, redirects, errors, JSON, static files."""
    samples = {
        "login page": client.get("/login"),
        "redirect": client.get("/settings"),
        "not found page": client.get("/no-such-page"),
        "api 401": client.get("/api/v1/me"),
        "api 404": client.get("/api/v1/no-such-thing"),
        "method not allowed": client.get("/logout"),
        "csrf failure": client.post("/login", data={}),
        "static file": client.get("/static/css/app.css"),
        "openapi": client.get("/api/v1/openapi.json"),
    }
    login(client, user)
    samples["signed-in page"] = client.get("/settings")
    samples["signed-in api"] = client.get("/api/v1/me")
    return samples


def test_every_response_carries_the_security_headers(app, db, client, login):
    with db() as session:
        user = create_user(session)
    for name, response in _responses(client, login, user).items():
        headers = response.headers
        policy = headers.get("Content-Security-Policy", "")
        assert policy, name
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, name
        assert "frame-ancestors 'none'" in policy, name
        assert "script-src 'self'" in policy and "object-src 'none'" in policy, name
        assert headers.get("X-Content-Type-Options") == "nosniff", name
        assert headers.get("X-Frame-Options") == "DENY", name
        assert headers.get("Referrer-Policy") == "same-origin", name
        response.close()


def test_signed_in_pages_are_not_cached(app, db, client, login):
    with db() as session:
        user = create_user(session)
    login(client, user)
    assert "no-store" in client.get("/settings").headers["Cache-Control"]


def test_https_responses_ask_for_hsts(app, client):
    response = client.get("/login", base_url="https://localhost")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    assert "Strict-Transport-Security" not in client.get("/login").headers

"""Personal API tokens: shown once, stored hashed, bearer auth, revocation, expiry, the CLI."""

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts import tokens
from app.accounts.models import ApiToken, User
from app.audit import AuditEntry
from app.db import utcnow
from app.errors import NotFound
from tests.factories import PASSWORD, create_user

SECRET_ON_PAGE = re.compile(r'<code class="token-secret">([^<]+)</code>')


def _bearer(secret: str) -> dict:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {secret}"}


def _assert_error(response, status: int, code: str) -> None:
    """The response is the API's JSON error envelope."""
    assert response.status_code == status
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]


@pytest.fixture
def user(db):
    """A person who will use the API."""
    with db() as session:
        return create_user(session, name="Tessa")


# --- service ---------------------------------------------------------------------------------

def test_issue_api_token_stores_only_the_hash(app, db, user):
    now = utcnow()
    with db():
        token, secret = tokens.issue_api_token(user, name=" HR sync ", now=now)
    assert secret.startswith("cc_") and len(secret) > 40
    with db() as session:
        row = session.get(ApiToken, token.id)
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert (row.name, row.prefix, row.user_id) == ("HR sync", secret[:10], user.id)
        assert row.expires_at == now + app.config["API_TOKEN_TTL"]
        stored = [getattr(row, column.key) for column in ApiToken.__table__.columns]
        assert not any(isinstance(value, str) and secret in value for value in stored)
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.target_id) == ("token.issued", token.id)


def test_authenticate_api_token_follows_its_lifecycle(app, db, user):
    now = utcnow()
    with db():
        token, secret = tokens.issue_api_token(user, name="", now=now)
    with db():
        assert tokens.authenticate_api_token(secret, now).id == user.id
        assert tokens.authenticate_api_token(secret + "x", now) is None
        assert tokens.authenticate_api_token(secret[3:], now) is None
        assert tokens.authenticate_api_token("", now) is None
        expired = now + app.config["API_TOKEN_TTL"] + timedelta(seconds=1)
        assert tokens.authenticate_api_token(secret, expired) is None
    with db():
        tokens.revoke_api_token(user, token.id, now=now)
    with db():
        assert tokens.authenticate_api_token(secret, now) is None


def test_a_disabled_users_tokens_stop_working(app, db, user):
    now = utcnow()
    with db():
        _, secret = tokens.issue_api_token(user, name="", now=now)
    with db() as session:
        session.get(User, user.id).is_disabled = True
    with db():
        assert tokens.authenticate_api_token(secret, now) is None


def test_last_used_is_recorded_now_and_then(app, db, user):
    now = utcnow()
    with db():
        token, secret = tokens.issue_api_token(user, name="", now=now)
    with db() as session:
        tokens.authenticate_api_token(secret, now)
        assert session.get(ApiToken, token.id).last_used_at == now
        tokens.authenticate_api_token(secret, now + timedelta(minutes=1))
        assert session.get(ApiToken, token.id).last_used_at == now
        later = now + timedelta(minutes=10)
        tokens.authenticate_api_token(secret, later)
    with db() as session:
        assert session.get(ApiToken, token.id).last_used_at == later


def test_people_revoke_only_their_own_tokens(app, db, user):
    now = utcnow()
    with db() as session:
        other = create_user(session)
        token, secret = tokens.issue_api_token(user, name="", now=now)
    with db(), pytest.raises(NotFound):
        tokens.revoke_api_token(other, token.id, now=now)
    with db():
        assert tokens.authenticate_api_token(secret, now).id == user.id


def test_issue_for_credentials_checks_the_password(app, db, user):
    with db():
        _, secret = tokens.issue_api_token_for_credentials(user.email, PASSWORD, name="x",
                                                             now=utcnow())
        assert tokens.authenticate_api_token(secret, utcnow()).id == user.id


# --- the tokens page -------------------------------------------------------------------------

def test_the_secret_is_shown_once(app, db, client, login, user):
    login(client, user)
    response = client.post_form("/settings/tokens", {"name": "HR sync"})
    assert response.status_code == 200
    match = SECRET_ON_PAGE.search(response.get_data(as_text=True))
    assert match
    secret = match.group(1)
    again = client.get("/settings/tokens").get_data(as_text=True)
    assert secret not in again
    assert "HR sync" in again and secret[:10] in again
    with db() as session:
        row = session.scalars(select(ApiToken)).one()
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    me = client.application.test_client().get("/api/v1/me", headers=_bearer(secret))
    assert me.status_code == 200 and me.get_json()["id"] == user.id


def test_revoking_from_the_page(app, db, client, new_client, login, user):
    with db():
        token, secret = tokens.issue_api_token(user, name="old", now=utcnow())
    login(client, user)
    response = client.post_form(f"/settings/tokens/{token.id}/revoke", {},
                                token_from="/settings/tokens")
    assert response.status_code == 302
    assert "revoked" in client.get("/settings/tokens").get_data(as_text=True)
    _assert_error(new_client().get("/api/v1/me", headers=_bearer(secret)), 401, "bad_token")


def test_someone_elses_token_cannot_be_revoked_from_the_page(app, db, client, login, user):
    with db() as session:
        other = create_user(session)
        token, secret = tokens.issue_api_token(other, name="theirs", now=utcnow())
    login(client, user)
    response = client.post_form(f"/settings/tokens/{token.id}/revoke", {},
                                token_from="/settings/tokens")
    assert response.status_code == 404
    with db() as session:
        assert session.get(ApiToken, token.id).revoked_at is None
    assert "theirs" not in client.get("/settings/tokens").get_data(as_text=True)


def test_the_tokens_page_needs_sign_in(app, client):
    assert client.get("/settings/tokens").status_code == 302


# --- the API ---------------------------------------------------------------------------------

def test_bearer_token_reads_me(app, db, client, user):
    with db():
        _, secret = tokens.issue_api_token(user, name="", now=utcnow())
    response = client.get("/api/v1/me", headers=_bearer(secret))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["email"], body["name"]) == (user.id, user.email, "Tessa")
    # A token call signs nobody in for the browser pages.
    assert client.get("/settings").status_code == 302


def test_last_used_at_is_recorded_through_the_api(app, db, client, user):
    with db():
        token, secret = tokens.issue_api_token(user, name="", now=utcnow())
    client.get("/api/v1/me", headers=_bearer(secret))
    with db() as session:
        assert session.get(ApiToken, token.id).last_used_at is not None


@pytest.mark.parametrize("header", [
    "Bearer cc_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "cc_without_scheme",
])
def test_bad_tokens_get_401_with_the_error_envelope(app, client, header):
    _assert_error(client.get("/api/v1/me", headers={"Authorization": header}), 401,
                  "bad_token")


def test_no_credentials_get_401(app, client):
    _assert_error(client.get("/api/v1/me"), 401, "not_signed_in")


def test_a_revoked_token_gets_401(app, db, client, user):
    with db():
        token, secret = tokens.issue_api_token(user, name="", now=utcnow())
    with db():
        tokens.revoke_api_token(user, token.id, now=utcnow())
    _assert_error(client.get("/api/v1/me", headers=_bearer(secret)), 401, "bad_token")


def test_an_expired_token_gets_401(app, db, client, user):
    with db():
        token, secret = tokens.issue_api_token(user, name="", now=utcnow())
    with db() as session:
        session.get(ApiToken, token.id).expires_at = utcnow() - timedelta(seconds=1)
    _assert_error(client.get("/api/v1/me", headers=_bearer(secret)), 401, "bad_token")


def test_a_bad_token_does_not_fall_back_to_the_session(app, db, client, login, user):
    login(client, user)
    _assert_error(client.get("/api/v1/me", headers=_bearer("cc_wrong")), 401, "bad_token")


def test_post_tokens_exchanges_credentials_for_a_token(app, db, client, user):
    response = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD,
                                                    "name": "script"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "script" and body["token"].startswith("cc_")
    assert body["prefix"] == body["token"][:10]
    listed = client.get("/api/v1/tokens", headers=_bearer(body["token"])).get_json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert listed["items"][0]["token"] is None


def test_post_tokens_refuses_wrong_credentials_alike(app, db, client, user):
    wrong = client.post("/api/v1/tokens", json={"email": user.email, "password": "nope nope"})
    unknown = client.post("/api/v1/tokens", json={"email": "x@example.com", "password": "n"})
    _assert_error(wrong, 422, "sign_in_failed")
    _assert_error(unknown, 422, "sign_in_failed")
    assert wrong.get_json() == unknown.get_json()
    with db() as session:
        assert session.scalars(select(ApiToken)).all() == []


def test_delete_token_with_bearer_auth_needs_no_csrf(app, db, client, user):
    with db():
        token, secret = tokens.issue_api_token(user, name="", now=utcnow())
    response = client.delete(f"/api/v1/tokens/{token.id}", headers=_bearer(secret))
    assert response.status_code == 204
    _assert_error(client.get("/api/v1/me", headers=_bearer(secret)), 401, "bad_token")


# --- the command line ------------------------------------------------------------------------

def test_cli_token_prints_a_working_token(app, db, client, user):
    result = app.test_cli_runner().invoke(args=["users", "token", user.email, "--name", "cron"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert secret.startswith("cc_")
    response = client.get("/api/v1/me", headers=_bearer(secret))
    assert response.status_code == 200 and response.get_json()["id"] == user.id
    with db() as session:
        assert session.scalars(select(ApiToken.name)).all() == ["cron"]


@pytest.mark.parametrize("kind", ["unknown", "disabled"])
def test_cli_token_refuses_unknown_and_disabled_accounts(app, db, kind):
    with db() as session:
        user = create_user(session, is_disabled=True)
    email = "nobody@example.com" if kind == "unknown" else user.email
    result = app.test_cli_runner().invoke(args=["users", "token", email])
    assert result.exit_code != 0
    assert f"No active account for {email}" in result.output
    with db() as session:
        assert session.scalars(select(ApiToken)).all() == []


def test_cli_create_makes_a_user(app, db, client, login):
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "Cli@Example.com", "--name", "Cli User", "--password", PASSWORD,
        "--owner"])
    assert result.exit_code == 0, result.output
    assert "<cli@example.com>" in result.output
    with db() as session:
        user = session.scalar(select(User).where(User.email == "cli@example.com"))
        assert (user.name, user.can_own_programs, user.is_admin) == ("Cli User", True, False)
    login(client, user)


def test_cli_create_asks_for_the_password_when_omitted(app, db):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "prompt@example.com", "--name", "P", "--admin"],
        input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    with db() as session:
        assert session.scalar(select(User.is_admin).where(User.email == "prompt@example.com"))


@pytest.mark.parametrize(("args", "message"), [
    (["not-an-email", "--name", "N", "--password", PASSWORD], "email:"),
    (["ok@example.com", "--name", " ", "--password", PASSWORD], "name: Enter a name."),
    (["ok@example.com", "--name", "N", "--password", "short"], "password: Use at least 8"),
])
def test_cli_create_reports_validation_errors(app, db, args, message):
    result = app.test_cli_runner().invoke(args=["users", "create", *args])
    assert result.exit_code == 1
    assert message in result.output
    with db() as session:
        assert session.scalars(select(User)).all() == []


def test_cli_create_reports_a_taken_email(app, db, user):
    result = app.test_cli_runner().invoke(args=["users", "create", user.email, "--name", "N",
                                                "--password", PASSWORD])
    assert result.exit_code == 1
    assert "already exists" in result.output

"""Signing in and out through the pages: one answer for every failure, limits, fixation."""

import re

import pytest
from sqlalchemy import select

from app.accounts.models import LoginSession
from tests.factories import PASSWORD, create_user

SIGN_IN_ERROR = "That e-mail and password do not match an account"
CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value|name="csrf-token" content)="[^"]*"')
ERROR_BLOCK = re.compile(r'<div class="form-errors".*?</div>', re.S)


def test_sign_in_lands_on_home(app, db, client, login):
    with db() as session:
        user = create_user(session, name="Lena")
    response = login(client, user)
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Welcome, Lena" in page
    with db() as session:
        row = session.scalars(select(LoginSession)).one()
        assert row.user_id == user.id and row.revoked_at is None


def test_sign_in_accepts_the_email_in_any_case(app, db, client):
    with db() as session:
        user = create_user(session)
    response = client.post_form("/login", {"email": f"  {user.email.upper()} ",
                                           "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(app, db, client):
    with db() as session:
        user = create_user(session)
    wrong = client.post_form("/login", {"email": user.email, "password": "not the password"})
    unknown = client.post_form("/login", {"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert SIGN_IN_ERROR in wrong.get_data(as_text=True)
    assert SIGN_IN_ERROR in unknown.get_data(as_text=True)


def _failed_sign_in(client, email, password):
    """Post the sign-in form; return the status and the page without its CSRF tokens."""
    response = client.post_form("/login", {"email": email, "password": password})
    page = CSRF_VALUE.sub("", response.get_data(as_text=True))
    return response.status_code, page


def test_every_failed_sign_in_looks_the_same(app, db, client):
    with db() as session:
        active = create_user(session)
        disabled = create_user(session, is_disabled=True)
        invited = create_user(session, password=None)
    answers = {
        "unknown": _failed_sign_in(client, "nobody@example.com", PASSWORD),
        "wrong_password": _failed_sign_in(client, active.email, "not the password"),
        # The right password to a disabled account is told more (test_disabled_sign_in.py).
        "disabled": _failed_sign_in(client, disabled.email, "not the password"),
        "invited": _failed_sign_in(client, invited.email, PASSWORD),
    }
    statuses = {status for status, _ in answers.values()}
    assert statuses == {401}
    errors = {ERROR_BLOCK.search(page).group(0) for _, page in answers.values()}
    assert len(errors) == 1 and SIGN_IN_ERROR in errors.pop()
    assert client.get("/settings").status_code == 302
    with db() as session:
        assert session.scalars(select(LoginSession)).all() == []


def test_sign_in_form_without_fields_is_unprocessable(app, db, client):
    response = client.post_form("/login", {"email": "", "password": ""})
    assert response.status_code == 422
    assert client.get("/settings").status_code == 302


class TestRateLimit:
    """Sign-in attempts are limited per address (AUTH-10)."""

    @pytest.fixture
    def config_overrides(self):
        return {"LOGIN_RATE_LIMIT": "3 per minute"}

    def test_the_fourth_attempt_is_refused_with_retry_after(self, app, db, client):
        with db() as session:
            user = create_user(session)
        token = client.csrf_token("/login")
        for _ in range(3):
            response = client.post("/login", data={"csrf_token": token, "email": user.email,
                                                   "password": "wrong password"})
            assert response.status_code == 401
        response = client.post("/login", data={"csrf_token": token, "email": user.email,
                                               "password": PASSWORD})
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        assert "Slow down" in response.get_data(as_text=True)
        # The right password does not get through while limited.
        assert client.get("/settings").status_code == 302

    def test_reset_requests_are_limited_too(self, app, client):
        token = client.csrf_token("/reset")
        statuses = [client.post("/reset", data={"csrf_token": token,
                                                "email": "someone@example.com"}).status_code
                    for _ in range(4)]
        assert statuses == [302, 302, 302, 429]

    def test_api_token_requests_are_limited(self, app, db, client):
        with db() as session:
            user = create_user(session)
        body = {"email": user.email, "password": "wrong password"}
        statuses = [client.post("/api/v1/tokens", json=body).status_code for _ in range(4)]
        assert statuses == [422, 422, 422, 429]
        response = client.post("/api/v1/tokens", json=body)
        assert response.get_json()["error"]["code"] == "rate_limited"
        assert "Retry-After" in response.headers

    def test_a_spoofed_forwarded_for_header_does_not_reset_the_count(self, app, client):
        token = client.csrf_token("/login")
        statuses = [
            client.post("/login", headers={"X-Forwarded-For": f"203.0.113.{n}"},
                        data={"csrf_token": token, "email": "x@example.com",
                              "password": "wrong password"}).status_code
            for n in range(4)]
        assert statuses == [401, 401, 401, 429]

    def test_reading_the_page_is_not_limited(self, app, client):
        assert all(client.get("/login").status_code == 200 for _ in range(6))


class TestSessionFixation:
    """Nothing from before sign-in survives it (AUTH-5)."""

    def test_pre_login_session_values_are_dropped(self, app, db, client, login):
        with db() as session:
            user = create_user(session)
        client.get("/login")
        with client.session_transaction() as before:
            before["planted"] = "by an attacker"
            pre_login_csrf = before["csrf_token"]
        login(client, user)
        with client.session_transaction() as after:
            assert "planted" not in after
            assert after.get("csrf_token") != pre_login_csrf

    def test_pre_login_csrf_token_stops_working(self, app, db, client, login):
        with db() as session:
            user = create_user(session, name="Before")
        old_token = client.csrf_token("/login")
        login(client, user)
        response = client.post("/settings", data={
            "csrf_token": old_token, "profile-name": "After", "profile-timezone": "UTC",
            "profile-submit": "Save profile"})
        assert response.status_code == 400
        with db() as session:
            assert session.get(type(user), user.id).name == "Before"

    def test_session_cookie_changes_at_sign_in(self, app, db, client, login):
        with db() as session:
            user = create_user(session)
        client.get("/login")
        before = client.get_cookie("cc_session").value
        login(client, user)
        assert client.get_cookie("cc_session").value != before


class TestNextRedirect:
    """``next`` only leads to pages of this site."""

    @pytest.mark.parametrize("target", ["/settings", "/cohorts/1?tab=posts"])
    def test_local_paths_are_followed(self, app, db, client, target):
        with db() as session:
            user = create_user(session)
        response = client.post_form(f"/login?next={target}",
                                    {"email": user.email, "password": PASSWORD},
                                    token_from="/login")
        assert response.status_code == 302
        assert response.headers["Location"] == target

    def test_other_sites_are_not(self, app, db, client):
        with db() as session:
            user = create_user(session)
        for target in ("//evil.example", "https://evil.example", "https://evil.example/login",
                       "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
                       " //evil.example", "javascript:alert(1)", "http:evil.example"):
            browser = app.test_client()
            response = browser.post("/login", query_string={"next": target}, data={
                "csrf_token": browser.csrf_token("/login"), "email": user.email,
                "password": PASSWORD})
            assert response.status_code == 302, target
            assert response.headers["Location"] == "/", target

    def test_login_required_pages_send_back_after_sign_in(self, app, db, client):
        with db() as session:
            user = create_user(session)
        response = client.get("/settings")
        assert response.status_code == 302
        location = response.headers["Location"]
        assert location.startswith("/login?next=")
        response = client.post_form(location, {"email": user.email, "password": PASSWORD},
                                    token_from="/login")
        assert response.headers["Location"] == "/settings"


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


def test_sign_out_needs_a_post_with_a_csrf_token(app, db, client, login):
    with db() as session:
        user = create_user(session)
    login(client, user)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/settings").status_code == 200


def test_signed_in_visitor_to_the_login_page_goes_home(app, db, client, login):
    with db() as session:
        user = create_user(session)
    login(client, user)
    response = client.get("/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"

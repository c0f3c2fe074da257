"""Bad input and refused calls: the status, the error envelope, and an untouched database."""

import json
import re

import pytest

from tests.factories import PASSWORD, create_user
from tests.http import bearer, token_for

VALID_USER = {"email": "new@example.com", "name": "New Person", "password": "a long passphrase"}


@pytest.fixture
def config_overrides() -> dict:
    """Sign-in rate limits would otherwise trip over the many token requests here."""
    return {"LOGIN_RATE_LIMIT": "1000 per minute"}


@pytest.fixture
def admin(db) -> dict:
    """A site admin's bearer headers."""
    with db() as session:
        user = create_user(session, is_admin=True, email="admin@example.com")
        return bearer(token_for(session, user))


def _error(response, status: int, code: str | None = None) -> dict:
    """Assert an error envelope with the status (and code) and return its detail."""
    assert response.status_code == status, response.get_data(as_text=True)
    detail = response.get_json()["error"]
    if code is not None:
        assert detail["code"] == code
    assert detail["message"]
    return detail


# --- the body is not a JSON object --------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/tokens", "/api/v1/users"])
@pytest.mark.parametrize("data", ['{"email": "a@example.com",', "{bad}", "", "\x00\xff"],
                         ids=["truncated", "not-json", "empty", "binary"])
def test_malformed_json_is_a_400(call, client, admin, table_counts, path, data):
    before = table_counts()
    response = call(client, "POST", path, data=data, headers=admin,
                    content_type="application/json")
    _error(response, 400, "malformed_json")
    assert table_counts() == before


@pytest.mark.parametrize("path", ["/api/v1/tokens", "/api/v1/users"])
@pytest.mark.parametrize("data", ["[1, 2]", '"text"', "42", "null", "true"])
def test_json_that_is_not_an_object_is_a_400(call, client, admin, table_counts, path, data):
    before = table_counts()
    response = call(client, "POST", path, data=data, headers=admin,
                    content_type="application/json")
    _error(response, 400, "malformed_json")
    assert table_counts() == before


def test_json_nested_too_deeply_to_parse_is_a_400(call, client, table_counts):
    before = table_counts()
    response = call(client, "POST", "/api/v1/tokens", data="[" * 100_000,
                    content_type="application/json")
    _error(response, 400, "malformed_json")
    assert table_counts() == before


@pytest.mark.parametrize("content_type", [
    "application/x-www-form-urlencoded", "text/plain", "multipart/form-data", None,
])
def test_a_body_that_is_not_declared_json_is_a_400(call, client, admin, table_counts,
                                                   content_type):
    before = table_counts()
    kwargs = {"data": json.dumps(VALID_USER), "headers": admin}
    if content_type:
        kwargs["content_type"] = content_type
    response = call(client, "POST", "/api/v1/users", **kwargs)
    _error(response, 400, "malformed_json")
    assert table_counts() == before


def test_a_body_over_the_size_limit_is_a_413_in_json(call, client, app, admin, table_counts):
    before = table_counts()
    padding = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    for path in ("/api/v1/tokens", "/api/v1/users"):
        response = call(client, "POST", path, headers=admin,
                        data=json.dumps({**VALID_USER, "name": padding}),
                        content_type="application/json")
        _error(response, 413, "too_large")
    assert table_counts() == before


# --- the object has the wrong fields -------------------------------------------------------------

def test_missing_fields_are_named(call, client, admin, table_counts):
    before = table_counts()
    response = call(client, "POST", "/api/v1/users", json={}, headers=admin)
    fields = _error(response, 422, "invalid")["fields"]
    assert set(fields) == {"email", "name", "password"}
    assert fields["email"] == "This field is required."
    assert table_counts() == before


def test_fields_of_the_wrong_type_are_named(call, client, admin, table_counts):
    before = table_counts()
    body = {"email": 5, "name": ["Ann"], "password": {"a": 1}, "timezone": None,
            "is_admin": "yes", "can_own_programs": 1}
    response = call(client, "POST", "/api/v1/users", json=body, headers=admin)
    fields = _error(response, 422, "invalid")["fields"]
    assert set(fields) == set(body)
    assert table_counts() == before


def test_unknown_fields_are_refused_and_named(call, client, admin, table_counts):
    before = table_counts()
    response = call(client, "POST", "/api/v1/users", headers=admin,
                    json={**VALID_USER, "role": "admin", "nickname": "x"})
    fields = _error(response, 422, "invalid")["fields"]
    assert fields == {"role": "This field is not accepted here.",
                      "nickname": "This field is not accepted here."}
    assert table_counts() == before


def test_oversized_strings_are_named(call, client, admin, table_counts):
    before = table_counts()
    body = {"email": "a" * 250 + "@example.com", "name": "n" * 121, "password": "p" * 257,
            "timezone": "t" * 65}
    response = call(client, "POST", "/api/v1/users", json=body, headers=admin)
    fields = _error(response, 422, "invalid")["fields"]
    assert set(fields) == set(body)
    assert table_counts() == before


def test_oversized_token_credentials_are_named(call, client, table_counts):
    before = table_counts()
    response = call(client, "POST", "/api/v1/tokens",
                    json={"email": "e" * 300, "password": "p" * 300, "name": "n" * 81})
    fields = _error(response, 422, "invalid")["fields"]
    assert set(fields) == {"email", "password", "name"}
    assert table_counts() == before


def test_a_blank_name_is_refused(call, client, admin, table_counts):
    before = table_counts()
    response = call(client, "POST", "/api/v1/users", headers=admin,
                    json={**VALID_USER, "name": "   "})
    assert set(_error(response, 422, "invalid")["fields"]) == {"name"}
    assert table_counts() == before


# --- who is asking -------------------------------------------------------------------------------

def _fill(path: str) -> str:
    """A documented path with every parameter set to an id."""
    return re.sub(r"{\w+}", "1", path)


def _signed_in_operations(document: dict):
    """``(method, path)`` of every operation that needs a signed-in caller."""
    return [(method.upper(), _fill(path)) for path, item in document["paths"].items()
            for method, operation in item.items() if operation["security"]]


def test_every_signed_in_operation_refuses_anonymous_callers(call, app, openapi, table_counts):
    operations = _signed_in_operations(openapi)
    assert len(operations) >= 7
    before = table_counts()
    for method, path in operations:
        response = call(app.test_client(), method, path, json=VALID_USER)
        assert _error(response, 401, "not_signed_in"), (method, path)
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert table_counts() == before


@pytest.mark.parametrize("header", [
    "Bearer cc_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "cc_no-scheme",
])
def test_a_bad_authorization_header_is_a_401(call, client, db, header):
    with db() as session:
        create_user(session)
    response = call(client, "GET", "/api/v1/me", headers={"Authorization": header})
    _error(response, 401, "bad_token")


def test_a_signed_in_session_with_a_bad_bearer_token_is_still_refused(call, client, db, login):
    with db() as session:
        user = create_user(session)
    login(client, user)
    assert call(client, "GET", "/api/v1/me").status_code == 200
    response = call(client, "GET", "/api/v1/me", headers=bearer("cc_wrong"))
    _error(response, 401, "bad_token")


def test_a_non_admin_may_not_create_or_list_users(call, client, db, table_counts):
    with db() as session:
        headers = bearer(token_for(session, create_user(session, can_own_programs=True)))
    before = table_counts()
    _error(call(client, "POST", "/api/v1/users", json=VALID_USER, headers=headers),
           403, "not_allowed")
    _error(call(client, "GET", "/api/v1/users", headers=headers), 403, "not_allowed")
    assert table_counts() == before


def test_a_cookie_write_without_the_csrf_header_is_refused(call, client, db, login,
                                                          table_counts):
    with db() as session:
        user = create_user(session, is_admin=True)
    login(client, user)
    before = table_counts()
    response = call(client, "POST", "/api/v1/users", json=VALID_USER)
    _error(response, 400, "csrf_failed")
    response = call(client, "POST", "/api/v1/users", json=VALID_USER,
                    headers={"X-CSRFToken": "forged"})
    _error(response, 400, "csrf_failed")
    assert table_counts() == before


def test_a_cookie_write_with_the_csrf_header_is_accepted(call, client, db, login,
                                                        api_headers):
    with db() as session:
        user = create_user(session, is_admin=True)
    login(client, user)
    response = call(client, "POST", "/api/v1/users", json=VALID_USER, headers=api_headers())
    assert response.status_code == 201


def test_token_requests_need_no_csrf_header(call, client, db):
    with db() as session:
        user = create_user(session)
    response = call(client, "POST", "/api/v1/tokens",
                    json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 201


# --- where and how -------------------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/cohorts/999999"),
    ("GET", "/api/v1/programs/999999"),
    ("DELETE", "/api/v1/tokens/999999"),
    ("GET", "/api/v1/no-such-thing"),
    ("GET", "/api/v1/cohorts/not-a-number"),
    ("GET", "/api/v2/me"),
])
def test_unknown_things_are_a_404_in_json(call, client, admin, table_counts, method, path):
    before = table_counts()
    response = call(client, method, path, headers=admin)
    _error(response, 404, "not_found")
    assert table_counts() == before


@pytest.mark.parametrize("method,path,allowed", [
    ("PUT", "/api/v1/me", {"GET"}),
    ("POST", "/api/v1/cohorts/1", {"GET"}),
    ("DELETE", "/api/v1/users", {"GET", "POST"}),
    ("PATCH", "/api/v1/tokens", {"GET", "POST"}),
    ("GET", "/api/v1/tokens/1", {"DELETE"}),
])
def test_a_wrong_method_is_a_405_in_json(call, client, admin, table_counts, method, path,
                                         allowed):
    before = table_counts()
    response = call(client, method, path, headers=admin, json={})
    _error(response, 405, "method_not_allowed")
    offered = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= offered
    assert table_counts() == before


def test_rate_limited_token_requests_get_a_429_with_retry_after(call, app, client, db,
                                                                table_counts):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    with db() as session:
        user = create_user(session)
    wrong = {"email": user.email, "password": "not the password"}
    for _ in range(2):
        _error(call(client, "POST", "/api/v1/tokens", json=wrong), 422, "sign_in_failed")
    before = table_counts()
    response = call(client, "POST", "/api/v1/tokens",
                    json={"email": user.email, "password": PASSWORD})
    _error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0
    assert table_counts() == before


def test_a_write_that_clashes_at_the_last_moment_is_a_409(call, client, admin, db,
                                                          monkeypatch, table_counts):
    """The net under the services' own checks: a unique key hit by a race is a conflict."""
    from app.accounts import services

    call(client, "POST", "/api/v1/users", headers=admin, json=VALID_USER)
    before = table_counts()
    # As if another request created the same account between the check and the insert.
    monkeypatch.setattr(services, "get_user_by_email", lambda email: None)
    response = call(client, "POST", "/api/v1/users", headers=admin, json=VALID_USER)
    _error(response, 409, "conflict")
    assert table_counts() == before
    assert call(client, "GET", "/api/v1/users", headers=admin).status_code == 200
